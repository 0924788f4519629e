//! Merging the list results of several upstreams into one page.
//!
//! Each upstream's page is read as `{"<items>": [ {…}, … ], "nextCursor"?: "…", …}`. Every item keeps all its
//! fields (unknown ones included — items are read as JSON objects, never as a typed struct); only its name (`name`
//! for tools and prompts, `uri` for resources, `uriTemplate` for templates) is rewritten into the client's namespace.
//! Items the caller's policy denies, and items whose exposed name would be invalid, are left out. Upstreams that have
//! more pages give a [`Cursor`] entry. The merged order is deterministic: upstreams in config order, each in its own.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::McpError;
use crate::cursor::Cursor;
use crate::name::Namespace;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `tools/list`.
    Tools,
    /// `prompts/list`.
    Prompts,
    /// `resources/list`.
    Resources,
    /// `resources/templates/list`.
    ResourceTemplates,
}

/// One upstream's page.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The upstream's index in the namespace.
    pub target: usize,
    /// Its raw `result`.
    pub result: &'a RawValue,
}

/// The merged page.
#[derive(Debug)]
pub struct Merged {
    /// The `result` object for the client, serialized.
    pub result: Box<RawValue>,
    /// Items left out because their exposed name would be invalid: `(target, upstream name)`.
    pub invalid: Vec<(usize, String)>,
    /// How many items the policy filtered out.
    pub denied: usize,
}

// === impl ListKind ===

impl ListKind {
    /// The list's method.
    #[must_use]
    pub fn from_method(method: &str) -> Option<Self> {
        match method {
            "tools/list" => Some(Self::Tools),
            "prompts/list" => Some(Self::Prompts),
            "resources/list" => Some(Self::Resources),
            "resources/templates/list" => Some(Self::ResourceTemplates),
            _ => None,
        }
    }

    /// The array field of the result.
    #[must_use]
    pub fn items_key(self) -> &'static str {
        match self {
            Self::Tools => "tools",
            Self::Prompts => "prompts",
            Self::Resources => "resources",
            Self::ResourceTemplates => "resourceTemplates",
        }
    }

    /// The field that names an item.
    #[must_use]
    pub fn name_key(self) -> &'static str {
        match self {
            Self::Tools | Self::Prompts => "name",
            Self::Resources => "uri",
            Self::ResourceTemplates => "uriTemplate",
        }
    }

    /// The singular noun, for errors and policy (`tool`, `prompt`, `resource`).
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Self::Tools => "tool",
            Self::Prompts => "prompt",
            Self::Resources | Self::ResourceTemplates => "resource",
        }
    }

    /// Exposes one item name of upstream `target`.
    #[must_use]
    pub fn expose(self, ns: &Namespace, target: usize, name: &str) -> Option<String> {
        match self {
            Self::Tools | Self::Prompts => ns.expose(target, name),
            Self::Resources | Self::ResourceTemplates => crate::uri::expose(ns, target, name),
        }
    }
}

/// Merges `pages`; `allow(target, upstream_name)` is the caller's policy.
pub fn merge(
    kind: ListKind,
    ns: &Namespace,
    pages: &[Page<'_>],
    allow: &dyn Fn(usize, &str) -> bool,
) -> Result<Merged, McpError> {
    let mut items = Vec::new();
    let mut cursor = Cursor::default();
    let mut invalid = Vec::new();
    let mut denied = 0;
    for page in pages {
        let target_name = ns.targets().get(page.target).cloned().unwrap_or_default();
        let shape = |detail: String| McpError::UpstreamShape {
            target: target_name.clone(),
            what: "list result",
            detail,
        };
        let mut obj: Map<String, Value> = serde_json::from_str(page.result.get()).map_err(|e| shape(e.to_string()))?;
        let list = match obj.remove(kind.items_key()) {
            Some(Value::Array(list)) => list,
            None => Vec::new(),
            Some(_) => return Err(shape(format!("`{}` is not an array", kind.items_key()))),
        };
        for item in list {
            let Value::Object(mut item) = item else {
                return Err(shape("an item is not an object".into()));
            };
            let Some(Value::String(name)) = item.get(kind.name_key()) else {
                return Err(shape(format!("an item has no string `{}`", kind.name_key())));
            };
            if !allow(page.target, name) {
                denied += 1;
                continue;
            }
            let Some(exposed) = kind.expose(ns, page.target, name) else {
                invalid.push((page.target, name.clone()));
                continue;
            };
            item.insert(kind.name_key().to_string(), Value::String(exposed));
            items.push(Value::Object(item));
        }
        match obj.get("nextCursor") {
            Some(Value::String(c)) => cursor.0.push((target_name.clone(), c.clone())),
            None | Some(Value::Null) => {}
            Some(_) => return Err(shape("`nextCursor` is not a string".into())),
        }
    }
    let mut out = Map::new();
    out.insert(kind.items_key().to_string(), Value::Array(items));
    if !cursor.is_empty() {
        out.insert("nextCursor".into(), Value::String(cursor.encode()));
    }
    let result = serde_json::value::to_raw_value(&out).map_err(|e| McpError::InvalidMessage(e.to_string()))?;
    Ok(Merged {
        result,
        invalid,
        denied,
    })
}

#[cfg(test)]
mod tests;
