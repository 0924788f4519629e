//! Request, token and concurrency limits on the LLM routes, several at once, evaluated in config order.
//!
//! Request rates use the shared pure GCRA (`limit/gcra.rs`) through the in-process [`KeyedLimiter`]. Token rates use
//! the same arithmetic with a cost: the request is charged an estimate before the call (body bytes / 4 + the
//! requested output bound, or [`DEFAULT_OUTPUT_ESTIMATE`]) and the [`Guard`] settles the difference with the real
//! usage when the request's context finishes (debt allowed, so a larger real usage delays later requests).
//! Concurrency slots are released when the guard drops. A request refused by a later limit gives back what earlier
//! limits charged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::Identity;
use crate::config::spec::governance::{LimitScope, LimitSpec};
use crate::error::GatewayError;
use crate::limit::keyed::DEFAULT_MAX_KEYS;
use crate::limit::{Decision, Gcra, KeyedLimiter, TokioClock};

/// Output tokens assumed when the request sets no `max_tokens` / `max_completion_tokens`.
pub const DEFAULT_OUTPUT_ESTIMATE: u64 = 1024;

/// One configured limit with its live state.
#[derive(Debug)]
pub struct Limit {
    /// The spec it was built from (to keep state across reloads when unchanged).
    pub spec: LimitSpec,
    requests: Option<KeyedLimiter>,
    tokens: Option<KeyedLimiter>,
    concurrent: Option<(u32, Mutex<HashMap<String, u32>>)>,
}

/// What a request holds from the limits: token charges to settle and concurrency slots to release.
#[derive(Debug, Default)]
pub struct Guard {
    charges: Vec<(Arc<Limit>, String, u64)>,
    /// Set when token charges live in Redis.
    redis: Option<Arc<super::RedisBackend>>,
    slots: Vec<(Arc<Limit>, String)>,
    /// Concurrency leases held in Redis: (key, lease id).
    leases: Vec<(String, String)>,
}

/// The most restrictive view of one kind of limit, for the `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy)]
struct Tightest {
    limit: u64,
    remaining: u64,
    reset: Duration,
}

// === impl Limit ===

impl Limit {
    /// Callers this replica holds in-process state for (request and token buckets, concurrency slots).
    #[must_use]
    pub fn tracked_keys(&self) -> usize {
        let buckets = [&self.requests, &self.tokens]
            .iter()
            .filter_map(|l| l.as_ref().map(KeyedLimiter::tracked))
            .max()
            .unwrap_or(0);
        let slots = self
            .concurrent
            .as_ref()
            .and_then(|(_, m)| m.lock().ok().map(|m| m.len()))
            .unwrap_or(0);
        buckets.max(slots)
    }

    /// Builds the live limit from a validated spec (rates positive, burst ≥ 1).
    #[must_use]
    pub fn new(spec: LimitSpec) -> Option<Self> {
        let clock = || Arc::new(TokioClock::new());
        let rps = spec.requests_per_second.or(spec.requests_per_minute.map(|m| m / 60.0));
        let requests = match rps {
            Some(r) => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // r validated positive, bounded
                let default_burst = r.ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
                let g = Gcra::new(r, spec.burst.unwrap_or(default_burst))?;
                Some(KeyedLimiter::new(g, clock(), DEFAULT_MAX_KEYS))
            }
            None => None,
        };
        let tokens = match spec.tokens_per_minute {
            Some(t) => {
                #[allow(clippy::cast_precision_loss)] // token rates far below 2^52
                let g = Gcra::new(t as f64 / 60.0, u32::try_from(t).ok()?)?;
                Some(KeyedLimiter::new(g, clock(), DEFAULT_MAX_KEYS))
            }
            None => None,
        };
        let concurrent = spec.concurrent.map(|n| (n, Mutex::new(HashMap::new())));
        Some(Self {
            spec,
            requests,
            tokens,
            concurrent,
        })
    }

    /// The bucket this request counts in, or `None` when the scope does not apply (no team / user).
    fn key(&self, identity: Option<&Identity>, model: &str) -> Option<String> {
        match self.spec.scope {
            LimitScope::Key => Some(identity.map_or("anonymous", |i| i.name.as_str()).to_string()),
            LimitScope::Team => identity.and_then(|i| i.team.clone()),
            LimitScope::User => identity.and_then(|i| i.user.clone()),
            LimitScope::Model => Some(model.to_string()),
            LimitScope::Global => Some(String::new()),
        }
    }

    fn release(&self, key: &str) {
        if let Some((_, map)) = &self.concurrent
            && let Ok(mut m) = map.lock()
            && let Some(n) = m.get_mut(key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(key);
            }
        }
    }
}

// === impl Guard ===

impl Guard {
    /// Settles token charges with the real token count (`None`: keep the estimate). Slots are released on drop.
    pub fn settle(&mut self, actual: Option<u64>) {
        if let Some(redis) = self.redis.clone() {
            let deltas: Vec<(Arc<Limit>, String, i64)> = self
                .charges
                .drain(..)
                .filter_map(|(l, k, est)| {
                    let d = i64::try_from(actual?).unwrap_or(i64::MAX) - i64::try_from(est).unwrap_or(i64::MAX);
                    (d != 0).then_some((l, k, d))
                })
                .collect();
            spawn_adjust(redis, deltas);
            return;
        }
        for (limit, key, estimate) in self.charges.drain(..) {
            if let (Some(actual), Some(l)) = (actual, &limit.tokens) {
                let delta = i64::try_from(actual).unwrap_or(i64::MAX) - i64::try_from(estimate).unwrap_or(i64::MAX);
                if delta != 0 {
                    l.adjust(&key, delta);
                }
            }
        }
    }

    /// Gives back every charge (the request was refused by a later policy).
    fn rollback(&mut self) {
        if let Some(redis) = self.redis.clone() {
            let deltas = self
                .charges
                .drain(..)
                .map(|(l, k, est)| (l, k, -i64::try_from(est).unwrap_or(i64::MAX)))
                .collect();
            spawn_adjust(redis, deltas);
            return;
        }
        for (limit, key, estimate) in self.charges.drain(..) {
            if let Some(l) = &limit.tokens {
                l.adjust(&key, -i64::try_from(estimate).unwrap_or(i64::MAX));
            }
        }
    }
}

/// Longest a Redis concurrency lease lives: a replica that dies mid-request frees its slots after this.
const LEASE: Duration = Duration::from_secs(600);

/// A lease id unique across replicas (random 128 bits, hex, plus a process-wide counter in case the RNG fails).
fn lease_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut b = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut b);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut id: String = b.iter().map(|x| format!("{x:02x}")).collect();
    id.push_str(&format!("-{n}"));
    id
}

/// The Redis key of a limit's token bucket for one scope value.
fn tokens_key(limit: &Limit, key: &str) -> String {
    format!("gatehouse:tokens:{}:{key}", limit.spec.name)
}

/// Applies token settlements in Redis in the background (the context is finishing; nothing waits for it).
fn spawn_adjust(redis: Arc<super::RedisBackend>, deltas: Vec<(Arc<Limit>, String, i64)>) {
    if deltas.is_empty() {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        for (limit, key, delta) in deltas {
            if let Some(t) = &limit.tokens
                && let Err(error) = redis.limiter.adjust(&tokens_key(&limit, &key), t.gcra(), delta).await
            {
                tracing::warn!(limit = %limit.spec.name, %error, "token settlement in Redis failed");
            }
        }
    });
}

impl Drop for Guard {
    fn drop(&mut self) {
        for (limit, key) in self.slots.drain(..) {
            limit.release(&key);
        }
        let leases = std::mem::take(&mut self.leases);
        if let (Some(redis), false, Ok(rt)) = (
            self.redis.clone(),
            leases.is_empty(),
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(async move {
                for (key, id) in leases {
                    if let Err(error) = redis.limiter.release(&key, &id).await {
                        tracing::warn!(%error, "releasing a concurrency lease in Redis failed; it expires on its own");
                    }
                }
            });
        }
    }
}

/// The request's token estimate: body bytes / 4 plus its output bound (or the default; 0 for embeddings).
#[must_use]
pub fn estimate_tokens(body_len: usize, max_output: Option<u64>, embeddings: bool) -> u64 {
    let prompt = u64::try_from(body_len / 4).unwrap_or(u64::MAX);
    let output = if embeddings {
        0
    } else {
        max_output.unwrap_or(DEFAULT_OUTPUT_ESTIMATE)
    };
    prompt.saturating_add(output)
}

/// Runs every limit in order; on success the guard to keep for the request's life and the `x-ratelimit-*` headers.
pub async fn admit(
    limits: &[Arc<Limit>],
    redis: Option<&Arc<super::RedisBackend>>,
    backend_errors: &prometheus_client::metrics::counter::Counter,
    identity: Option<&Identity>,
    model: &str,
    estimate: u64,
) -> Result<(Guard, Vec<(HeaderName, HeaderValue)>), GatewayError> {
    let mut guard = Guard::default();
    guard.redis = redis.cloned();
    let mut req_view: Option<Tightest> = None;
    let mut tok_view: Option<Tightest> = None;
    let mut charged_requests: Vec<(Arc<Limit>, String)> = Vec::new();
    let refuse =
        |guard: &mut Guard, charged: &[(Arc<Limit>, String)], name: &str, retry_after: Duration, what, capacity| {
            guard.rollback();
            for (l, k) in charged {
                if let Some(r) = &l.requests {
                    r.adjust(k, -1);
                }
            }
            GatewayError::RateLimited {
                limit: name.to_string(),
                what,
                capacity,
                retry_after,
            }
        };
    for limit in limits {
        let Some(key) = limit.key(identity, model) else {
            continue;
        };
        if let Some(r) = &limit.requests {
            let decision = match redis {
                None => r.check(&key),
                Some(b) => {
                    let rkey = format!("gatehouse:limit:{}:{key}", limit.spec.name);
                    match b.limiter.check_n(&rkey, r.gcra(), 1, None).await {
                        Ok(d) => d,
                        Err(error) => {
                            backend_errors.inc();
                            tracing::warn!(limit = %limit.spec.name, %error, fail_open = b.fail_open, "Redis limiter unavailable");
                            if !b.fail_open {
                                guard.rollback();
                                return Err(GatewayError::LimiterUnavailable {
                                    limit: limit.spec.name.clone(),
                                });
                            }
                            continue;
                        }
                    }
                }
            };
            match decision {
                Decision::Allow { remaining } => {
                    charged_requests.push((limit.clone(), key.clone()));
                    tighten(&mut req_view, &r.gcra(), remaining);
                }
                Decision::Deny { retry_after } => {
                    let cap = r.gcra().capacity();
                    return Err(refuse(
                        &mut guard,
                        &charged_requests,
                        &limit.spec.name,
                        retry_after,
                        "requests",
                        cap,
                    ));
                }
            }
        }
        if let Some(t) = &limit.tokens {
            let decision = match redis {
                None => t.check_n(&key, estimate),
                Some(b) => {
                    let rkey = tokens_key(limit, &key);
                    match b.limiter.check_n(&rkey, t.gcra(), estimate, None).await {
                        Ok(d) => d,
                        Err(error) => {
                            backend_errors.inc();
                            tracing::warn!(limit = %limit.spec.name, %error, fail_open = b.fail_open, "Redis limiter unavailable");
                            if !b.fail_open {
                                guard.rollback();
                                return Err(GatewayError::LimiterUnavailable {
                                    limit: limit.spec.name.clone(),
                                });
                            }
                            Decision::Allow { remaining: 0 }
                        }
                    }
                }
            };
            match decision {
                Decision::Allow { remaining } => {
                    guard.charges.push((limit.clone(), key.clone(), estimate));
                    tighten(&mut tok_view, &t.gcra(), remaining);
                }
                Decision::Deny { retry_after } => {
                    let cap = t.gcra().capacity();
                    return Err(refuse(
                        &mut guard,
                        &charged_requests,
                        &limit.spec.name,
                        retry_after,
                        "tokens",
                        cap,
                    ));
                }
            }
        }
        if let (Some((max, _)), Some(b)) = (&limit.concurrent, redis) {
            let rkey = format!("gatehouse:concurrent:{}:{key}", limit.spec.name);
            let id = lease_id();
            match b.limiter.acquire(&rkey, *max, &id, LEASE).await {
                Ok(true) => guard.leases.push((rkey, id)),
                Ok(false) => {
                    return Err(refuse(
                        &mut guard,
                        &charged_requests,
                        &limit.spec.name,
                        Duration::from_secs(1),
                        "concurrent",
                        u64::from(*max),
                    ));
                }
                Err(error) => {
                    backend_errors.inc();
                    tracing::warn!(limit = %limit.spec.name, %error, fail_open = b.fail_open, "Redis limiter unavailable");
                    if !b.fail_open {
                        guard.rollback();
                        return Err(GatewayError::LimiterUnavailable {
                            limit: limit.spec.name.clone(),
                        });
                    }
                }
            }
        } else if let Some((max, map)) = &limit.concurrent {
            let admitted = map.lock().is_ok_and(|mut m| {
                let n = m.entry(key.clone()).or_insert(0);
                if *n < *max {
                    *n += 1;
                    true
                } else {
                    false
                }
            });
            if !admitted {
                return Err(refuse(
                    &mut guard,
                    &charged_requests,
                    &limit.spec.name,
                    Duration::from_secs(1),
                    "concurrent",
                    u64::from(*max),
                ));
            }
            guard.slots.push((limit.clone(), key));
        }
    }
    let mut headers = Vec::new();
    for (kind, view) in [("requests", req_view), ("tokens", tok_view)] {
        if let Some(v) = view {
            push_headers(&mut headers, kind, v);
        }
    }
    Ok((guard, headers))
}

/// `x-ratelimit-{limit,remaining,reset}-{kind}` (OpenAI's names; reset as seconds with an `s` suffix).
fn push_headers(out: &mut Vec<(HeaderName, HeaderValue)>, kind: &str, v: Tightest) {
    let reset = format!("{:.3}s", v.reset.as_secs_f64());
    for (name, value) in [
        (format!("x-ratelimit-limit-{kind}"), v.limit.to_string()),
        (format!("x-ratelimit-remaining-{kind}"), v.remaining.to_string()),
        (format!("x-ratelimit-reset-{kind}"), reset),
    ] {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.push((n, v));
        }
    }
}

fn tighten(view: &mut Option<Tightest>, g: &Gcra, remaining: u64) {
    let limit = g.capacity();
    let reset = Duration::from_nanos(g.emission_ns.saturating_mul(limit.saturating_sub(remaining)));
    let new = Tightest {
        limit,
        remaining,
        reset,
    };
    if view.is_none_or(|v| remaining < v.remaining) {
        *view = Some(new);
    }
}
