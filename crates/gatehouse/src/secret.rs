//! Provider credentials, resolved from the environment or a file and re-read when the file changes.
//!
//! A secret that cannot be resolved is not a startup error: the provider using it is disabled with the
//! reason, the way an unset key keeps egress off until the key exists. The value never appears in a
//! `Debug` rendering, a log line or an error message.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable, read at (re)load time.
    Env(String),
    /// A file, re-read whenever its directory changes.
    File(PathBuf),
    /// Written in the config itself.
    Inline,
}

/// A credential whose current value can change at runtime.
pub struct Secret {
    source: SecretSource,
    state: ArcSwap<Result<Arc<str>, String>>,
}

// === impl Secret ===

impl Secret {
    /// Resolves the secret now; a failure is kept as the reason.
    #[must_use]
    pub fn resolve(source: SecretSource, inline: Option<String>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let state = match (&source, inline) {
            (SecretSource::Env(name), _) => match env(name) {
                Some(v) if !v.trim().is_empty() => Ok(Arc::from(v.trim())),
                Some(_) => Err(format!("environment variable `{name}` is empty")),
                None => Err(format!("environment variable `{name}` is not set")),
            },
            (SecretSource::File(path), _) => read_file(path),
            (SecretSource::Inline, Some(v)) if !v.trim().is_empty() => Ok(Arc::from(v.trim())),
            (SecretSource::Inline, _) => Err("inline secret is empty".to_string()),
        };
        Self {
            source,
            state: ArcSwap::from_pointee(state),
        }
    }

    /// The current value, or why there is none.
    pub fn get(&self) -> Result<Arc<str>, String> {
        (**self.state.load()).clone()
    }

    /// Where it comes from.
    #[must_use]
    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    /// Re-reads a file secret; returns true when the value (or its availability) changed.
    pub fn refresh(&self) -> bool {
        let SecretSource::File(path) = &self.source else {
            return false;
        };
        let new = read_file(path);
        let changed = match (&**self.state.load(), &new) {
            (Ok(a), Ok(b)) => a != b,
            (Err(_), Err(_)) => false,
            _ => true,
        };
        if changed {
            match &new {
                Ok(_) => tracing::info!(path = %path.display(), "secret file re-read"),
                Err(reason) => {
                    tracing::warn!(path = %path.display(), %reason, "secret file unavailable")
                }
            }
            self.state.store(Arc::new(new));
        }
        changed
    }
}

fn read_file(path: &std::path::Path) -> Result<Arc<str>, String> {
    match std::fs::read_to_string(path) {
        Ok(v) if !v.trim().is_empty() => Ok(Arc::from(v.trim())),
        Ok(_) => Err(format!("secret file `{}` is empty", path.display())),
        Err(e) => Err(format!(
            "secret file `{}` is not readable: {}",
            path.display(),
            e.kind()
        )),
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("source", &self.source)
            .field("value", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_secret_missing_is_a_reason_not_a_panic() {
        let s = Secret::resolve(SecretSource::Env("NOPE".into()), None, &|_| None);
        assert_eq!(s.get().expect_err("unset"), "environment variable `NOPE` is not set");
        let s = Secret::resolve(SecretSource::Env("K".into()), None, &|_| Some(" sk-1\n".into()));
        assert_eq!(s.get().as_deref(), Ok("sk-1"));
        assert!(!format!("{s:?}").contains("sk-1"));
    }

    #[test]
    fn file_secret_refreshes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        let s = Secret::resolve(SecretSource::File(path.clone()), None, &|_| None);
        assert!(s.get().is_err());
        std::fs::write(&path, "one\n").expect("write");
        assert!(s.refresh());
        assert_eq!(s.get().as_deref(), Ok("one"));
        assert!(!s.refresh());
        std::fs::write(&path, "two").expect("write");
        assert!(s.refresh());
        assert_eq!(s.get().as_deref(), Ok("two"));
    }
}
