//! Health of each provider: passive outlier detection on real traffic, active probe results, and the retry budget.
//!
//! A [`TargetHealth`] lives in its [`Provider`](crate::snapshot::Provider): consecutive 5xx answers, connect
//! failures or first-byte timeouts eject the target for a backoff that doubles on each repeated ejection (from
//! `ejection_base` up to `ejection_max`); a 429/529 cools it down for its `Retry-After` (capped). Active probes
//! (`crate::probe`) add a second, independent verdict with hysteresis: `unhealthy_threshold` failed probes in a row
//! take the target out, `healthy_threshold` passing probes in a row bring it back — and, when the probes had
//! marked it down, also end a passive ejection (the target was dead and is back; waiting out a long backoff would
//! only keep traffic on the standby). A target is in rotation when neither says otherwise. While out it is skipped
//! by the failover loop, unless every target of the model is out — then the request still tries them in order
//! rather than failing without an attempt. Every state change is logged with its reason and counted
//! (`gatehouse_target_ejections_total`, `gatehouse_target_health_transitions_total`, `gatehouse_target_health`).
//! The clock is tokio's, so tests can pause it.

mod budget;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

pub use budget::RetryBudget;

use crate::metrics::Metrics;
use crate::snapshot::FailoverSettings;

/// The health of one provider: passive (real traffic) and active (probes).
#[derive(Debug, Default)]
pub struct TargetHealth {
    inner: Mutex<Inner>,
    /// Set once this provider's probe task is running, so a snapshot never gets two.
    probing: AtomicBool,
}

#[derive(Debug, Default, Clone)]
struct Inner {
    /// Failures in a row since the last success.
    consecutive: u32,
    /// Ejections in a row (reset by a success after recovery); drives the growing backoff.
    ejections: u32,
    /// Out of rotation until then, and why.
    out: Option<(Instant, OutKind, String)>,
    /// What the active probes say.
    probe: ProbeState,
}

/// Active probe bookkeeping of one provider.
#[derive(Debug, Default, Clone)]
struct ProbeState {
    /// Whether any probe result was recorded (the provider is probed).
    seen: bool,
    /// Out of rotation: `unhealthy_threshold` probes failed in a row and `healthy_threshold` have not passed since.
    down: bool,
    /// Passing probes in a row.
    successes: u32,
    /// Failing probes in a row.
    failures: u32,
    /// The latest result.
    last: Option<(Instant, ProbeOutcome)>,
}

/// One probe's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeOutcome {
    /// Whether it passed.
    pub ok: bool,
    /// What happened, e.g. `HTTP 200`, `connect failed: Connection refused`, `timed out after 2000 ms`.
    pub detail: String,
    /// When it was sent, Unix time in milliseconds (for operators comparing with their own logs).
    pub at_unix_ms: u64,
    /// How long it took.
    pub latency_ms: u64,
}

/// The thresholds a probe result is judged with (from the provider's `health:` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    /// Passing probes in a row that bring the target back.
    pub healthy_threshold: u32,
    /// Failing probes in a row that take it out.
    pub unhealthy_threshold: u32,
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
    /// `healthy`, `ejected`, `cooling` (passive) or `unhealthy` (active probes failing).
    pub state: &'static str,
    /// Why it left rotation (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Milliseconds until it returns to rotation (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_ms: Option<u64>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Active probes, when the provider is probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeView>,
}

/// The active-probe part of a target's state on `/status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeView {
    /// `healthy` or `unhealthy` by the probes alone.
    pub state: &'static str,
    /// Passing probes in a row.
    pub consecutive_successes: u32,
    /// Failing probes in a row.
    pub consecutive_failures: u32,
    /// The latest probe, with how long ago it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastProbe>,
}

/// The latest probe on `/status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LastProbe {
    /// Its result.
    #[serde(flatten)]
    pub outcome: ProbeOutcome,
    /// Milliseconds since it was sent.
    pub age_ms: u64,
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
        availability(&self.lock(), now)
    }

    /// Marks the probe task as started; false when one already runs for this provider.
    pub fn start_probing(&self) -> bool {
        !self.probing.swap(true, Ordering::SeqCst)
    }

    /// Takes over the state of the provider this one replaces on reload (same name, kind and endpoints), so a
    /// config edit neither puts a dead target back in rotation nor forgets an ejection's backoff.
    pub fn inherit(&self, old: &TargetHealth) {
        let prev = old.lock().clone();
        *self.lock() = prev;
    }

    /// Records one probe result, judged with `h`; logs and counts a change of the probe verdict.
    pub fn record_probe(&self, provider: &str, outcome: ProbeOutcome, h: Hysteresis, metrics: &Metrics) {
        let now = Instant::now();
        let mut inner = self.lock();
        let p = &mut inner.probe;
        p.seen = true;
        let mut change = None;
        if outcome.ok {
            p.failures = 0;
            p.successes = p.successes.saturating_add(1);
            if p.down && p.successes >= h.healthy_threshold {
                p.down = false;
                let mut reason = format!("{} consecutive successful probes", p.successes);
                // The probes saw it dead and now alive: a passive ejection from that outage is over too. A
                // cool-down is kept: it honours the upstream's own Retry-After.
                if inner
                    .out
                    .as_ref()
                    .is_some_and(|(u, k, _)| *u > now && *k == OutKind::Ejected)
                {
                    inner.out = None;
                    inner.ejections = 0;
                    inner.consecutive = 0;
                    reason.push_str(", ejection ended");
                }
                change = Some(("healthy", reason));
            }
        } else {
            p.successes = 0;
            p.failures = p.failures.saturating_add(1);
            if !p.down && p.failures >= h.unhealthy_threshold {
                p.down = true;
                change = Some((
                    "unhealthy",
                    format!("{} consecutive failed probes, last: {}", p.failures, outcome.detail),
                ));
            }
        }
        let ok = outcome.ok;
        inner.probe.last = Some((now, outcome));
        let in_rotation = availability(&inner, now).is_ok();
        drop(inner);
        metrics.probes.probe(provider, ok);
        if let Some((to, reason)) = change {
            if to == "healthy" {
                tracing::info!(provider = %provider, reason = %reason, "target healthy again by active probes");
            } else {
                tracing::warn!(provider = %provider, reason = %reason, "target unhealthy by active probes");
                metrics.target_ejection(provider, "probe_failures");
            }
            metrics.probes.transition(provider, to, "probe");
        }
        metrics.target_health(provider, in_rotation);
    }

    /// A successful attempt: the failure streak ends; a target back from ejection starts its backoff over.
    pub fn record_success(&self, provider: &str, metrics: &Metrics) {
        let mut inner = self.lock();
        inner.consecutive = 0;
        if inner.out.take().is_some() || inner.ejections > 0 {
            inner.ejections = 0;
            let in_rotation = availability(&inner, Instant::now()).is_ok();
            drop(inner);
            tracing::info!(provider = %provider, "target healthy again after a successful request");
            metrics.probes.transition(provider, "healthy", "passive");
            metrics.target_health(provider, in_rotation);
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
                metrics.probes.transition(provider, "unhealthy", "passive");
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
                metrics.probes.transition(provider, "unhealthy", "passive");
                metrics.target_health(provider, false);
            }
        }
    }

    /// The state for `/status`.
    #[must_use]
    pub fn view(&self, now: Instant) -> HealthView {
        let inner = self.lock();
        let probe = inner.probe.seen.then(|| ProbeView {
            state: if inner.probe.down { "unhealthy" } else { "healthy" },
            consecutive_successes: inner.probe.successes,
            consecutive_failures: inner.probe.failures,
            last: inner.probe.last.as_ref().map(|(at, o)| LastProbe {
                outcome: o.clone(),
                age_ms: millis(now.saturating_duration_since(*at)),
            }),
        });
        match &inner.out {
            Some((until, kind, reason)) if *until > now => HealthView {
                state: match kind {
                    OutKind::Ejected => "ejected",
                    OutKind::Cooling => "cooling",
                },
                reason: Some(reason.clone()),
                remaining_ms: Some(millis(until.saturating_duration_since(now))),
                consecutive_failures: inner.consecutive,
                probe,
            },
            _ if inner.probe.down => HealthView {
                state: "unhealthy",
                reason: availability(&inner, now).err(),
                remaining_ms: None,
                consecutive_failures: inner.consecutive,
                probe,
            },
            _ => HealthView {
                state: "healthy",
                reason: None,
                remaining_ms: None,
                consecutive_failures: inner.consecutive,
                probe,
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// In rotation unless passively out (ejected, cooling) or marked down by the probes.
fn availability(inner: &Inner, now: Instant) -> Result<(), String> {
    if let Some((until, _, reason)) = &inner.out
        && *until > now
    {
        return Err(format!(
            "{reason} ({} ms left)",
            until.saturating_duration_since(now).as_millis()
        ));
    }
    if inner.probe.down {
        let last = inner.probe.last.as_ref().map_or("", |(_, o)| o.detail.as_str());
        return Err(format!("active probes failing ({last})"));
    }
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
