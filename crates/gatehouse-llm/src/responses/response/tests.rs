//! Golden response fixtures (`tests/fixtures/responses/response/*.json`: the Anthropic message in, the whole
//! Responses object expected, written from both APIs' published shapes), and upstream errors.

use serde_json::{Value, json};

use super::super::{ModelRules, RequestOptions, ResponseContext, ResponseEcho, translate_error, translate_request};
use super::translate_response;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/responses/response");

#[derive(serde::Deserialize)]
struct Fixture {
    anthropic: Value,
    responses: Value,
    #[serde(default)]
    request: Option<Value>,
    #[serde(default)]
    unknown_stop_reason: Option<String>,
}

/// The echo of a request body (or of an empty request).
pub(crate) fn echo_of(request: Option<&Value>) -> ResponseEcho {
    let Some(body) = request else {
        return ResponseEcho::default();
    };
    let rules = ModelRules::default();
    let opts = RequestOptions {
        upstream_model: "claude",
        rules: &rules,
        history: None,
    };
    translate_request(&serde_json::to_vec(body).expect("json"), &opts)
        .expect("fixture request translates")
        .echo
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
        let echo = echo_of(fixture.request.as_ref());
        let ctx = ResponseContext {
            id: "resp_t1",
            created_at: 1_700_000_000,
            model: "claude-client",
            echo: &echo,
        };
        let body = serde_json::to_vec(&fixture.anthropic).expect("json");
        let out = translate_response(&body, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Value = serde_json::from_slice(&out.body).expect("output is JSON");
        assert_eq!(
            got,
            fixture.responses,
            "{name}\n got: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(
            Value::Array(out.output_items.clone()),
            got["output"],
            "{name}: output_items"
        );
        assert_eq!(out.status, got["status"], "{name}");
        assert_eq!(out.usage.input_tokens, got["usage"]["input_tokens"], "{name}");
        assert_eq!(out.usage.output_tokens, got["usage"]["output_tokens"], "{name}");
        assert_eq!(
            out.usage.cached_input_tokens,
            got["usage"]["input_tokens_details"]["cached_tokens"]
        );
        assert_eq!(out.unknown_stop_reason, fixture.unknown_stop_reason, "{name}");
    }
}

#[test]
fn output_items_round_trip_as_history() {
    // The stored conversation (input items + output items) is what the next request's `history` carries: the
    // reasoning item must come back as the same signed thinking block, the function call as the same tool_use.
    let echo = ResponseEcho::default();
    let ctx = ResponseContext {
        id: "resp_x",
        created_at: 1,
        model: "m",
        echo: &echo,
    };
    let anthropic = json!({"content": [
        {"type": "thinking", "thinking": "plan", "signature": "SIG"},
        {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"e": "1+1"}}
    ], "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1}});
    let out = translate_response(&serde_json::to_vec(&anthropic).expect("json"), &ctx).expect("translates");
    let mut history = super::super::input_items(br#"{"input":"add"}"#).expect("input");
    history.extend(out.output_items);
    let next = json!({"model": "m", "previous_response_id": "resp_x", "input": [{"type": "function_call_output", "call_id": "toolu_1", "output": "2"}], "reasoning": {"effort": "low"}, "tools": [{"type": "function", "name": "calc"}]});
    let rules = ModelRules::default();
    let req = translate_request(
        &serde_json::to_vec(&next).expect("json"),
        &RequestOptions {
            upstream_model: "claude",
            rules: &rules,
            history: Some(&history),
        },
    )
    .expect("translates");
    let body: Value = serde_json::from_slice(&req.body).expect("json");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "add"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "SIG"},
                {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {"e": "1+1"}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "2"}]}
        ])
    );
}

#[test]
fn invalid_upstream_bodies_are_upstream_errors() {
    let echo = ResponseEcho::default();
    let ctx = ResponseContext {
        id: "resp_x",
        created_at: 1,
        model: "m",
        echo: &echo,
    };
    for body in [
        &b"not json"[..],
        b"\xff",
        br#"{"content":[]}"#,
        br#"{"content":[{"type":"tool_use","input":{}}],"usage":{}}"#,
    ] {
        let e = translate_response(body, &ctx).expect_err("invalid");
        assert_eq!(e.code(), "upstream_invalid_response", "{e}");
    }
}

#[test]
fn upstream_errors_use_the_openai_error_shape() {
    let e = translate_error(
        429,
        br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
    );
    assert_eq!(e.status, 429);
    let body: Value = serde_json::from_slice(&e.body).expect("json");
    assert_eq!(
        body,
        json!({"error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": "upstream_rate_limited"}})
    );
    let e = translate_error(
        401,
        br#"{"type":"error","error":{"type":"authentication_error","message":"bad key sk-ant-123"}}"#,
    );
    assert_eq!(e.status, 502);
    assert!(
        !String::from_utf8_lossy(&e.body).contains("sk-ant"),
        "the upstream text is not relayed"
    );
}
