//! Anthropic `system` + `messages` → OpenAI `messages`.
//!
//! Rules, in the order they apply:
//! 1. **System.** `system` (a string, or text blocks) becomes one leading `system` message: a plain string when
//!    it is one piece of text, else text parts (never joined here: the backend's chat template decides how parts
//!    are separated, exactly as for a client that sent parts). An empty system is omitted.
//! 2. **User turns.** `tool_result` blocks become separate `tool` messages placed *before* the rest of the turn,
//!    because OpenAI requires tool messages right after the assistant message holding the `tool_calls`. Their
//!    content is the string, or the text blocks joined with `"\n"` (OpenAI tool messages are text; vLLM joins text
//!    parts with `"\n"` too). Images inside a tool result (Claude Code's Read tool returns them) cannot ride in a
//!    tool message, so they move to the start of the user message that follows the tool messages. `is_error` has
//!    no OpenAI field: the content is passed unchanged and `is_error` reported as dropped.
//! 3. **User content.** `text` → text part (a turn of exactly one text part is sent as a plain string); `image`
//!    base64 → `image_url` with a `data:` URL, an `https` url → `image_url.url` (the backend fetches it; any other
//!    scheme is refused, so a client cannot point the backend at `http://` or `file://` inside the network); `document` PDF base64 → a `file` part with a
//!    `data:` URL in `file_data` (`filename` = the document's `title`, else `document.pdf`: OpenAI wants a name);
//!    a plain-text document → a text part. URL, file-id and content-block document sources are refused (the
//!    gateway never fetches for a client).
//! 4. **Assistant turns.** `text` → content (string, parts, or `null` when there is only tool use); `tool_use` →
//!    `tool_calls` with `arguments` = the compact JSON text of `input`; `thinking` and `redacted_thinking` are
//!    dropped and reported (their signatures are only meaningful to Anthropic). A turn left empty is omitted. A
//!    final assistant turn (Anthropic "prefill") is sent as a finished assistant message, which OpenAI-style
//!    backends do not continue: it is reported as `assistant_prefill`.
//! 5. `cache_control` anywhere is dropped (reported once), as are `citations`, a document's `context`, and
//!    `eager_input_streaming` on tools. Any other block type is a 400 naming it and its position.

use std::borrow::Cow;

use super::Drops;
use super::output::{
    ChatMessage, Content as OutContent, DataUrl, FileData, FunctionCall, ImageUrl, Part, ToolCall, Url,
};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, compact, truncate};
use crate::anthropic_ingress::input::{Block, Content, Message, Nested, Role, Source};

/// Converts `system` and `messages` (the caller has checked `messages` is not empty).
pub(super) fn convert<'a>(
    system: Option<Content<'a>>,
    messages: Vec<Message<'a>>,
    drops: &mut Drops,
) -> Result<Vec<ChatMessage<'a>>, LlmError> {
    let mut out = Vec::with_capacity(messages.len() + 1);
    if let Some(content) = system {
        let parts = system_parts(content, drops)?;
        if let Some(content) = collapse(parts) {
            out.push(ChatMessage::System { content });
        }
    }
    let last = messages.len().saturating_sub(1);
    for (i, msg) in messages.into_iter().enumerate() {
        match msg.role {
            Role::User => user(msg.content, i, drops, &mut out)?,
            Role::Assistant => {
                if i == last {
                    drops.note("assistant_prefill");
                }
                assistant(msg.content, i, drops, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// `system` → text parts.
fn system_parts<'a>(content: Content<'a>, drops: &mut Drops) -> Result<Vec<Part<'a>>, LlmError> {
    let blocks = match content {
        StrOr::Str(s) if s.is_empty() => return Ok(Vec::new()),
        StrOr::Str(s) => return Ok(vec![Part::Text { text: s.0 }]),
        StrOr::Other(blocks) => blocks,
    };
    let mut parts = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.into_iter().enumerate() {
        common(&block, drops);
        if &*block.kind != "text" {
            return Err(LlmError::invalid_request(format!(
                "`system[{j}]`: system blocks must be text, not `{}`",
                truncate(&block.kind, 24)
            )));
        }
        let text = block
            .text
            .ok_or_else(|| LlmError::invalid_request(format!("`system[{j}]`: text block without `text`")))?;
        parts.push(Part::Text { text: text.0 });
    }
    Ok(parts)
}

/// A user turn → tool messages, then the user message (if anything is left for it).
fn user<'a>(content: Content<'a>, i: usize, drops: &mut Drops, out: &mut Vec<ChatMessage<'a>>) -> Result<(), LlmError> {
    let blocks = match content {
        StrOr::Str(s) => {
            out.push(ChatMessage::User {
                content: OutContent::Text(s.0),
            });
            return Ok(());
        }
        StrOr::Other(blocks) => blocks,
    };
    let mut moved_images = Vec::new();
    let mut parts = Vec::with_capacity(blocks.len());
    let mut results = 0_usize;
    for (j, block) in blocks.into_iter().enumerate() {
        common(&block, drops);
        match &*block.kind {
            "text" => parts.push(Part::Text {
                text: text_of(block.text, i, j)?,
            }),
            "image" => parts.push(image(block, i, j)?),
            "document" => parts.push(document(block, i, j, drops)?),
            "tool_result" => {
                results += 1;
                let (msg, images) = tool_result(block, i, j, drops)?;
                out.push(msg);
                moved_images.extend(images);
            }
            other => {
                let what = if matches!(other, "tool_use" | "thinking" | "redacted_thinking") {
                    "is only allowed in assistant messages"
                } else {
                    "is not supported"
                };
                return Err(block_error(
                    i,
                    j,
                    &format!("block type `{}` {what}", truncate(other, 32)),
                ));
            }
        }
    }
    moved_images.append(&mut parts);
    if moved_images.is_empty() && results == 0 {
        return Err(LlmError::invalid_request(format!("`messages[{i}]` has no content")));
    }
    if let Some(content) = collapse(moved_images) {
        out.push(ChatMessage::User { content });
    }
    Ok(())
}

/// An assistant turn → one assistant message, or nothing when only dropped blocks remain.
fn assistant<'a>(
    content: Content<'a>,
    i: usize,
    drops: &mut Drops,
    out: &mut Vec<ChatMessage<'a>>,
) -> Result<(), LlmError> {
    let blocks = match content {
        StrOr::Str(s) => {
            out.push(ChatMessage::Assistant {
                content: Some(OutContent::Text(s.0)),
                tool_calls: Vec::new(),
            });
            return Ok(());
        }
        StrOr::Other(blocks) => blocks,
    };
    let mut parts = Vec::new();
    let mut tool_calls = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        common(&block, drops);
        match &*block.kind {
            "text" => parts.push(Part::Text {
                text: text_of(block.text, i, j)?,
            }),
            "tool_use" => {
                let (Some(id), Some(name)) = (block.id, block.name) else {
                    return Err(block_error(i, j, "tool_use block needs `id` and `name`"));
                };
                let mut arguments = String::new();
                compact(block.input.map_or("{}", |raw| raw.get()), &mut arguments);
                tool_calls.push(ToolCall {
                    id: id.0,
                    kind: "function",
                    function: FunctionCall {
                        name: name.0,
                        arguments,
                    },
                });
            }
            "thinking" | "redacted_thinking" => drops.note("thinking_blocks"),
            other => {
                return Err(block_error(
                    i,
                    j,
                    &format!("block type `{}` is not supported", truncate(other, 32)),
                ));
            }
        }
    }
    if parts.is_empty() && tool_calls.is_empty() {
        return Ok(());
    }
    out.push(ChatMessage::Assistant {
        content: collapse(parts),
        tool_calls,
    });
    Ok(())
}

/// A `tool_result` block → a tool message, plus the images it carried.
fn tool_result<'a>(
    block: Block<'a>,
    i: usize,
    j: usize,
    drops: &mut Drops,
) -> Result<(ChatMessage<'a>, Vec<Part<'a>>), LlmError> {
    let id = block
        .tool_use_id
        .ok_or_else(|| block_error(i, j, "tool_result block without `tool_use_id`"))?;
    if block.is_error == Some(true) {
        drops.note("is_error");
    }
    let mut images = Vec::new();
    let content: Cow<'a, str> = match block.content {
        None => Cow::Borrowed(""),
        Some(Nested::Other) => return Err(block_error(i, j, "tool_result `content` must be a string or blocks")),
        Some(Nested::Content(StrOr::Str(s))) => s.0,
        Some(Nested::Content(StrOr::Other(inner))) => {
            let mut texts: Vec<Cow<'a, str>> = Vec::with_capacity(inner.len());
            for block in inner {
                common(&block, drops);
                match &*block.kind {
                    "text" => texts.push(text_of(block.text, i, j)?),
                    "image" => images.push(image(block, i, j)?),
                    other => {
                        return Err(block_error(
                            i,
                            j,
                            &format!("tool_result content of type `{}` is not supported", truncate(other, 32)),
                        ));
                    }
                }
            }
            match texts.len() {
                0 => Cow::Borrowed(""),
                1 => texts.swap_remove(0),
                _ => Cow::Owned(texts.join("\n")),
            }
        }
    };
    Ok((
        ChatMessage::Tool {
            tool_call_id: id.0,
            content,
        },
        images,
    ))
}

/// An `image` block → an `image_url` part.
fn image<'a>(block: Block<'a>, i: usize, j: usize) -> Result<Part<'a>, LlmError> {
    let source = source(&block, i, j)?.ok_or_else(|| block_error(i, j, "image block without `source`"))?;
    let url = match &*source.kind {
        "base64" => {
            let (Some(media_type), Some(data)) = (source.media_type, source.data) else {
                return Err(block_error(i, j, "base64 image source needs `media_type` and `data`"));
            };
            Url::Data(DataUrl {
                media_type: media_type.0,
                data: data.0,
            })
        }
        "url" => {
            let url = source
                .url
                .ok_or_else(|| block_error(i, j, "url image source without `url`"))?;
            if !url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) {
                return Err(block_error(i, j, "image URLs must be https"));
            }
            Url::Plain(url.0)
        }
        other => return Err(source_error(i, j, "image", other)),
    };
    Ok(Part::ImageUrl {
        image_url: ImageUrl { url },
    })
}

/// A `document` block → a `file` part (PDF) or a text part (plain text).
fn document<'a>(block: Block<'a>, i: usize, j: usize, drops: &mut Drops) -> Result<Part<'a>, LlmError> {
    if block.context.is_some() {
        drops.note("document_context");
    }
    let source = source(&block, i, j)?.ok_or_else(|| block_error(i, j, "document block without `source`"))?;
    match &*source.kind {
        "base64" => {
            let media_type = source.media_type.as_deref().unwrap_or_default();
            if !media_type.eq_ignore_ascii_case("application/pdf") {
                return Err(block_error(i, j, "base64 documents must be `application/pdf`"));
            }
            let data = source
                .data
                .ok_or_else(|| block_error(i, j, "base64 document source without `data`"))?;
            Ok(Part::File {
                file: FileData {
                    filename: block.title.map_or(Cow::Borrowed("document.pdf"), |t| t.0),
                    file_data: DataUrl {
                        media_type: Cow::Borrowed("application/pdf"),
                        data: data.0,
                    },
                },
            })
        }
        "text" => Ok(Part::Text {
            text: text_of(source.data, i, j)?,
        }),
        other => Err(source_error(i, j, "document", other)),
    }
}

/// Notes what every block may carry that has no OpenAI meaning.
fn common(block: &Block<'_>, drops: &mut Drops) {
    if block.cache_control.is_some() {
        drops.note("cache_control");
    }
    if block.citations.is_some() {
        drops.note("citations");
    }
}

/// The block's `source`, read now.
fn source<'a>(block: &Block<'a>, i: usize, j: usize) -> Result<Option<Source<'a>>, LlmError> {
    block.source().map_err(|e| block_error(i, j, &format!("`source`: {e}")))
}

fn text_of(text: Option<CowStr<'_>>, i: usize, j: usize) -> Result<Cow<'_, str>, LlmError> {
    text.map(|t| t.0)
        .ok_or_else(|| block_error(i, j, "text block without `text`"))
}

/// Parts → content: nothing, one text as a plain string, or the parts.
fn collapse(mut parts: Vec<Part<'_>>) -> Option<OutContent<'_>> {
    match parts.as_slice() {
        [] => None,
        [Part::Text { .. }] => match parts.pop() {
            Some(Part::Text { text }) => Some(OutContent::Text(text)),
            _ => None,
        },
        _ => Some(OutContent::Parts(parts)),
    }
}

fn block_error(i: usize, j: usize, what: &str) -> LlmError {
    LlmError::invalid_request(format!("`messages[{i}].content[{j}]`: {what}"))
}

fn source_error(i: usize, j: usize, block: &str, kind: &str) -> LlmError {
    let hint = match kind {
        "url" => "; send it as base64",
        "file" => "; the Files API is not available on this target",
        _ => "",
    };
    block_error(
        i,
        j,
        &format!("{block} source `{}` is not supported{hint}", truncate(kind, 24)),
    )
}
