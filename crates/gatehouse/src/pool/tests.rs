use std::time::Duration;

use gatehouse_picker::{Picker, PrefixConfig, Signals, Strategy, Thresholds, Weights};
use http::HeaderValue;

use super::*;

fn settings() -> PoolSettings {
    PoolSettings {
        picker: Picker {
            strategy: Strategy::Inference,
            weights: Weights::default(),
            thresholds: Thresholds::default(),
            staleness: Duration::from_millis(200),
            overload_filter: true,
        },
        prefix: PrefixConfig::default(),
        metrics_path: "/metrics".into(),
        scrape_interval: Duration::from_millis(50),
        scrape_timeout: Duration::from_secs(1),
        unhealthy_after: 3,
        ejection_time: Duration::from_secs(1),
        objectives: HashMap::from([("batch".to_string(), -1), ("chat".to_string(), 5)]),
        shed_retry_after: Duration::from_secs(2),
        replica_header: None,
    }
}

fn pool() -> Arc<Pool> {
    let urls = ["http://10.0.0.1:8000".to_string(), "http://10.0.0.2:8000".to_string()];
    Arc::new(Pool::new("p", &urls, settings()))
}

fn signals(waiting: f64, kv: f64) -> Signals {
    Signals {
        waiting: Some(waiting),
        running: Some(0.0),
        kv_usage: Some(kv),
        model_name: Some("m".into()),
        ..Signals::default()
    }
}

fn healthy(p: &Pool) -> Vec<bool> {
    p.lock().states.iter().map(|s| s.healthy).collect()
}

#[tokio::test(start_paused = true)]
async fn scrape_failures_have_hysteresis_and_one_success_heals() {
    let p = pool();
    p.scraped(0, Ok(signals(0.0, 0.0)));
    for n in 1..3 {
        p.scraped(0, Err("HTTP 500".into()));
        assert_eq!(healthy(&p), [true, true], "still healthy after {n} failures");
    }
    p.scraped(0, Err("HTTP 500".into()));
    assert_eq!(healthy(&p), [false, true]);
    assert_eq!(
        p.lock().health[0].reason().as_deref(),
        Some("metrics scrape failed 3 times: HTTP 500")
    );
    p.scraped(0, Ok(signals(0.0, 0.0)));
    assert_eq!(healthy(&p), [true, true]);
    assert_eq!(p.lock().health[0].reason(), None);
}

#[tokio::test(start_paused = true)]
async fn a_failed_request_ejects_until_the_ejection_time_passes() {
    let p = pool();
    let (i, lease) = p.pick("m", b"hello", 0).expect("pick");
    lease.finish(Some("upstream_unreachable"));
    assert!(!healthy(&p)[i]);
    // A good scrape does not end an ejection early.
    p.scraped(i, Ok(signals(0.0, 0.0)));
    assert!(!healthy(&p)[i]);
    for _ in 0..5 {
        let (j, _lease) = p.pick("m", b"hello", 0).expect("pick");
        assert_ne!(j, i, "ejected replica is skipped");
    }
    tokio::time::advance(Duration::from_millis(1001)).await;
    let _ = p.pick("m", b"x", 0).expect("pick"); // refreshes health
    assert!(healthy(&p)[i]);
    // Other outcomes never eject.
    let (k, lease) = p.pick("m", b"y", 0).expect("pick");
    lease.finish(Some("upstream_error_status"));
    assert!(healthy(&p)[k]);
}

#[tokio::test(start_paused = true)]
async fn leases_count_in_flight_until_released() {
    let p = pool();
    let (i, a) = p.pick("m", b"one", 0).expect("pick");
    let (j, b) = p.pick("m", b"two", 0).expect("pick");
    let total = |p: &Pool| p.lock().states.iter().map(|s| s.in_flight).sum::<u32>();
    assert_eq!(total(&p), 2);
    assert_ne!(i, j, "the second pick sees the first one in flight");
    drop(a);
    assert_eq!(total(&p), 1);
    b.finish(None);
    assert_eq!(total(&p), 0);
}

#[tokio::test(start_paused = true)]
async fn objectives_map_to_priorities_and_only_negative_ones_are_shed() {
    let p = pool();
    let mut h = HeaderMap::new();
    assert_eq!(p.priority(&h), 0);
    h.insert(OBJECTIVE_HEADER, HeaderValue::from_static("batch"));
    assert_eq!(p.priority(&h), -1);
    h.insert(OBJECTIVE_HEADER, HeaderValue::from_static("unknown"));
    assert_eq!(p.priority(&h), 0);
    p.scraped(0, Ok(signals(9.0, 0.9)));
    p.scraped(1, Ok(signals(9.0, 0.9)));
    match p.pick("m", b"q", -1) {
        Err(GatewayError::Shed { retry_after, .. }) => assert_eq!(retry_after, Duration::from_secs(2)),
        other => panic!("expected a shed, got {other:?}"),
    }
    assert!(p.pick("m", b"q", 0).is_ok(), "priority 0 is never shed");
    // Stale metrics count as saturated too.
    let q = pool();
    q.scraped(0, Ok(signals(0.0, 0.0)));
    q.scraped(1, Ok(signals(0.0, 0.0)));
    assert!(q.pick("m", b"q", -1).is_ok());
    tokio::time::advance(Duration::from_millis(300)).await;
    assert!(q.pick("m", b"q", -1).is_err(), "unknown load is treated as full");
}

#[tokio::test(start_paused = true)]
async fn a_replacing_pool_inherits_signals_health_and_prefix_table() {
    let old = pool();
    old.scraped(1, Ok(signals(2.0, 0.5)));
    let (i, _lease) = old.pick("m", &[b'a'; 640], 0).expect("pick");
    for _ in 0..3 {
        old.scraped(0, Err("timed out".into()));
    }
    let new = pool();
    new.inherit(&old);
    let inner = new.lock();
    assert_eq!(inner.table.len(i), 10);
    assert_eq!(inner.states[1].signals, Some(signals(2.0, 0.5)));
    assert!(!inner.states[0].healthy);
    assert_eq!(inner.states[i].in_flight, 0, "leases stay with the old pool");
    drop(inner);
    // Different replicas: nothing is inherited.
    let other = Arc::new(Pool::new("p", &["http://10.0.0.9:8000".to_string()], settings()));
    other.inherit(&old);
    assert_eq!(other.lock().table.len(0), 0);
}
