//! OpenAI response bodies and SSE chunks, field for field as vLLM serializes them.
//!
//! Ids are `chatcmpl-`/`cmpl-` plus 32 hex digits, unique per replica and request. Streaming chunks carry
//! `"usage": null` only when the client asked for `stream_options.include_usage`, in which case a last chunk with
//! `"choices": []` carries the usage.
//!
//! A tool call is `message.tool_calls: [{id, type: "function", function: {name, arguments}}]` (arguments a JSON
//! string). Streamed, it is a header delta `tool_calls: [{index: 0, id, type, function: {name, arguments: ""}}]`,
//! argument deltas `tool_calls: [{index: 0, function: {arguments}}]`, and a finish chunk with `delta: {}`; like
//! vLLM (pydantic's `exclude_unset`), unset delta fields are absent rather than `null`.

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

/// A tool call as a response renders it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ToolCallRef<'a> {
    /// `chatcmpl-tool-…`.
    pub(crate) id: &'a str,
    /// Function name.
    pub(crate) name: &'a str,
    /// Arguments JSON as generated.
    pub(crate) arguments: &'a str,
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
struct ChatChoice<'a, T> {
    index: u32,
    message: ChatMessage<'a, T>,
    logprobs: Option<()>,
    finish_reason: &'static str,
    stop_reason: Option<()>,
}

#[derive(Serialize)]
struct ChatMessage<'a, T> {
    role: &'static str,
    content: Option<&'a str>,
    reasoning_content: Option<()>,
    tool_calls: T,
}

/// A complete call in a non-streaming message.
#[derive(Serialize)]
struct ToolCallBody<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionBody<'a>,
}

#[derive(Serialize)]
struct FunctionBody<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct ChatChunkChoice<D> {
    index: u32,
    delta: D,
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

/// A streamed piece of a call: the header (id, type, name, empty arguments) or an arguments fragment.
#[derive(Serialize)]
struct ToolDelta<'a> {
    tool_calls: [ToolCallDelta<'a>; 1],
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// `delta: {}` of a finish chunk that adds nothing.
#[derive(Serialize)]
struct EmptyDelta {}

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
                    content: Some(text),
                    reasoning_content: None,
                    tool_calls: [(); 0],
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

    /// The complete chat response carrying a tool call; `content` and `finish_reason` as [`super::tools::CallKind`]
    /// says.
    pub(crate) fn tool_call_response(
        &self,
        call: &ToolCallRef<'_>,
        content: Option<&str>,
        finish_reason: &'static str,
        usage: Usage,
    ) -> Vec<u8> {
        let message = ChatMessage {
            role: "assistant",
            content,
            reasoning_content: None,
            tool_calls: [ToolCallBody {
                id: call.id,
                kind: "function",
                function: FunctionBody {
                    name: call.name,
                    arguments: call.arguments,
                },
            }],
        };
        let choice = ChatChoice {
            index: 0,
            message,
            logprobs: None,
            finish_reason,
            stop_reason: None,
        };
        self.to_json("chat.completion", [choice], Some(Some(usage_body(usage))))
    }

    /// The chunk that opens a streamed call: id, type, name and empty arguments.
    pub(crate) fn tool_header_event(&self, id: &str, name: &str, include_usage: bool) -> Vec<u8> {
        let delta = ToolCallDelta {
            index: 0,
            id: Some(id),
            kind: Some("function"),
            function: FunctionDelta {
                name: Some(name),
                arguments: "",
            },
        };
        self.chat_chunk(ToolDelta { tool_calls: [delta] }, None, include_usage)
    }

    /// A chunk with the next fragment of a streamed call's arguments.
    pub(crate) fn tool_arguments_event(&self, fragment: &str, include_usage: bool) -> Vec<u8> {
        let delta = ToolCallDelta {
            index: 0,
            id: None,
            kind: None,
            function: FunctionDelta {
                name: None,
                arguments: fragment,
            },
        };
        self.chat_chunk(ToolDelta { tool_calls: [delta] }, None, include_usage)
    }

    /// The chunk that ends a streamed call: `delta: {}` and the finish reason.
    pub(crate) fn finish_event(&self, finish_reason: &'static str, include_usage: bool) -> Vec<u8> {
        self.chat_chunk(EmptyDelta {}, Some(finish_reason), include_usage)
    }

    /// One SSE event for one token. `role` is set on the chat role announcement (`content: ""`).
    pub(crate) fn token_event(
        &self,
        text: &str,
        role: bool,
        finish: Option<FinishReason>,
        include_usage: bool,
    ) -> Vec<u8> {
        let finish_reason = finish.map(FinishReason::as_str);
        match self.kind {
            Kind::Chat => {
                let delta = Delta {
                    role: role.then_some("assistant"),
                    content: text,
                };
                self.chat_chunk(delta, finish_reason, include_usage)
            }
            Kind::Completion => {
                let choice = TextChoice {
                    index: 0,
                    text,
                    logprobs: None,
                    finish_reason,
                    stop_reason: None,
                };
                sse(&self.to_json("text_completion", [choice], include_usage.then_some(None)))
            }
        }
    }

    /// One chat SSE event; `stop_reason: null` is present only on the finish chunk, as in vLLM.
    fn chat_chunk<D: Serialize>(&self, delta: D, finish_reason: Option<&'static str>, include_usage: bool) -> Vec<u8> {
        let choice = ChatChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
            stop_reason: finish_reason.map(|_| None),
        };
        sse(&self.to_json("chat.completion.chunk", [choice], include_usage.then_some(None)))
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
