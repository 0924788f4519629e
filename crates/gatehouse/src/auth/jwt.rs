//! JWT bearer validation: allowed algorithms only (never `none`, never HMAC — the keys are public), signature by the
//! issuer's key for the token's `kid`, `iss` exact, `aud` containing one of ours, `exp` required and `nbf` checked
//! with a small leeway, `sub` required (it is the principal).

use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::jwks::JwksCache;
use super::{AuthError, Principal};

/// A configured JWT validator.
#[derive(Debug)]
pub struct JwtAuthenticator {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    keys: JwksCache,
}

/// Algorithms that may be configured: asymmetric only.
pub const ALLOWED_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Parses a configured algorithm name; HMAC and unknown names are refused.
#[must_use]
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    if !ALLOWED_ALGORITHMS.contains(&name) {
        return None;
    }
    name.parse().ok()
}

// === impl JwtAuthenticator ===

impl JwtAuthenticator {
    /// Builds a validator.
    #[must_use]
    pub fn new(
        issuer: String,
        audiences: Vec<String>,
        algorithms: Vec<Algorithm>,
        leeway: Duration,
        keys: JwksCache,
    ) -> Self {
        Self {
            issuer,
            audiences,
            algorithms,
            leeway,
            keys,
        }
    }

    /// Validates the request's bearer token.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Principal, AuthError> {
        let token = super::bearer(headers).ok_or(AuthError::Missing)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("malformed"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(AuthError::Invalid("algorithm_not_allowed"));
        }
        let candidates = self.keys.keys_for(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway.as_secs();
        let mut last = AuthError::Invalid("signature");
        for jwk in &candidates {
            if !key_fits(jwk, header.alg) {
                last = AuthError::Invalid("key_algorithm_mismatch");
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                last = AuthError::Invalid("unusable_key");
                continue;
            };
            match jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &validation) {
                Ok(data) => {
                    let subject = data
                        .claims
                        .get("sub")
                        .and_then(|s| s.as_str())
                        .unwrap_or_default()
                        .to_string();
                    if subject.is_empty() {
                        return Err(AuthError::Invalid("missing_sub"));
                    }
                    return Ok(Principal {
                        subject,
                        claims: data.claims,
                    });
                }
                Err(e) => last = AuthError::Invalid(reason(&e)),
            }
        }
        Err(last)
    }
}

/// A key that declares an algorithm may only verify that algorithm.
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    match jwk.common.key_algorithm {
        Some(ka) => ka.to_string() == format!("{alg:?}"),
        None => true,
    }
}

fn reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not_yet_valid",
        ErrorKind::InvalidIssuer => "issuer",
        ErrorKind::InvalidAudience => "audience",
        ErrorKind::InvalidSignature => "signature",
        ErrorKind::MissingRequiredClaim(_) => "missing_claim",
        ErrorKind::InvalidAlgorithm => "algorithm_not_allowed",
        _ => "malformed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_asymmetric_algorithms_are_configurable() {
        assert_eq!(parse_algorithm("RS256"), Some(Algorithm::RS256));
        assert_eq!(parse_algorithm("ES256"), Some(Algorithm::ES256));
        for bad in ["HS256", "none", "rs256", ""] {
            assert_eq!(parse_algorithm(bad), None, "{bad}");
        }
    }
}
