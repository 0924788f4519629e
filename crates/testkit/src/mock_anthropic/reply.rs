//! What [`MockAnthropic`](crate::MockAnthropic) answers: the [`AnthropicReply`] a test chooses.
//!
//! A reply is a description, cheap to clone: the mock keeps one as its default and clones it for every request.
//! A message reply is sent as JSON, or as an Anthropic SSE stream when the request says `"stream": true`; pacing,
//! gates, mid-stream errors and cuts only shape the stream. Turning a reply into HTTP happens in
//! [`super::render`], once the request has been validated.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

use crate::reply::{Pacing, StreamGate, header_value, status_code};

/// How the mock answers a valid `POST /v1/messages`. Refused requests are answered with an Anthropic error and
/// never consume a reply.
///
/// Build one with a constructor, then refine it: [`and_tool_use`](Self::and_tool_use), the usage and stop-reason
/// setters, and the stream shapers ([`with_chunk_delay`](Self::with_chunk_delay), [`gated`](Self::gated),
/// [`with_error_after`](Self::with_error_after), [`with_cut_after`](Self::with_cut_after)).
#[derive(Clone, Debug)]
pub struct AnthropicReply {
    pub(super) kind: Kind,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Clone, Debug)]
pub(super) enum Kind {
    Message(Box<Message>),
    Error {
        status: StatusCode,
        error_type: String,
        message: String,
    },
    Raw {
        status: StatusCode,
        content_type: HeaderValue,
        body: Bytes,
    },
    Delay(Duration, Box<AnthropicReply>),
    Hang,
}

/// A successful message and how to stream it.
#[derive(Clone, Debug)]
pub(super) struct Message {
    pub(super) blocks: Vec<Block>,
    /// `None`: `tool_use` when there is a tool block, else `end_turn`.
    pub(super) stop_reason: Option<String>,
    pub(super) stop_sequence: Option<String>,
    pub(super) usage: UsageOverride,
    pub(super) pacing: Pacing,
    pub(super) ending: Ending,
    /// Send `event: ping` after the first `content_block_start`, as the real API does.
    pub(super) ping: bool,
}

/// One content block of the answer.
#[derive(Clone, Debug)]
pub(super) enum Block {
    Text(String),
    Thinking { thinking: String, signature: String },
    ToolUse { name: String, input: Value },
}

/// Token counts a test fixed; the others are computed (see [`AnthropicReply::message`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct UsageOverride {
    pub(super) input: Option<u64>,
    pub(super) output: Option<u64>,
    pub(super) cache_creation: Option<u64>,
    pub(super) cache_read: Option<u64>,
}

/// How a streamed message ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ending {
    /// `content_block_stop`, `message_delta`, `message_stop`.
    Complete,
    /// After this many deltas, `event: error` (`overloaded_error`) and the end of the body.
    ErrorAfter(usize),
    /// After this many deltas, the connection is dropped.
    CutAfter(usize),
}

/// The signature every scripted thinking block carries: opaque to gateways, fixed for assertions.
pub(super) const SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";

// === impl AnthropicReply ===

impl AnthropicReply {
    /// A message with one text block, `stop_reason: "end_turn"`. Echoes the request's `model`; usage counts
    /// whitespace words: `input_tokens` in `system` and the messages' text, `output_tokens` in the answer (text,
    /// thinking and tool input JSON); cache fields are 0. Override any of them with the usage setters.
    ///
    /// Streamed, each word is one `text_delta` (words after the first with a leading space).
    pub fn message(text: impl Into<String>) -> Self {
        Self::with_blocks(vec![Block::Text(text.into())])
    }

    /// A message with one `tool_use` block calling `name` with `input` (an object, as the real API always sends),
    /// `stop_reason: "tool_use"`; the block id is `toolu_mock_<request>_<block>`.
    ///
    /// Streamed, the block starts with `input: {}` and the input arrives as `input_json_delta`s: an empty first
    /// fragment (the real API often sends one), then the JSON split in three.
    pub fn tool_use(name: impl Into<String>, input: Value) -> Self {
        Self::with_blocks(Vec::new()).and_tool_use(name, input)
    }

    /// A message with a thinking block (signed with a fixed signature) followed by a text block.
    ///
    /// Streamed: `thinking_delta`s per word, one `signature_delta`, then the text block.
    pub fn thinking(thinking: impl Into<String>, text: impl Into<String>) -> Self {
        Self::with_blocks(vec![
            Block::Thinking {
                thinking: thinking.into(),
                signature: SIGNATURE.to_string(),
            },
            Block::Text(text.into()),
        ])
    }

    /// An HTTP error with Anthropic's error JSON (`{"type":"error","error":{"type","message"},"request_id"}`),
    /// e.g. `(429, "rate_limit_error", …)`, `(529, "overloaded_error", …)`, `(500, "api_error", …)`.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status: a bug in the test.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self::new(Kind::Error {
            status: status_code(status),
            error_type: error_type.to_string(),
            message: message.to_string(),
        })
    }

    /// A 429 `rate_limit_error` with `retry-after: <seconds>`, as the real API sends when a limit is hit.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::error(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
        )
        .with_retry_after(retry_after_secs)
    }

    /// A 529 `overloaded_error`: the API's "try again later" that gateways should fail over on.
    pub fn overloaded() -> Self {
        Self::error(529, "overloaded_error", "Overloaded")
    }

    /// Exactly these bytes, for malformed-upstream tests (broken JSON, truncated SSE, wrong content type).
    ///
    /// # Panics
    ///
    /// If `status` or `content_type` is invalid.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self::new(Kind::Raw {
            status: status_code(status),
            content_type: header_value(content_type),
            body: body.into(),
        })
    }

    /// Waits `delay` before sending anything (headers included), then answers with `then`: for timeout tests.
    pub fn delay(delay: Duration, then: AnthropicReply) -> Self {
        Self::new(Kind::Delay(delay, Box::new(then)))
    }

    /// Never answers, keeping the connection open: for first-byte timeout tests.
    pub fn hang() -> Self {
        Self::new(Kind::Hang)
    }

    /// Appends a `tool_use` block (after text, or after another tool for parallel calls); the default stop reason
    /// becomes `tool_use`.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message (see [`AnthropicReply::message`]).
    #[must_use]
    pub fn and_tool_use(mut self, name: impl Into<String>, input: Value) -> Self {
        self.message_mut("and_tool_use").blocks.push(Block::ToolUse {
            name: name.into(),
            input,
        });
        self
    }

    /// Sets `stop_reason` (e.g. `max_tokens`, `pause_turn`, `refusal`) instead of the computed one.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_stop_reason(mut self, reason: &str) -> Self {
        self.message_mut("with_stop_reason").stop_reason = Some(reason.to_string());
        self
    }

    /// Ends with `stop_reason: "stop_sequence"` and `stop_sequence: <sequence>`, as when a custom stop sequence
    /// matched.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_stop_sequence(mut self, sequence: &str) -> Self {
        let message = self.message_mut("with_stop_sequence");
        message.stop_reason = Some("stop_sequence".to_string());
        message.stop_sequence = Some(sequence.to_string());
        self
    }

    /// Reports `input_tokens: n` instead of the word count.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_input_tokens(mut self, n: u64) -> Self {
        self.message_mut("with_input_tokens").usage.input = Some(n);
        self
    }

    /// Reports `output_tokens: n` (the final count; `message_start` still says 1, as the real API does).
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_output_tokens(mut self, n: u64) -> Self {
        self.message_mut("with_output_tokens").usage.output = Some(n);
        self
    }

    /// Reports prompt-cache usage, so tests can prove the gateway sums
    /// `input + cache_creation + cache_read` into prompt tokens.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_cache_tokens(mut self, creation: u64, read: u64) -> Self {
        let usage = &mut self.message_mut("with_cache_tokens").usage;
        usage.cache_creation = Some(creation);
        usage.cache_read = Some(read);
        self
    }

    /// When streamed, sleeps `delay` before each delta: a slow model, for time-to-first-token and idle-timeout
    /// tests.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.message_mut("with_chunk_delay").pacing = Pacing::PerChunk(delay);
        self
    }

    /// Holds the response until the returned [`StreamGate`] says so. Streamed: `message_start` goes out at once,
    /// each [`StreamGate::release`] lets one more delta out (with the block start/stop events around it), and
    /// [`StreamGate::finish`] lets out the rest and the closing events. Not streamed: the JSON body waits for
    /// `finish`. Every request served from this reply shares the gate.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    pub fn gated(mut self) -> (Self, StreamGate) {
        let (gate, pacing) = StreamGate::new();
        self.message_mut("gated").pacing = pacing;
        (self, gate)
    }

    /// When streamed, sends `deltas` deltas, then `event: error` with an `overloaded_error` (as the real API does
    /// after HTTP 200 when it runs out of capacity) and ends the body. With a gate, the error waits for `finish`.
    /// A non-streamed request gets the whole message.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_error_after(mut self, deltas: usize) -> Self {
        self.message_mut("with_error_after").ending = Ending::ErrorAfter(deltas);
        self
    }

    /// When streamed, sends `deltas` deltas and then drops the connection without ending the stream (HTTP/1: no
    /// final chunk; HTTP/2: a reset). A non-streamed request gets the headers and half of the JSON body before the
    /// cut. With a gate, the cut waits for `finish`.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn with_cut_after(mut self, deltas: usize) -> Self {
        self.message_mut("with_cut_after").ending = Ending::CutAfter(deltas);
        self
    }

    /// Leaves out the `event: ping` a stream otherwise carries after its first `content_block_start`.
    ///
    /// # Panics
    ///
    /// On a reply that is not a message.
    #[must_use]
    pub fn without_ping(mut self) -> Self {
        self.message_mut("without_ping").ping = false;
        self
    }

    /// Adds `retry-after: <seconds>`, which gateways and SDKs must honour.
    #[must_use]
    pub fn with_retry_after(self, seconds: u64) -> Self {
        self.with_header("retry-after", &seconds.to_string())
    }

    /// Adds a response header (appended, so repeating a name sends it twice), e.g. the
    /// `anthropic-ratelimit-*` family.
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

    fn with_blocks(blocks: Vec<Block>) -> Self {
        Self::new(Kind::Message(Box::new(Message {
            blocks,
            stop_reason: None,
            stop_sequence: None,
            usage: UsageOverride::default(),
            pacing: Pacing::Immediate,
            ending: Ending::Complete,
            ping: true,
        })))
    }

    fn new(kind: Kind) -> Self {
        Self {
            kind,
            headers: Vec::new(),
        }
    }

    fn message_mut(&mut self, what: &str) -> &mut Message {
        match &mut self.kind {
            Kind::Message(message) => message,
            other => {
                panic!("AnthropicReply::{what} only applies to message replies (apply it before delay), not {other:?}")
            }
        }
    }
}

// === impl Message ===

impl Message {
    /// The `stop_reason` to report.
    pub(super) fn stop_reason(&self) -> &str {
        match &self.stop_reason {
            Some(reason) => reason,
            None if self.blocks.iter().any(|b| matches!(b, Block::ToolUse { .. })) => "tool_use",
            None => "end_turn",
        }
    }
}
