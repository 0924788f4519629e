//! OpenAI `messages` → Anthropic `system` + `messages`.
//!
//! Rules, in the order they apply:
//! 1. **System hoisting, leading run only.** `system`/`developer` messages before the first other message become
//!    the top-level `system` blocks. A system message later in the conversation is *not* hoisted: hoisting it
//!    would change the system prompt every time one is appended, invalidating Anthropic's prompt-cache prefix for
//!    the whole conversation (LiteLLM #36559). Anthropic has no mid-conversation system role, so a later one
//!    becomes user text at its position, where it still reads as an instruction at that point of the dialogue.
//! 2. **Roles.** `user` → user; `tool` → a `tool_result` block in a user message; `assistant` → assistant, its
//!    text first and then one `tool_use` per `tool_calls[]` entry (arguments parsed; not a JSON object → 400).
//! 3. **Merging.** Consecutive messages that map to the same role are merged into one Anthropic message (Anthropic
//!    would merge them anyway; merging here keeps all tool results of a turn together). In a merged user message
//!    the `tool_result` blocks come first, then the other content, each in client order.
//! 4. **Empty text.** Text that is empty or only whitespace is omitted (Anthropic 400s on it). A message left with
//!    no content at all is a 400 naming it.
//!
//! Tool call ids are sanitised to `[a-zA-Z0-9_-]` (other characters become `_`) the same way in `tool_use.id` and
//! `tool_result.tool_use_id`, so they still pair up; tool names that Anthropic would refuse are a 400 instead,
//! because a renamed tool would reach the client under a name it never declared.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::super::json::{CowStr, StrOr};
use super::Drops;
use super::calls;
use super::content::{document, image};
use super::input::{Message, Part, ToolCall};
use super::output::{Block, ToolResultContent, Turn};
use super::turns::{self, Target, part_error};
use crate::LlmError;

/// What the conversation becomes.
#[derive(Debug, Default)]
pub(super) struct Conversation<'a> {
    pub(super) system: Vec<Block<'a>>,
    pub(super) turns: Vec<Turn<'a>>,
}

/// Converts the client's messages.
pub(super) fn convert<'a>(messages: Vec<Message<'a>>, drops: &mut Drops<'_>) -> Result<Conversation<'a>, LlmError> {
    let merged = turns::merge(
        messages,
        &mut Anthropic { drops },
        "assistant",
        "empty text is not allowed by Anthropic",
    )?;
    let turns = merged
        .turns
        .into_iter()
        .map(|(role, content)| Turn { role, content })
        .collect();
    Ok(Conversation {
        system: merged.system,
        turns,
    })
}

/// Anthropic content blocks for each kind of message.
struct Anthropic<'d, 'r> {
    drops: &'d mut Drops<'r>,
}

// === impl Anthropic ===

impl<'a> Target<'a> for Anthropic<'_, '_> {
    type Block = Block<'a>;

    fn text(
        &mut self,
        content: Option<StrOr<'a, Vec<Part<'a>>>>,
        i: usize,
        role: &str,
        out: &mut Vec<Block<'a>>,
    ) -> Result<(), LlmError> {
        text_only(content, i, role, out)
    }

    fn user(&mut self, content: StrOr<'a, Vec<Part<'a>>>, i: usize, out: &mut Vec<Block<'a>>) -> Result<(), LlmError> {
        user_content(content, i, self.drops, out)
    }

    fn tool_call(&mut self, call: ToolCall<'a>, i: usize) -> Result<Block<'a>, LlmError> {
        tool_use(call, i)
    }

    fn tool(&mut self, msg: Message<'a>, i: usize) -> Result<Block<'a>, LlmError> {
        tool_result(msg, i)
    }
}

/// A text block, or nothing for empty or whitespace-only text.
fn text<'a>(text: CowStr<'a>, cache_control: Option<&'a RawValue>, out: &mut Vec<Block<'a>>) {
    if !text.trim().is_empty() {
        out.push(Block::Text {
            text: text.0,
            cache_control,
        });
    }
}

/// Content that may only hold text (`system`, `developer`, `assistant`; assistant `refusal` parts count as text).
fn text_only<'a>(
    content: Option<StrOr<'a, Vec<Part<'a>>>>,
    i: usize,
    role: &str,
    out: &mut Vec<Block<'a>>,
) -> Result<(), LlmError> {
    match content {
        None => {}
        Some(StrOr::Str(s)) => text(s, None, out),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                let body = match &*part.kind {
                    "text" => part.text,
                    "refusal" if role == "assistant" => part.refusal,
                    _ => return Err(part_error(i, j, &format!("{role} content may only contain text"))),
                };
                let body = body.ok_or_else(|| part_error(i, j, "text part without `text`"))?;
                text(body, part.cache_control, out);
            }
        }
    }
    Ok(())
}

/// User content: text, images, PDF files.
fn user_content<'a>(
    content: StrOr<'a, Vec<Part<'a>>>,
    i: usize,
    drops: &mut Drops<'_>,
    out: &mut Vec<Block<'a>>,
) -> Result<(), LlmError> {
    let parts = match content {
        StrOr::Str(s) => {
            text(s, None, out);
            return Ok(());
        }
        StrOr::Other(parts) => parts,
    };
    for (j, part) in parts.into_iter().enumerate() {
        let cache_control = part.cache_control;
        match &*part.kind {
            "text" => {
                let body = part.text.ok_or_else(|| part_error(i, j, "text part without `text`"))?;
                text(body, cache_control, out);
            }
            "image_url" => {
                let url = part
                    .image_url
                    .ok_or_else(|| part_error(i, j, "image part without `image_url`"))?;
                let source = image(url.url).map_err(|e| part_error(i, j, &e))?;
                out.push(Block::Image { source, cache_control });
            }
            "file" => {
                let file = part.file.ok_or_else(|| part_error(i, j, "file part without `file`"))?;
                let source = document(file).map_err(|e| part_error(i, j, &e))?;
                out.push(Block::Document { source, cache_control });
            }
            "input_audio" => drops.unsupported("input_audio")?,
            other => {
                let kind = super::super::json::truncate(other, 24);
                return Err(part_error(i, j, &format!("unsupported content part type `{kind}`")));
            }
        }
    }
    Ok(())
}

/// An assistant tool call → `tool_use`.
fn tool_use(call: ToolCall<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    calls::function_only(&call, i)?;
    let name = super::tools::tool_name(call.function.name)?;
    let id = tool_id(call.id, i)?;
    let input = calls::arguments(call.function.arguments.0, i)?;
    Ok(Block::ToolUse { id, name, input })
}

/// A `tool` message → `tool_result`.
fn tool_result(msg: Message<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let id = calls::result_id(msg.tool_call_id, i)?;
    let content = match msg.content {
        None => None,
        Some(StrOr::Str(s)) => (!s.trim().is_empty()).then_some(ToolResultContent::Text(s.0)),
        Some(parts) => {
            let mut blocks = Vec::new();
            text_only(Some(parts), i, "tool", &mut blocks)?;
            (!blocks.is_empty()).then_some(ToolResultContent::Blocks(blocks))
        }
    };
    Ok(Block::ToolResult {
        tool_use_id: tool_id(id, i)?,
        content,
    })
}

/// A tool call id Anthropic accepts (`^[a-zA-Z0-9_-]+$`): other characters become `_`.
pub(crate) fn tool_id(id: CowStr<'_>, i: usize) -> Result<Cow<'_, str>, LlmError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if id.is_empty() {
        return Err(LlmError::invalid_request(format!(
            "`messages[{i}]`: tool call id is empty"
        )));
    }
    if id.chars().all(ok) {
        return Ok(id.0);
    }
    Ok(Cow::Owned(id.chars().map(|c| if ok(c) { c } else { '_' }).collect()))
}
