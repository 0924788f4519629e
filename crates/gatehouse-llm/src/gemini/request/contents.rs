//! OpenAI `messages` → Gemini `systemInstruction` + `contents`.
//!
//! 1. **System hoisting, leading run only** (as for Anthropic, for the same prompt-cache reason — LiteLLM #42104):
//!    leading `system`/`developer` messages become `systemInstruction`; a later one becomes user text in place.
//! 2. **Roles.** `user` → `user`; `assistant` → `model` (text, then one `functionCall` per tool call, `args` the
//!    parsed arguments object); `tool` → a `functionResponse` part in a `user` turn, its `name` looked up from the
//!    earlier tool call with that id (Gemini correlates by name and position, not id) and its `response` the
//!    result when it is a JSON object, else `{"content": <text>}`.
//! 3. **Merging.** Consecutive messages with the same Gemini role are merged (Gemini wants user/model
//!    alternation); in a merged user turn the `functionResponse` parts come first, in call order.
//! 4. **Empty text** is omitted; a turn left empty is a 400 naming the message.
//! 5. **Content parts.** `data:` images and PDFs → `inlineData`; remote URLs are refused (Gemini takes no URL for
//!    inline parts, and the gateway does not fetch on a client's behalf); `input_audio` → `inlineData` audio.
//! 6. **Thought signatures** ride in the tool-call id (see [`THOUGHT_SEPARATOR`](super::super::THOUGHT_SEPARATOR))
//!    and are put back on the `functionCall` part.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;

use super::super::THOUGHT_SEPARATOR;
use super::output::{Blob, Content, FunctionCall, FunctionResponse, Part};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, truncate};
use crate::anthropic::request::calls;
use crate::anthropic::request::content::{data_url, has_prefix};
use crate::anthropic::request::input::{Message, Part as InPart, ToolCall};
use crate::anthropic::request::turns::{self, Target, part_error, text_only};

/// What the conversation becomes.
pub(super) struct Conversation<'a> {
    pub(super) system: Vec<Part<'a>>,
    pub(super) contents: Vec<Content<'a>>,
}

/// Converts the client's messages.
pub(super) fn convert(messages: Vec<Message<'_>>) -> Result<Conversation<'_>, LlmError> {
    let mut target = Gemini { names: HashMap::new() };
    let merged = turns::merge(messages, &mut target, "model", "Gemini refuses empty turns")?;
    let contents = merged
        .turns
        .into_iter()
        .map(|(role, parts)| Content { role, parts })
        .collect();
    Ok(Conversation {
        system: merged.system,
        contents,
    })
}

/// Gemini parts for each kind of message.
struct Gemini {
    /// Function names by tool-call id, for the `functionResponse` parts.
    names: HashMap<String, String>,
}

// === impl Gemini ===

impl<'a> Target<'a> for Gemini {
    type Block = Part<'a>;

    fn text(
        &mut self,
        content: Option<StrOr<'a, Vec<InPart<'a>>>>,
        i: usize,
        _role: &str,
        out: &mut Vec<Part<'a>>,
    ) -> Result<(), LlmError> {
        text_only(content, i, out, text_part)
    }

    fn user(&mut self, content: StrOr<'a, Vec<InPart<'a>>>, i: usize, out: &mut Vec<Part<'a>>) -> Result<(), LlmError> {
        user_content(content, i, out)
    }

    fn tool_call(&mut self, call: ToolCall<'a>, i: usize) -> Result<Part<'a>, LlmError> {
        function_call(call, i, &mut self.names)
    }

    fn tool(&mut self, msg: Message<'a>, i: usize) -> Result<Part<'a>, LlmError> {
        function_response(msg, i, &self.names)
    }
}

fn text_part<'a>(text: CowStr<'a>, out: &mut Vec<Part<'a>>) {
    if !text.trim().is_empty() {
        out.push(Part {
            text: Some(text.0),
            ..Part::default()
        });
    }
}

fn user_content<'a>(content: StrOr<'a, Vec<InPart<'a>>>, i: usize, out: &mut Vec<Part<'a>>) -> Result<(), LlmError> {
    let parts = match content {
        StrOr::Str(s) => {
            text_part(s, out);
            return Ok(());
        }
        StrOr::Other(parts) => parts,
    };
    for (j, part) in parts.into_iter().enumerate() {
        match &*part.kind {
            "text" => text_part(
                part.text.ok_or_else(|| part_error(i, j, "text part without `text`"))?,
                out,
            ),
            "image_url" => {
                let url = part
                    .image_url
                    .ok_or_else(|| part_error(i, j, "image part without `image_url`"))?;
                out.push(inline(url.url, "image/", i, j)?);
            }
            "file" => {
                let file = part.file.ok_or_else(|| part_error(i, j, "file part without `file`"))?;
                let data = file.file_data.ok_or_else(|| {
                    part_error(i, j, "only inline `file_data` (a data URL) is supported, not `file_id`")
                })?;
                out.push(inline(data, "", i, j)?);
            }
            other => {
                let kind = truncate(other, 24);
                return Err(part_error(i, j, &format!("unsupported content part type `{kind}`")));
            }
        }
    }
    Ok(())
}

/// A `data:` URL → `inlineData`; `kind_prefix` restricts the media type (`image/` for images).
fn inline<'a>(url: CowStr<'a>, kind_prefix: &str, i: usize, j: usize) -> Result<Part<'a>, LlmError> {
    if !has_prefix(&url, "data:") {
        return Err(part_error(
            i,
            j,
            "Gemini targets need inline data: send a base64 data URL (remote URLs are not fetched)",
        ));
    }
    let (media, data) = data_url(url.0).map_err(|e| part_error(i, j, &e))?;
    let media = media.to_ascii_lowercase();
    let media = if media == "image/jpg" {
        "image/jpeg".to_string()
    } else {
        media
    };
    if !media.starts_with(kind_prefix) || !media.contains('/') {
        return Err(part_error(
            i,
            j,
            &format!("unsupported media type `{}`", truncate(&media, 32)),
        ));
    }
    Ok(Part {
        inline_data: Some(Blob { mime_type: media, data }),
        ..Part::default()
    })
}

fn function_call<'a>(call: ToolCall<'a>, i: usize, names: &mut HashMap<String, String>) -> Result<Part<'a>, LlmError> {
    calls::function_only(&call, i)?;
    let name = super::tool_name(call.function.name)?;
    let args = calls::arguments(call.function.arguments.0, i)?;
    let id = call.id.0;
    let signature = id
        .split_once(THOUGHT_SEPARATOR)
        .map(|(_, sig)| Cow::<'a, str>::Owned(sig.to_string()))
        .filter(|s| !s.is_empty());
    names.insert(id.into_owned(), name.clone().into_owned());
    Ok(Part {
        function_call: Some(FunctionCall { name, args }),
        thought_signature: signature,
        ..Part::default()
    })
}

fn function_response<'a>(msg: Message<'a>, i: usize, names: &HashMap<String, String>) -> Result<Part<'a>, LlmError> {
    let id = calls::result_id(msg.tool_call_id, i)?;
    let name = names.get(&*id).ok_or_else(|| {
        LlmError::invalid_request(format!(
            "`messages[{i}]`: `tool_call_id` matches no earlier assistant tool call (Gemini needs the function name)"
        ))
    })?;
    let text = calls::result_text(msg.content, i)?;
    let response = match RawValue::from_string(text.clone()) {
        Ok(raw) if raw.get().trim_start().starts_with('{') => raw,
        _ => {
            let wrapped =
                serde_json::to_string(&serde_json::json!({ "content": text })).map_err(|_| LlmError::Internal {
                    detail: "serialising a tool result failed",
                })?;
            RawValue::from_string(wrapped).map_err(|_| LlmError::Internal {
                detail: "tool result JSON",
            })?
        }
    };
    Ok(Part {
        function_response: Some(FunctionResponse {
            name: Cow::Owned(name.clone()),
            response,
        }),
        ..Part::default()
    })
}
