//! The record of request parameters a translation dropped, for targets with one yes/no setting
//! (`drop_unsupported`) rather than per-model rules: Bedrock Converse and Gemini share it so both report drops and
//! refusals the same way.

use crate::LlmError;

/// Parameters dropped so far, and whether an unsupported one is dropped or refused.
pub(crate) struct Drops {
    /// Unsupported parameters are dropped (and reported) instead of refused with a 400.
    drop_unsupported: bool,
    /// What was dropped, each name once, in the order first seen.
    pub(crate) names: Vec<&'static str>,
    /// The target as the refusal names it ("Gemini models").
    target: &'static str,
}

// === impl Drops ===

impl Drops {
    /// Nothing dropped yet, for `target`.
    pub(crate) fn new(drop_unsupported: bool, target: &'static str) -> Self {
        Self {
            drop_unsupported,
            names: Vec::new(),
            target,
        }
    }

    /// Records that `name` was dropped.
    pub(crate) fn note(&mut self, name: &'static str) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    /// `name` has no meaning for the target: dropped when allowed, else a 400 naming it.
    pub(crate) fn unsupported(&mut self, name: &'static str) -> Result<(), LlmError> {
        if self.drop_unsupported {
            self.note(name);
            Ok(())
        } else {
            Err(LlmError::invalid_request(format!(
                "`{name}` is not supported by {}",
                self.target
            )))
        }
    }
}
