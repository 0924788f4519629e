//! Authorization of tools, prompts and resources from the caller's claims, and the per-caller rate limit.
//!
//! A rule covers items by the names clients see; an item is allowed when any rule covering it has a condition that
//! holds for the caller, and an item no rule covers gets the default (`allow` unless configured `deny`). Evaluated per
//! request: lists are filtered, calls refused with a JSON-RPC error (HTTP 200, code -32000, `data.code` `mcp_denied`)
//! — not an HTTP 403 `insufficient_scope`, because these rules are on claims, not on OAuth scopes a client could ask
//! for, so a step-up challenge would mislead the client.

use serde_json::{Map, Value};

use crate::limit::KeyedLimiter;

/// The compiled rules.
#[derive(Debug, Default)]
pub struct Policy {
    /// Rules in config order.
    pub rules: Vec<Rule>,
    /// Access to items no rule covers.
    pub default_allow: bool,
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// Tool patterns.
    pub tools: Vec<Pattern>,
    /// Prompt patterns.
    pub prompts: Vec<Pattern>,
    /// Resource patterns.
    pub resources: Vec<Pattern>,
    /// Condition; `None` = always.
    pub when: Option<Condition>,
}

/// A name pattern: exact, a prefix (`everything_*`), a suffix (`*_get-env`), or everything (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Equal.
    Exact(String),
    /// Starts with.
    Prefix(String),
    /// Ends with.
    Suffix(String),
}

/// A claim test.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Dotted path.
    pub path: Vec<String>,
    /// The test.
    pub test: Test,
}

/// What the claim must satisfy.
#[derive(Debug, Clone)]
pub enum Test {
    /// Equal to.
    Equals(String),
    /// Contains (array member or space-separated token).
    Contains(String),
}

/// The rate limit of the route.
#[derive(Debug)]
pub struct RateLimit {
    /// The buckets.
    pub limiter: KeyedLimiter,
    /// Whether `tools/call` buckets are per tool.
    pub per_tool: bool,
}

// === impl Pattern ===

impl Pattern {
    /// Compiles `everything_echo`, `everything_*`, `*_get-env` or `*`.
    #[must_use]
    pub fn new(s: &str) -> Self {
        if let Some(p) = s.strip_suffix('*') {
            Self::Prefix(p.to_string())
        } else if let Some(p) = s.strip_prefix('*') {
            Self::Suffix(p.to_string())
        } else {
            Self::Exact(s.to_string())
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(e) => e == name,
            Self::Prefix(p) => name.starts_with(p.as_str()),
            Self::Suffix(p) => name.ends_with(p.as_str()),
        }
    }
}

// === impl Policy ===

impl Policy {
    /// May a caller with `claims` see/use item `name` (as exposed to clients) of kind `noun`?
    #[must_use]
    pub fn allows(&self, claims: &Map<String, Value>, noun: &str, name: &str) -> bool {
        let mut covered = false;
        for rule in &self.rules {
            let patterns = match noun {
                "tool" => &rule.tools,
                "prompt" => &rule.prompts,
                _ => &rule.resources,
            };
            if patterns.iter().any(|p| p.matches(name)) {
                covered = true;
                if rule.when.as_ref().is_none_or(|c| c.holds(claims)) {
                    return true;
                }
            }
        }
        !covered && self.default_allow
    }
}

// === impl Condition ===

impl Condition {
    fn holds(&self, claims: &Map<String, Value>) -> bool {
        let mut cur: Option<&Value> = None;
        for (i, seg) in self.path.iter().enumerate() {
            cur = if i == 0 {
                claims.get(seg)
            } else {
                cur.and_then(|v| v.get(seg))
            };
        }
        let Some(v) = cur else { return false };
        match (&self.test, v) {
            (Test::Equals(want), Value::String(s)) => s == want,
            (Test::Equals(want), Value::Number(n)) => n.to_string() == *want,
            (Test::Equals(want), Value::Bool(b)) => b.to_string() == *want,
            (Test::Contains(want), Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(want.as_str())),
            (Test::Contains(want), Value::String(s)) => s.split_ascii_whitespace().any(|t| t == want),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().expect("object").clone()
    }

    fn policy(default_allow: bool) -> Policy {
        Policy {
            rules: vec![
                Rule {
                    tools: vec![Pattern::new("everything_echo")],
                    prompts: vec![],
                    resources: vec![],
                    when: Some(Condition {
                        path: vec!["groups".into()],
                        test: Test::Contains("dev".into()),
                    }),
                },
                Rule {
                    tools: vec![Pattern::new("local_*")],
                    prompts: vec![Pattern::new("local_*")],
                    resources: vec![Pattern::new("local+*")],
                    when: Some(Condition {
                        path: vec!["realm".into(), "tier".into()],
                        test: Test::Equals("gold".into()),
                    }),
                },
            ],
            default_allow,
        }
    }

    #[test]
    fn covered_items_need_a_matching_rule() {
        let p = policy(true);
        let dev = claims(json!({"groups": ["dev", "ops"]}));
        let other = claims(json!({"groups": ["ops"]}));
        assert!(p.allows(&dev, "tool", "everything_echo"));
        assert!(!p.allows(&other, "tool", "everything_echo"));
        // Uncovered items take the default.
        assert!(p.allows(&other, "tool", "everything_get-sum"));
        assert!(!policy(false).allows(&other, "tool", "everything_get-sum"));
        // Nested claims and prefixes.
        let gold = claims(json!({"realm": {"tier": "gold"}}));
        assert!(p.allows(&gold, "tool", "local_echo"));
        assert!(p.allows(&gold, "resource", "local+demo://x"));
        assert!(!p.allows(&other, "prompt", "local_simple-prompt"));
    }

    #[test]
    fn patterns() {
        assert!(Pattern::new("*_get-env").matches("everything_get-env"));
        assert!(!Pattern::new("*_get-env").matches("everything_get-envx"));
        assert!(Pattern::new("*").matches("anything"));
        assert!(Pattern::new("a_*").matches("a_b") && !Pattern::new("a_*").matches("b_a"));
        assert!(Pattern::new("a_b").matches("a_b") && !Pattern::new("a_b").matches("a_bc"));
    }

    #[test]
    fn contains_on_space_separated_scopes() {
        let c = Condition {
            path: vec!["scope".into()],
            test: Test::Contains("mcp:write".into()),
        };
        assert!(c.holds(&claims(json!({"scope": "openid mcp:write"}))));
        assert!(!c.holds(&claims(json!({"scope": "openid mcp:writer"}))));
        assert!(!c.holds(&claims(json!({}))));
    }
}
