//! Turns a [`GeminiReply`] into Gemini's response: a whole `GenerateContentResponse`, an `alt=sse` stream
//! (`data: {...}\r\n\r\n` per chunk, as Google sends it), or a JSON array of chunks for a stream without `alt=sse`.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::rejection::GeminiRejection;
use super::reply::{Content, GeminiReply, Kind};
use super::validate::Accepted;
use crate::journal::Journal;
use crate::sse_body::{MockBody, StreamFrames};

/// Answers request number `seq` with `reply`.
pub(crate) fn render(
    reply: GeminiReply,
    req: &Accepted,
    seq: usize,
    journal: &Arc<Journal<GeminiRejection>>,
) -> Response<MockBody> {
    if let (Some((count, dims)), Kind::Content(_)) = (req.embed, &reply.kind) {
        // Deterministic vectors: the i-th embedding's j-th value is (i + 1) / (j + 1).
        let embeddings: Vec<Value> = (0..count)
            .map(|i| json!({"values": (0..dims).map(|j| (i as f64 + 1.0) / (j as f64 + 1.0)).collect::<Vec<_>>()}))
            .collect();
        return crate::render::json(StatusCode::OK, &json!({ "embeddings": embeddings }));
    }
    let content = match reply.kind {
        Kind::Status { status, body } => {
            return crate::render::json(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &body,
            );
        }
        Kind::Content(c) => c,
    };
    let id = format!("mock-gemini-{seq}");
    if !req.stream {
        let body = response(
            &id,
            req,
            &content.parts,
            Some(&content.finish_reason),
            usage(req, &content),
        );
        return crate::render::json(StatusCode::OK, &body);
    }
    let (chunks, tail) = stream_chunks(&id, req, &content);
    if !req.sse {
        let all: Vec<Value> = chunks.into_iter().chain(tail).collect();
        return crate::render::json(StatusCode::OK, &Value::Array(all));
    }
    let frame = |v: &Value| Bytes::from(format!("data: {v}\r\n\r\n"));
    let mut frames = StreamFrames::new(chunks.iter().map(frame).collect(), tail.iter().map(frame).collect());
    frames.cut = content.cut;
    let mut out = crate::render::sse(frames, content.pacing.clone(), journal);
    out.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    out
}

/// Content chunks (one per word, thoughts first) and the tail (calls + finish + final usage, or an error event).
fn stream_chunks(id: &str, req: &Accepted, c: &Content) -> (Vec<Value>, Vec<Value>) {
    let mut chunks = Vec::new();
    let mut calls = Vec::new();
    for part in &c.parts {
        if part.get("functionCall").is_some() {
            calls.push(part.clone());
            continue;
        }
        let text = part["text"].as_str().unwrap_or_default();
        let thought = part.get("thought").is_some();
        for (i, word) in text.split_whitespace().enumerate() {
            let piece = if i == 0 { word.to_string() } else { format!(" {word}") };
            let mut p = json!({"text": piece});
            if thought {
                p["thought"] = json!(true);
            }
            let partial = json!({"promptTokenCount": prompt(req, c), "totalTokenCount": prompt(req, c)});
            chunks.push(response(id, req, &[p], None, partial));
        }
    }
    if let Some((after, error)) = &c.error_after {
        chunks.truncate(*after);
        return (chunks, vec![error.clone()]);
    }
    if c.cut {
        return (chunks, Vec::new());
    }
    let last = response(id, req, &calls, Some(&c.finish_reason), usage(req, c));
    (chunks, vec![last])
}

fn response(id: &str, req: &Accepted, parts: &[Value], finish: Option<&str>, usage: Value) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": req.model, "responseId": id})
}

fn prompt(req: &Accepted, c: &Content) -> u64 {
    req.prompt_tokens + c.cached_tokens
}

/// Final usage: prompt words (+ cached), answer words (+ 5 per call), thought words.
fn usage(req: &Accepted, c: &Content) -> Value {
    let mut candidates = 0;
    let mut thoughts = 0;
    for part in &c.parts {
        let words = part["text"].as_str().map_or(0, |t| t.split_whitespace().count() as u64);
        if part.get("thought").is_some() {
            thoughts += words;
        } else if part.get("functionCall").is_some() {
            candidates += 5;
        } else {
            candidates += words;
        }
    }
    let prompt = prompt(req, c);
    let mut u = json!({"promptTokenCount": prompt, "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts});
    if thoughts > 0 {
        u["thoughtsTokenCount"] = json!(thoughts);
    }
    if c.cached_tokens > 0 {
        u["cachedContentTokenCount"] = json!(c.cached_tokens);
    }
    u
}
