//! Deterministic tool-call arguments generated from a function's JSON Schema `parameters`.
//!
//! The simulated model fills in what a schema demands and nothing else, the same way every time:
//! - an object gets its `required` properties in `required` order, or, without `required`, all its `properties`
//!   in alphabetical order (sorted explicitly, so the output does not depend on serde_json's map order);
//! - `const` gives that value, a non-empty `enum` its first value;
//! - otherwise by `type` (the first non-`"null"` one if it is a list): `string` → `"sim"`, `integer`/`number` →
//!   `1`, `boolean` → `true`, `array` → `[]`, `object` → recursively as above, `null` → `null`;
//! - without `type`: `properties` means object, `items` means array, else the first `anyOf`/`oneOf`/`allOf`
//!   branch; anything else (`{}`, `$ref`, unknown types) → `null`.
//!
//! The output is compact JSON (no whitespace). Nesting deeper than [`MAX_DEPTH`] yields `null`, so a hostile
//! schema cannot make generation recurse without bound (serde_json already caps parsing at 128 levels).

use serde_json::{Map, Value};

/// Deepest schema nesting that is expanded; below it every value is `null`.
pub(crate) const MAX_DEPTH: usize = 32;

/// The compact JSON arguments for a function whose schema is `parameters` (`{}` when it has none).
pub(crate) fn generate(parameters: Option<&Value>) -> String {
    let mut out = String::new();
    match parameters {
        Some(schema) => value(schema, 0, &mut out),
        None => out.push_str("{}"),
    }
    out
}

/// Appends the value for `schema` to `out`.
fn value(schema: &Value, depth: usize, out: &mut String) {
    let Some(schema) = schema.as_object().filter(|_| depth < MAX_DEPTH) else {
        out.push_str("null");
        return;
    };
    if let Some(constant) = schema.get("const") {
        out.push_str(&constant.to_string());
        return;
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        out.push_str(&first.to_string());
        return;
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .or(Some("null")),
        _ => None,
    };
    match kind {
        Some("string") => out.push_str("\"sim\""),
        Some("integer" | "number") => out.push('1'),
        Some("boolean") => out.push_str("true"),
        Some("array") => out.push_str("[]"),
        Some("object") => object(schema, depth, out),
        Some(_) => out.push_str("null"),
        None if schema.contains_key("properties") => object(schema, depth, out),
        None if schema.contains_key("items") => out.push_str("[]"),
        None => match ["anyOf", "oneOf", "allOf"]
            .iter()
            .find_map(|key| schema.get(*key).and_then(Value::as_array).and_then(|b| b.first()))
        {
            Some(branch) => value(branch, depth + 1, out),
            None => out.push_str("null"),
        },
    }
}

/// Appends an object holding the properties `schema` requires (or all of them if it requires none).
fn object(schema: &Map<String, Value>, depth: usize, out: &mut String) {
    let empty = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let keys: Vec<&str> = match schema.get("required").and_then(Value::as_array) {
        Some(required) => required.iter().filter_map(Value::as_str).collect(),
        None => {
            let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
            keys.sort_unstable();
            keys
        }
    };
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(key).to_string());
        out.push(':');
        value(properties.get(key).unwrap_or(&Value::Null), depth + 1, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn args(schema: &Value) -> String {
        generate(Some(schema))
    }

    #[test]
    fn required_properties_in_required_order() {
        let schema = json!({
            "type": "object",
            "properties": {
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "location": {"type": "string", "description": "City"},
                "days": {"type": "integer"},
                "ratio": {"type": "number"},
                "verbose": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "opts": {"type": "object"}
            },
            "required": ["location", "unit", "days", "ratio", "verbose", "tags", "opts"]
        });
        assert_eq!(
            args(&schema),
            r#"{"location":"sim","unit":"celsius","days":1,"ratio":1,"verbose":true,"tags":[],"opts":{}}"#
        );
    }

    #[test]
    fn without_required_every_property_alphabetically() {
        let schema = json!({"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}});
        assert_eq!(args(&schema), r#"{"a":1,"b":"sim"}"#);
        assert_eq!(args(&json!({"type": "object", "properties": {}, "required": []})), "{}");
        assert_eq!(generate(None), "{}");
    }

    #[test]
    fn nested_objects_recurse_and_odd_schemas_are_tolerated() {
        let schema = json!({
            "properties": {
                "filter": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "limit": {"type": ["integer", "null"]}},
                    "required": ["field"]
                },
                "mode": {"const": "fast"},
                "maybe": {"type": ["null"]},
                "any": {},
                "choice": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
                "list": {"items": {"type": "string"}},
                "ref": {"$ref": "#/defs/x"}
            },
            "required": ["filter", "mode", "maybe", "any", "choice", "list", "ref", "missing"]
        });
        assert_eq!(
            args(&schema),
            r#"{"filter":{"field":"sim"},"mode":"fast","maybe":null,"any":null,"choice":true,"list":[],"ref":null,"missing":null}"#
        );
        assert_eq!(args(&json!(true)), "null");
        assert_eq!(
            args(&json!({"type": "object", "properties": {"a\"b": {"type": "string"}}})),
            r#"{"a\"b":"sim"}"#
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut schema = json!({"type": "string"});
        for _ in 0..(MAX_DEPTH + 5) {
            schema = json!({"type": "object", "properties": {"x": schema}, "required": ["x"]});
        }
        let out = args(&schema);
        assert_eq!(out.matches('{').count(), MAX_DEPTH);
        assert!(out.contains("null") && !out.contains("sim"));
        assert!(serde_json::from_str::<Value>(&out).is_ok());
    }
}
