//! Anthropic response bodies the mock fabricates: the Message JSON and the SSE event stream.
//!
//! Stream grammar (Anthropic's streaming docs): `message_start` (content `[]`, `stop_reason: null`, usage with the
//! input and cache counts and `output_tokens: 1`) → per block `content_block_start` → `content_block_delta`* →
//! `content_block_stop` → `message_delta` (stop reason, *cumulative* usage) → `message_stop`; `ping` after the first
//! block start. Every event has an `event:` line naming its type, since SDKs drop nameless ones.
//!
//! Everything is deterministic: ids come from the request's journal position and token counts are whitespace words,
//! so tests can assert exact values.

use bytes::Bytes;
use serde_json::{Value, json};

use super::reply::{Block, Ending, Message};
use super::validate::Accepted;
use crate::openai_json::pieces;
use crate::sse_body::StreamFrames;

/// Usage of one answer, overrides applied.
struct Usage {
    input: u64,
    output: u64,
    cache_creation: u64,
    cache_read: u64,
}

/// The non-streamed body: `{"id","type":"message","role","model","content","stop_reason","stop_sequence","usage"}`.
pub(super) fn message(message: &Message, req: &Accepted, seq: usize) -> Value {
    let usage = usage(message, req);
    let content: Vec<Value> = message
        .blocks
        .iter()
        .enumerate()
        .map(|(i, block)| match block {
            Block::Text(text) => json!({"type": "text", "text": text}),
            Block::Thinking { thinking, signature } => {
                json!({"type": "thinking", "thinking": thinking, "signature": signature})
            }
            Block::ToolUse { name, input } => {
                json!({"type": "tool_use", "id": tool_id(seq, i), "name": name, "input": input})
            }
        })
        .collect();
    envelope(
        req,
        seq,
        &content,
        json!(message.stop_reason()),
        json!(message.stop_sequence),
        usage.json(usage.output),
    )
}

/// The SSE frames of `message`: `message_start` as the head, one content frame per delta (carrying the block
/// start/stop events before it), and the closing events (or the scripted error) as the tail.
pub(super) fn stream(message: &Message, req: &Accepted, seq: usize) -> StreamFrames {
    let usage = usage(message, req);
    let start = envelope(req, seq, &[], Value::Null, Value::Null, usage.json(1));
    let head = vec![event(
        "message_start",
        &json!({"type": "message_start", "message": start}),
    )];
    let mut content = Vec::new();
    for (i, block) in message.blocks.iter().enumerate() {
        let mut prefix = String::new();
        if i > 0 {
            prefix.push_str(&block_stop(i - 1));
        }
        let started = json!({"type": "content_block_start", "index": i, "content_block": block_start(block, seq, i)});
        prefix.push_str(&event_text("content_block_start", &started));
        if i == 0 && message.ping {
            prefix.push_str(&event_text("ping", &json!({"type": "ping"})));
        }
        for delta in deltas(block) {
            let delta = json!({"type": "content_block_delta", "index": i, "delta": delta});
            let mut frame = std::mem::take(&mut prefix);
            frame.push_str(&event_text("content_block_delta", &delta));
            content.push(Bytes::from(frame));
        }
    }
    let mut frames = StreamFrames::default();
    match message.ending {
        Ending::Complete => {
            if let Some(last) = message.blocks.len().checked_sub(1) {
                frames.tail.push(Bytes::from(block_stop(last)));
            }
            let delta = json!({
                "type": "message_delta",
                "delta": {"stop_reason": message.stop_reason(), "stop_sequence": message.stop_sequence},
                "usage": usage.json(usage.output),
            });
            frames.tail.push(event("message_delta", &delta));
            frames
                .tail
                .push(event("message_stop", &json!({"type": "message_stop"})));
        }
        Ending::ErrorAfter(n) => {
            content.truncate(n);
            let error = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
            frames.tail.push(event("error", &error));
        }
        Ending::CutAfter(n) => {
            content.truncate(n);
            frames.cut = true;
        }
    }
    frames.head = head;
    frames.content = content;
    frames
}

fn envelope(
    req: &Accepted,
    seq: usize,
    content: &[Value],
    stop_reason: Value,
    stop_sequence: Value,
    usage: Value,
) -> Value {
    json!({
        "id": format!("msg_mock_{seq}"),
        "type": "message",
        "role": "assistant",
        "model": req.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    })
}

fn usage(message: &Message, req: &Accepted) -> Usage {
    let words = |s: &str| s.split_whitespace().count() as u64;
    let output = message
        .blocks
        .iter()
        .map(|block| match block {
            Block::Text(text) => words(text),
            Block::Thinking { thinking, .. } => words(thinking),
            Block::ToolUse { input, .. } => words(&input.to_string()),
        })
        .sum();
    let o = message.usage;
    Usage {
        input: o.input.unwrap_or(req.input_tokens),
        output: o.output.unwrap_or(output),
        cache_creation: o.cache_creation.unwrap_or(0),
        cache_read: o.cache_read.unwrap_or(0),
    }
}

impl Usage {
    fn json(&self, output: u64) -> Value {
        json!({
            "input_tokens": self.input,
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
            "output_tokens": output,
        })
    }
}

fn tool_id(seq: usize, index: usize) -> String {
    format!("toolu_mock_{seq}_{index}")
}

/// The `content_block` of a `content_block_start`: the block with its content still empty.
fn block_start(block: &Block, seq: usize, index: usize) -> Value {
    match block {
        Block::Text(_) => json!({"type": "text", "text": ""}),
        Block::Thinking { .. } => json!({"type": "thinking", "thinking": "", "signature": ""}),
        Block::ToolUse { name, .. } => {
            json!({"type": "tool_use", "id": tool_id(seq, index), "name": name, "input": {}})
        }
    }
}

/// The `delta`s that fill `block`.
fn deltas(block: &Block) -> Vec<Value> {
    let words = |s: &str| {
        let mut p = pieces(&s.split_whitespace().collect::<Vec<_>>());
        if p.is_empty() {
            p.push(String::new());
        }
        p
    };
    match block {
        Block::Text(text) => words(text)
            .into_iter()
            .map(|t| json!({"type": "text_delta", "text": t}))
            .collect(),
        Block::Thinking { thinking, signature } => words(thinking)
            .into_iter()
            .map(|t| json!({"type": "thinking_delta", "thinking": t}))
            .chain([json!({"type": "signature_delta", "signature": signature})])
            .collect(),
        Block::ToolUse { input, .. } => {
            let input = input.to_string();
            let chars: Vec<char> = input.chars().collect();
            let size = chars.len().div_ceil(3).max(1);
            std::iter::once(String::new())
                .chain(chars.chunks(size).map(|c| c.iter().collect()))
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                .collect()
        }
    }
}

fn block_stop(index: usize) -> String {
    event_text(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    )
}

/// One SSE event: `event: <name>\ndata: <json>\n\n`.
fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(event_text(name, data))
}

fn event_text(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}
