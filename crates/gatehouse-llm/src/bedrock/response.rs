//! Converse response → OpenAI `chat.completion`: `output.message.content` text blocks → `content`,
//! `reasoningContent.reasoningText.text` → `reasoning_content`, `toolUse` → `tool_calls` (`arguments` = compact
//! JSON of `input`), `stopReason` via [`finish_reason`](super::finish_reason), usage via [`BedrockUsage`].

use std::io::Write as _;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::ResponseContext;
use crate::anthropic::TranslatedResponse;
use crate::anthropic::json::{CowStr, compact, truncate};
use crate::anthropic::response::{write_completion_head, write_message_text, write_tool_calls};
use crate::{LlmError, Usage};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse<'a> {
    #[serde(borrow)]
    output: Output<'a>,
    #[serde(default, borrow)]
    stop_reason: Option<CowStr<'a>>,
    #[serde(default)]
    usage: BedrockUsage,
}

#[derive(Deserialize)]
struct Output<'a> {
    #[serde(default, borrow)]
    message: Option<OutMessage<'a>>,
}

#[derive(Deserialize)]
struct OutMessage<'a> {
    #[serde(default, borrow)]
    content: Vec<OutBlock<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutBlock<'a> {
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
    #[serde(default, borrow)]
    tool_use: Option<OutToolUse<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Reasoning<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutToolUse<'a> {
    #[serde(borrow)]
    tool_use_id: CowStr<'a>,
    #[serde(borrow)]
    name: CowStr<'a>,
    #[serde(default, borrow)]
    input: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reasoning<'a> {
    #[serde(default, borrow)]
    reasoning_text: Option<ReasoningText<'a>>,
}

#[derive(Deserialize)]
struct ReasoningText<'a> {
    #[serde(default, borrow)]
    text: Option<CowStr<'a>>,
}

/// Bedrock `TokenUsage` (every field optional in a stream's `metadata`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BedrockUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_write_input_tokens: Option<u64>,
}

// === impl BedrockUsage ===

impl BedrockUsage {
    /// Input counts both cache classes (Bedrock's `inputTokens` excludes them).
    pub(crate) fn to_usage(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let write = self.cache_write_input_tokens.unwrap_or(0);
        let input = self
            .input_tokens
            .unwrap_or(0)
            .saturating_add(read)
            .saturating_add(write);
        let output = self.output_tokens.unwrap_or(0);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: read,
            cache_write_input_tokens: write,
            total_tokens: input.saturating_add(output),
        }
    }

    /// OpenAI's `usage` object.
    pub(crate) fn write_openai(self, out: &mut Vec<u8>) {
        let u = self.to_usage();
        let _ = write!(
            out,
            "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{},\
             \"prompt_tokens_details\":{{\"cached_tokens\":{},\"cache_write_tokens\":{}}}}}",
            u.input_tokens, u.output_tokens, u.total_tokens, u.cached_input_tokens, u.cache_write_input_tokens
        );
    }
}

/// Translates a Converse response into an OpenAI chat completion.
///
/// # Errors
///
/// [`LlmError::UpstreamInvalid`] when the body is not a Converse response.
pub fn translate_response(body: &[u8], ctx: &ResponseContext) -> Result<TranslatedResponse, LlmError> {
    let text = std::str::from_utf8(body).map_err(|_| LlmError::upstream_invalid("body is not UTF-8"))?;
    let resp: ConverseResponse<'_> =
        serde_json::from_str(text).map_err(|e| LlmError::upstream_invalid(e.to_string()))?;
    let mut texts = String::new();
    let mut thoughts = String::new();
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for block in resp.output.message.iter().flat_map(|m| &m.content) {
        if let Some(t) = &block.text {
            texts.push_str(t);
        } else if let Some(tu) = &block.tool_use {
            let mut args = String::new();
            match tu.input {
                Some(raw) if raw.get().trim_start().starts_with('{') => compact(raw.get(), &mut args),
                _ => args.push_str("{}"),
            }
            calls.push((tu.tool_use_id.to_string(), tu.name.to_string(), args));
        } else if let Some(t) = block
            .reasoning_content
            .as_ref()
            .and_then(|r| r.reasoning_text.as_ref())
            .and_then(|r| r.text.as_deref())
        {
            thoughts.push_str(t);
        }
    }
    let (finish, unknown) = match resp.stop_reason.as_deref() {
        None => ("stop", None),
        Some(r) => match super::finish_reason(r) {
            Some(f) => (f, None),
            None => ("stop", Some(truncate(r, 64).into_owned())),
        },
    };
    let mut out = Vec::with_capacity(text.len() + 256);
    write_completion_head(&mut out, &ctx.fallback_id, ctx.created, &ctx.model);
    write_message_text(&mut out, &texts, &thoughts);
    write_tool_calls(
        &mut out,
        calls
            .iter()
            .map(|(id, name, args)| (id.as_str(), name.as_str(), args.as_str())),
    );
    let _ = write!(out, "}},\"logprobs\":null,\"finish_reason\":\"{finish}\"}}],\"usage\":");
    resp.usage.write_openai(&mut out);
    out.push(b'}');
    Ok(TranslatedResponse {
        body: out,
        usage: resp.usage.to_usage(),
        finish_reason: finish,
        unknown_stop_reason: unknown,
    })
}
