//! OpenAI-style backend errors → what the Anthropic client receives: `{"type":"error","error":{"type","message"}}`.
//!
//! | backend status | client status | Anthropic `type` | `code` | message |
//! |---|---|---|---|---|
//! | 400 | 400 | `invalid_request_error` | `upstream_invalid_request` (`context_length_exceeded`, see below) | relayed |
//! | 401, 403 | 502 | `api_error` | `upstream_auth_failed` | ours |
//! | 404 | 404 | `not_found_error` | `upstream_not_found` | relayed |
//! | 413 | 413 | `request_too_large` | `upstream_request_too_large` | relayed |
//! | 422 | 400 | `invalid_request_error` | `upstream_invalid_request` | relayed |
//! | 429 | 429 | `rate_limit_error` | `upstream_rate_limited` | relayed |
//! | 500 | 500 | `api_error` | `upstream_server_error` | relayed |
//! | 503 | 503 | `overloaded_error` | `upstream_overloaded` | relayed |
//! | 504 | 504 | `timeout_error` | `upstream_timeout` | relayed |
//! | anything else | 502 | `api_error` | `upstream_error` | relayed |
//!
//! - 401/403 mean the *gateway's* credentials for the backend are bad: the client cannot fix that, and the
//!   backend's text could echo the key, so the client gets our message and the operator a log line.
//! - 503 stays 503 with `overloaded_error`: Anthropic itself says 529, but 529 is Anthropic's private status that
//!   proxies, load balancers and non-Anthropic clients do not know, while every client retries a 503.
//! - 422 is FastAPI's validation status (some OpenAI-compatible servers answer it for a bad request): it is the
//!   client's request that is wrong, and a 502 would make SDKs retry it in vain.
//! - A context-window overflow (OpenAI code `context_length_exceeded`, or vLLM's and OpenAI's "maximum context
//!   length" text) is a 400 whose message starts with `prompt is too long: `, Anthropic's wording, which Claude
//!   Code looks for to compact the conversation; the code is `context_length_exceeded`.
//! - Messages are read from `error.message` (OpenAI, current vLLM), a top-level `message` (older vLLM), a string
//!   `error`, or a string `detail` (FastAPI), and relayed cut to 512 bytes. `Retry-After` is a header and stays
//!   the server's business.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::anthropic::json::{CowStr, StrOr, truncate, write_str};
use crate::anthropic::upstream_error::Class;
use crate::{Retry, TranslatedError};

/// Backend messages relayed to the client are cut to this many bytes.
pub(super) const MAX_MESSAGE_BYTES: usize = 512;

/// The error body shapes of OpenAI-compatible servers.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    error: Option<StrOr<'a, Inner<'a>>>,
    #[serde(default, borrow)]
    message: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    detail: Option<StrOr<'a, IgnoredAny>>,
}

#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(default, borrow)]
    message: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    code: Option<&'a RawValue>,
}

/// Translates an OpenAI-style error response (status and body) for the Anthropic client.
#[must_use]
pub fn translate_error(status: u16, openai_body: &[u8]) -> TranslatedError {
    let class = class_for_status(status);
    let (message, code) = match serde_json::from_slice::<Envelope<'_>>(openai_body) {
        Ok(env) => {
            let (message, code) = match env.error {
                Some(StrOr::Other(inner)) => (inner.message, inner.code),
                Some(StrOr::Str(s)) => (Some(s), None),
                None => (None, None),
            };
            let detail = match env.detail {
                Some(StrOr::Str(s)) => Some(s),
                _ => None,
            };
            (message.or(env.message).or(detail), code)
        }
        Err(_) => (None, None),
    };
    let message = message.as_deref().unwrap_or_default();
    let (class, body) = anthropic_error(class, message, code);
    TranslatedError {
        status: class.status,
        body,
        code: class.code,
        retry: class.retry,
    }
}

/// The Anthropic error body for `class`, relaying `message` when allowed; recognises context-window overflows.
pub(super) fn anthropic_error(mut class: Class, message: &str, code: Option<&RawValue>) -> (Class, Vec<u8>) {
    let message = message.trim();
    let overflow = class.status == 400
        && (code.is_some_and(|c| c.get() == "\"context_length_exceeded\"")
            || message.contains("maximum context length"));
    let text = if class.relay && !message.is_empty() {
        truncate(message, MAX_MESSAGE_BYTES)
    } else {
        class.message.into()
    };
    let mut body = Vec::with_capacity(text.len() + 96);
    body.extend_from_slice(b"{\"type\":\"error\",\"error\":{\"type\":");
    write_str(&mut body, class.kind);
    body.extend_from_slice(b",\"message\":");
    if overflow {
        class.code = "context_length_exceeded";
        write_str(&mut body, &format!("prompt is too long: {text}"));
    } else {
        write_str(&mut body, &text);
    }
    body.extend_from_slice(b"}}");
    (class, body)
}

/// The class of an HTTP status from the backend.
pub(super) fn class_for_status(status: u16) -> Class {
    let c = |status, kind, code, relay, message, retry| Class {
        status,
        kind,
        code,
        relay,
        message,
        retry,
    };
    let (relay, ours) = (true, false);
    let (never, before) = (Retry::Never, Retry::BeforeFirstByte);
    match status {
        400 | 422 => c(
            400,
            "invalid_request_error",
            "upstream_invalid_request",
            relay,
            "the backend rejected the request",
            never,
        ),
        401 | 403 => c(
            502,
            "api_error",
            "upstream_auth_failed",
            ours,
            "the gateway's credentials for the backend were rejected",
            before,
        ),
        404 => c(
            404,
            "not_found_error",
            "upstream_not_found",
            relay,
            "the backend does not know this model",
            never,
        ),
        413 => c(
            413,
            "request_too_large",
            "upstream_request_too_large",
            relay,
            "the request is too large for the backend",
            never,
        ),
        429 => c(
            429,
            "rate_limit_error",
            "upstream_rate_limited",
            relay,
            "the backend is rate limiting requests",
            before,
        ),
        500 => c(
            500,
            "api_error",
            "upstream_server_error",
            relay,
            "the backend had an internal error",
            before,
        ),
        503 => c(
            503,
            "overloaded_error",
            "upstream_overloaded",
            relay,
            "the backend is overloaded",
            before,
        ),
        504 => c(
            504,
            "timeout_error",
            "upstream_timeout",
            relay,
            "the backend timed out",
            before,
        ),
        501..=599 => c(502, "api_error", "upstream_error", relay, "the backend failed", before),
        _ => c(
            502,
            "api_error",
            "upstream_error",
            relay,
            "the backend returned an unexpected status",
            never,
        ),
    }
}

/// The class of an error object found inside a stream: by its numeric `code` when that is an HTTP status (vLLM),
/// else by the words of its `code` or `type` (OpenAI's `rate_limit_exceeded`, vLLM's `BadRequestError`, ...);
/// anything unrecognised is a 500.
pub(super) fn class_for_stream_error(code: Option<&RawValue>, kind: Option<&str>) -> Class {
    if let Some(status) = code
        .and_then(|c| c.get().parse::<u16>().ok())
        .filter(|s| (400..600).contains(s))
    {
        return class_for_status(status);
    }
    let code = code.and_then(|c| serde_json::from_str::<String>(c.get()).ok());
    let words: String = [code.as_deref(), kind]
        .into_iter()
        .flatten()
        .flat_map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphabetic())
                .map(|c| c.to_ascii_lowercase())
        })
        .collect();
    let has = |needles: &[&str]| needles.iter().any(|n| words.contains(n));
    class_for_status(if has(&["contextlength", "invalidrequest", "badrequest"]) {
        400
    } else if has(&["ratelimit", "toomanyrequests", "quota"]) {
        429
    } else if has(&["notfound"]) {
        404
    } else if has(&["authentication", "permission", "apikey", "unauthorized"]) {
        401
    } else if has(&["overloaded", "unavailable"]) {
        503
    } else if has(&["timeout"]) {
        504
    } else {
        500
    })
}

#[cfg(test)]
mod tests;
