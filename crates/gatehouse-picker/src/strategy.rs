//! Strategies that turn replica states into one pick, and saturation detection for load shedding.
//!
//! `inference` (the default for vLLM pools): healthy filter → overload filter (optional) → weighted scorers →
//! highest total, ties broken at random. `round_robin`, `random` and `least_request` (fewest in-flight requests from
//! this gateway) skip unhealthy replicas and exist for comparison and for pools without metrics. Every strategy
//! falls back to all replicas when none is healthy ([`Reason::FailOpen`]).

use std::time::Duration;

use crate::prefix::PrefixTable;
use crate::rng::SplitMix64;
use crate::score::{QueueSignal, Scores, Thresholds, Weights, healthy_filter, overload_filter, score_all};
use crate::signals::ReplicaState;

/// How a pool picks a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// In turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// Fewest requests in flight from this gateway.
    LeastRequest,
    /// Filters + weighted scorers over scraped vLLM metrics and prefix affinity.
    Inference,
}

/// Everything a strategy needs that does not change per request.
#[derive(Debug, Clone)]
pub struct Picker {
    /// The strategy.
    pub strategy: Strategy,
    /// Scorer weights (`inference`).
    pub weights: Weights,
    /// Overload / saturation thresholds.
    pub thresholds: Thresholds,
    /// Metrics older than this are unknown.
    pub staleness: Duration,
    /// Whether the overload filter runs before scoring (`inference`).
    pub overload_filter: bool,
    /// What the queue scorer reads (`inference`).
    pub queue_signal: QueueSignal,
}

/// What a request contributes to the decision.
#[derive(Debug, Clone, Copy)]
pub struct PickRequest<'a> {
    /// The model name sent upstream (base model or LoRA adapter).
    pub model: &'a str,
    /// The prompt's chained block hashes ([`crate::hash_prompt`]).
    pub hashes: &'a [u64],
}

/// Why a replica was chosen (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `round_robin` strategy.
    RoundRobin,
    /// `random` strategy.
    Random,
    /// `least_request` strategy.
    LeastRequest,
    /// `inference`: the winner was expected to hold part of the prompt's prefix.
    PrefixHit,
    /// `inference`: chosen on load (queue, KV, LoRA) alone.
    Load,
    /// No replica was healthy; picked among all of them.
    FailOpen,
}

/// One pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Index of the chosen replica.
    pub replica: usize,
    /// Why.
    pub reason: Reason,
    /// The winner's scores (`inference` only).
    pub scores: Option<Scores>,
}

// === impl Reason ===

impl Reason {
    /// The metric label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::Random => "random",
            Self::LeastRequest => "least_request",
            Self::PrefixHit => "prefix_hit",
            Self::Load => "load",
            Self::FailOpen => "fail_open",
        }
    }
}

// === impl Strategy ===

impl Strategy {
    /// The config spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::Random => "random",
            Self::LeastRequest => "least_request",
            Self::Inference => "inference",
        }
    }
}

// === impl Picker ===

impl Picker {
    /// Picks a replica, or `None` for an empty pool. `seed` drives tie-breaks and `random`; `cursor` is the
    /// round-robin position (the caller increments it per request).
    #[must_use]
    pub fn pick(
        &self,
        replicas: &[ReplicaState],
        table: &PrefixTable,
        req: &PickRequest<'_>,
        now: Duration,
        seed: u64,
        cursor: usize,
    ) -> Option<Decision> {
        let n = replicas.len();
        if n == 0 {
            return None;
        }
        let mut rng = SplitMix64::new(seed);
        let (candidates, any_healthy) = healthy_filter(replicas, (0..n).collect());
        let simple = |replica, reason| {
            Some(Decision {
                replica,
                reason: if any_healthy { reason } else { Reason::FailOpen },
                scores: None,
            })
        };
        match self.strategy {
            Strategy::RoundRobin => {
                let start = cursor % n;
                let pick = (0..n)
                    .map(|k| (start + k) % n)
                    .find(|i| candidates.contains(i))
                    .unwrap_or(start);
                simple(pick, Reason::RoundRobin)
            }
            Strategy::Random => simple(candidates[rng.below(candidates.len())], Reason::Random),
            Strategy::LeastRequest => {
                let min = candidates.iter().map(|&i| replicas[i].in_flight).min().unwrap_or(0);
                let best: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&i| replicas[i].in_flight == min)
                    .collect();
                simple(best[rng.below(best.len())], Reason::LeastRequest)
            }
            Strategy::Inference => {
                let candidates = if self.overload_filter {
                    overload_filter(replicas, candidates, &self.thresholds, now, self.staleness)
                } else {
                    candidates
                };
                let scores = score_all(replicas, &candidates, table, req, self, now);
                let best = scores.iter().map(|s| s.total).fold(f64::NEG_INFINITY, f64::max);
                let top: Vec<usize> = (0..candidates.len())
                    .filter(|&k| scores[k].total >= best - 1e-9)
                    .collect();
                let k = top[rng.below(top.len())];
                let s = scores[k];
                let reason = if !any_healthy {
                    Reason::FailOpen
                } else if s.prefix > 0.0 {
                    Reason::PrefixHit
                } else {
                    Reason::Load
                };
                Some(Decision {
                    replica: candidates[k],
                    reason,
                    scores: Some(s),
                })
            }
        }
    }
}

/// GIE's utilization detector: per replica `max(queue / thresholds.queue, kv / thresholds.kv)`, unknown metrics
/// → 1.0; the pool's saturation is the mean. The pool is saturated when this is ≥ 1.0.
#[must_use]
pub fn saturation(replicas: &[ReplicaState], thresholds: &Thresholds, now: Duration, staleness: Duration) -> f64 {
    if replicas.is_empty() {
        return 1.0;
    }
    let sum: f64 = replicas
        .iter()
        .map(|r| match r.queue(now, staleness) {
            None => 1.0,
            Some(q) => {
                let kv = r.kv(now, staleness).unwrap_or(0.0);
                (q / thresholds.queue.max(f64::MIN_POSITIVE)).max(kv / thresholds.kv.max(f64::MIN_POSITIVE))
            }
        })
        .sum();
    sum / replicas.len() as f64
}

#[cfg(test)]
mod tests;
