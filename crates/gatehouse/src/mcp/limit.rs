//! The `/mcp` rate limit decision: the bucket key (the JWT subject, else the client address; plus the tool for
//! `per: caller_and_tool`), decided in process, or — when the config has `redis:` — in Redis, with the LLM routes'
//! GCRA script and fail mode, so every replica shares one bucket per key.

use std::net::SocketAddr;
use std::sync::Arc;

use gatehouse_mcp::envelope::{self, Message};
use prometheus_client::metrics::counter::Counter;

use super::error::McpFailure;
use super::settings::McpSettings;
use crate::limit::Decision;
use crate::policy::RedisBackend;

/// The shared limiter backend of the running config, when there is one.
pub struct Shared {
    /// `redis:` of the config.
    pub redis: Option<Arc<RedisBackend>>,
    /// `gatehouse_limiter_backend_errors_total`.
    pub backend_errors: Counter,
}

/// Spends one request of the caller's bucket; `RateLimited` when it is empty, `LimiterUnavailable` when Redis fails
/// under `on_error: fail_closed`.
pub async fn check(
    settings: &McpSettings,
    shared: &Shared,
    subject: &str,
    peer: Option<SocketAddr>,
    msg: &Message<'_>,
) -> Result<(), McpFailure> {
    let Some(limit) = &settings.rate_limit else {
        return Ok(());
    };
    let key = bucket_key(settings.auth.is_some(), subject, peer, limit.per_tool, msg);
    let decision = match &shared.redis {
        None => limit.limiter.check(&key),
        Some(b) => {
            // One bucket per key across replicas; the limit's parameters are part of the key, so a changed rate
            // starts a fresh bucket instead of inheriting a state computed for another rate.
            let g = limit.limiter.gcra();
            let rkey = format!("gatehouse:mcp:{}:{}:{key}", g.emission_ns, g.tolerance_ns);
            match b.limiter.check_n(&rkey, g, 1, None).await {
                Ok(d) => d,
                Err(error) => {
                    shared.backend_errors.inc();
                    tracing::warn!(%error, fail_open = b.fail_open, "Redis limiter unavailable for /mcp");
                    if !b.fail_open {
                        return Err(McpFailure::LimiterUnavailable);
                    }
                    return Ok(());
                }
            }
        }
    };
    match decision {
        Decision::Allow { .. } => Ok(()),
        Decision::Deny { retry_after } => Err(McpFailure::RateLimited { retry_after }),
    }
}

/// Per caller: the JWT subject when authenticated, else the client address; with `per_tool`, `tools/call` also names
/// the tool (after a NUL, which neither a subject nor an address contains ambiguously).
fn bucket_key(
    authenticated: bool,
    subject: &str,
    peer: Option<SocketAddr>,
    per_tool: bool,
    msg: &Message<'_>,
) -> String {
    let mut key = match (authenticated, peer) {
        (true, _) => format!("sub:{subject}"),
        (false, Some(p)) => format!("ip:{}", p.ip()),
        (false, None) => "ip:unknown".to_string(),
    };
    if per_tool
        && msg.method() == Some("tools/call")
        && let Ok(p) = envelope::Params::read(msg.params())
        && let Some(name) = p.name
    {
        key.push('\0');
        key.push_str(&name);
    }
    key
}
