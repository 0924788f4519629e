//! Live state of every `vllm_pool` provider: scraped replica signals, health, in-flight counts, the prefix table,
//! and the per-request pick (`gatehouse-picker` decides; this module owns the I/O, the clock and the locks).
//!
//! Lifecycle: a [`Pool`] is built with its snapshot (no tasks); [`activate`] starts one scraper per replica when a
//! snapshot goes live (start and every reload). A scraper holds only a `Weak` to its pool and ends when the pool is
//! dropped with its snapshot. On reload a pool with the same replicas inherits the previous pool's signals, health
//! and prefix table, so a config edit does not make the router forget what the replicas have cached.
//!
//! A pick happens under one short lock: read the states, decide, record the prompt's blocks for the winner and
//! count it in flight. The returned [`Lease`] lives in the request context and is released when the request ends
//! (the stream included); a connect failure or timeout ejects the replica for `ejection_time`.

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
    /// Path of the metrics endpoint on each replica.
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
    /// Replica base URLs (same order as the provider's endpoints).
    pub urls: Vec<String>,
    /// `host:port` of each replica (metric label, replica header).
    pub labels: Vec<String>,
    inner: Mutex<Inner>,
    cursor: AtomicUsize,
    picks: AtomicU64,
    origin: Clock,
    started: AtomicBool,
    seeds: RandomState,
    telemetry: std::sync::OnceLock<Arc<Telemetry>>,
}

/// The mutable part, behind one lock.
#[derive(Debug, Clone)]
struct Inner {
    states: Vec<ReplicaState>,
    health: Vec<Health>,
    table: PrefixTable,
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
    replica: usize,
    done: bool,
}

/// Attaches a pool built from `settings` to a `vllm_pool` provider.
#[must_use]
pub fn attach(mut provider: Provider, settings: PoolSettings) -> Provider {
    provider.pool = Some(Arc::new(Pool::new(&provider.name, &provider.endpoints, settings)));
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
            scrape::spawn(pool);
        }
    }
}

// === impl Pool ===

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("urls", &self.urls)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool with no signals yet (every replica healthy until proven otherwise, metrics unknown).
    #[must_use]
    pub fn new(name: &str, urls: &[String], settings: PoolSettings) -> Self {
        let n = urls.len();
        let labels = urls
            .iter()
            .map(|u| {
                u.parse::<http::Uri>()
                    .ok()
                    .and_then(|u| u.authority().map(ToString::to_string))
                    .unwrap_or_else(|| u.clone())
            })
            .collect();
        let table = PrefixTable::new(n, settings.prefix.lru_blocks_per_replica);
        Self {
            name: name.to_string(),
            urls: urls.to_vec(),
            labels,
            inner: Mutex::new(Inner {
                states: vec![
                    ReplicaState {
                        healthy: true,
                        ..ReplicaState::default()
                    };
                    n
                ],
                health: vec![Health::default(); n],
                table,
            }),
            settings,
            cursor: AtomicUsize::new(0),
            picks: AtomicU64::new(0),
            origin: Clock::now(),
            started: AtomicBool::new(false),
            seeds: RandomState::new(),
            telemetry: std::sync::OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving with it.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Time since this pool's origin (the picker's clock).
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Takes over signals, health and the prefix table of the pool this one replaces, when the replicas and the
    /// table shape are the same.
    fn inherit(&self, old: &Pool) {
        if old.urls != self.urls || old.settings.prefix != self.settings.prefix {
            return;
        }
        let prev = old.lock().clone();
        let shift = |t: Option<Duration>| {
            // Re-base the old pool's timestamps on this pool's clock.
            t.and_then(|t| (old.origin + t).checked_duration_since(self.origin))
                .or(t.map(|_| Duration::ZERO))
        };
        let mut inner = self.lock();
        for (i, s) in prev.states.into_iter().enumerate() {
            inner.states[i] = ReplicaState {
                scraped_at: shift(s.scraped_at),
                in_flight: 0,
                ..s
            };
        }
        inner.health = prev.health;
        for h in &mut inner.health {
            h.ejected = h
                .ejected
                .take()
                .and_then(|(r, until)| shift(Some(until)).map(|u| (r, u)));
        }
        inner.table = prev.table;
    }

    /// Picks a replica for a request to `model` with `prompt`, or sheds it when the pool is saturated and its
    /// priority is negative.
    ///
    /// # Errors
    ///
    /// [`GatewayError::Shed`] for a shed request.
    pub fn pick(self: &Arc<Self>, model: &str, prompt: &[u8], priority: i32) -> Result<(usize, Lease), GatewayError> {
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
            d
        };
        if let Some(t) = self.telemetry.get() {
            let m = &t.metrics.pool;
            m.picked(&self.name, &self.labels[decision.replica], decision.reason.as_str());
            m.decision_time(&self.name, picker.strategy.as_str(), started.elapsed());
            m.in_flight(&self.name, &self.labels[decision.replica], 1);
        }
        Ok((
            decision.replica,
            Lease {
                pool: self.clone(),
                replica: decision.replica,
                done: false,
            },
        ))
    }

    /// Records a scrape result for replica `i`.
    fn scraped(&self, i: usize, result: Result<gatehouse_picker::Signals, String>) {
        let now = self.now();
        let mut inner = self.lock();
        let was = inner.states[i].healthy;
        match result {
            Ok(signals) => {
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
        let state = inner.states[i].clone();
        let reason = inner.health[i].reason();
        drop(inner);
        self.log_transition(i, was, state.healthy, reason.as_deref());
        if let Some(t) = self.telemetry.get() {
            t.metrics.pool.signals(&self.name, &self.labels[i], &state);
        }
    }

    /// Ejects replica `i` after a failed request.
    fn request_failed(&self, i: usize, code: &str) {
        let now = self.now();
        let mut inner = self.lock();
        let was = inner.states[i].healthy;
        inner.health[i].ejected = Some((format!("request failed ({code})"), now + self.settings.ejection_time));
        refresh_health(&mut inner, now);
        let healthy = inner.states[i].healthy;
        let reason = inner.health[i].reason();
        drop(inner);
        self.log_transition(i, was, healthy, reason.as_deref());
    }

    fn log_transition(&self, i: usize, was: bool, now: bool, reason: Option<&str>) {
        match (was, now) {
            (true, false) => {
                tracing::warn!(pool = %self.name, replica = %self.urls[i], reason = reason.unwrap_or(""), "replica unhealthy")
            }
            (false, true) => tracing::info!(pool = %self.name, replica = %self.urls[i], "replica healthy again"),
            _ => {}
        }
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
    /// Releases the pick with the request's outcome: a connect failure or timeout ejects the replica.
    pub fn finish(mut self, error_code: Option<&str>) {
        if let Some(code @ ("upstream_unreachable" | "upstream_timeout")) = error_code {
            self.pool.request_failed(self.replica, code);
        }
        self.release();
    }

    fn release(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let mut inner = self.pool.lock();
        let s = &mut inner.states[self.replica];
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(inner);
        if let Some(t) = self.pool.telemetry.get() {
            t.metrics
                .pool
                .in_flight(&self.pool.name, &self.pool.labels[self.replica], -1);
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
