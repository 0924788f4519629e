//! Filters and scorers, with GIE's formulas (`docs/routing.md` has the derivations).
//!
//! Every scorer returns a value in [0, 1] per candidate; the total is `Σ weight × score` (not normalised by the
//! weights' sum, as in GIE). Unknown signals (stale or missing metrics) score 0 — the worst — so a replica whose
//! metrics stopped arriving never looks idle.
//!
//! | scorer | formula |
//! |---|---|
//! | queue | min-max over candidates: `(maxQ − q) / (maxQ − minQ)`; all equal → 1 (or, with [`QueueSignal::InFlightWhenIdle`], min-max over the gateway's in-flight counts); with [`QueueSignal::AwaitingFirstToken`] (default) `q` also counts requests still waiting for their first token |
//! | KV cache | `1 − kv_usage` |
//! | prefix | leading blocks expected cached / prompt blocks |
//! | LoRA | adapter running 1.0, room to load 0.8, only waiting 0.6, else 0; base model 1.0 |

use std::time::Duration;

use crate::prefix::PrefixTable;
use crate::signals::ReplicaState;
use crate::strategy::{PickRequest, Picker};

/// Scorer weights (defaults as GIE ≥ v1.2: queue 2, KV 2, prefix 3; LoRA 1 is ours — it is constant on pools
/// without adapters, so it changes nothing there).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Queue-depth scorer weight.
    pub queue: f64,
    /// KV-cache utilisation scorer weight.
    pub kv_cache: f64,
    /// Prefix-affinity scorer weight.
    pub prefix: f64,
    /// LoRA-affinity scorer weight.
    pub lora: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            queue: 2.0,
            kv_cache: 2.0,
            prefix: 3.0,
            lora: 1.0,
        }
    }
}

/// Load thresholds shared by the overload filter and saturation detection (GIE's utilization detector).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Waiting requests at which a replica counts as full (default 5).
    pub queue: f64,
    /// KV-cache utilisation at which a replica counts as full (default 0.8).
    pub kv: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { queue: 5.0, kv: 0.8 }
    }
}

/// What the queue scorer reads.
///
/// GIE's `queue-scorer` reads only `vllm:num_requests_waiting`. At low load nothing waits anywhere, every candidate
/// scores 1.0 and the scorer cannot tell a replica with twenty requests in progress from an idle one; prefix or KV
/// noise then decides and can stack long prefills on one busy replica. llm-d ships an `active-request-scorer`
/// (requests the EPP itself has in flight per endpoint) and GIE a `running-requests-size-scorer` for this;
/// `InFlightWhenIdle` folds the never-stale in-flight count into the queue scorer only when the waiting queues
/// carry no information, so whenever queues differ the scorer is GIE's. (The scraped `running` gauge is not used:
/// it lags by up to a scrape, and at low load that lag alone decides between replicas running 1 and 2.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSignal {
    /// GIE's scorer as is: waiting requests only.
    Waiting,
    /// Waiting requests; when every known waiting depth is equal (typically all 0), min-max over this gateway's
    /// in-flight counts instead.
    InFlightWhenIdle,
    /// As `InFlightWhenIdle`, but a replica's depth also counts the requests this gateway sent there that have not
    /// returned a first token yet (queued *or prefilling*). At low load nothing waits and in-flight counts cannot
    /// tell a replica decoding three requests from one prefilling a long prompt; a request sent to the latter waits
    /// for that prefill. Round robin avoids such collisions by spacing alone; this avoids them by looking.
    #[default]
    AwaitingFirstToken,
}

/// The per-scorer values of one candidate, kept for `/status`, tests and the decision's reason.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// Queue scorer.
    pub queue: f64,
    /// KV-cache scorer.
    pub kv_cache: f64,
    /// Prefix scorer.
    pub prefix: f64,
    /// LoRA scorer.
    pub lora: f64,
    /// Weighted total.
    pub total: f64,
}

/// Queue-scorer values for candidates with queue depths `queues` (`None` = unknown) and gateway in-flight counts.
///
/// Known depths are min-max normalised; unknown ones score 0. When **no** candidate has a known depth the gateway's
/// own in-flight counts (never stale) are normalised instead, so load still spreads.
#[must_use]
pub fn queue_scores(queues: &[Option<f64>], in_flight: &[u32]) -> Vec<f64> {
    if queues.iter().all(Option::is_none) {
        let q: Vec<Option<f64>> = in_flight.iter().map(|n| Some(f64::from(*n))).collect();
        return min_max(&q);
    }
    min_max(queues)
}

/// The queue scorer with [`QueueSignal::InFlightWhenIdle`]: [`queue_scores`] over the waiting depths `queues`,
/// unless the known depths are all equal — then min-max over the gateway's `in_flight` counts of the replicas whose
/// depth is known (unknown replicas still score 0).
#[must_use]
pub fn queue_scores_in_flight_when_idle(queues: &[Option<f64>], in_flight: &[u32]) -> Vec<f64> {
    if spread(queues).is_some_and(|d| d <= f64::EPSILON) {
        let loads: Vec<Option<f64>> = queues
            .iter()
            .zip(in_flight)
            .map(|(q, n)| q.map(|_| f64::from(*n)))
            .collect();
        return min_max(&loads);
    }
    queue_scores(queues, in_flight)
}

/// `max − min` of the known values, `None` when none is known.
fn spread(values: &[Option<f64>]) -> Option<f64> {
    let mut known = values.iter().flatten().peekable();
    known.peek()?;
    let (min, max) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    Some(max - min)
}

fn min_max(values: &[Option<f64>]) -> Vec<f64> {
    let known = values.iter().flatten();
    let (min, max) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    values
        .iter()
        .map(|v| match v {
            None => 0.0,
            Some(_) if max - min <= f64::EPSILON => 1.0,
            Some(q) => ((max - q) / (max - min)).clamp(0.0, 1.0),
        })
        .collect()
}

/// KV-cache scorer: `1 − usage`, 0 when unknown.
#[must_use]
pub fn kv_score(usage: Option<f64>) -> f64 {
    usage.map_or(0.0, |u| 1.0 - u.clamp(0.0, 1.0))
}

/// LoRA scorer for a replica: 1.0 for the base model or a replica without LoRA, GIE's affinity for an adapter,
/// 0 when the metrics are unknown.
#[must_use]
pub fn lora_score(state: &ReplicaState, model: &str, now: Duration, staleness: Duration) -> f64 {
    let Some(s) = state.fresh(now, staleness) else {
        return 0.0;
    };
    if s.is_base_model(model) {
        return 1.0;
    }
    s.lora.as_ref().map_or(1.0, |l| l.affinity(model))
}

/// Scores every candidate (indexes into `replicas`) with `picker`'s weights, queue signal and staleness bound.
#[must_use]
pub fn score_all(
    replicas: &[ReplicaState],
    candidates: &[usize],
    table: &PrefixTable,
    req: &PickRequest<'_>,
    picker: &Picker,
    now: Duration,
) -> Vec<Scores> {
    let (weights, signal, staleness) = (&picker.weights, picker.queue_signal, picker.staleness);
    let queues: Vec<Option<f64>> = candidates
        .iter()
        .map(|&i| match signal {
            QueueSignal::AwaitingFirstToken => replicas[i].queue_before_first_token(now, staleness),
            QueueSignal::Waiting | QueueSignal::InFlightWhenIdle => replicas[i].queue(now, staleness),
        })
        .collect();
    let in_flight: Vec<u32> = candidates.iter().map(|&i| replicas[i].in_flight).collect();
    let q = match signal {
        QueueSignal::Waiting => queue_scores(&queues, &in_flight),
        QueueSignal::InFlightWhenIdle | QueueSignal::AwaitingFirstToken => {
            queue_scores_in_flight_when_idle(&queues, &in_flight)
        }
    };
    candidates
        .iter()
        .zip(q)
        .map(|(&i, queue)| {
            let r = &replicas[i];
            let kv_cache = kv_score(r.kv(now, staleness));
            let prefix = table.score(i, req.hashes);
            let lora = lora_score(r, req.model, now, staleness);
            let total =
                weights.queue * queue + weights.kv_cache * kv_cache + weights.prefix * prefix + weights.lora * lora;
            Scores {
                queue,
                kv_cache,
                prefix,
                lora,
                total,
            }
        })
        .collect()
}

/// Drops unhealthy replicas; when that would leave none, keeps them all (fail open: a pool whose health checks
/// all fail may still serve, and refusing would turn a metrics outage into a full outage).
#[must_use]
pub fn healthy_filter(replicas: &[ReplicaState], candidates: Vec<usize>) -> (Vec<usize>, bool) {
    let kept: Vec<usize> = candidates.iter().copied().filter(|&i| replicas[i].healthy).collect();
    if kept.is_empty() {
        (candidates, false)
    } else {
        (kept, true)
    }
}

/// GIE's utilization detector used as a filter: drops replicas with unknown metrics, `queue ≥ thresholds.queue` or
/// `kv ≥ thresholds.kv`; when that would leave none, keeps them all. This is what stops a hot prefix from piling
/// every request on one replica: once its queue is full, affinity no longer counts.
#[must_use]
pub fn overload_filter(
    replicas: &[ReplicaState],
    candidates: Vec<usize>,
    thresholds: &Thresholds,
    now: Duration,
    staleness: Duration,
) -> Vec<usize> {
    let kept: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| {
            let r = &replicas[i];
            match (r.queue(now, staleness), r.kv(now, staleness)) {
                (Some(q), kv) => q < thresholds.queue && kv.is_none_or(|kv| kv < thresholds.kv),
                (None, _) => false,
            }
        })
        .collect();
    if kept.is_empty() { candidates } else { kept }
}

#[cfg(test)]
mod tests;
