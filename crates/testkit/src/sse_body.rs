//! The body of a streamed mock reply: SSE frames released as the [`Pacing`] allows, counted if dropped early.
//!
//! Invariant: the [`DropGuard`] lives inside the body, so the stream counts as cancelled exactly when hyper drops
//! it before the last frame was taken, which is what happens when the gateway (or client) goes away mid-stream.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;

use crate::journal::DropGuard;
use crate::openai_json::StreamFrames;
use crate::reply::Pacing;

/// The body type of every mock response.
pub(crate) type MockBody = UnsyncBoxBody<Bytes, Infallible>;

/// Where a paced stream is.
struct State {
    content: std::vec::IntoIter<Bytes>,
    sent: usize,
    tail: Option<std::vec::IntoIter<Bytes>>,
    frames_tail: Vec<Bytes>,
    pacing: Pacing,
    guard: DropGuard,
}

/// A body yielding `frames` as `pacing` allows; `guard` is completed when the last frame has been taken.
pub(crate) fn paced(frames: StreamFrames, pacing: Pacing, guard: DropGuard) -> MockBody {
    let state = State {
        content: frames.content.into_iter(),
        sent: 0,
        tail: None,
        frames_tail: frames.tail,
        pacing,
        guard,
    };
    let frames = stream::unfold(state, |mut st| async move {
        let next = next_frame(&mut st).await;
        match next {
            Some(bytes) => Some((Ok(Frame::data(bytes)), st)),
            None => {
                st.guard.complete();
                None
            }
        }
    });
    StreamBody::new(frames).boxed_unsync()
}

async fn next_frame(st: &mut State) -> Option<Bytes> {
    if st.tail.is_none() {
        if let Some(chunk) = st.content.next() {
            st.pacing.before_chunk(st.sent).await;
            st.sent += 1;
            return Some(chunk);
        }
        st.pacing.before_tail().await;
        st.tail = Some(std::mem::take(&mut st.frames_tail).into_iter());
    }
    st.tail.as_mut().and_then(Iterator::next)
}
