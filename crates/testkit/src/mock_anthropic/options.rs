//! Strictness for the optional top-level fields: sampling, stop sequences, metadata, tools, `tool_choice`,
//! `thinking`, `service_tier`, `output_config` and `cache_control`.
//!
//! Rules (published Messages API schema):
//! - `temperature` and `top_p` are numbers in `[0, 1]`, `top_k` an integer `≥ 0`; with `sampling_exclusive`, the
//!   two first may not both be present (Opus 4.1 / Sonnet 4.5 and later models refuse that).
//! - `stop_sequences` is an array of strings, each with some non-whitespace.
//! - `metadata` holds only `user_id` (a string or null).
//! - A custom tool has a `name` matching `^[a-zA-Z0-9_-]{1,128}$` (the API's current limit; older docs said 64) and
//!   an `input_schema` object of `"type": "object"`; a tool whose `type` is dated (`web_search_20250305`) is a
//!   server tool and passes with just a `name`; any other `type` (e.g. OpenAI's `function`) is refused.
//! - `tool_choice.type` is `auto`, `any`, `tool` (with a `name`) or `none` (which takes no
//!   `disable_parallel_tool_use`).
//! - `thinking` is `{type: "enabled", budget_tokens ≥ 1024 and < max_tokens}`, `{type: "disabled"}` or
//!   `{type: "adaptive"}` (models from 4.6 on, paired with `output_config.effort`).

use serde_json::{Map, Value};

use super::rejection::AnthropicRejection;
use super::validate::{
    BOOLEAN, INTEGER, LIST, NUMBER, OBJECT, STRING, invalid, join, object, one_of, only_fields, required, required_str,
};

/// Every custom-tool field the API documents.
const TOOL_FIELDS: &[&str] = &[
    "type",
    "name",
    "description",
    "input_schema",
    "cache_control",
    "strict",
    "eager_input_streaming",
    "defer_loading",
    "input_examples",
    "allowed_callers",
];

/// Checks the optional top-level fields of a body already known to be an object.
pub(super) fn check(
    obj: &Map<String, Value>,
    max_tokens: u64,
    sampling_exclusive: bool,
) -> Result<(), AnthropicRejection> {
    let temperature = unit_interval(obj, "temperature")?;
    let top_p = unit_interval(obj, "top_p")?;
    if let Some(top_k) = obj.get("top_k") {
        match top_k {
            Value::Number(n) if n.as_u64().is_some() => {}
            Value::Number(n) if n.is_i64() => {
                return Err(invalid("top_k", "Input should be greater than or equal to 0"));
            }
            _ => return Err(invalid("top_k", INTEGER)),
        }
    }
    if sampling_exclusive && temperature && top_p {
        return Err(AnthropicRejection::SamplingExclusive);
    }
    stop_sequences(obj.get("stop_sequences"))?;
    if let Some(metadata) = obj.get("metadata") {
        let metadata = object("metadata", metadata)?;
        only_fields("metadata", metadata, &["user_id"])?;
        if let Some(user) = metadata.get("user_id")
            && !(user.is_string() || user.is_null())
        {
            return Err(invalid("metadata.user_id", STRING));
        }
    }
    if let Some(tools) = obj.get("tools") {
        let tools = tools.as_array().ok_or_else(|| invalid("tools", LIST))?;
        for (i, tool) in tools.iter().enumerate() {
            check_tool(i, tool)?;
        }
    }
    if let Some(choice) = obj.get("tool_choice") {
        tool_choice(choice)?;
    }
    if let Some(thinking) = obj.get("thinking") {
        check_thinking(thinking, max_tokens)?;
    }
    if let Some(tier) = obj.get("service_tier") {
        one_of(
            "service_tier",
            tier.as_str().ok_or_else(|| invalid("service_tier", STRING))?,
            &["auto", "standard_only"],
        )?;
    }
    if let Some(config) = obj.get("output_config") {
        output_config(config)?;
    }
    if let Some(cache) = obj.get("cache_control").filter(|c| !c.is_null()) {
        cache_control("cache_control", cache)?;
    }
    Ok(())
}

/// Whether `obj[key]` is present, refusing anything but a number in `[0, 1]`.
fn unit_interval(obj: &Map<String, Value>, key: &str) -> Result<bool, AnthropicRejection> {
    let Some(value) = obj.get(key) else {
        return Ok(false);
    };
    let x = value.as_f64().ok_or_else(|| invalid(key, NUMBER))?;
    if x < 0.0 {
        return Err(invalid(key, "Input should be greater than or equal to 0"));
    }
    if x > 1.0 {
        return Err(invalid(key, "Input should be less than or equal to 1"));
    }
    Ok(true)
}

fn stop_sequences(value: Option<&Value>) -> Result<(), AnthropicRejection> {
    let Some(value) = value else {
        return Ok(());
    };
    let sequences = value.as_array().ok_or_else(|| invalid("stop_sequences", LIST))?;
    for (i, sequence) in sequences.iter().enumerate() {
        let path = format!("stop_sequences.{i}");
        let s = sequence.as_str().ok_or_else(|| invalid(&path, STRING))?;
        if s.trim().is_empty() {
            return Err(invalid(path, "each stop sequence must contain non-whitespace"));
        }
    }
    Ok(())
}

fn check_tool(i: usize, tool: &Value) -> Result<(), AnthropicRejection> {
    let path = format!("tools.{i}");
    let obj = object(&path, tool)?;
    match obj.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t == "custom" => {}
        // A server tool (`web_search_20250305`, `bash_20250124`, …): its own schema, not checked here.
        Some(Value::String(t)) if is_server_tool(t) => return required_str(&path, obj, "name").map(drop),
        Some(Value::String(t)) => {
            return Err(invalid(
                path,
                format!(
                    "Input tag '{t}' found using 'type' does not match any of the expected tags: 'custom' or a versioned server tool"
                ),
            ));
        }
        Some(_) => return Err(invalid(join(&path, "type"), STRING)),
    }
    let path = join(&path, "custom");
    only_fields(&path, obj, TOOL_FIELDS)?;
    let name = required_str(&path, obj, "name")?;
    let valid_name = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid_name {
        return Err(invalid(
            join(&path, "name"),
            "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
        ));
    }
    if let Some(description) = obj.get("description")
        && !description.is_string()
    {
        return Err(invalid(join(&path, "description"), STRING));
    }
    let schema_path = join(&path, "input_schema");
    let schema = object(&schema_path, required(&path, obj, "input_schema")?)?;
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => Ok(()),
        None => Err(AnthropicRejection::MissingField(join(&schema_path, "type"))),
        Some(_) => Err(invalid(join(&schema_path, "type"), "Input should be 'object'")),
    }
}

/// Server tool types carry a date (`web_search_20250305`); the MCP toolset is the one exception.
fn is_server_tool(kind: &str) -> bool {
    let date = kind.rsplit_once('_').map(|(_, date)| date);
    kind == "mcp_toolset" || date.is_some_and(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
}

fn tool_choice(choice: &Value) -> Result<(), AnthropicRejection> {
    let obj = object("tool_choice", choice)?;
    let kind = required_str("tool_choice", obj, "type")?;
    one_of("tool_choice.type", kind, &["auto", "any", "tool", "none"])?;
    let path = join("tool_choice", kind);
    match kind {
        "none" => only_fields(&path, obj, &["type"])?,
        "tool" => {
            only_fields(&path, obj, &["type", "name", "disable_parallel_tool_use"])?;
            required_str(&path, obj, "name")?;
        }
        _ => only_fields(&path, obj, &["type", "disable_parallel_tool_use"])?,
    }
    if let Some(flag) = obj.get("disable_parallel_tool_use")
        && !flag.is_boolean()
    {
        return Err(invalid(join(&path, "disable_parallel_tool_use"), BOOLEAN));
    }
    Ok(())
}

fn check_thinking(thinking: &Value, max_tokens: u64) -> Result<(), AnthropicRejection> {
    let obj = object("thinking", thinking)?;
    let kind = required_str("thinking", obj, "type")?;
    one_of("thinking.type", kind, &["enabled", "disabled", "adaptive"])?;
    let path = join("thinking", kind);
    if kind != "enabled" {
        return only_fields(&path, obj, &["type"]);
    }
    only_fields(&path, obj, &["type", "budget_tokens"])?;
    let budget = required(&path, obj, "budget_tokens")?
        .as_u64()
        .ok_or_else(|| invalid(join(&path, "budget_tokens"), INTEGER))?;
    if budget < 1024 {
        return Err(invalid(
            join(&path, "budget_tokens"),
            "Input should be greater than or equal to 1024",
        ));
    }
    if budget >= max_tokens {
        return Err(AnthropicRejection::ThinkingBudget);
    }
    Ok(())
}

fn output_config(config: &Value) -> Result<(), AnthropicRejection> {
    let obj = object("output_config", config)?;
    only_fields("output_config", obj, &["format", "effort"])?;
    if let Some(effort) = obj.get("effort") {
        let effort = effort.as_str().ok_or_else(|| invalid("output_config.effort", STRING))?;
        one_of(
            "output_config.effort",
            effort,
            &["low", "medium", "high", "xhigh", "max"],
        )?;
    }
    if let Some(format) = obj.get("format").filter(|f| !f.is_null()) {
        let format = object("output_config.format", format)?;
        let kind = required_str("output_config.format", format, "type")?;
        one_of("output_config.format.type", kind, &["json_schema"])?;
        only_fields("output_config.format", format, &["type", "schema"])?;
        if !required("output_config.format", format, "schema")?.is_object() {
            return Err(invalid("output_config.format.schema", OBJECT));
        }
    }
    Ok(())
}

/// Checks a `cache_control` marker: `{type: "ephemeral", ttl?: "5m" | "1h"}`.
pub(super) fn cache_control(path: &str, value: &Value) -> Result<(), AnthropicRejection> {
    let obj = object(path, value)?;
    only_fields(path, obj, &["type", "ttl"])?;
    one_of(&join(path, "type"), required_str(path, obj, "type")?, &["ephemeral"])?;
    if let Some(ttl) = obj.get("ttl") {
        let ttl_path = join(path, "ttl");
        one_of(
            &ttl_path,
            ttl.as_str().ok_or_else(|| invalid(&ttl_path, STRING))?,
            &["5m", "1h"],
        )?;
    }
    Ok(())
}
