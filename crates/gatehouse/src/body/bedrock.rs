//! The Bedrock stream handler: ConverseStream's binary event-stream frames are decoded (bounded, CRC-checked) and
//! translated into OpenAI chunks as they arrive. Every failure ends the client stream with an error frame.

use bytes::Bytes;
use gatehouse_llm::bedrock::eventstream::FrameDecoder;
use gatehouse_llm::bedrock::{ResponseContext, StreamTranslator};

use super::StreamHandler;
use crate::context::RequestContext;

/// Translates a ConverseStream (`application/vnd.amazon.eventstream`) into an OpenAI chunk stream.
pub struct BedrockToOpenAi {
    decoder: FrameDecoder,
    translator: StreamTranslator,
    out: Vec<u8>,
}

// === impl BedrockToOpenAi ===

impl BedrockToOpenAi {
    /// A handler at the start of a stream.
    #[must_use]
    pub fn new(ctx: ResponseContext) -> Self {
        Self {
            decoder: FrameDecoder::new(),
            translator: StreamTranslator::new(ctx),
            out: Vec::with_capacity(1024),
        }
    }

    fn flush(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(u) = self.translator.usage() {
            ctx.usage = Some(u);
        }
        if self.translator.ended() {
            match self.translator.errored() {
                Some(code) => ctx.fail(ctx.status, code, true),
                None => ctx.completed = true,
            }
            if let Some(reason) = self.translator.unknown_stop_reason() {
                tracing::warn!(request_id = %ctx.id, stop_reason = reason, "unknown Bedrock stopReason reported as `stop`");
            }
        }
        Bytes::from(std::mem::take(&mut self.out))
    }
}

impl StreamHandler for BedrockToOpenAi {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.translator.ended() {
            return Bytes::new();
        }
        self.decoder.push(data);
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.translator.on_frame(&frame, &mut self.out),
                Ok(None) => break,
                Err(e) => {
                    self.translator
                        .fail("upstream_invalid_stream", &e.to_string(), &mut self.out);
                    break;
                }
            }
            if self.translator.ended() {
                break;
            }
        }
        self.flush(ctx)
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        self.translator.finish(&mut self.out);
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
