//! `providers.<name>.health`: active health probes of one provider (docs/failover.md, "Active health").
//!
//! Probes are opt-in: a provider without a `health:` block is never probed (only passive health applies), so
//! adding the block is the switch. A probe is always a cheap, non-billed `GET` (the provider's models list, a
//! vLLM replica's `/health`, or a reachability check for Bedrock); the validator refuses a `path` that names a
//! generation endpoint.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::super::units::HumanDuration;

/// Active health probes of one provider, with consecutive-result thresholds (hysteresis).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthSpec {
    /// Whether probes run (default true once the block is present; `false` keeps the block but stops probing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Time between two probes (default 10s). Also what keeps a standby's pooled connection warm: keep it below
    /// the upstream's keep-alive timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<HumanDuration>,
    /// Time allowed per probe, connect and body included (default 2s; at most `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Consecutive successful probes that bring an unhealthy target back (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_threshold: Option<u32>,
    /// Consecutive failed probes that take a healthy target out of rotation (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_threshold: Option<u32>,
    /// The probed path instead of the kind's default (e.g. `/v1/models`, `/health`); a `GET`, never a generation
    /// endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}
