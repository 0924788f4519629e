//! `tools` and `tool_choice`.
//!
//! - Client tools (`type` absent or `custom`) `{name, description, input_schema, strict}` →
//!   `{type:"function", function:{name, description, parameters, strict}}`. `name` and `input_schema` are required
//!   (as by Anthropic).
//! - Anthropic's typed tools (`web_search_*`, `web_fetch_*`, `code_execution_*`, `bash_*`, `text_editor_*`,
//!   `computer_*`, ...) are executed by Anthropic or have schemas built into Claude; an OpenAI-style backend has
//!   neither, so any of them is a 400 listing every such type. Non-empty `mcp_servers` likewise.
//! - `tool_choice`: `auto` → `"auto"`, `any` → `"required"`, `tool` → `{type:"function",function:{name}}`,
//!   `none` → `"none"`. `auto`/`none` without tools are omitted (OpenAI 400s on `tool_choice` without `tools`);
//!   `any`/`tool` without tools, or a name not among the tools, are a 400.
//! - `disable_parallel_tool_use: true` → `parallel_tool_calls: false` (only with tools, never with `none`).

use super::Drops;
use super::output::{FunctionDef, FunctionTool, Name, ToolChoice as OutChoice};
use crate::LlmError;
use crate::anthropic::json::truncate;
use crate::anthropic_ingress::input::{Tool, ToolChoice};

/// Translated tool settings.
#[derive(Debug, Default)]
pub(super) struct Tools<'a> {
    pub(super) tools: Vec<FunctionTool<'a>>,
    pub(super) choice: Option<OutChoice<'a>>,
    pub(super) parallel_tool_calls: Option<bool>,
}

/// Translates `tools` and `tool_choice` together (the choice depends on the tools).
pub(super) fn tools<'a>(
    tools: Option<Vec<Tool<'a>>>,
    choice: Option<ToolChoice<'a>>,
    drops: &mut Drops,
) -> Result<Tools<'a>, LlmError> {
    let tools = tools.unwrap_or_default();
    let server: Vec<&str> = tools
        .iter()
        .filter_map(|t| t.kind.as_deref())
        .filter(|k| *k != "custom")
        .collect();
    if !server.is_empty() {
        return Err(LlmError::invalid_request(format!(
            "`tools`: Anthropic server tools are not supported by this target: {}",
            server.join(", ")
        )));
    }
    let mut defs = Vec::with_capacity(tools.len());
    for (i, tool) in tools.into_iter().enumerate() {
        if tool.cache_control.is_some() {
            drops.note("cache_control");
        }
        if tool.eager_input_streaming.is_some() {
            drops.note("eager_input_streaming");
        }
        let name = tool
            .name
            .ok_or_else(|| LlmError::invalid_request(format!("`tools[{i}].name` is required")))?;
        let parameters = tool
            .input_schema
            .ok_or_else(|| LlmError::invalid_request(format!("`tools[{i}].input_schema` is required")))?;
        defs.push(FunctionTool {
            kind: "function",
            function: FunctionDef {
                name: name.0,
                description: tool.description.map(|d| d.0),
                parameters,
                strict: tool.strict,
            },
        });
    }
    let Some(choice) = choice else {
        return Ok(Tools {
            tools: defs,
            ..Tools::default()
        });
    };
    let out = match &*choice.kind {
        "auto" => OutChoice::Mode("auto"),
        "none" => OutChoice::Mode("none"),
        "any" => OutChoice::Mode("required"),
        "tool" => {
            let name = choice
                .name
                .ok_or_else(|| LlmError::invalid_request("`tool_choice.name` is required for type `tool`"))?;
            if !defs.is_empty() && !defs.iter().any(|d| d.function.name == *name) {
                return Err(LlmError::invalid_request(format!(
                    "`tool_choice.name` `{}` is not among `tools`",
                    truncate(&name, 32)
                )));
            }
            OutChoice::Function {
                kind: "function",
                function: Name { name: name.0 },
            }
        }
        _ => {
            return Err(LlmError::invalid_request(
                "`tool_choice.type` must be auto, any, tool or none",
            ));
        }
    };
    if defs.is_empty() {
        return match out {
            OutChoice::Mode("auto" | "none") => Ok(Tools::default()),
            _ => Err(LlmError::invalid_request("`tool_choice` requires `tools`")),
        };
    }
    let none = matches!(out, OutChoice::Mode("none"));
    Ok(Tools {
        tools: defs,
        parallel_tool_calls: (choice.disable_parallel_tool_use == Some(true) && !none).then_some(false),
        choice: Some(out),
    })
}
