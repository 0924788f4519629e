//! Turns a [`BedrockReply`] into a Converse response or ConverseStream frames (encoded here with their CRCs,
//! independently of the gateway's decoder).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use super::reply::{BedrockReply, Content, Kind};
use super::validate::Accepted;
use crate::journal::Journal;
use crate::sse_body::{MockBody, StreamFrames};

/// Answers an accepted request.
pub(crate) fn render<R: Clone>(reply: BedrockReply, req: &Accepted, journal: &Arc<Journal<R>>) -> Response<MockBody> {
    let c = match reply.kind {
        Kind::Error {
            status,
            error_type,
            message,
        } => return error(status, &error_type, &message),
        Kind::Content(c) => c,
    };
    let output = words(&c.text) + 5 * c.tools.len() as u64;
    let usage = json!({"inputTokens": req.input_tokens, "outputTokens": output,
        "totalTokens": req.input_tokens + c.cache_read + c.cache_write + output,
        "cacheReadInputTokens": c.cache_read, "cacheWriteInputTokens": c.cache_write});
    if !req.stream {
        let mut content = Vec::new();
        if !c.text.is_empty() {
            content.push(json!({"text": c.text}));
        }
        for (id, name, input) in &c.tools {
            content.push(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}));
        }
        let body = json!({"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": c.stop_reason, "usage": usage, "metrics": {"latencyMs": 12}});
        return crate::render::json(StatusCode::OK, &body);
    }
    let (mut content, tail) = frames(&c, usage);
    // `messageStart` goes out at once; each text delta then waits for the pacing.
    let head = if content.is_empty() {
        Vec::new()
    } else {
        vec![content.remove(0)]
    };
    let mut frames = StreamFrames::new(content, tail);
    frames.head = head;
    frames.cut = c.cut;
    let mut out = crate::render::sse(frames, c.pacing.clone(), journal);
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    out
}

fn frames(c: &Content, usage: Value) -> (Vec<Bytes>, Vec<Bytes>) {
    let mut content = vec![event("messageStart", &json!({"role": "assistant"}))];
    for (i, w) in c.text.split_whitespace().enumerate() {
        let piece = if i == 0 { w.to_string() } else { format!(" {w}") };
        content.push(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        ));
    }
    if let Some((after, kind, message)) = &c.exception_after {
        content.truncate(after + 1);
        let exc = encode(
            &[
                (":message-type", "exception"),
                (":exception-type", kind),
                (":content-type", "application/json"),
            ],
            json!({"message": message}).to_string().as_bytes(),
        );
        return (content, vec![exc]);
    }
    if c.cut {
        return (content, Vec::new());
    }
    let mut tail = Vec::new();
    if !c.text.is_empty() {
        tail.push(event("contentBlockStop", &json!({"contentBlockIndex": 0})));
    }
    for (k, (id, name, input)) in c.tools.iter().enumerate() {
        let index = k + 1;
        tail.push(event(
            "contentBlockStart",
            &json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
        ));
        let text = input.to_string();
        let mid = text.len() / 2;
        let (a, b) = text.split_at(
            text.char_indices()
                .map(|(i, _)| i)
                .find(|i| *i >= mid)
                .unwrap_or(text.len()),
        );
        for part in [a, b] {
            tail.push(event(
                "contentBlockDelta",
                &json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": part}}}),
            ));
        }
        tail.push(event("contentBlockStop", &json!({"contentBlockIndex": index})));
    }
    tail.push(event("messageStop", &json!({"stopReason": c.stop_reason})));
    tail.push(event(
        "metadata",
        &json!({"usage": usage, "metrics": {"latencyMs": 12}}),
    ));
    (content, tail)
}

fn event(kind: &str, payload: &Value) -> Bytes {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// One event-stream frame: prelude with its CRC, string headers, payload, message CRC.
fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = (16 + h.len() + payload.len()) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude = crc32fast::hash(&out);
    out.extend_from_slice(&prelude.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

/// A Bedrock error: status, `x-amzn-ErrorType`, `{"message"}`.
pub(crate) fn error(status: u16, error_type: &str, message: &str) -> Response<MockBody> {
    let mut out = crate::render::json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({ "message": message }),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        out.headers_mut().insert("x-amzn-errortype", v);
    }
    out
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}
