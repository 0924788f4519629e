//! Anthropic in, OpenAI-style out: a `/v1/messages` client (the Anthropic SDK, Claude Code) served by a vLLM pool
//! or an OpenAI-compatible host. The request is translated to OpenAI chat completions (in `gatehouse-llm`), sent
//! with the provider's bearer key, and the reply — JSON, event stream or error — is translated back into
//! Anthropic's shape with its full event grammar. `count_tokens` has no OpenAI-style equivalent and is answered
//! here with an estimate.

use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::anthropic_ingress::{
    MessageContext, MessageStreamContext, estimate_input_tokens, translate_error, translate_request, translate_response,
};
use http::{HeaderName, HeaderValue, StatusCode, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::{
    ClientRequest, DROPPED_HEADER, Mode, Prepared, collect_upstream, credential, is_event_stream, json_response,
};
use crate::body::OpenAiToAnthropic;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;
use crate::respond::anthropic_error;

/// Response header saying that a `count_tokens` answer is an estimate, not the provider's count.
pub const TOKEN_COUNT_HEADER: &str = "x-gatehouse-token-count";

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    /// The client asked for a stream.
    stream: bool,
    /// Reported as the message's `model`: the name the client asked for.
    model: String,
    /// Prompt tokens estimated locally, for `message_start` (the upstream reports usage only at the end).
    input_tokens_estimate: u64,
    /// `msg_…` id for the streamed message.
    message_id: String,
}

/// Translates the request and builds the upstream chat-completions call.
pub(super) fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    let translated = translate_request(req.bytes, &req.target.upstream_model)?;
    if !translated.dropped.is_empty() || !translated.dropped_unknown.is_empty() {
        let names: Vec<&str> = translated
            .dropped
            .iter()
            .copied()
            .chain(translated.dropped_unknown.iter().map(String::as_str))
            .collect();
        let list = names.join(",");
        tracing::info!(request_id = %ctx.id, target = %provider.name, dropped = %list, "parameters not sent to the target");
        if let Ok(v) = HeaderValue::from_str(&list) {
            extra.push((HeaderName::from_static(DROPPED_HEADER), v));
        }
    }
    let uri = super::passthrough::upstream_uri(provider, endpoint, Route::ChatCompletions, &req.target.upstream_model);
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if translated.stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .header(crate::request_id::HEADER, ctx.id.as_str());
    let (name, prefix) = super::passthrough::auth_header(provider.kind);
    if let Some(v) = credential(provider, req.model, prefix)? {
        // The client's Authorization / x-api-key are never copied; only the provider's credential is sent.
        builder = builder.header(name, v);
    }
    let upstream =
        builder
            .body(Full::new(Bytes::from(translated.body)))
            .map_err(|e| GatewayError::UpstreamInvalid {
                target: provider.name.clone(),
                detail: format!("cannot build the upstream request: {e}"),
            })?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::Messages(Reply {
            stream: translated.stream,
            model: req.asked.to_string(),
            input_tokens_estimate: translated.input_tokens_estimate,
            message_id: message_id(&ctx.id),
        }),
    })
}

/// `POST /v1/messages/count_tokens` for a target without a token-counting API: a local estimate, marked so.
pub(super) fn count_tokens(req: &ClientRequest<'_>) -> Result<Response, GatewayError> {
    let n = estimate_input_tokens(req.bytes)?;
    let mut out = json_response(StatusCode::OK, format!("{{\"input_tokens\":{n}}}"));
    out.headers_mut().insert(
        HeaderName::from_static(TOKEN_COUNT_HEADER),
        HeaderValue::from_static("estimate"),
    );
    Ok(out)
}

/// A message id derived from the request id, restricted to characters Anthropic ids use.
fn message_id(request_id: &str) -> String {
    let clean: String = request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect();
    format!("msg_{clean}")
}

/// Translates the reply back: the stream incrementally, a completion whole, an error into Anthropic error JSON.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    let status = resp.status();
    if status.is_success() {
        if is_event_stream(&resp) != reply.stream {
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: if reply.stream {
                    "expected an event stream".into()
                } else {
                    "expected a JSON completion, got an event stream".into()
                },
            };
            ctx.fail(e.status().as_u16(), e.code(), true);
            return anthropic_error(&e);
        }
        if reply.stream {
            let handler = OpenAiToAnthropic::new(MessageStreamContext {
                model: reply.model,
                input_tokens_estimate: reply.input_tokens_estimate,
                message_id: reply.message_id,
            });
            return super::stream_response(resp, handler, ctx, idle, deadline);
        }
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let bytes = match collect_upstream(resp.into_body(), deadline, &target).await {
        Ok(b) => b,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), true);
            return anthropic_error(&e);
        }
    };
    if !status.is_success() {
        let te = translate_error(status.as_u16(), &bytes);
        ctx.fail(te.status, te.code, true);
        let out_status = StatusCode::from_u16(te.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut out = json_response(out_status, te.body);
        if let (Some(v), 429 | 503) = (retry_after, status.as_u16()) {
            out.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return out;
    }
    match translate_response(&bytes, &MessageContext { model: &reply.model }) {
        Ok(t) => {
            if t.invalid_tool_arguments > 0 {
                tracing::warn!(request_id = %ctx.id, target = %target, count = t.invalid_tool_arguments, "tool call arguments from the upstream were not a JSON object; sent as {{}}");
            }
            ctx.usage = Some(t.usage);
            ctx.completed = true;
            json_response(StatusCode::OK, t.body)
        }
        Err(e) => {
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: e.to_string(),
            };
            ctx.fail(e.status().as_u16(), e.code(), true);
            anthropic_error(&e)
        }
    }
}
