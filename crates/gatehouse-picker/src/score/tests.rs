use std::time::Duration;

use super::*;
use crate::signals::{LoraInfo, Signals};

const NOW: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_millis(200);

fn scoring(weights: Weights, queue_signal: QueueSignal) -> Picker {
    Picker {
        strategy: crate::strategy::Strategy::Inference,
        weights,
        thresholds: Thresholds::default(),
        staleness: STALE,
        overload_filter: true,
        queue_signal,
    }
}

fn replica(waiting: f64, running: f64, kv: f64) -> ReplicaState {
    ReplicaState {
        signals: Some(Signals {
            waiting: Some(waiting),
            running: Some(running),
            kv_usage: Some(kv),
            model_name: Some("base".into()),
            ..Signals::default()
        }),
        scraped_at: Some(NOW - Duration::from_millis(10)),
        healthy: true,
        in_flight: 0,
        awaiting_first_token: 0,
    }
}

#[test]
fn queue_scorer_is_min_max() {
    let s = queue_scores(&[Some(0.0), Some(4.0), Some(2.0)], &[0, 0, 0]);
    assert_eq!(s, [1.0, 0.0, 0.5]);
    assert_eq!(
        queue_scores(&[Some(3.0), Some(3.0)], &[0, 0]),
        [1.0, 1.0],
        "all equal → 1"
    );
    assert_eq!(
        queue_scores(&[Some(1.0), None], &[0, 0]),
        [1.0, 0.0],
        "unknown scores worst"
    );
    assert_eq!(
        queue_scores(&[None, None, None], &[3, 1, 2]),
        [0.0, 1.0, 0.5],
        "all unknown → the gateway's own in-flight counts"
    );
}

#[test]
fn in_flight_when_idle_counts_only_when_waiting_queues_are_equal() {
    let idle = [Some(0.0), Some(0.0), Some(0.0)];
    assert_eq!(
        queue_scores_in_flight_when_idle(&idle, &[8, 2, 5]),
        [0.0, 1.0, 0.5],
        "nothing waits → min-max over in-flight"
    );
    assert_eq!(
        queue_scores_in_flight_when_idle(&[Some(0.0), Some(3.0)], &[20, 3]),
        [1.0, 0.0],
        "queues differ → GIE's scorer, in-flight ignored"
    );
    assert_eq!(
        queue_scores_in_flight_when_idle(&[Some(0.0), None], &[9, 0]),
        [1.0, 0.0],
        "unknown still scores worst"
    );
    assert_eq!(
        queue_scores_in_flight_when_idle(&[None, None], &[4, 1]),
        [0.0, 1.0],
        "all unknown → in-flight"
    );
    assert_eq!(
        queue_scores_in_flight_when_idle(&idle, &[4, 4, 4]),
        [1.0, 1.0, 1.0],
        "equal in-flight → no preference"
    );
}

/// At low load (nothing waits) GIE's queue scorer gives every replica 1.0; with `InFlightWhenIdle` the busy replica
/// loses the queue term, so a small KV or prefix edge no longer stacks work on it.
#[test]
fn idle_pool_steers_away_from_the_busy_replica() {
    let mut busy = replica(0.0, 12.0, 0.10);
    busy.in_flight = 12;
    let quiet = replica(0.0, 1.0, 0.12);
    let replicas = [busy, quiet];
    let req = PickRequest {
        model: "base",
        hashes: &[],
    };
    let t = PrefixTable::new(2, 10);
    let gie = score_all(
        &replicas,
        &[0, 1],
        &t,
        &req,
        &scoring(Weights::default(), QueueSignal::Waiting),
        NOW,
    );
    assert!(
        gie[0].total > gie[1].total,
        "waiting-only: KV noise picks the busy one {gie:?}"
    );
    let ours = score_all(
        &replicas,
        &[0, 1],
        &t,
        &req,
        &scoring(Weights::default(), QueueSignal::InFlightWhenIdle),
        NOW,
    );
    assert!(ours[1].total > ours[0].total, "{ours:?}");
    assert_eq!((ours[0].queue, ours[1].queue), (0.0, 1.0));
}

/// At low load a replica still prefilling a request (sent, no first token yet) is a worse choice than one that is
/// only decoding, even with fewer requests in flight: the new request would wait for that prefill. In-flight
/// counting cannot see it; `AwaitingFirstToken` counts that request as queued.
#[test]
fn a_replica_still_prefilling_loses_the_queue_term_at_low_load() {
    let mut prefilling = replica(0.0, 1.0, 0.10);
    prefilling.in_flight = 1;
    prefilling.awaiting_first_token = 1;
    let mut decoding = replica(0.0, 3.0, 0.10);
    decoding.in_flight = 3;
    let replicas = [prefilling, decoding];
    let req = PickRequest {
        model: "base",
        hashes: &[],
    };
    let t = PrefixTable::new(2, 10);
    let score = |signal| score_all(&replicas, &[0, 1], &t, &req, &scoring(Weights::default(), signal), NOW);
    let by_count = score(QueueSignal::InFlightWhenIdle);
    assert_eq!((by_count[0].queue, by_count[1].queue), (1.0, 0.0), "{by_count:?}");
    let ours = score(QueueSignal::AwaitingFirstToken);
    assert_eq!((ours[0].queue, ours[1].queue), (0.0, 1.0), "{ours:?}");
    assert!(ours[1].total > ours[0].total);
    assert_eq!(QueueSignal::default(), QueueSignal::AwaitingFirstToken);
}

/// The first-token count raises a replica's queue but never makes stale metrics known: a replica whose scrapes
/// stopped still scores 0 whatever gatehouse knows of it, and when nothing awaits a first token the signal is
/// `InFlightWhenIdle` unchanged.
#[test]
fn awaiting_first_token_keeps_stale_unknown_and_reduces_to_in_flight_when_idle() {
    let mut stale = replica(0.0, 0.0, 0.0);
    stale.scraped_at = Some(NOW - Duration::from_secs(5));
    let mut a = replica(0.0, 2.0, 0.1);
    a.in_flight = 2;
    let mut b = replica(0.0, 1.0, 0.1);
    b.in_flight = 1;
    let replicas = [stale, a, b];
    let req = PickRequest {
        model: "base",
        hashes: &[],
    };
    let t = PrefixTable::new(3, 10);
    let score = |signal| {
        score_all(
            &replicas,
            &[0, 1, 2],
            &t,
            &req,
            &scoring(Weights::default(), signal),
            NOW,
        )
    };
    let ours = score(QueueSignal::AwaitingFirstToken);
    assert_eq!(ours[0].queue, 0.0, "stale metrics score worst");
    assert_eq!(ours, score(QueueSignal::InFlightWhenIdle));
    assert_eq!((ours[1].queue, ours[2].queue), (0.0, 1.0));
    // A scraped queue deeper than what gatehouse awaits still counts in full.
    let mut waiting = replica(4.0, 0.0, 0.1);
    waiting.awaiting_first_token = 1;
    assert_eq!(waiting.queue_before_first_token(NOW, STALE), Some(4.0));
    waiting.awaiting_first_token = 6;
    assert_eq!(waiting.queue_before_first_token(NOW, STALE), Some(6.0));
}

proptest::proptest! {
    /// Whenever the waiting queues differ, `InFlightWhenIdle` is exactly GIE's scorer; scores stay in [0, 1]; and
    /// when nothing waits, a replica with fewer requests in flight never scores lower than one with more.
    #[test]
    fn in_flight_when_idle_extends_gie_without_changing_it(
        rows in proptest::collection::vec((proptest::option::of(0u8..6), 0u32..40), 1..10),
    ) {
        let queues: Vec<Option<f64>> = rows.iter().map(|(q, _)| q.map(f64::from)).collect();
        let in_flight: Vec<u32> = rows.iter().map(|(_, n)| *n).collect();
        let s = queue_scores_in_flight_when_idle(&queues, &in_flight);
        proptest::prop_assert!(s.iter().all(|v| (0.0..=1.0).contains(v)));
        let known: Vec<f64> = queues.iter().flatten().copied().collect();
        let equal = known.windows(2).all(|w| (w[0] - w[1]).abs() <= f64::EPSILON);
        if known.is_empty() || !equal {
            proptest::prop_assert_eq!(&s, &queue_scores(&queues, &in_flight));
        } else {
            for i in 0..s.len() {
                for j in 0..s.len() {
                    if queues[i].is_some() && queues[j].is_some() && in_flight[i] <= in_flight[j] {
                        proptest::prop_assert!(s[i] >= s[j], "{:?} {:?}", in_flight, s);
                    }
                }
            }
        }
    }
}

#[test]
fn kv_scorer_is_one_minus_usage() {
    assert!((kv_score(Some(0.2)) - 0.8).abs() < 1e-12);
    assert_eq!(kv_score(None), 0.0);
    assert_eq!(kv_score(Some(1.5)), 0.0);
}

/// The worked vector from the reference (weights 2/2/3): A(q0, kv .5, 8/10 blocks) = 5.4, B(q4, kv .2, 0/10) = 1.6,
/// C(q2, kv .9, 10/10) = 4.2.
#[test]
fn weighted_sum_matches_the_gie_worked_example() {
    let replicas = [replica(0.0, 0.0, 0.5), replica(4.0, 0.0, 0.2), replica(2.0, 0.0, 0.9)];
    let hashes: Vec<u64> = (0..10).collect();
    let mut table = PrefixTable::new(3, 100);
    table.record(0, &hashes[..8]);
    table.record(2, &hashes);
    let w = Weights {
        lora: 0.0,
        ..Weights::default()
    };
    let s = score_all(
        &replicas,
        &[0, 1, 2],
        &table,
        &PickRequest {
            model: "base",
            hashes: &hashes,
        },
        &scoring(w, QueueSignal::Waiting),
        NOW,
    );
    let totals: Vec<f64> = s.iter().map(|s| (s.total * 10.0).round() / 10.0).collect();
    assert_eq!(totals, [5.4, 1.6, 4.2]);
}

#[test]
fn lora_scorer_follows_gie() {
    let mut r = replica(0.0, 0.0, 0.0);
    let lora = |running: &[&str], waiting: &[&str], max| LoraInfo {
        running: running.iter().map(|s| (*s).to_string()).collect(),
        waiting: waiting.iter().map(|s| (*s).to_string()).collect(),
        max,
    };
    let set = |r: &mut ReplicaState, l| r.signals.as_mut().expect("signals").lora = Some(l);
    set(&mut r, lora(&["sql"], &[], 2));
    assert_eq!(lora_score(&r, "sql", NOW, STALE), 1.0, "loaded");
    assert_eq!(lora_score(&r, "tweet", NOW, STALE), 0.8, "room to load");
    assert_eq!(lora_score(&r, "base", NOW, STALE), 1.0, "base model");
    set(&mut r, lora(&["a"], &["tweet"], 2));
    assert_eq!(lora_score(&r, "tweet", NOW, STALE), 0.6, "only waiting, no room");
    assert_eq!(lora_score(&r, "other", NOW, STALE), 0.0, "no room");
    r.scraped_at = Some(NOW - Duration::from_secs(1));
    assert_eq!(lora_score(&r, "base", NOW, STALE), 0.0, "stale → unknown");
}

#[test]
fn stale_metrics_are_unknown_not_idle() {
    let mut idle_but_stale = replica(0.0, 0.0, 0.0);
    idle_but_stale.scraped_at = Some(NOW - Duration::from_millis(500));
    let busy = replica(3.0, 8.0, 0.6);
    let replicas = [idle_but_stale, busy];
    assert_eq!(replicas[0].queue(NOW, STALE), None);
    let s = score_all(
        &replicas,
        &[0, 1],
        &PrefixTable::new(2, 10),
        &PickRequest {
            model: "base",
            hashes: &[],
        },
        &scoring(Weights::default(), QueueSignal::InFlightWhenIdle),
        NOW,
    );
    assert!(s[1].total > s[0].total, "{s:?}");
    // The overload filter drops it while a fresh replica remains.
    let kept = overload_filter(&replicas, vec![0, 1], &Thresholds::default(), NOW, STALE);
    assert_eq!(kept, [1]);
}

#[test]
fn in_flight_raises_the_scraped_queue() {
    let mut r = replica(1.0, 4.0, 0.1);
    assert_eq!(r.queue(NOW, STALE), Some(1.0));
    r.in_flight = 9; // 5 more than the scrape saw running
    assert_eq!(r.queue(NOW, STALE), Some(5.0));
}

#[test]
fn filters_keep_everyone_rather_than_nobody() {
    let mut a = replica(9.0, 0.0, 0.1);
    let b = replica(0.0, 0.0, 0.95);
    let c = replica(1.0, 0.0, 0.3);
    let t = Thresholds::default();
    let all = [a.clone(), b.clone(), c];
    assert_eq!(overload_filter(&all, vec![0, 1, 2], &t, NOW, STALE), [2]);
    assert_eq!(
        overload_filter(&all, vec![0, 1], &t, NOW, STALE),
        [0, 1],
        "all overloaded → keep all"
    );
    a.healthy = false;
    let two = [a.clone(), b];
    assert_eq!(healthy_filter(&two, vec![0, 1]), (vec![1], true));
    let mut b2 = two[1].clone();
    b2.healthy = false;
    assert_eq!(
        healthy_filter(&[a, b2], vec![0, 1]),
        (vec![0, 1], false),
        "none healthy → fail open"
    );
}
