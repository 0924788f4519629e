//! `/v1/responses` on a Gemini or Bedrock target, by chaining translators that already exist rather than a new
//! one per provider: the Responses body becomes an Anthropic Messages body (`responses::translate_request`, the
//! Anthropic target's own translation), which takes the `/v1/messages` chain to the provider
//! ([`chained`](super::super::chained): Messages → OpenAI chat → the provider's native API). The provider path
//! answers in the OpenAI shape and meters the exchange; its answer is turned into Anthropic's shape
//! (`anthropic_ingress`) and then into a Responses object or the typed Responses event stream
//! (`responses::translate_response`, [`Chain`] of the two stream translators). Errors are already OpenAI JSON
//! and go out as they are. A finished turn is stored like the Anthropic target's.

use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::anthropic_ingress::{self, MessageContext, MessageStreamContext, MessageStreamTranslator};
use gatehouse_llm::responses::{ResponseStreamTranslator, translate_response};
use gatehouse_llm::{Chain, RequestBody};
use http::{HeaderName, HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tokio::time::Instant;

use super::super::{
    ClientRequest, Mode, Prepared, SSE, bedrock, chained, gemini, has_content_type, json_response, messages,
};
use super::anthropic::Reply;
use crate::body::Translated;
use crate::context::{Dialect, RequestContext, Route};
use crate::error::GatewayError;
use crate::respond::error_response;

/// Most bytes of the provider path's OpenAI-shaped JSON answer read back for re-translation (already in memory).
const MAX_BODY: usize = 64 << 20;

/// What the relay needs: the provider path's own mode, and the two replies the answer is reshaped with.
pub(in crate::proxy) struct Chained {
    provider: Mode,
    messages: messages::Reply,
    responses: Reply,
}

/// Translates the Responses request to Anthropic Messages and prepares it for the Gemini or Bedrock target through
/// the Messages chain.
pub(in crate::proxy) async fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let (body, responses) = super::anthropic::translate(req, ctx, extra).await?;
    let body = Bytes::from(body);
    let parsed = RequestBody::parse(&body)?;
    let inner = ClientRequest {
        route: Route::Messages,
        bytes: &body,
        parsed: &parsed,
        ..*req
    };
    let (p, messages) = chained::prepare_chat(&inner, endpoint, ctx, extra)?;
    Ok(Prepared {
        req: p.req,
        mode: Mode::ResponsesChained(Box::new(Chained {
            provider: p.mode,
            messages,
            responses,
        })),
    })
}

/// Relays through the provider path (which meters), then reshapes its OpenAI answer into the Responses API's.
pub(in crate::proxy) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    chained: Chained,
    mut ctx: RequestContext,
) -> Response {
    let request_id = ctx.id.clone();
    let name = target.clone();
    let resp = match chained.provider {
        Mode::Gemini(r) => gemini::relay(resp, deadline, idle, target, r, ctx).await,
        Mode::Bedrock(r) => bedrock::relay(resp, deadline, idle, target, r, ctx).await,
        _ => {
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: "no chained translation for this provider".into(),
            };
            ctx.fail(e.status().as_u16(), e.code(), false);
            return error_response(Dialect::OpenAi, &e);
        }
    };
    to_responses(resp, chained.messages, chained.responses, name, request_id).await
}

/// The provider path's OpenAI answer as the Responses API's: a stream re-translated as it arrives, a body
/// translated whole, an error (already OpenAI JSON) unchanged.
async fn to_responses(
    resp: Response,
    messages: messages::Reply,
    mut reply: Reply,
    target: String,
    request_id: String,
) -> Response {
    let status = resp.status();
    if !status.is_success() {
        return resp;
    }
    if has_content_type(resp.headers(), SSE) {
        let (sctx, pending) = reply.into_stream_parts();
        let first = MessageStreamTranslator::new(MessageStreamContext {
            model: messages.model,
            input_tokens_estimate: messages.input_tokens_estimate,
            message_id: messages.message_id,
        });
        let translated = Translated::with(Chain::new(first, ResponseStreamTranslator::new(sctx)));
        let on_done = pending.map(
            |p| -> chained::OnDone<Chain<MessageStreamTranslator, ResponseStreamTranslator>> {
                Box::new(move |t| p.finish_from_stream(t.second().output_items(), &request_id))
            },
        );
        return chained::reshape(resp, translated, on_done);
    }
    let kept: Vec<(header::HeaderName, HeaderValue)> = resp
        .headers()
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("x-gatehouse-") || *n == "x-request-id")
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let bytes = match http_body_util::Limited::new(resp.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let translated = anthropic_ingress::translate_response(&bytes, &MessageContext { model: &messages.model })
        .and_then(|m| translate_response(&m.body, &reply.context()));
    let mut out = match translated {
        Ok(t) => {
            // Stored before the answer goes out, so the client's next turn can always continue it.
            if let Some(p) = reply.take_pending() {
                p.finish(t.output_items, &request_id).await;
            }
            json_response(StatusCode::OK, t.body)
        }
        Err(e) => {
            tracing::warn!(request_id = %request_id, error = %e, "the provider path's answer could not be translated to a Responses object");
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: "the upstream answer could not be translated".into(),
            };
            error_response(Dialect::OpenAi, &e)
        }
    };
    for (n, v) in kept {
        out.headers_mut().insert(n, v);
    }
    out
}
