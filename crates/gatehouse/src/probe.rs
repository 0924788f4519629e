//! Active health probes: per probed provider, one task sends a cheap, non-billed `GET` on an interval and feeds
//! the result to the provider's [`TargetHealth`](crate::health::TargetHealth) (hysteresis there).
//!
//! What is probed per kind is in [`request`]: the models list for OpenAI-style hosts, Azure, Anthropic and Gemini,
//! `/health` on every replica of a `vllm_pool`, and a reachability check for Bedrock — never a completion.
//!
//! Warm standby: the probe goes through the provider's own pooled [`UpstreamClient`](crate::upstream::UpstreamClient)
//! — the one the data path uses — and reads the (bounded) answer to its end, so the connection (TLS included)
//! goes back to the pool. A standby probed more often than the pool's idle timeout (90 s) always has a live
//! connection, and the first failover request to it pays no handshake.
//!
//! Lifecycle: [`activate`] starts one task per probed provider when a snapshot goes live (start and every reload).
//! A task holds only a `Weak` to its provider and ends at its next tick once the provider is dropped with its
//! snapshot, so a reload never leaves the old snapshot's probes running. The new provider takes over the old
//! one's health (same name, kind and endpoints) so a reload does not put a dead target back in rotation.

mod metrics;
pub mod request;

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Limited};
use tokio::time::{Instant, MissedTickBehavior};

pub use metrics::ProbeMetrics;

use crate::health::{Hysteresis, ProbeOutcome};
use crate::snapshot::{Provider, Snapshot, TargetState};
use crate::telemetry::Telemetry;

/// Largest probe answer read; a bigger one is still judged by its status, but its connection is not reused.
const MAX_PROBE_BODY: usize = 1 << 20;

/// Validated `health:` settings of one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Time between two probes.
    pub interval: Duration,
    /// Time allowed per probe.
    pub timeout: Duration,
    /// Consecutive-result thresholds.
    pub hysteresis: Hysteresis,
    /// Path (and query) probed instead of the kind's default.
    pub path: Option<String>,
}

/// Starts the probe task of every probed provider in `snap` (idempotent), after carrying each provider's health
/// over from `previous`.
pub fn activate(snap: &Snapshot, previous: Option<&Snapshot>, telemetry: &Arc<Telemetry>) {
    for p in snap.providers.values() {
        if let Some(old) = previous.and_then(|s| s.providers.get(&p.name))
            && !Arc::ptr_eq(old, p)
            && old.kind == p.kind
            && old.endpoints == p.endpoints
        {
            p.health.inherit(&old.health);
        }
        if p.probe.is_some() && p.health.start_probing() {
            tokio::spawn(run(Arc::downgrade(p), telemetry.clone()));
        }
    }
}

async fn run(provider: Weak<Provider>, telemetry: Arc<Telemetry>) {
    let Some(period) = provider.upgrade().and_then(|p| p.probe.as_ref().map(|s| s.interval)) else {
        return;
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(p) = provider.upgrade() else {
            return;
        };
        let Some(settings) = &p.probe else {
            return;
        };
        if let TargetState::Disabled(reason) = p.state() {
            // Without its credential the provider takes no traffic and a probe would only be refused.
            tracing::debug!(provider = %p.name, reason = %reason, "probe skipped: provider disabled");
            continue;
        }
        let outcome = probe_once(&p, settings).await;
        p.health
            .record_probe(&p.name, outcome, settings.hysteresis, &telemetry.metrics);
    }
}

/// Probes every endpoint of `p` (one, or a pool's replicas) at once; passes when any passes.
pub async fn probe_once(p: &Provider, settings: &ProbeSettings) -> ProbeOutcome {
    let at_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let started = Instant::now();
    // A pool's replicas are its current members (a DNS pool's set changes); any other provider has its endpoints.
    let endpoints = p
        .pool
        .as_ref()
        .map_or_else(|| p.endpoints.clone(), |pool| pool.replica_urls());
    let checks = endpoints.iter().map(|e| check(p, e, settings));
    let results = futures_util::future::join_all(checks).await;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    let detail = match results.as_slice() {
        [Ok(d) | Err(d)] => d.clone(),
        _ => {
            let first_err = results.iter().find_map(|r| r.as_ref().err());
            match first_err {
                Some(e) => format!("{passed}/{} endpoints passed; {e}", results.len()),
                None => format!("{passed}/{} endpoints passed", results.len()),
            }
        }
    };
    ProbeOutcome {
        ok: passed > 0,
        detail,
        at_unix_ms,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// One probe of one endpoint: `Ok(detail)` when it passed, `Err(detail)` when not.
async fn check(p: &Provider, endpoint: &str, settings: &ProbeSettings) -> Result<String, String> {
    let req = request::build(p, endpoint, settings.path.as_deref())?;
    let exchange = async {
        let resp = p.client.send(req).await.map_err(|e| describe(&e))?;
        let status = resp.status();
        // Read the answer to its end so the connection returns to the pool, warm for the next request.
        let read = Limited::new(resp.into_body(), MAX_PROBE_BODY).collect().await;
        let verdict = request::passes(p.kind, settings.path.is_some(), status);
        let mut detail = format!("HTTP {}", status.as_u16());
        if read.is_err() {
            detail.push_str(" (body not read to its end)");
        }
        if verdict { Ok(detail) } else { Err(detail) }
    };
    match tokio::time::timeout(settings.timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {} ms", settings.timeout.as_millis())),
    }
}

/// A short reason from a send error (its source chain names the socket error; no header or key is in it).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut detail = if e.is_connect() {
        "connect failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut depth = 0;
    while let Some(s) = src {
        if depth < 3 {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
        }
        depth += 1;
        src = s.source();
    }
    detail
}

#[cfg(test)]
mod tests;
