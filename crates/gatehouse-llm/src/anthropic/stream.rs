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

pub(crate) mod dispatch;
pub(crate) mod event;
pub(crate) mod frames;

use super::tokens::AnthropicUsage;
use crate::{SseEvent, Usage};
#[cfg(test)]
use dispatch::MAX_OPEN_BLOCKS;
use dispatch::{EventSink, Progress};
use event::{Delta, StartBlock};

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
    progress: Progress,
    /// Open content blocks by Anthropic index.
    blocks: Vec<(u64, Block)>,
    /// Tool blocks started so far: the next OpenAI tool call index.
    tools: u32,
    finish: Option<&'static str>,
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
            progress: Progress::new(),
            blocks: Vec::new(),
            tools: 0,
            finish: None,
        }
    }

    /// Translates one upstream event, appending zero or more complete SSE frames to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        self.dispatch(ev, out);
    }

    /// Ends the stream at upstream EOF. After `message_stop` everything has been written already; a stream cut
    /// before it gets an error frame with code `upstream_stream_truncated` (and no `[DONE]`).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.finish_stream(out);
    }

    /// Ends the stream with an error frame for a failure the server detected (an SSE limit, an idle timeout, a
    /// read error). Does nothing if the stream already ended.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        self.fail_server(code, message, out);
    }

    /// The usage so far (cumulative; the last value of each field wins), tracked even without `include_usage`.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.progress.usage.map(AnthropicUsage::to_usage)
    }

    /// The `finish_reason` sent to the client, once `message_delta` gave a stop reason.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish
    }

    /// An upstream `stop_reason` this crate does not know (reported to the client as `stop`), for logging.
    #[must_use]
    pub fn unknown_stop_reason(&self) -> Option<&str> {
        self.progress.unknown_stop.as_deref()
    }

    /// The error code, if the stream ended with an error frame (upstream `error` event, truncation, ...).
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.progress.error
    }

    /// Whether the client stream is complete (`[DONE]` or an error frame written); later events are ignored.
    #[must_use]
    pub fn ended(&self) -> bool {
        self.progress.ended()
    }

    /// Writes one chunk whose `delta` object `delta` writes.
    fn chunk(&self, out: &mut Vec<u8>, delta: impl FnOnce(&mut Vec<u8>)) {
        frames::chunk(out, &self.prefix, self.ctx.include_usage, delta);
    }
}

impl EventSink for StreamTranslator {
    fn progress(&mut self) -> &mut Progress {
        &mut self.progress
    }

    fn open_blocks(&self) -> usize {
        self.blocks.len()
    }

    fn message_start(&mut self, id: &str, out: &mut Vec<u8>) {
        self.prefix = frames::prefix(id, self.ctx.created, &self.ctx.model);
        self.chunk(out, frames::role);
    }

    fn block_start(&mut self, index: u64, block: StartBlock<'_>, out: &mut Vec<u8>) {
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

    fn block_delta(&mut self, index: Option<u64>, delta: Delta<'_>, out: &mut Vec<u8>) {
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
                let block = self.blocks.iter_mut().find(|(i, _)| Some(*i) == index);
                if let Some((_, Block::Tool { index, has_args })) = block {
                    *has_args = true;
                    let index = *index;
                    self.chunk(out, |o| frames::tool_args(o, index, &part));
                }
            }
            _ => {} // signature_delta, citations_delta, future delta types
        }
    }

    fn block_stop(&mut self, index: Option<u64>, out: &mut Vec<u8>) {
        let Some(pos) = self.blocks.iter().position(|(i, _)| Some(*i) == index) else {
            return;
        };
        let (_, block) = self.blocks.remove(pos);
        if let Block::Tool { index, has_args: false } = block {
            self.chunk(out, |o| frames::tool_args(o, index, "{}"));
        }
    }

    fn stop_reason(&mut self, stop: &str, out: &mut Vec<u8>) {
        if self.finish.is_some() {
            return;
        }
        let reason = super::finish_reason(stop).unwrap_or_else(|| {
            self.progress.unknown_stop(stop);
            "stop"
        });
        self.finish = Some(reason);
        self.chunk(out, |o| frames::finish(o, reason));
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        if self.finish.is_none() {
            self.finish = Some("stop");
            self.chunk(out, |o| frames::finish(o, "stop"));
        }
        if self.ctx.include_usage {
            let usage = self.progress.usage.unwrap_or_default().to_usage();
            frames::usage_chunk(out, &self.prefix, &usage);
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
    }

    fn write_failure(&mut self, kind: &'static str, code: &'static str, message: &str, out: &mut Vec<u8>) {
        frames::error(out, kind, code, message);
    }
}

#[cfg(test)]
pub(crate) mod tests;
