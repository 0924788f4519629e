//! Live state of every `vllm_pool` provider: scraped replica signals, health, in-flight counts, the prefix table,
//! and the per-request pick (`gatehouse-picker` decides; this module owns the I/O, the clock and the locks).
//!
//! Lifecycle: a [`Pool`] is built with its snapshot (no tasks); [`activate`] starts one scraper per replica — and,
//! for a pool that follows a DNS name, one resolver — when a snapshot goes live (start and every reload). Tasks hold
//! only a `Weak` to their pool and end when the pool is dropped with its snapshot. On reload every replica the new
//! pool shares with the old one (same URL) inherits its signals, health and prefix blocks, so a config edit does
//! not make the router forget what the replicas have cached.
//!
//! Membership (`members.rs`): a pool lists its replicas, or follows a DNS name (`dns.rs`) whose A/AAAA set is
//! re-resolved on an interval. A replica that leaves stops taking new picks at once, its scraper is stopped and its
//! state (signals, health, prefix blocks, metric series) dropped; requests already on it finish normally. Replicas
//! are known to leases and scrapers by a stable id, never by their position, which changes as members come and go.
//!
//! A pick happens under one short lock: read the states, decide, record the prompt's blocks for the winner and
//! count it in flight. The returned [`Lease`] lives in the request context and is released when the request ends
//! (the stream included); a connect failure or timeout ejects the replica for `ejection_time`.

mod dns;
mod members;
mod metrics;
mod request;
mod scrape;
mod status;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The pool's clock: tokio's, so tests can pause and advance it.
type Clock = tokio::time::Instant;

use gatehouse_picker::{
    PickRequest, Picker, PrefixConfig, PrefixTable, ReplicaState, Strategy, hash_prompt, saturation,
};
use http::{HeaderMap, HeaderName};

pub use dns::DEFAULT_REFRESH as DNS_DEFAULT_REFRESH;
pub use members::{DnsMembership, Membership, ReplicaAddr};
pub use metrics::PoolMetrics;
pub use status::{PoolStatus, ReplicaStatus, render_html, status};

use crate::error::GatewayError;
use crate::snapshot::{Provider, Snapshot};
use crate::telemetry::Telemetry;

/// Header naming the request's objective; config maps objectives to priorities.
pub const OBJECTIVE_HEADER: &str = "x-gateway-inference-objective";

/// Validated routing settings of one pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Strategy, weights, thresholds, staleness.
    pub picker: Picker,
    /// Prompt hashing and table size.
    pub prefix: PrefixConfig,
    /// Path of the metrics endpoint on each replica (appended to its URL unless the replica names its own
    /// `metrics_url`).
    pub metrics_path: String,
    /// Scrape period.
    pub scrape_interval: Duration,
    /// Time allowed per scrape.
    pub scrape_timeout: Duration,
    /// Consecutive failed scrapes before a replica is unhealthy.
    pub unhealthy_after: u32,
    /// How long a replica stays out after a failed request.
    pub ejection_time: Duration,
    /// Objective → priority.
    pub objectives: HashMap<String, i32>,
    /// `Retry-After` on shed requests.
    pub shed_retry_after: Duration,
    /// Response header naming the chosen replica, when enabled.
    pub replica_header: Option<HeaderName>,
}

/// One pool's replicas and what is known about them.
pub struct Pool {
    /// Provider name (metric label).
    pub name: String,
    /// Settings.
    pub settings: PoolSettings,
    /// Where the replicas come from: a list, or a DNS name.
    pub membership: Membership,
    inner: Mutex<Inner>,
    cursor: AtomicUsize,
    picks: AtomicU64,
    origin: Clock,
    started: AtomicBool,
    seeds: RandomState,
    telemetry: std::sync::OnceLock<Arc<Telemetry>>,
    /// The metrics client, built when the pool is activated.
    client: std::sync::OnceLock<reqwest::Client>,
    /// What the last DNS resolutions gave (DNS pools).
    resolution: Mutex<dns::ResolutionStatus>,
}

/// The mutable part, behind one lock. `members`, `states`, `health` and the table's replicas are parallel: index
/// `i` of each is the same replica.
#[derive(Debug, Clone)]
struct Inner {
    members: Vec<Member>,
    states: Vec<ReplicaState>,
    health: Vec<Health>,
    table: PrefixTable,
    next_id: u64,
}

/// One current replica.
#[derive(Debug, Clone)]
struct Member {
    /// Stable for the replica's life in this pool (leases and scrapers refer to it).
    id: u64,
    addr: ReplicaAddr,
    /// `host:port` (metric label, replica header).
    label: String,
    /// Its scraper, stopped when the replica leaves.
    scraper: Option<tokio::task::AbortHandle>,
}

/// Health bookkeeping of one replica.
#[derive(Debug, Clone, Default)]
struct Health {
    /// Consecutive failed scrapes.
    failures: u32,
    /// Why scrapes fail, once `failures` reached the threshold.
    scrape_error: Option<String>,
    /// Why and until when the replica is ejected after a failed request.
    ejected: Option<(String, Duration)>,
}

impl Health {
    fn reason(&self) -> Option<String> {
        self.scrape_error
            .clone()
            .or_else(|| self.ejected.as_ref().map(|(r, _)| r.clone()))
    }
}

/// A pick in use: counted in flight until dropped (or finished with the request's outcome).
#[derive(Debug)]
pub struct Lease {
    pool: Arc<Pool>,
    /// The replica's member id (it may leave the pool while the request runs).
    id: u64,
    label: String,
    done: bool,
    /// Still counted in the replica's `awaiting_first_token`.
    awaiting_first_token: bool,
}

/// Attaches a pool built from `settings` over `membership` to a `vllm_pool` provider.
#[must_use]
pub fn attach(mut provider: Provider, settings: PoolSettings, membership: Membership) -> Provider {
    provider.pool = Some(Arc::new(Pool::new(&provider.name, membership, settings)));
    provider
}

/// Starts the scrapers of every pool in `snap` (idempotent) and carries state over from `previous`.
pub fn activate(snap: &Snapshot, previous: Option<&Snapshot>, telemetry: &Arc<Telemetry>) {
    for p in snap.providers.values() {
        let Some(pool) = &p.pool else { continue };
        if let Some(old) = previous
            .and_then(|s| s.providers.get(&p.name))
            .and_then(|o| o.pool.as_ref())
            && !Arc::ptr_eq(old, pool)
        {
            pool.inherit(old);
        }
        let _ = pool.telemetry.set(telemetry.clone());
        if !pool.started.swap(true, Ordering::SeqCst) {
            pool.start();
        }
    }
}

// === impl Pool ===

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("membership", &self.membership)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool with no signals yet (every listed replica healthy until proven otherwise, metrics unknown; a DNS
    /// pool starts empty and fills at its first resolution).
    #[must_use]
    pub fn new(name: &str, membership: Membership, settings: PoolSettings) -> Self {
        let mut inner = Inner {
            members: Vec::new(),
            states: Vec::new(),
            health: Vec::new(),
            table: PrefixTable::new(0, settings.prefix.lru_blocks_per_replica),
            next_id: 0,
        };
        if let Membership::Static(list) = &membership {
            for addr in list {
                inner.add(addr.clone());
            }
        }
        Self {
            name: name.to_string(),
            membership,
            inner: Mutex::new(inner),
            settings,
            cursor: AtomicUsize::new(0),
            picks: AtomicU64::new(0),
            origin: Clock::now(),
            started: AtomicBool::new(false),
            seeds: RandomState::new(),
            telemetry: std::sync::OnceLock::new(),
            client: std::sync::OnceLock::new(),
            resolution: Mutex::new(dns::ResolutionStatus::default()),
        }
    }

    /// Base URLs of the replicas in the pool now (a DNS pool's change as the name is re-resolved), for the active
    /// health probe, which must follow membership rather than the list the config was loaded with.
    pub fn replica_urls(&self) -> Vec<String> {
        self.lock().members.iter().map(|m| m.addr.url.clone()).collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving with it.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Time since this pool's origin (the picker's clock).
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Picks a replica for a request to `model` with `prompt`, or sheds it when the pool is saturated and its
    /// priority is negative. Returns the replica's URL and its lease.
    ///
    /// # Errors
    ///
    /// [`GatewayError::Shed`] for a shed request, [`GatewayError::NoTargetAvailable`] for a pool without replicas
    /// (a DNS name that has not resolved yet).
    pub fn pick(self: &Arc<Self>, model: &str, prompt: &[u8], priority: i32) -> Result<(String, Lease), GatewayError> {
        let started = Instant::now();
        let hashes = if self.settings.picker.strategy == Strategy::Inference {
            hash_prompt(model, prompt, &self.settings.prefix)
        } else {
            Vec::new()
        };
        let seed = self.seeds.hash_one(self.picks.fetch_add(1, Ordering::Relaxed));
        let cursor = self.cursor.fetch_add(1, Ordering::Relaxed);
        let picker = &self.settings.picker;
        let decision = {
            let mut inner = self.lock();
            let now = self.now();
            refresh_health(&mut inner, now);
            if priority < 0 && saturation(&inner.states, &picker.thresholds, now, picker.staleness) >= 1.0 {
                drop(inner);
                if let Some(t) = self.telemetry.get() {
                    t.metrics.pool.shed(&self.name, priority);
                }
                return Err(GatewayError::Shed {
                    pool: self.name.clone(),
                    retry_after: self.settings.shed_retry_after,
                });
            }
            let req = PickRequest { model, hashes: &hashes };
            let Some(d) = picker.pick(&inner.states, &inner.table, &req, now, seed, cursor) else {
                return Err(GatewayError::NoTargetAvailable {
                    model: model.to_string(),
                    reason: format!("pool `{}` has no replicas", self.name),
                });
            };
            if picker.strategy == Strategy::Inference {
                inner.table.record(d.replica, &hashes);
            }
            inner.states[d.replica].in_flight += 1;
            inner.states[d.replica].awaiting_first_token += 1;
            let m = &inner.members[d.replica];
            // Under the lock: a replica leaving meanwhile must not get its series back after they were dropped.
            if let Some(t) = self.telemetry.get() {
                t.metrics.pool.picked(&self.name, &m.label, d.reason.as_str());
                t.metrics.pool.in_flight(&self.name, &m.label, 1);
            }
            (m.id, m.addr.url.clone(), m.label.clone())
        };
        let (id, url, label) = decision;
        if let Some(t) = self.telemetry.get() {
            t.metrics
                .pool
                .decision_time(&self.name, picker.strategy.as_str(), started.elapsed());
        }
        Ok((
            url,
            Lease {
                pool: self.clone(),
                id,
                label,
                done: false,
                awaiting_first_token: true,
            },
        ))
    }

    /// The priority of a request's objective (0 when absent or unknown).
    #[must_use]
    pub fn priority(&self, headers: &HeaderMap) -> i32 {
        headers
            .get(OBJECTIVE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|o| self.settings.objectives.get(o).copied())
            .unwrap_or(0)
    }
}

/// A replica is healthy unless its scrapes keep failing or a request to it failed within the ejection time.
fn refresh_health(inner: &mut Inner, now: Duration) {
    for (s, h) in inner.states.iter_mut().zip(inner.health.iter_mut()) {
        if h.ejected.as_ref().is_some_and(|(_, until)| now >= *until) {
            h.ejected = None;
        }
        s.healthy = h.scrape_error.is_none() && h.ejected.is_none();
    }
}

// === impl Lease ===

impl Lease {
    /// The chosen replica's `host:port`.
    #[must_use]
    pub fn replica(&self) -> &str {
        &self.label
    }

    /// Releases the pick with the request's outcome: a connect failure or timeout ejects the replica.
    pub fn finish(mut self, error_code: Option<&str>) {
        if let Some(code @ ("upstream_unreachable" | "upstream_timeout")) = error_code {
            self.pool.request_failed(self.id, code);
        }
        self.release();
    }

    /// Marks the replica's first byte for this request: it is no longer queued or prefilling there (the
    /// `awaiting_first_token` queue signal). Idempotent.
    pub fn first_token(&mut self) {
        if self.done || !std::mem::replace(&mut self.awaiting_first_token, false) {
            return;
        }
        let mut inner = self.pool.lock();
        if let Some(i) = inner.index_of(self.id) {
            let s = &mut inner.states[i];
            s.awaiting_first_token = s.awaiting_first_token.saturating_sub(1);
        }
    }

    fn release(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let mut inner = self.pool.lock();
        // A replica that left the pool meanwhile has no state (nor metric series) left to update.
        let Some(i) = inner.index_of(self.id) else {
            return;
        };
        let s = &mut inner.states[i];
        s.in_flight = s.in_flight.saturating_sub(1);
        if std::mem::replace(&mut self.awaiting_first_token, false) {
            s.awaiting_first_token = s.awaiting_first_token.saturating_sub(1);
        }
        if let Some(t) = self.pool.telemetry.get() {
            t.metrics.pool.in_flight(&self.pool.name, &self.label, -1);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests;
