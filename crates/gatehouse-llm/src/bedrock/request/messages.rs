//! OpenAI `messages` → Converse `system` + `messages` (leading system run hoisted, same-role turns merged, tool
//! results first in their user turn, ids sanitised identically on both sides; see the parent module's docs).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::output::{Block, ImageSource, ResultBlock, ToolResult, ToolUse, Turn};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, static_raw, truncate};
use crate::anthropic::request::content::{data_url, has_prefix};
use crate::anthropic::request::input::{Message, Part as InPart, Role, ToolCall};

struct Pending<'a> {
    user: bool,
    first: usize,
    results: Vec<Block<'a>>,
    content: Vec<Block<'a>>,
}

pub(super) type Converted<'a> = (Vec<Block<'a>>, Vec<Turn<'a>>, bool);

pub(super) fn convert(messages: Vec<Message<'_>>) -> Result<Converted<'_>, LlmError> {
    let mut system = Vec::new();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut leading = true;
    let mut tool_blocks = false;
    for (i, msg) in messages.into_iter().enumerate() {
        match msg.role {
            Role::System | Role::Developer => {
                let mut blocks = Vec::new();
                text_only(msg.content, i, &mut blocks)?;
                if leading {
                    system.append(&mut blocks);
                } else {
                    turn(&mut pending, true, i).content.append(&mut blocks);
                }
            }
            Role::User => {
                leading = false;
                let t = turn(&mut pending, true, i);
                if let Some(content) = msg.content {
                    user_content(content, i, &mut t.content)?;
                }
            }
            Role::Assistant => {
                leading = false;
                let t = turn(&mut pending, false, i);
                text_only(msg.content, i, &mut t.content)?;
                for call in msg.tool_calls.unwrap_or_default() {
                    tool_blocks = true;
                    t.content.push(tool_use(call, i)?);
                }
            }
            Role::Tool => {
                leading = false;
                tool_blocks = true;
                let result = tool_result(msg, i)?;
                turn(&mut pending, true, i).results.push(result);
            }
            Role::Function => {
                return Err(LlmError::invalid_request(format!(
                    "`messages[{i}]`: `function` messages are not supported; use `tool` messages"
                )));
            }
        }
    }
    if pending.is_empty() {
        return Err(LlmError::invalid_request(
            "`messages` must contain at least one user or assistant message",
        ));
    }
    let mut turns = Vec::with_capacity(pending.len());
    for mut p in pending {
        if p.results.is_empty() && p.content.is_empty() {
            return Err(LlmError::invalid_request(format!(
                "`messages[{}]` has no content (Bedrock refuses empty turns)",
                p.first
            )));
        }
        p.results.append(&mut p.content);
        turns.push(Turn {
            role: if p.user { "user" } else { "assistant" },
            content: p.results,
        });
    }
    Ok((system, turns, tool_blocks))
}

fn turn<'a, 'p>(pending: &'p mut Vec<Pending<'a>>, user: bool, index: usize) -> &'p mut Pending<'a> {
    if pending.last().is_none_or(|p| p.user != user) {
        pending.push(Pending {
            user,
            first: index,
            results: Vec::new(),
            content: Vec::new(),
        });
    }
    let last = pending.len() - 1;
    &mut pending[last]
}

fn text_block<'a>(text: CowStr<'a>, out: &mut Vec<Block<'a>>) {
    if !text.trim().is_empty() {
        out.push(Block::Text(text.0));
    }
}

fn text_only<'a>(
    content: Option<StrOr<'a, Vec<InPart<'a>>>>,
    i: usize,
    out: &mut Vec<Block<'a>>,
) -> Result<(), LlmError> {
    match content {
        None => {}
        Some(StrOr::Str(s)) => text_block(s, out),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                let body = match &*part.kind {
                    "text" => part.text,
                    "refusal" => part.refusal,
                    _ => return Err(part_error(i, j, "this role's content may only contain text")),
                };
                text_block(body.ok_or_else(|| part_error(i, j, "text part without `text`"))?, out);
            }
        }
    }
    Ok(())
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
    let args = call.function.arguments.0;
    let input = if args.trim().is_empty() {
        Cow::Borrowed(static_raw("{}")?)
    } else {
        let raw = RawValue::from_string(args.into_owned()).map_err(|_| {
            LlmError::invalid_request(format!("`messages[{i}]`: tool call arguments are not valid JSON"))
        })?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(LlmError::invalid_request(format!(
                "`messages[{i}]`: tool call arguments must be a JSON object"
            )));
        }
        Cow::Owned(raw)
    };
    Ok(Block::ToolUse(ToolUse {
        tool_use_id: tool_id(&call.id, i)?,
        name,
        input,
    }))
}

fn tool_result(msg: Message<'_>, i: usize) -> Result<Block<'_>, LlmError> {
    let id = msg
        .tool_call_id
        .ok_or_else(|| LlmError::invalid_request(format!("`messages[{i}]`: tool messages need `tool_call_id`")))?;
    let mut text = String::new();
    match msg.content {
        None => {}
        Some(StrOr::Str(s)) => text.push_str(&s),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                match (&*part.kind, part.text) {
                    ("text", Some(t)) => text.push_str(&t),
                    _ => return Err(part_error(i, j, "tool results may only contain text")),
                }
            }
        }
    }
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

fn part_error(i: usize, j: usize, what: &str) -> LlmError {
    LlmError::invalid_request(format!("`messages[{i}].content[{j}]`: {what}"))
}
