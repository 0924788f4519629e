//! What [`MockBedrock`](crate::MockBedrock) answers: a [`BedrockReply`] chosen by the test.

use serde_json::Value;

use crate::reply::{Pacing, StreamGate};

/// How the mock answers an accepted Converse request: whole for `/converse`, as binary event-stream frames for
/// `/converse-stream` (`messageStart`, one `contentBlockDelta` per word, tool blocks with their input in two
/// fragments, `messageStop`, then `metadata` with the usage).
#[derive(Clone, Debug)]
pub struct BedrockReply {
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Content(Content),
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub(crate) text: String,
    pub(crate) tools: Vec<(String, String, Value)>,
    pub(crate) stop_reason: String,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
    pub(crate) exception_after: Option<(usize, String, String)>,
    pub(crate) cut: bool,
    pub(crate) pacing: Pacing,
}

// === impl BedrockReply ===

impl BedrockReply {
    /// A text answer, `stopReason: end_turn`.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: Kind::Content(Content {
                text: text.into(),
                tools: Vec::new(),
                stop_reason: "end_turn".into(),
                cache_read: 0,
                cache_write: 0,
                exception_after: None,
                cut: false,
                pacing: Pacing::Immediate,
            }),
        }
    }

    /// A tool call (after any text), `stopReason: tool_use`.
    #[must_use]
    pub fn with_tool_use(mut self, id: &str, name: &str, input: Value) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.tools.push((id.into(), name.into(), input));
            c.stop_reason = "tool_use".into();
        }
        self
    }

    /// Reports prompt-cache reads and writes in `usage` (on top of `inputTokens`, as Bedrock counts them).
    #[must_use]
    pub fn with_cache(mut self, read: u64, write: u64) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.cache_read = read;
            c.cache_write = write;
        }
        self
    }

    /// Streams: after `chunks` text deltas, an exception frame (`:exception-type`, e.g. `throttlingException`).
    #[must_use]
    pub fn with_exception_after(mut self, chunks: usize, exception_type: &str, message: &str) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.exception_after = Some((chunks, exception_type.into(), message.into()));
        }
        self
    }

    /// Streams: the connection ends after the text deltas, before `messageStop`.
    #[must_use]
    pub fn cut(mut self) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.cut = true;
        }
        self
    }

    /// Streams: each text delta waits for the returned gate, the rest for [`StreamGate::finish`].
    #[must_use]
    pub fn gated(mut self) -> (Self, StreamGate) {
        let (gate, pacing) = StreamGate::new();
        if let Kind::Content(c) = &mut self.kind {
            c.pacing = pacing;
        }
        (self, gate)
    }

    /// An error: `status`, `x-amzn-ErrorType: <error_type>`, body `{"message": …}`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            kind: Kind::Error {
                status,
                error_type: error_type.into(),
                message: message.into(),
            },
        }
    }
}
