//! The one interface every streaming translator offers, so the server drives an Anthropic, a Gemini or a reverse
//! (OpenAI → Anthropic) stream, and any later one, with the same relay code.

mod chain;

pub use chain::Chain;

use crate::{Retry, SseEvent, Usage};

/// An upstream SSE stream translated into the client's dialect, one decoded event at a time.
///
/// Contract (each implementation's tests and fuzz target check it): output depends only on the sequence of
/// events; after [`ended`](Self::ended) nothing more is written; a stream always ends with `[DONE]` or exactly one
/// error frame.
pub trait StreamTranslate: Send + Unpin + 'static {
    /// Translates one upstream event, appending complete frames to `out`.
    fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>);
    /// Upstream EOF: the closing frames, or a truncation error when the stream was not complete.
    fn finish(&mut self, out: &mut Vec<u8>);
    /// A failure the server detected (limit, timeout, read error): an error frame unless already ended.
    fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>);
    /// Usage so far, tracked whether or not the client asked for it.
    fn usage(&self) -> Option<Usage>;
    /// Whether the client stream is complete.
    fn ended(&self) -> bool;
    /// The error code, if the stream ended with an error frame.
    fn errored(&self) -> Option<&'static str>;
    /// An upstream stop reason the translator did not know (reported as `stop`), for logging.
    fn unknown_stop_reason(&self) -> Option<&str>;
}

macro_rules! impl_stream_translate {
    ($t:ty) => {
        impl StreamTranslate for $t {
            fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
                <$t>::on_event(self, ev, out);
            }
            fn finish(&mut self, out: &mut Vec<u8>) {
                <$t>::finish(self, out);
            }
            fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
                <$t>::fail(self, code, message, out);
            }
            fn usage(&self) -> Option<Usage> {
                <$t>::usage(self)
            }
            fn ended(&self) -> bool {
                <$t>::ended(self)
            }
            fn errored(&self) -> Option<&'static str> {
                <$t>::errored(self)
            }
            fn unknown_stop_reason(&self) -> Option<&str> {
                <$t>::unknown_stop_reason(self)
            }
        }
    };
}

impl_stream_translate!(crate::anthropic::StreamTranslator);

/// The reverse direction (OpenAI chunks in, Anthropic events out) keeps the same contract with Anthropic's
/// `message_stop` / `event: error` in place of `[DONE]` / an error frame. Every OpenAI finish reason has an
/// Anthropic stop reason (unknown ones become `end_turn`), so there is never an unknown one to report.
impl StreamTranslate for crate::anthropic_ingress::MessageStreamTranslator {
    fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        Self::on_event(self, ev, out);
    }
    fn finish(&mut self, out: &mut Vec<u8>) {
        Self::finish(self, out);
    }
    fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        Self::fail(self, code, message, out);
    }
    fn usage(&self) -> Option<Usage> {
        Self::usage(self)
    }
    fn ended(&self) -> bool {
        Self::ended(self)
    }
    fn errored(&self) -> Option<&'static str> {
        Self::errored(self)
    }
    fn unknown_stop_reason(&self) -> Option<&str> {
        None
    }
}
impl_stream_translate!(crate::gemini::StreamTranslator);
// The Responses stream ends with `response.completed` / `response.incomplete` in place of `[DONE]`, and with
// `error` + `response.failed` in place of the error frame.
impl_stream_translate!(crate::responses::ResponseStreamTranslator);

/// An upstream error translated for the client, whatever the two dialects: every translator's `translate_error`
/// returns one, so the server relays them all the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedError {
    /// HTTP status for the client.
    pub status: u16,
    /// Error JSON in the client's dialect (OpenAI `{"error":{…}}` or Anthropic `{"type":"error","error":{…}}`).
    pub body: Vec<u8>,
    /// Stable code, also in `body`, for the access log and metric labels.
    pub code: &'static str,
    /// Whether failover may try another target (only before any byte reached the client).
    pub retry: Retry,
}
