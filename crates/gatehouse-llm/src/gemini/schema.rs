//! JSON Schema (as OpenAI tools and `response_format` carry it) → Gemini's `Schema`, an OpenAPI 3.0 subset.
//!
//! Gemini refuses keywords outside its subset (`additionalProperties`, `$schema`, `$ref`, ...), so the schema is
//! rewritten, not copied:
//! - kept: `type`, `format`, `title`, `description`, `nullable`, `enum`, `properties`, `required`, `items`,
//!   `minItems`, `maxItems`, `minProperties`, `maxProperties`, `minLength`, `maxLength`, `pattern`, `minimum`,
//!   `maximum`, `anyOf`, `propertyOrdering`, `example`, `default`;
//! - `type` is written upper-case (`STRING`, `OBJECT`, ...); a type list with `"null"` becomes that type plus
//!   `nullable: true`; a list of several other types becomes `anyOf`;
//! - `const: v` becomes `enum: [v]`; `oneOf` becomes `anyOf`;
//! - `$ref` to `#/$defs/…` or `#/definitions/…` is inlined (a cycle or more than [`MAX_DEPTH`] levels is a 400:
//!   Gemini schemas cannot be recursive);
//! - `enum` is kept only when every value is a string (Gemini's enums are string enums);
//! - every other keyword (`additionalProperties`, `$schema`, `$id`, `examples`, `not`, `allOf`, ...) is dropped.
//!   Property *names* are never touched.

use serde_json::{Map, Value};

use crate::LlmError;

/// Deepest nesting accepted (also bounds `$ref` expansion).
const MAX_DEPTH: usize = 32;

/// Keywords copied as they are.
const KEEP: &[&str] = &[
    "format",
    "title",
    "description",
    "nullable",
    "required",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "propertyOrdering",
    "example",
    "default",
];

/// Converts one schema; `what` names it in errors (e.g. "`tools[0].function.parameters`").
pub(crate) fn convert(schema: &Value, what: &str) -> Result<Value, LlmError> {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    walk(schema, defs, 0, what)
}

fn walk(schema: &Value, defs: Option<&Map<String, Value>>, depth: usize, what: &str) -> Result<Value, LlmError> {
    if depth > MAX_DEPTH {
        return Err(LlmError::invalid_request(format!(
            "{what}: the schema is nested too deeply or recursive (Gemini schemas cannot be recursive)"
        )));
    }
    let Some(obj) = schema.as_object() else {
        // `true`/`{}`-style schemas accept anything; Gemini has no such schema, so the constraint is dropped.
        return Ok(Value::Object(Map::new()));
    };
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"));
        let target = name.and_then(|n| defs.and_then(|d| d.get(n))).ok_or_else(|| {
            LlmError::invalid_request(format!("{what}: `$ref` must point into `$defs` or `definitions`"))
        })?;
        return walk(target, defs, depth + 1, what);
    }
    let mut out = Map::new();
    for key in KEEP {
        if let Some(v) = obj.get(*key) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    match obj.get("type") {
        Some(Value::String(t)) => {
            out.insert("type".into(), Value::String(t.to_ascii_uppercase()));
        }
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if names.contains(&"null") {
                out.insert("nullable".into(), Value::Bool(true));
            }
            let rest: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
            match rest.as_slice() {
                [] => {}
                [one] => {
                    out.insert("type".into(), Value::String(one.to_ascii_uppercase()));
                }
                many => {
                    let any = many
                        .iter()
                        .map(|t| {
                            Value::Object(Map::from_iter([("type".into(), Value::String(t.to_ascii_uppercase()))]))
                        })
                        .collect();
                    out.insert("anyOf".into(), Value::Array(any));
                }
            }
        }
        _ => {}
    }
    let enum_values = obj
        .get("enum")
        .cloned()
        .or_else(|| obj.get("const").map(|c| Value::Array(vec![c.clone()])));
    if let Some(Value::Array(values)) = enum_values
        && values.iter().all(Value::is_string)
    {
        out.insert("enum".into(), Value::Array(values));
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        let mut converted = Map::new();
        for (name, prop) in props {
            converted.insert(name.clone(), walk(prop, defs, depth + 1, what)?);
        }
        out.insert("properties".into(), Value::Object(converted));
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), walk(items, defs, depth + 1, what)?);
    }
    if let Some(Value::Array(any)) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
        let converted = any
            .iter()
            .map(|s| walk(s, defs, depth + 1, what))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert("anyOf".into(), Value::Array(converted));
    }
    Ok(Value::Object(out))
}
