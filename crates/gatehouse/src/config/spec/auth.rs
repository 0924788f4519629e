//! Caller authentication settings, shared by every route that authenticates (today `/mcp`; the LLM routes will
//! reuse [`JwtSpec`] under a top-level `auth:` section).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::units::{ByteSize, HumanDuration};

/// JWT bearer validation against an identity provider's keys.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// Expected `iss`, exactly (e.g. `https://dex.example`).
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one.
    pub audiences: Vec<String>,
    /// Where the signing keys are. Unset: found through OIDC discovery at `{issuer}/.well-known/openid-configuration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// Accepted signing algorithms (default `[RS256, ES256]`). HMAC and `none` are never accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf` (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway: Option<HumanDuration>,
    /// How long fetched keys are used before they are fetched again (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_cache_ttl: Option<HumanDuration>,
    /// Shortest interval between two refetches caused by an unknown `kid` (default 30s), so forged kids cannot make
    /// the gateway hammer the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_refetch_interval: Option<HumanDuration>,
    /// Largest JWKS or discovery document accepted (default 256KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_jwks_bytes: Option<ByteSize>,
    /// Allow plain `http://` key URLs on non-loopback hosts (default false: only `https://`, or `http://` to
    /// loopback for development).
    #[serde(default)]
    pub allow_insecure_http: bool,
}
