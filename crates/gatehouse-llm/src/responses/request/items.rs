//! Responses `input` items → Anthropic `system` + `messages`.
//!
//! Rules, in the order they apply (the same as the chat translator's, so both dialects reach Anthropic alike):
//! 1. **System.** `instructions` first, then the leading run of `system`/`developer` messages, become the
//!    top-level `system` blocks. A `system`/`developer` message after the first other item is *not* hoisted
//!    (that would change the system prompt, and with it Anthropic's prompt-cache prefix, every time one is
//!    appended): it becomes user text at its position.
//! 2. **Items.** `message` (or a bare `{role, content}`): `user` → user; `assistant` → assistant text
//!    (`output_text`, `input_text` and `refusal` parts). `function_call` → a `tool_use` block in an assistant
//!    message (`arguments` parsed; not a JSON object → 400). `function_call_output` → a `tool_result` block in a
//!    user message (a string, or `input_text`/`input_image`/`input_file` parts).
//! 3. **Merging.** Consecutive items that map to the same role become one Anthropic message (a `function_call`
//!    right after an assistant message joins it; all outputs of one round go in one user message). In a merged
//!    user message the `tool_result` blocks come first, then the other content, each in client order.
//! 4. **Empty text** is omitted (Anthropic 400s on it). An assistant message left with no text is skipped (agents
//!    replay output items verbatim, and a model may have produced an empty text part); any other message left
//!    with no content at all is a 400 naming it.
//! 5. **Reasoning items.** A `reasoning` item this gateway produced from an Anthropic thinking block carries
//!    Anthropic's signature in `encrypted_content` (prefix [`THINKING_PREFIX`], or [`REDACTED_PREFIX`] for a
//!    redacted block): when the request enables thinking it goes back as that `thinking` block (text = the
//!    item's `summary` texts, which are the thinking text) in the assistant message, as Anthropic requires in a
//!    tool loop with thinking. Every other reasoning item is dropped (reported as `reasoning_items` in
//!    `dropped`): `encrypted_content` from another provider means nothing to Anthropic, and a thinking block
//!    without Anthropic's signature is refused; without thinking enabled the blocks are not needed.
//! 6. **Items of tools the target cannot run** (`web_search_call`, `custom_tool_call`, `local_shell_call`,
//!    `mcp_call`, `compaction`, ... and their outputs) are dropped and reported in `warnings` as `item:<type>`.
//!    `item_reference` (a reference into OpenAI's storage) and unknown item types are a 400.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::Warnings;
use super::input::{Item, Part};
use crate::LlmError;
use crate::anthropic::json::{CowStr, StrOr, static_raw, sub_cow, truncate};
use crate::anthropic::request::Drops;
use crate::anthropic::request::content::{document, has_prefix, image};
use crate::anthropic::request::input::FileRef;
use crate::anthropic::request::messages::tool_id;
use crate::anthropic::request::output::{Block, Source, ToolResultContent, Turn};
use crate::anthropic::request::tools::tool_name;

/// `encrypted_content` prefix of a reasoning item made from an Anthropic `thinking` block; the signature follows.
pub(crate) const THINKING_PREFIX: &str = "gatehouse.anthropic.thinking.v1:";
/// `encrypted_content` prefix of a reasoning item made from an Anthropic `redacted_thinking` block; its `data`
/// follows.
pub(crate) const REDACTED_PREFIX: &str = "gatehouse.anthropic.redacted.v1:";

/// Item types of tools a translated target cannot run: dropped with a warning (rule 6).
const FOREIGN_ITEMS: [&str; 24] = [
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "custom_tool_call",
    "custom_tool_call_output",
    "tool_search_call",
    "tool_search_output",
    "compaction",
    "program_call",
    "program_call_output",
    "additional_tool_calls",
];

/// What the conversation becomes.
#[derive(Debug, Default)]
pub(super) struct Conversation<'a> {
    pub(super) system: Vec<Block<'a>>,
    pub(super) turns: Vec<Turn<'a>>,
}

/// Where an item is, for error messages (`input[3]`), formatted only when an error needs it.
#[derive(Debug, Clone, Copy)]
struct At {
    label: &'static str,
    index: Option<usize>,
}

/// A merged Anthropic message under construction.
struct Pending<'a> {
    user: bool,
    /// Which item started it, for error messages.
    first: At,
    results: Vec<Block<'a>>,
    content: Vec<Block<'a>>,
}

/// Builds the conversation; `sources` are item lists with the name used for them in error messages
/// (`previous response`, then `input`).
pub(super) struct Builder<'a> {
    system: Vec<Block<'a>>,
    pending: Vec<Pending<'a>>,
    leading: bool,
    /// The request enables thinking: this gateway's own reasoning items go back as thinking blocks.
    thinking: bool,
}

// === impl Builder ===

impl<'a> Builder<'a> {
    /// Starts with `instructions` as the first system block.
    pub(super) fn new(instructions: Option<CowStr<'a>>, thinking: bool) -> Self {
        let mut system = Vec::new();
        if let Some(i) = instructions {
            text(i, &mut system);
        }
        Self {
            system,
            pending: Vec::new(),
            leading: true,
            thinking,
        }
    }

    /// `input` as a plain string: one user message.
    pub(super) fn user_text(&mut self, s: CowStr<'a>) {
        self.leading = false;
        let t = self.turn(
            true,
            At {
                label: "input",
                index: None,
            },
        );
        text(s, &mut t.content);
    }

    /// Appends items; `label` names the list in error messages (`input`, `previous response`).
    pub(super) fn items(
        &mut self,
        items: Vec<Item<'a>>,
        label: &'static str,
        drops: &mut Drops<'_>,
        warnings: &mut Warnings,
    ) -> Result<(), LlmError> {
        for (i, item) in items.into_iter().enumerate() {
            let at = At { label, index: Some(i) };
            let kind = item.kind.as_deref().unwrap_or("message");
            match kind {
                "message" => self.message(item, at)?,
                "function_call" => {
                    self.leading = false;
                    let block = tool_use(item, at)?;
                    self.turn(false, at).content.push(block);
                }
                "function_call_output" => {
                    self.leading = false;
                    let block = tool_result(item, at)?;
                    self.turn(true, at).results.push(block);
                }
                "reasoning" => match self.thinking.then(|| thinking_block(item)).flatten() {
                    Some(block) => {
                        self.leading = false;
                        self.turn(false, at).content.push(block);
                    }
                    None => drops.note("reasoning_items"),
                },
                "item_reference" => {
                    return Err(LlmError::invalid_request(format!(
                        "`{}`: `item_reference` items are not supported for this model; send the item itself",
                        at,
                    )));
                }
                other if FOREIGN_ITEMS.contains(&other) => warnings.push("item", other),
                other => {
                    return Err(LlmError::invalid_request(format!(
                        "`{}`: unsupported item type `{}`",
                        at,
                        truncate(other, 32)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The finished conversation.
    pub(super) fn finish(self) -> Result<Conversation<'a>, LlmError> {
        if self.pending.is_empty() {
            return Err(LlmError::invalid_request(
                "`input` must contain at least one user or assistant message",
            ));
        }
        let mut turns = Vec::with_capacity(self.pending.len());
        for mut p in self.pending {
            if p.results.is_empty() && p.content.is_empty() {
                return Err(LlmError::invalid_request(format!(
                    "`{}` has no content (empty text is not allowed by Anthropic)",
                    p.first
                )));
            }
            p.results.append(&mut p.content);
            turns.push(Turn {
                role: if p.user { "user" } else { "assistant" },
                content: p.results,
            });
        }
        Ok(Conversation {
            system: self.system,
            turns,
        })
    }

    fn message(&mut self, item: Item<'a>, at: At) -> Result<(), LlmError> {
        let role = item
            .role
            .ok_or_else(|| LlmError::invalid_request(format!("`{at}`: message without `role`")))?;
        let content = item.content;
        match &*role {
            "system" | "developer" => {
                let mut blocks = Vec::new();
                text_only(content, at, "system", &mut blocks)?;
                if self.leading {
                    self.system.append(&mut blocks);
                } else {
                    self.turn(true, at).content.append(&mut blocks);
                }
            }
            "user" => {
                self.leading = false;
                let t = self.turn(true, at);
                if let Some(content) = content {
                    user_content(content, at, &mut t.content)?;
                }
            }
            "assistant" => {
                self.leading = false;
                // A replayed assistant message whose text is empty (a model may answer with an empty text block
                // next to its tool calls) adds nothing; it must not fail the whole conversation.
                let mut blocks = Vec::new();
                text_only(content, at, "assistant", &mut blocks)?;
                if !blocks.is_empty() {
                    self.turn(false, at).content.append(&mut blocks);
                }
            }
            other => {
                return Err(LlmError::invalid_request(format!(
                    "`{at}`: unsupported role `{}`",
                    truncate(other, 24)
                )));
            }
        }
        Ok(())
    }

    /// The message being built for `user`, starting a new one when the role changes.
    fn turn(&mut self, user: bool, at: At) -> &mut Pending<'a> {
        if self.pending.last().is_none_or(|p| p.user != user) {
            self.pending.push(Pending {
                user,
                first: at,
                results: Vec::new(),
                content: Vec::new(),
            });
        }
        let last = self.pending.len() - 1;
        &mut self.pending[last]
    }
}

/// A text block, or nothing for empty or whitespace-only text.
fn text<'a>(text: CowStr<'a>, out: &mut Vec<Block<'a>>) {
    if !text.trim().is_empty() {
        out.push(Block::Text {
            text: text.0,
            cache_control: None,
        });
    }
}

/// Content that may only hold text (`system`, `developer`, `assistant`).
fn text_only<'a>(
    content: Option<StrOr<'a, Vec<Part<'a>>>>,
    at: At,
    role: &str,
    out: &mut Vec<Block<'a>>,
) -> Result<(), LlmError> {
    match content {
        None => {}
        Some(StrOr::Str(s)) => text(s, out),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                let body = match &*part.kind {
                    "input_text" | "output_text" | "text" => part.text,
                    "refusal" if role == "assistant" => part.refusal,
                    _ => return Err(part_error(at, j, &format!("{role} content may only contain text"))),
                };
                let body = body.ok_or_else(|| part_error(at, j, "text part without `text`"))?;
                text(body, out);
            }
        }
    }
    Ok(())
}

/// User content (and tool output parts): text, images, files.
fn user_content<'a>(content: StrOr<'a, Vec<Part<'a>>>, at: At, out: &mut Vec<Block<'a>>) -> Result<(), LlmError> {
    let parts = match content {
        StrOr::Str(s) => {
            text(s, out);
            return Ok(());
        }
        StrOr::Other(parts) => parts,
    };
    for (j, part) in parts.into_iter().enumerate() {
        if let Some(block) = media_or_text(part).map_err(|e| part_error(at, j, &e))? {
            out.push(block);
        }
    }
    Ok(())
}

/// One `input_text` / `input_image` / `input_file` part → a block (`None` for empty text).
fn media_or_text(part: Part<'_>) -> Result<Option<Block<'_>>, Cow<'static, str>> {
    match &*part.kind {
        "input_text" => {
            let t = part.text.ok_or(Cow::Borrowed("text part without `text`"))?;
            let mut out = Vec::with_capacity(1);
            text(t, &mut out);
            Ok(out.pop())
        }
        "input_image" => {
            let Some(url) = part.image_url else {
                return Err(Cow::Borrowed(if part.file_id.is_some() {
                    "`file_id` is not supported; send the image as `image_url` (https or a data URL)"
                } else {
                    "image part without `image_url`"
                }));
            };
            Ok(Some(Block::Image {
                source: image(url)?,
                cache_control: None,
            }))
        }
        "input_file" => {
            let source = match (part.file_data, part.file_url) {
                (None, Some(url)) if has_prefix(&url, "https://") => Source::Url { url: url.0 },
                (None, Some(_)) => return Err(Cow::Borrowed("`file_url` must be an https URL")),
                (data, _) => document(FileRef {
                    file_data: data,
                    file_id: part.file_id,
                })?,
            };
            Ok(Some(Block::Document {
                source,
                cache_control: None,
            }))
        }
        other => Err(Cow::Owned(format!(
            "unsupported content part type `{}`",
            truncate(other, 24)
        ))),
    }
}

/// One of this gateway's reasoning items → the Anthropic block it came from; `None` for any other.
fn thinking_block(item: Item<'_>) -> Option<Block<'_>> {
    let sealed = item.encrypted_content?;
    if let Some(data) = sealed.strip_prefix(REDACTED_PREFIX) {
        return (!data.is_empty()).then(|| Block::RedactedThinking {
            data: sub_cow(sealed.0.clone(), REDACTED_PREFIX.len(), sealed.len()),
        });
    }
    let signature = sealed.strip_prefix(THINKING_PREFIX).filter(|s| !s.is_empty())?;
    let signature = Cow::Owned(signature.to_owned());
    let mut parts = item.summary.unwrap_or_default().into_iter().filter_map(|p| p.text);
    let thinking = match (parts.next(), parts.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(one), None) => one.0,
        (Some(first), Some(second)) => {
            let mut all = first.0.into_owned();
            all.push_str(&second);
            parts.for_each(|p| all.push_str(&p));
            Cow::Owned(all)
        }
    };
    Some(Block::Thinking { thinking, signature })
}

/// A `function_call` item → `tool_use`.
fn tool_use(item: Item<'_>, at: At) -> Result<Block<'_>, LlmError> {
    let (Some(call_id), Some(name)) = (item.call_id, item.name) else {
        return Err(LlmError::invalid_request(format!(
            "`{at}`: `function_call` needs `call_id` and `name`"
        )));
    };
    let name = tool_name(name)?;
    let id = tool_id(call_id, 0).map_err(|_| LlmError::invalid_request(format!("`{at}`: `call_id` is empty")))?;
    let args = item.arguments.map(|a| a.0).unwrap_or_default();
    let input = if args.trim().is_empty() {
        Cow::Borrowed(static_raw("{}")?)
    } else {
        let raw = RawValue::from_string(args.into_owned())
            .map_err(|_| LlmError::invalid_request(format!("`{at}`: `arguments` is not valid JSON")))?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(LlmError::invalid_request(format!(
                "`{at}`: `arguments` must be a JSON object"
            )));
        }
        Cow::Owned(raw)
    };
    Ok(Block::ToolUse { id, name, input })
}

/// A `function_call_output` item → `tool_result`.
fn tool_result(item: Item<'_>, at: At) -> Result<Block<'_>, LlmError> {
    let call_id = item
        .call_id
        .ok_or_else(|| LlmError::invalid_request(format!("`{at}`: `function_call_output` needs `call_id`")))?;
    let content = match item.output {
        None => None,
        Some(StrOr::Str(s)) => (!s.trim().is_empty()).then_some(ToolResultContent::Text(s.0)),
        Some(StrOr::Other(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.into_iter().enumerate() {
                if let Some(block) = media_or_text(part).map_err(|e| part_error(at, j, &e))? {
                    blocks.push(block);
                }
            }
            (!blocks.is_empty()).then_some(ToolResultContent::Blocks(blocks))
        }
    };
    let tool_use_id =
        tool_id(call_id, 0).map_err(|_| LlmError::invalid_request(format!("`{at}`: `call_id` is empty")))?;
    Ok(Block::ToolResult { tool_use_id, content })
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.label),
            None => f.write_str(self.label),
        }
    }
}

fn part_error(at: At, j: usize, what: &str) -> LlmError {
    LlmError::invalid_request(format!("`{at}.content[{j}]`: {what}"))
}
