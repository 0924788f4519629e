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

use super::translated;
use super::{ClientRequest, Mode, Prepared, credential, json_response};
use crate::body::OpenAiToAnthropic;
use crate::context::Dialect;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;

/// Response header saying that a `count_tokens` answer is an estimate, not the provider's count.
pub const TOKEN_COUNT_HEADER: &str = "x-gatehouse-token-count";

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    /// The client asked for a stream.
    pub(super) stream: bool,
    /// Reported as the message's `model`: the name the client asked for.
    pub(super) model: String,
    /// Prompt tokens estimated locally, for `message_start` (the upstream reports usage only at the end).
    pub(super) input_tokens_estimate: u64,
    /// `msg_…` id for the streamed message.
    pub(super) message_id: String,
}

/// Translates the Anthropic body into an OpenAI chat body (reporting what was dropped) and the facts the reply
/// needs; shared by the direct path and the one chained through Gemini or Bedrock.
pub(super) fn translate(
    req: &ClientRequest<'_>,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(Vec<u8>, Reply), GatewayError> {
    let translated = translate_request(req.bytes, req.upstream_model)?;
    super::report_dropped(
        &translated.dropped,
        &translated.dropped_unknown,
        &req.target.provider.name,
        ctx,
        extra,
    );
    let reply = Reply {
        stream: translated.stream,
        model: req.asked.to_string(),
        input_tokens_estimate: translated.input_tokens_estimate,
        message_id: message_id(&ctx.id),
    };
    Ok((translated.body, reply))
}

/// Translates the request and builds the upstream chat-completions call.
pub(super) fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    let (body, reply) = translate(req, ctx, extra)?;
    let uri = super::passthrough::upstream_uri(provider, endpoint, Route::ChatCompletions, req.upstream_model);
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if reply.stream {
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
    let upstream = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: format!("cannot build the upstream request: {e}"),
        })?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::Messages(reply),
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
    let dialect = Dialect::Anthropic;
    let (status, retry_after, bytes) = match translated::read(
        resp,
        reply.stream,
        translated::SSE,
        deadline,
        &target,
        dialect,
        &mut ctx,
    )
    .await
    {
        Err(out) => return out,
        Ok(translated::Reply::Stream(resp)) => {
            let handler = OpenAiToAnthropic::new(MessageStreamContext {
                model: reply.model,
                input_tokens_estimate: reply.input_tokens_estimate,
                message_id: reply.message_id,
            });
            return super::stream_response(resp, handler, ctx, idle, deadline);
        }
        Ok(translated::Reply::Body {
            status,
            retry_after,
            bytes,
            ..
        }) => (status, retry_after, bytes),
    };
    if !status.is_success() {
        let te = translate_error(status.as_u16(), &bytes);
        return translated::error(te, retry_after, &mut ctx);
    }
    let result = translate_response(&bytes, &MessageContext { model: &reply.model }).map(|t| {
        if t.invalid_tool_arguments > 0 {
            tracing::warn!(request_id = %ctx.id, target = %target, count = t.invalid_tool_arguments, "tool call arguments from the upstream were not a JSON object; sent as {{}}");
        }
        (t.body, t.usage)
    });
    translated::success(result, target, dialect, &mut ctx)
}
