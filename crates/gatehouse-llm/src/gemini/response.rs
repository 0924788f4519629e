//! Gemini `GenerateContentResponse` → OpenAI `chat.completion`.
//!
//! - Only the first candidate is read (the request never asks for more: `n` > 1 is refused).
//! - `text` parts are concatenated into `message.content` (`null` when there is none); parts with
//!   `thought: true` into the non-standard `message.reasoning_content`.
//! - `functionCall` parts become `tool_calls` (`arguments` = the compact JSON of `args`, `{}` when absent) with
//!   synthesized ids `call_<responseId>_<n>` (Gemini's own `functionCall.id` when it sends one), carrying any
//!   `thoughtSignature` after [`THOUGHT_SEPARATOR`](super::THOUGHT_SEPARATOR).
//! - `finishReason` via [`finish_reason`](super::finish_reason) (`STOP` with calls → `tool_calls`); a prompt
//!   blocked before generation (`promptFeedback.blockReason`, no candidates) → `content: null`,
//!   `finish_reason: content_filter`.
//! - `id` = `responseId`, else the server's fallback; `usage` as in [`usage`](super::usage).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::ResponseContext;
use super::usage::UsageMetadata;
use crate::LlmError;
use crate::anthropic::TranslatedResponse;
use crate::anthropic::json::{CowStr, compact, truncate};
use crate::anthropic::response::{write_completion_head, write_message_text, write_tool_calls};

/// The parts of a `GenerateContentResponse` the translation reads (stream chunks have the same shape).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GenerateContentResponse<'a> {
    #[serde(default, borrow)]
    pub(super) candidates: Vec<Candidate<'a>>,
    #[serde(default)]
    pub(super) usage_metadata: Option<UsageMetadata>,
    #[serde(default, borrow)]
    pub(super) response_id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    pub(super) prompt_feedback: Option<PromptFeedback<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Candidate<'a> {
    #[serde(default, borrow)]
    pub(super) content: Option<CandidateContent<'a>>,
    #[serde(default, borrow)]
    pub(super) finish_reason: Option<CowStr<'a>>,
}

#[derive(Deserialize)]
pub(super) struct CandidateContent<'a> {
    #[serde(default, borrow)]
    pub(super) parts: Vec<ResponsePart<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResponsePart<'a> {
    #[serde(default, borrow)]
    pub(super) text: Option<CowStr<'a>>,
    #[serde(default)]
    pub(super) thought: Option<bool>,
    #[serde(default, borrow)]
    pub(super) function_call: Option<ResponseCall<'a>>,
    #[serde(default, borrow)]
    pub(super) thought_signature: Option<CowStr<'a>>,
}

#[derive(Deserialize)]
pub(super) struct ResponseCall<'a> {
    #[serde(default, borrow)]
    pub(super) id: Option<CowStr<'a>>,
    #[serde(borrow)]
    pub(super) name: CowStr<'a>,
    #[serde(default, borrow)]
    pub(super) args: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PromptFeedback<'a> {
    #[serde(default, borrow)]
    pub(super) block_reason: Option<CowStr<'a>>,
}

/// A tool call read from a `functionCall` part: id (signature included), name, compact arguments.
pub(super) struct Call {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) arguments: String,
}

/// Translates a Gemini response into an OpenAI chat completion and the usage to meter.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not a `GenerateContentResponse`.
pub fn translate_response(gemini_body: &[u8], ctx: &ResponseContext) -> Result<TranslatedResponse, LlmError> {
    let text = std::str::from_utf8(gemini_body).map_err(|_| LlmError::upstream_invalid("body is not UTF-8"))?;
    let resp: GenerateContentResponse<'_> =
        serde_json::from_str(text).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;
    let id = resp.response_id.as_deref().unwrap_or(&ctx.fallback_id).to_string();
    let mut texts = String::new();
    let mut thoughts = String::new();
    let mut calls: Vec<Call> = Vec::new();
    let candidate = resp.candidates.first();
    for part in candidate
        .and_then(|c| c.content.as_ref())
        .map_or(&[][..], |c| &c.parts[..])
    {
        if let Some(call) = &part.function_call {
            calls.push(read_call(call, part.thought_signature.as_deref(), &id, calls.len()));
        } else if let Some(t) = &part.text {
            if part.thought == Some(true) {
                thoughts.push_str(t);
            } else {
                texts.push_str(t);
            }
        }
    }
    let (finish_reason, unknown_stop_reason) = match candidate.and_then(|c| c.finish_reason.as_deref()) {
        Some(reason) => match super::finish_reason(reason, !calls.is_empty()) {
            Some(f) => (f, None),
            None => ("stop", Some(truncate(reason, 64).into_owned())),
        },
        None if candidate.is_none() && resp.prompt_feedback.as_ref().is_some_and(|f| f.block_reason.is_some()) => {
            ("content_filter", None)
        }
        None if !calls.is_empty() => ("tool_calls", None),
        None => ("stop", None),
    };
    let usage_meta = resp.usage_metadata.unwrap_or_default();

    let mut out = Vec::with_capacity(text.len() + 256);
    write_completion_head(&mut out, &id, ctx.created, &ctx.model);
    write_message_text(&mut out, &texts, &thoughts);
    write_tool_calls(
        &mut out,
        calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str())),
    );
    out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":\"");
    out.extend_from_slice(finish_reason.as_bytes());
    out.extend_from_slice(b"\"}],\"usage\":");
    usage_meta.write_openai(&mut out);
    out.push(b'}');
    Ok(TranslatedResponse {
        body: out,
        usage: usage_meta.to_usage(),
        finish_reason,
        unknown_stop_reason,
    })
}

/// A `functionCall` part as an OpenAI tool call; `n` is its position among the reply's calls.
pub(super) fn read_call(call: &ResponseCall<'_>, signature: Option<&str>, response_id: &str, n: usize) -> Call {
    let mut id = match call.id.as_deref().filter(|i| !i.is_empty()) {
        Some(own) => truncate(own, 64).into_owned(),
        None => format!("call_{}_{n}", truncate(response_id, 48)),
    };
    if let Some(sig) = signature.filter(|s| !s.is_empty()) {
        id.push_str(super::THOUGHT_SEPARATOR);
        id.push_str(sig);
    }
    let mut arguments = String::new();
    match call.args {
        Some(raw) if raw.get().trim_start().starts_with('{') => compact(raw.get(), &mut arguments),
        _ => arguments.push_str("{}"),
    }
    Call {
        id,
        name: call.name.to_string(),
        arguments,
    }
}
