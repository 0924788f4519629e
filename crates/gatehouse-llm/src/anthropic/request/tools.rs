//! `tools`, `tool_choice`, `parallel_tool_calls` and `response_format`.
//!
//! - `tools[].function{name,description,parameters,strict}` → `tools[]{name,description,input_schema,strict}`;
//!   missing `parameters` → `{"type":"object","properties":{}}`; any non-`function` tool type is a 400.
//! - `tool_choice`: `auto` → `auto`, `none` → `none`, `required` → `any`, a named function → `tool`;
//!   `allowed_tools` has no Anthropic equivalent, so `tools` is filtered to the allowed names and its mode maps to
//!   `auto`/`any`. `auto`/`none` without tools are no-ops and omitted; `required` or a name without tools is a 400,
//!   as is a name that is not among the tools (Anthropic would 400 less clearly).
//! - `parallel_tool_calls: false` → `disable_parallel_tool_use: true` on the tool choice (an explicit `auto` when
//!   the client gave none); never attached to `none`. `true` is Anthropic's default and adds nothing.
//! - `response_format`: `json_schema` → `output_config.format` with the client's schema, `json_object` → the same
//!   with `{"type":"object"}`, `text` → nothing.

use std::borrow::Cow;

use super::super::json::{CowStr, StrOr, static_raw, truncate};
use super::input::{ChoiceObject, ResponseFormat, Tool};
use super::output::{OutputConfig, ToolDef};
use super::tool_choice::{Choice, Mismatch, Tools, bad_choice, settle, string_choice};
use crate::LlmError;

/// Translates the three tool parameters together (each depends on the others).
pub(super) fn tools<'a>(
    tools: Option<Vec<Tool<'a>>>,
    choice: Option<StrOr<'a, ChoiceObject<'a>>>,
    parallel: Option<bool>,
) -> Result<Tools<'a>, LlmError> {
    let (choice, allowed) = read_choice(choice)?;
    let mut defs = Vec::new();
    for (i, tool) in tools.unwrap_or_default().into_iter().enumerate() {
        if tool.kind.0 != "function" {
            return Err(LlmError::invalid_request(format!(
                "`tools[{i}]`: only `function` tools are supported, not `{}`",
                truncate(&tool.kind, 24)
            )));
        }
        let f = tool
            .function
            .ok_or_else(|| LlmError::invalid_request(format!("`tools[{i}].function` is required")))?;
        if allowed
            .as_ref()
            .is_some_and(|names| !names.iter().any(|n| *n == *f.name))
        {
            continue;
        }
        defs.push(ToolDef {
            name: tool_name(f.name)?,
            description: f.description.map(|d| d.0),
            input_schema: match f.parameters {
                Some(p) => p,
                None => static_raw(r#"{"type":"object","properties":{}}"#)?,
            },
            strict: f.strict,
            cache_control: tool.cache_control,
        });
    }
    let mismatch = Mismatch {
        none_allowed: "`tool_choice.allowed_tools` matches none of `tools`",
        requires_tools: "`tool_choice` requires `tools`",
    };
    settle(defs, choice, allowed.is_some(), parallel, &mismatch)
}

/// `tool_choice` → the choice, plus the allowed names when it is `allowed_tools`.
type ReadChoice<'a> = (Option<Choice<'a>>, Option<Vec<Cow<'a, str>>>);

fn read_choice<'a>(choice: Option<StrOr<'a, ChoiceObject<'a>>>) -> Result<ReadChoice<'a>, LlmError> {
    let Some(choice) = choice else {
        return Ok((None, None));
    };
    let obj = match choice {
        StrOr::Str(s) => return Ok((Some(string_choice(&s)?), None)),
        StrOr::Other(obj) => obj,
    };
    match &*obj.kind {
        "function" => {
            let f = obj
                .function
                .ok_or_else(|| LlmError::invalid_request("`tool_choice.function.name` is required"))?;
            Ok((Some(Choice::Tool(f.name.0)), None))
        }
        "allowed_tools" => {
            let a = obj
                .allowed_tools
                .ok_or_else(|| LlmError::invalid_request("`tool_choice.allowed_tools` is required"))?;
            let c = match &*a.mode {
                "auto" => Choice::Auto,
                "required" => Choice::Any,
                _ => {
                    return Err(LlmError::invalid_request(
                        r#"`tool_choice.allowed_tools.mode` must be "auto" or "required""#,
                    ));
                }
            };
            let names = a
                .tools
                .into_iter()
                .filter_map(|t| t.function.map(|f| f.name.0))
                .collect();
            Ok((Some(c), Some(names)))
        }
        _ => Err(bad_choice()),
    }
}

/// A tool name Anthropic accepts (`^[a-zA-Z0-9_-]{1,128}$`, a superset of OpenAI's own rule).
pub(crate) fn tool_name(name: CowStr<'_>) -> Result<Cow<'_, str>, LlmError> {
    let valid = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(LlmError::invalid_request(format!(
            "tool name `{}` must match ^[a-zA-Z0-9_-]{{1,128}}$",
            truncate(&name, 32)
        )));
    }
    Ok(name.0)
}

/// `response_format` → `output_config`.
pub(super) fn output_config(format: Option<ResponseFormat<'_>>) -> Result<Option<OutputConfig<'_>>, LlmError> {
    let Some(format) = format else {
        return Ok(None);
    };
    let schema = match &*format.kind {
        "text" => return Ok(None),
        "json_object" => static_raw(r#"{"type":"object"}"#)?,
        "json_schema" => {
            let spec = format
                .json_schema
                .ok_or_else(|| LlmError::invalid_request("`response_format.json_schema` is required"))?;
            match spec.schema {
                Some(schema) => schema,
                None => static_raw(r#"{"type":"object"}"#)?,
            }
        }
        _ => {
            return Err(LlmError::invalid_request(
                r#"`response_format.type` must be "text", "json_object" or "json_schema""#,
            ));
        }
    };
    Ok(Some(OutputConfig::json_schema(schema)))
}
