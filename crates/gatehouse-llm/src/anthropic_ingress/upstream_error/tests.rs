//! Every mapped status, the body shapes of OpenAI-compatible servers, the auth case that must not echo the
//! backend's text, context-window overflows, and bounds.

use serde_json::{Value, json};

use super::*;

fn openai_error(message: &str, kind: &str, code: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"error": {"message": message, "type": kind, "param": null, "code": code}}))
        .expect("serialises")
}

fn body(t: &TranslatedError) -> Value {
    serde_json::from_slice(&t.body).expect("JSON")
}

#[test]
fn statuses_types_and_codes() {
    for (status, client, kind, code, relayed, retry) in [
        (
            400,
            400,
            "invalid_request_error",
            "upstream_invalid_request",
            true,
            Retry::Never,
        ),
        (
            401,
            502,
            "api_error",
            "upstream_auth_failed",
            false,
            Retry::BeforeFirstByte,
        ),
        (
            403,
            502,
            "api_error",
            "upstream_auth_failed",
            false,
            Retry::BeforeFirstByte,
        ),
        (404, 404, "not_found_error", "upstream_not_found", true, Retry::Never),
        (
            413,
            413,
            "request_too_large",
            "upstream_request_too_large",
            true,
            Retry::Never,
        ),
        (
            422,
            400,
            "invalid_request_error",
            "upstream_invalid_request",
            true,
            Retry::Never,
        ),
        (
            429,
            429,
            "rate_limit_error",
            "upstream_rate_limited",
            true,
            Retry::BeforeFirstByte,
        ),
        (
            500,
            500,
            "api_error",
            "upstream_server_error",
            true,
            Retry::BeforeFirstByte,
        ),
        (502, 502, "api_error", "upstream_error", true, Retry::BeforeFirstByte),
        (
            503,
            503,
            "overloaded_error",
            "upstream_overloaded",
            true,
            Retry::BeforeFirstByte,
        ),
        (
            504,
            504,
            "timeout_error",
            "upstream_timeout",
            true,
            Retry::BeforeFirstByte,
        ),
        (529, 502, "api_error", "upstream_error", true, Retry::BeforeFirstByte),
        (402, 502, "api_error", "upstream_error", true, Retry::Never),
        (418, 502, "api_error", "upstream_error", true, Retry::Never),
        (200, 502, "api_error", "upstream_error", true, Retry::Never),
    ] {
        let t = translate_error(
            status,
            &openai_error("backend says sk-SECRET", "Whatever", json!(status)),
        );
        assert_eq!((t.status, t.code, t.retry), (client, code, retry), "{status}");
        let b = body(&t);
        assert_eq!(b["type"], "error", "{status}");
        assert_eq!(b["error"]["type"], kind, "{status}");
        let message = b["error"]["message"].as_str().expect("message");
        assert_eq!(message.contains("SECRET"), relayed, "{status}: {message}");
        assert!(!message.is_empty());
        assert_eq!(b.as_object().map(serde_json::Map::len), Some(2), "only type and error");
    }
}

#[test]
fn auth_failures_never_echo_backend_text() {
    let t = translate_error(
        401,
        &openai_error(
            "Incorrect API key provided: sk-proj-abc",
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
    );
    let text = String::from_utf8(t.body).expect("UTF-8");
    assert!(!text.contains("sk-proj"), "{text}");
    assert!(text.contains("the gateway's credentials for the backend were rejected"));
}

#[test]
fn body_shapes() {
    let message = |status, body: &[u8]| body_message(&translate_error(status, body));
    assert_eq!(
        message(
            400,
            br#"{"object":"error","message":"old vLLM","type":"BadRequestError","param":null,"code":400}"#
        ),
        "old vLLM"
    );
    assert_eq!(message(500, br#"{"error":"a bare string"}"#), "a bare string");
    assert_eq!(message(422, br#"{"detail":"FastAPI says no"}"#), "FastAPI says no");
    assert_eq!(
        message(422, br#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#),
        "the backend rejected the request"
    );
    assert_eq!(
        message(429, b"<html>slow down</html>"),
        "the backend is rate limiting requests"
    );
    assert_eq!(
        message(500, &openai_error("   ", "server_error", Value::Null)),
        "the backend had an internal error"
    );
    let long = "é".repeat(5000);
    let m = message(400, &openai_error(&long, "invalid_request_error", Value::Null));
    assert!(m.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8(), "{}", m.len());
    assert!(m.ends_with('…'));
}

fn body_message(t: &TranslatedError) -> String {
    body(t)["error"]["message"].as_str().expect("message").to_owned()
}

#[test]
fn context_window_overflow_speaks_anthropic() {
    let vllm = "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens (39000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.";
    for upstream in [
        openai_error(vllm, "BadRequestError", json!(400)),
        openai_error("too long", "invalid_request_error", json!("context_length_exceeded")),
    ] {
        let t = translate_error(400, &upstream);
        assert_eq!((t.status, t.code), (400, "context_length_exceeded"));
        let m = body_message(&t);
        assert!(m.starts_with("prompt is too long: "), "{m}");
        assert_eq!(body(&t)["error"]["type"], "invalid_request_error");
    }
}

#[test]
fn stream_errors_by_code_or_words() {
    let raw = |s: &str| serde_json::value::RawValue::from_string(s.to_owned()).expect("raw");
    for (code, kind, expected) in [
        (Some("503"), None, "upstream_overloaded"),
        (Some("429"), Some("BadRequestError"), "upstream_rate_limited"),
        (Some("\"rate_limit_exceeded\""), None, "upstream_rate_limited"),
        (Some("\"context_length_exceeded\""), None, "upstream_invalid_request"),
        (None, Some("BadRequestError"), "upstream_invalid_request"),
        (None, Some("ServiceUnavailableError"), "upstream_overloaded"),
        (None, Some("NotFoundError"), "upstream_not_found"),
        (None, Some("authentication_error"), "upstream_auth_failed"),
        (None, Some("timeout"), "upstream_timeout"),
        (None, Some("server_error"), "upstream_server_error"),
        (Some("99"), None, "upstream_server_error"),
        (Some("{\"x\":1}"), None, "upstream_server_error"),
        (None, None, "upstream_server_error"),
    ] {
        let code = code.map(raw);
        assert_eq!(
            class_for_stream_error(code.as_deref(), kind).code,
            expected,
            "{code:?} {kind:?}"
        );
    }
}
