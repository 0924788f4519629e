//! The streamed half of `/v1/responses` on an Anthropic target: Anthropic events in, the typed Responses event
//! stream out (`gatehouse_llm::responses::ResponseStreamTranslator`), driven by the same translating relay as the
//! chat translators; when the stream completes the conversation is stored (if the client asked for it).

use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::responses::ResponseStreamTranslator;
use tokio::time::Instant;

use super::anthropic::Reply;
use super::store::Pending;
use crate::body::{StreamHandler, Translated};
use crate::context::RequestContext;

/// Anthropic events → Responses events; stores the finished conversation.
struct Storing {
    inner: Translated<ResponseStreamTranslator>,
    pending: Option<Pending>,
}

/// The client's event stream for an Anthropic stream.
pub(super) fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    reply: Reply,
    ctx: RequestContext,
) -> Response {
    let (sctx, pending) = reply.into_stream_parts();
    let handler = Storing {
        inner: Translated::with(ResponseStreamTranslator::new(sctx)),
        pending,
    };
    super::super::stream_response(resp, handler, ctx, idle, deadline)
}

// === impl Storing ===

impl Storing {
    /// Once the client stream ended without an error, stores what it produced (once).
    fn store_if_done(&mut self, ctx: &RequestContext) {
        if self.inner.ended()
            && self.inner.translator().errored().is_none()
            && let Some(p) = self.pending.take()
        {
            p.finish_from_stream(self.inner.translator().output_items(), &ctx.id);
        }
    }
}

impl StreamHandler for Storing {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        let out = self.inner.on_data(data, ctx);
        self.store_if_done(ctx);
        out
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        let out = self.inner.on_end(ctx);
        self.store_if_done(ctx);
        out
    }

    fn on_failure(&mut self, code: &'static str, ctx: &mut RequestContext) -> Option<Bytes> {
        // A failed stream is not stored: the client saw `response.failed` / `error`, not a response to continue.
        self.pending = None;
        self.inner.on_failure(code, ctx)
    }
}
