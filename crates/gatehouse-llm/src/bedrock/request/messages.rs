//! OpenAI `messages` → Converse `system` + `messages` (leading system run hoisted, same-role turns merged, tool
//! results first in their user turn, ids sanitised identically on both sides; see the parent module's docs).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::output::{Block, ImageSource, ResultBlock, ToolResult, ToolUse, Turn};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, truncate};
use crate::anthropic::request::calls;
use crate::anthropic::request::content::{data_url, has_prefix};
use crate::anthropic::request::input::{Message, Part as InPart, ToolCall};
use crate::anthropic::request::turns::{self, Target, part_error, text_only};

pub(super) type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>, bool);

pub(super) fn convert(messages: Vec<Message<'_>>) -> Result<Converted<'_>, LlmError> {
    let mut target = Converse { tool_blocks: false };
    let merged = turns::merge(messages, &mut target, "assistant", "Bedrock refuses empty turns")?;
    let turns = merged
        .turns
        .into_iter()
        .map(|(role, content)| Turn { role, content })
        .collect();
    Ok((merged.system, turns, target.tool_blocks))
}

/// Converse content blocks for each kind of message.
struct Converse {
    /// Whether any tool use or tool result block was made (Converse then needs a `toolConfig`).
    tool_blocks: bool,
}

// === impl Converse ===

impl<'a> Target<'a> for Converse {
    type Block = Block<'a>;

    fn text(
        &mut self,
        content: Option<StrOr<'a, Vec<InPart<'a>>>>,
        i: usize,
        _role: &str,
        out: &mut Vec<Block<'a>>,
    ) -> Result<(), LlmError> {
        text_only(content, i, out, text_block)
    }

    fn user(
        &mut self,
        content: StrOr<'a, Vec<InPart<'a>>>,
        i: usize,
        out: &mut Vec<Block<'a>>,
    ) -> Result<(), LlmError> {
        user_content(content, i, out)
    }

    fn tool_call(&mut self, call: ToolCall<'a>, i: usize) -> Result<Block<'a>, LlmError> {
        self.tool_blocks = true;
        tool_use(call, i)
    }

    fn tool(&mut self, msg: Message<'a>, i: usize) -> Result<Block<'a>, LlmError> {
        self.tool_blocks = true;
        tool_result(msg, i)
    }
}

fn text_block<'a>(text: CowStr<'a>, out: &mut Vec<Block<'a>>) {
    if !text.trim().is_empty() {
        out.push(Block::Text(text.0));
    }
}

fn user_content<'a>(content: StrOr<'a, Vec<InPart<'a>>>, i: usize, out: &mut Vec<Block<'a>>) -> Result<(), LlmError> {
    let parts = match content {
        StrOr::Str(s) => {
            text_block(s, out);
            return Ok(());
        }
        StrOr::Other(parts) => parts,
    };
    for (j, part) in parts.into_iter().enumerate() {
        match &*part.kind {
            "text" => text_block(
                part.text.ok_or_else(|| part_error(i, j, "text part without `text`"))?,
                out,
            ),
            "image_url" => {
                let url = part
                    .image_url
                    .ok_or_else(|| part_error(i, j, "image part without `image_url`"))?
                    .url;
                if !has_prefix(&url, "data:") {
                    return Err(part_error(
                        i,
                        j,
                        "Bedrock targets need inline images: send a base64 data URL (remote URLs are not fetched)",
                    ));
                }
                let (media, data) = data_url(url.0).map_err(|e| part_error(i, j, &e))?;
                let format = match media.to_ascii_lowercase().as_str() {
                    "image/png" => "png",
                    "image/jpeg" | "image/jpg" => "jpeg",
                    "image/gif" => "gif",
                    "image/webp" => "webp",
                    other => {
                        return Err(part_error(
                            i,
                            j,
                            &format!("unsupported image type `{}`", truncate(other, 32)),
                        ));
                    }
                };
                out.push(Block::Image {
                    format,
                    source: ImageSource { bytes: data },
                });
            }
            other => {
                let kind = truncate(other, 24);
                return Err(part_error(i, j, &format!("unsupported content part type `{kind}`")));
            }
        }
    }
    Ok(())
}

fn tool_use(call: ToolCall<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let name = tool_name(call.function.name)?;
    let input = calls::arguments(call.function.arguments.0, i)?;
    Ok(Block::ToolUse(ToolUse {
        tool_use_id: tool_id(&call.id, i)?,
        name,
        input,
    }))
}

fn tool_result(msg: Message<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let id = calls::result_id(msg.tool_call_id, i)?;
    let text = calls::result_text(msg.content, i)?;
    let block = match RawValue::from_string(text.clone()) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => ResultBlock::Json(raw),
        _ if text.trim().is_empty() => ResultBlock::Text("(empty)".into()),
        _ => ResultBlock::Text(text),
    };
    Ok(Block::ToolResult(ToolResult {
        tool_use_id: tool_id(&id, i)?,
        content: vec![block],
        status: "success",
        _p: std::marker::PhantomData,
    }))
}

/// A tool id Bedrock accepts (`[a-zA-Z0-9_.:-]+`, ≤ 64): other characters become `_`, the rest is cut.
fn tool_id(id: &str, i: usize) -> Result<String, LlmError> {
    if id.is_empty() {
        return Err(LlmError::invalid_request(format!(
            "`messages[{i}]`: tool call id is empty"
        )));
    }
    Ok(id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect())
}

/// A tool name Bedrock accepts (`^[a-zA-Z0-9_-]{1,64}$`).
pub(super) fn tool_name(name: CowStr<'_>) -> Result<Cow<'_, str>, LlmError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(LlmError::invalid_request(format!(
            "tool name `{}` must match ^[a-zA-Z0-9_-]{{1,64}}$ for Bedrock",
            truncate(&name, 32)
        )));
    }
    Ok(name.0)
}
