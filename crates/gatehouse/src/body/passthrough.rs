//! The passthrough stream handlers: upstream bytes reach the client unchanged; an SSE decoder on the side feeds a
//! usage observer. [`Passthrough`] reads OpenAI-style usage chunks, [`AnthropicNative`] Anthropic's
//! `message_start` / `message_delta` usage; everything else about relaying unchanged bytes is the same.

use bytes::Bytes;
use gatehouse_llm::anthropic::MessageStreamUsage;
use gatehouse_llm::usage::ResponsesStreamUsage;
use gatehouse_llm::{SseDecoder, SseEvent, SseLimits, StreamUsage, Usage};

use super::StreamHandler;
use crate::context::RequestContext;

/// Forwards an OpenAI-compatible SSE stream byte for byte while metering it.
pub type Passthrough = Observed<StreamUsage>;

/// Forwards an Anthropic event stream byte for byte to an Anthropic-dialect client while metering it.
pub type AnthropicNative = Observed<MessageStreamUsage>;

/// Forwards an OpenAI Responses API event stream byte for byte while metering it from `response.completed`.
pub type ResponsesPassthrough = Observed<ResponsesStreamUsage>;

/// Reads a stream's usage from its decoded events without changing them.
pub trait UsageObserver: Default + Send + Unpin + 'static {
    /// Looks at one event.
    fn observe(&mut self, ev: &SseEvent);
    /// The usage seen so far.
    fn usage(&self) -> Option<Usage>;
}

/// An SSE stream relayed unchanged, its usage read by `O`.
pub struct Observed<O> {
    decoder: SseDecoder,
    usage: O,
}

// === impl Observed ===

impl<O: UsageObserver> Observed<O> {
    /// A handler at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self {
            decoder: SseDecoder::new(SseLimits::default()),
            usage: O::default(),
        }
    }

    fn record(&self, ctx: &mut RequestContext) {
        if let Some(u) = self.usage.usage() {
            ctx.usage = Some(u);
        }
    }
}

impl<O: UsageObserver> Default for Observed<O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<O: UsageObserver> StreamHandler for Observed<O> {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.decoder.push(data).is_err() {
            // An oversized event cannot be observed, but the bytes still reach the client unchanged.
            self.decoder = SseDecoder::new(SseLimits::default());
        } else {
            while let Some(ev) = self.decoder.next_event() {
                self.usage.observe(&ev);
            }
            self.record(ctx);
        }
        data.clone()
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(ev) = self.decoder.finish() {
            self.usage.observe(&ev);
        }
        while let Some(ev) = self.decoder.next_event() {
            self.usage.observe(&ev);
        }
        self.record(ctx);
        ctx.completed = true;
        Bytes::new()
    }

    fn on_failure(&mut self, _code: &'static str, _ctx: &mut RequestContext) -> Option<Bytes> {
        // The bytes so far were the upstream's own and may end mid-event; inventing an event in the stream could
        // corrupt a cut frame, so the connection is aborted instead.
        None
    }
}

// === impl UsageObserver ===

impl UsageObserver for StreamUsage {
    fn observe(&mut self, ev: &SseEvent) {
        StreamUsage::observe(self, ev);
    }
    fn usage(&self) -> Option<Usage> {
        StreamUsage::usage(self)
    }
}

impl UsageObserver for MessageStreamUsage {
    fn observe(&mut self, ev: &SseEvent) {
        MessageStreamUsage::observe(self, ev);
    }
    fn usage(&self) -> Option<Usage> {
        MessageStreamUsage::usage(self)
    }
}

impl UsageObserver for ResponsesStreamUsage {
    fn observe(&mut self, ev: &SseEvent) {
        ResponsesStreamUsage::observe(self, ev);
    }
    fn usage(&self) -> Option<Usage> {
        ResponsesStreamUsage::usage(self)
    }
}
