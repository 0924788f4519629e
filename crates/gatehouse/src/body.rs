//! The response body relayed to the client: upstream frames forwarded as they arrive, observed on the way.
//!
//! [`MeteredBody`] owns the request's context. Each upstream frame is passed on unchanged and at once (no
//! buffering), fed to an SSE decoder to pick up the usage chunk, and resets the idle timer. When the body
//! ends, fails or is dropped because the client went away, the context is finished with what was seen:
//! dropping the upstream body also closes the upstream connection, which cancels the upstream request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use gatehouse_llm::{SseDecoder, SseLimits, StreamUsage};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::context::RequestContext;

/// Errors surfaced to hyper when a relayed body fails; hyper then aborts the client connection.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed upstream body with idle and total deadlines, usage observation and a context to finish.
pub struct MeteredBody {
    inner: Incoming,
    idle: Pin<Box<Sleep>>,
    idle_after: Duration,
    total: Pin<Box<Sleep>>,
    decoder: SseDecoder,
    usage: StreamUsage,
    ctx: RequestContext,
    done: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("upstream stream ended: {0}")]
struct StreamAborted(&'static str);

// === impl MeteredBody ===

impl MeteredBody {
    /// Wraps an upstream SSE body. `deadline` is when the whole exchange must be over.
    #[must_use]
    pub fn new(inner: Incoming, ctx: RequestContext, idle_after: Duration, deadline: Instant) -> Self {
        Self {
            inner,
            idle: Box::pin(tokio::time::sleep(idle_after)),
            idle_after,
            total: Box::pin(tokio::time::sleep_until(deadline)),
            decoder: SseDecoder::new(SseLimits::default()),
            usage: StreamUsage::new(),
            ctx,
            done: false,
        }
    }

    fn observe(&mut self, data: &Bytes) {
        if self.decoder.push(data).is_err() {
            // An oversized event cannot be observed, but the bytes still reach the client unchanged.
            self.decoder = SseDecoder::new(SseLimits::default());
            return;
        }
        while let Some(ev) = self.decoder.next_event() {
            self.usage.observe(&ev);
        }
        if let Some(u) = self.usage.usage() {
            self.ctx.usage = Some(u);
        }
    }

    fn abort(&mut self, code: &'static str) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        // Headers are already sent; the status stays, the code says what happened.
        self.ctx.fail(self.ctx.status, code, true);
        Poll::Ready(Some(Err(Box::new(StreamAborted(code)))))
    }
}

impl Body for MeteredBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.ctx.first_byte();
                    let data = data.clone();
                    this.observe(&data);
                }
                let next = Instant::now() + this.idle_after;
                this.idle.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(_))) => this.abort("upstream_stream_error"),
            Poll::Ready(None) => {
                this.done = true;
                if let Some(ev) = this.decoder.finish() {
                    this.usage.observe(&ev);
                    if let Some(u) = this.usage.usage() {
                        this.ctx.usage = Some(u);
                    }
                }
                this.ctx.completed = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.total.as_mut().poll(cx).is_ready() {
                    return this.abort("upstream_timeout");
                }
                if this.idle.as_mut().poll(cx).is_ready() {
                    return this.abort("upstream_idle_timeout");
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
