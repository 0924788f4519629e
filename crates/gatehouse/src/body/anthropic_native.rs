//! The native Anthropic stream handler: an Anthropic event stream relayed byte for byte to an Anthropic-dialect
//! client, its usage read on the side (`message_start`, then cumulative `message_delta`s).

use bytes::Bytes;
use gatehouse_llm::anthropic::MessageStreamUsage;
use gatehouse_llm::{SseDecoder, SseLimits};

use super::StreamHandler;
use crate::context::RequestContext;

/// Forwards an Anthropic SSE stream unchanged while metering it.
pub struct AnthropicNative {
    decoder: SseDecoder,
    usage: MessageStreamUsage,
}

// === impl AnthropicNative ===

impl AnthropicNative {
    /// A handler at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self {
            decoder: SseDecoder::new(SseLimits::default()),
            usage: MessageStreamUsage::new(),
        }
    }

    fn drain(&mut self, ctx: &mut RequestContext) {
        while let Some(ev) = self.decoder.next_event() {
            self.usage.observe(&ev);
        }
        if let Some(u) = self.usage.usage() {
            ctx.usage = Some(u);
        }
    }
}

impl Default for AnthropicNative {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamHandler for AnthropicNative {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.decoder.push(data).is_err() {
            // An oversized event cannot be observed, but the bytes still reach the client unchanged.
            self.decoder = SseDecoder::new(SseLimits::default());
        } else {
            self.drain(ctx);
        }
        data.clone()
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(ev) = self.decoder.finish() {
            self.usage.observe(&ev);
        }
        self.drain(ctx);
        ctx.completed = true;
        Bytes::new()
    }

    fn on_failure(&mut self, _code: &'static str, _ctx: &mut RequestContext) -> Option<Bytes> {
        // As on the OpenAI passthrough path: the bytes so far are the upstream's and may end mid-event, so the
        // connection is aborted rather than an event appended to a possibly cut frame.
        None
    }
}
