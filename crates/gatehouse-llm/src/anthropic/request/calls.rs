//! Reading an OpenAI chat conversation's tool calls and tool results, the same way for every target (Anthropic,
//! Bedrock Converse, Gemini): a call's `arguments` are JSON text inside a JSON string and must be an object, a
//! `tool` message must name its call, and its content is text.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::super::json::{CowStr, StrOr, static_raw};
use super::input::{Part, ToolCall};
use super::turns::part_error;
use crate::LlmError;

/// Refuses an assistant tool call whose `type` is not `function` (the only kind a target can replay).
pub(crate) fn function_only(call: &ToolCall<'_>, i: usize) -> Result<(), LlmError> {
    if call.kind.as_deref().is_some_and(|k| k != "function") {
        return Err(LlmError::invalid_request(format!(
            "`messages[{i}].tool_calls`: only `function` tool calls are supported"
        )));
    }
    Ok(())
}

/// A tool call's `arguments` as a JSON object (empty text is `{}`); anything else is a 400 naming message `i`.
pub(crate) fn arguments(args: Cow<'_, str>, i: usize) -> Result<Cow<'_, RawValue>, LlmError> {
    if args.trim().is_empty() {
        return Ok(Cow::Borrowed(static_raw("{}")?));
    }
    // `from_string` drops surrounding whitespace, so the first byte is the value's.
    let raw = RawValue::from_string(args.into_owned())
        .map_err(|_| LlmError::invalid_request(format!("`messages[{i}]`: tool call arguments are not valid JSON")))?;
    if !raw.get().trim_start().starts_with('{') {
        return Err(LlmError::invalid_request(format!(
            "`messages[{i}]`: tool call arguments must be a JSON object"
        )));
    }
    Ok(Cow::Owned(raw))
}

/// A `tool` message's `tool_call_id`, which every target needs to pair the result with its call.
pub(crate) fn result_id<'a>(id: Option<CowStr<'a>>, i: usize) -> Result<CowStr<'a>, LlmError> {
    id.ok_or_else(|| LlmError::invalid_request(format!("`messages[{i}]`: tool messages need `tool_call_id`")))
}

/// A `tool` message's content as one text (text parts concatenated; any other part is a 400).
pub(crate) fn result_text(content: Option<StrOr<'_, Vec<Part<'_>>>>, i: usize) -> Result<String, LlmError> {
    let mut text = String::new();
    match content {
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
    Ok(text)
}
