//! What every translated relay shares (Anthropic, Gemini and Bedrock for OpenAI clients; OpenAI-style targets for
//! Anthropic clients): read the upstream answer into a [`Reply`] — an event stream to translate, or a whole body —
//! and finish the client response from a translated error or a translated success. Each provider module keeps
//! only its own translation calls and log lines.

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::{LlmError, TranslatedError, Usage};
use http::{HeaderValue, StatusCode, header};
use tokio::time::Instant;

use super::{collect_upstream, has_content_type, json_response};
use crate::context::{Dialect, RequestContext};
use crate::error::GatewayError;
use crate::respond::error_response;

/// An upstream answer, read as far as the relay needs it.
pub(super) enum Reply {
    /// A successful event stream, still unread: hand it to a streaming translator.
    Stream(http::Response<crate::body::Upstream>),
    /// A whole body (success or error).
    Body {
        /// The upstream status.
        status: StatusCode,
        /// The upstream `Retry-After`, kept for the client on rate-limit and overload answers.
        retry_after: Option<HeaderValue>,
        /// The upstream headers (Bedrock names its error type in one).
        headers: http::HeaderMap,
        /// The body.
        bytes: Bytes,
    },
}

pub(super) use super::SSE;

/// Reads the upstream answer (`stream_type`: the content type a streamed answer has). A success whose shape does
/// not match what was asked for (a stream when a JSON body was expected, or the reverse) is an invalid upstream
/// answer; so is a body that cannot be read in time.
pub(super) async fn read(
    resp: http::Response<crate::body::Upstream>,
    expect_stream: bool,
    stream_type: &str,
    deadline: Instant,
    target: &str,
    dialect: Dialect,
    ctx: &mut RequestContext,
) -> Result<Reply, Response> {
    let status = resp.status();
    if status.is_success() {
        if has_content_type(resp.headers(), stream_type) != expect_stream {
            let detail = if expect_stream {
                "expected an event stream"
            } else {
                "expected a JSON body, got an event stream"
            };
            return Err(fail(
                dialect,
                GatewayError::UpstreamInvalid {
                    target: target.to_string(),
                    detail: detail.into(),
                },
                ctx,
            ));
        }
        if expect_stream {
            return Ok(Reply::Stream(resp));
        }
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let (parts, body) = resp.into_parts();
    match collect_upstream(body, deadline, target).await {
        Ok(bytes) => Ok(Reply::Body {
            status,
            retry_after,
            headers: parts.headers,
            bytes,
        }),
        Err(e) => Err(fail(dialect, e, ctx)),
    }
}

/// The client response for a translated upstream error. `Retry-After` is kept when the client is told to back off
/// (429) or that the upstream is overloaded (503, which is also what Anthropic's 529 becomes).
pub(super) fn error(te: TranslatedError, retry_after: Option<HeaderValue>, ctx: &mut RequestContext) -> Response {
    ctx.fail(te.status, te.code, true);
    let status = StatusCode::from_u16(te.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = json_response(status, te.body);
    if let (Some(v), 429 | 503) = (retry_after, te.status) {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

/// The client response for a translated success body, or a 502 when the upstream body could not be translated.
pub(super) fn success(
    translated: Result<(Vec<u8>, Usage), LlmError>,
    target: String,
    dialect: Dialect,
    ctx: &mut RequestContext,
) -> Response {
    match translated {
        Ok((body, usage)) => {
            ctx.usage = Some(usage);
            ctx.observe_reply(&body);
            ctx.completed = true;
            json_response(StatusCode::OK, body)
        }
        Err(e) => fail(
            dialect,
            GatewayError::UpstreamInvalid {
                target,
                detail: e.to_string(),
            },
            ctx,
        ),
    }
}

/// Records `e` on the context and renders it in the client's dialect.
pub(super) fn fail(dialect: Dialect, e: GatewayError, ctx: &mut RequestContext) -> Response {
    ctx.fail(e.status().as_u16(), e.code(), true);
    error_response(dialect, &e)
}
