//! The OpenAI → Anthropic stream handler: each upstream `chat.completion.chunk` is translated into Anthropic
//! events (`event:` lines and the full grammar) as it arrives, for an Anthropic-dialect client.
//!
//! The client stream is ours, so every failure — an OpenAI error object, a cut connection, an idle or total
//! timeout, an event over the size limit — ends it with an Anthropic `event: error`, never a silent truncation.

use bytes::Bytes;
use gatehouse_llm::anthropic_ingress::{MessageStreamContext, MessageStreamTranslator};
use gatehouse_llm::{SseDecoder, SseLimits};

use super::StreamHandler;
use crate::context::RequestContext;

/// Translates an OpenAI chunk stream into an Anthropic Messages event stream.
pub struct OpenAiToAnthropic {
    decoder: SseDecoder,
    translator: MessageStreamTranslator,
    out: Vec<u8>,
}

// === impl OpenAiToAnthropic ===

impl OpenAiToAnthropic {
    /// A handler at the start of a stream.
    #[must_use]
    pub fn new(ctx: MessageStreamContext) -> Self {
        Self {
            decoder: SseDecoder::new(SseLimits::default()),
            translator: MessageStreamTranslator::new(ctx),
            out: Vec::with_capacity(1024),
        }
    }

    /// Hands the translated bytes over and refreshes what the context knows.
    fn flush(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(u) = self.translator.usage() {
            ctx.usage = Some(u);
        }
        if self.translator.ended() {
            match self.translator.errored() {
                Some(code) => ctx.fail(ctx.status, code, true),
                None => ctx.completed = true,
            }
        }
        Bytes::from(std::mem::take(&mut self.out))
    }
}

impl StreamHandler for OpenAiToAnthropic {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.translator.ended() {
            return Bytes::new();
        }
        if self.decoder.push(data).is_err() {
            self.translator.fail(
                "upstream_invalid_stream",
                "the upstream stream sent an event larger than the gateway accepts",
                &mut self.out,
            );
            return self.flush(ctx);
        }
        while let Some(ev) = self.decoder.next_event() {
            self.translator.on_event(&ev, &mut self.out);
        }
        self.flush(ctx)
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        if !self.translator.ended() {
            if let Some(ev) = self.decoder.finish() {
                self.translator.on_event(&ev, &mut self.out);
            }
            self.translator.finish(&mut self.out);
        }
        self.flush(ctx)
    }

    fn on_failure(&mut self, code: &'static str, ctx: &mut RequestContext) -> Option<Bytes> {
        let message = match code {
            "upstream_idle_timeout" => "the upstream stream stalled longer than the idle timeout",
            "upstream_timeout" => "the upstream exchange exceeded the total timeout",
            _ => "the upstream connection failed mid-stream",
        };
        self.translator.fail(code, message, &mut self.out);
        if let Some(u) = self.translator.usage() {
            ctx.usage = Some(u);
        }
        Some(Bytes::from(std::mem::take(&mut self.out)))
    }
}
