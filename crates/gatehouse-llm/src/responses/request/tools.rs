//! `tools`, `tool_choice`, `parallel_tool_calls` and `text.format`.
//!
//! **The tool rule** (one rule for every tool a target cannot run):
//! - `{type:"function", name, description, parameters, strict}` → Anthropic `{name, description, input_schema,
//!   strict}`; missing `parameters` → `{"type":"object","properties":{}}`.
//! - `{type:"namespace", name, tools:[…]}` is unwrapped: its `function` members become plain functions under
//!   their own names (the namespace's description is not sent). A name declared twice (at the top level or in two
//!   namespaces) is a 400, since a call could not be attributed.
//! - Every other tool type — hosted tools (`web_search*`, `file_search`, `code_interpreter`, `computer*`,
//!   `image_generation`, `mcp`, `tool_search`), client tools with their own item types (`local_shell`, `shell`,
//!   `apply_patch`, `custom`) and types added later — is dropped and reported in `warnings` as `tool:<type>`
//!   (`tool:custom:<name>` for custom tools, inside namespaces too). The model then answers without it.
//! - A `tool_choice` that *forces* a dropped tool (`{type:"web_search"}`, `{type:"mcp"}`, `{type:"custom"}`, …)
//!   is a 400: it cannot be honoured, and ignoring it would change the answer.
//!
//! `tool_choice`: `auto` → `auto`, `none` → `none`, `required` → `any`, `{type:"function",name}` → `tool`;
//! `{type:"allowed_tools",mode,tools}` filters the tools to the listed functions and maps `mode` to `auto`/`any`.
//! `auto`/`none` without tools are no-ops; `required` or a name without (matching) tools is a 400.
//! `parallel_tool_calls: false` → `disable_parallel_tool_use: true` (never on `none`).
//!
//! `text.format`: `json_schema` → `output_config.format` with the client's `schema` (the same structured output
//! the chat translator sends for `response_format`), `json_object` → the same with `{"type":"object"}`, `text` →
//! nothing. `text.verbosity`: `medium` (the default) or `null` asks for nothing; other values have no Anthropic
//! meaning (400, or dropped when the model's rules say so).

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::Warnings;
use super::input::{ChoiceObject, TextConfig, Tool};
use crate::LlmError;
use crate::anthropic::json::{StrOr, static_raw, truncate};
use crate::anthropic::request::Drops;
use crate::anthropic::request::output::{OutputConfig, ToolDef};
use crate::anthropic::request::tool_choice::{Choice, Mismatch, Tools, settle, string_choice};
use crate::anthropic::request::tools::tool_name;

/// Translates `tools`, `tool_choice` and `parallel_tool_calls` together (each depends on the others).
pub(super) fn tools<'a>(
    tools: Option<&'a RawValue>,
    choice: Option<&'a RawValue>,
    parallel: Option<bool>,
    warnings: &mut Warnings,
) -> Result<Tools<'a>, LlmError> {
    let (choice, allowed) = read_choice(choice)?;
    let list: Vec<Tool<'a>> = match tools {
        None => Vec::new(),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| invalid("tools", &e))?,
    };
    let mut defs: Vec<ToolDef<'a>> = Vec::new();
    for (i, tool) in list.into_iter().enumerate() {
        match &*tool.kind {
            "function" => function(tool, &format!("tools[{i}]"), &mut defs)?,
            "namespace" => {
                for (j, member) in tool.tools.unwrap_or_default().into_iter().enumerate() {
                    match &*member.kind {
                        "function" => function(member, &format!("tools[{i}].tools[{j}]"), &mut defs)?,
                        other => foreign(other, member.name.as_deref(), warnings),
                    }
                }
            }
            other => foreign(other, tool.name.as_deref(), warnings),
        }
    }
    if let Some(names) = &allowed {
        defs.retain(|d| names.contains(&d.name));
    }
    let mismatch = Mismatch {
        none_allowed: "`tool_choice.tools` matches none of the function `tools`",
        requires_tools: "`tool_choice` requires function `tools`",
    };
    settle(defs, choice, allowed.is_some(), parallel, &mismatch)
}

/// A function tool → a definition (a name declared twice is a 400).
fn function<'a>(tool: Tool<'a>, at: &str, defs: &mut Vec<ToolDef<'a>>) -> Result<(), LlmError> {
    let name = tool
        .name
        .ok_or_else(|| LlmError::invalid_request(format!("`{at}.name` is required")))?;
    let name = tool_name(name)?;
    if defs.iter().any(|d| d.name == name) {
        return Err(LlmError::invalid_request(format!(
            "`{at}`: function `{}` is declared twice",
            truncate(&name, 32)
        )));
    }
    defs.push(ToolDef {
        name,
        description: tool.description.map(|d| d.0),
        input_schema: match tool.parameters {
            Some(p) => p,
            None => static_raw(r#"{"type":"object","properties":{}}"#)?,
        },
        strict: tool.strict,
        cache_control: None,
    });
    Ok(())
}

/// A tool the target cannot run: dropped, with a warning.
fn foreign(kind: &str, name: Option<&str>, warnings: &mut Warnings) {
    match (kind, name) {
        ("custom", Some(name)) => warnings.push("tool:custom", name),
        _ => warnings.push("tool", kind),
    }
}

/// `tool_choice` → the choice, plus the allowed names for `allowed_tools`.
type ReadChoice<'a> = (Option<Choice<'a>>, Option<Vec<Cow<'a, str>>>);

fn read_choice(choice: Option<&RawValue>) -> Result<ReadChoice<'_>, LlmError> {
    let Some(raw) = choice else {
        return Ok((None, None));
    };
    let choice: StrOr<'_, ChoiceObject<'_>> =
        serde_json::from_str(raw.get()).map_err(|e| invalid("tool_choice", &e))?;
    let obj = match choice {
        StrOr::Str(s) => return Ok((Some(string_choice(&s)?), None)),
        StrOr::Other(obj) => obj,
    };
    match &*obj.kind {
        "function" => {
            let name = obj
                .name
                .ok_or_else(|| LlmError::invalid_request("`tool_choice.name` is required"))?;
            Ok((Some(Choice::Tool(name.0)), None))
        }
        "allowed_tools" => {
            let c = match obj.mode.as_deref() {
                Some("auto") => Choice::Auto,
                Some("required") => Choice::Any,
                _ => {
                    return Err(LlmError::invalid_request(
                        r#"`tool_choice.mode` must be "auto" or "required""#,
                    ));
                }
            };
            let names = obj
                .tools
                .unwrap_or_default()
                .into_iter()
                .filter(|t| &*t.kind == "function")
                .filter_map(|t| t.name.map(|n| n.0))
                .collect();
            Ok((Some(c), Some(names)))
        }
        other => Err(LlmError::invalid_request(format!(
            "`tool_choice` forces a `{}` tool, which this model cannot run",
            truncate(other, 32)
        ))),
    }
}

/// `text` → `output_config` (and the `verbosity` check).
pub(super) fn output_config<'a>(
    text: Option<&'a RawValue>,
    drops: &mut Drops<'_>,
) -> Result<Option<OutputConfig<'a>>, LlmError> {
    let Some(raw) = text else {
        return Ok(None);
    };
    let config: TextConfig<'a> = serde_json::from_str(raw.get()).map_err(|e| invalid("text", &e))?;
    if config.verbosity.as_deref().is_some_and(|v| v != "medium") {
        drops.unsupported("text.verbosity")?;
    }
    let Some(format) = config.format else {
        return Ok(None);
    };
    let schema = match &*format.kind {
        "text" => return Ok(None),
        "json_object" => static_raw(r#"{"type":"object"}"#)?,
        "json_schema" => format
            .schema
            .ok_or_else(|| LlmError::invalid_request("`text.format.schema` is required"))?,
        _ => {
            return Err(LlmError::invalid_request(
                r#"`text.format.type` must be "text", "json_object" or "json_schema""#,
            ));
        }
    };
    Ok(Some(OutputConfig::json_schema(schema)))
}

/// A parameter whose JSON has the wrong shape.
pub(super) fn invalid(name: &str, e: &serde_json::Error) -> LlmError {
    LlmError::invalid_request(format!("`{name}`: {e}"))
}
