//! Caller authentication, usable by any route: a [`Principal`] from the request headers, or an [`AuthError`] that
//! the route turns into its dialect's 401.
//!
//! Today: JWT bearer tokens validated against the issuer's JWKS (`jwt.rs`, keys fetched and cached by `jwks.rs`).
//! The client's token is used only here; it is never forwarded upstream nor logged.

pub mod jwks;
pub mod jwt;

pub use jwt::JwtAuthenticator;

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The stable identity (`sub`), used for session binding, rate limits and logs.
    pub subject: String,
    /// Every claim of the token, for authorization rules.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Why a request is not authenticated. The variants' codes appear in logs and in `error_description`; none carries
/// the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// The token is present but not acceptable.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// The identity provider's keys could not be fetched (and none are cached).
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

// === impl Principal ===

impl Principal {
    /// The caller when authentication is off.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            subject: "anonymous".into(),
            claims: serde_json::Map::new(),
        }
    }
}

// === impl AuthError ===

impl AuthError {
    /// Stable code for logs and metrics.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "auth_missing",
            Self::Invalid(_) => "auth_invalid",
            Self::KeysUnavailable => "auth_keys_unavailable",
        }
    }
}

/// The bearer token of `Authorization`, if any (scheme case-insensitive, per RFC 6750).
#[must_use]
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
