//! The crate's one error type and its single conversion into vLLM's OpenAI error JSON.
//!
//! vLLM answers errors as `{"error":{"message":..,"type":..,"param":null,"code":<status>}}`; every variant here is
//! a *client* error (the simulator has no upstream) except [`ApiError::EngineStopped`], and only
//! [`ApiError::QueueFull`] is worth retrying (on another replica, or later).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// Body is not JSON of the expected shape.
    #[error("{0}")]
    BadRequest(String),
    /// `model` names neither the base model nor a LoRA adapter.
    #[error("The model `{0}` does not exist.")]
    ModelNotFound(String),
    /// Prompt plus completion exceed `max_model_len` (or the whole KV cache).
    #[error(
        "This model's maximum context length is {max_model_len} tokens. However, you requested {total} tokens \
         ({prompt} in the messages, {completion} in the completion). Please reduce the length of the messages or \
         completion."
    )]
    ContextTooLong {
        /// Configured limit.
        max_model_len: usize,
        /// `prompt + completion`.
        total: usize,
        /// Prompt tokens.
        prompt: usize,
        /// Requested completion tokens.
        completion: usize,
    },
    /// The waiting queue is full (retryable).
    #[error("The waiting queue is full ({0} requests); retry later.")]
    QueueFull(usize),
    /// The replica is shutting down.
    #[error("The engine stopped before the request finished.")]
    EngineStopped,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    message: String,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: u16,
}

// === impl ApiError ===

impl ApiError {
    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) | Self::ContextTooLong { .. } => (StatusCode::BAD_REQUEST, "BadRequestError"),
            Self::ModelNotFound(_) => (StatusCode::NOT_FOUND, "NotFoundError"),
            Self::QueueFull(_) => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError"),
            Self::EngineStopped => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableError"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = self.status_and_type();
        let body = Body {
            error: Detail {
                message: self.to_string(),
                kind,
                param: None,
                code: status.as_u16(),
            },
        };
        (status, axum::Json(body)).into_response()
    }
}
