//! Errors become responses here, once per dialect.
//!
//! OpenAI routes answer with `{"error":{"message","type","param","code"}}`. The body never contains a
//! credential: error messages are built from our own strings, never from upstream request headers.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

use crate::error::GatewayError;

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
    let mut resp = (err.status(), body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(d) = err.retry_after() {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    resp
}
