//! The body of a streamed mock reply: SSE frames released as the [`Pacing`] allows, counted if dropped early.
//!
//! Invariant: the [`DropGuard`] lives inside the body, so the stream counts as cancelled exactly when hyper drops
//! it before the last frame was taken, which is what happens when the gateway (or client) goes away mid-stream.
//! A stream the mock itself cuts ([`StreamFrames::cut`]) ends with a body error, which makes hyper close the
//! connection (HTTP/1) or reset the stream (HTTP/2) without a clean end; that is not counted as cancelled.

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;

use crate::journal::DropGuard;
use crate::reply::Pacing;

/// The body type of every mock response. The error only ever comes from a deliberate cut.
pub(crate) type MockBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A streamed reply split in the parts that pacing releases separately.
#[derive(Debug, Default)]
pub(crate) struct StreamFrames {
    /// Sent at once, before any pacing (e.g. Anthropic's `message_start`).
    pub(crate) head: Vec<Bytes>,
    /// One frame per pacing step (a word, a delta), each waiting for [`Pacing::before_chunk`].
    pub(crate) content: Vec<Bytes>,
    /// The closing frames, sent together once [`Pacing::before_tail`] allows.
    pub(crate) tail: Vec<Bytes>,
    /// After the tail, fail the body instead of ending it: the connection drops mid-stream.
    pub(crate) cut: bool,
}

/// Where a paced stream is.
struct State {
    head: std::vec::IntoIter<Bytes>,
    content: std::vec::IntoIter<Bytes>,
    sent: usize,
    tail: Option<std::vec::IntoIter<Bytes>>,
    frames_tail: Vec<Bytes>,
    cut: bool,
    pacing: Pacing,
    guard: DropGuard,
}

// === impl StreamFrames ===

impl StreamFrames {
    /// Frames with no head and a clean end.
    pub(crate) fn new(content: Vec<Bytes>, tail: Vec<Bytes>) -> Self {
        Self {
            content,
            tail,
            ..Self::default()
        }
    }
}

/// A body yielding `frames` as `pacing` allows; `guard` is completed when the last frame has been taken.
pub(crate) fn paced(frames: StreamFrames, pacing: Pacing, guard: DropGuard) -> MockBody {
    let state = State {
        head: frames.head.into_iter(),
        content: frames.content.into_iter(),
        sent: 0,
        tail: None,
        frames_tail: frames.tail,
        cut: frames.cut,
        pacing,
        guard,
    };
    let frames = stream::unfold(state, |mut st| async move {
        let next = next_frame(&mut st).await;
        match next {
            Some(bytes) => Some((Ok(Frame::data(bytes)), st)),
            None => {
                st.guard.complete();
                if std::mem::take(&mut st.cut) {
                    // Return `Pending` once first: hyper flushes what it buffered only when the body is not ready,
                    // and an error straight after the data would abort the connection with the data unsent.
                    tokio::task::yield_now().await;
                    let cut = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "mock cut the stream");
                    return Some((Err(cut), st));
                }
                None
            }
        }
    });
    StreamBody::new(frames).boxed_unsync()
}

async fn next_frame(st: &mut State) -> Option<Bytes> {
    if let Some(head) = st.head.next() {
        return Some(head);
    }
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
