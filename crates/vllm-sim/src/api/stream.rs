//! Turns a [`RequestHandle`] into an SSE body, one event per token as the engine emits it.
//!
//! The stream owns the handle: when the client disconnects, hyper drops the body, the handle is dropped and the
//! engine aborts the request. Order of events: (chat only) a role announcement with `content: ""` together with
//! the first token, one event per token (the last carries `finish_reason`), the usage event if requested, then
//! `data: [DONE]`. If the engine stops mid-request the stream just ends, without `[DONE]`.
//!
//! A tool call's tokens are rendered differently: the name's tokens produce no content; once the name is complete
//! (or the request finishes first) the call's header event goes out, then one arguments fragment per token, and a
//! separate finish event with `delta: {}`.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;

use super::response::{DONE, Kind, Meta};
use super::tools::ToolCallPlan;
use crate::engine::{RequestHandle, TokenEvent};

struct State {
    handle: RequestHandle,
    meta: Meta,
    include_usage: bool,
    first: bool,
    done: bool,
    tool: Option<ToolStream>,
}

/// Progress of a streamed tool call.
struct ToolStream {
    id: String,
    plan: ToolCallPlan,
    /// Tokens received so far.
    seen: usize,
    header_sent: bool,
}

/// The streaming response for a submitted request; `tool` is the call it generates, with its id, if any.
pub(crate) fn response(
    handle: RequestHandle,
    meta: Meta,
    include_usage: bool,
    tool: Option<(String, ToolCallPlan)>,
) -> Response {
    let state = State {
        handle,
        meta,
        include_usage,
        first: true,
        done: false,
        tool: tool.map(|(id, plan)| ToolStream {
            id,
            plan,
            seen: 0,
            header_sent: false,
        }),
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
    /// The bytes for the next token(s); tokens that render nothing (a tool call's name) are folded into the next
    /// frame, so the body never carries an empty chunk.
    async fn next_frame(&mut self) -> Option<Bytes> {
        let mut frame = Vec::new();
        while frame.is_empty() {
            if self.done {
                return None;
            }
            let event = self.handle.recv().await?;
            self.render(&event, &mut frame);
        }
        Some(Bytes::from(frame))
    }

    fn render(&mut self, event: &TokenEvent, frame: &mut Vec<u8>) {
        if self.first && self.meta.kind == Kind::Chat {
            frame.extend(self.meta.token_event("", true, None, self.include_usage));
        }
        self.first = false;
        match &mut self.tool {
            Some(tool) => tool.render(event, &self.meta, self.include_usage, frame),
            None => {
                let reason = event.finish.map(|f| f.reason);
                frame.extend(self.meta.token_event(&event.text, false, reason, self.include_usage));
            }
        }
        if let Some(finish) = event.finish {
            if self.include_usage {
                frame.extend(self.meta.usage_event(finish.usage));
            }
            frame.extend_from_slice(DONE);
            self.done = true;
        }
    }
}

// === impl ToolStream ===

impl ToolStream {
    /// Appends the events one token of the call produces.
    fn render(&mut self, event: &TokenEvent, meta: &Meta, include_usage: bool, frame: &mut Vec<u8>) {
        let is_name = self.seen < self.plan.name_tokens;
        self.seen += 1;
        if !self.header_sent && (self.seen >= self.plan.name_tokens || event.finish.is_some()) {
            frame.extend(meta.tool_header_event(&self.id, &self.plan.name, include_usage));
            self.header_sent = true;
        }
        if !is_name {
            frame.extend(meta.tool_arguments_event(&event.text, include_usage));
        }
        if let Some(finish) = event.finish {
            let reason = self.plan.kind.finish_reason(finish.reason);
            frame.extend(meta.finish_event(reason, include_usage));
        }
    }
}
