//! Governance of the LLM routes: who is calling (`identity.rs`, virtual keys in `keys.rs`, or the JWT
//! authenticator shared with `/mcp`) and whether the caller may use the model.
//!
//! [`check`] runs in the request pipeline's policy slot (after model resolution, before target selection), in the
//! fixed order authn → authz, and returns the caller's identity for the access log. When `auth:` is absent the
//! routes are open: every request passes and no identity is recorded.

pub mod budget;
pub mod identity;
pub mod keys;
pub mod limits;

use std::sync::Arc;

use http::HeaderMap;

pub use identity::Identity;
pub use keys::KeyStore;

use crate::auth::{AuthError, JwtAuthenticator};
use crate::error::GatewayError;
use crate::snapshot::Model;

/// The validated `auth:` section.
#[derive(Debug)]
pub struct Authn {
    /// Virtual keys (inline or from a watched file).
    pub keys: Option<KeyStore>,
    /// JWT validation, when configured.
    pub jwt: Option<JwtAuthenticator>,
    /// JWT claim holding the team.
    pub team_claim: Option<String>,
    /// JWT claim holding the user (default `sub`).
    pub user_claim: Option<String>,
    /// Whether requests without any credential pass as `anonymous`.
    pub anonymous: bool,
}

/// Every policy of the LLM routes, as one part of the snapshot.
#[derive(Debug, Default)]
pub struct Policy {
    /// Caller authentication; `None` = open gateway.
    pub auth: Option<Authn>,
    /// Limits in evaluation order.
    pub limits: Vec<Arc<limits::Limit>>,
    /// Spend budgets.
    pub budgets: Vec<Arc<budget::Budget>>,
    /// Shared backend for request-rate limits.
    pub redis: Option<Arc<RedisBackend>>,
}

/// Request-rate limits in Redis, and what to decide when it fails.
#[derive(Debug)]
pub struct RedisBackend {
    /// The store.
    pub limiter: crate::limit::redis::RedisLimiter,
    /// Admit (true) or refuse (false) while Redis fails.
    pub fail_open: bool,
}

/// Header carrying a virtual key for Anthropic-style clients.
pub const API_KEY_HEADER: &str = "x-api-key";

// === impl Policy ===

impl Policy {
    /// Re-reads the key file, if any; true when the set of keys changed.
    pub fn refresh(&self) -> bool {
        self.auth
            .as_ref()
            .and_then(|a| a.keys.as_ref())
            .is_some_and(KeyStore::refresh)
    }

    /// Keeps the live state of every limit whose spec is unchanged from `old` (a reload does not reset counters).
    pub fn inherit(&mut self, old: &Self) {
        for l in &mut self.limits {
            if let Some(o) = old.limits.iter().find(|o| o.spec == l.spec) {
                *l = o.clone();
            }
        }
        for b in &mut self.budgets {
            if let Some(o) = old.budgets.iter().find(|o| o.spec == b.spec) {
                *b = o.clone();
            }
        }
    }

    /// The key file to watch, if keys come from one.
    #[must_use]
    pub fn key_file(&self) -> Option<&std::path::Path> {
        self.auth.as_ref()?.keys.as_ref()?.file()
    }
}

/// Identifies the caller: `Ok(None)` when authentication is not configured, `Ok(Some(identity))` for a valid
/// credential (or none, in anonymous mode), and a 401 otherwise.
pub async fn authenticate(policy: &Policy, headers: &HeaderMap) -> Result<Option<Arc<Identity>>, GatewayError> {
    let Some(auth) = &policy.auth else {
        return Ok(None);
    };
    let Some(credential) = credential(headers) else {
        return if auth.anonymous {
            Ok(Some(Arc::new(Identity::anonymous())))
        } else {
            Err(GatewayError::Unauthenticated {
                code: "missing_api_key",
                reason: "no credential given: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
            })
        };
    };
    if let Some(keys) = &auth.keys {
        match keys.lookup(credential) {
            keys::Lookup::Valid(id) => return Ok(Some(id)),
            keys::Lookup::Revoked(name) => {
                tracing::info!(key = %name, "revoked API key refused");
                return Err(invalid_key());
            }
            keys::Lookup::Unknown => {}
        }
    }
    // A JWT is three base64url segments; anything else is a (wrong) virtual key.
    if let Some(jwt) = &auth.jwt
        && credential.bytes().filter(|b| *b == b'.').count() == 2
        && crate::auth::bearer(headers) == Some(credential)
    {
        return match jwt.authenticate(headers).await {
            Ok(p) => Ok(Some(Arc::new(Identity::from_claims(
                &p,
                auth.team_claim.as_deref(),
                auth.user_claim.as_deref(),
            )))),
            Err(AuthError::KeysUnavailable) => Err(GatewayError::Unauthenticated {
                code: "auth_keys_unavailable",
                reason: "the identity provider's signing keys are unavailable",
            }),
            Err(e) => {
                tracing::debug!(error = %e, "JWT refused");
                Err(GatewayError::Unauthenticated {
                    code: "invalid_token",
                    reason: "the bearer token is not valid",
                })
            }
        };
    }
    Err(invalid_key())
}

/// The policy slot of the pipeline after authentication and authorization: rate limits, in config order. Returns
/// the guard the request's context settles and releases when it finishes, and the `x-ratelimit-*` headers.
pub async fn limit(
    policy: &Policy,
    errors: &prometheus_client::metrics::counter::Counter,
    identity: Option<&Identity>,
    model: &Model,
    body_len: usize,
    max_output: Option<u64>,
    embeddings: bool,
) -> Result<(limits::Guard, Vec<(http::HeaderName, http::HeaderValue)>), GatewayError> {
    if policy.limits.is_empty() {
        return Ok((limits::Guard::default(), Vec::new()));
    }
    let estimate = limits::estimate_tokens(body_len, max_output, embeddings);
    limits::admit(
        &policy.limits,
        policy.redis.as_ref(),
        errors,
        identity,
        &model.name,
        estimate,
    )
    .await
}

/// The budget step of the policy slot: reserves the request's estimated cost (prompt estimate at the input price plus
/// the output bound at the output price, by the first target's price) in every budget that applies, or refuses with
/// `budget_exceeded`.
pub async fn budget(
    policy: &Policy,
    pricing: &crate::metering::Pricing,
    identity: Option<&Identity>,
    model: &Model,
    body_len: usize,
    max_output: Option<u64>,
    embeddings: bool,
) -> Result<Option<budget::Reservation>, GatewayError> {
    if policy.budgets.is_empty() {
        return Ok(None);
    }
    let upstream = model.targets.first().map(|t| t.upstream_model.as_str());
    let estimate = pricing.price(upstream, Some(&model.name)).map_or(0.0, |p| {
        let prompt = u64::try_from(body_len / 4).unwrap_or(u64::MAX);
        let output = if embeddings {
            0
        } else {
            max_output.unwrap_or(limits::DEFAULT_OUTPUT_ESTIMATE)
        };
        p.cost(&gatehouse_llm::Usage {
            input_tokens: prompt,
            output_tokens: output,
            cached_input_tokens: 0,
            cache_write_input_tokens: 0,
            total_tokens: prompt.saturating_add(output),
        })
    });
    budget::admit(&policy.budgets, policy.redis.as_ref(), identity, estimate)
        .await
        .map(Some)
}

/// Whether `identity` may use `model` (403 otherwise); an absent identity (open gateway) may use every model.
pub fn authorize(identity: Option<&Identity>, model: &Model) -> Result<(), GatewayError> {
    match identity {
        Some(id) if !id.allows(model) => Err(GatewayError::ModelNotAllowed {
            model: model.name.clone(),
            key: id.name.clone(),
        }),
        _ => Ok(()),
    }
}

fn invalid_key() -> GatewayError {
    GatewayError::Unauthenticated {
        code: "invalid_api_key",
        reason: "the API key is not valid",
    }
}

/// The client's credential: `Authorization: Bearer` first, then `x-api-key`.
fn credential(headers: &HeaderMap) -> Option<&str> {
    crate::auth::bearer(headers).or_else(|| {
        headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests;
