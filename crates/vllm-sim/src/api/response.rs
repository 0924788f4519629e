//! OpenAI response bodies and SSE chunks, field for field as vLLM serializes them.
//!
//! Ids are `chatcmpl-`/`cmpl-` plus 32 hex digits, unique per replica and request. Streaming chunks carry `"usage": null` only when the client
//! asked for `stream_options.include_usage`, in which case a last chunk with `"choices": []` carries the usage.

use serde::Serialize;

use crate::engine::{FinishReason, Usage};

/// Which endpoint a response belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `/v1/chat/completions`
    Chat,
    /// `/v1/completions`
    Completion,
}

/// What every response and chunk of one request repeats.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    /// Endpoint.
    pub(crate) kind: Kind,
    /// `chatcmpl-…` or `cmpl-…`.
    pub(crate) id: String,
    /// Unix seconds.
    pub(crate) created: u64,
    /// Model as requested.
    pub(crate) model: String,
}

#[derive(Serialize)]
struct Envelope<'a, C> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: C,
    /// Outer `None`: field absent; `Some(None)`: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<UsageBody>>,
}

#[derive(Serialize)]
struct UsageBody {
    prompt_tokens: usize,
    total_tokens: usize,
    completion_tokens: usize,
    prompt_tokens_details: PromptDetails,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: usize,
}

#[derive(Serialize)]
struct ChatChoice<'a> {
    index: u32,
    message: ChatMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
    stop_reason: Option<()>,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: &'a str,
    reasoning_content: Option<()>,
    tool_calls: [(); 0],
}

#[derive(Serialize)]
struct ChatChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_reason: Option<Option<()>>,
}

#[derive(Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    content: &'a str,
}

#[derive(Serialize)]
struct TextChoice<'a> {
    index: u32,
    text: &'a str,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
    stop_reason: Option<()>,
}

// === impl Meta ===

impl Meta {
    /// The complete (non-streaming) response body.
    pub(crate) fn full_response(&self, text: &str, reason: FinishReason, usage: Usage) -> Vec<u8> {
        let usage = Some(Some(usage_body(usage)));
        match self.kind {
            Kind::Chat => {
                let message = ChatMessage {
                    role: "assistant",
                    content: text,
                    reasoning_content: None,
                    tool_calls: [],
                };
                let choice = ChatChoice {
                    index: 0,
                    message,
                    logprobs: None,
                    finish_reason: reason.as_str(),
                    stop_reason: None,
                };
                self.to_json("chat.completion", [choice], usage)
            }
            Kind::Completion => {
                let choice = TextChoice {
                    index: 0,
                    text,
                    logprobs: None,
                    finish_reason: Some(reason.as_str()),
                    stop_reason: None,
                };
                self.to_json("text_completion", [choice], usage)
            }
        }
    }

    /// One SSE event for one token. `role` is set on the chat role announcement (`content: ""`).
    pub(crate) fn token_event(
        &self,
        text: &str,
        role: bool,
        finish: Option<FinishReason>,
        include_usage: bool,
    ) -> Vec<u8> {
        let usage = include_usage.then_some(None);
        let finish_reason = finish.map(FinishReason::as_str);
        let json = match self.kind {
            Kind::Chat => {
                let delta = Delta {
                    role: role.then_some("assistant"),
                    content: text,
                };
                let stop_reason = finish.map(|_| None);
                let choice = ChatChunkChoice {
                    index: 0,
                    delta,
                    logprobs: None,
                    finish_reason,
                    stop_reason,
                };
                self.to_json("chat.completion.chunk", [choice], usage)
            }
            Kind::Completion => {
                let choice = TextChoice {
                    index: 0,
                    text,
                    logprobs: None,
                    finish_reason,
                    stop_reason: None,
                };
                self.to_json("text_completion", [choice], usage)
            }
        };
        sse(&json)
    }

    /// The extra last event of `include_usage` streams: no choices, the usage.
    pub(crate) fn usage_event(&self, usage: Usage) -> Vec<u8> {
        let object = match self.kind {
            Kind::Chat => "chat.completion.chunk",
            Kind::Completion => "text_completion",
        };
        sse(&self.to_json(object, [(); 0], Some(Some(usage_body(usage)))))
    }

    fn to_json<C: Serialize>(&self, object: &'static str, choices: C, usage: Option<Option<UsageBody>>) -> Vec<u8> {
        let envelope = Envelope {
            id: &self.id,
            object,
            created: self.created,
            model: &self.model,
            choices,
            usage,
        };
        // Serializing these plain structs cannot fail; an empty object keeps the stream well-formed if it ever did.
        serde_json::to_vec(&envelope).unwrap_or_else(|_| b"{}".to_vec())
    }
}

// === impl FinishReason ===

impl FinishReason {
    /// The `finish_reason` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
        }
    }
}

/// The stream terminator.
pub(crate) const DONE: &[u8] = b"data: [DONE]\n\n";

fn sse(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 8);
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
    out
}

fn usage_body(u: Usage) -> UsageBody {
    UsageBody {
        prompt_tokens: u.prompt_tokens,
        total_tokens: u.prompt_tokens + u.completion_tokens,
        completion_tokens: u.completion_tokens,
        prompt_tokens_details: PromptDetails {
            cached_tokens: u.cached_tokens,
        },
    }
}
