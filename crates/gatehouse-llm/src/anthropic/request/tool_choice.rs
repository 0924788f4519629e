//! How a client's `tool_choice` and `parallel_tool_calls` combine with its translated tool definitions into
//! Anthropic's `tools` / `tool_choice`: the rule the chat-completions and Responses translators share (they read
//! the client's fields differently, but must settle them the same way).
//!
//! - No definitions left: `auto` / `none` are no-ops; a forcing choice (`required`, a name) or an `allowed_tools`
//!   list is a 400.
//! - A named function must be among the definitions.
//! - `parallel_tool_calls: false` → `disable_parallel_tool_use: true` (an explicit `auto` when the client gave no
//!   choice); never on `none`.

use std::borrow::Cow;

use super::output::{ToolChoice, ToolDef};
use crate::LlmError;

/// Translated tool settings.
#[derive(Debug, Default)]
pub(crate) struct Tools<'a> {
    pub(crate) tools: Vec<ToolDef<'a>>,
    pub(crate) choice: Option<ToolChoice<'a>>,
    /// The choice forces a tool call (`any` or `tool`), which Anthropic does not allow together with thinking.
    pub(crate) forced: bool,
}

/// The client's tool choice before the tools are known.
pub(crate) enum Choice<'a> {
    Auto,
    None,
    Any,
    Tool(Cow<'a, str>),
}

/// What the client is told when its choice does not fit its tools (each dialect names its own fields).
pub(crate) struct Mismatch {
    /// `allowed_tools` named none of the definitions.
    pub(crate) none_allowed: &'static str,
    /// A forcing choice without any definitions.
    pub(crate) requires_tools: &'static str,
}

/// The string form of `tool_choice` (`"auto"`, `"none"`, `"required"`).
pub(crate) fn string_choice(choice: &str) -> Result<Choice<'static>, LlmError> {
    Ok(match choice {
        "auto" => Choice::Auto,
        "none" => Choice::None,
        "required" => Choice::Any,
        _ => return Err(bad_choice()),
    })
}

/// The error for a `tool_choice` of no known form.
pub(crate) fn bad_choice() -> LlmError {
    LlmError::invalid_request(r#"`tool_choice` must be "auto", "none", "required" or a function"#)
}

/// Combines the definitions (already filtered to `allowed_tools`, when the choice was one) with the choice and
/// `parallel_tool_calls`.
pub(crate) fn settle<'a>(
    defs: Vec<ToolDef<'a>>,
    choice: Option<Choice<'a>>,
    allowed: bool,
    parallel: Option<bool>,
    mismatch: &Mismatch,
) -> Result<Tools<'a>, LlmError> {
    if defs.is_empty() {
        return match (choice, allowed) {
            (_, true) => Err(LlmError::invalid_request(mismatch.none_allowed)),
            (Some(Choice::Any | Choice::Tool(_)), false) => Err(LlmError::invalid_request(mismatch.requires_tools)),
            _ => Ok(Tools::default()),
        };
    }
    if let Some(Choice::Tool(name)) = &choice
        && !defs.iter().any(|d| d.name == *name)
    {
        return Err(LlmError::invalid_request(
            "`tool_choice` names a function that is not in `tools`",
        ));
    }
    let disable = (parallel == Some(false)).then_some(true);
    let (kind, name, forced) = match choice {
        None if disable.is_none() => {
            return Ok(Tools {
                tools: defs,
                choice: None,
                forced: false,
            });
        }
        None | Some(Choice::Auto) => ("auto", None, false),
        Some(Choice::None) => ("none", None, false),
        Some(Choice::Any) => ("any", None, true),
        Some(Choice::Tool(name)) => ("tool", Some(name), true),
    };
    Ok(Tools {
        tools: defs,
        choice: Some(ToolChoice {
            kind,
            name,
            disable_parallel_tool_use: if kind == "none" { None } else { disable },
        }),
        forced,
    })
}
