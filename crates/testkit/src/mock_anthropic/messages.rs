//! Strictness for `messages` and `system`: roles, content blocks, sources and the `tool_use` ⇄ `tool_result`
//! pairing, with the real API's error wording.
//!
//! Rules (from the published Messages API schema and the errors it is known to return):
//! - `messages` is a non-empty array of `{role, content}`; the role is `user` or `assistant` (`system` gets its own
//!   error, since gateways hoisting system prompts is exactly what tests check).
//! - The first message may be `assistant`: the first-party API accepts it (it used to answer `first message must use
//!   the "user" role`, and Bedrock still does). Consecutive same-role messages are accepted too (the API merges
//!   them).
//! - `content` is a string or an array of blocks; empty content is only allowed for a final assistant message.
//! - Text blocks must be non-empty. Known block types are checked field by field; server-tool blocks (web search,
//!   code execution, MCP, …) are accepted as they are.
//! - Every `tool_result` answers a `tool_use` of the previous (assistant) message, and every `tool_use` of an
//!   assistant message that is followed by another message is answered in that next message.
//! - Images are `base64` (jpeg/png/gif/webp), `url` or `file`; documents are `base64` PDF, `text`, `content`, `url`
//!   or `file`.

use serde_json::{Map, Value};

use super::rejection::AnthropicRejection;
use super::validate::{BOOLEAN, LIST, invalid, join, object, one_of, only_fields, required, required_str};
use crate::validate::count_words;

/// Block types the mock accepts without looking inside: server tools and their results.
const OPAQUE_BLOCKS: &[&str] = &[
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "search_result",
];

/// Block types a message may hold.
const MESSAGE_BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
];

/// Block types inside a `tool_result`'s content.
const TOOL_RESULT_BLOCKS: &[&str] = &["text", "image", "document", "search_result"];

const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// What one content block contributes to the tool pairing.
enum Pairing {
    None,
    ToolUse(String),
    ToolResult(String),
}

/// Checks `messages`; returns their word count.
pub(super) fn check_messages(value: Option<&Value>) -> Result<u64, AnthropicRejection> {
    let messages = match value {
        None => return Err(AnthropicRejection::MissingField("messages".into())),
        Some(Value::Array(m)) if m.is_empty() => return Err(AnthropicRejection::NoMessages),
        Some(Value::Array(m)) => m,
        Some(_) => return Err(invalid("messages", LIST)),
    };
    let mut words = 0;
    // The `tool_use` ids of the previous message (only assistant messages have any) and its index.
    let mut open_tool_uses: (usize, Vec<String>) = (0, Vec::new());
    for (i, message) in messages.iter().enumerate() {
        let path = format!("messages.{i}");
        let obj = object(&path, message)?;
        let role = required_str(&path, obj, "role")?;
        if role == "system" {
            return Err(AnthropicRejection::SystemRole);
        }
        one_of(&join(&path, "role"), role, &["user", "assistant"])?;
        only_fields(&path, obj, &["role", "content"])?;
        let content = required(&path, obj, "content")?;
        let is_final_assistant = role == "assistant" && i + 1 == messages.len();
        let pairings = match content {
            Value::String(s) if s.is_empty() && !is_final_assistant => {
                return Err(AnthropicRejection::EmptyContent(i));
            }
            Value::String(_) => Vec::new(),
            Value::Array(blocks) if blocks.is_empty() && !is_final_assistant => {
                return Err(AnthropicRejection::EmptyContent(i));
            }
            Value::Array(blocks) => {
                let content_path = join(&path, "content");
                let mut pairings = Vec::new();
                for (j, block) in blocks.iter().enumerate() {
                    pairings.push((j, check_block(&format!("{content_path}.{j}"), block, MESSAGE_BLOCKS)?));
                }
                pairings
            }
            _ => {
                return Err(invalid(
                    join(&path, "content"),
                    "Input should be a valid string or list",
                ));
            }
        };
        open_tool_uses = pair_tools(i, &path, role, pairings, open_tool_uses)?;
        words += count_words(content);
    }
    Ok(words)
}

/// Checks message `i` against the previous message's open `tool_use` ids; returns this message's open ids.
fn pair_tools(
    i: usize,
    path: &str,
    role: &str,
    pairings: Vec<(usize, Pairing)>,
    (open_index, open): (usize, Vec<String>),
) -> Result<(usize, Vec<String>), AnthropicRejection> {
    let mut answered = Vec::new();
    let mut uses = Vec::new();
    for (j, pairing) in pairings {
        match pairing {
            Pairing::ToolResult(id) if !open.contains(&id) => {
                return Err(AnthropicRejection::UnexpectedToolResult {
                    path: format!("{path}.content.{j}"),
                    id,
                });
            }
            Pairing::ToolResult(id) => answered.push(id),
            Pairing::ToolUse(id) if role == "assistant" => uses.push(id),
            Pairing::ToolUse(_) | Pairing::None => {}
        }
    }
    let unanswered: Vec<String> = open.into_iter().filter(|id| !answered.contains(id)).collect();
    if !unanswered.is_empty() {
        return Err(AnthropicRejection::MissingToolResult {
            index: open_index,
            ids: unanswered,
        });
    }
    Ok((i, uses))
}

/// Checks `system`: a string, or an array of text blocks; returns its word count.
pub(super) fn check_system(system: &Value) -> Result<u64, AnthropicRejection> {
    match system {
        Value::String(_) => {}
        Value::Array(blocks) => {
            for (j, block) in blocks.iter().enumerate() {
                let path = format!("system.{j}");
                let kind = required_str(&path, object(&path, block)?, "type")?;
                one_of(&join(&path, "type"), kind, &["text"])?;
                check_block(&path, block, &["text"]).map_err(|e| match e {
                    AnthropicRejection::EmptyText(_) => AnthropicRejection::EmptyText("system"),
                    other => other,
                })?;
            }
        }
        _ => return Err(invalid("system", "Input should be a valid string or list")),
    }
    Ok(count_words(system))
}

/// Checks one content block whose type must be in `allowed` (or opaque).
fn check_block(path: &str, block: &Value, allowed: &[&str]) -> Result<Pairing, AnthropicRejection> {
    let obj = object(path, block)?;
    let kind = required_str(path, obj, "type")?;
    if OPAQUE_BLOCKS.contains(&kind) {
        return Ok(Pairing::None);
    }
    if !allowed.contains(&kind) {
        let tags: Vec<String> = allowed.iter().map(|t| format!("'{t}'")).collect();
        return Err(invalid(
            path,
            format!(
                "Input tag '{kind}' found using 'type' does not match any of the expected tags: {}",
                tags.join(", ")
            ),
        ));
    }
    if let Some(cache) = obj.get("cache_control").filter(|c| !c.is_null()) {
        super::options::cache_control(&join(path, "cache_control"), cache)?;
    }
    match kind {
        "text" => {
            only_fields(path, obj, &["type", "text", "cache_control", "citations"])?;
            if required_str(path, obj, "text")?.is_empty() {
                return Err(AnthropicRejection::EmptyText("messages"));
            }
        }
        "image" => {
            only_fields(path, obj, &["type", "source", "cache_control"])?;
            check_source(&join(path, "source"), required(path, obj, "source")?, Source::Image)?;
        }
        "document" => {
            only_fields(
                path,
                obj,
                &["type", "source", "cache_control", "citations", "context", "title"],
            )?;
            check_source(&join(path, "source"), required(path, obj, "source")?, Source::Document)?;
        }
        "tool_use" => {
            only_fields(path, obj, &["type", "id", "name", "input", "cache_control", "caller"])?;
            let id = required_str(path, obj, "id")?;
            if id.is_empty() || !id.bytes().all(is_id_byte) {
                return Err(invalid(
                    join(path, "id"),
                    "String should match pattern '^[a-zA-Z0-9_-]+$'",
                ));
            }
            required_str(path, obj, "name")?;
            object(&join(path, "input"), required(path, obj, "input")?)?;
            return Ok(Pairing::ToolUse(id.to_string()));
        }
        "tool_result" => return check_tool_result(path, obj),
        "thinking" => {
            only_fields(path, obj, &["type", "thinking", "signature"])?;
            required_str(path, obj, "thinking")?;
            required_str(path, obj, "signature")?;
        }
        _ => {
            // redacted_thinking
            only_fields(path, obj, &["type", "data"])?;
            required_str(path, obj, "data")?;
        }
    }
    Ok(Pairing::None)
}

fn check_tool_result(path: &str, obj: &Map<String, Value>) -> Result<Pairing, AnthropicRejection> {
    only_fields(
        path,
        obj,
        &["type", "tool_use_id", "content", "is_error", "cache_control"],
    )?;
    let id = required_str(path, obj, "tool_use_id")?;
    match obj.get("content") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            for (k, block) in blocks.iter().enumerate() {
                check_block(&format!("{path}.content.{k}"), block, TOOL_RESULT_BLOCKS)?;
            }
        }
        Some(_) => return Err(invalid(join(path, "content"), "Input should be a valid string or list")),
    }
    if let Some(is_error) = obj.get("is_error")
        && !is_error.is_boolean()
    {
        return Err(invalid(join(path, "is_error"), BOOLEAN));
    }
    Ok(Pairing::ToolResult(id.to_string()))
}

#[derive(Clone, Copy)]
enum Source {
    Image,
    Document,
}

fn check_source(path: &str, source: &Value, kind: Source) -> Result<(), AnthropicRejection> {
    let obj = object(path, source)?;
    let source_type = required_str(path, obj, "type")?;
    let types: &[&str] = match kind {
        Source::Image => &["base64", "url", "file"],
        Source::Document => &["base64", "text", "content", "url", "file"],
    };
    one_of(&join(path, "type"), source_type, types)?;
    let path = join(path, source_type);
    match source_type {
        "base64" | "text" => {
            only_fields(&path, obj, &["type", "media_type", "data"])?;
            let media_type = required_str(&path, obj, "media_type")?;
            let expected: &[&str] = match (kind, source_type) {
                (Source::Image, _) => IMAGE_TYPES,
                (Source::Document, "base64") => &["application/pdf"],
                (Source::Document, _) => &["text/plain"],
            };
            one_of(&join(&path, "media_type"), media_type, expected)?;
            required_str(&path, obj, "data")?;
        }
        "url" => {
            only_fields(&path, obj, &["type", "url"])?;
            required_str(&path, obj, "url")?;
        }
        "file" => {
            only_fields(&path, obj, &["type", "file_id"])?;
            required_str(&path, obj, "file_id")?;
        }
        _ => {
            // a `content` document: text/image blocks
            only_fields(&path, obj, &["type", "content"])?;
            match required(&path, obj, "content")? {
                Value::String(_) => {}
                Value::Array(blocks) => {
                    for (k, block) in blocks.iter().enumerate() {
                        check_block(&format!("{path}.content.{k}"), block, &["text", "image"])?;
                    }
                }
                _ => {
                    return Err(invalid(
                        join(&path, "content"),
                        "Input should be a valid string or list",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}
