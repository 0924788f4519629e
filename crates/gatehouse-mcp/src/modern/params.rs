//! `Mcp-Param-*` headers of a 2026-07-28 `tools/call`, checked against the tool's input schema and the body's
//! arguments. A tool property annotated `x-mcp-header: "Region"` (reachable from the schema root through
//! `properties` only, typed `string`/`integer`/`boolean`, the token unique case-insensitively) is mirrored by the
//! client as `Mcp-Param-Region`; the header and the argument must agree — both present and equal after decoding the
//! `=?base64?…?=` form, or both absent (`null` counts as absent). A schema with any invalid annotation validates
//! nothing (conforming clients drop such tools). Headers that no annotation names are ignored (and, per the spec,
//! forwarded by intermediaries). Every failure is `-32020` HeaderMismatch.

use serde_json::{Map, Value};

use super::{Rejection, decode_header_value, mismatch};

/// The header prefix an `x-mcp-header` token is joined to.
pub const PARAM_PREFIX: &str = "mcp-param-";

/// Most schema positions walked (a bound on hostile schemas; beyond it the schema validates nothing).
const MAX_POSITIONS: usize = 10_000;

/// Applicators whose value is one subschema.
const SUBSCHEMA_SINGLE: &[&str] = &[
    "items",
    "contains",
    "unevaluatedItems",
    "additionalProperties",
    "propertyNames",
    "unevaluatedProperties",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
];
/// Applicators whose value is a list of subschemas.
const SUBSCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Applicators whose value maps names to subschemas.
const SUBSCHEMA_MAP: &[&str] = &["patternProperties", "dependentSchemas", "$defs", "definitions"];

/// One annotated property: its path of `properties` keys, its token and its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// `properties` keys from the root.
    pub path: Vec<String>,
    /// The `x-mcp-header` token.
    pub token: String,
    /// `string`, `integer` or `boolean`.
    pub kind: String,
}

/// The valid annotations of `schema`, or `None` when some annotation is invalid (or the schema is too large to
/// walk), in which case nothing is validated.
#[must_use]
pub fn annotations(schema: &Value) -> Option<Vec<Annotation>> {
    let mut out: Vec<Annotation> = Vec::new();
    // (path of pure `properties` keys, or None once another applicator was crossed; schema position)
    let mut stack: Vec<(Option<Vec<String>>, &Value)> = vec![(Some(Vec::new()), schema)];
    let mut walked = 0usize;
    while let Some((path, node)) = stack.pop() {
        walked += 1;
        if walked > MAX_POSITIONS {
            return None;
        }
        let Value::Object(obj) = node else { continue };
        if let Some(token) = obj.get("x-mcp-header") {
            let path = path.clone().filter(|p| !p.is_empty())?;
            let token = token.as_str().filter(|t| is_token(t))?;
            let kind = obj
                .get("type")
                .and_then(Value::as_str)
                .filter(|k| matches!(*k, "string" | "integer" | "boolean"))?;
            if out.iter().any(|a| a.token.eq_ignore_ascii_case(token)) {
                return None;
            }
            out.push(Annotation {
                path,
                token: token.to_string(),
                kind: kind.to_string(),
            });
        }
        push_children(obj, path.as_ref(), &mut stack);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Some(out)
}

fn push_children<'a>(
    obj: &'a Map<String, Value>,
    path: Option<&Vec<String>>,
    stack: &mut Vec<(Option<Vec<String>>, &'a Value)>,
) {
    if let Some(Value::Object(props)) = obj.get("properties") {
        for (k, v) in props {
            let p = path.map(|p| {
                let mut p = p.clone();
                p.push(k.clone());
                p
            });
            stack.push((p, v));
        }
    }
    for key in SUBSCHEMA_SINGLE {
        if let Some(v) = obj.get(*key) {
            stack.push((None, v));
        }
    }
    for key in SUBSCHEMA_LIST {
        if let Some(Value::Array(items)) = obj.get(*key) {
            stack.extend(items.iter().map(|v| (None, v)));
        }
    }
    for key in SUBSCHEMA_MAP {
        if let Some(Value::Object(m)) = obj.get(*key) {
            stack.extend(m.values().map(|v| (None, v)));
        }
    }
}

/// RFC 9110 token characters.
fn is_token(t: &str) -> bool {
    !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks the `Mcp-Param-*` header lines (`(name, value)`, names any case) of a `tools/call` against the tool's
/// `inputSchema` and the body's `arguments`.
pub fn check<'a, I>(schema: &Value, arguments: &Value, lines: I) -> Result<(), Rejection>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let Some(annotated) = annotations(schema) else {
        return Ok(());
    };
    if annotated.is_empty() {
        return Ok(());
    }
    let sent: Vec<(String, &[u8])> = lines
        .into_iter()
        .filter(|(n, _)| {
            n.len() > PARAM_PREFIX.len()
                && n.get(..PARAM_PREFIX.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(PARAM_PREFIX))
        })
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    for a in &annotated {
        let name = format!("Mcp-Param-{}", a.token);
        let key = name.to_ascii_lowercase();
        let mut copies = sent.iter().filter(|(n, _)| *n == key).map(|(_, v)| *v);
        let raw = copies.next();
        if raw.is_some() && copies.next().is_some() {
            return Err(mismatch(&format!("{name} header appears more than once")));
        }
        let argument = a.path.join(".");
        let value = value_at(arguments, &a.path).filter(|v| !v.is_null());
        let Some(value) = value else {
            if raw.is_some() {
                return Err(mismatch(&format!(
                    "{name} header is present but the request body's '{argument}' argument is absent"
                )));
            }
            continue;
        };
        let Some(rendered) = render(value) else {
            if raw.is_some() {
                return Err(mismatch(&format!(
                    "{name} header does not match the request body's '{argument}' argument"
                )));
            }
            continue;
        };
        let Some(raw) = raw else {
            return Err(mismatch(&format!(
                "{name} header is missing but the request body's '{argument}' argument is present"
            )));
        };
        let decoded = std::str::from_utf8(raw).ok().and_then(decode_header_value);
        let Some(decoded) = decoded else {
            return Err(mismatch(&format!("{name} header carries a malformed value")));
        };
        if !matches_value(&a.kind, value, &rendered, &decoded) {
            return Err(mismatch(&format!(
                "{name} header does not match the request body's '{argument}' argument"
            )));
        }
    }
    Ok(())
}

fn value_at<'a>(arguments: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(arguments, |node, key| node.as_object()?.get(key))
}

/// How a client renders a scalar into a header: booleans as `true`/`false`, strings as is, numbers in JSON form.
fn render(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Equal as rendered; an integer property with an integral body value also compares numerically against a
/// canonical decimal header (`42` matches `42.0`, the spec's SHOULD).
fn matches_value(kind: &str, value: &Value, rendered: &str, decoded: &str) -> bool {
    if decoded == rendered {
        return true;
    }
    if kind != "integer" {
        return false;
    }
    let Value::Number(n) = value else { return false };
    let body: Option<i128> = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                .map(|f| f as i128)
        });
    let Some(body) = body else { return false };
    let (whole, fraction) = decoded.split_once('.').unwrap_or((decoded, ""));
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if decoded.contains('.') && (fraction.is_empty() || !fraction.bytes().all(|b| b == b'0')) {
        return false;
    }
    whole.parse::<i128>().is_ok_and(|h| h == body)
}

#[cfg(test)]
mod tests;
