//! The one reading of an Anthropic Messages event stream, shared by the translators that turn it into a client
//! stream: chat-completion chunks ([`StreamTranslator`](super::StreamTranslator)) and Responses events
//! ([`ResponseStreamTranslator`](crate::responses::ResponseStreamTranslator)).
//!
//! Both must agree on what the upstream stream means: which undecodable events are errors, that content before
//! `message_start` is invalid, how many blocks may be open, how usage merges, how an upstream `error` event is
//! classified and how much of its message is relayed. Writing that once here keeps the two outputs from drifting;
//! each translator implements [`EventSink`] and only decides what to write for each step.

use super::event::{Delta, Event, StartBlock};
use crate::SseEvent;
use crate::anthropic::json::truncate;
use crate::anthropic::tokens::AnthropicUsage;
use crate::anthropic::upstream_error::class_for_type;

/// At most this many content blocks may be open at once (Anthropic opens one at a time).
pub(crate) const MAX_OPEN_BLOCKS: usize = 64;
/// Upstream error messages relayed to the client are cut to this many bytes.
const MAX_MESSAGE_BYTES: usize = 512;
/// What the client is told when the upstream stream ends before `message_stop`.
const TRUNCATED_MESSAGE: &str = "the upstream stream ended before the response was complete";
/// An unknown upstream `stop_reason` is kept (for logging) cut to this many bytes.
const MAX_STOP_REASON_BYTES: usize = 64;

/// Where a translated stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before `message_start`.
    Waiting,
    /// After `message_start`: content events are accepted.
    Open,
    /// The stream's successful end was written.
    Done,
    /// An error ending was written.
    Failed,
}

/// What every translator of an Anthropic stream tracks the same way.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub(crate) phase: Phase,
    /// Cumulative usage (the last value of each field wins).
    pub(crate) usage: Option<AnthropicUsage>,
    /// An upstream `stop_reason` this crate does not know, for logging.
    pub(crate) unknown_stop: Option<String>,
    /// The error code the stream ended with.
    pub(crate) error: Option<&'static str>,
}

/// One translator's output for each step of an Anthropic stream; [`dispatch`](EventSink::dispatch) decides
/// which step an upstream event is and checks everything the steps have in common first.
pub(crate) trait EventSink {
    /// The shared progress of this stream.
    fn progress(&mut self) -> &mut Progress;
    /// How many content blocks are open now.
    fn open_blocks(&self) -> usize;
    /// `message_start` arrived: the phase is already `Open` and the start usage recorded.
    fn message_start(&mut self, id: &str, out: &mut Vec<u8>);
    /// `content_block_start` with its index and block (fewer than the maximum blocks open).
    fn block_start(&mut self, index: u64, block: StartBlock<'_>, out: &mut Vec<u8>);
    /// `content_block_delta` with its index (if given) and delta.
    fn block_delta(&mut self, index: Option<u64>, delta: Delta<'_>, out: &mut Vec<u8>);
    /// `content_block_stop` with its index (if given).
    fn block_stop(&mut self, index: Option<u64>, out: &mut Vec<u8>);
    /// `message_delta` carried a `stop_reason` (its usage is already merged).
    fn stop_reason(&mut self, stop: &str, out: &mut Vec<u8>);
    /// `message_stop`: write the successful end; the phase becomes `Done` afterwards.
    fn message_stop(&mut self, out: &mut Vec<u8>);
    /// Write the error ending (OpenAI error `kind`, gateway `code`); the phase becomes `Failed` afterwards.
    fn write_failure(&mut self, kind: &'static str, code: &'static str, message: &str, out: &mut Vec<u8>);

    /// Translates one upstream event, appending zero or more complete frames to `out`.
    fn dispatch(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.progress().ended() {
            return;
        }
        let event = match serde_json::from_str::<Event<'_>>(&ev.data) {
            Ok(event) => event,
            Err(e) => {
                // Undecodable data is only an error when the event name says it was one we must understand. JSON
                // that stops mid-value is an event cut off by the end of the stream (the decoder dispatches a
                // final unterminated event at EOF).
                if ev.event.as_deref().is_some_and(is_known) {
                    if e.classify() == serde_json::error::Category::Eof {
                        self.truncated(out);
                    } else {
                        self.invalid("an upstream stream event could not be decoded", out);
                    }
                }
                return;
            }
        };
        match &*event.kind {
            "message_start" => {
                if self.progress().phase != Phase::Waiting {
                    return;
                }
                let Some(message) = event.message else {
                    return self.invalid("message_start without a message", out);
                };
                let progress = self.progress();
                progress.usage = message.usage;
                progress.phase = Phase::Open;
                self.message_start(&message.id, out);
            }
            "content_block_start" => {
                if !self.require_open(out) {
                    return;
                }
                let (Some(index), Some(block)) = (event.index, event.content_block) else {
                    return self.invalid("content_block_start without index or block", out);
                };
                if self.open_blocks() >= MAX_OPEN_BLOCKS {
                    return self.invalid("too many open content blocks", out);
                }
                self.block_start(index, block, out);
            }
            "content_block_delta" => {
                if !self.require_open(out) {
                    return;
                }
                if let Some(delta) = event.delta {
                    self.block_delta(event.index, delta, out);
                }
            }
            "content_block_stop" => {
                if !self.require_open(out) {
                    return;
                }
                self.block_stop(event.index, out);
            }
            "message_delta" => {
                if !self.require_open(out) {
                    return;
                }
                if let Some(later) = &event.usage {
                    self.progress().usage.get_or_insert_default().merge(later);
                }
                if let Some(stop) = event.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason(&stop, out);
                }
            }
            "message_stop" => {
                if !self.require_open(out) {
                    return;
                }
                self.message_stop(out);
                self.progress().phase = Phase::Done;
            }
            "error" => {
                let body = event.error;
                let kind = body.as_ref().and_then(|b| b.kind.as_deref()).unwrap_or("api_error");
                let class = class_for_type(kind);
                let upstream = body.as_ref().and_then(|b| b.message.as_deref()).unwrap_or_default();
                let message = if class.relay && !upstream.is_empty() {
                    truncate(upstream, MAX_MESSAGE_BYTES)
                } else {
                    class.message.into()
                };
                self.fail_with(class.kind, class.code, &message, out);
            }
            _ => {} // `ping` and event types added after this was written
        }
    }

    /// Ends the stream at upstream EOF: a stream cut before `message_stop` gets the error ending with code
    /// `upstream_stream_truncated`.
    fn finish_stream(&mut self, out: &mut Vec<u8>) {
        if !self.progress().ended() {
            self.truncated(out);
        }
    }

    /// Ends the stream with the error ending for a failure the server detected (an SSE limit, an idle timeout, a
    /// read error). Does nothing if the stream already ended.
    fn fail_server(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if !self.progress().ended() {
            self.fail_with("server_error", code, message, out);
        }
    }

    /// Content events are only valid after `message_start`.
    fn require_open(&mut self, out: &mut Vec<u8>) -> bool {
        if self.progress().phase == Phase::Waiting {
            self.invalid("content arrived before message_start", out);
        }
        self.progress().phase == Phase::Open
    }

    /// The error ending for a stream cut short.
    fn truncated(&mut self, out: &mut Vec<u8>) {
        self.fail_with("server_error", "upstream_stream_truncated", TRUNCATED_MESSAGE, out);
    }

    /// The error ending for an upstream stream this crate cannot follow.
    fn invalid(&mut self, message: &str, out: &mut Vec<u8>) {
        self.fail_with("server_error", "upstream_invalid_stream", message, out);
    }

    /// Writes the error ending and records it.
    fn fail_with(&mut self, kind: &'static str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        self.write_failure(kind, code, message, out);
        let progress = self.progress();
        progress.phase = Phase::Failed;
        progress.error = Some(code);
    }
}

// === impl Progress ===

impl Progress {
    /// A stream before `message_start`.
    pub(crate) fn new() -> Self {
        Self {
            phase: Phase::Waiting,
            usage: None,
            unknown_stop: None,
            error: None,
        }
    }

    /// Whether the client stream is complete; later events are ignored.
    pub(crate) fn ended(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    /// Records a `stop_reason` this crate does not know (cut short), for logging.
    pub(crate) fn unknown_stop(&mut self, stop: &str) {
        self.unknown_stop = Some(truncate(stop, MAX_STOP_REASON_BYTES).into_owned());
    }
}

/// Event types whose data a translator must be able to read.
fn is_known(name: &str) -> bool {
    matches!(
        name,
        "message_start"
            | "content_block_start"
            | "content_block_delta"
            | "content_block_stop"
            | "message_delta"
            | "message_stop"
            | "error"
    )
}
