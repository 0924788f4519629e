//! OpenAI `chat.completion` → Anthropic `Message`.
//!
//! - `id` = `msg_` + the OpenAI id without its `chatcmpl-` prefix; `model` from [`MessageContext`].
//! - Content, in the order Anthropic produces it: a `thinking` block from `reasoning` or `reasoning_content` (vLLM's
//!   new and old names; `signature: ""` because there is none, and gatehouse drops thinking blocks on the way back
//!   so it is never checked), a `text` block from `content` (or `refusal` when there is no content; skipped when
//!   empty), then one `tool_use` per tool call with `input` = the parsed `arguments`.
//! - Arguments that are not a JSON object become `input: {}` (as envoy ai-gateway does) and are counted in
//!   [`TranslatedMessage::invalid_tool_arguments`]: refusing the whole answer would lose the text around the call,
//!   and the client's tool then reports the missing parameters to the model, which can retry. Empty arguments
//!   (tools without parameters) are `{}` and not counted.
//! - A tool call without an id gets `toolu_<message id>_<n>` (the client must echo an id back).
//! - Only the first choice is read (the request never asks for `n` > 1).
//! - `stop_reason` and `stop_sequence` per [`stop_reason`](super::stop_reason); usage per [`tokens`](super::tokens).
//!   A response without `usage` reports zeros (vLLM and OpenAI always send it on non-streamed responses).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::tokens::{OpenAiUsage, write_message_usage};
use super::{MessageContext, TranslatedMessage, matched_stop, stop_reason};
use crate::LlmError;
use crate::anthropic::json::{CowStr, compact, write_str};

/// The parts of an OpenAI chat completion the translation reads.
#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow)]
    id: CowStr<'a>,
    #[serde(borrow)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    message: Message<'a>,
    #[serde(default, borrow)]
    finish_reason: Option<CowStr<'a>>,
    /// vLLM: the stop string (or token id) that ended the output.
    #[serde(default, borrow)]
    stop_reason: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    content: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    refusal: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    reasoning: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(default, borrow)]
    id: Option<CowStr<'a>>,
    #[serde(borrow)]
    function: Function<'a>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow)]
    name: CowStr<'a>,
    #[serde(default, borrow)]
    arguments: Option<CowStr<'a>>,
}

/// Translates an OpenAI chat completion into an Anthropic message and the usage to meter.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not a chat completion with at least one choice.
pub fn translate_response(openai_body: &[u8], ctx: &MessageContext<'_>) -> Result<TranslatedMessage, LlmError> {
    let text = std::str::from_utf8(openai_body).map_err(|_| LlmError::upstream_invalid("body is not UTF-8"))?;
    let completion: Completion<'_> =
        serde_json::from_str(text).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(LlmError::upstream_invalid("the completion has no choices"));
    };
    let id = message_id(&completion.id);
    let usage = completion.usage.unwrap_or_default().to_usage();
    let (stop, sequence) = stop_reason(choice.finish_reason.as_deref(), matched_stop(choice.stop_reason));
    let msg = choice.message;

    let mut out = Vec::with_capacity(text.len() + 256);
    out.extend_from_slice(b"{\"id\":");
    write_str(&mut out, &id);
    out.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
    write_str(&mut out, ctx.model);
    out.extend_from_slice(b",\"content\":[");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::replace(&mut first, false) {
            out.push(b',');
        }
    };
    let thinking = [&msg.reasoning, &msg.reasoning_content]
        .into_iter()
        .flatten()
        .find(|t| !t.is_empty());
    if let Some(thinking) = thinking {
        sep(&mut out);
        out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":");
        write_str(&mut out, thinking);
        out.extend_from_slice(b",\"signature\":\"\"}");
    }
    let answer = [&msg.content, &msg.refusal]
        .into_iter()
        .flatten()
        .find(|t| !t.is_empty());
    if let Some(answer) = answer {
        sep(&mut out);
        out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
        write_str(&mut out, answer);
        out.push(b'}');
    }
    let mut invalid_tool_arguments = 0;
    let mut input = String::new();
    for (n, call) in msg.tool_calls.unwrap_or_default().iter().enumerate() {
        sep(&mut out);
        out.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
        match call.id.as_deref().filter(|i| !i.is_empty()) {
            Some(call_id) => write_str(&mut out, call_id),
            None => write_str(&mut out, &format!("toolu_{id}_{n}")),
        }
        out.extend_from_slice(b",\"name\":");
        write_str(&mut out, &call.function.name);
        out.extend_from_slice(b",\"input\":");
        input.clear();
        if !tool_input(call.function.arguments.as_deref(), &mut input) {
            invalid_tool_arguments += 1;
        }
        out.extend_from_slice(input.as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"stop_reason\":\"");
    out.extend_from_slice(stop.as_bytes());
    out.extend_from_slice(b"\",\"stop_sequence\":");
    match &sequence {
        Some(s) => write_str(&mut out, s),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"usage\":");
    write_message_usage(&usage, &mut out);
    out.push(b'}');
    Ok(TranslatedMessage {
        body: out,
        usage,
        stop_reason: stop,
        invalid_tool_arguments,
    })
}

/// `msg_` + the OpenAI id without `chatcmpl-`.
pub(super) fn message_id(openai_id: &str) -> String {
    format!("msg_{}", openai_id.strip_prefix("chatcmpl-").unwrap_or(openai_id))
}

/// Writes the compact JSON object of `arguments` into `out`; `{}` (and `false` unless it was empty) otherwise.
fn tool_input(arguments: Option<&str>, out: &mut String) -> bool {
    let args = arguments.unwrap_or_default();
    if args.trim().is_empty() {
        out.push_str("{}");
        return true;
    }
    match serde_json::from_str::<&RawValue>(args) {
        Ok(raw) if raw.get().starts_with('{') => {
            compact(raw.get(), out);
            true
        }
        _ => {
            out.push_str("{}");
            false
        }
    }
}

#[cfg(test)]
mod tests;
