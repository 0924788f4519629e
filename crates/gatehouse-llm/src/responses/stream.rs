//! Anthropic Messages event stream → the typed Responses event stream, one event at a time.
//!
//! | Anthropic event | Responses events |
//! |---|---|
//! | `message_start` | `response.created`, `response.in_progress` (the response object, `status: "in_progress"`, no output) |
//! | `content_block_start` text | (a new `message` item when none is open: `response.output_item.added`), `response.content_part.added` (`output_text`, empty) |
//! | `text_delta` | `response.output_text.delta` |
//! | `content_block_stop` text | `response.output_text.done`, `response.content_part.done` (the message stays open for the next text block) |
//! | `content_block_start` thinking | (closes an open message) `response.output_item.added` (`reasoning`), `response.reasoning_summary_part.added` |
//! | `thinking_delta` | `response.reasoning_summary_text.delta` |
//! | `signature_delta` | nothing (kept for the item's `encrypted_content`) |
//! | `content_block_stop` thinking | `response.reasoning_summary_text.done`, `response.reasoning_summary_part.done`, `response.output_item.done` |
//! | `content_block_start` / `_stop` redacted_thinking | `response.output_item.added` / `.done` (`reasoning`, no summary, sealed data) |
//! | `content_block_start` tool_use | (closes an open message) `response.output_item.added` (`function_call`, `arguments: ""`) |
//! | `input_json_delta` | `response.function_call_arguments.delta` |
//! | `content_block_stop` tool_use | `response.function_call_arguments.done` (`"{}"` when no argument bytes came), `response.output_item.done` |
//! | `message_delta` | nothing (usage merged, first `stop_reason` kept) |
//! | `message_stop` | (closes an open message: `response.output_item.done`), `response.completed` or `response.incomplete` with the full response and usage |
//! | `error`, a stream cut before `message_stop`, a server-side failure | `error` (`code`, `message`), then `response.failed` (`status: "failed"`, `error: {code, message}`) |
//! | `ping`, `citations_delta`, server tool blocks, unknown events | nothing |
//!
//! Items, ids, statuses and usage are those of the non-streaming translation ([`translate_response`](
//! super::translate_response)), so the final `response.completed` object equals what it would return. Every
//! event carries `sequence_number` (from 0, +1 per event) and, where the published event has them,
//! `output_index` / `content_index` / `summary_index` / `item_id`. No `[DONE]` follows (the Responses API sends
//! none). Invariants: output depends only on the sequence of events (not on how bytes were split); after
//! `response.completed` / `.incomplete` / `.failed` nothing more is written.

mod frames;
mod sink;

use serde_json::Value;

use super::ResponseEcho;
use super::object::{self, Head, Outcome};
use crate::anthropic::stream::dispatch::{EventSink, Phase, Progress};
use crate::anthropic::tokens::AnthropicUsage;
use crate::{SseEvent, Usage};

/// What [`ResponseStreamTranslator`] needs to know about the request (owned: the translator outlives the
/// request handler's borrows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamContext {
    /// The response id the client sees (`resp_…`), made by the server; item ids are derived from it.
    pub id: String,
    /// Unix seconds for `created_at`.
    pub created_at: u64,
    /// The model name reported to the client.
    pub model: String,
    /// The request's echo, from [`TranslatedRequest::echo`](super::TranslatedRequest::echo).
    pub echo: ResponseEcho,
}

/// Incremental stream translation; feed it every decoded upstream event, then call [`finish`](Self::finish).
/// It implements [`StreamTranslate`](crate::StreamTranslate), so the server's relay drives it like the chat
/// translators; afterwards [`output_items`](Self::output_items) and [`usage`](Self::usage) give what to store and
/// meter.
#[derive(Debug, Clone)]
pub struct ResponseStreamTranslator {
    ctx: StreamContext,
    /// The next `sequence_number`.
    seq: u64,
    progress: Progress,
    /// Output items by `output_index`; `Null` while an item is still open.
    output: Vec<Value>,
    /// Open content blocks by Anthropic index.
    blocks: Vec<(u64, Open)>,
    /// The open `message` item, which consecutive text blocks share.
    message: Option<OpenMessage>,
    outcome: Option<Outcome>,
}

#[derive(Debug, Clone)]
struct OpenMessage {
    index: usize,
    id: String,
    /// Finished parts by `content_index`; `Null` while a text block is open.
    parts: Vec<Value>,
}

#[derive(Debug, Clone)]
enum Open {
    Text {
        content_index: usize,
        text: String,
    },
    Reasoning {
        index: usize,
        id: String,
        text: String,
        signature: String,
    },
    Redacted {
        index: usize,
        id: String,
        data: String,
    },
    Tool {
        index: usize,
        id: String,
        call_id: String,
        name: String,
        args: String,
    },
    Other,
}

// === impl ResponseStreamTranslator ===

impl ResponseStreamTranslator {
    /// A translator at the start of a stream.
    #[must_use]
    pub fn new(ctx: StreamContext) -> Self {
        Self {
            ctx,
            seq: 0,
            progress: Progress::new(),
            output: Vec::new(),
            blocks: Vec::new(),
            message: None,
            outcome: None,
        }
    }

    /// Translates one upstream event, appending zero or more complete events to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        self.dispatch(ev, out);
    }

    /// Ends the stream at upstream EOF. After `message_stop` everything has been written already; a stream cut
    /// before it gets `error` + `response.failed` with code `upstream_stream_truncated`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.finish_stream(out);
    }

    /// Ends the stream with `error` + `response.failed` for a failure the server detected (an SSE limit, an idle
    /// timeout, a read error). Does nothing if the stream already ended.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        self.fail_server(code, message, out);
    }

    /// The usage so far (cumulative; the last value of each field wins).
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.progress.usage.map(AnthropicUsage::to_usage)
    }

    /// The finished output items so far, in `output_index` order, as the final response carries them: what the
    /// server stores for a later `previous_response_id` (after the request's [`input_items`](super::input_items)).
    #[must_use]
    pub fn output_items(&self) -> Vec<Value> {
        self.output.iter().filter(|v| !v.is_null()).cloned().collect()
    }

    /// The final `status` (`completed`, `incomplete`, `failed`), once the stream ended.
    #[must_use]
    pub fn status(&self) -> Option<&'static str> {
        match self.progress.phase {
            Phase::Done => Some(self.outcome.unwrap_or(Outcome::Completed).status()),
            Phase::Failed => Some(Outcome::Failed.status()),
            Phase::Waiting | Phase::Open => None,
        }
    }

    /// An upstream `stop_reason` this crate does not know (reported to the client as `completed`), for logging.
    #[must_use]
    pub fn unknown_stop_reason(&self) -> Option<&str> {
        self.progress.unknown_stop.as_deref()
    }

    /// The error code, if the stream ended with `response.failed` (upstream `error` event, truncation, ...).
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.progress.error
    }

    /// Whether the client stream is complete; later events are ignored.
    #[must_use]
    pub fn ended(&self) -> bool {
        self.progress.ended()
    }

    /// Writes an event carrying the whole response object.
    fn response_event(&mut self, kind: &str, outcome: Outcome, error: Option<(&str, &str)>, out: &mut Vec<u8>) {
        let output = self.output_items();
        let usage = self.usage().filter(|_| outcome != Outcome::InProgress);
        let head = Head {
            id: &self.ctx.id,
            created_at: self.ctx.created_at,
            model: &self.ctx.model,
            echo: &self.ctx.echo,
        };
        frames::event(out, &mut self.seq, kind, |o| {
            o.extend_from_slice(b"\"response\":");
            object::write_response(o, &head, outcome, error, &output, usage.as_ref());
        });
    }

    /// Starts a new output item at the end of `output`, closing an open message first.
    fn start_item(&mut self, prefix: &str, out: &mut Vec<u8>) -> (usize, String) {
        self.close_message("completed", out);
        let index = self.output.len();
        self.output.push(Value::Null);
        (index, object::item_id(prefix, &self.ctx.id, index))
    }

    /// Opens a message item if none is open, then an `output_text` part in it; returns its `content_index`.
    fn open_message_part(&mut self, out: &mut Vec<u8>) -> usize {
        if self.message.is_none() {
            let index = self.output.len();
            self.output.push(Value::Null);
            let id = object::item_id("msg", &self.ctx.id, index);
            let item = object::message_item(&id, "in_progress", Vec::new());
            frames::event(out, &mut self.seq, "response.output_item.added", |o| {
                frames::item(o, index, &item)
            });
            self.message = Some(OpenMessage {
                index,
                id,
                parts: Vec::new(),
            });
        }
        let Some(m) = self.message.as_mut() else {
            return 0;
        };
        let content_index = m.parts.len();
        m.parts.push(Value::Null);
        let part = object::text_part("");
        frames::event(out, &mut self.seq, "response.content_part.added", |o| {
            frames::position(o, &m.id, m.index);
            let _ = std::io::Write::write_fmt(o, format_args!(",\"content_index\":{content_index}"));
            frames::part(o, &part);
        });
        content_index
    }

    /// Closes the open message item (if any) with `status`.
    fn close_message(&mut self, status: &str, out: &mut Vec<u8>) {
        let Some(m) = self.message.take() else { return };
        let parts: Vec<Value> = m.parts.into_iter().filter(|p| !p.is_null()).collect();
        let item = object::message_item(&m.id, status, parts);
        frames::event(out, &mut self.seq, "response.output_item.done", |o| {
            frames::item(o, m.index, &item)
        });
        if let Some(slot) = self.output.get_mut(m.index) {
            *slot = item;
        }
    }

    fn text_delta(&mut self, block: u64, delta: &str, out: &mut Vec<u8>) {
        let Some(m) = self.message.as_ref() else { return };
        let Some((_, Open::Text { content_index, text })) = self.blocks.iter_mut().find(|(i, _)| *i == block) else {
            return;
        };
        text.push_str(delta);
        let content_index = *content_index;
        frames::event(out, &mut self.seq, "response.output_text.delta", |o| {
            frames::position(o, &m.id, m.index);
            let _ = std::io::Write::write_fmt(o, format_args!(",\"content_index\":{content_index}"));
            frames::text(o, "delta", delta);
            o.extend_from_slice(b",\"logprobs\":[]");
        });
    }

    fn thinking_delta(&mut self, block: u64, delta: &str, out: &mut Vec<u8>) {
        let Some((_, Open::Reasoning { index, id, text, .. })) = self.blocks.iter_mut().find(|(i, _)| *i == block)
        else {
            return;
        };
        text.push_str(delta);
        frames::event(out, &mut self.seq, "response.reasoning_summary_text.delta", |o| {
            frames::position(o, id, *index);
            o.extend_from_slice(b",\"summary_index\":0");
            frames::text(o, "delta", delta);
        });
    }

    fn item_done(&mut self, index: usize, item: Value, out: &mut Vec<u8>) {
        frames::event(out, &mut self.seq, "response.output_item.done", |o| {
            frames::item(o, index, &item)
        });
        if let Some(slot) = self.output.get_mut(index) {
            *slot = item;
        }
    }
}

#[cfg(test)]
mod tests;
