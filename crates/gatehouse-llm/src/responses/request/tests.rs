//! Golden request fixtures (`tests/fixtures/responses/request/*.json`: the Responses body in, the Anthropic body
//! expected, written by hand from both APIs' published shapes), the echo, and every refusal with its message.

use serde_json::{Value, json};

use super::super::{ModelRules, RequestOptions, ResponseEcho, Sampling, TranslatedRequest, input_items};
use super::translate_request;
use crate::LlmError;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/responses/request");

fn rules() -> ModelRules {
    ModelRules {
        max_tokens_default: 4096,
        sampling: Sampling::Both,
        drop_unsupported: false,
    }
}

fn translate_with(body: &Value, rules: &ModelRules, history: Option<&[Value]>) -> Result<TranslatedRequest, LlmError> {
    let bytes = serde_json::to_vec(body).expect("serialises");
    translate_request(
        &bytes,
        &RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules,
            history,
        },
    )
}

fn translate(body: &Value) -> Result<TranslatedRequest, LlmError> {
    translate_with(body, &rules(), None)
}

fn fixture_rules(spec: Option<&Value>) -> ModelRules {
    let mut r = rules();
    let Some(spec) = spec else { return r };
    if let Some(n) = spec.get("max_tokens_default").and_then(Value::as_u64) {
        r.max_tokens_default = u32::try_from(n).expect("fits");
    }
    if let Some(s) = spec.get("sampling").and_then(Value::as_str) {
        r.sampling = match s {
            "both" => Sampling::Both,
            "exclusive" => Sampling::Exclusive,
            "none" => Sampling::None,
            other => panic!("unknown sampling {other}"),
        };
    }
    if let Some(d) = spec.get("drop_unsupported").and_then(Value::as_bool) {
        r.drop_unsupported = d;
    }
    r
}

/// One fixture file; `responses` is kept as raw text so the translator sees the client's exact bytes.
#[derive(serde::Deserialize)]
struct Fixture {
    responses: Box<serde_json::value::RawValue>,
    anthropic: Value,
    #[serde(default)]
    rules: Option<Value>,
    #[serde(default)]
    history: Option<Vec<Value>>,
    dropped: Vec<String>,
    #[serde(default)]
    dropped_unknown: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default = "yes")]
    store: bool,
}

fn yes() -> bool {
    true
}

#[test]
fn golden_fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "fixtures found: {}", paths.len());
    for path in paths {
        let name = path.display().to_string();
        let fixture: Fixture = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture");
        let rules = fixture_rules(fixture.rules.as_ref());
        let opts = RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules: &rules,
            history: fixture.history.as_deref(),
        };
        let out =
            translate_request(fixture.responses.get().as_bytes(), &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body: Value = serde_json::from_slice(&out.body).expect("output is JSON");
        assert_eq!(
            body,
            fixture.anthropic,
            "{name}\n got: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(out.dropped, fixture.dropped, "{name}");
        assert_eq!(out.dropped_unknown, fixture.dropped_unknown, "{name}");
        assert_eq!(out.warnings, fixture.warnings, "{name}");
        assert_eq!(out.stream, fixture.stream, "{name}");
        assert_eq!(out.store, fixture.store, "{name}");
    }
}

fn echo_object(echo: &ResponseEcho) -> Value {
    serde_json::from_str(&format!("{{{}}}", echo.as_json_members())).expect("echo members are JSON")
}

#[test]
fn echo_repeats_the_request_parameters_compacted() {
    let body = "{\"model\":\"m\",\"input\":\"hi\",\n \"instructions\": \"Be brief.\",\n \"tools\": [\n  {\"type\": \"function\", \"name\": \"f\"}\n ],\n \"tool_choice\": \"required\", \"temperature\": 0.5, \"top_p\": 0.9, \"max_output_tokens\": 99, \"parallel_tool_calls\": false, \"metadata\": {\"k\": \"v\"}, \"store\": false, \"reasoning\": {\"effort\": \"low\", \"summary\": \"auto\"}, \"text\": {\"format\": {\"type\": \"json_object\"}}, \"truncation\": \"auto\", \"user\": \"u1\", \"previous_response_id\": \"resp_1\"}";
    let history = [json!({"role": "user", "content": "earlier"})];
    let out = translate_request(
        body.as_bytes(),
        &RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules: &rules(),
            history: Some(&history),
        },
    )
    .expect("translates");
    assert!(!out.echo.as_json_members().contains('\n'), "one line");
    assert_eq!(
        echo_object(&out.echo),
        json!({
            "background": false,
            "instructions": "Be brief.",
            "max_output_tokens": 99,
            "max_tool_calls": null,
            "metadata": {"k": "v"},
            "parallel_tool_calls": false,
            "previous_response_id": "resp_1",
            "reasoning": {"effort": "low", "summary": "auto"},
            "service_tier": "default",
            "store": false,
            "temperature": 0.5,
            "text": {"format": {"type": "json_object"}},
            "tool_choice": "required",
            "tools": [{"type": "function", "name": "f"}],
            "top_logprobs": 0,
            "top_p": 0.9,
            "truncation": "auto",
            "user": "u1"
        })
    );
    assert_eq!(
        echo_object(&ResponseEcho::default()),
        json!({
            "background": false,
            "instructions": null,
            "max_output_tokens": null,
            "max_tool_calls": null,
            "metadata": {},
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null},
            "service_tier": "default",
            "store": true,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [],
            "top_logprobs": 0,
            "top_p": 1.0,
            "truncation": "disabled",
            "user": null
        })
    );
}

#[test]
fn input_items_normalises_a_string_and_keeps_a_list() {
    let items = input_items(br#"{"model":"m","input":"hello"}"#).expect("items");
    assert_eq!(
        items,
        vec![json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]})]
    );
    let list = json!([{"type": "function_call_output", "call_id": "c", "output": "4"}]);
    let body = serde_json::to_vec(&json!({"input": list})).expect("json");
    assert_eq!(
        input_items(&body).expect("items"),
        list.as_array().expect("array").clone()
    );
    assert_eq!(
        input_items(br#"{"input":3}"#).expect_err("not items").code(),
        "invalid_request"
    );
    assert_eq!(input_items(br#"{}"#).expect_err("missing").code(), "invalid_request");
    assert_eq!(input_items(b"{").expect_err("broken").code(), "invalid_json");
}

fn with(extra: Value) -> Value {
    let mut body = json!({"model": "m", "input": "Hi"});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

fn items(list: Value) -> Value {
    json!({"model": "m", "input": list})
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
fn refusals_name_the_parameter_or_item() {
    let fc = |args: &str| json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": args});
    let cases = [
        (
            with(json!({"previous_response_id": "resp_1"})),
            "`previous_response_id` could not be resolved",
        ),
        (
            with(json!({"background": true})),
            "`background` responses are not supported",
        ),
        (with(json!({"prompt": {"id": "pmpt_1"}})), "`prompt` is not supported"),
        (
            with(json!({"conversation": "conv_1"})),
            "`conversation` is not supported",
        ),
        (with(json!({"top_logprobs": 2})), "`top_logprobs` is not supported"),
        (
            with(json!({"include": ["message.output_text.logprobs"]})),
            "`include` is not supported",
        ),
        (
            with(json!({"text": {"verbosity": "high"}})),
            "`text.verbosity` is not supported",
        ),
        (
            with(json!({"text": {"format": {"type": "xml"}}})),
            "`text.format.type` must be",
        ),
        (
            with(json!({"text": {"format": {"type": "json_schema", "name": "x"}}})),
            "`text.format.schema` is required",
        ),
        (
            with(json!({"temperature": 1.5})),
            "`temperature` must be between 0 and 1",
        ),
        (with(json!({"temperature": "hot"})), "`temperature` must be a number"),
        (with(json!({"top_p": 2})), "`top_p` must be between 0 and 1"),
        (
            with(json!({"max_output_tokens": 0})),
            "`max_output_tokens` must be at least 1",
        ),
        (
            with(json!({"max_output_tokens": 5_000_000_000_u64})),
            "`max_output_tokens` is too large",
        ),
        (with(json!({"instructions": ["x"]})), "`instructions` must be a string"),
        (
            with(json!({"reasoning": {"effort": "extreme"}})),
            "`reasoning.effort` must be none",
        ),
        (with(json!({"tool_choice": "sometimes"})), "`tool_choice` must be"),
        (
            with(json!({"tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search"}})),
            "`tool_choice` forces a `web_search` tool",
        ),
        (
            with(json!({"tool_choice": "required"})),
            "`tool_choice` requires function `tools`",
        ),
        (
            with(
                json!({"tools": [{"type": "function", "name": "a"}], "tool_choice": {"type": "function", "name": "b"}}),
            ),
            "names a function that is not in `tools`",
        ),
        (
            with(
                json!({"tools": [{"type": "function", "name": "a"}], "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "z"}]}}),
            ),
            "matches none of the function `tools`",
        ),
        (
            with(
                json!({"tools": [{"type": "function", "name": "a"}], "tool_choice": {"type": "allowed_tools", "mode": "any", "tools": []}}),
            ),
            "`tool_choice.mode` must be",
        ),
        (
            with(
                json!({"tools": [{"type": "function", "name": "a"}, {"type": "namespace", "name": "n", "tools": [{"type": "function", "name": "a"}]}]}),
            ),
            "function `a` is declared twice",
        ),
        (
            with(json!({"tools": [{"type": "function"}]})),
            "`tools[0].name` is required",
        ),
        (
            with(json!({"tools": [{"type": "function", "name": "bad name"}]})),
            "must match ^[a-zA-Z0-9_-]",
        ),
        (with(json!({"tools": "all"})), "`tools`:"),
        (json!({"model": "m"}), "`input` is required"),
        (
            items(json!([])),
            "`input` must contain at least one user or assistant message",
        ),
        (
            items(json!([{"role": "user", "content": "  "}])),
            "`input[0]` has no content",
        ),
        (
            items(json!([{"role": "tool", "content": "x"}])),
            "`input[0]`: unsupported role `tool`",
        ),
        (
            items(json!([{"type": "message", "content": "x"}])),
            "`input[0]`: message without `role`",
        ),
        (
            items(json!([{"type": "item_reference", "id": "msg_1"}])),
            "`item_reference` items are not supported",
        ),
        (
            items(json!([{"type": "hologram"}])),
            "`input[0]`: unsupported item type `hologram`",
        ),
        (items(json!([fc("{nope")])), "`input[0]`: `arguments` is not valid JSON"),
        (
            items(json!([fc("[1]")])),
            "`input[0]`: `arguments` must be a JSON object",
        ),
        (
            items(json!([{"type": "function_call", "name": "f", "arguments": "{}"}])),
            "`function_call` needs `call_id` and `name`",
        ),
        (
            items(json!([{"type": "function_call_output", "output": "x"}])),
            "`function_call_output` needs `call_id`",
        ),
        (
            items(json!([{"type": "function_call_output", "call_id": "", "output": "x"}])),
            "`input[0]`: `call_id` is empty",
        ),
        (
            items(json!([{"role": "user", "content": [{"type": "input_audio"}]}])),
            "unsupported content part type `input_audio`",
        ),
        (
            items(json!([{"role": "user", "content": [{"type": "input_image", "image_url": "http://x/y.png"}]}])),
            "`input[0].content[0]`: http image URLs are not allowed",
        ),
        (
            items(json!([{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}])),
            "`file_id` is not supported",
        ),
        (
            items(json!([{"role": "user", "content": [{"type": "input_file", "file_url": "ftp://x/a.pdf"}]}])),
            "`file_url` must be an https URL",
        ),
        (
            items(
                json!([{"role": "user", "content": [{"type": "input_file", "file_data": "data:text/plain;base64,aGk="}]}]),
            ),
            "only PDF files are supported",
        ),
        (
            items(json!([{"role": "system", "content": [{"type": "input_image", "image_url": "https://x"}]}])),
            "system content may only contain text",
        ),
        (
            items(json!([{"role": "user", "content": [{"type": "video"}]}])),
            "unsupported content part type `video`",
        ),
        (with(json!({"stream": "yes"})), "`stream`"),
    ];
    for (body, expected) in cases {
        let message = error_of(&body);
        assert!(
            message.contains(expected),
            "{body}\n  expected: {expected}\n  got: {message}"
        );
    }
}

#[test]
fn broken_bodies_are_client_errors() {
    let opts = RequestOptions {
        upstream_model: "claude-haiku-4-5",
        rules: &rules(),
        history: None,
    };
    let e = translate_request(b"{\"input\": \"x\"", &opts).expect_err("truncated JSON");
    assert_eq!(e.code(), "invalid_json");
    let e = translate_request(b"\xff\xfe", &opts).expect_err("not UTF-8");
    assert_eq!(e.code(), "invalid_json");
    let e = translate_request(br#"{"input":"a","input":"b"}"#, &opts).expect_err("duplicate key");
    assert!(e.to_string().contains("duplicate field `input`"), "{e}");
    let e = translate_request(br#"[1,2]"#, &opts).expect_err("not an object");
    assert_eq!(e.code(), "invalid_request");
    let history = [json!("not an item")];
    let e =
        translate_with(&with(json!({"previous_response_id": "r"})), &rules(), Some(&history)).expect_err("bad history");
    assert!(e.to_string().contains("stored conversation"), "{e}");
}

#[test]
fn warnings_are_bounded_and_deduplicated() {
    let tools: Vec<Value> = (0..40)
        .map(|i| json!({"type": format!("hosted_{i}_{}", "x".repeat(100))}))
        .chain([json!({"type": "hosted_0_dup"}), json!({"type": "hosted_0_dup"})])
        .collect();
    let out = translate(&with(json!({"tools": tools}))).expect("translates");
    assert_eq!(out.warnings.len(), 16);
    assert!(out.warnings.iter().all(|w| w.len() <= "tool:".len() + 64));
    let out = translate(&with(
        json!({"tools": [{"type": "bad\r\nX-Injected: 1"}, {"type": "custom", "name": "é"}]}),
    ))
    .expect("translates");
    assert_eq!(
        out.warnings,
        ["tool:bad__X-Injected__1", "tool:custom:__"],
        "header-safe"
    );
    let out = translate(&with(
        json!({"tools": [{"type": "web_search"}, {"type": "web_search"}]}),
    ))
    .expect("ok");
    assert_eq!(out.warnings, ["tool:web_search"]);
}

#[test]
fn an_empty_assistant_message_is_skipped_not_refused() {
    let body = items(json!([
        {"role": "user", "content": "q"},
        {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "", "annotations": []}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "done"},
        {"type": "message", "role": "assistant", "content": ""},
        {"role": "user", "content": "next"}
    ]));
    let out = translate(&body).expect("translates");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(
        v["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "q"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "done"}, {"type": "text", "text": "next"}]}
        ])
    );
    assert!(error_of(&items(json!([{"role": "assistant", "content": ""}]))).contains("at least one user or assistant"));
}

#[test]
fn a_tool_loop_without_its_thinking_block_is_served_without_thinking() {
    let call = json!({"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"});
    let output = json!({"type": "function_call_output", "call_id": "toolu_1", "output": "4"});
    let earlier = json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": "gatehouse.anthropic.thinking.v1:S"});
    // The reasoning item of the earlier round came back, the one of the last round did not.
    let body = json!({"model": "m", "max_output_tokens": 4000, "reasoning": {"effort": "low"}, "temperature": 0.5,
        "tools": [{"type": "function", "name": "f"}],
        "input": [{"role": "user", "content": "q"}, earlier, {"role": "assistant", "content": "a"},
                  {"role": "user", "content": "again"}, call, output]});
    let out = translate(&body).expect("translates");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(v.get("thinking"), None);
    assert_eq!(v["temperature"], 0.5, "sampling is no longer limited by thinking");
    assert_eq!(
        v["messages"][1]["content"],
        json!([{"type": "text", "text": "a"}]),
        "thinking blocks removed"
    );
    assert_eq!(out.dropped, ["reasoning.effort"]);
    // With its reasoning item, the same loop keeps thinking.
    let mine = json!({"type": "reasoning", "summary": [], "encrypted_content": "gatehouse.anthropic.thinking.v1:T"});
    let body = json!({"model": "m", "max_output_tokens": 4000, "reasoning": {"effort": "low"},
        "tools": [{"type": "function", "name": "f"}],
        "input": [{"role": "user", "content": "q"}, mine, call, output]});
    let out = translate(&body).expect("translates");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(v["thinking"], json!({"type": "enabled", "budget_tokens": 1024}));
    assert!(out.dropped.is_empty(), "{:?}", out.dropped);
}

#[test]
fn thinking_blocks_need_thinking_and_our_signature() {
    let ours = json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": "gatehouse.anthropic.thinking.v1:S"});
    let empty_sig =
        json!({"type": "reasoning", "summary": [], "encrypted_content": "gatehouse.anthropic.thinking.v1:"});
    let body = json!({"model": "m", "input": [{"role": "user", "content": "q"}, ours, empty_sig, {"role": "assistant", "content": "a"}], "reasoning": {"effort": "low"}, "max_output_tokens": 4000});
    let out = translate(&body).expect("translates");
    let v: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(
        v["messages"][1]["content"],
        json!([{"type": "thinking", "thinking": "t", "signature": "S"}, {"type": "text", "text": "a"}])
    );
    assert_eq!(out.dropped, ["reasoning_items"], "the unsigned one is dropped");
}
