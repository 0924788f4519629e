use super::*;

#[test]
fn codes_are_stable() {
    assert_eq!(LlmError::invalid_json("x").code(), "invalid_json");
    assert_eq!(LlmError::invalid_request("x").code(), "invalid_request");
    let limit = LlmError::SseLimit {
        what: "line",
        limit: 10,
    };
    assert_eq!(limit.code(), "upstream_sse_limit");
    assert_eq!(LlmError::Internal { detail: "x" }.code(), "internal_error");
    assert_eq!(LlmError::upstream_invalid("x").code(), "upstream_invalid_response");
}

#[test]
fn sources_and_retry() {
    assert_eq!(LlmError::invalid_json("x").source(), ErrorSource::Client);
    assert_eq!(LlmError::invalid_request("x").retry(), Retry::Never);
    let limit = LlmError::SseLimit {
        what: "event",
        limit: 10,
    };
    assert_eq!(limit.source(), ErrorSource::Upstream);
    assert_eq!(limit.retry(), Retry::BeforeFirstByte);
    assert_eq!(LlmError::Internal { detail: "x" }.source(), ErrorSource::Internal);
    assert_eq!(LlmError::upstream_invalid("x").source(), ErrorSource::Upstream);
    assert_eq!(LlmError::upstream_invalid("x").retry(), Retry::BeforeFirstByte);
}

#[test]
fn details_are_bounded() {
    let long = "é".repeat(10_000);
    let err = LlmError::invalid_request(long);
    let msg = err.to_string();
    assert!(msg.chars().count() < MAX_DETAIL_CHARS + 40, "{msg}");
    assert!(msg.ends_with('…'));
    assert_eq!(
        LlmError::invalid_json("short").to_string(),
        "body is not valid JSON: short"
    );
}

#[test]
fn sse_limit_message() {
    let err = LlmError::SseLimit {
        what: "line",
        limit: 1024,
    };
    assert_eq!(err.to_string(), "upstream SSE line exceeded the limit of 1024 bytes");
}
