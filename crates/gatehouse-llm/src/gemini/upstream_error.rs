//! Google API errors → what the OpenAI client receives.
//!
//! Google's shape is `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT","details":[…]}}`, sometimes
//! wrapped in an array (`[{"error":…}]`). The HTTP status decides the class, as for Anthropic (same table:
//! `upstream_invalid_request`, `upstream_not_found`, `upstream_rate_limited`, …), with Google's particulars:
//!
//! | Gemini | client status | `code` | message |
//! |---|---|---|---|
//! | 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID` (Gemini's answer to a bad key) | 502 | `upstream_auth_failed` | ours |
//! | 401 `UNAUTHENTICATED`, 403 `PERMISSION_DENIED` | 502 | `upstream_auth_failed` | ours |
//! | 400 whose message says the input exceeds the token limit | 400 | `context_length_exceeded` | relayed |
//! | 429 `RESOURCE_EXHAUSTED` | 429 | `upstream_rate_limited` | relayed |
//! | 503 `UNAVAILABLE` ("The model is overloaded") | 503 | `upstream_overloaded` | relayed |
//! | 504 `DEADLINE_EXCEEDED` | 504 | `upstream_timeout` | relayed |
//!
//! In a stream the error arrives as a `data:` event with the same body; [`error_from_value`] maps it by its
//! `status` string (there is no HTTP status any more).

use std::borrow::Cow;

use serde::Deserialize;

use crate::Retry;
use crate::anthropic::TranslatedError;
use crate::anthropic::json::{CowStr, truncate, write_str};
use crate::anthropic::upstream_error::{Class, class_for_status};

/// Upstream messages relayed to the client are cut to this many bytes.
const MAX_MESSAGE_BYTES: usize = 512;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    error: Inner<'a>,
}

#[derive(Deserialize)]
struct Inner<'a> {
    #[serde(default)]
    code: Option<u16>,
    #[serde(default, borrow)]
    message: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    status: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    details: Vec<Detail<'a>>,
}

#[derive(Deserialize)]
struct Detail<'a> {
    #[serde(default, borrow)]
    reason: Option<CowStr<'a>>,
}

/// An error mapped for the client, before it is written as a body or a stream frame.
pub(super) struct Mapped {
    pub(super) status: u16,
    pub(super) kind: &'static str,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) retry: Retry,
}

/// Translates a Gemini error response (status and body) for the client.
#[must_use]
pub fn translate_error(status: u16, gemini_body: &[u8]) -> TranslatedError {
    let inner = parse(gemini_body);
    let m = map(status, inner.as_ref());
    let mut body = Vec::with_capacity(m.message.len() + 96);
    body.extend_from_slice(b"{\"error\":{\"message\":");
    write_str(&mut body, &m.message);
    body.extend_from_slice(b",\"type\":");
    write_str(&mut body, m.kind);
    body.extend_from_slice(b",\"param\":null,\"code\":");
    write_str(&mut body, m.code);
    body.extend_from_slice(b"}}");
    TranslatedError {
        status: m.status,
        body,
        code: m.code,
        retry: m.retry,
    }
}

/// Maps an error event's JSON (the value of `error`) seen mid-stream, by its `code` or `status` string.
pub(super) fn error_from_value(error_json: &str) -> Mapped {
    let inner: Option<Inner<'_>> = serde_json::from_str(error_json).ok();
    let status = inner
        .as_ref()
        .and_then(|i| {
            i.code
                .filter(|c| (400..600).contains(c))
                .or_else(|| i.status.as_deref().map(status_for))
        })
        .unwrap_or(500);
    map(status, inner.as_ref())
}

fn parse(body: &[u8]) -> Option<Inner<'_>> {
    // serde would read an array as a struct's fields in order, so the wrapped form is told apart by its bracket.
    let wrapped = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if !wrapped {
        return serde_json::from_slice::<Envelope<'_>>(body).ok().map(|e| e.error);
    }
    serde_json::from_slice::<Vec<Envelope<'_>>>(body)
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|e| e.error)
}

fn map(status: u16, inner: Option<&Inner<'_>>) -> Mapped {
    let bad_key = inner.is_some_and(|i| {
        i.details.iter().any(|d| d.reason.as_deref() == Some("API_KEY_INVALID"))
            || i.message.as_deref().is_some_and(|m| m.contains("API key not valid"))
    });
    let class: Class = match status {
        400 if bad_key => class_for_status(401),
        503 => Class {
            status: 503,
            kind: "server_error",
            code: "upstream_overloaded",
            relay: true,
            message: "the upstream provider is overloaded",
            retry: Retry::BeforeFirstByte,
        },
        s => class_for_status(s),
    };
    let upstream = inner
        .and_then(|i| i.message.as_deref())
        .filter(|m| class.relay && !m.trim().is_empty());
    let message: Cow<'_, str> = match upstream {
        Some(m) => truncate(m, MAX_MESSAGE_BYTES),
        None => Cow::Borrowed(class.message),
    };
    let code = if class.status == 400
        && (message.contains("exceeds the maximum number of tokens") || message.contains("token count"))
    {
        "context_length_exceeded"
    } else {
        class.code
    };
    Mapped {
        status: class.status,
        kind: class.kind,
        code,
        message: message.into_owned(),
        retry: class.retry,
    }
}

/// The HTTP status Google documents for a canonical `status` string.
fn status_for(status: &str) -> u16 {
    match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "RESOURCE_EXHAUSTED" => 429,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    }
}
