//! Per-upstream name prefixing for tools and prompts, and the reverse lookup that routes a call.
//!
//! A prefixed name is `{target}_{name}`. Target names may not contain `_` (checked by [`valid_target`] at config
//! load), so the first `_` always ends the prefix and two targets can never produce the same prefixed name: the
//! mapping is collision-free by construction and needs no state, so any replica routes any name. Names must stay
//! valid for LLM clients (`^[a-zA-Z0-9_-]{1,64}$`); an upstream name that would not is left out of lists (and
//! reported) rather than handed out broken. With a single upstream, `Passthrough` keeps names unchanged.

use std::collections::HashMap;

/// The longest name LLM clients accept.
pub const MAX_NAME_LEN: usize = 64;

/// How names are exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `{target}_{name}`.
    Prefix,
    /// Unchanged: only valid with exactly one upstream.
    Passthrough,
}

/// The naming scheme of one MCP route: the upstream names in config order and the mode.
#[derive(Debug, Clone)]
pub struct Namespace {
    targets: Vec<String>,
    index: HashMap<String, usize>,
    mode: Mode,
}

/// Whether `s` matches `^[a-zA-Z0-9_-]{1,64}$`.
#[must_use]
pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_NAME_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `s` can name an upstream: `^[a-zA-Z0-9-]{1,32}$` (no `_`, the separator; short enough to leave room).
#[must_use]
pub fn valid_target(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

// === impl Namespace ===

impl Namespace {
    /// Builds the scheme. `Passthrough` with more than one target falls back to `Prefix` (config validation refuses
    /// that combination before it gets here).
    #[must_use]
    pub fn new(targets: Vec<String>, mode: Mode) -> Self {
        let index = targets.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        let mode = if targets.len() == 1 { mode } else { Mode::Prefix };
        Self { targets, index, mode }
    }

    /// The mode in force.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The upstream names, in config order.
    #[must_use]
    pub fn targets(&self) -> &[String] {
        &self.targets
    }

    /// The index of an upstream by name.
    #[must_use]
    pub fn target_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name a client sees for `name` of upstream `target`; `None` when it would not be a valid name.
    #[must_use]
    pub fn expose(&self, target: usize, name: &str) -> Option<String> {
        let out = match self.mode {
            Mode::Passthrough => name.to_string(),
            Mode::Prefix => format!("{}_{name}", self.targets.get(target)?),
        };
        valid_name(&out).then_some(out)
    }

    /// The owning upstream and the upstream's own name for a name a client used.
    #[must_use]
    pub fn resolve<'n>(&self, exposed: &'n str) -> Option<(usize, &'n str)> {
        match self.mode {
            Mode::Passthrough => (!exposed.is_empty()).then_some((0, exposed)),
            Mode::Prefix => {
                let (target, rest) = exposed.split_once('_')?;
                let idx = self.target_index(target)?;
                (!rest.is_empty()).then_some((idx, rest))
            }
        }
    }
}

#[cfg(test)]
mod tests;
