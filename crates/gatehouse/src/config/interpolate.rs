//! `${VAR}` and `${VAR:-default}` interpolation of string values, with `$$` as an escaped `$`.
//!
//! Interpolation runs on the parsed tree, not on the raw text, so a variable's value can never change the
//! YAML structure and every error points at the string it came from. An unset variable without a default
//! is an error naming the variable; an empty default (`${VAR:-}`) is allowed.

use super::node::{DeError, Node, NodeKind};

/// Rewrites every string in the tree; returns all errors found (one per bad string).
pub fn apply(node: &mut Node, env: &dyn Fn(&str) -> Option<String>, path: &mut Vec<String>, errors: &mut Vec<DeError>) {
    match &mut node.kind {
        NodeKind::Str(s) => {
            if s.contains('$') {
                match expand(s, env) {
                    Ok(out) => *s = out,
                    Err(message) => errors.push(DeError {
                        message,
                        loc: Some(node.loc),
                        path: path.clone(),
                    }),
                }
            }
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                apply(item, env, path, errors);
                path.pop();
            }
        }
        NodeKind::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                path.push(key.name.clone());
                apply(value, env, path, errors);
                path.pop();
            }
        }
        NodeKind::Null | NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Float(_) => {}
    }
}

/// Expands one string.
pub fn expand(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unterminated `${{` in `{input}`"))?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("invalid variable name `{name}` in `${{{expr}}}`"));
            }
            match (env(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "environment variable `{name}` is not set (use `${{{name}:-default}}` for a default)"
                    ));
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("example.com".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_default_and_escape() {
        assert_eq!(
            expand("http://${HOST}:80", &env).as_deref(),
            Ok("http://example.com:80")
        );
        assert_eq!(expand("${NOPE:-fallback}", &env).as_deref(), Ok("fallback"));
        assert_eq!(expand("${NOPE:-}", &env).as_deref(), Ok(""));
        assert_eq!(expand("${EMPTY:-x}", &env).as_deref(), Ok(""));
        assert_eq!(expand("cost $$5 and $x", &env).as_deref(), Ok("cost $5 and $x"));
        assert_eq!(expand("$${HOST}", &env).as_deref(), Ok("${HOST}"));
    }

    #[test]
    fn unset_without_default_names_the_variable() {
        let err = expand("${MISSING_KEY}", &env).expect_err("unset");
        assert!(err.contains("`MISSING_KEY` is not set"), "{err}");
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(expand("${HOST", &env).is_err());
        assert!(expand("${}", &env).is_err());
        assert!(expand("${A-B}", &env).is_err());
    }
}
