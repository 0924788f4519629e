//! `/v1/responses` on an Anthropic target: the Responses body is translated to `POST /v1/messages` by
//! `gatehouse_llm::responses` (with the stored conversation in front when `previous_response_id` is set), and the
//! reply — a message, an event stream or an error — is translated back to a Responses object, the typed event
//! stream, or OpenAI error JSON. Tools and items the target cannot run were dropped by the translator; they are
//! named in [`WARNING_HEADER`]. With `store` (the API's default) the finished conversation is kept under the
//! response id for a later `previous_response_id`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use gatehouse_llm::responses::{
    RequestOptions, ResponseContext, ResponseEcho, translate_error, translate_request, translate_response,
};
use http::{HeaderName, HeaderValue};
use tokio::time::Instant;

use super::super::{ClientRequest, Mode, Prepared, translated};
use super::store::Pending;
use crate::context::{Dialect, RequestContext};
use crate::error::GatewayError;

/// Response header naming the tools and input items a translated target could not run and did not receive
/// (comma-separated, e.g. `tool:web_search,item:web_search_call`): the documented hosted-tool rule.
pub(super) const WARNING_HEADER: &str = "x-gatehouse-warning";

/// What the relay needs to answer, meter and store a translated Responses request.
pub(in crate::proxy) struct Reply {
    stream: bool,
    /// The response id the client sees.
    id: String,
    created_at: u64,
    /// The name the client asked for.
    model: String,
    echo: ResponseEcho,
    /// Where the finished conversation goes, when the client asked for it to be stored.
    pending: Option<Pending>,
}

/// Translates the request (resolving `previous_response_id` from the store, scoped to the caller) and builds the
/// Anthropic call.
pub(in crate::proxy) async fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let (body, reply) = translate(req, ctx, extra).await?;
    let upstream = super::super::anthropic::messages_request(req, endpoint, ctx, body, reply.stream)?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::Responses(Box::new(reply)),
    })
}

/// The Anthropic Messages body for the Responses request (the stored conversation in front), with what the reply
/// needs; dropped tools and items are reported in `extra`. Shared by the Anthropic target and the Gemini/Bedrock
/// targets reached through the Messages chain.
pub(super) async fn translate(
    req: &ClientRequest<'_>,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(Vec<u8>, Reply), GatewayError> {
    let provider = &req.target.provider;
    let owner = super::store::owner(ctx);
    let history = super::store::history(req, &owner).await?;
    let translated = translate_request(
        req.bytes,
        &RequestOptions {
            upstream_model: req.upstream_model,
            rules: &req.target.rules,
            history: history.as_deref(),
        },
    )?;
    super::super::report_dropped(
        &translated.dropped,
        &translated.dropped_unknown,
        &provider.name,
        ctx,
        extra,
    );
    if !translated.warnings.is_empty() {
        let list = translated.warnings.join(",");
        tracing::info!(request_id = %ctx.id, target = %provider.name, dropped = %list, "tools or items the target cannot run were dropped");
        if let Ok(v) = HeaderValue::from_str(&list) {
            extra.push((HeaderName::from_static(WARNING_HEADER), v));
        }
    }
    let id = crate::response_store::new_response_id();
    let pending = if translated.store {
        Some(Pending::new(req, &id, owner, history)?)
    } else {
        None
    };
    let reply = Reply {
        stream: translated.stream,
        id,
        created_at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        model: req.asked.to_string(),
        echo: translated.echo,
        pending,
    };
    Ok((translated.body, reply))
}

/// Translates the reply back, meters it and stores the conversation when asked to.
pub(in crate::proxy) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    let dialect = Dialect::OpenAi;
    let read = translated::read(
        resp,
        reply.stream,
        translated::SSE,
        deadline,
        &target,
        dialect,
        &mut ctx,
    )
    .await;
    let (status, retry_after, bytes) = match read {
        Err(out) => return out,
        Ok(translated::Reply::Stream(resp)) => return super::stream::relay(resp, deadline, idle, reply, ctx),
        Ok(translated::Reply::Body {
            status,
            retry_after,
            bytes,
            ..
        }) => (status, retry_after, bytes),
    };
    if !status.is_success() {
        return translated::error(translate_error(status.as_u16(), &bytes), retry_after, &mut ctx);
    }
    let rc = ResponseContext {
        id: &reply.id,
        created_at: reply.created_at,
        model: &reply.model,
        echo: &reply.echo,
    };
    let result = match translate_response(&bytes, &rc) {
        Ok(t) => {
            if let Some(reason) = &t.unknown_stop_reason {
                tracing::warn!(request_id = %ctx.id, stop_reason = %reason, "unknown Anthropic stop_reason reported as `completed`");
            }
            // Stored before the answer goes out, so the client's next turn can always continue it.
            if let Some(p) = reply.pending {
                p.finish(t.output_items, &ctx.id).await;
            }
            Ok((t.body, t.usage))
        }
        Err(e) => Err(e),
    };
    translated::success(result, target, dialect, &mut ctx)
}
// === impl Reply ===

impl Reply {
    /// The translation context of a whole (non-streamed) answer.
    pub(super) fn context(&self) -> ResponseContext<'_> {
        ResponseContext {
            id: &self.id,
            created_at: self.created_at,
            model: &self.model,
            echo: &self.echo,
        }
    }

    /// Where the finished conversation goes, if the client asked for it to be stored.
    pub(super) fn take_pending(&mut self) -> Option<Pending> {
        self.pending.take()
    }

    /// The parts the stream translator needs, and where to store its result.
    pub(super) fn into_stream_parts(self) -> (gatehouse_llm::responses::StreamContext, Option<Pending>) {
        (
            gatehouse_llm::responses::StreamContext {
                id: self.id,
                created_at: self.created_at,
                model: self.model,
                echo: self.echo,
            },
            self.pending,
        )
    }
}
