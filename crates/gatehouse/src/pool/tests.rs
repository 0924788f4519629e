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
            queue_signal: gatehouse_picker::score::QueueSignal::AwaitingFirstToken,
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

fn addr(url: &str) -> ReplicaAddr {
    ReplicaAddr {
        url: url.to_string(),
        metrics_url: format!("{url}/metrics"),
    }
}

fn listed(urls: &[&str]) -> Membership {
    Membership::Static(urls.iter().map(|u| addr(u)).collect())
}

fn pool() -> Arc<Pool> {
    Arc::new(Pool::new(
        "p",
        listed(&["http://10.0.0.1:8000", "http://10.0.0.2:8000"]),
        settings(),
    ))
}

fn dns_pool() -> Arc<Pool> {
    let d = DnsMembership {
        host: "vllm.ns.svc".into(),
        port: 8000,
        refresh_interval: Duration::from_secs(5),
        nameserver: None,
        timeout: Duration::from_secs(2),
    };
    Arc::new(Pool::new("p", Membership::Dns(d), settings()))
}

/// Member id of the replica at `url`.
fn id(p: &Pool, url: &str) -> u64 {
    let inner = p.lock();
    inner.members.iter().find(|m| m.addr.url == url).expect("member").id
}

fn index(p: &Pool, url: &str) -> usize {
    p.lock().members.iter().position(|m| m.addr.url == url).expect("member")
}

const R0: &str = "http://10.0.0.1:8000";
const R1: &str = "http://10.0.0.2:8000";

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
    let r0 = id(&p, R0);
    p.scraped(r0, Ok(signals(0.0, 0.0)));
    for n in 1..3 {
        p.scraped(r0, Err("HTTP 500".into()));
        assert_eq!(healthy(&p), [true, true], "still healthy after {n} failures");
    }
    p.scraped(r0, Err("HTTP 500".into()));
    assert_eq!(healthy(&p), [false, true]);
    assert_eq!(
        p.lock().health[0].reason().as_deref(),
        Some("metrics scrape failed 3 times: HTTP 500")
    );
    p.scraped(r0, Ok(signals(0.0, 0.0)));
    assert_eq!(healthy(&p), [true, true]);
    assert_eq!(p.lock().health[0].reason(), None);
}

#[tokio::test(start_paused = true)]
async fn a_failed_request_ejects_until_the_ejection_time_passes() {
    let p = pool();
    let (url, lease) = p.pick("m", b"hello", 0).expect("pick");
    let i = index(&p, &url);
    lease.finish(Some("upstream_unreachable"));
    assert!(!healthy(&p)[i]);
    // A good scrape does not end an ejection early.
    p.scraped(id(&p, &url), Ok(signals(0.0, 0.0)));
    assert!(!healthy(&p)[i]);
    for _ in 0..5 {
        let (other, _lease) = p.pick("m", b"hello", 0).expect("pick");
        assert_ne!(other, url, "ejected replica is skipped");
    }
    tokio::time::advance(Duration::from_millis(1001)).await;
    let _ = p.pick("m", b"x", 0).expect("pick"); // refreshes health
    assert!(healthy(&p)[i]);
    // Other outcomes never eject.
    let (k, lease) = p.pick("m", b"y", 0).expect("pick");
    lease.finish(Some("upstream_error_status"));
    assert!(healthy(&p)[index(&p, &k)]);
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
async fn a_lease_awaits_its_first_token_once_until_the_first_byte_or_release() {
    let p = pool();
    let awaiting = |p: &Pool| p.lock().states.iter().map(|s| s.awaiting_first_token).sum::<u32>();
    let (_, mut a) = p.pick("m", b"one", 0).expect("pick");
    let (_, b) = p.pick("m", b"two", 0).expect("pick");
    assert_eq!(awaiting(&p), 2);
    a.first_token();
    a.first_token();
    assert_eq!(awaiting(&p), 1, "the first byte counts once");
    a.finish(None);
    assert_eq!(
        awaiting(&p),
        1,
        "releasing after the first byte does not count it again"
    );
    drop(b);
    assert_eq!(
        awaiting(&p),
        0,
        "a request released before its first byte stops awaiting it"
    );
    assert!(p.lock().states.iter().all(|s| s.in_flight == 0));
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
    p.scraped(id(&p, R0), Ok(signals(9.0, 0.9)));
    p.scraped(id(&p, R1), Ok(signals(9.0, 0.9)));
    match p.pick("m", b"q", -1) {
        Err(GatewayError::Shed { retry_after, .. }) => assert_eq!(retry_after, Duration::from_secs(2)),
        other => panic!("expected a shed, got {other:?}"),
    }
    assert!(p.pick("m", b"q", 0).is_ok(), "priority 0 is never shed");
    // Stale metrics count as saturated too.
    let q = pool();
    q.scraped(id(&q, R0), Ok(signals(0.0, 0.0)));
    q.scraped(id(&q, R1), Ok(signals(0.0, 0.0)));
    assert!(q.pick("m", b"q", -1).is_ok());
    tokio::time::advance(Duration::from_millis(300)).await;
    assert!(q.pick("m", b"q", -1).is_err(), "unknown load is treated as full");
}

#[tokio::test(start_paused = true)]
async fn a_replacing_pool_inherits_signals_health_and_prefix_table() {
    let old = pool();
    old.scraped(id(&old, R1), Ok(signals(2.0, 0.5)));
    let (url, _lease) = old.pick("m", &[b'a'; 640], 0).expect("pick");
    for _ in 0..3 {
        old.scraped(id(&old, R0), Err("timed out".into()));
    }
    let new = pool();
    new.inherit(&old);
    let i = index(&new, &url);
    let inner = new.lock();
    assert_eq!(inner.table.len(i), 10);
    assert_eq!(inner.states[1].signals, Some(signals(2.0, 0.5)));
    assert!(!inner.states[0].healthy);
    assert_eq!(inner.states[i].in_flight, 0, "leases stay with the old pool");
    drop(inner);
    // A pool sharing one replica with the old one inherits for that replica only, wherever it is listed.
    let other = Arc::new(Pool::new("p", listed(&["http://10.0.0.9:8000", R1]), settings()));
    other.inherit(&old);
    let inner = other.lock();
    assert_eq!(inner.table.len(0), 0);
    assert_eq!(inner.states[0].signals, None);
    assert_eq!(inner.states[1].signals, Some(signals(2.0, 0.5)));
}

#[tokio::test(start_paused = true)]
async fn a_resolution_adds_and_removes_members_and_drops_their_state() {
    let p = dns_pool();
    assert!(
        matches!(p.pick("m", b"x", 0), Err(GatewayError::NoTargetAvailable { .. })),
        "no replica before the first resolution"
    );
    p.apply_resolution(&[addr(R0), addr(R1)]);
    p.scraped(id(&p, R0), Ok(signals(1.0, 0.1)));
    p.scraped(id(&p, R1), Ok(signals(1.0, 0.1)));
    let (first, lease) = p.pick("m", &[b'a'; 640], 0).expect("pick");
    let leaving = id(&p, &first);
    let staying = if first == R0 { R1 } else { R0 };
    let staying_id = id(&p, staying);
    // The replica that served the first request leaves; a new one joins.
    p.apply_resolution(&[addr(staying), addr("http://10.0.0.3:8000")]);
    {
        let inner = p.lock();
        let urls: Vec<&str> = inner.members.iter().map(|m| m.addr.url.as_str()).collect();
        assert_eq!(
            urls,
            [staying, "http://10.0.0.3:8000"],
            "the member that stays keeps its place"
        );
        assert_eq!(inner.table.replicas(), 2);
        assert_eq!(inner.table.total_entries(), 0, "the leaver's prefix blocks are gone");
        assert_eq!(
            inner.states[0].signals,
            Some(signals(1.0, 0.1)),
            "the stayer keeps its signals"
        );
        assert_eq!(inner.states[1].signals, None, "the newcomer is unknown");
        assert_eq!(inner.members[0].id, staying_id);
    }
    assert!(
        !p.scraped(leaving, Ok(signals(0.0, 0.0))),
        "the leaver's scraper is told to stop"
    );
    for i in 0..20 {
        let (u, _l) = p.pick("m", format!("q{i}").as_bytes(), 0).expect("pick");
        assert_ne!(u, first, "no new picks for a replica that left");
    }
    // The request still running on the leaver finishes without touching anyone else's state.
    lease.finish(Some("upstream_timeout"));
    assert!(p.lock().states.iter().all(|s| s.in_flight == 0 && s.healthy));
    // The same set again changes nothing.
    let ids: Vec<u64> = p.lock().members.iter().map(|m| m.id).collect();
    p.apply_resolution(&[addr("http://10.0.0.3:8000"), addr(staying)]);
    assert_eq!(p.lock().members.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
}

#[tokio::test(start_paused = true)]
async fn a_replacing_dns_pool_starts_with_the_members_it_follows() {
    let old = dns_pool();
    old.apply_resolution(&[addr(R0)]);
    old.scraped(id(&old, R0), Ok(signals(3.0, 0.2)));
    let new = dns_pool();
    new.inherit(&old);
    let inner = new.lock();
    assert_eq!(inner.members.len(), 1);
    assert_eq!(inner.members[0].addr, addr(R0));
    assert_eq!(inner.states[0].signals, Some(signals(3.0, 0.2)));
}

#[tokio::test(start_paused = true)]
async fn a_replica_table_is_sized_to_its_reported_kv_cache() {
    let p = pool();
    let r0 = id(&p, R0);
    assert_eq!(
        p.lock().table.capacity_of(0),
        31_250,
        "the bound until the replica says its size"
    );
    let sized = Signals {
        num_gpu_blocks: Some(100),
        block_size: Some(16),
        ..signals(0.0, 0.0)
    };
    p.scraped(r0, Ok(sized.clone()));
    assert_eq!(
        p.lock().table.capacity_of(0),
        100,
        "100 blocks × 16 tokens × 4 characters / 64"
    );
    assert_eq!(p.lock().table.capacity_of(1), 31_250);
    let mut s = settings();
    s.prefix.auto_tune = false;
    let fixed = Arc::new(Pool::new("p", listed(&[R0]), s));
    fixed.scraped(id(&fixed, R0), Ok(sized));
    assert_eq!(
        fixed.lock().table.capacity_of(0),
        31_250,
        "auto_tune off keeps the configured size"
    );
}
