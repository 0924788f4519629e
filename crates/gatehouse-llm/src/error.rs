//! The crate's single error type.
//!
//! Every variant knows where the failure came from ([`ErrorSource`]), whether another attempt could succeed
//! ([`Retry`]) and a stable [`code`](LlmError::code) used in response bodies, access logs and metric labels.
//! Invariant: no message carries more than [`MAX_DETAIL_CHARS`] characters of detail, so a hostile body cannot be
//! echoed back or flood a log line.

use std::borrow::Cow;

/// Upper bound on the detail text carried by an error, in characters.
///
/// Details may quote parser messages which can contain fragments of the input; the bound keeps them short.
pub const MAX_DETAIL_CHARS: usize = 100;

/// Errors produced by the pure LLM codecs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The client's body is not valid UTF-8 JSON; it cannot be forwarded or inspected.
    #[error("body is not valid JSON: {detail}")]
    InvalidJson {
        /// What the parser objected to (bounded, see [`MAX_DETAIL_CHARS`]).
        detail: String,
    },
    /// The client's body is JSON but violates the API's shape (wrong type, duplicate key, ...).
    #[error("invalid request: {detail}")]
    InvalidRequest {
        /// Which rule was broken (bounded, see [`MAX_DETAIL_CHARS`]).
        detail: String,
    },
    /// The upstream's event stream crossed a configured bound; observing it further would need unbounded memory.
    #[error("upstream SSE {what} exceeded the limit of {limit} bytes")]
    SseLimit {
        /// Which bound was crossed: `"line"` or `"event"`.
        what: &'static str,
        /// The bound, in bytes.
        limit: usize,
    },
    /// The upstream's response body is not the shape its API documents (not JSON, or a required field missing), so
    /// it cannot be translated for the client.
    #[error("upstream response is invalid: {detail}")]
    UpstreamInvalid {
        /// What was wrong with it (bounded, see [`MAX_DETAIL_CHARS`]).
        detail: String,
    },
    /// A broken invariant inside this crate; never caused by input alone.
    #[error("internal error: {detail}")]
    Internal {
        /// The invariant that did not hold.
        detail: &'static str,
    },
}

/// Where a failure originated; decides the HTTP status class and who is blamed in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSource {
    /// The caller sent something wrong (4xx).
    Client,
    /// The upstream provider misbehaved (502-class).
    Upstream,
    /// The gateway itself is at fault (500).
    Internal,
}

/// Whether repeating the request (possibly on another target) could succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Repeating the same input gives the same failure.
    Never,
    /// Always safe to try again.
    Always,
    /// Another target may succeed, but only if no byte has reached the client yet.
    BeforeFirstByte,
}

// === impl LlmError ===

impl LlmError {
    /// Builds [`LlmError::InvalidJson`], bounding the detail.
    pub fn invalid_json(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidJson {
            detail: bounded(detail.into()),
        }
    }

    /// Builds [`LlmError::InvalidRequest`], bounding the detail.
    pub fn invalid_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidRequest {
            detail: bounded(detail.into()),
        }
    }

    /// Builds [`LlmError::UpstreamInvalid`], bounding the detail.
    pub fn upstream_invalid(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::UpstreamInvalid {
            detail: bounded(detail.into()),
        }
    }

    /// Stable machine-readable code for response bodies, access logs and metric labels.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::SseLimit { .. } => "upstream_sse_limit",
            Self::UpstreamInvalid { .. } => "upstream_invalid_response",
            Self::Internal { .. } => "internal_error",
        }
    }

    /// Who is to blame for this failure.
    #[must_use]
    pub fn source(&self) -> ErrorSource {
        match self {
            Self::InvalidJson { .. } | Self::InvalidRequest { .. } => ErrorSource::Client,
            Self::SseLimit { .. } | Self::UpstreamInvalid { .. } => ErrorSource::Upstream,
            Self::Internal { .. } => ErrorSource::Internal,
        }
    }

    /// Whether failover may try again after this error.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self.source() {
            ErrorSource::Upstream => Retry::BeforeFirstByte,
            ErrorSource::Client | ErrorSource::Internal => Retry::Never,
        }
    }
}

/// Truncates `detail` to [`MAX_DETAIL_CHARS`] characters, marking the cut with `…`.
pub(crate) fn bounded(detail: Cow<'static, str>) -> String {
    match detail.char_indices().nth(MAX_DETAIL_CHARS) {
        None => detail.into_owned(),
        Some((cut, _)) => {
            let mut s = detail[..cut].to_owned();
            s.push('…');
            s
        }
    }
}

#[cfg(test)]
mod tests;
