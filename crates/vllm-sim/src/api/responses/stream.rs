//! The typed Responses event stream, one event per generated token as the engine emits it.
//!
//! Order: `response.created`, `response.in_progress`, `response.output_item.added` (and, for a message,
//! `response.content_part.added`) at once; then one `response.output_text.delta` per token (for a function call:
//! the name's tokens produce nothing, then one `response.function_call_arguments.delta` per token); at the end the
//! `.done` events, `response.output_item.done` and `response.completed` (or `response.incomplete` when the token
//! limit ended it) carrying the usage. Every event has `event:` set to its type and a `sequence_number`. The
//! stream owns the engine handle: a client that goes away aborts the request.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use serde_json::{Value, json};

use super::render::Meta;
use crate::engine::{FinishReason, RequestHandle};

struct State {
    handle: RequestHandle,
    meta: Meta,
    seq: u64,
    started: bool,
    done: bool,
    /// Tokens still to skip (a function call's name).
    skip: usize,
    text: String,
}

/// The streaming response.
pub(super) fn response(handle: RequestHandle, meta: Meta) -> Response {
    let skip = meta.tool.as_ref().map_or(0, |p| p.name_tokens);
    let state = State {
        handle,
        meta,
        seq: 0,
        started: false,
        done: false,
        skip,
        text: String::new(),
    };
    let events = stream::unfold(state, |mut state| async move {
        let frame = state.next_frame().await?;
        Some((Ok::<_, Infallible>(frame), state))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")],
        Body::from_stream(events),
    )
        .into_response()
}

// === impl State ===

impl State {
    fn event(&mut self, kind: &str, mut data: Value, out: &mut Vec<u8>) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        out.extend_from_slice(format!("event: {kind}\ndata: {data}\n\n").as_bytes());
    }

    async fn next_frame(&mut self) -> Option<Bytes> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            self.head(&mut out);
            return Some(Bytes::from(out));
        }
        while out.is_empty() {
            if self.done {
                return None;
            }
            let event = self.handle.recv().await?;
            if let Some(rest) = self.skip.checked_sub(1) {
                self.skip = rest;
            } else if !event.text.is_empty() {
                self.text.push_str(&event.text);
                let delta = json!({"item_id": self.meta.item_id, "output_index": 0, "delta": event.text});
                match self.meta.tool {
                    Some(_) => self.event("response.function_call_arguments.delta", delta, &mut out),
                    None => {
                        let mut d = delta;
                        d["content_index"] = json!(0);
                        d["logprobs"] = json!([]);
                        self.event("response.output_text.delta", d, &mut out);
                    }
                }
            }
            if let Some(finish) = event.finish {
                self.tail(finish, &mut out);
                self.done = true;
            }
        }
        Some(Bytes::from(out))
    }

    fn head(&mut self, out: &mut Vec<u8>) {
        let resp = self.meta.response(None, None);
        self.event("response.created", json!({"response": resp}), out);
        self.event("response.in_progress", json!({"response": resp}), out);
        let item = self.meta.item("", "in_progress");
        self.event(
            "response.output_item.added",
            json!({"output_index": 0, "item": item}),
            out,
        );
        if self.meta.tool.is_none() {
            let added = json!({"item_id": self.meta.item_id, "output_index": 0, "content_index": 0, "part": Meta::text_part("")});
            self.event("response.content_part.added", added, out);
        }
    }

    fn tail(&mut self, finish: crate::engine::Finish, out: &mut Vec<u8>) {
        let text = std::mem::take(&mut self.text);
        let id = self.meta.item_id.clone();
        match &self.meta.tool {
            Some(plan) => {
                let done = json!({"item_id": id, "output_index": 0, "name": plan.name, "arguments": text});
                self.event("response.function_call_arguments.done", done, out);
            }
            None => {
                let done = json!({"item_id": id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []});
                self.event("response.output_text.done", done, out);
                let part =
                    json!({"item_id": id, "output_index": 0, "content_index": 0, "part": Meta::text_part(&text)});
                self.event("response.content_part.done", part, out);
            }
        }
        let item = self.meta.item(&text, "completed");
        self.event(
            "response.output_item.done",
            json!({"output_index": 0, "item": item}),
            out,
        );
        let kind = match finish.reason {
            FinishReason::Stop => "response.completed",
            FinishReason::Length => "response.incomplete",
        };
        let resp = self.meta.response(Some(&text), Some(finish));
        self.event(kind, json!({"response": resp}), out);
    }
}
