//! Golden responses (`tests/fixtures/anthropic/response/*.json`: Anthropic messages in the documented shapes, the
//! OpenAI completion and metered usage expected) and malformed upstream bodies.

use serde_json::{Value, json};

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic/response");

const CTX: ResponseContext<'static> = ResponseContext {
    created: 1_700_000_000,
    model: "claude-sonnet",
};

#[derive(serde::Deserialize)]
struct Fixture {
    anthropic: Box<RawValue>,
    openai: Value,
    usage: Value,
}

#[test]
fn golden_fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "fixtures found: {}", paths.len());
    for path in paths {
        let name = path.display().to_string();
        let fixture: Fixture = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture");
        let (body, usage) =
            translate_response(fixture.anthropic.get().as_bytes(), &CTX).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Value = serde_json::from_slice(&body).expect("output is JSON");
        assert_eq!(got, fixture.openai, "{name}\n got: {}", String::from_utf8_lossy(&body));
        assert_eq!(
            serde_json::to_value(usage).expect("serialises"),
            fixture.usage,
            "{name}"
        );
        // What the passthrough meter reads from the translated body agrees with what is metered here.
        assert_eq!(crate::usage::from_openai_response(&body), Some(usage), "{name}");
    }
}

fn with_stop(reason: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": "x"}],
        "stop_reason": reason, "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
    .expect("serialises")
}

#[test]
fn every_stop_reason() {
    for (reason, finish, unknown) in [
        (json!("end_turn"), "stop", None),
        (json!("stop_sequence"), "stop", None),
        (json!("max_tokens"), "length", None),
        (json!("tool_use"), "tool_calls", None),
        (json!("refusal"), "content_filter", None),
        (json!("pause_turn"), "stop", None),
        (json!("model_context_window_exceeded"), "length", None),
        (json!("compaction"), "length", None),
        (json!("brand_new_reason"), "stop", Some("brand_new_reason")),
        (Value::Null, "stop", None),
    ] {
        let out = translate_response_full(&with_stop(reason.clone()), &CTX).expect("valid");
        assert_eq!(out.finish_reason, finish, "{reason}");
        assert_eq!(out.unknown_stop_reason.as_deref(), unknown, "{reason}");
        let body: Value = serde_json::from_slice(&out.body).expect("JSON");
        assert_eq!(body["choices"][0]["finish_reason"], finish);
    }
}

#[test]
fn escaping_and_names() {
    let body = br#"{"id":"msg_\"q\"","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"line\nbreak \"quoted\" \u00e9 \ud83d\ude80"},{"type":"tool_use","id":"toolu_1","name":"f","input":{ "s" : "a \"b\" \\ c", "n" : [ 1 , 2 ] }}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}}"#;
    let ctx = ResponseContext {
        created: 1,
        model: "we\"ird\nmodel",
    };
    let (out, _) = translate_response(body, &ctx).expect("valid");
    let v: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["id"], "msg_\"q\"");
    assert_eq!(v["model"], "we\"ird\nmodel");
    assert_eq!(v["choices"][0]["message"]["content"], "line\nbreak \"quoted\" é 🚀");
    let args = v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .expect("string");
    assert_eq!(args, r#"{"s":"a \"b\" \\ c","n":[1,2]}"#);
    let parsed: Value = serde_json::from_str(args).expect("arguments are JSON");
    assert_eq!(parsed, json!({"s": "a \"b\" \\ c", "n": [1, 2]}));
}

#[test]
fn malformed_upstream_bodies() {
    for body in [
        &b""[..],
        b"\xff",
        b"not json",
        b"[]",
        br#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
        br#"{"id":"m","content":[],"usage":{"input_tokens":-1}}"#,
        br#"{"id":"m","content":"text","usage":{}}"#,
        br#"{"id":"m","content":[]}"#,
        br#"{"id":"m","content":[{"type":"tool_use","input":{}}],"usage":{}}"#,
    ] {
        let err = translate_response(body, &CTX).expect_err("must fail");
        assert_eq!(
            err.code(),
            "upstream_invalid_response",
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}
