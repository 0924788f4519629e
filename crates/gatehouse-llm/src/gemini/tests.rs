//! Golden fixtures (`tests/fixtures/gemini/{request,response}/*.json`: written by hand from the Gemini REST
//! reference shapes), golden streams (`stream/*.sse`, insta snapshots of the client bytes), refusals, errors and
//! the finish-reason table.

use serde_json::{Value, json};

use super::*;
use crate::{LlmError, SseDecoder, SseLimits};

mod prop;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gemini");

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut list: Vec<_> = std::fs::read_dir(format!("{FIXTURES}/{dir}"))
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    list.sort();
    assert!(!list.is_empty(), "no fixtures in {dir}");
    list
}

fn translate(body: &Value, drop_unsupported: bool) -> Result<TranslatedRequest, LlmError> {
    translate_request(
        &serde_json::to_vec(body).expect("json"),
        &RequestOptions { drop_unsupported },
    )
}

pub(super) fn ctx(include_usage: bool) -> ResponseContext {
    ResponseContext {
        created: 1_700_000_000,
        model: "gem".into(),
        fallback_id: "fallback-id".into(),
        include_usage,
    }
}

#[test]
fn request_fixtures() {
    for path in files("request") {
        let f: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture JSON");
        let out = translate(&f["openai"], false).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let body: Value = serde_json::from_slice(&out.body).expect("output JSON");
        assert_eq!(body, f["gemini"], "{}", path.display());
        assert_eq!(out.stream, f["stream"].as_bool().unwrap_or(false), "{}", path.display());
        let dropped: Vec<&str> = f["dropped"]
            .as_array()
            .expect("dropped")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(out.dropped, dropped, "{}", path.display());
        let unknown: Vec<String> = f["dropped_unknown"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        assert_eq!(out.dropped_unknown, unknown, "{}", path.display());
    }
}

#[test]
fn response_fixtures() {
    for path in files("response") {
        let f: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture JSON");
        let out = translate_response(&serde_json::to_vec(&f["gemini"]).expect("json"), &ctx(false))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let body: Value = serde_json::from_slice(&out.body).expect("output JSON");
        assert_eq!(body, f["openai"], "{}", path.display());
        assert_eq!(
            out.usage.total_tokens,
            body["usage"]["total_tokens"].as_u64().expect("total")
        );
    }
}

#[test]
fn refusals_name_the_parameter() {
    let base = |extra: Value| {
        let mut b = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (k, v) in extra.as_object().expect("object") {
            b[k] = v.clone();
        }
        b
    };
    for (extra, want) in [
        (json!({"n": 2}), "`n` is not supported by Gemini models"),
        (json!({"logprobs": true}), "`logprobs` is not supported"),
        (json!({"temperature": 2.5}), "`temperature` must be between 0 and 2"),
        (json!({"stop": ["a", "b", "c", "d", "e", "f"]}), "at most 5 sequences"),
        (
            json!({"tools": [{"type": "function", "function": {"name": "9bad"}}]}),
            "must match",
        ),
        (json!({"tool_choice": "required"}), "`tool_choice` requires `tools`"),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            "send a base64 data URL",
        ),
        (
            json!({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}),
            "matches no earlier assistant tool call",
        ),
        (
            json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "object", "properties": {"b": {"$ref": "#/$defs/n"}}}}}}}]}),
            "recursive",
        ),
        (
            json!({"messages": [{"role": "user", "content": "  "}]}),
            "has no content",
        ),
    ] {
        let err = translate(&base(extra.clone()), false).expect_err("refused").to_string();
        assert!(err.contains(want), "{extra}: {err}");
    }
    // The same unsupported parameters are dropped and reported when the target says so.
    let out = translate(&base(json!({"n": 2, "seed": 7})), true).expect("dropped");
    assert_eq!(out.dropped, ["n"]);
    let body: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(body["generationConfig"]["seed"], 7, "Gemini honours `seed`");
}

#[test]
fn reasoning_none_turns_thinking_off() {
    let out = translate(
        &json!({"model": "m", "reasoning_effort": "none", "messages": [{"role": "user", "content": "hi"}]}),
        false,
    )
    .expect("ok");
    let body: Value = serde_json::from_slice(&out.body).expect("json");
    assert_eq!(body["generationConfig"]["thinkingConfig"], json!({"thinkingBudget": 0}));
}

#[test]
fn finish_reasons_map_like_the_reference() {
    for (reason, calls, want) in [
        ("STOP", false, Some("stop")),
        ("STOP", true, Some("tool_calls")),
        ("MAX_TOKENS", false, Some("length")),
        ("SAFETY", false, Some("content_filter")),
        ("RECITATION", true, Some("content_filter")),
        ("MALFORMED_FUNCTION_CALL", false, Some("stop")),
        ("SOMETHING_NEW", false, None),
    ] {
        assert_eq!(finish_reason(reason, calls), want, "{reason}");
    }
}

#[test]
fn errors_map_by_status_and_reason() {
    let bad_key = br#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
    let e = translate_error(400, bad_key);
    assert_eq!((e.status, e.code), (502, "upstream_auth_failed"));
    assert!(
        !String::from_utf8_lossy(&e.body).contains("API key not valid"),
        "ours, not relayed"
    );

    let wrapped = br#"[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]"#;
    let e = translate_error(429, wrapped);
    assert_eq!((e.status, e.code), (429, "upstream_rate_limited"));
    let body: Value = serde_json::from_slice(&e.body).expect("json");
    assert_eq!(
        body["error"]["message"],
        "Resource has been exhausted (e.g. check quota)."
    );
    assert_eq!(body["error"]["type"], "rate_limit_error");

    let e = translate_error(
        503,
        br#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    );
    assert_eq!((e.status, e.code), (503, "upstream_overloaded"));
    let e = translate_error(
        400,
        br#"{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}"#,
    );
    assert_eq!((e.status, e.code), (400, "context_length_exceeded"));
    let e = translate_error(404, b"not json");
    assert_eq!((e.status, e.code), (404, "upstream_not_found"));
}

/// Decodes `chunks` as the server would and translates every event.
pub(super) fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, t: &mut StreamTranslator) -> Vec<u8> {
    let mut decoder = SseDecoder::new(SseLimits::default());
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).expect("within limits");
        while let Some(event) = decoder.next_event() {
            t.on_event(&event, &mut out);
        }
    }
    while let Some(event) = decoder.finish().or_else(|| decoder.next_event()) {
        t.on_event(&event, &mut out);
    }
    t.finish(&mut out);
    out
}

fn stream_fixture(name: &str, include_usage: bool) -> (String, StreamTranslator) {
    let bytes = std::fs::read(format!("{FIXTURES}/stream/{name}")).expect("fixture");
    let mut t = StreamTranslator::new(ctx(include_usage));
    let out = run([&bytes[..]], &mut t);
    (String::from_utf8(out).expect("utf8"), t)
}

#[test]
fn stream_text_with_usage() {
    let (out, t) = stream_fixture("text.sse", true);
    insta::assert_snapshot!("stream_text", out);
    let u = t.usage().expect("usage");
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cached_input_tokens, u.total_tokens),
        (9, 6, 4, 15)
    );
    assert_eq!(t.errored(), None);
}

#[test]
fn stream_tools_arrive_whole() {
    let (out, t) = stream_fixture("tools.sse", false);
    insta::assert_snapshot!("stream_tools", out);
    assert_eq!(t.finish_reason(), Some("tool_calls"));
}

#[test]
fn stream_error_event_ends_with_an_error_frame() {
    let (out, t) = stream_fixture("error.sse", true);
    insta::assert_snapshot!("stream_error", out);
    assert_eq!(t.errored(), Some("upstream_overloaded"));
    assert!(!out.contains("[DONE]"));
}

#[test]
fn stream_cut_short_is_a_truncation_error() {
    let (out, t) = stream_fixture("truncated.sse", false);
    assert_eq!(t.errored(), Some("upstream_stream_truncated"));
    assert!(out.contains("Cut") && !out.contains("[DONE]"), "{out}");
}
