//! A local estimate of a request's prompt tokens, for `POST /v1/messages/count_tokens` and for
//! `message_start.usage.input_tokens` on targets that cannot count before they answer.
//!
//! The method, chosen to be cheap, deterministic and tokenizer-free (the backend's tokenizer is not known here):
//!
//! ```text
//! estimate = ceil(text_bytes / 4)
//!          + 4 per message (the system prompt, each message, and each tool result, which becomes its own message)
//!          + 4 per tool call
//!          + 8 per tool definition
//!          + 1600 per image or PDF document
//!          + 3 (the reply's role header)
//! ```
//!
//! `text_bytes` counts the UTF-8 bytes of what the backend will read: system and message text, tool-result text,
//! plain-text documents, tool-call names and input JSON, and tool names, descriptions and input-schema JSON (the
//! JSON as the client wrote it). Thinking blocks are not counted: they are not sent. Four bytes per token is the
//! usual figure for English prose with BPE tokenizers; code, non-Latin scripts and JSON run higher, so this
//! **under-counts** them. 1600 is Anthropic's documented size of a full-resolution image; a multi-page PDF counts
//! as one. Per-message overheads follow OpenAI's cookbook figures. It is an estimate and is never presented as
//! exact.

use super::input::{self, Block, Content, MessagesRequest, Nested};
use crate::LlmError;
use crate::anthropic::json::StrOr;

/// Bytes of text per estimated token.
const BYTES_PER_TOKEN: u64 = 4;
/// Tokens of framing per message (role markers, separators).
const PER_MESSAGE: u64 = 4;
/// Tokens of framing per tool call inside an assistant message.
const PER_TOOL_CALL: u64 = 4;
/// Tokens of framing per tool definition (the function wrapper of the chat template).
const PER_TOOL: u64 = 8;
/// Tokens per image or document.
const PER_MEDIA: u64 = 1600;
/// Tokens that prime the reply.
const REPLY: u64 = 3;

/// Running totals.
#[derive(Debug, Default)]
struct Count {
    bytes: u64,
    framing: u64,
    media: u64,
}

/// Estimates the prompt tokens of an Anthropic Messages (or `count_tokens`) request body.
///
/// The method is documented in this module: text bytes / 4 plus fixed overheads per message, tool call, tool
/// definition and image. Use it where no exact count is available, and never report it as exact.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not UTF-8 JSON; [`LlmError::InvalidRequest`] when it is not a
/// messages request or `messages` is missing or empty.
pub fn estimate_input_tokens(anthropic_body: &[u8]) -> Result<u64, LlmError> {
    estimate(&input::parse(anthropic_body)?)
}

/// [`estimate_input_tokens`] of a parsed request.
pub(super) fn estimate(req: &MessagesRequest<'_>) -> Result<u64, LlmError> {
    let messages = req
        .messages
        .as_ref()
        .ok_or_else(|| LlmError::invalid_request("`messages` is required"))?;
    if messages.is_empty() {
        return Err(LlmError::invalid_request("`messages` must not be empty"));
    }
    let mut c = Count::default();
    if let Some(system) = &req.system {
        c.framing += PER_MESSAGE;
        c.content(system);
    }
    for m in messages {
        c.framing += PER_MESSAGE;
        c.content(&m.content);
    }
    for tool in req.tools.iter().flatten() {
        c.framing += PER_TOOL;
        c.add(tool.name.as_deref().unwrap_or_default());
        c.add(tool.description.as_deref().unwrap_or_default());
        c.add(tool.input_schema.map_or("", |s| s.get()));
    }
    Ok(c.total())
}

// === impl Count ===

impl Count {
    fn add(&mut self, text: &str) {
        self.bytes = self.bytes.saturating_add(text.len() as u64);
    }

    fn content(&mut self, content: &Content<'_>) {
        match content {
            StrOr::Str(s) => self.add(s),
            StrOr::Other(blocks) => blocks.iter().for_each(|b| self.block(b)),
        }
    }

    fn block(&mut self, b: &Block<'_>) {
        match &*b.kind {
            "thinking" | "redacted_thinking" => {}
            "image" => self.media += 1,
            "document" => match b.source() {
                Ok(Some(s)) if &*s.kind == "text" => self.add(s.data.as_deref().unwrap_or_default()),
                _ => self.media += 1,
            },
            "tool_use" => {
                self.framing += PER_TOOL_CALL;
                self.add(b.name.as_deref().unwrap_or_default());
                self.add(b.input.map_or("", |i| i.get()));
            }
            "tool_result" => {
                self.framing += PER_MESSAGE;
                if let Some(Nested::Content(content)) = &b.content {
                    self.content(content);
                }
            }
            _ => self.add(b.text.as_deref().unwrap_or_default()),
        }
    }

    fn total(&self) -> u64 {
        self.bytes
            .div_ceil(BYTES_PER_TOKEN)
            .saturating_add(self.framing)
            .saturating_add(self.media.saturating_mul(PER_MEDIA))
            .saturating_add(REPLY)
    }
}

#[cfg(test)]
mod tests;
