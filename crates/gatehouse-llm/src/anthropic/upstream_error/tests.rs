//! Every documented Anthropic status and type, the auth case that must not echo the upstream text, and bounds.

use serde_json::{Value, json};

use super::*;

fn anthropic_error(kind: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
    }))
    .expect("serialises")
}

fn body(t: &TranslatedError) -> Value {
    serde_json::from_slice(&t.body).expect("JSON")
}

#[test]
fn statuses_types_and_codes() {
    for (status, kind, client_status, openai_type, code, relayed) in [
        (
            400,
            "invalid_request_error",
            400,
            "invalid_request_error",
            "upstream_invalid_request",
            true,
        ),
        (
            401,
            "authentication_error",
            502,
            "server_error",
            "upstream_auth_failed",
            false,
        ),
        (
            402,
            "billing_error",
            502,
            "server_error",
            "upstream_billing_failed",
            false,
        ),
        (
            403,
            "permission_error",
            502,
            "server_error",
            "upstream_auth_failed",
            false,
        ),
        (
            404,
            "not_found_error",
            404,
            "not_found_error",
            "upstream_not_found",
            true,
        ),
        (
            413,
            "request_too_large",
            413,
            "invalid_request_error",
            "upstream_request_too_large",
            true,
        ),
        (
            429,
            "rate_limit_error",
            429,
            "rate_limit_error",
            "upstream_rate_limited",
            true,
        ),
        (500, "api_error", 500, "server_error", "upstream_server_error", true),
        (503, "api_error", 502, "server_error", "upstream_error", true),
        (504, "timeout_error", 504, "server_error", "upstream_timeout", true),
        (
            529,
            "overloaded_error",
            503,
            "server_error",
            "upstream_overloaded",
            true,
        ),
        (418, "teapot_error", 502, "server_error", "upstream_error", false),
        (302, "", 502, "server_error", "upstream_error", false),
    ] {
        let t = translate_error(status, &anthropic_error(kind, "upstream says sk-ant-api03-SECRET"));
        assert_eq!((t.status, t.code), (client_status, code), "{status}");
        let b = body(&t);
        assert_eq!(b["error"]["type"], openai_type, "{status}");
        assert_eq!(b["error"]["code"], code, "{status}");
        assert_eq!(b["error"]["param"], Value::Null, "{status}");
        let message = b["error"]["message"].as_str().expect("message");
        assert_eq!(message.contains("SECRET"), relayed, "{status}: {message}");
        assert!(!message.is_empty());
    }
}

#[test]
fn auth_failures_never_echo_upstream_text() {
    for status in [401, 403] {
        let t = translate_error(
            status,
            &anthropic_error("authentication_error", "invalid x-api-key sk-ant-xyz"),
        );
        let text = String::from_utf8(t.body).expect("UTF-8");
        assert!(!text.contains("sk-ant"), "{text}");
        assert!(text.contains("the gateway's credentials for the upstream provider were rejected"));
        assert_eq!(t.retry, Retry::BeforeFirstByte);
    }
}

#[test]
fn context_window_errors_get_openais_code() {
    let t = translate_error(
        400,
        &anthropic_error(
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
        ),
    );
    assert_eq!(t.code, "context_length_exceeded");
    assert_eq!(body(&t)["error"]["code"], "context_length_exceeded");
    assert_eq!(t.retry, Retry::Never);
}

#[test]
fn unreadable_or_huge_bodies() {
    let t = translate_error(429, b"<html>rate limited</html>");
    assert_eq!(
        body(&t)["error"]["message"],
        "the upstream provider is rate limiting requests"
    );
    let t = translate_error(500, &anthropic_error("api_error", "   "));
    assert_eq!(
        body(&t)["error"]["message"],
        "the upstream provider had an internal error"
    );
    let long = "é".repeat(5000);
    let t = translate_error(400, &anthropic_error("invalid_request_error", &long));
    let message = body(&t)["error"]["message"].as_str().expect("message").to_owned();
    assert!(message.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8(), "{}", message.len());
    assert!(message.ends_with('…'));
}

#[test]
fn stream_error_types_follow_their_statuses() {
    assert_eq!(class_for_type("overloaded_error").code, "upstream_overloaded");
    assert_eq!(class_for_type("rate_limit_error").code, "upstream_rate_limited");
    assert_eq!(class_for_type("authentication_error").code, "upstream_auth_failed");
    assert!(!class_for_type("permission_error").relay);
    assert_eq!(class_for_type("something_new").code, "upstream_server_error");
}
