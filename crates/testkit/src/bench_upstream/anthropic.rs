//! The canned Anthropic Messages replies of `mock-upstream` (`POST /v1/messages`): one `message` body and one SSE
//! event sequence, built once at start-up like the OpenAI ones, so the "translate to Anthropic" benchmark measures
//! the gateway's translation and not the upstream.
//!
//! The stream follows Anthropic's event grammar: `message_start` (usage with `input_tokens` and a small
//! `output_tokens`), `content_block_start`, one `content_block_delta` (`text_delta`) per chunk,
//! `content_block_stop`, `message_delta` (stop reason and cumulative usage), `message_stop`. Every event carries an
//! `event:` line naming its type, as the Anthropic SDKs require.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{MODEL, WORDS, content};

/// The `id` of every canned message.
const MESSAGE_ID: &str = "msg_mock_upstream";

/// Input tokens the canned replies report (as the OpenAI ones report `prompt_tokens`).
const INPUT_TOKENS: usize = 16;

/// The non-streamed `message` body, about 1 KiB like the OpenAI one.
pub(super) fn message() -> Value {
    let text = content();
    let output_tokens = text.split_whitespace().count();
    json!({
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": output_tokens},
    })
}

/// The SSE events of a streamed message with `chunks` text deltas, one `Bytes` per event.
pub(super) fn stream_frames(chunks: usize) -> Vec<Bytes> {
    let mut frames = Vec::with_capacity(chunks + 5);
    frames.push(event(json!({
        "type": "message_start",
        "message": {
            "id": MESSAGE_ID,
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1},
        },
    })));
    frames.push(event(json!({
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    })));
    frames.extend((0..chunks).map(|i| {
        let word = WORDS[i % WORDS.len()];
        let text = if i == 0 { word.to_owned() } else { format!(" {word}") };
        event(json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }))
    }));
    frames.push(event(json!({"type": "content_block_stop", "index": 0})));
    frames.push(event(json!({
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": chunks},
    })));
    frames.push(event(json!({"type": "message_stop"})));
    frames
}

/// One SSE event named after its payload's `type`, as Anthropic sends them.
fn event(data: Value) -> Bytes {
    let name = data["type"].as_str().unwrap_or("message").to_owned();
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}
