//! What [`MockGemini`](crate::MockGemini) answers: a [`GeminiReply`] chosen by the test.

use serde_json::{Value, json};

use crate::reply::{Pacing, StreamGate};

/// How the mock answers an accepted request. A successful reply is streamed (one chunk per word, function calls
/// whole in the last chunk with `finishReason` and the final `usageMetadata`) when the request went to
/// `streamGenerateContent`, and returned whole otherwise.
#[derive(Clone, Debug)]
pub struct GeminiReply {
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Content(Content),
    Status { status: u16, body: Value },
}

/// A successful candidate.
#[derive(Clone, Debug)]
pub(crate) struct Content {
    /// Parts in order (`{"text"}`, `{"text","thought":true}`, `{"functionCall"}`).
    pub(crate) parts: Vec<Value>,
    pub(crate) finish_reason: String,
    pub(crate) cached_tokens: u64,
    /// Stream only: after this many content chunks, send an error event instead of the rest.
    pub(crate) error_after: Option<(usize, Value)>,
    /// Stream only: end the connection after the content chunks, without the final chunk.
    pub(crate) cut: bool,
    /// Stream only: when each chunk may go out.
    pub(crate) pacing: Pacing,
}

// === impl GeminiReply ===

impl GeminiReply {
    /// A text answer, `finishReason: STOP`.
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(vec![json!({"text": text.into()})])
    }

    /// A function call (`args` an object), `finishReason: STOP` (Gemini's reason for a tool turn too).
    pub fn function_call(name: &str, args: Value) -> Self {
        Self::content(vec![json!({"functionCall": {"name": name, "args": args}})])
    }

    /// An error status with Google's error JSON, e.g. `GeminiReply::error(429, "RESOURCE_EXHAUSTED", "...")`.
    pub fn error(status: u16, status_name: &str, message: &str) -> Self {
        Self::status(
            status,
            json!({"error": {"code": status, "message": message, "status": status_name}}),
        )
    }

    /// Any status with this JSON body.
    pub fn status(status: u16, body: Value) -> Self {
        Self {
            kind: Kind::Status { status, body },
        }
    }

    /// Adds a text part after the existing ones.
    #[must_use]
    pub fn with_text(self, text: &str) -> Self {
        self.with_part(json!({"text": text}))
    }

    /// Adds a function call part (with an optional `thoughtSignature`, as Gemini 3 sends).
    #[must_use]
    pub fn with_call(self, name: &str, args: Value, signature: Option<&str>) -> Self {
        let mut part = json!({"functionCall": {"name": name, "args": args}});
        if let Some(sig) = signature {
            part["thoughtSignature"] = json!(sig);
        }
        self.with_part(part)
    }

    /// Puts a thought summary part (`thought: true`) first; its words count as `thoughtsTokenCount`.
    #[must_use]
    pub fn with_thought(mut self, text: &str) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.parts.insert(0, json!({"text": text, "thought": true}));
        }
        self
    }

    /// Replaces `finishReason` (e.g. `MAX_TOKENS`, `SAFETY`).
    #[must_use]
    pub fn with_finish(mut self, reason: &str) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.finish_reason = reason.to_string();
        }
        self
    }

    /// Reports `tokens` of the prompt as served from the context cache (`cachedContentTokenCount`, included in
    /// `promptTokenCount` as Gemini does).
    #[must_use]
    pub fn with_cached_tokens(mut self, tokens: u64) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.cached_tokens = tokens;
        }
        self
    }

    /// Streams: after `chunks` content chunks, an error event (`{"error":{code,message,status}}`) ends the stream.
    #[must_use]
    pub fn with_error_after(mut self, chunks: usize, status: u16, status_name: &str, message: &str) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.error_after = Some((
                chunks,
                json!({"error": {"code": status, "message": message, "status": status_name}}),
            ));
        }
        self
    }

    /// Streams: the connection ends after the content chunks, without the final chunk.
    #[must_use]
    pub fn cut(mut self) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.cut = true;
        }
        self
    }

    /// Streams: each content chunk waits for the returned gate to release it, the final chunk for
    /// [`StreamGate::finish`] — so a test can prove the gateway relays a chunk before Gemini has finished.
    #[must_use]
    pub fn gated(mut self) -> (Self, StreamGate) {
        let (gate, pacing) = StreamGate::new();
        if let Kind::Content(c) = &mut self.kind {
            c.pacing = pacing;
        }
        (self, gate)
    }

    fn content(parts: Vec<Value>) -> Self {
        Self {
            kind: Kind::Content(Content {
                parts,
                finish_reason: "STOP".into(),
                cached_tokens: 0,
                error_after: None,
                cut: false,
                pacing: Pacing::Immediate,
            }),
        }
    }

    fn with_part(mut self, part: Value) -> Self {
        if let Kind::Content(c) = &mut self.kind {
            c.parts.push(part);
        }
        self
    }
}
