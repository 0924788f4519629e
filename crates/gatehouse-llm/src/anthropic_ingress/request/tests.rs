//! Golden request fixtures (`tests/fixtures/anthropic_ingress/request/*.json`: the Anthropic body in, the OpenAI
//! body expected, written by hand from the published shapes) and every refusal, with its message.

use serde_json::{Value, json};

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic_ingress/request");
const MODEL: &str = "qwen3-8b";

/// One fixture file; `anthropic` is kept as raw text so the translator sees the client's exact bytes.
#[derive(serde::Deserialize)]
struct Fixture {
    anthropic: Box<serde_json::value::RawValue>,
    openai: Value,
    dropped: Vec<String>,
    #[serde(default)]
    dropped_unknown: Vec<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    input_tokens_estimate: Option<u64>,
}

fn translate(body: &Value) -> Result<IngressRequest, LlmError> {
    translate_request(&serde_json::to_vec(body).expect("serialises"), MODEL)
}

fn send(body: &Value) -> (Value, IngressRequest) {
    let out = translate(body).unwrap_or_else(|e| panic!("{body}: {e}"));
    (serde_json::from_slice(&out.body).expect("JSON"), out)
}

#[test]
fn golden_fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 12, "fixtures found: {}", paths.len());
    for path in paths {
        let name = path.display().to_string();
        let fixture: Fixture = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture");
        let bytes = fixture.anthropic.get().as_bytes();
        let out = translate_request(bytes, MODEL).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body: Value = serde_json::from_slice(&out.body).expect("output is JSON");
        assert_eq!(
            body,
            fixture.openai,
            "{name}\n got: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(out.dropped, fixture.dropped, "{name}");
        assert_eq!(out.dropped_unknown, fixture.dropped_unknown, "{name}");
        assert_eq!(out.stream, fixture.stream, "{name}");
        assert_eq!(
            Ok(out.input_tokens_estimate),
            estimate::estimate_input_tokens(bytes),
            "{name}"
        );
        if let Some(expected) = fixture.input_tokens_estimate {
            assert_eq!(out.input_tokens_estimate, expected, "{name}");
        }
    }
}

fn user(content: Value) -> Value {
    json!({"model": "claude", "max_tokens": 100, "messages": [{"role": "user", "content": content}]})
}

fn with(extra: Value) -> Value {
    let mut body = user(json!("Hi"));
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

fn error_of(body: &Value) -> String {
    match translate(body) {
        Ok(out) => panic!("expected an error, got {}", String::from_utf8_lossy(&out.body)),
        Err(e) => {
            assert_eq!(e.code(), "invalid_request", "{e}");
            e.to_string()
        }
    }
}

#[test]
fn refusals_name_the_field() {
    let tool = json!({"name": "f", "input_schema": {"type": "object"}});
    let cases = [
        (
            json!({"model": "c", "messages": [{"role": "user", "content": "x"}]}),
            "`max_tokens` is required",
        ),
        (with(json!({"max_tokens": 0})), "`max_tokens` must be at least 1"),
        (with(json!({"max_tokens": -5})), "`max_tokens`: invalid value"),
        (json!({"model": "c", "max_tokens": 5}), "`messages` is required"),
        (with(json!({"messages": []})), "`messages` must not be empty"),
        (with(json!({"messages": "hi"})), "`messages`: invalid type"),
        (
            with(json!({"messages": [{"role": "system", "content": "x"}]})),
            "unknown variant `system`",
        ),
        (with(json!({"messages": [{"role": "user"}]})), "missing field `content`"),
        (
            with(
                json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}, {"type": "bash_20250124", "name": "bash"}, tool]}),
            ),
            "Anthropic server tools are not supported by this target: web_search_20250305, bash_20250124",
        ),
        (
            with(json!({"tools": [{"input_schema": {}}]})),
            "`tools[0].name` is required",
        ),
        (
            with(json!({"tools": [{"name": "f"}]})),
            "`tools[0].input_schema` is required",
        ),
        (
            with(json!({"tool_choice": {"type": "any"}})),
            "`tool_choice` requires `tools`",
        ),
        (
            with(json!({"tool_choice": {"type": "tool", "name": "f"}})),
            "`tool_choice` requires `tools`",
        ),
        (
            with(json!({"tools": [tool], "tool_choice": {"type": "tool"}})),
            "`tool_choice.name` is required for type `tool`",
        ),
        (
            with(json!({"tools": [tool], "tool_choice": {"type": "tool", "name": "g"}})),
            "`tool_choice.name` `g` is not among `tools`",
        ),
        (
            with(json!({"tools": [tool], "tool_choice": {"type": "sometimes"}})),
            "`tool_choice.type` must be",
        ),
        (
            with(json!({"mcp_servers": [{"type": "url", "url": "https://mcp.example"}]})),
            "`mcp_servers`",
        ),
        (
            with(json!({"thinking": {"type": "enabled"}})),
            "`thinking.budget_tokens` is required",
        ),
        (
            with(json!({"thinking": {"type": "furious"}})),
            "`thinking.type` must be",
        ),
        (
            with(json!({"output_config": {"effort": "extreme"}})),
            "`output_config.effort` must be",
        ),
        (
            with(json!({"output_config": {"format": {"type": "xml"}}})),
            "`output_config.format.type` must be json_schema",
        ),
        (
            with(json!({"output_config": {"format": {"type": "json_schema"}}})),
            "`output_config.format.schema` is required",
        ),
        (
            with(json!({"system": [{"type": "image"}]})),
            "`system[0]`: system blocks must be text, not `image`",
        ),
        (
            with(json!({"system": [{"type": "text"}]})),
            "`system[0]`: text block without `text`",
        ),
        (with(json!({"temperature": "hot"})), "`temperature`: invalid type"),
        (
            with(
                json!({"system": "s", "messages": [{"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]}]}),
            ),
            "`messages` has nothing to send once thinking blocks are dropped",
        ),
    ];
    for (body, expected) in cases {
        let msg = error_of(&body);
        assert!(msg.contains(expected), "{body}\n  expected: {expected}\n  got: {msg}");
    }
}

#[test]
fn content_refusals_name_the_block() {
    let cases = [
        (json!([]), "`messages[0]` has no content"),
        (
            json!([{"type": "text"}]),
            "`messages[0].content[0]`: text block without `text`",
        ),
        (
            json!([{"type": "text", "text": "a"}, {"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
            "`messages[0].content[1]`: block type `tool_use` is only allowed in assistant messages",
        ),
        (
            json!([{"type": "search_result", "source": "s"}]),
            "block type `search_result` is not supported",
        ),
        (json!([{"type": "image"}]), "image block without `source`"),
        (
            json!([{"type": "image", "source": {"type": "base64", "data": "x"}}]),
            "base64 image source needs `media_type` and `data`",
        ),
        (
            json!([{"type": "image", "source": {"type": "url", "url": "http://10.0.0.1/a.png"}}]),
            "image URLs must be https",
        ),
        (
            json!([{"type": "image", "source": {"type": "url", "url": "file:///etc/passwd"}}]),
            "image URLs must be https",
        ),
        (
            json!([{"type": "image", "source": {"type": "file", "file_id": "file_01"}}]),
            "image source `file` is not supported; the Files API",
        ),
        (
            json!([{"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}]),
            "document source `url` is not supported; send it as base64",
        ),
        (
            json!([{"type": "document", "source": {"type": "base64", "media_type": "text/csv", "data": "YQ=="}}]),
            "base64 documents must be `application/pdf`",
        ),
        (
            json!([{"type": "document", "source": {"type": "content", "content": []}}]),
            "document source `content` is not supported",
        ),
        (
            json!([{"type": "tool_result", "content": "x"}]),
            "tool_result block without `tool_use_id`",
        ),
        (
            json!([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "document"}]}]),
            "tool_result content of type `document` is not supported",
        ),
        (
            json!([{"type": "tool_result", "tool_use_id": "t", "content": {"a": 1}}]),
            "tool_result `content` must be a string or blocks",
        ),
        (
            json!([{"type": "image", "source": "https://x"}]),
            "`messages[0].content[0]`: `source`: invalid type: string",
        ),
        (
            json!([{"type": "web_search_tool_result", "tool_use_id": "s", "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}}]),
            "block type `web_search_tool_result` is not supported",
        ),
    ];
    for (content, expected) in cases {
        let msg = error_of(&user(content.clone()));
        assert!(
            msg.contains(expected),
            "{content}\n  expected: {expected}\n  got: {msg}"
        );
    }
    let assistant = |content: Value| {
        json!({"model": "c", "max_tokens": 9, "messages": [
            {"role": "user", "content": "x"}, {"role": "assistant", "content": content}, {"role": "user", "content": "y"}
        ]})
    };
    assert!(
        error_of(&assistant(json!([{"type": "tool_use", "id": "t"}])))
            .contains("`messages[1].content[0]`: tool_use block needs `id` and `name`")
    );
    assert!(
        error_of(&assistant(
            json!([{"type": "server_tool_use", "id": "s", "name": "web_search"}])
        ))
        .contains("block type `server_tool_use` is not supported")
    );
}

#[test]
fn tool_results_come_before_the_rest_of_the_turn() {
    let body = json!({"model": "c", "max_tokens": 9, "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}, {"type": "tool_use", "id": "t2", "name": "w", "input": {}}]},
        {"role": "user", "content": [
            {"type": "text", "text": "before"},
            {"type": "tool_result", "tool_use_id": "t1", "content": "one"},
            {"type": "text", "text": "between"},
            {"type": "tool_result", "tool_use_id": "t2"}
        ]}
    ]});
    let (sent, _) = send(&body);
    let roles: Vec<&str> = sent["messages"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "tool", "user"]);
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "tool_call_id": "t1", "content": "one"})
    );
    assert_eq!(
        sent["messages"][3],
        json!({"role": "tool", "tool_call_id": "t2", "content": ""})
    );
    assert_eq!(
        sent["messages"][4]["content"],
        json!([{"type": "text", "text": "before"}, {"type": "text", "text": "between"}])
    );
    assert_eq!(sent["messages"][1]["tool_calls"][0]["function"]["arguments"], "{}");
}

#[test]
fn only_thinking_leaves_no_assistant_message() {
    let body = json!({"model": "c", "max_tokens": 9, "messages": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "x"}]},
        {"role": "user", "content": "b"}
    ]});
    let (sent, out) = send(&body);
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    );
    assert_eq!(out.dropped, ["thinking_blocks"]);
}

#[test]
fn thinking_budget_scale() {
    for (budget, effort) in [
        (0, "low"),
        (1024, "low"),
        (1025, "medium"),
        (4096, "medium"),
        (4097, "high"),
        (u64::MAX, "high"),
    ] {
        let (sent, _) = send(&with(json!({"thinking": {"type": "enabled", "budget_tokens": budget}})));
        assert_eq!(sent["reasoning_effort"], effort, "{budget}");
    }
    let (sent, _) = send(&with(
        json!({"thinking": {"type": "disabled"}, "output_config": {"effort": "low"}}),
    ));
    assert_eq!(sent.get("reasoning_effort"), None, "disabled wins");
    let (sent, _) = send(&with(
        json!({"thinking": {"type": "enabled", "budget_tokens": 8000}, "output_config": {"effort": "low"}}),
    ));
    assert_eq!(sent["reasoning_effort"], "high", "an explicit budget wins over effort");
    for (effort, level) in [
        ("low", "low"),
        ("medium", "medium"),
        ("high", "high"),
        ("xhigh", "high"),
        ("max", "high"),
    ] {
        let (sent, _) = send(&with(json!({"output_config": {"effort": effort}})));
        assert_eq!(sent["reasoning_effort"], level, "{effort}");
    }
}

#[test]
fn malformed_bodies_are_classified() {
    for (body, code) in [
        (&b""[..], "invalid_json"),
        (b"{", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_request"),
        (b"\"x\"", "invalid_request"),
        (
            br#"{"model":"a","model":"b","max_tokens":1,"messages":[]}"#,
            "invalid_request",
        ),
        (br#"{"stream":true,"stream":false}"#, "invalid_request"),
        (br#"{"service_tier":"auto","service_tier":"auto"}"#, "invalid_request"),
    ] {
        let err = translate_request(body, MODEL).expect_err("must fail");
        assert_eq!(err.code(), code, "{}: {err}", String::from_utf8_lossy(body));
    }
}

#[test]
fn unknown_keys_are_bounded() {
    let mut body = user(json!("hi"));
    for i in 0..40 {
        body[format!("x_{i}_{}", "k".repeat(100))] = json!(i);
    }
    let out = translate(&body).expect("valid");
    assert_eq!(out.dropped_unknown.len(), crate::anthropic::json::MAX_UNKNOWN_KEYS);
    assert!(
        out.dropped_unknown
            .iter()
            .all(|k| k.len() <= crate::anthropic::json::MAX_UNKNOWN_KEY_BYTES + '…'.len_utf8())
    );
}

#[test]
fn escapes_survive_and_output_is_compact() {
    let body = br#"{ "model" : "x", "max_tokens" : 5, "messages" : [ { "role" : "user", "content" : "quote \" tab \t \u00e9" } ] }"#;
    let out = translate_request(body, "m\"odel").expect("valid");
    assert_eq!(
        String::from_utf8(out.body).expect("UTF-8"),
        r#"{"model":"m\"odel","messages":[{"role":"user","content":"quote \" tab \t é"}],"max_tokens":5}"#
    );
}

#[test]
fn empty_system_is_omitted() {
    let (sent, _) = send(&with(json!({"system": ""})));
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "Hi"}]));
    let (sent, _) = send(&with(json!({"system": []})));
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "Hi"}]));
    let (sent, _) = send(&with(json!({"system": "Be brief."})));
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": "Be brief."}));
}
