//! Passive health of each provider (outlier detection on real traffic) and the retry budget.
//!
//! A [`TargetHealth`] lives in its [`Provider`](crate::snapshot::Provider): consecutive 5xx answers, connect
//! failures or first-byte timeouts eject the target for a backoff that doubles on each repeated ejection (from
//! `ejection_base` up to `ejection_max`); a 429/529 cools it down for its `Retry-After` (capped). While ejected or
//! cooling a target is skipped by the failover loop, unless every target of the model is out — then the request
//! still tries them in order rather than failing without an attempt. Every state change is logged with its reason
//! and counted (`gatehouse_target_ejections_total`, `gatehouse_target_health`). The clock is tokio's, so tests can
//! pause it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;
use crate::snapshot::FailoverSettings;

/// The passive health of one provider.
#[derive(Debug, Default)]
pub struct TargetHealth {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Failures in a row since the last success.
    consecutive: u32,
    /// Ejections in a row (reset by a success after recovery); drives the growing backoff.
    ejections: u32,
    /// Out of rotation until then, and why.
    out: Option<(Instant, OutKind, String)>,
}

/// Why a target is out of rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    /// Ejected after consecutive failures.
    Ejected,
    /// Cooling down after a 429/529.
    Cooling,
}

/// A target's state as `/status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HealthView {
    /// `healthy`, `ejected` or `cooling`.
    pub state: &'static str,
    /// Why it left rotation (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Milliseconds until it returns to rotation (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_ms: Option<u64>,
    /// Failures in a row.
    pub consecutive_failures: u32,
}

/// What went wrong on one attempt, for outlier detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Connect error, 5xx, timeout before the first byte, error as first stream event.
    Server,
    /// 429/529: cool down for this long.
    Throttled(Duration),
}

// === impl TargetHealth ===

impl TargetHealth {
    /// `Ok` when the target is in rotation now, else why not.
    pub fn available(&self, now: Instant) -> Result<(), String> {
        let inner = self.lock();
        match &inner.out {
            Some((until, _, reason)) if *until > now => Err(format!(
                "{reason} ({} ms left)",
                until.saturating_duration_since(now).as_millis()
            )),
            _ => Ok(()),
        }
    }

    /// A successful attempt: the failure streak ends; a target back from ejection starts its backoff over.
    pub fn record_success(&self, provider: &str, metrics: &Metrics) {
        let mut inner = self.lock();
        inner.consecutive = 0;
        if inner.out.take().is_some() || inner.ejections > 0 {
            inner.ejections = 0;
            drop(inner);
            tracing::info!(provider = %provider, "target healthy again after a successful request");
            metrics.target_health(provider, true);
        }
    }

    /// A failed attempt; ejects or cools the target when the rules say so.
    pub fn record_failure(&self, provider: &str, failure: Failure, settings: &FailoverSettings, metrics: &Metrics) {
        let now = Instant::now();
        let mut inner = self.lock();
        match failure {
            Failure::Throttled(wait) => {
                let until = now + wait;
                if inner.out.as_ref().is_some_and(|(u, _, _)| *u >= until) {
                    return;
                }
                let reason = format!("throttled by the upstream, cooling down {} ms", wait.as_millis());
                inner.out = Some((until, OutKind::Cooling, reason.clone()));
                drop(inner);
                tracing::warn!(provider = %provider, reason = %reason, "target cooling down");
                metrics.target_ejection(provider, "throttled");
                metrics.target_health(provider, false);
            }
            Failure::Server => {
                inner.consecutive += 1;
                if inner.consecutive < settings.ejection_threshold {
                    return;
                }
                if inner.out.as_ref().is_some_and(|(u, _, _)| *u > now) {
                    return; // already out: the streak comes from requests that started before the ejection
                }
                let shift = inner.ejections.min(16);
                let backoff = settings
                    .ejection_base
                    .saturating_mul(1u32 << shift)
                    .min(settings.ejection_max);
                inner.ejections += 1;
                let reason = format!(
                    "{} consecutive failures, ejected for {} ms (ejection #{})",
                    inner.consecutive,
                    backoff.as_millis(),
                    inner.ejections
                );
                inner.consecutive = 0;
                inner.out = Some((now + backoff, OutKind::Ejected, reason.clone()));
                drop(inner);
                tracing::warn!(provider = %provider, reason = %reason, "target ejected");
                metrics.target_ejection(provider, "consecutive_failures");
                metrics.target_health(provider, false);
            }
        }
    }

    /// The state for `/status`.
    #[must_use]
    pub fn view(&self, now: Instant) -> HealthView {
        let inner = self.lock();
        match &inner.out {
            Some((until, kind, reason)) if *until > now => HealthView {
                state: match kind {
                    OutKind::Ejected => "ejected",
                    OutKind::Cooling => "cooling",
                },
                reason: Some(reason.clone()),
                remaining_ms: Some(u64::try_from(until.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)),
                consecutive_failures: inner.consecutive,
            },
            _ => HealthView {
                state: "healthy",
                reason: None,
                remaining_ms: None,
                consecutive_failures: inner.consecutive,
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Retries allowed as a fraction of recent requests over a sliding window of one-second buckets, with a floor
/// so a quiet gateway can still retry: an outage does not multiply the load on the remaining targets.
#[derive(Debug)]
pub struct RetryBudget {
    window: Mutex<VecDeque<Bucket>>,
    start: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    second: u64,
    requests: u64,
    retries: u64,
}

/// How long the budget looks back.
const BUDGET_WINDOW_SECS: u64 = 10;

// === impl RetryBudget ===

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            window: Mutex::new(VecDeque::new()),
            start: Instant::now(),
        }
    }
}

impl RetryBudget {
    /// Counts one client request.
    pub fn record_request(&self) {
        self.with_bucket(|b| b.requests += 1);
    }

    /// Takes one retry from the budget if there is one left.
    pub fn try_retry(&self, ratio: f64, min_per_sec: u32) -> bool {
        let second = self.start.elapsed().as_secs();
        let mut w = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::trim(&mut w, second);
        let (requests, retries) = w.iter().fold((0u64, 0u64), |(q, r), b| (q + b.requests, r + b.retries));
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let allowed = ((requests as f64) * ratio) as u64 + u64::from(min_per_sec) * BUDGET_WINDOW_SECS;
        if retries >= allowed {
            return false;
        }
        Self::bucket(&mut w, second).retries += 1;
        true
    }

    fn with_bucket(&self, f: impl FnOnce(&mut Bucket)) {
        let second = self.start.elapsed().as_secs();
        let mut w = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::trim(&mut w, second);
        f(Self::bucket(&mut w, second));
    }

    fn trim(w: &mut VecDeque<Bucket>, second: u64) {
        while w.front().is_some_and(|b| b.second + BUDGET_WINDOW_SECS <= second) {
            w.pop_front();
        }
    }

    fn bucket(w: &mut VecDeque<Bucket>, second: u64) -> &mut Bucket {
        if w.back().is_none_or(|b| b.second != second) {
            w.push_back(Bucket {
                second,
                requests: 0,
                retries: 0,
            });
        }
        let last = w.len() - 1;
        &mut w[last]
    }
}
