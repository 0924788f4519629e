//! Who may call the LLM routes and how much: client identities (`auth:`) and request limits (`limits:`).
//!
//! Both sections are optional. Without `auth:` the LLM routes stay open (every caller is `anonymous`), which is
//! the behaviour before this section existed and what the demo relies on.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How LLM-route callers are identified.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Virtual API keys, stored as SHA-256 hashes: a list, or `{ file: PATH }` naming a YAML file holding the list
    /// (re-read when it changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_keys: Option<ApiKeysSpec>,
    /// JWT bearer tokens validated against an identity provider (the same settings as `mcp.auth.jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<super::auth::JwtSpec>,
    /// Which JWT claims name the team and the user (default: user = `sub`, no team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_claims: Option<JwtClaimsSpec>,
    /// Let requests that carry no credential through as `anonymous` (a request with a wrong credential is still
    /// refused). Default false.
    #[serde(default)]
    pub anonymous: bool,
}

/// Virtual keys inline or in a file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ApiKeysSpec {
    /// Written in the config.
    Inline(Vec<ApiKeySpec>),
    /// In a separate YAML file (a list of keys), watched and re-read on change.
    File {
        /// Path of the key file.
        file: PathBuf,
    },
}

/// One virtual key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// The key's name: appears in logs, metrics and limits (never the key itself).
    pub name: String,
    /// Lower-case hex SHA-256 of the key (`gatehouse keys hash`).
    pub sha256: String,
    /// Team the key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// User the key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Free-form labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Models (canonical names or aliases) the key may use; empty = every model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// A revoked key is refused with 401, like an unknown one.
    #[serde(default)]
    pub revoked: bool,
}

/// JWT claim names mapped onto the principal.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtClaimsSpec {
    /// Claim holding the team (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Claim holding the user (default `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// What a limit counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    /// One bucket per key name (`anonymous` when unauthenticated).
    Key,
    /// One bucket per team (callers without a team are not subject to the limit).
    Team,
    /// One bucket per user (callers without a user are not subject to the limit).
    User,
    /// One bucket per canonical model.
    Model,
    /// One bucket for all traffic.
    Global,
}

/// One limit: any combination of a request rate, a token rate and a concurrency cap, counted per `scope`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// Unique name, shown in 429 messages and logs.
    pub name: String,
    /// What is counted separately.
    pub scope: LimitScope,
    /// Sustained request rate per second (exclusive with `requests_per_minute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Sustained request rate per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<f64>,
    /// Requests allowed at once above the sustained rate (default: one second's worth, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Tokens (input + output) per minute; the bucket holds one minute's worth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    /// Requests in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent: Option<u32>,
}

/// Whose spend a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// Each key has its own budget.
    Key,
    /// Each team has its own budget (callers without a team are not subject to it).
    Team,
}

/// The calendar period a budget resets on (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    /// From 00:00 UTC to the next 00:00 UTC.
    Day,
    /// From the first of the month 00:00 UTC.
    Month,
}

/// A spend budget in USD per key or team and period.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Unique name, in errors, logs, metrics and `/status`.
    pub name: String,
    /// Per key or per team.
    pub scope: BudgetScope,
    /// Calendar period (UTC).
    pub period: BudgetPeriod,
    /// Hard limit: once the spend (with in-flight reservations) reaches it, requests are refused with
    /// `budget_exceeded` until the period ends.
    pub limit_usd: f64,
    /// Soft threshold: crossing it logs a warning and counts `gatehouse_budget_soft_exceeded_total` (once per
    /// account and period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_usd: Option<f64>,
}

/// A shared Redis for request-rate limits across replicas.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisSpec {
    /// `redis://host:port/db`.
    pub url: String,
    /// What a request-rate limit decides while Redis is unreachable (default `fail_open`).
    #[serde(default)]
    pub on_error: RedisFailMode,
    /// Connect and command timeout (default 200ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<crate::config::units::HumanDuration>,
}

/// The decision while the shared backend fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedisFailMode {
    /// Admit (the limit is not enforced until Redis is back).
    #[default]
    FailOpen,
    /// Refuse with 503 `limiter_unavailable`.
    FailClosed,
}
