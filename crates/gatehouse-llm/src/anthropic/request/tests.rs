//! Golden request fixtures (`tests/fixtures/anthropic/request/*.json`: the OpenAI body in, the Anthropic body
//! expected, written by hand from Anthropic's documented shapes) and every refusal, with its message.

use serde_json::{Value, json};

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic/request");

fn rules() -> ModelRules {
    ModelRules {
        max_tokens_default: 4096,
        sampling: Sampling::Both,
        drop_unsupported: false,
    }
}

fn translate(body: &Value, rules: &ModelRules) -> Result<TranslatedRequest, LlmError> {
    let bytes = serde_json::to_vec(body).expect("serialises");
    translate_request(
        &bytes,
        &RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules,
        },
    )
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

/// One fixture file; `openai` is kept as raw text so the translator sees the client's exact bytes.
#[derive(serde::Deserialize)]
struct Fixture {
    openai: Box<serde_json::value::RawValue>,
    anthropic: Value,
    #[serde(default)]
    rules: Option<Value>,
    dropped: Vec<String>,
    #[serde(default)]
    dropped_unknown: Vec<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    include_usage: bool,
}

#[test]
fn golden_fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "fixtures found: {}", paths.len());
    for path in paths {
        let name = path.display().to_string();
        let fixture: Fixture = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture");
        let rules = fixture_rules(fixture.rules.as_ref());
        let opts = RequestOptions {
            upstream_model: "claude-haiku-4-5",
            rules: &rules,
        };
        let out = translate_request(fixture.openai.get().as_bytes(), &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body: Value = serde_json::from_slice(&out.body).expect("output is JSON");
        assert_eq!(
            body,
            fixture.anthropic,
            "{name}\n got: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(out.dropped, fixture.dropped, "{name}");
        assert_eq!(out.dropped_unknown, fixture.dropped_unknown, "{name}");
        assert_eq!(out.stream, fixture.stream, "{name}");
        assert_eq!(out.include_usage, fixture.include_usage, "{name}");
    }
}

fn user(content: Value) -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": content}]})
}

fn with(extra: Value) -> Value {
    let mut body = user(json!("Hi"));
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

fn error_of(body: &Value) -> String {
    match translate(body, &rules()) {
        Ok(out) => panic!("expected an error, got {}", String::from_utf8_lossy(&out.body)),
        Err(e) => {
            assert_eq!(e.code(), "invalid_request", "{e}");
            e.to_string()
        }
    }
}

#[test]
fn refusals_name_the_parameter() {
    let cases = [
        (with(json!({"n": 2})), "`n` > 1 is not supported by Anthropic models"),
        (with(json!({"n": 0})), "`n` must be at least 1"),
        (with(json!({"logprobs": true})), "`logprobs` is not supported"),
        (with(json!({"top_logprobs": 3})), "`top_logprobs` is not supported"),
        (with(json!({"logit_bias": {"1": 5}})), "`logit_bias` is not supported"),
        (
            with(json!({"frequency_penalty": 0.1})),
            "`frequency_penalty` is not supported",
        ),
        (
            with(json!({"presence_penalty": 1})),
            "`presence_penalty` is not supported",
        ),
        (with(json!({"seed": 1})), "`seed` is not supported"),
        (with(json!({"modalities": ["audio"]})), "`modalities` is not supported"),
        (with(json!({"audio": {"voice": "alloy"}})), "`audio` is not supported"),
        (
            with(json!({"functions": [{"name": "f"}]})),
            "`functions` is not supported",
        ),
        (
            with(json!({"temperature": 1.5})),
            "`temperature` must be between 0 and 1",
        ),
        (
            with(json!({"temperature": -0.1})),
            "`temperature` must be between 0 and 1",
        ),
        (with(json!({"top_p": 1.5})), "`top_p` must be between 0 and 1"),
        (
            with(json!({"max_completion_tokens": 0})),
            "`max_completion_tokens` must be at least 1",
        ),
        (
            with(json!({"max_tokens": 5_000_000_000_u64})),
            "`max_tokens` is too large",
        ),
        (with(json!({"max_tokens": -1})), "`max_tokens`: invalid value"),
        (
            with(json!({"reasoning_effort": "extreme"})),
            "`reasoning_effort` must be",
        ),
        (
            with(json!({"response_format": {"type": "xml"}})),
            "`response_format.type` must be",
        ),
        (
            with(json!({"response_format": {"type": "json_schema"}})),
            "`response_format.json_schema` is required",
        ),
        (
            with(json!({"tool_choice": "required"})),
            "`tool_choice` requires `tools`",
        ),
        (
            with(json!({"tool_choice": "sometimes", "tools": [{"type": "function", "function": {"name": "f"}}]})),
            "`tool_choice` must be",
        ),
        (
            with(
                json!({"tool_choice": {"type": "function", "function": {"name": "g"}}, "tools": [{"type": "function", "function": {"name": "f"}}]}),
            ),
            "names a function that is not in `tools`",
        ),
        (
            with(
                json!({"tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "g"}}]}}, "tools": [{"type": "function", "function": {"name": "f"}}]}),
            ),
            "matches none of `tools`",
        ),
        (
            with(json!({"tools": [{"type": "custom", "custom": {"name": "f"}}]})),
            "only `function` tools are supported, not `custom`",
        ),
        (
            with(json!({"tools": [{"type": "function"}]})),
            "`tools[0].function` is required",
        ),
        (
            with(json!({"tools": [{"type": "function", "function": {"name": "bad name"}}]})),
            "tool name `bad name` must match",
        ),
        (
            with(json!({"messages": []})),
            "`messages` must contain at least one user or assistant message",
        ),
        (
            with(json!({"messages": [{"role": "system", "content": "only"}]})),
            "at least one user or assistant message",
        ),
        (json!({"model": "m"}), "`messages` is required"),
        (
            with(json!({"messages": [{"role": "robot", "content": "x"}]})),
            "`messages`: unknown variant `robot`",
        ),
        (
            with(json!({"messages": [{"role": "function", "name": "f", "content": "x"}]})),
            "`function` messages are not supported",
        ),
        (
            with(json!({"messages": [{"role": "user", "content": "  "}]})),
            "`messages[0]` has no content",
        ),
        (
            with(json!({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": null}]})),
            "`messages[1]` has no content",
        ),
        (
            with(json!({"messages": [{"role": "tool", "content": "x"}]})),
            "tool messages need `tool_call_id`",
        ),
        (
            with(
                json!({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]}),
            ),
            "system content may only contain text",
        ),
    ];
    for (body, expected) in cases {
        let msg = error_of(&body);
        assert!(msg.contains(expected), "{body}\n  expected: {expected}\n  got: {msg}");
    }
}

fn assistant_call(arguments: &str) -> Value {
    json!({"model": "m", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "ok"}
    ]})
}

#[test]
fn tool_call_arguments_must_be_a_json_object() {
    assert!(error_of(&assistant_call("{\"a\":")).contains("tool call arguments are not valid JSON"));
    assert!(error_of(&assistant_call("not json")).contains("tool call arguments are not valid JSON"));
    assert!(error_of(&assistant_call("[1,2]")).contains("tool call arguments must be a JSON object"));
    assert!(error_of(&assistant_call("\"s\"")).contains("tool call arguments must be a JSON object"));
    let out = translate(&assistant_call("  {\"a\": [1, 2]}  "), &rules()).expect("valid");
    let body: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(body["messages"][1]["content"][0]["input"], json!({"a": [1, 2]}));
}

fn image(url: &str) -> Value {
    user(json!([{"type": "image_url", "image_url": {"url": url}}]))
}

#[test]
fn image_and_file_rules() {
    assert!(
        error_of(&image("http://example.com/cat.png"))
            .contains("http image URLs are not allowed; use https or a data URL")
    );
    assert!(error_of(&image("HTTP://example.com/cat.png")).contains("http image URLs are not allowed"));
    assert!(error_of(&image("file:///etc/passwd")).contains("image URLs must be https or data URLs"));
    assert!(error_of(&image("data:image/svg+xml;base64,PHN2Zz4=")).contains("unsupported image type `image/svg+xml`"));
    assert!(error_of(&image("data:image/png,raw")).contains("data URLs must be base64-encoded"));
    assert!(error_of(&image("data:image/png;base64,")).contains("data URL has no data"));
    assert!(error_of(&image("data:image/png;base64")).contains("malformed data URL"));
    for (url, media) in [
        ("data:image/gif;base64,R0lG", "image/gif"),
        ("data:IMAGE/WEBP;base64,UklG", "image/webp"),
        ("data:image/jpeg;base64,/9j/", "image/jpeg"),
    ] {
        let out = translate(&image(url), &rules()).expect("valid image");
        let body: Value = serde_json::from_slice(&out.body).expect("JSON");
        assert_eq!(
            body["messages"][0]["content"][0]["source"]["media_type"], media,
            "{url}"
        );
    }
    let file = |f: Value| user(json!([{"type": "file", "file": f}]));
    assert!(error_of(&file(json!({"file_id": "file-abc"}))).contains("`file_id` is not supported"));
    assert!(
        error_of(&file(json!({"file_data": "data:text/plain;base64,aGk="}))).contains("only PDF files are supported")
    );
    assert!(error_of(&file(json!({"file_data": "JVBERi0="}))).contains("must be a data URL"));
    assert!(
        error_of(&user(json!([{"type": "video_url", "video_url": {}}])))
            .contains("unsupported content part type `video_url`")
    );
    assert!(error_of(&user(json!([{"type": "text"}]))).contains("text part without `text`"));
    let audio = user(json!([{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]));
    assert!(error_of(&audio).contains("`input_audio` is not supported"));
}

#[test]
fn malformed_bodies_are_classified() {
    let opts = |rules| RequestOptions {
        upstream_model: "claude",
        rules,
    };
    let r = rules();
    for (body, code) in [
        (&b""[..], "invalid_json"),
        (b"{", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_request"),
        (b"\"x\"", "invalid_request"),
        (br#"{"messages":"hi"}"#, "invalid_request"),
        (br#"{"model":"a","model":"b","messages":[]}"#, "invalid_request"),
        (br#"{"stream":true,"stream":false}"#, "invalid_request"),
        (br#"{"seed":1,"seed":2}"#, "invalid_request"),
    ] {
        let err = translate_request(body, &opts(&r)).expect_err("must fail");
        assert_eq!(err.code(), code, "{}: {err}", String::from_utf8_lossy(body));
    }
}

#[test]
fn unknown_keys_are_bounded() {
    let mut body = user(json!("hi"));
    for i in 0..40 {
        body[format!("x_{i}_{}", "k".repeat(100))] = json!(i);
    }
    let out = translate(&body, &rules()).expect("valid");
    assert_eq!(out.dropped_unknown.len(), crate::anthropic::json::MAX_UNKNOWN_KEYS);
    assert!(
        out.dropped_unknown
            .iter()
            .all(|k| k.len() <= crate::anthropic::json::MAX_UNKNOWN_KEY_BYTES + '…'.len_utf8())
    );
}

#[test]
fn reasoning_budget_scale_and_cap() {
    for (effort, max, budget) in [
        ("minimal", 4096, Some(1024)),
        ("low", 4096, Some(1024)),
        ("medium", 4096, Some(2048)),
        ("high", 8192, Some(4096)),
        ("xhigh", 32000, Some(8192)),
        ("max", 32000, Some(16384)),
        ("max", 3000, Some(2999)),
        ("low", 1025, Some(1024)),
        ("low", 1024, None),
        ("none", 4096, None),
    ] {
        let out = translate(&with(json!({"reasoning_effort": effort, "max_tokens": max})), &rules()).expect("valid");
        let body: Value = serde_json::from_slice(&out.body).expect("JSON");
        assert_eq!(body["thinking"]["budget_tokens"].as_u64(), budget, "{effort} {max}");
    }
}

#[test]
fn thinking_removes_what_anthropic_refuses_with_it() {
    let body = with(json!({"reasoning_effort": "medium", "temperature": 1, "top_p": 0.97, "top_k": 5}));
    let out = translate(&body, &rules()).expect("valid");
    let sent: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(
        sent.get("temperature"),
        None,
        "1 is the only value allowed with thinking: nothing is lost"
    );
    assert_eq!(sent["top_p"], json!(0.97));
    assert_eq!(sent.get("top_k"), None);
    assert_eq!(out.dropped, ["top_k"]);

    let body = with(json!({"reasoning_effort": "medium", "top_p": 0.5}));
    let out = translate(&body, &rules()).expect("valid");
    let sent: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(sent.get("top_p"), None);
    assert_eq!(out.dropped, ["top_p"]);
}

#[test]
fn phone_numbers_are_not_sent_as_user_ids() {
    let out = translate(&with(json!({"user": "+1 (555) 010-9999"})), &rules()).expect("valid");
    let sent: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(sent.get("metadata"), None);
    assert_eq!(out.dropped, ["user"]);
}

#[test]
fn strings_without_escapes_are_borrowed_and_output_is_compact() {
    let body = br#"{ "model" : "x", "messages" : [ { "role" : "user", "content" : "plain" } ] }"#;
    let r = rules();
    let out = translate_request(
        body,
        &RequestOptions {
            upstream_model: "claude",
            rules: &r,
        },
    )
    .expect("valid");
    assert_eq!(
        String::from_utf8(out.body).expect("UTF-8"),
        r#"{"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"plain"}]}]}"#
    );
}
