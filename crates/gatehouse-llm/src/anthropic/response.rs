//! Anthropic message → OpenAI `chat.completion`.
//!
//! - `id` is Anthropic's `msg_…` id; `created` and `model` come from [`ResponseContext`].
//! - Text blocks are concatenated into `message.content` (`null` when there is none).
//! - `tool_use` (and `server_tool_use`) blocks become `tool_calls`, `arguments` being the compact JSON text of
//!   `input`, in block order.
//! - `thinking` blocks are concatenated into the non-standard `message.reasoning_content`; their signatures and
//!   `redacted_thinking` blocks are dropped (an OpenAI client cannot send them back).
//! - Other block types (citations, server tool results, ...) are ignored.
//! - `finish_reason` from [`finish_reason`](super::finish_reason); a `null` or unknown `stop_reason` becomes
//!   `stop` and the unknown value is returned for the server to log.
//! - `usage` as described in [`tokens`](super::tokens).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::ResponseContext;
use super::json::{CowStr, compact, truncate, write_str};
use super::tokens::{AnthropicUsage, write_openai_usage};
use crate::{LlmError, Usage};

/// A translated response with everything the server may want to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedResponse {
    /// OpenAI `chat.completion` JSON.
    pub body: Vec<u8>,
    /// What to meter.
    pub usage: Usage,
    /// The `finish_reason` reported to the client.
    pub finish_reason: &'static str,
    /// Anthropic's `stop_reason` when it was not one this crate knows (reported as `stop`), cut to 64 bytes.
    pub unknown_stop_reason: Option<String>,
}

/// The parts of an Anthropic `Message` the translation reads.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: CowStr<'a>,
    #[serde(borrow)]
    content: Vec<Block<'a>>,
    #[serde(default, borrow)]
    stop_reason: Option<CowStr<'a>>,
    usage: AnthropicUsage,
}

/// A content block; `kind` decides which fields are read.
#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: CowStr<'a>,
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    thinking: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    id: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    name: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    input: Option<&'a RawValue>,
}

/// Translates an Anthropic message into an OpenAI chat completion and the usage to meter.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not an Anthropic message.
pub fn translate_response(anthropic_body: &[u8], ctx: &ResponseContext<'_>) -> Result<(Vec<u8>, Usage), LlmError> {
    translate_response_full(anthropic_body, ctx).map(|r| (r.body, r.usage))
}

/// [`translate_response`], also returning the finish reason and any unknown upstream stop reason.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not an Anthropic message.
pub fn translate_response_full(
    anthropic_body: &[u8],
    ctx: &ResponseContext<'_>,
) -> Result<TranslatedResponse, LlmError> {
    let text = std::str::from_utf8(anthropic_body).map_err(|_| LlmError::upstream_invalid("body is not UTF-8"))?;
    let msg: Message<'_> = serde_json::from_str(text).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;

    let mut texts: Vec<&str> = Vec::new();
    let mut thoughts: Vec<&str> = Vec::new();
    let mut calls: Vec<(&str, &str, String)> = Vec::new();
    for block in &msg.content {
        match &*block.kind {
            "text" => texts.extend(block.text.as_deref()),
            "thinking" => thoughts.extend(block.thinking.as_deref()),
            "tool_use" | "server_tool_use" => {
                let (Some(id), Some(name)) = (block.id.as_deref(), block.name.as_deref()) else {
                    return Err(LlmError::upstream_invalid("tool_use block without id or name"));
                };
                let mut arguments = String::new();
                compact(block.input.map_or("{}", RawValue::get), &mut arguments);
                calls.push((id, name, arguments));
            }
            _ => {}
        }
    }
    let (finish_reason, unknown_stop_reason) = match msg.stop_reason.as_deref() {
        None => ("stop", None),
        Some(s) => match super::finish_reason(s) {
            Some(f) => (f, None),
            None => ("stop", Some(truncate(s, 64).into_owned())),
        },
    };
    let usage = msg.usage.to_usage();

    let mut out = Vec::with_capacity(text.len() + 256);
    write_completion_head(&mut out, &msg.id, ctx.created, ctx.model);
    write_joined(&texts, &mut out);
    if !thoughts.is_empty() {
        out.extend_from_slice(b",\"reasoning_content\":");
        write_joined(&thoughts, &mut out);
    }
    write_tool_calls(
        &mut out,
        calls
            .iter()
            .map(|(id, name, arguments)| (*id, *name, arguments.as_str())),
    );
    out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":\"");
    out.extend_from_slice(finish_reason.as_bytes());
    out.extend_from_slice(b"\"}],\"usage\":");
    write_openai_usage(&usage, &mut out);
    out.push(b'}');
    Ok(TranslatedResponse {
        body: out,
        usage,
        finish_reason,
        unknown_stop_reason,
    })
}

/// Writes the pieces as one JSON string, or `null` when there are none.
fn write_joined(pieces: &[&str], out: &mut Vec<u8>) {
    match pieces {
        [] => out.extend_from_slice(b"null"),
        [one] => write_str(out, one),
        many => write_str(out, &many.concat()),
    }
}

/// Starts a chat completion: `{"id":…,"object":"chat.completion","created":…,"model":…,"choices":[{"index":0,
/// "message":{"role":"assistant","content":`, the head every chat translator (Anthropic, Bedrock, Gemini) writes;
/// the message's content follows.
pub(crate) fn write_completion_head(out: &mut Vec<u8>, id: &str, created: u64, model: &str) {
    out.extend_from_slice(b"{\"id\":");
    write_str(out, id);
    out.extend_from_slice(b",\"object\":\"chat.completion\",\"created\":");
    out.extend_from_slice(created.to_string().as_bytes());
    out.extend_from_slice(b",\"model\":");
    write_str(out, model);
    out.extend_from_slice(b",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
}

/// The message's `content` (`null` when there is no text) and `reasoning_content` (only when there is some), for
/// targets whose text arrives as one string.
pub(crate) fn write_message_text(out: &mut Vec<u8>, texts: &str, thoughts: &str) {
    if texts.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        write_str(out, texts);
    }
    if !thoughts.is_empty() {
        out.extend_from_slice(b",\"reasoning_content\":");
        write_str(out, thoughts);
    }
}

/// Writes `,"tool_calls":[…]` of a chat completion's message from `(id, name, arguments)` triples, or nothing
/// when there are none: the shape every chat translator (Anthropic, Bedrock, Gemini) answers with.
pub(crate) fn write_tool_calls<'c>(out: &mut Vec<u8>, calls: impl IntoIterator<Item = (&'c str, &'c str, &'c str)>) {
    let mut calls = calls.into_iter().peekable();
    if calls.peek().is_none() {
        return;
    }
    out.extend_from_slice(b",\"tool_calls\":[");
    for (i, (id, name, arguments)) in calls.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        write_str(out, id);
        out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
        write_str(out, name);
        out.extend_from_slice(b",\"arguments\":");
        write_str(out, arguments);
        out.extend_from_slice(b"}}");
    }
    out.push(b']');
}

#[cfg(test)]
mod tests;
