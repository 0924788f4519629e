//! Virtual API keys, stored only as SHA-256 hashes, inline in the config or in a key file that is re-read when it
//! changes (rotation without a config reload).
//!
//! A presented key is hashed and looked up; the key itself is never stored, logged or forwarded. A key file that
//! fails to parse or validate at runtime keeps the previous keys and logs why; at load time it is a config error.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Identity;
use crate::config::spec::governance::ApiKeySpec;

/// The keys by hash, and the file they came from (if any).
#[derive(Debug)]
pub struct KeyStore {
    file: Option<PathBuf>,
    table: ArcSwap<Table>,
}

#[derive(Debug, Default, PartialEq)]
struct Table {
    by_hash: HashMap<String, Entry>,
}

#[derive(Debug, PartialEq)]
struct Entry {
    identity: Arc<Identity>,
    revoked: bool,
}

/// The result of looking a presented key up.
#[derive(Debug)]
pub enum Lookup {
    /// A valid key.
    Valid(Arc<Identity>),
    /// A known but revoked key (its name, for the log).
    Revoked(String),
    /// Not a key of ours.
    Unknown,
}

/// A problem with one key: its index, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// Index in the list.
    pub index: usize,
    /// Field name.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Lower-case hex SHA-256 of `key`: what `api_keys[].sha256` holds (`gatehouse keys hash`).
#[must_use]
pub fn hash_key(key: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    d.as_ref().iter().fold(String::with_capacity(64), |mut s, b| {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Validates key specs: names non-empty and unique, hashes 64 hex digits and unique.
pub fn check(specs: &[ApiKeySpec]) -> Vec<KeyProblem> {
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let mut hashes = HashSet::new();
    for (index, k) in specs.iter().enumerate() {
        let mut bad = |field, message: String| problems.push(KeyProblem { index, field, message });
        if k.name.trim().is_empty() {
            bad("name", "a key needs a name".into());
        } else if !names.insert(k.name.as_str()) {
            bad("name", format!("the key name `{}` is used twice", k.name));
        }
        let h = k.sha256.to_ascii_lowercase();
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            bad(
                "sha256",
                "must be the 64 hex digits of the key's SHA-256 (`gatehouse keys hash`)".into(),
            );
        } else if !hashes.insert(h) {
            bad("sha256", "the same key hash appears twice".into());
        }
    }
    problems
}

/// Reads and validates a key file (a YAML list of keys).
pub fn read_file(path: &Path) -> Result<Vec<ApiKeySpec>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read key file `{}`: {e}", path.display()))?;
    let specs: Vec<ApiKeySpec> = serde_saphyr::from_str(&text)
        .map_err(|e| format!("key file `{}` is not a list of keys: {e}", path.display()))?;
    let problems = check(&specs);
    if let Some(p) = problems.first() {
        return Err(format!(
            "key file `{}`: [{}].{}: {} ({} problem(s))",
            path.display(),
            p.index,
            p.field,
            p.message,
            problems.len()
        ));
    }
    Ok(specs)
}

// === impl KeyStore ===

impl KeyStore {
    /// A store of already-checked specs, re-read from `file` on [`KeyStore::refresh`] when given.
    #[must_use]
    pub fn new(specs: &[ApiKeySpec], file: Option<PathBuf>) -> Self {
        Self {
            file,
            table: ArcSwap::from_pointee(Table::from_specs(specs)),
        }
    }

    /// Looks a presented key up by its hash.
    #[must_use]
    pub fn lookup(&self, key: &str) -> Lookup {
        match self.table.load().by_hash.get(&hash_key(key)) {
            Some(e) if e.revoked => Lookup::Revoked(e.identity.name.clone()),
            Some(e) => Lookup::Valid(e.identity.clone()),
            None => Lookup::Unknown,
        }
    }

    /// The key file, if keys come from one.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// How many keys are loaded (revoked ones included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.table.load().by_hash.len()
    }

    /// Whether no key is loaded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-reads the key file; a bad file keeps the current keys. True when the keys changed.
    pub fn refresh(&self) -> bool {
        let Some(path) = &self.file else {
            return false;
        };
        match read_file(path) {
            Ok(specs) => {
                let table = Table::from_specs(&specs);
                if **self.table.load() == table {
                    return false;
                }
                tracing::info!(path = %path.display(), keys = table.by_hash.len(), "API key file re-read");
                self.table.store(Arc::new(table));
                true
            }
            Err(reason) => {
                tracing::warn!(%reason, "API key file rejected; keeping the previous keys");
                false
            }
        }
    }
}

// === impl Table ===

impl Table {
    fn from_specs(specs: &[ApiKeySpec]) -> Self {
        let by_hash = specs
            .iter()
            .map(|k| {
                let identity = Identity {
                    name: k.name.clone(),
                    team: k.team.clone(),
                    user: k.user.clone(),
                    tags: k.tags.clone(),
                    models: (!k.models.is_empty()).then(|| k.models.clone()),
                };
                (
                    k.sha256.to_ascii_lowercase(),
                    Entry {
                        identity: Arc::new(identity),
                        revoked: k.revoked,
                    },
                )
            })
            .collect();
        Self { by_hash }
    }
}
