//! Turns a [`RequestHandle`] into an SSE body, one event per token as the engine emits it.
//!
//! The stream owns the handle: when the client disconnects, hyper drops the body, the handle is dropped and the
//! engine aborts the request. Order of events: (chat only) a role announcement with `content: ""` together with
//! the first token, one event per token (the last carries `finish_reason`), the usage event if requested, then
//! `data: [DONE]`. If the engine stops mid-request the stream just ends, without `[DONE]`.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;

use super::response::{DONE, Kind, Meta};
use crate::engine::RequestHandle;

struct State {
    handle: RequestHandle,
    meta: Meta,
    include_usage: bool,
    first: bool,
    done: bool,
}

/// The streaming response for a submitted request.
pub(crate) fn response(handle: RequestHandle, meta: Meta, include_usage: bool) -> Response {
    let state = State {
        handle,
        meta,
        include_usage,
        first: true,
        done: false,
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
    async fn next_frame(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let event = self.handle.recv().await?;
        let mut frame = Vec::new();
        if self.first && self.meta.kind == Kind::Chat {
            frame.extend(self.meta.token_event("", true, None, self.include_usage));
        }
        self.first = false;
        let reason = event.finish.map(|f| f.reason);
        frame.extend(self.meta.token_event(event.text, false, reason, self.include_usage));
        if let Some(finish) = event.finish {
            if self.include_usage {
                frame.extend(self.meta.usage_event(finish.usage));
            }
            frame.extend_from_slice(DONE);
            self.done = true;
        }
        Some(Bytes::from(frame))
    }
}
