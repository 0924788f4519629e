//! Loading the config file: parse, interpolate, deserialize section by section, validate.
//!
//! The result is either a runtime [`Snapshot`](crate::snapshot::Snapshot) or *every* problem found,
//! each with file, line, column and field path. Nothing here runs on the data path: loading happens at
//! startup, on file change and on SIGHUP, and a failed load never replaces a running config.

mod interpolate;
pub mod node;
pub mod presets;
pub mod routing_spec;
pub mod spec;
mod suggest;
pub mod units;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::node::{DeError, Node, NodeDe, NodeKind};
use self::spec::{ConfigSpec, TOP_LEVEL_FIELDS};
use crate::snapshot::Snapshot;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown, e.g. the file could not be read).
    pub line: u64,
    /// 1-based column.
    pub col: u64,
    /// Dotted field path, e.g. `models[1].targets[0].provider`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// All problems found in one load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// Where environment variables come from; tests inject their own.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads, validates and builds a snapshot from a config file, using the process environment.
pub fn load(path: &Path) -> Result<Snapshot, ConfigErrors> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// Like [`load`] with an explicit environment.
pub fn load_with_env(path: &Path, env: EnvLookup<'_>) -> Result<Snapshot, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            col: 0,
            path: String::new(),
            message: format!("cannot read config file: {e}"),
        }])
    })?;
    let (spec, root) = parse(&text, path, env)?;
    validate::build(spec, &root, path, env)
}

/// Parses text into the spec and its located tree, collecting every structural error.
pub fn parse(text: &str, file: &Path, env: EnvLookup<'_>) -> Result<(ConfigSpec, Node), ConfigErrors> {
    let to_err = |e: DeError| ConfigError::from_de(file, e);
    let mut root = Node::parse(text).map_err(|e| ConfigErrors(vec![to_err(e)]))?;
    if matches!(root.kind, NodeKind::Null) {
        root.kind = NodeKind::Map(Vec::new());
    }
    let mut errors = Vec::new();
    interpolate::apply(&mut root, env, &mut Vec::new(), &mut errors);
    let mut spec = ConfigSpec::default();
    let NodeKind::Map(entries) = &root.kind else {
        errors.push(DeError {
            message: "the config file must be a mapping".into(),
            loc: Some(root.loc),
            path: Vec::new(),
        });
        return Err(ConfigErrors(errors.into_iter().map(to_err).collect()));
    };
    for (key, value) in entries {
        let field = key.name.as_str();
        let res = match field {
            "listen" => section(value, &mut spec.listen),
            "admin" => section(value, &mut spec.admin),
            "server" => section(value, &mut spec.server),
            "telemetry" => section(value, &mut spec.telemetry),
            "mcp" => section(value, &mut spec.mcp),
            "auth" => section(value, &mut spec.auth),
            "pricing" => section(value, &mut spec.pricing),
            "redis" => section(value, &mut spec.redis),
            "budgets" => {
                items_seq("budgets", value, &mut spec.budgets, &mut errors);
                Ok(())
            }
            "limits" => {
                items_seq("limits", value, &mut spec.limits, &mut errors);
                Ok(())
            }
            "failover" => section(value, &mut spec.failover),
            "responses" => section(value, &mut spec.responses),
            "providers" => {
                items_map("providers", value, &mut spec.providers, &mut errors);
                Ok(())
            }
            "models" => {
                items_seq("models", value, &mut spec.models, &mut errors);
                Ok(())
            }
            other => {
                let mut message = format!("unknown field `{other}`");
                if let Some(s) = suggest::closest(other, TOP_LEVEL_FIELDS.iter().copied()) {
                    message.push_str(&format!(", did you mean `{s}`?"));
                }
                Err(DeError {
                    message,
                    loc: Some(key.loc),
                    path: Vec::new(),
                })
            }
        };
        if let Err(e) = res {
            errors.push(e.in_field(field));
        }
    }
    if errors.is_empty() {
        Ok((spec, root))
    } else {
        Err(ConfigErrors(errors.into_iter().map(to_err).collect()))
    }
}

/// Deserializes one whole section.
fn section<T: for<'de> Deserialize<'de>>(node: &Node, out: &mut T) -> Result<(), DeError> {
    *out = T::deserialize(NodeDe(node)).map_err(|e| e.at(node.loc))?;
    Ok(())
}

/// Deserializes a mapping item by item so that one bad item does not hide the others' errors.
fn items_map<T: for<'de> Deserialize<'de>>(
    name: &str,
    node: &Node,
    out: &mut std::collections::BTreeMap<String, T>,
    errors: &mut Vec<DeError>,
) {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                match T::deserialize(NodeDe(value)) {
                    Ok(v) => {
                        out.insert(key.name.clone(), v);
                    }
                    Err(e) => errors.push(e.at(value.loc).in_field(key.name.clone()).in_field(name.to_string())),
                }
            }
        }
        NodeKind::Null => {}
        _ => errors.push(DeError {
            message: format!("expected a mapping of {name}"),
            loc: Some(node.loc),
            path: vec![name.to_string()],
        }),
    }
}

/// Deserializes a sequence item by item.
fn items_seq<T: for<'de> Deserialize<'de>>(name: &str, node: &Node, out: &mut Vec<T>, errors: &mut Vec<DeError>) {
    match &node.kind {
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                match T::deserialize(NodeDe(item)) {
                    Ok(v) => out.push(v),
                    Err(e) => errors.push(e.at(item.loc).in_field(i.to_string()).in_field(name.to_string())),
                }
            }
        }
        NodeKind::Null => {}
        _ => errors.push(DeError {
            message: format!("expected a list of {name}"),
            loc: Some(node.loc),
            path: vec![name.to_string()],
        }),
    }
}

// === impl ConfigError ===

impl ConfigError {
    fn from_de(file: &Path, e: DeError) -> Self {
        let loc = e.loc.unwrap_or_default();
        Self {
            file: file.to_path_buf(),
            line: loc.line,
            col: loc.col,
            path: format_path(&e.path),
            message: e.message,
        }
    }
}

/// Renders path segments as `models[1].targets[0].provider`.
pub fn format_path(segs: &[String]) -> String {
    let mut out = String::new();
    for seg in segs {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.col)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The config JSON Schema, for editors (`gatehouse schema`).
#[must_use]
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ConfigSpec)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
