//! The caller of an LLM route, as the policies and the access log see it.

use crate::auth::Principal;
use crate::snapshot::Model;

/// Who is calling: a virtual key's principal, a JWT's mapped claims, or `anonymous`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The key's configured name (or `jwt:<subject>`, or `anonymous`): logged and used as a limit key; never the
    /// credential itself.
    pub name: String,
    /// Team, for limits and metering.
    pub team: Option<String>,
    /// User, for limits and metering.
    pub user: Option<String>,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Model names (canonical or alias) this caller may use; `None` = every model.
    pub models: Option<Vec<String>>,
}

// === impl Identity ===

impl Identity {
    /// The caller of a request without credentials in anonymous mode.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".into(),
            team: None,
            user: None,
            tags: Vec::new(),
            models: None,
        }
    }

    /// An identity from a validated JWT: user from `user_claim` (default `sub`), team from `team_claim`.
    #[must_use]
    pub fn from_claims(p: &Principal, team_claim: Option<&str>, user_claim: Option<&str>) -> Self {
        let claim = |name: &str| p.claims.get(name).and_then(|v| v.as_str()).map(str::to_string);
        Self {
            name: format!("jwt:{}", p.subject),
            team: team_claim.and_then(claim),
            user: user_claim.map_or_else(|| Some(p.subject.clone()), claim),
            tags: Vec::new(),
            models: None,
        }
    }

    /// Whether this caller may use `model` (named by its canonical name or any alias in the key's list).
    #[must_use]
    pub fn allows(&self, model: &Model) -> bool {
        self.models.as_ref().is_none_or(|allowed| {
            allowed
                .iter()
                .any(|a| *a == model.name || model.aliases.iter().any(|alias| alias == a))
        })
    }
}
