//! The passthrough stream handler: upstream bytes reach the client unchanged; an SSE decoder on the side picks up
//! the usage chunk.

use bytes::Bytes;
use gatehouse_llm::{SseDecoder, SseLimits, StreamUsage};

use super::StreamHandler;
use crate::context::RequestContext;

/// Forwards an OpenAI-compatible SSE stream byte for byte while metering it.
pub struct Passthrough {
    decoder: SseDecoder,
    usage: StreamUsage,
}

// === impl Passthrough ===

impl Passthrough {
    /// A handler at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self {
            decoder: SseDecoder::new(SseLimits::default()),
            usage: StreamUsage::new(),
        }
    }
}

impl Default for Passthrough {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamHandler for Passthrough {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.decoder.push(data).is_err() {
            // An oversized event cannot be observed, but the bytes still reach the client unchanged.
            self.decoder = SseDecoder::new(SseLimits::default());
        } else {
            while let Some(ev) = self.decoder.next_event() {
                self.usage.observe(&ev);
            }
            if let Some(u) = self.usage.usage() {
                ctx.usage = Some(u);
            }
        }
        data.clone()
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(ev) = self.decoder.finish() {
            self.usage.observe(&ev);
            if let Some(u) = self.usage.usage() {
                ctx.usage = Some(u);
            }
        }
        ctx.completed = true;
        Bytes::new()
    }

    fn on_failure(&mut self, _code: &'static str, _ctx: &mut RequestContext) -> Option<Bytes> {
        // The bytes so far were the upstream's own; inventing an event in its stream could corrupt a frame that
        // was cut mid-line, so the connection is aborted instead.
        None
    }
}
