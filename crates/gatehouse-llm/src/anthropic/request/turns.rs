//! OpenAI chat `messages` → a system prompt and alternating user / assistant turns: the conversation shape the
//! Anthropic, Bedrock Converse and Gemini translators all need, written once so the three agree on it.
//!
//! - **System hoisting, leading run only.** `system` / `developer` messages before any other become the system
//!   prompt; a later one becomes user content at its position (hoisting it would change the cached prompt prefix
//!   every time one is appended).
//! - **Merging.** Consecutive messages that map to the same role form one turn; in a user turn the tool results
//!   come first, then the other content, each in client order.
//! - **Empty turns** are a 400 naming the first message of the turn; `function` messages are a 400.
//!
//! Each translator implements [`Target`] to say what one message's content becomes.

use super::super::json::{CowStr, StrOr};
use super::input::{Message, Part, Role, ToolCall};
use crate::LlmError;

/// What one translator makes of each kind of message.
pub(crate) trait Target<'a> {
    /// One content block / part of the target's wire format.
    type Block;

    /// Content that may only hold text: a `system` / `developer` message, or an `assistant` message's text (`role`
    /// says which).
    fn text(
        &mut self,
        content: Option<StrOr<'a, Vec<Part<'a>>>>,
        i: usize,
        role: &str,
        out: &mut Vec<Self::Block>,
    ) -> Result<(), LlmError>;
    /// The content of a `user` message.
    fn user(&mut self, content: StrOr<'a, Vec<Part<'a>>>, i: usize, out: &mut Vec<Self::Block>)
    -> Result<(), LlmError>;
    /// One of an `assistant` message's tool calls (after its text).
    fn tool_call(&mut self, call: ToolCall<'a>, i: usize) -> Result<Self::Block, LlmError>;
    /// A `tool` message: one tool result.
    fn tool(&mut self, msg: Message<'a>, i: usize) -> Result<Self::Block, LlmError>;
}

/// The merged conversation: the system prompt, then each turn's role and blocks.
pub(crate) struct Merged<B> {
    pub(crate) system: Vec<B>,
    pub(crate) turns: Vec<(&'static str, Vec<B>)>,
}

/// A turn under construction.
struct Pending<B> {
    user: bool,
    /// Index of the first OpenAI message merged into it, for error messages.
    first: usize,
    results: Vec<B>,
    content: Vec<B>,
}

/// Merges `messages` into turns through `target`, naming assistant turns `assistant_role` (user turns are
/// `user`); `empty_turn` ends the error for a turn left without content (the target's rule, e.g. "Gemini refuses
/// empty turns").
pub(crate) fn merge<'a, T: Target<'a>>(
    messages: Vec<Message<'a>>,
    target: &mut T,
    assistant_role: &'static str,
    empty_turn: &str,
) -> Result<Merged<T::Block>, LlmError> {
    let mut system = Vec::new();
    let mut pending: Vec<Pending<T::Block>> = Vec::with_capacity(messages.len());
    let mut leading = true;
    for (i, msg) in messages.into_iter().enumerate() {
        match msg.role {
            Role::System | Role::Developer => {
                let mut blocks = Vec::new();
                target.text(msg.content, i, "system", &mut blocks)?;
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
                    target.user(content, i, &mut t.content)?;
                }
            }
            Role::Assistant => {
                leading = false;
                let t = turn(&mut pending, false, i);
                target.text(msg.content, i, "assistant", &mut t.content)?;
                for call in msg.tool_calls.unwrap_or_default() {
                    t.content.push(target.tool_call(call, i)?);
                }
            }
            Role::Tool => {
                leading = false;
                let result = target.tool(msg, i)?;
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
                "`messages[{}]` has no content ({empty_turn})",
                p.first
            )));
        }
        p.results.append(&mut p.content);
        turns.push((if p.user { "user" } else { assistant_role }, p.results));
    }
    Ok(Merged { system, turns })
}

/// The turn being built for `user`, starting a new one when the role changes.
fn turn<B>(pending: &mut Vec<Pending<B>>, user: bool, index: usize) -> &mut Pending<B> {
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

/// Content that may only hold text, for targets without per-part options: each `text` or `refusal` part (and a
/// plain string) goes through `text`, anything else is a 400.
pub(crate) fn text_only<'a, B>(
    content: Option<StrOr<'a, Vec<Part<'a>>>>,
    i: usize,
    out: &mut Vec<B>,
    text: fn(CowStr<'a>, &mut Vec<B>),
) -> Result<(), LlmError> {
    match content {
        None => {}
        Some(StrOr::Str(s)) => text(s, out),
        Some(StrOr::Other(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                let body = match &*part.kind {
                    "text" => part.text,
                    "refusal" => part.refusal,
                    _ => return Err(part_error(i, j, "this role's content may only contain text")),
                };
                text(body.ok_or_else(|| part_error(i, j, "text part without `text`"))?, out);
            }
        }
    }
    Ok(())
}

/// An error about part `j` of message `i`.
pub(crate) fn part_error(i: usize, j: usize, what: &str) -> LlmError {
    LlmError::invalid_request(format!("`messages[{i}].content[{j}]`: {what}"))
}
