//! Gemini's function declarations and its `Schema` (an OpenAPI 3.0 subset): names
//! `^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`, known schema keywords only (anything else, e.g. `additionalProperties`, is
//! a 400 `Unknown name`), a known `type`, string-only `enum`, non-empty `properties` for an `OBJECT` parameter.

use serde_json::{Map, Value};

use super::rejection::GeminiRejection;
use super::validate::{invalid, known};

const SCHEMA: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];
const TYPES: &[&str] = &[
    "TYPE_UNSPECIFIED",
    "STRING",
    "NUMBER",
    "INTEGER",
    "BOOLEAN",
    "ARRAY",
    "OBJECT",
    "NULL",
];

/// `tools[].functionDeclarations[]`.
pub(super) fn function_declarations(tools: &Value) -> Result<(), GeminiRejection> {
    let Some(tools) = tools.as_array() else {
        return Err(invalid("Invalid value at 'tools'"));
    };
    for (i, tool) in tools.iter().enumerate() {
        let Some(decls) = tool.get("functionDeclarations").and_then(Value::as_array) else {
            continue;
        };
        for (j, d) in decls.iter().enumerate() {
            let at = format!("tools[{i}].function_declarations[{j}]");
            let Some(obj) = d.as_object() else {
                return Err(invalid(format!("Invalid value at '{at}'")));
            };
            known(
                obj,
                &[
                    "name",
                    "description",
                    "parameters",
                    "parametersJsonSchema",
                    "response",
                    "behavior",
                ],
                &at,
            )?;
            let name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
            let ok = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
            if !ok {
                return Err(invalid(format!("* {at}.name: Invalid function name.")));
            }
            if let Some(params) = obj.get("parameters") {
                check_schema(params, &format!("{at}.parameters"), 0)?;
                if params.get("type").and_then(Value::as_str) == Some("OBJECT")
                    && params
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                {
                    return Err(invalid(format!(
                        "* {at}.parameters.properties: should be non-empty for OBJECT type"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Gemini's `Schema`: known keywords only, a known upper-case `type`, string enums.
pub(super) fn check_schema(schema: &Value, at: &str, depth: usize) -> Result<(), GeminiRejection> {
    if depth > 64 {
        return Err(invalid(format!("{at}: schema too deep")));
    }
    let Some(obj) = schema.as_object() else {
        return Err(invalid(format!("Invalid value at '{at}'")));
    };
    known(obj, SCHEMA, at)?;
    if let Some(t) = obj.get("type")
        && !t
            .as_str()
            .is_some_and(|t| TYPES.contains(&t.to_ascii_uppercase().as_str()))
    {
        return Err(invalid(format!("Invalid value at '{at}.type' ({t})")));
    }
    if let Some(values) = obj.get("enum")
        && !values.as_array().is_some_and(|v| v.iter().all(Value::is_string))
    {
        return Err(invalid(format!("Invalid value at '{at}.enum': only strings")));
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        for (name, prop) in props {
            check_schema(prop, &format!("{at}.properties[{name}]"), depth + 1)?;
        }
    }
    if let Some(items) = obj.get("items") {
        check_schema(items, &format!("{at}.items"), depth + 1)?;
    }
    if let Some(Value::Array(any)) = obj.get("anyOf") {
        for (k, s) in any.iter().enumerate() {
            check_schema(s, &format!("{at}.any_of[{k}]"), depth + 1)?;
        }
    }
    Ok(())
}
