//! Anthropic errors → what the OpenAI client receives.
//!
//! | Anthropic status (type) | client status | OpenAI `type` | `code` | message |
//! |---|---|---|---|---|
//! | 400 `invalid_request_error` | 400 | `invalid_request_error` | `upstream_invalid_request` (`context_length_exceeded` for "prompt is too long") | relayed |
//! | 401 `authentication_error`, 403 `permission_error` | 502 | `server_error` | `upstream_auth_failed` | ours |
//! | 402 `billing_error` | 502 | `server_error` | `upstream_billing_failed` | ours |
//! | 404 `not_found_error` | 404 | `not_found_error` | `upstream_not_found` | relayed |
//! | 413 `request_too_large` | 413 | `invalid_request_error` | `upstream_request_too_large` | relayed |
//! | 429 `rate_limit_error` | 429 | `rate_limit_error` | `upstream_rate_limited` | relayed |
//! | 500 `api_error` | 500 | `server_error` | `upstream_server_error` | relayed |
//! | 504 `timeout_error` | 504 | `server_error` | `upstream_timeout` | relayed |
//! | 529 `overloaded_error` | 503 | `server_error` | `upstream_overloaded` | relayed |
//! | other 5xx | 502 | `server_error` | `upstream_error` | relayed |
//! | anything else | 502 | `server_error` | `upstream_error` | ours |
//!
//! 401/403/402 mean the *gateway's* key or account is bad: the client cannot fix that, and the upstream text could
//! echo the key, so the client gets our message and the operator a log line (the server's job). Relayed messages
//! are cut to 512 bytes. `Retry-After` is a header and stays the server's business (kept on 429 and 529 → 503).

use std::borrow::Cow;

use serde::Deserialize;

use super::json::{CowStr, truncate, write_str};
use crate::{Retry, TranslatedError};

/// Upstream messages relayed to the client are cut to this many bytes.
const MAX_MESSAGE_BYTES: usize = 512;

/// How one class of upstream error is reported; both directions use it (OpenAI clients of Anthropic upstreams
/// here, Anthropic clients of OpenAI-compatible backends in `anthropic_ingress`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Class {
    pub(crate) status: u16,
    /// The client dialect's error `type` (OpenAI's, or Anthropic's for `anthropic_ingress`).
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    /// Whether the upstream message may be shown to the client.
    pub(crate) relay: bool,
    /// Our message, used when not relaying or when the upstream gave none.
    pub(crate) message: &'static str,
    pub(crate) retry: Retry,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    error: Inner<'a>,
}

#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(default, borrow)]
    message: Option<CowStr<'a>>,
}

/// Translates an Anthropic error response (status and body) for the client.
#[must_use]
pub fn translate_error(status: u16, anthropic_body: &[u8]) -> TranslatedError {
    let class = class_for_status(status);
    let upstream = if class.relay {
        serde_json::from_slice::<Envelope<'_>>(anthropic_body)
            .ok()
            .and_then(|e| e.error.message)
            .filter(|m| !m.trim().is_empty())
    } else {
        None
    };
    let message: Cow<'_, str> = match &upstream {
        Some(m) => truncate(m, MAX_MESSAGE_BYTES),
        None => Cow::Borrowed(class.message),
    };
    let code = if status == 400 && message.contains("prompt is too long") {
        "context_length_exceeded"
    } else {
        class.code
    };
    let mut body = Vec::with_capacity(message.len() + 96);
    body.extend_from_slice(b"{\"error\":{\"message\":");
    write_str(&mut body, &message);
    body.extend_from_slice(b",\"type\":");
    write_str(&mut body, class.kind);
    body.extend_from_slice(b",\"param\":null,\"code\":");
    write_str(&mut body, code);
    body.extend_from_slice(b"}}");
    TranslatedError {
        status: class.status,
        body,
        code,
        retry: class.retry,
    }
}

/// The class of an HTTP status from Anthropic.
pub(crate) fn class_for_status(status: u16) -> Class {
    let c = |status, kind, code, relay, message, retry| Class {
        status,
        kind,
        code,
        relay,
        message,
        retry,
    };
    let (relay, ours) = (true, false);
    match status {
        400 => c(
            400,
            "invalid_request_error",
            "upstream_invalid_request",
            relay,
            "the upstream provider rejected the request",
            Retry::Never,
        ),
        401 | 403 => c(
            502,
            "server_error",
            "upstream_auth_failed",
            ours,
            "the gateway's credentials for the upstream provider were rejected",
            Retry::BeforeFirstByte,
        ),
        402 => c(
            502,
            "server_error",
            "upstream_billing_failed",
            ours,
            "the gateway's account with the upstream provider cannot be billed",
            Retry::BeforeFirstByte,
        ),
        404 => c(
            404,
            "not_found_error",
            "upstream_not_found",
            relay,
            "the upstream provider does not know this model",
            Retry::Never,
        ),
        413 => c(
            413,
            "invalid_request_error",
            "upstream_request_too_large",
            relay,
            "the request is too large for the upstream provider",
            Retry::Never,
        ),
        429 => c(
            429,
            "rate_limit_error",
            "upstream_rate_limited",
            relay,
            "the upstream provider is rate limiting requests",
            Retry::BeforeFirstByte,
        ),
        500 => c(
            500,
            "server_error",
            "upstream_server_error",
            relay,
            "the upstream provider had an internal error",
            Retry::BeforeFirstByte,
        ),
        504 => c(
            504,
            "server_error",
            "upstream_timeout",
            relay,
            "the upstream provider timed out",
            Retry::BeforeFirstByte,
        ),
        529 => c(
            503,
            "server_error",
            "upstream_overloaded",
            relay,
            "the upstream provider is overloaded",
            Retry::BeforeFirstByte,
        ),
        501..=503 | 505..=528 | 530..=599 => c(
            502,
            "server_error",
            "upstream_error",
            relay,
            "the upstream provider failed",
            Retry::BeforeFirstByte,
        ),
        _ => c(
            502,
            "server_error",
            "upstream_error",
            ours,
            "the upstream provider returned an unexpected status",
            Retry::Never,
        ),
    }
}

/// The class of an Anthropic error `type` (as in a mid-stream `error` event), via its documented status. The
/// docs say types "will grow over time": unknown ones are treated like `api_error`.
pub(crate) fn class_for_type(kind: &str) -> Class {
    class_for_status(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    })
}

#[cfg(test)]
mod tests;
