//! The response body relayed to the client: upstream frames handled as they arrive, never buffered to the end.
//!
//! [`MeteredBody`] owns the request's context and the stream deadlines (idle between chunks, total). What happens
//! to each upstream chunk is a [`StreamHandler`]'s business: [`Passthrough`] forwards the bytes unchanged and only
//! observes usage; [`Translated`] translates Anthropic or Gemini events into OpenAI chunks, [`BedrockToOpenAi`]
//! Bedrock's binary event stream; [`AnthropicNative`] relays Anthropic events to an Anthropic-dialect client and
//! meters them; [`OpenAiToAnthropic`] (a [`Translated`] too) turns OpenAI chunks into Anthropic events. When the body ends, fails
//! or is dropped because the client went away, the context is finished with what was seen: dropping the upstream
//! body also closes the upstream connection, which cancels the upstream request.

mod bedrock;
mod passthrough;
mod translated;
mod upstream;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

pub use bedrock::BedrockToOpenAi;
pub use passthrough::{AnthropicNative, Observed, Passthrough, ResponsesPassthrough, UsageObserver};
pub use translated::{AnthropicToOpenAi, GeminiToOpenAi, OpenAiToAnthropic, Translated};
pub use upstream::{FirstEvent, Upstream};

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
    inner: Upstream,
    idle: Pin<Box<Sleep>>,
    idle_after: Duration,
    total: Pin<Box<Sleep>>,
    handler: H,
    ctx: RequestContext,
    done: bool,
    /// What the upstream did after the frames last sent, to act on at the next poll.
    deferred: Option<Deferred>,
}

/// An upstream end or failure seen while coalescing frames, handled after those frames are sent.
#[derive(Debug, Clone, Copy)]
enum Deferred {
    End,
    Failed,
}

/// Most bytes gathered into one client frame from upstream frames that are already available.
const COALESCE_MAX_BYTES: usize = 64 * 1024;

/// Client bytes gathered during one poll: the first chunk is kept as is (no copy), later ones are appended.
#[derive(Default)]
struct Coalesced {
    first: Bytes,
    rest: Option<bytes::BytesMut>,
}

#[derive(Debug, thiserror::Error)]
#[error("upstream stream ended: {0}")]
struct StreamAborted(&'static str);

// === impl MeteredBody ===

impl<H: StreamHandler> MeteredBody<H> {
    /// Wraps an upstream SSE body. `deadline` is when the whole exchange must be over.
    #[must_use]
    pub fn new(inner: Upstream, handler: H, ctx: RequestContext, idle_after: Duration, deadline: Instant) -> Self {
        Self {
            inner,
            idle: Box::pin(tokio::time::sleep(idle_after)),
            idle_after,
            total: Box::pin(tokio::time::sleep_until(deadline)),
            handler,
            ctx,
            done: false,
            deferred: None,
        }
    }

    fn end(&mut self) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        let out = self.handler.on_end(&mut self.ctx);
        if out.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Ok(Frame::data(out))))
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

// === impl Coalesced ===

impl Coalesced {
    fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.first.is_empty() {
            self.first = bytes;
            return;
        }
        let rest = self.rest.get_or_insert_with(|| {
            let mut buf = bytes::BytesMut::with_capacity(self.first.len() + bytes.len() * 4);
            buf.extend_from_slice(&self.first);
            buf
        });
        rest.extend_from_slice(&bytes);
    }

    fn len(&self) -> usize {
        self.rest.as_ref().map_or(self.first.len(), bytes::BytesMut::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn into_bytes(self) -> Bytes {
        match self.rest {
            Some(buf) => buf.freeze(),
            None => self.first,
        }
    }
}

impl<H: StreamHandler> Body for MeteredBody<H> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.deferred.take() {
            Some(Deferred::End) => return this.end(),
            Some(Deferred::Failed) => return this.fail("upstream_stream_error"),
            None => {}
        }
        // Every upstream frame that is already here is handled now and sent as one client frame: nothing waits
        // for more data (a token still reaches the client as soon as it arrives), but a burst of frames that
        // arrived together costs one write instead of one per frame.
        let mut out = Coalesced::default();
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let next = Instant::now() + this.idle_after;
                    this.idle.as_mut().reset(next);
                    let Some(data) = frame.data_ref() else {
                        continue; // trailers: nothing for the client
                    };
                    this.ctx.first_byte();
                    let sent = this.handler.on_data(data, &mut this.ctx);
                    this.ctx.observe_stream(&sent);
                    out.push(sent);
                    if out.len() >= COALESCE_MAX_BYTES {
                        break;
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    if out.is_empty() {
                        return this.fail("upstream_stream_error");
                    }
                    this.deferred = Some(Deferred::Failed);
                    break;
                }
                Poll::Ready(None) => {
                    if out.is_empty() {
                        return this.end();
                    }
                    this.deferred = Some(Deferred::End);
                    break;
                }
                Poll::Pending => {
                    if !out.is_empty() {
                        break;
                    }
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
        Poll::Ready(Some(Ok(Frame::data(out.into_bytes()))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
