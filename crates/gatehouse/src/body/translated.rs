//! The translating stream handler: each upstream event (Anthropic Messages, Gemini; OpenAI chunks for an
//! Anthropic-dialect client) is translated into the client's dialect as it arrives, by whichever
//! [`StreamTranslate`] the provider kind and route use.
//!
//! Unlike passthrough, the client stream here is ours, so every failure (an upstream error event, a cut
//! connection, an idle or total timeout, an event over the size limit) ends it with an OpenAI-style error frame
//! rather than a silent truncation. Usage is tracked whether or not the client asked for it.

use bytes::Bytes;
use gatehouse_llm::{SseDecoder, SseLimits, StreamTranslate, anthropic, anthropic_ingress, gemini};

use super::StreamHandler;
use crate::context::RequestContext;

/// Translates an upstream SSE stream into an OpenAI `chat.completion.chunk` stream.
pub struct Translated<T> {
    decoder: SseDecoder,
    translator: T,
    out: Vec<u8>,
}

/// Anthropic Messages events → OpenAI chunks.
pub type AnthropicToOpenAi = Translated<anthropic::StreamTranslator>;
/// Gemini `streamGenerateContent?alt=sse` events → OpenAI chunks.
pub type GeminiToOpenAi = Translated<gemini::StreamTranslator>;
/// OpenAI chunks → Anthropic Messages events, for an Anthropic-dialect client of an OpenAI-style target.
pub type OpenAiToAnthropic = Translated<anthropic_ingress::MessageStreamTranslator>;

// === impl Translated ===

impl AnthropicToOpenAi {
    /// A handler at the start of an Anthropic stream.
    #[must_use]
    pub fn new(ctx: anthropic::StreamContext) -> Self {
        Self::with(anthropic::StreamTranslator::new(ctx))
    }
}

impl OpenAiToAnthropic {
    /// A handler at the start of an OpenAI stream answered to an Anthropic-dialect client.
    #[must_use]
    pub fn new(ctx: anthropic_ingress::MessageStreamContext) -> Self {
        Self::with(anthropic_ingress::MessageStreamTranslator::new(ctx))
    }
}

impl GeminiToOpenAi {
    /// A handler at the start of a Gemini stream.
    #[must_use]
    pub fn new(ctx: gemini::ResponseContext) -> Self {
        Self::with(gemini::StreamTranslator::new(ctx))
    }
}

impl<T: StreamTranslate> Translated<T> {
    /// A handler around `translator`.
    #[must_use]
    pub fn with(translator: T) -> Self {
        Self {
            decoder: SseDecoder::new(SseLimits::default()),
            translator,
            out: Vec::with_capacity(1024),
        }
    }

    /// Hands the translated bytes over and refreshes what the context knows.
    fn flush(&mut self, ctx: &mut RequestContext) -> Bytes {
        if let Some(u) = self.translator.usage() {
            ctx.usage = Some(u);
        }
        if self.translator.ended() {
            self.settle(ctx);
        }
        Bytes::from(std::mem::take(&mut self.out))
    }

    /// Records how the client stream ended (once it has).
    fn settle(&mut self, ctx: &mut RequestContext) {
        match self.translator.errored() {
            Some(code) => ctx.fail(ctx.status, code, true),
            None => ctx.completed = true,
        }
        if let Some(reason) = self.translator.unknown_stop_reason() {
            tracing::warn!(request_id = %ctx.id, stop_reason = reason, "unknown upstream stop reason reported as `stop`");
        }
    }
}

impl<T: StreamTranslate> Translated<T> {
    /// Translates the events completed by `data` (nothing once the client stream has ended); an event over the
    /// size limit ends the client stream with an error.
    pub fn feed(&mut self, data: &[u8]) {
        if self.translator.ended() {
            return;
        }
        // Events the chunk completed before a bad line still reach the client, whatever the chunking was.
        let pushed = self.decoder.push(data);
        while let Some(ev) = self.decoder.next_event() {
            self.translator.on_event(&ev, &mut self.out);
        }
        if pushed.is_err() {
            self.translator.fail(
                "upstream_invalid_stream",
                "the upstream stream sent an event larger than the gateway accepts",
                &mut self.out,
            );
        }
    }

    /// Upstream EOF: the last unterminated event, then the closing frames (or a truncation error).
    pub fn end_of_input(&mut self) {
        if !self.translator.ended() {
            if let Some(ev) = self.decoder.finish() {
                self.translator.on_event(&ev, &mut self.out);
            }
            self.translator.finish(&mut self.out);
        }
    }

    /// A failure the relay detected (`code`: idle or total timeout, a read error) ends the client stream with an
    /// error in its dialect.
    pub fn fail(&mut self, code: &'static str) {
        let message = match code {
            "upstream_idle_timeout" => "the upstream stream stalled longer than the idle timeout",
            "upstream_timeout" => "the upstream exchange exceeded the total timeout",
            _ => "the upstream connection failed mid-stream",
        };
        self.translator.fail(code, message, &mut self.out);
    }

    /// The client bytes translated so far, handed over once.
    pub fn take_output(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.out))
    }

    /// Whether the client stream is complete (closing frames or an error written).
    #[must_use]
    pub fn ended(&self) -> bool {
        self.translator.ended()
    }

    /// The translator, for what it knows once the stream ended (e.g. the Responses output items to store).
    #[must_use]
    pub fn translator(&self) -> &T {
        &self.translator
    }
}

impl<T: StreamTranslate> StreamHandler for Translated<T> {
    fn on_data(&mut self, data: &Bytes, ctx: &mut RequestContext) -> Bytes {
        if self.translator.ended() {
            return Bytes::new();
        }
        self.feed(data);
        self.flush(ctx)
    }

    fn on_end(&mut self, ctx: &mut RequestContext) -> Bytes {
        self.end_of_input();
        let out = self.flush(ctx);
        if !self.translator.ended() {
            ctx.completed = true;
        }
        out
    }

    fn on_failure(&mut self, code: &'static str, ctx: &mut RequestContext) -> Option<Bytes> {
        self.fail(code);
        if let Some(u) = self.translator.usage() {
            ctx.usage = Some(u);
        }
        Some(self.take_output())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler() -> OpenAiToAnthropic {
        OpenAiToAnthropic::new(anthropic_ingress::MessageStreamContext {
            model: "claude".into(),
            input_tokens_estimate: 7,
            message_id: "msg_test".into(),
        })
    }

    /// A chunk that completes a good event and then starts a line over the limit: the good event reaches the
    /// client before the error, exactly as when the two arrive in separate chunks (found by the
    /// `anthropic_ingress_stream` fuzz target).
    #[test]
    fn events_before_a_bad_line_are_translated_whatever_the_chunking() {
        let good = br#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hello"}}]}

"#;
        let mut bad = b"data: ".to_vec();
        bad.resize(SseLimits::default().max_line_bytes + 16, b'x');
        let whole = [good.as_slice(), bad.as_slice()].concat();

        let mut one = handler();
        one.feed(&whole);
        let mut two = handler();
        two.feed(good);
        two.feed(&bad);

        let (one, two) = (one.take_output(), two.take_output());
        assert_eq!(one, two);
        let text = String::from_utf8_lossy(&one);
        assert!(text.contains("hello"), "{text}");
        assert!(text.contains("event: error"), "{text}");
    }
}
