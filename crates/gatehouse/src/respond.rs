//! Errors become responses here, once per dialect.
//!
//! OpenAI routes answer with `{"error":{"message","type","param","code"}}`; Anthropic routes (`/v1/messages`)
//! with `{"type":"error","error":{"type","message"}}` plus our stable `code` beside them (Anthropic's SDKs ignore
//! unknown keys). The body never contains a credential: error messages are built from our own strings, never from
//! upstream request headers.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

use crate::context::Dialect;
use crate::error::GatewayError;

/// Renders an error in the client's dialect.
pub fn error_response(dialect: Dialect, err: &GatewayError) -> Response {
    match dialect {
        Dialect::OpenAi => openai_error(err),
        Dialect::Anthropic => anthropic_error(err),
    }
}

/// Renders an error as Anthropic error JSON with the right status.
pub fn anthropic_error(err: &GatewayError) -> Response {
    let body = serde_json::json!({
        "type": "error",
        "error": {
            "type": err.anthropic_type(),
            "message": err.to_string(),
            "code": err.code(),
        }
    });
    finish(err, body)
}

/// Renders an error as OpenAI error JSON with the right status.
pub fn openai_error(err: &GatewayError) -> Response {
    let body = serde_json::json!({
        "error": {
            "message": err.to_string(),
            "type": err.openai_type(),
            "param": null,
            "code": err.code(),
        }
    });
    finish(err, body)
}

/// The response for `err` with `body`: its status, JSON content type and `Retry-After` when the error has one.
fn finish(err: &GatewayError, body: serde_json::Value) -> Response {
    let mut resp = (err.status(), body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if err.status() == http::StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let GatewayError::RateLimited {
        what,
        capacity,
        retry_after,
        ..
    } = err
    {
        let reset = format!("{:.3}s", retry_after.as_secs_f64());
        for (name, value) in [
            (format!("x-ratelimit-limit-{what}"), capacity.to_string()),
            (format!("x-ratelimit-remaining-{what}"), "0".to_string()),
            (format!("x-ratelimit-reset-{what}"), reset),
        ] {
            if let (Ok(n), Ok(v)) = (http::HeaderName::try_from(name), HeaderValue::try_from(value)) {
                resp.headers_mut().insert(n, v);
            }
        }
    }
    if let Some(d) = err.retry_after() {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    resp
}

/// Renders an MCP failure as a JSON-RPC error: the status the failure calls for (200 for failures of one call, so the
/// session goes on; 4xx for transport-level refusals) and `{"jsonrpc":"2.0","id":…,"error":{"code","message","data":{"code"}}}`.
pub fn jsonrpc_error(id: Option<&serde_json::value::RawValue>, err: &crate::mcp::error::McpFailure) -> Response {
    let data = serde_json::value::to_raw_value(&serde_json::json!({ "code": err.code() })).ok();
    let body = gatehouse_mcp::envelope::error(id, err.jsonrpc_code(), &err.to_string(), data.as_deref());
    let mut resp = (err.status(), body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
