use std::time::Duration;

use super::*;
use crate::signals::Signals;

const NOW: Duration = Duration::from_secs(10);

fn replica(waiting: f64, kv: f64) -> ReplicaState {
    ReplicaState {
        signals: Some(Signals {
            waiting: Some(waiting),
            running: Some(0.0),
            kv_usage: Some(kv),
            model_name: Some("m".into()),
            ..Signals::default()
        }),
        scraped_at: Some(NOW),
        healthy: true,
        in_flight: 0,
        awaiting_first_token: 0,
    }
}

fn picker(strategy: Strategy) -> Picker {
    Picker {
        strategy,
        weights: Weights::default(),
        thresholds: Thresholds::default(),
        staleness: Duration::from_millis(200),
        overload_filter: true,
        queue_signal: crate::score::QueueSignal::InFlightWhenIdle,
    }
}

fn req(hashes: &[u64]) -> PickRequest<'_> {
    PickRequest { model: "m", hashes }
}

#[test]
fn inference_avoids_the_loaded_replica() {
    let replicas = [replica(4.0, 0.7), replica(0.0, 0.1), replica(2.0, 0.3)];
    let t = PrefixTable::new(3, 10);
    for seed in 0..50 {
        let d = picker(Strategy::Inference)
            .pick(&replicas, &t, &req(&[]), NOW, seed, 0)
            .expect("pick");
        assert_eq!(d.replica, 1);
        assert_eq!(d.reason, Reason::Load);
    }
}

#[test]
fn inference_prefers_the_prefix_holder_until_it_is_overloaded() {
    let hashes = [1, 2, 3, 4];
    let mut t = PrefixTable::new(2, 10);
    t.record(0, &hashes);
    let mut replicas = [replica(2.0, 0.3), replica(0.0, 0.2)];
    let d = picker(Strategy::Inference)
        .pick(&replicas, &t, &req(&hashes), NOW, 1, 0)
        .expect("pick");
    assert_eq!(
        (d.replica, d.reason),
        (0, Reason::PrefixHit),
        "affinity outweighs a short queue"
    );
    replicas[0] = replica(5.0, 0.3); // queue threshold reached
    let d = picker(Strategy::Inference)
        .pick(&replicas, &t, &req(&hashes), NOW, 1, 0)
        .expect("pick");
    assert_eq!(
        (d.replica, d.reason),
        (1, Reason::Load),
        "overload filter stops the pile-on"
    );
}

#[test]
fn ties_are_broken_at_random() {
    let replicas = [replica(0.0, 0.0), replica(0.0, 0.0), replica(0.0, 0.0)];
    let t = PrefixTable::new(3, 10);
    let mut seen = [0; 3];
    for seed in 0..300 {
        let d = picker(Strategy::Inference)
            .pick(&replicas, &t, &req(&[]), NOW, seed, 0)
            .expect("pick");
        seen[d.replica] += 1;
    }
    assert!(seen.iter().all(|n| *n > 60), "{seen:?}");
}

#[test]
fn simple_strategies_skip_unhealthy_replicas() {
    let mut replicas = [replica(0.0, 0.0), replica(0.0, 0.0), replica(0.0, 0.0)];
    replicas[1].healthy = false;
    replicas[0].in_flight = 3;
    replicas[2].in_flight = 1;
    let t = PrefixTable::new(3, 10);
    let rr: Vec<usize> = (0..4)
        .map(|c| {
            picker(Strategy::RoundRobin)
                .pick(&replicas, &t, &req(&[]), NOW, 0, c)
                .expect("p")
                .replica
        })
        .collect();
    assert_eq!(rr, [0, 2, 2, 0]);
    for seed in 0..40 {
        let d = picker(Strategy::Random)
            .pick(&replicas, &t, &req(&[]), NOW, seed, 0)
            .expect("p");
        assert_ne!(d.replica, 1);
        let d = picker(Strategy::LeastRequest)
            .pick(&replicas, &t, &req(&[]), NOW, seed, 0)
            .expect("p");
        assert_eq!((d.replica, d.reason), (2, Reason::LeastRequest));
    }
    for r in &mut replicas {
        r.healthy = false;
    }
    let d = picker(Strategy::LeastRequest)
        .pick(&replicas, &t, &req(&[]), NOW, 0, 0)
        .expect("p");
    assert_eq!(d.reason, Reason::FailOpen);
    assert!(picker(Strategy::Random).pick(&[], &t, &req(&[]), NOW, 0, 0).is_none());
}

#[test]
fn saturation_is_the_mean_utilisation_and_stale_counts_as_full() {
    let t = Thresholds::default();
    let stale = Duration::from_millis(200);
    let idle = [replica(0.0, 0.0), replica(0.0, 0.0)];
    assert_eq!(saturation(&idle, &t, NOW, stale), 0.0);
    let full = [replica(5.0, 0.1), replica(2.5, 0.8)];
    assert!((saturation(&full, &t, NOW, stale) - 1.0).abs() < 1e-9);
    let mut half_stale = [replica(0.0, 0.0), replica(0.0, 0.0)];
    half_stale[0].scraped_at = Some(NOW - Duration::from_secs(1));
    assert!((saturation(&half_stale, &t, NOW, stale) - 0.5).abs() < 1e-9);
}
