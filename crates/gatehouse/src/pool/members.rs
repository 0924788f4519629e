//! Who is in a pool and what happens as replicas come and go: adding and removing members (with their signals,
//! health, prefix blocks, scraper and metric series), applying a DNS resolution, carrying state over to a
//! replacing pool, and recording scrape results and failed requests against a member's stable id.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_picker::ReplicaState;
use gatehouse_picker::membership::diff;

use super::{Health, Inner, Member, Pool, refresh_health};

/// Where one replica takes requests and where its metrics are scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaAddr {
    /// Base URL of the OpenAI-compatible API (no trailing slash).
    pub url: String,
    /// Full URL of its Prometheus metrics (`url` + `metrics_path` unless configured per replica).
    pub metrics_url: String,
}

/// Where a pool's replicas come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// A fixed list (`endpoints`).
    Static(Vec<ReplicaAddr>),
    /// The A/AAAA records of a DNS name (a Kubernetes headless Service), re-resolved on an interval.
    Dns(DnsMembership),
}

/// A DNS-discovered pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMembership {
    /// The name to resolve.
    pub host: String,
    /// The port every resolved address serves on.
    pub port: u16,
    /// How often the name is resolved again.
    pub refresh_interval: Duration,
    /// Query this nameserver directly (UDP, TCP when the reply is truncated) instead of the system resolver.
    pub nameserver: Option<SocketAddr>,
    /// Time allowed for one resolution.
    pub timeout: Duration,
}

// === impl DnsMembership ===

impl DnsMembership {
    /// `host:port`, as written in the config (for `/status` and logs).
    #[must_use]
    pub fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

// === impl Inner ===

impl Inner {
    /// Position of the member with `id`, if it is still in the pool.
    pub(super) fn index_of(&self, id: u64) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }

    /// Appends a replica: healthy until proven otherwise, metrics unknown, no prefix blocks. Returns its index.
    pub(super) fn add(&mut self, addr: ReplicaAddr) -> usize {
        let label = addr
            .url
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.authority().map(ToString::to_string))
            .unwrap_or_else(|| addr.url.clone());
        self.next_id += 1;
        self.members.push(Member {
            id: self.next_id,
            addr,
            label,
            scraper: None,
        });
        self.states.push(ReplicaState {
            healthy: true,
            ..ReplicaState::default()
        });
        self.health.push(Health::default());
        self.table.add_replica();
        self.members.len() - 1
    }

    /// Removes the replica at `i` with all its state; returns the member (to stop its scraper).
    pub(super) fn remove(&mut self, i: usize) -> Member {
        self.states.remove(i);
        self.health.remove(i);
        self.table.remove_replica(i);
        self.members.remove(i)
    }
}

// === impl Pool ===

impl Pool {
    /// Starts the pool's tasks: the metrics client, one scraper per current member, and the resolver of a DNS pool.
    pub(super) fn start(self: &Arc<Self>) {
        match super::scrape::client(&self.settings) {
            Ok(c) => {
                let _ = self.client.set(c);
            }
            Err(e) => {
                tracing::error!(pool = %self.name, error = %e, "cannot build the metrics client; replicas stay unscraped")
            }
        }
        let mut inner = self.lock();
        for m in &mut inner.members {
            m.scraper = super::scrape::spawn(self, m.id, &m.addr.metrics_url);
        }
        drop(inner);
        if let super::Membership::Dns(d) = &self.membership {
            super::dns::spawn(self, d.clone());
        }
    }

    /// The replica set a DNS resolution returned: new addresses join (and are scraped), missing ones leave.
    pub(super) fn apply_resolution(self: &Arc<Self>, resolved: &[ReplicaAddr]) {
        let mut inner = self.lock();
        let current: Vec<&str> = inner.members.iter().map(|m| m.addr.url.as_str()).collect();
        let wanted: Vec<&str> = resolved.iter().map(|a| a.url.as_str()).collect();
        let change = diff(&current, &wanted);
        if change.is_empty() {
            return;
        }
        let removed: Vec<String> = change.removed.iter().map(ToString::to_string).collect();
        let added: Vec<ReplicaAddr> = change
            .added
            .iter()
            .filter_map(|u| resolved.iter().find(|a| a.url == *u).cloned())
            .collect();
        let mut gone = Vec::new();
        for url in &removed {
            if let Some(i) = inner.members.iter().position(|m| &m.addr.url == url) {
                gone.push(inner.remove(i));
            }
        }
        for addr in added.iter().cloned() {
            let i = inner.add(addr);
            let (id, metrics_url) = (inner.members[i].id, inner.members[i].addr.metrics_url.clone());
            inner.members[i].scraper = super::scrape::spawn(self, id, &metrics_url);
        }
        let size = inner.members.len();
        for m in &gone {
            if let Some(h) = &m.scraper {
                h.abort();
            }
            if let Some(t) = self.telemetry.get() {
                t.metrics.pool.forget_replica(&self.name, &m.label);
            }
        }
        drop(inner);
        tracing::info!(
            pool = %self.name,
            added = ?added.iter().map(|a| a.url.as_str()).collect::<Vec<_>>(),
            removed = ?removed,
            replicas = size,
            "pool membership changed"
        );
    }

    /// Takes over, for every replica this pool shares with `old` (same URL), its signals, health and prefix
    /// blocks (when the table shape is the same). A DNS pool following the same name first takes over the old
    /// pool's member list, so it does not start empty until its first resolution.
    pub(super) fn inherit(&self, old: &Pool) {
        let prev = old.lock().clone();
        let mut inner = self.lock();
        if let (super::Membership::Dns(new), super::Membership::Dns(was)) = (&self.membership, &old.membership)
            && new.host == was.host
            && new.port == was.port
            && inner.members.is_empty()
        {
            for m in &prev.members {
                inner.add(ReplicaAddr {
                    url: m.addr.url.clone(),
                    metrics_url: format!("{}{}", m.addr.url, self.settings.metrics_path),
                });
            }
        }
        let shift = |t: Option<Duration>| {
            // Re-base the old pool's timestamps on this pool's clock.
            t.and_then(|t| (old.origin + t).checked_duration_since(self.origin))
                .or(t.map(|_| Duration::ZERO))
        };
        let same_table = old.settings.prefix == self.settings.prefix;
        for (j, m) in prev.members.iter().enumerate() {
            let Some(i) = inner.members.iter().position(|n| n.addr.url == m.addr.url) else {
                continue;
            };
            let s = prev.states[j].clone();
            inner.states[i] = ReplicaState {
                scraped_at: shift(s.scraped_at),
                in_flight: 0,
                awaiting_first_token: 0,
                ..s
            };
            let mut h = prev.health[j].clone();
            h.ejected = h
                .ejected
                .take()
                .and_then(|(r, until)| shift(Some(until)).map(|u| (r, u)));
            inner.health[i] = h;
            if same_table {
                inner.table.copy_replica(i, &prev.table, j);
            }
        }
    }

    /// Records a scrape result for member `id`; false when it has left the pool (its scraper then stops).
    pub(super) fn scraped(&self, id: u64, result: Result<gatehouse_picker::Signals, String>) -> bool {
        let now = self.now();
        let mut inner = self.lock();
        let Some(i) = inner.index_of(id) else {
            return false;
        };
        let was = inner.states[i].healthy;
        match result {
            Ok(signals) => {
                if let Some(cap) = self
                    .settings
                    .prefix
                    .capacity_for(signals.num_gpu_blocks, signals.block_size)
                {
                    inner.table.set_capacity(i, cap);
                }
                inner.states[i].signals = Some(signals);
                inner.states[i].scraped_at = Some(now);
                inner.health[i].failures = 0;
                inner.health[i].scrape_error = None;
            }
            Err(reason) => {
                let h = &mut inner.health[i];
                h.failures = h.failures.saturating_add(1);
                if h.failures >= self.settings.unhealthy_after {
                    h.scrape_error = Some(format!("metrics scrape failed {} times: {reason}", h.failures));
                }
            }
        }
        refresh_health(&mut inner, now);
        let healthy = inner.states[i].healthy;
        let reason = inner.health[i].reason();
        let url = inner.members[i].addr.url.clone();
        // Under the lock, so a replica removed meanwhile does not get its series back.
        if let Some(t) = self.telemetry.get() {
            t.metrics
                .pool
                .signals(&self.name, &inner.members[i].label, &inner.states[i]);
        }
        drop(inner);
        self.log_transition(&url, was, healthy, reason.as_deref());
        true
    }

    /// Ejects member `id` after a failed request (nothing to do when it has left the pool).
    pub(super) fn request_failed(&self, id: u64, code: &str) {
        let now = self.now();
        let mut inner = self.lock();
        let Some(i) = inner.index_of(id) else {
            return;
        };
        let was = inner.states[i].healthy;
        inner.health[i].ejected = Some((format!("request failed ({code})"), now + self.settings.ejection_time));
        refresh_health(&mut inner, now);
        let healthy = inner.states[i].healthy;
        let reason = inner.health[i].reason();
        let url = inner.members[i].addr.url.clone();
        drop(inner);
        self.log_transition(&url, was, healthy, reason.as_deref());
    }

    fn log_transition(&self, url: &str, was: bool, now: bool, reason: Option<&str>) {
        match (was, now) {
            (true, false) => {
                tracing::warn!(pool = %self.name, replica = %url, reason = reason.unwrap_or(""), "replica unhealthy");
            }
            (false, true) => tracing::info!(pool = %self.name, replica = %url, "replica healthy again"),
            _ => {}
        }
    }
}
