//! What a mock answers: the [`Reply`] a test chooses, and the [`StreamGate`] that paces a gated stream.
//!
//! A `Reply` is a description, cheap to clone: the mock keeps one as its default and clones it for every request.
//! Turning it into an HTTP response happens in [`crate::render`], once the request has been validated.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use tokio::sync::watch;

/// How the mock answers a valid generation request (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`).
///
/// Built with the constructors below, then optionally [`with_header`](Reply::with_header). Requests the mock
/// refuses are answered with an OpenAI error and never consume a reply.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) kind: Kind,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A successful completion of this text (streamed when the request asks).
    Text(String),
    Status {
        status: StatusCode,
        body: serde_json::Value,
    },
    Raw {
        status: StatusCode,
        content_type: HeaderValue,
        body: Bytes,
    },
    Delay(Duration, Box<Reply>),
    Hang,
    /// Always streamed, one word per chunk, paced as given.
    Stream {
        words: Vec<String>,
        pacing: Pacing,
    },
}

/// When each frame of a streamed reply may be sent.
#[derive(Clone, Debug)]
pub(crate) enum Pacing {
    Immediate,
    /// Sleep this long before each content chunk.
    PerChunk(Duration),
    /// Wait for the test to release chunks through a [`StreamGate`].
    Gate(watch::Receiver<GateState>),
}

/// How far a [`StreamGate`] has opened.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GateState {
    /// Content chunks (by position) allowed out.
    pub(crate) released: usize,
    /// Everything, including the final chunk, usage and `[DONE]`, allowed out.
    pub(crate) finished: bool,
}

/// The test's side of [`Reply::gated_stream`] and [`crate::AnthropicReply::gated`]: nothing is sent until it says
/// so, which lets a test prove the gateway forwards a chunk *before* the upstream has finished.
///
/// Chunks are counted by position, so every stream served from the same reply moves in lockstep. Dropping the
/// gate without [`finish`](StreamGate::finish) leaves open streams hanging until the client or the mock goes away.
#[derive(Debug)]
pub struct StreamGate {
    tx: watch::Sender<GateState>,
}

// === impl Reply ===

impl Reply {
    /// A successful reply with content `text`, shaped for the endpoint: a `chat.completion`, a `text_completion`,
    /// or an embedding list (one small fixed vector per input; `text` unused). Echoes the request's `model`;
    /// `usage` counts whitespace words (prompt: in the request, completion: in `text`).
    ///
    /// With `"stream": true` it streams like OpenAI: one chunk per word (the first with `delta.role`), a chunk with
    /// `finish_reason`, then, only if `stream_options.include_usage` is true, a `"choices": []` usage chunk (every
    /// chunk then carries `"usage": null`), and `data: [DONE]`.
    pub fn chat(text: impl Into<String>) -> Self {
        Self::new(Kind::Text(text.into()))
    }

    /// An HTTP error (or any status) with a JSON body, e.g. a 429 with OpenAI's error shape.
    pub fn status(status: u16, body: serde_json::Value) -> Self {
        Self::new(Kind::Status {
            status: status_code(status),
            body,
        })
    }

    /// Exactly these bytes, for malformed-upstream tests (broken JSON, truncated SSE, wrong content type).
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status or `content_type` not a valid header value.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::new(Kind::Raw {
            status: status_code(status),
            content_type: header_value(content_type),
            body: body.into(),
        })
    }

    /// Waits `delay` before sending anything (headers included), then answers with `then`: for timeout tests.
    pub fn delay(delay: Duration, then: Reply) -> Self {
        Self::new(Kind::Delay(delay, Box::new(then)))
    }

    /// Never answers, keeping the connection open: for first-byte timeout tests.
    pub fn hang() -> Self {
        Self::new(Kind::Hang)
    }

    /// A stream (always SSE, whatever `"stream"` says) with one chunk per entry of `words`, each sent only once the
    /// returned [`StreamGate`] releases it. Words after the first get a leading space, as [`Reply::chat`] does.
    /// The final chunk, the usage chunk and `[DONE]` wait for [`StreamGate::finish`].
    pub fn gated_stream(words: &[&str]) -> (Self, StreamGate) {
        let (gate, pacing) = StreamGate::new();
        let reply = Self::new(Kind::Stream {
            words: words.iter().map(|w| (*w).to_string()).collect(),
            pacing,
        });
        (reply, gate)
    }

    /// A stream (always SSE) of the words of `text`, sleeping `per_chunk` before each content chunk: a slow model.
    pub fn stream_with_delay(text: &str, per_chunk: Duration) -> Self {
        Self::new(Kind::Stream {
            words: text.split_whitespace().map(str::to_string).collect(),
            pacing: Pacing::PerChunk(per_chunk),
        })
    }

    /// Adds a response header (appended, so repeating a name sends it twice), e.g. `retry-after`.
    ///
    /// # Panics
    ///
    /// If `name` or `value` is not a valid header: a bug in the test.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::try_from(name).unwrap_or_else(|e| panic!("invalid header name {name:?}: {e}"));
        self.headers.push((name, header_value(value)));
        self
    }

    fn new(kind: Kind) -> Self {
        Self {
            kind,
            headers: Vec::new(),
        }
    }
}

/// `status` as a [`StatusCode`]; panics on an invalid one, a bug in the test.
pub(crate) fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or_else(|e| panic!("invalid status {status}: {e}"))
}

/// `value` as a [`HeaderValue`]; panics on an invalid one, a bug in the test.
pub(crate) fn header_value(value: &str) -> HeaderValue {
    HeaderValue::try_from(value).unwrap_or_else(|e| panic!("invalid header value {value:?}: {e}"))
}

// === impl Pacing ===

impl Pacing {
    /// Waits until content chunk `index` (0-based) may be sent.
    pub(crate) async fn before_chunk(&mut self, index: usize) {
        match self {
            Self::Immediate => {}
            Self::PerChunk(d) => tokio::time::sleep(*d).await,
            Self::Gate(rx) => wait_gate(rx, |s| s.finished || s.released > index).await,
        }
    }

    /// Waits until the closing frames (final chunk, usage, `[DONE]`) may be sent.
    pub(crate) async fn before_tail(&mut self) {
        if let Self::Gate(rx) = self {
            wait_gate(rx, |s| s.finished).await;
        }
    }
}

async fn wait_gate(rx: &mut watch::Receiver<GateState>, open: impl FnMut(&GateState) -> bool) {
    if rx.wait_for(open).await.is_err() {
        // The gate was dropped without opening this far: hold the stream open, as documented on `StreamGate`.
        std::future::pending::<()>().await;
    }
}

// === impl StreamGate ===

impl StreamGate {
    /// A closed gate and the pacing that obeys it.
    pub(crate) fn new() -> (Self, Pacing) {
        let (tx, rx) = watch::channel(GateState::default());
        (Self { tx }, Pacing::Gate(rx))
    }

    /// Lets `n` more content chunks out.
    pub fn release(&self, n: usize) {
        self.tx.send_modify(|s| s.released = s.released.saturating_add(n));
    }

    /// Lets everything out: remaining chunks, the final chunk, usage (if asked) and `[DONE]`.
    pub fn finish(&self) {
        self.tx.send_modify(|s| s.finished = true);
    }
}
