//! Bedrock errors → the OpenAI error the client receives.
//!
//! Bedrock answers `{"message": "…"}` with the error type in the `x-amzn-ErrorType` header (`Type:extra`); in a
//! stream, an `exception` frame carries it in `:exception-type`. The type decides the class:
//!
//! | Bedrock | client status | `code` | message |
//! |---|---|---|---|
//! | `ValidationException` (400) | 400 | `upstream_invalid_request` (`context_length_exceeded` for "too long" inputs) | relayed |
//! | `AccessDeniedException`, `UnrecognizedClientException`, `InvalidSignatureException`, `ExpiredTokenException` (403) | 502 | `upstream_auth_failed` | ours |
//! | `ResourceNotFoundException` (404) | 404 | `upstream_not_found` | relayed |
//! | `ThrottlingException`, `ServiceQuotaExceededException`, `ModelNotReadyException` | 429 | `upstream_rate_limited` | relayed |
//! | `ModelTimeoutException` (408) | 504 | `upstream_timeout` | relayed |
//! | `ModelErrorException`, `ModelStreamErrorException` (424) | 502 | `upstream_error` | relayed |
//! | `InternalServerException` (500) | 500 | `upstream_server_error` | relayed |
//! | `ServiceUnavailableException` (503) | 503 | `upstream_overloaded` | relayed |
//! | anything else | by HTTP status, as for Anthropic | | |

use std::borrow::Cow;

use serde::Deserialize;

use crate::Retry;
use crate::anthropic::TranslatedError;
use crate::anthropic::json::{CowStr, truncate, write_str};
use crate::anthropic::upstream_error::{Class, class_for_status};

const MAX_MESSAGE_BYTES: usize = 512;

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(default, alias = "Message", borrow)]
    message: Option<CowStr<'a>>,
}

/// Translates a Bedrock error (HTTP status, `x-amzn-ErrorType` value if any, body) for the client.
#[must_use]
pub fn translate_error(status: u16, error_type: Option<&str>, body: &[u8]) -> TranslatedError {
    let message = serde_json::from_slice::<Body<'_>>(body).ok().and_then(|b| b.message);
    let (status, kind, code, message, retry) = map(status, error_type, message.as_deref());
    let mut out = Vec::with_capacity(message.len() + 96);
    out.extend_from_slice(b"{\"error\":{\"message\":");
    write_str(&mut out, &message);
    out.extend_from_slice(b",\"type\":");
    write_str(&mut out, kind);
    out.extend_from_slice(b",\"param\":null,\"code\":");
    write_str(&mut out, code);
    out.extend_from_slice(b"}}");
    TranslatedError {
        status,
        body: out,
        code,
        retry,
    }
}

/// `(client status, OpenAI type, code, message, retry)` for an error type (mid-stream: no HTTP status, use 0).
pub(crate) fn map(
    status: u16,
    error_type: Option<&str>,
    upstream: Option<&str>,
) -> (u16, &'static str, &'static str, String, Retry) {
    let name = error_type
        .map(|t| t.split(':').next().unwrap_or(t).trim())
        .unwrap_or_default();
    let name = name.rsplit('#').next().unwrap_or(name);
    let by_type = match name {
        "ValidationException" | "validationException" => 400,
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException"
        | "accessDeniedException" => 403,
        "ResourceNotFoundException" => 404,
        "ThrottlingException"
        | "ServiceQuotaExceededException"
        | "ModelNotReadyException"
        | "throttlingException"
        | "serviceQuotaExceededException" => 429,
        "ModelTimeoutException" | "modelTimeoutException" => 504,
        "ModelErrorException" | "ModelStreamErrorException" | "modelStreamErrorException" => 502,
        "InternalServerException" | "internalServerException" => 500,
        "ServiceUnavailableException" | "serviceUnavailableException" => 503,
        _ if status >= 400 => status,
        _ => 500,
    };
    let class: Class = match by_type {
        503 => Class {
            status: 503,
            kind: "server_error",
            code: "upstream_overloaded",
            relay: true,
            message: "the upstream provider is overloaded",
            retry: Retry::BeforeFirstByte,
        },
        502 => Class {
            status: 502,
            kind: "server_error",
            code: "upstream_error",
            relay: true,
            message: "the upstream model failed",
            retry: Retry::BeforeFirstByte,
        },
        s => class_for_status(s),
    };
    let message: Cow<'_, str> = match upstream.filter(|m| class.relay && !m.trim().is_empty()) {
        Some(m) => truncate(m, MAX_MESSAGE_BYTES),
        None => Cow::Borrowed(class.message),
    };
    let code = if class.status == 400 && (message.contains("too long") || message.contains("Input is too long")) {
        "context_length_exceeded"
    } else {
        class.code
    };
    (class.status, class.kind, code, message.into_owned(), class.retry)
}
