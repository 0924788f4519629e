//! What `/status` shows for each pool: every replica's last signals, their age, health and the reason when
//! unhealthy, in-flight requests, prefix-table size, and the pool's saturation; for a pool that follows a DNS name,
//! the name and how its resolutions went.

use std::fmt::Write;

use gatehouse_picker::saturation;
use serde::Serialize;

use super::Pool;
use crate::snapshot::Snapshot;

/// One pool on `/status`.
#[derive(Debug, Serialize)]
pub struct PoolStatus {
    /// Provider name.
    pub provider: String,
    /// Strategy in use.
    pub strategy: &'static str,
    /// Mean replica utilisation (GIE's detector); ≥ 1 means saturated.
    pub saturation: f64,
    /// Whether requests with a negative priority are being shed.
    pub saturated: bool,
    /// Replicas in config order (DNS pools: in the order they joined).
    pub replicas: Vec<ReplicaStatus>,
    /// The DNS name the replicas come from, and its resolutions (absent for a listed pool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsStatus>,
}

/// A DNS-discovered pool's name and resolutions.
#[derive(Debug, Serialize)]
pub struct DnsStatus {
    /// `host:port`.
    pub name: String,
    /// Counts and the last error.
    #[serde(flatten)]
    pub resolution: super::dns::ResolutionStatus,
}

/// One replica on `/status`.
#[derive(Debug, Serialize)]
pub struct ReplicaStatus {
    /// Base URL.
    pub url: String,
    /// Where its metrics are scraped.
    pub metrics_url: String,
    /// Whether it takes traffic.
    pub healthy: bool,
    /// Why not, when unhealthy.
    pub reason: Option<String>,
    /// Age of the last successful scrape, in milliseconds (none yet: null).
    pub metrics_age_ms: Option<u64>,
    /// Whether that scrape is older than the staleness bound (its values are then ignored).
    pub stale: bool,
    /// `vllm:num_requests_waiting` at the last scrape.
    pub waiting: Option<f64>,
    /// `vllm:num_requests_running` at the last scrape.
    pub running: Option<f64>,
    /// KV-cache utilisation at the last scrape.
    pub kv_cache_usage: Option<f64>,
    /// LoRA adapters running at the last scrape.
    pub lora_running: Vec<String>,
    /// LoRA adapters waiting at the last scrape.
    pub lora_waiting: Vec<String>,
    /// Requests this gateway has in flight there.
    pub in_flight: u32,
    /// Of those, the ones without a first token yet (queued or prefilling).
    pub awaiting_first_token: u32,
    /// Prompt blocks the prefix table expects it to hold.
    pub prefix_blocks: usize,
    /// Most blocks the table remembers for it (its KV cache size when `prefix.auto_tune` knows it).
    pub prefix_capacity: usize,
}

/// The status of every pool in `snap`.
#[must_use]
pub fn status(snap: &Snapshot) -> Vec<PoolStatus> {
    snap.providers
        .values()
        .filter_map(|p| p.pool.as_ref())
        .map(|p| p.status())
        .collect()
}

// === impl Pool ===

impl Pool {
    fn status(&self) -> PoolStatus {
        let now = self.now();
        let inner = self.lock();
        let picker = &self.settings.picker;
        let sat = saturation(&inner.states, &picker.thresholds, now, picker.staleness);
        let replicas = inner
            .states
            .iter()
            .zip(&inner.health)
            .zip(&inner.members)
            .enumerate()
            .map(|(i, ((s, h), m))| {
                let sig = s.signals.as_ref();
                let lora = sig.and_then(|s| s.lora.as_ref());
                ReplicaStatus {
                    url: m.addr.url.clone(),
                    metrics_url: m.addr.metrics_url.clone(),
                    healthy: s.healthy,
                    reason: h.reason(),
                    metrics_age_ms: s.age(now).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    stale: s.fresh(now, picker.staleness).is_none(),
                    waiting: sig.and_then(|s| s.waiting),
                    running: sig.and_then(|s| s.running),
                    kv_cache_usage: sig.and_then(|s| s.kv_usage),
                    lora_running: lora.map(|l| l.running.clone()).unwrap_or_default(),
                    lora_waiting: lora.map(|l| l.waiting.clone()).unwrap_or_default(),
                    in_flight: s.in_flight,
                    awaiting_first_token: s.awaiting_first_token,
                    prefix_blocks: inner.table.len(i),
                    prefix_capacity: inner.table.capacity_of(i),
                }
            })
            .collect();
        drop(inner);
        let dns = match &self.membership {
            super::Membership::Dns(d) => Some(DnsStatus {
                name: d.target(),
                resolution: self.resolution_status().clone(),
            }),
            super::Membership::Static(_) => None,
        };
        PoolStatus {
            provider: self.name.clone(),
            strategy: picker.strategy.as_str(),
            saturation: (sat * 1000.0).round() / 1000.0,
            saturated: sat >= 1.0,
            replicas,
            dns,
        }
    }
}

/// Appends the pools section of the HTML status page.
pub fn render_html(h: &mut String, pools: &[PoolStatus]) {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let num = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v}"));
    for p in pools {
        let dns = p.dns.as_ref().map_or_else(String::new, |d| {
            format!(
                " · DNS <code>{}</code>: {} resolutions, {} failed{}",
                esc(&d.name),
                d.resolution.resolutions,
                d.resolution.failures,
                d.resolution
                    .last_error
                    .as_deref()
                    .map_or_else(String::new, |e| format!(" (last: {})", esc(e)))
            )
        });
        let _ = write!(
            h,
            "<h2>vLLM pool {}</h2><p>strategy <code>{}</code> · saturation {:.2}{}{dns}</p>\
             <table><tr><th>replica</th><th>health</th><th>reason</th><th>metrics age</th><th>waiting</th>\
             <th>running</th><th>KV cache</th><th>LoRA running</th><th>in flight</th><th>no first token yet</th><th>prefix blocks</th></tr>",
            esc(&p.provider),
            p.strategy,
            p.saturation,
            if p.saturated {
                " (saturated: shedding negative priorities)"
            } else {
                ""
            }
        );
        for r in &p.replicas {
            let (class, health) = if r.healthy {
                ("enabled", "healthy")
            } else {
                ("disabled", "unhealthy")
            };
            let age = match (r.metrics_age_ms, r.stale) {
                (None, _) => "never".to_string(),
                (Some(ms), true) => format!("{ms} ms (stale)"),
                (Some(ms), false) => format!("{ms} ms"),
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class={class}>{health}</td><td>{}</td><td>{age}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.url),
                esc(r.reason.as_deref().unwrap_or("")),
                num(r.waiting),
                num(r.running),
                num(r.kv_cache_usage),
                esc(&r.lora_running.join(",")),
                r.in_flight,
                r.awaiting_first_token,
                r.prefix_blocks
            );
        }
        h.push_str("</table>");
    }
}
