//! Two stream translators in series: the first one's client frames are decoded again and fed to the second, so a
//! stream can cross two dialects (OpenAI chunks → Anthropic events → Responses events) with the translators that
//! already exist for each hop, and no new protocol code.

use super::StreamTranslate;
use crate::{SseDecoder, SseEvent, SseLimits, Usage};

/// `A`'s output, re-decoded, is `B`'s input; the client sees `B`'s frames. The pair keeps the
/// [`StreamTranslate`] contract because `B` does: once `B` has ended, nothing more is written.
pub struct Chain<A, B> {
    first: A,
    second: B,
    /// Decodes `first`'s frames for `second` (both are ours, so the default limits always hold).
    decoder: SseDecoder,
    /// `first`'s output, before it is decoded.
    between: Vec<u8>,
}

// === impl Chain ===

impl<A: StreamTranslate, B: StreamTranslate> Chain<A, B> {
    /// `first` then `second`.
    #[must_use]
    pub fn new(first: A, second: B) -> Self {
        Self {
            first,
            second,
            decoder: SseDecoder::new(SseLimits::default()),
            between: Vec::with_capacity(1024),
        }
    }

    /// The second translator, for what it knows once the stream ended (e.g. the Responses output items to store).
    #[must_use]
    pub fn second(&self) -> &B {
        &self.second
    }

    /// Feeds what `first` wrote so far to `second`; once `first` has ended, its last event is flushed and
    /// `second` gets its end of input too.
    fn pipe(&mut self, out: &mut Vec<u8>) {
        if self.second.ended() {
            self.between.clear();
            return;
        }
        // Events completed before a bad line are handed on first, so chunking cannot change what `second` sees.
        let pushed = self.decoder.push(&self.between);
        self.between.clear();
        while let Some(ev) = self.decoder.next_event() {
            self.second.on_event(&ev, out);
        }
        if pushed.is_err() {
            self.second.fail(
                "upstream_invalid_stream",
                "the upstream stream sent an event larger than the gateway accepts",
                out,
            );
            return;
        }
        if self.first.ended() && !self.second.ended() {
            if let Some(ev) = self.decoder.finish() {
                self.second.on_event(&ev, out);
            }
            self.second.finish(out);
        }
    }
}

impl<A: StreamTranslate, B: StreamTranslate> StreamTranslate for Chain<A, B> {
    fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.second.ended() {
            return;
        }
        self.first.on_event(ev, &mut self.between);
        self.pipe(out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.second.ended() {
            return;
        }
        self.first.finish(&mut self.between);
        self.pipe(out);
        if !self.second.ended() {
            self.second.finish(out);
        }
    }

    fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        // The failure is the server's, not the first hop's: `second` says it in the client's dialect with the
        // same code, and `first` is only closed (its error frame is not the client's).
        let mut discard = Vec::new();
        self.first.fail(code, message, &mut discard);
        self.between.clear();
        self.second.fail(code, message, out);
    }

    fn usage(&self) -> Option<Usage> {
        self.second.usage().or_else(|| self.first.usage())
    }

    fn ended(&self) -> bool {
        self.second.ended()
    }

    fn errored(&self) -> Option<&'static str> {
        self.second.errored()
    }

    fn unknown_stop_reason(&self) -> Option<&str> {
        self.first
            .unknown_stop_reason()
            .or_else(|| self.second.unknown_stop_reason())
    }
}

#[cfg(test)]
mod tests;
