//! Golden responses (`tests/fixtures/anthropic_ingress/response/*.json`: OpenAI completions in the published
//! shapes, the Anthropic message and metered usage expected) and malformed upstream bodies.

use serde_json::{Value, json};

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic_ingress/response");

const CTX: MessageContext<'static> = MessageContext {
    model: "claude-sonnet-4-5",
};

#[derive(serde::Deserialize)]
struct Fixture {
    openai: Box<RawValue>,
    anthropic: Value,
    usage: Value,
    stop_reason: String,
    invalid_tool_arguments: usize,
}

#[test]
fn golden_fixtures() {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 6, "fixtures found: {}", paths.len());
    for path in paths {
        let name = path.display().to_string();
        let fixture: Fixture = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture");
        let out = translate_response(fixture.openai.get().as_bytes(), &CTX).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Value = serde_json::from_slice(&out.body).expect("output is JSON");
        assert_eq!(
            got,
            fixture.anthropic,
            "{name}\n got: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(
            serde_json::to_value(out.usage).expect("serialises"),
            fixture.usage,
            "{name}"
        );
        assert_eq!(out.stop_reason, fixture.stop_reason, "{name}");
        assert_eq!(out.invalid_tool_arguments, fixture.invalid_tool_arguments, "{name}");
        // The client's input fields add up to the metered prompt.
        let u = &got["usage"];
        let sum: u64 = ["input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"]
            .iter()
            .map(|k| u[k].as_u64().expect("count"))
            .sum();
        assert_eq!(sum, out.usage.input_tokens, "{name}");
    }
}

fn completion(finish: Value, message: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    }))
    .expect("serialises")
}

#[test]
fn every_finish_reason() {
    for (finish, stop) in [
        (json!("stop"), "end_turn"),
        (json!("length"), "max_tokens"),
        (json!("tool_calls"), "tool_use"),
        (json!("function_call"), "tool_use"),
        (json!("content_filter"), "refusal"),
        (json!("something_new"), "end_turn"),
        (Value::Null, "end_turn"),
    ] {
        let out = translate_response(&completion(finish.clone(), json!({"content": "x"})), &CTX).expect("valid");
        assert_eq!(out.stop_reason, stop, "{finish}");
        let body: Value = serde_json::from_slice(&out.body).expect("JSON");
        assert_eq!(body["stop_reason"], stop);
        assert_eq!(body["stop_sequence"], Value::Null);
    }
}

#[test]
fn refusal_text_and_missing_ids() {
    let message = json!({"content": null, "refusal": "I can't help with that.",
        "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "[1]"}}]});
    let out = translate_response(&completion(json!("stop"), message), &CTX).expect("valid");
    let body: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(
        body["content"][0],
        json!({"type": "text", "text": "I can't help with that."})
    );
    assert_eq!(
        body["content"][1],
        json!({"type": "tool_use", "id": "toolu_msg_x_0", "name": "f", "input": {}})
    );
    assert_eq!(out.invalid_tool_arguments, 1, "an array is not an object");
}

#[test]
fn escaping() {
    let body = br#"{"id":"chatcmpl-\"q\"","choices":[{"message":{"content":"line\nbreak \"quoted\" \u00e9 \ud83d\ude80","tool_calls":[{"id":"c\\1","function":{"name":"f","arguments":"{ \"s\" : \"a \\\"b\\\" \\\\ c\", \"n\" : [ 1 , 2 ] }"}}]},"finish_reason":"tool_calls"}]}"#;
    let out = translate_response(
        body,
        &MessageContext {
            model: "we\"ird\nmodel",
        },
    )
    .expect("valid");
    let v: Value = serde_json::from_slice(&out.body).expect("JSON");
    assert_eq!(v["id"], "msg_\"q\"");
    assert_eq!(v["model"], "we\"ird\nmodel");
    assert_eq!(v["content"][0]["text"], "line\nbreak \"quoted\" é 🚀");
    assert_eq!(v["content"][1]["id"], "c\\1");
    assert_eq!(v["content"][1]["input"], json!({"s": "a \"b\" \\ c", "n": [1, 2]}));
    assert_eq!(out.usage, crate::Usage::default(), "no usage: zeros");
}

#[test]
fn malformed_upstream_bodies() {
    for body in [
        &b""[..],
        b"\xff",
        b"not json",
        b"[]",
        br#"{"error":{"message":"x"}}"#,
        br#"{"id":"x","choices":[]}"#,
        br#"{"id":"x","choices":[{"finish_reason":"stop"}]}"#,
        br#"{"id":"x","choices":[{"message":{"content":"a"}}],"usage":{"prompt_tokens":-1}}"#,
        br#"{"id":"x","choices":[{"message":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]}"#,
        br#"{"choices":[{"message":{"content":"a"}}]}"#,
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
