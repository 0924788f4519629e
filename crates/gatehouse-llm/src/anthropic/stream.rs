//! Anthropic Messages event stream → OpenAI `chat.completion.chunk` stream, one event at a time.
//!
//! | Anthropic event | OpenAI output |
//! |---|---|
//! | `message_start` | remember id and usage; the role chunk `{"role":"assistant","content":""}` |
//! | `content_block_start` text / thinking | a content / `reasoning_content` chunk only if it carries text |
//! | `content_block_start` tool_use, server_tool_use | `tool_calls[{index,id,type,function:{name,arguments:""}}]`, `index` counting tool blocks only |
//! | `text_delta` / `thinking_delta` | `content` / `reasoning_content` (empty ones skipped) |
//! | `input_json_delta` | `tool_calls[{index,function:{arguments}}]` (empty fragments skipped) |
//! | `signature_delta`, `citations_delta`, other blocks | nothing |
//! | `content_block_stop` | `arguments:"{}"` if a tool block produced no argument bytes |
//! | `message_delta` | merge usage; the first `stop_reason` → `delta:{}` + `finish_reason` |
//! | `message_stop` | (a `stop` finish chunk if none was sent), the usage chunk if asked for, `[DONE]` |
//! | `ping`, unknown types | nothing |
//! | `error` | an OpenAI error frame; the stream ends, no `[DONE]` |
//!
//! Usage is tracked whether or not the client asked for it, merged per field (last value wins, never summed).
//! `[DONE]` is written as soon as `message_stop` arrives rather than at upstream EOF, so the client is not kept
//! waiting for the connection to close; [`StreamTranslator::finish`] then adds nothing. Invariants: output
//! depends only on the sequence of events (not on how bytes were split); after `[DONE]` or an error frame nothing
//! more is written; every frame is one `data:` line of JSON (or `[DONE]`).

pub(crate) mod event;
pub(crate) mod frames;

use super::json::truncate;
use super::tokens::AnthropicUsage;
use super::upstream_error::class_for_type;
use crate::{SseEvent, Usage};
use event::Event;

/// At most this many content blocks may be open at once (Anthropic opens one at a time).
const MAX_OPEN_BLOCKS: usize = 64;
/// Upstream error messages relayed to the client are cut to this many bytes.
const MAX_MESSAGE_BYTES: usize = 512;

/// What [`StreamTranslator`] needs to know about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamContext {
    /// Unix seconds for every chunk's `created`.
    pub created: u64,
    /// The model name reported to the client (see [`ResponseContext::model`](super::ResponseContext::model)).
    pub model: String,
    /// The client asked for `stream_options.include_usage`: every chunk carries `"usage":null` and a usage chunk
    /// with `"choices":[]` precedes `[DONE]`.
    pub include_usage: bool,
}

/// Incremental stream translation; feed it every decoded upstream event, then call [`finish`](Self::finish).
#[derive(Debug, Clone)]
pub struct StreamTranslator {
    ctx: StreamContext,
    /// Everything of a chunk up to `"choices":`, fixed once `message_start` gives the id.
    prefix: Vec<u8>,
    phase: Phase,
    usage: Option<AnthropicUsage>,
    /// Open content blocks by Anthropic index.
    blocks: Vec<(u64, Block)>,
    /// Tool blocks started so far: the next OpenAI tool call index.
    tools: u32,
    finish: Option<&'static str>,
    unknown_stop: Option<String>,
    error: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `message_start`.
    Waiting,
    Open,
    /// `[DONE]` written.
    Done,
    /// An error frame written.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Tool { index: u32, has_args: bool },
    Other,
}

// === impl StreamTranslator ===

impl StreamTranslator {
    /// A translator at the start of a stream.
    #[must_use]
    pub fn new(ctx: StreamContext) -> Self {
        Self {
            ctx,
            prefix: Vec::new(),
            phase: Phase::Waiting,
            usage: None,
            blocks: Vec::new(),
            tools: 0,
            finish: None,
            unknown_stop: None,
            error: None,
        }
    }

    /// Translates one upstream event, appending zero or more complete SSE frames to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.ended() {
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
            "message_start" => self.message_start(event, out),
            "content_block_start" => self.block_start(event, out),
            "content_block_delta" => self.block_delta(event, out),
            "content_block_stop" => self.block_stop(&event, out),
            "message_delta" => self.message_delta(event, out),
            "message_stop" => self.message_stop(out),
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

    /// Ends the stream at upstream EOF. After `message_stop` everything has been written already; a stream cut
    /// before it gets an error frame with code `upstream_stream_truncated` (and no `[DONE]`).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.ended() {
            self.truncated(out);
        }
    }

    /// Ends the stream with an error frame for a failure the server detected (an SSE limit, an idle timeout, a
    /// read error). Does nothing if the stream already ended.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if !self.ended() {
            self.fail_with("server_error", code, message, out);
        }
    }

    /// The usage so far (cumulative; the last value of each field wins), tracked even without `include_usage`.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.usage.map(AnthropicUsage::to_usage)
    }

    /// The `finish_reason` sent to the client, once `message_delta` gave a stop reason.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish
    }

    /// An upstream `stop_reason` this crate does not know (reported to the client as `stop`), for logging.
    #[must_use]
    pub fn unknown_stop_reason(&self) -> Option<&str> {
        self.unknown_stop.as_deref()
    }

    /// The error code, if the stream ended with an error frame (upstream `error` event, truncation, ...).
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.error
    }

    /// Whether the client stream is complete (`[DONE]` or an error frame written); later events are ignored.
    #[must_use]
    pub fn ended(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    fn message_start(&mut self, event: Event<'_>, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        let Some(message) = event.message else {
            return self.invalid("message_start without a message", out);
        };
        self.prefix = frames::prefix(&message.id, self.ctx.created, &self.ctx.model);
        self.usage = message.usage;
        self.phase = Phase::Open;
        self.chunk(out, frames::role);
    }

    fn block_start(&mut self, event: Event<'_>, out: &mut Vec<u8>) {
        if !self.require_open(out) {
            return;
        }
        let (Some(index), Some(block)) = (event.index, event.content_block) else {
            return self.invalid("content_block_start without index or block", out);
        };
        if self.blocks.len() >= MAX_OPEN_BLOCKS {
            return self.invalid("too many open content blocks", out);
        }
        let kind = match &*block.kind {
            "text" => {
                if let Some(text) = block.text.filter(|t| !t.is_empty()) {
                    self.chunk(out, |o| frames::content(o, &text));
                }
                Block::Text
            }
            "thinking" => {
                if let Some(text) = block.thinking.filter(|t| !t.is_empty()) {
                    self.chunk(out, |o| frames::reasoning(o, &text));
                }
                Block::Other
            }
            "tool_use" | "server_tool_use" => {
                let (Some(id), Some(name)) = (block.id, block.name) else {
                    return self.invalid("tool_use block without id or name", out);
                };
                let index = self.tools;
                self.tools = self.tools.saturating_add(1);
                self.chunk(out, |o| frames::tool_start(o, index, &id, &name));
                Block::Tool { index, has_args: false }
            }
            _ => Block::Other,
        };
        self.blocks.retain(|(i, _)| *i != index);
        self.blocks.push((index, kind));
    }

    fn block_delta(&mut self, event: Event<'_>, out: &mut Vec<u8>) {
        if !self.require_open(out) {
            return;
        }
        let Some(delta) = event.delta else { return };
        match delta.kind.as_deref() {
            Some("text_delta") => {
                if let Some(text) = delta.text.filter(|t| !t.is_empty()) {
                    self.chunk(out, |o| frames::content(o, &text));
                }
            }
            Some("thinking_delta") => {
                if let Some(text) = delta.thinking.filter(|t| !t.is_empty()) {
                    self.chunk(out, |o| frames::reasoning(o, &text));
                }
            }
            Some("input_json_delta") => {
                let Some(part) = delta.partial_json.filter(|p| !p.is_empty()) else {
                    return;
                };
                let block = self.blocks.iter_mut().find(|(i, _)| Some(*i) == event.index);
                if let Some((_, Block::Tool { index, has_args })) = block {
                    *has_args = true;
                    let index = *index;
                    self.chunk(out, |o| frames::tool_args(o, index, &part));
                }
            }
            _ => {} // signature_delta, citations_delta, future delta types
        }
    }

    fn block_stop(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        if !self.require_open(out) {
            return;
        }
        let Some(pos) = self.blocks.iter().position(|(i, _)| Some(*i) == event.index) else {
            return;
        };
        let (_, block) = self.blocks.remove(pos);
        if let Block::Tool { index, has_args: false } = block {
            self.chunk(out, |o| frames::tool_args(o, index, "{}"));
        }
    }

    fn message_delta(&mut self, event: Event<'_>, out: &mut Vec<u8>) {
        if !self.require_open(out) {
            return;
        }
        if let Some(later) = &event.usage {
            self.usage.get_or_insert_default().merge(later);
        }
        let Some(stop) = event.delta.and_then(|d| d.stop_reason) else {
            return;
        };
        if self.finish.is_some() {
            return;
        }
        let reason = super::finish_reason(&stop).unwrap_or_else(|| {
            self.unknown_stop = Some(truncate(&stop, 64).into_owned());
            "stop"
        });
        self.finish = Some(reason);
        self.chunk(out, |o| frames::finish(o, reason));
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        if !self.require_open(out) {
            return;
        }
        if self.finish.is_none() {
            self.finish = Some("stop");
            self.chunk(out, |o| frames::finish(o, "stop"));
        }
        if self.ctx.include_usage {
            let usage = self.usage.unwrap_or_default().to_usage();
            frames::usage_chunk(out, &self.prefix, &usage);
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        self.phase = Phase::Done;
    }

    /// Content events are only valid after `message_start`.
    fn require_open(&mut self, out: &mut Vec<u8>) -> bool {
        if self.phase == Phase::Waiting {
            self.invalid("content arrived before message_start", out);
        }
        self.phase == Phase::Open
    }

    fn truncated(&mut self, out: &mut Vec<u8>) {
        self.fail_with(
            "server_error",
            "upstream_stream_truncated",
            "the upstream stream ended before the response was complete",
            out,
        );
    }

    fn invalid(&mut self, message: &str, out: &mut Vec<u8>) {
        self.fail_with("server_error", "upstream_invalid_stream", message, out);
    }

    fn fail_with(&mut self, kind: &str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        frames::error(out, kind, code, message);
        self.phase = Phase::Failed;
        self.error = Some(code);
    }

    /// Writes one chunk whose `delta` object `delta` writes.
    fn chunk(&self, out: &mut Vec<u8>, delta: impl FnOnce(&mut Vec<u8>)) {
        frames::chunk(out, &self.prefix, self.ctx.include_usage, delta);
    }
}

/// Event types whose data this translator must be able to read.
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

#[cfg(test)]
pub(crate) mod tests;
