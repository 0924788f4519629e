//! OpenAI `chat.completion.chunk` stream → Anthropic Messages event stream, one event at a time.
//!
//! | OpenAI input | Anthropic output |
//! |---|---|
//! | the first chunk (or `[DONE]`, or the end) | `message_start`: `id` = the server's message id, `usage.input_tokens` = the local estimate, `output_tokens: 1` |
//! | `delta.reasoning` / `reasoning_content` | a `thinking` block (opened if another block is open or none is) + `thinking_delta` |
//! | `delta.content` (or `refusal`) | a `text` block + `text_delta` |
//! | `delta.tool_calls[]` with a new `index` (or a new `id`) | close the open block, `content_block_start` `tool_use{id,name,input:{}}` |
//! | `delta.tool_calls[].function.arguments` | `input_json_delta` on that tool's block |
//! | empty strings, `role`, chunks for other choices | nothing: empty deltas never change block state (agentgateway #2147) |
//! | `finish_reason` | *held* (LiteLLM `holding_stop_reason_chunk`): nothing yet |
//! | a chunk with `usage` after the finish, or `[DONE]` | `content_block_stop`, `message_delta{stop_reason, stop_sequence, usage}`, `message_stop` |
//! | `{"error": {...}}` (or vLLM's `{"object":"error",...}`) | `event: error` with an Anthropic error body; the stream ends |
//! | undecodable data | `event: error` (`upstream_invalid_stream`); cut mid-JSON at the end: `upstream_stream_truncated` |
//!
//! Why `message_start` says `output_tokens: 1` and an estimated input: an OpenAI stream reports usage only in its
//! last chunk, but Anthropic clients read `message_start.usage` (Claude Code snapshots it; vercel/ai #17326 shows
//! what a `0` does to them). The estimate ([`estimate_input_tokens`](super::estimate_input_tokens)) is replaced by
//! the real counts in `message_delta`, which carries `input_tokens` and `cache_read_input_tokens` too; `1` is what
//! Anthropic itself sends. Clients must overwrite, not add, per the Anthropic SDK accumulator (a client that adds
//! over-counts by one, as it would against Anthropic: tensorzero #5481).
//!
//! Thinking blocks get no `signature_delta`: OpenAI-style backends have no signatures, and gatehouse drops thinking
//! blocks from the requests it translates, so no signature is ever checked.
//!
//! Invariants: output depends only on the sequence of events (not on how bytes were split); each event is
//! `event: <type>\ndata: <one line of JSON>\n\n`; after `message_stop` or `error` nothing more is written; tool
//! arguments always travel as `input_json_delta`, never in `content_block_start` (ccrelay #119).

mod chunk;
mod events;

use super::tokens::OpenAiUsage;
use super::upstream_error::{anthropic_error, class_for_stream_error};
use super::{matched_stop, stop_reason};
use crate::{SseEvent, Usage};
use chunk::{Chunk, Delta, ToolCallDelta};
use events::Kind;

/// What [`MessageStreamTranslator`] needs to know about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStreamContext {
    /// The model name reported to the client (see [`MessageContext::model`](super::MessageContext::model)).
    pub model: String,
    /// [`IngressRequest::input_tokens_estimate`](super::IngressRequest::input_tokens_estimate), for
    /// `message_start`.
    pub input_tokens_estimate: u64,
    /// The message id (`msg_…`) the server chose; `message_start` must carry one before any upstream id is seen.
    pub message_id: String,
}

/// Incremental stream translation; feed it every decoded upstream event, then call [`finish`](Self::finish) at
/// upstream EOF.
#[derive(Debug, Clone)]
pub struct MessageStreamTranslator {
    ctx: MessageStreamContext,
    phase: Phase,
    /// The open content block.
    open: Option<Open>,
    /// The next Anthropic block index.
    next_index: u32,
    /// The `finish_reason` seen, held until usage or `[DONE]`: mapped stop reason and stop sequence.
    finish: Option<(&'static str, Option<String>)>,
    usage: Option<Usage>,
    error: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before `message_start`.
    Waiting,
    Open,
    /// `message_stop` written.
    Done,
    /// An `error` event written.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    Content {
        index: u32,
        kind: Kind,
    },
    Tool {
        index: u32,
        upstream_index: Option<u64>,
        id: String,
    },
}

// === impl MessageStreamTranslator ===

impl MessageStreamTranslator {
    /// A translator at the start of a stream.
    #[must_use]
    pub fn new(ctx: MessageStreamContext) -> Self {
        Self {
            ctx,
            phase: Phase::Waiting,
            open: None,
            next_index: 0,
            finish: None,
            usage: None,
            error: None,
        }
    }

    /// Translates one upstream event, appending zero or more complete Anthropic events to `out`.
    pub fn on_event(&mut self, ev: &SseEvent, out: &mut Vec<u8>) {
        if self.ended() {
            return;
        }
        let data = ev.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            return self.complete(out);
        }
        let mut chunk = match serde_json::from_str::<Chunk<'_>>(data) {
            Ok(chunk) => chunk,
            // JSON that stops mid-value is a chunk cut off by the end of the stream (the decoder dispatches a
            // final unterminated event at EOF).
            Err(e) if e.classify() == serde_json::error::Category::Eof => return self.truncated(out),
            Err(_) => return self.invalid("an upstream stream chunk could not be decoded", out),
        };
        if let Some(err) = chunk.take_error() {
            let class = class_for_stream_error(err.code, err.kind.as_deref());
            let (class, body) = anthropic_error(class, err.message.as_deref().unwrap_or_default(), err.code);
            out.extend_from_slice(b"event: error\ndata: ");
            out.extend_from_slice(&body);
            out.extend_from_slice(b"\n\n");
            return self.failed(class.code);
        }
        self.start(out);
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.is_some_and(|i| i != 0) {
                continue;
            }
            if let Some(delta) = choice.delta {
                self.delta(delta, out);
                if self.ended() {
                    return;
                }
            }
            if let Some(reason) = choice.finish_reason
                && self.finish.is_none()
            {
                self.finish = Some(stop_reason(Some(&reason), matched_stop(choice.stop_reason)));
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(OpenAiUsage::to_usage(usage));
            if self.finish.is_some() {
                self.complete(out);
            }
        }
    }

    /// Ends the stream at upstream EOF: after `message_stop` everything has been written already; a stream cut
    /// before it gets an `error` event with code `upstream_stream_truncated`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.ended() {
            self.truncated(out);
        }
    }

    /// Ends the stream with an `error` event (`api_error`) for a failure the server detected (an SSE limit, an
    /// idle timeout, a read error). Does nothing if the stream already ended.
    pub fn fail(&mut self, code: &'static str, message: &str, out: &mut Vec<u8>) {
        if !self.ended() {
            events::error(out, "api_error", message);
            self.failed(code);
        }
    }

    /// The usage of the upstream's usage chunk (the metered meaning: input includes cached tokens); `None` until
    /// one arrived.
    #[must_use]
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// The `stop_reason` sent (or held to be sent) to the client, once the upstream gave a `finish_reason`.
    #[must_use]
    pub fn stop_reason(&self) -> Option<&'static str> {
        self.finish.as_ref().map(|(reason, _)| *reason)
    }

    /// The error code, if the stream ended with an `error` event (upstream error object, truncation, ...).
    #[must_use]
    pub fn errored(&self) -> Option<&'static str> {
        self.error
    }

    /// Whether the client stream is complete (`message_stop` or `error` written); later events are ignored.
    #[must_use]
    pub fn ended(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    /// `message_start`, once.
    fn start(&mut self, out: &mut Vec<u8>) {
        if self.phase == Phase::Waiting {
            events::message_start(
                out,
                &self.ctx.message_id,
                &self.ctx.model,
                self.ctx.input_tokens_estimate,
            );
            self.phase = Phase::Open;
        }
    }

    /// One choice's delta: reasoning, then text, then tool calls (the order a model produces them in).
    fn delta(&mut self, delta: Delta<'_>, out: &mut Vec<u8>) {
        let thinking = [&delta.reasoning, &delta.reasoning_content]
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty());
        if let Some(text) = thinking {
            self.content(Kind::Thinking, text, out);
        }
        let answer = [&delta.content, &delta.refusal]
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty());
        if let Some(text) = answer {
            self.content(Kind::Text, text, out);
        }
        for call in delta.tool_calls.unwrap_or_default() {
            self.tool_call(call, out);
            if self.ended() {
                return;
            }
        }
    }

    /// Non-empty text for a text or thinking block, opening one if needed.
    fn content(&mut self, kind: Kind, text: &str, out: &mut Vec<u8>) {
        let index = match &self.open {
            Some(Open::Content { index, kind: k }) if *k == kind => *index,
            _ => {
                let index = self.open_block(out);
                events::block_start(out, index, kind);
                self.open = Some(Open::Content { index, kind });
                index
            }
        };
        events::text_delta(out, index, kind, text);
    }

    /// A tool-call fragment: continues the open tool block unless it names another index or id.
    fn tool_call(&mut self, call: ToolCallDelta<'_>, out: &mut Vec<u8>) {
        let (name, args) = call.function.map_or((None, None), |f| (f.name, f.arguments));
        let id = call.id.filter(|i| !i.is_empty());
        let continues = match &self.open {
            Some(Open::Tool {
                upstream_index,
                id: open_id,
                ..
            }) => {
                call.index.is_none_or(|i| Some(i) == *upstream_index)
                    && id.as_deref().is_none_or(|i| i == open_id.as_str())
            }
            _ => false,
        };
        let index = if continues {
            match &self.open {
                Some(Open::Tool { index, .. }) => *index,
                _ => return,
            }
        } else {
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                if args.as_deref().is_none_or(str::is_empty) && id.is_none() {
                    return; // an empty fragment: no state change
                }
                return self.invalid("a tool call started without a function name", out);
            };
            let index = self.open_block(out);
            let id = id.map_or_else(
                || format!("toolu_{}_{index}", self.ctx.message_id),
                |i| i.0.into_owned(),
            );
            events::tool_start(out, index, &id, &name);
            self.open = Some(Open::Tool {
                index,
                upstream_index: call.index,
                id,
            });
            index
        };
        if let Some(args) = args.filter(|a| !a.is_empty()) {
            events::input_json_delta(out, index, &args);
        }
    }

    /// Closes the open block and returns the index for the next one.
    fn open_block(&mut self, out: &mut Vec<u8>) -> u32 {
        self.close_block(out);
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        index
    }

    fn close_block(&mut self, out: &mut Vec<u8>) {
        match self.open.take() {
            Some(Open::Content { index, .. } | Open::Tool { index, .. }) => events::block_stop(out, index),
            None => {}
        }
    }

    /// The held finish: close the block, `message_delta`, `message_stop`.
    fn complete(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        self.close_block(out);
        let (reason, sequence) = self.finish.get_or_insert(("end_turn", None));
        events::message_delta(out, reason, sequence.as_deref(), self.usage.as_ref());
        events::message_stop(out);
        self.phase = Phase::Done;
    }

    fn truncated(&mut self, out: &mut Vec<u8>) {
        events::error(
            out,
            "api_error",
            "the upstream stream ended before the response was complete",
        );
        self.failed("upstream_stream_truncated");
    }

    fn invalid(&mut self, message: &str, out: &mut Vec<u8>) {
        events::error(out, "api_error", message);
        self.failed("upstream_invalid_stream");
    }

    fn failed(&mut self, code: &'static str) {
        self.phase = Phase::Failed;
        self.error = Some(code);
    }
}

#[cfg(test)]
mod tests;
