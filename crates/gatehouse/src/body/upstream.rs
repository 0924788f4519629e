//! The upstream response body as the relays read it: hyper's body, possibly with bytes already read in front.
//!
//! The failover loop peeks at the first event of a stream before any byte goes to the client (a "200 then error"
//! stream is retried like a 5xx); what it read is replayed here ahead of the rest, so the relays see the stream
//! exactly as the upstream sent it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Most bytes read while looking for the end of the first event.
const PEEK_MAX: usize = 64 * 1024;

/// An upstream body with an optional already-read prefix.
#[derive(Debug)]
pub struct Upstream {
    head: Option<Bytes>,
    inner: Incoming,
}

/// What the first event of a stream turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstEvent {
    /// A normal event (or the stream ended, or the event is too large to judge): relay it.
    Data,
    /// An error event: nothing has been relayed, so the request may be retried.
    Error,
}

// === impl Upstream ===

impl Upstream {
    /// Wraps hyper's body.
    #[must_use]
    pub fn new(inner: Incoming) -> Self {
        Self { head: None, inner }
    }

    /// Reads until the first SSE event is complete (or `wait` passes) and says whether it is an error: an OpenAI
    /// style `data: {"error": ...}` or an Anthropic `event: error`. The bytes read stay in front of the body.
    ///
    /// # Errors
    ///
    /// `Err(true)` when `wait` passed first, `Err(false)` when the body failed.
    pub async fn peek_first_event(&mut self, wait: Duration) -> Result<FirstEvent, bool> {
        let mut buf = BytesMut::new();
        if let Some(h) = self.head.take() {
            buf.extend_from_slice(&h);
        }
        let read = async {
            loop {
                if event_end(&buf).is_some() || buf.len() >= PEEK_MAX {
                    return Ok(());
                }
                match self.inner.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(d) = frame.data_ref() {
                            buf.extend_from_slice(d);
                        }
                    }
                    Some(Err(_)) => return Err(false),
                    None => return Ok(()),
                }
            }
        };
        let res = match tokio::time::timeout(wait, read).await {
            Err(_) => Err(true),
            Ok(r) => r,
        };
        let verdict = match event_end(&buf) {
            Some(end) if is_error_event(&buf[..end]) => FirstEvent::Error,
            _ => FirstEvent::Data,
        };
        self.head = Some(buf.freeze());
        res.map(|()| verdict)
    }
}

/// The end of the first SSE event (after its blank line).
fn event_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether one SSE event reports an error.
fn is_error_event(event: &[u8]) -> bool {
    let text = String::from_utf8_lossy(event);
    let mut data = String::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("event:") {
            if name.trim() == "error" {
                return true;
            }
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    serde_json::from_str::<serde_json::Value>(&data)
        .ok()
        .is_some_and(|v| v.get("error").is_some_and(|e| !e.is_null()))
}

impl Body for Upstream {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if let Some(h) = self.head.take()
            && !h.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(h))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.head.as_ref().is_none_or(Bytes::is_empty) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::{event_end, is_error_event};

    #[test]
    fn recognises_error_events_of_both_dialects() {
        assert!(is_error_event(b"data: {\"error\":{\"message\":\"boom\"}}\n\n"));
        assert!(is_error_event(
            b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\n"
        ));
        assert!(!is_error_event(b"data: {\"id\":\"c\",\"choices\":[]}\n\n"));
        assert!(!is_error_event(
            b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
        ));
        assert!(!is_error_event(b": keep-alive\n\n"));
        assert_eq!(event_end(b"data: x\n\ndata: y\n\n"), Some(9));
        assert_eq!(event_end(b"data: x\r\n\r\n"), Some(11));
        assert_eq!(event_end(b"data: x\n"), None);
    }
}
