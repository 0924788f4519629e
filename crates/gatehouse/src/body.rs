//! The response body relayed to the client: upstream frames handled as they arrive, never buffered to the end.
//!
//! [`MeteredBody`] owns the request's context and the stream deadlines (idle between chunks, total). What happens
//! to each upstream chunk is a [`StreamHandler`]'s business: [`Passthrough`] forwards the bytes unchanged and only
//! observes usage; [`Translated`] translates Anthropic or Gemini events into OpenAI chunks. When the body ends, fails
//! or is dropped because the client went away, the context is finished with what was seen: dropping the upstream
//! body also closes the upstream connection, which cancels the upstream request.

mod bedrock;
mod passthrough;
mod translated;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

pub use bedrock::BedrockToOpenAi;
pub use passthrough::Passthrough;
pub use translated::{AnthropicToOpenAi, GeminiToOpenAi, Translated};

use crate::context::RequestContext;

/// Errors surfaced to hyper when a relayed body fails; hyper then aborts the client connection.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a relayed stream does with upstream bytes. Implementations keep the context's usage up to date so that a
/// client disconnect still meters what was used.
pub trait StreamHandler: Send + Unpin + 'static {
    /// One upstream chunk in; the bytes the client receives out (empty: nothing to send yet).
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes;
    /// The upstream body ended; the last bytes for the client. Marks the context complete or failed.
    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes;
    /// The stream failed (`code`: idle or total timeout, upstream read error). `Some(bytes)` ends the client
    /// stream cleanly with them (a dialect error event); `None` aborts the client connection, the only honest
    /// signal left when the dialect has no error event to send.
    fn on_failure(&mut self, code: &'static str, ctx: &mut RequestContext) -> Option<Bytes>;
}

/// A streamed upstream body with idle and total deadlines, a handler and a context to finish.
pub struct MeteredBody<H> {
    inner: Incoming,
    idle: Pin<Box<Sleep>>,
    idle_after: Duration,
    total: Pin<Box<Sleep>>,
    handler: H,
    ctx: RequestContext,
    done: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("upstream stream ended: {0}")]
struct StreamAborted(&'static str);

// === impl MeteredBody ===

impl<H: StreamHandler> MeteredBody<H> {
    /// Wraps an upstream SSE body. `deadline` is when the whole exchange must be over.
    #[must_use]
    pub fn new(inner: Incoming, handler: H, ctx: RequestContext, idle_after: Duration, deadline: Instant) -> Self {
        Self {
            inner,
            idle: Box::pin(tokio::time::sleep(idle_after)),
            idle_after,
            total: Box::pin(tokio::time::sleep_until(deadline)),
            handler,
            ctx,
            done: false,
        }
    }

    fn fail(&mut self, code: &'static str) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        // Headers are already sent; the status stays, the code says what happened.
        self.ctx.fail(self.ctx.status, code, true);
        match self.handler.on_failure(code, &mut self.ctx) {
            Some(bytes) if !bytes.is_empty() => Poll::Ready(Some(Ok(Frame::data(bytes)))),
            Some(_) => Poll::Ready(None),
            None => Poll::Ready(Some(Err(Box::new(StreamAborted(code))))),
        }
    }
}

impl<H: StreamHandler> Body for MeteredBody<H> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let next = Instant::now() + this.idle_after;
                    this.idle.as_mut().reset(next);
                    let Some(data) = frame.data_ref() else {
                        continue; // trailers: nothing for the client
                    };
                    this.ctx.first_byte();
                    let out = this.handler.on_data(data, &mut this.ctx);
                    if out.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(out))));
                }
                Poll::Ready(Some(Err(_))) => return this.fail("upstream_stream_error"),
                Poll::Ready(None) => {
                    this.done = true;
                    let out = this.handler.on_end(&mut this.ctx);
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(out))));
                }
                Poll::Pending => {
                    if this.total.as_mut().poll(cx).is_ready() {
                        return this.fail("upstream_timeout");
                    }
                    if this.idle.as_mut().poll(cx).is_ready() {
                        return this.fail("upstream_idle_timeout");
                    }
                    return Poll::Pending;
                }
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
