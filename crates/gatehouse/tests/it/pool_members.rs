//! Who is in a `vllm_pool`: replicas that follow a DNS name (a test nameserver whose A records change during the
//! test, and the system resolver with `localhost`), and replicas whose metrics live at a URL of their own.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use testkit::DnsServer;

use crate::pool_routing::{BASE, REPLICA_HEADER, ask, authority, replica, sim, start_sim, wait_pool};
use crate::support::TestGateway;

/// A replica at `ip:port` that answers chats minimally and idle metrics, counting both.
struct Counting {
    url: String,
    chats: Arc<AtomicUsize>,
    scrapes: Arc<AtomicUsize>,
}

async fn counting_replica(listener: tokio::net::TcpListener) -> Counting {
    use axum::routing::{get, post};
    let chats = Arc::new(AtomicUsize::new(0));
    let scrapes = Arc::new(AtomicUsize::new(0));
    let (c, s) = (chats.clone(), scrapes.clone());
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                s.fetch_add(1, Ordering::SeqCst);
                async { "vllm:num_requests_waiting{model_name=\"m\"} 0.0\nvllm:num_requests_running{model_name=\"m\"} 0.0\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.0\n" }
            }),
        )
        .route(
            "/v1/chat/completions",
            post(move |body: axum::Json<Value>| {
                c.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert_eq!(body["model"], BASE, "the upstream model name was sent");
                    axum::Json(json!({"id": "x", "object": "chat.completion", "created": 0, "model": BASE,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
                }
            }),
        );
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Counting { url, chats, scrapes }
}

/// Two listeners on one port at 127.0.0.2 and 127.0.0.3 (the whole 127/8 is loopback on Linux): what a headless
/// Service's pods look like, one port, one address each.
async fn two_listeners_on_one_port() -> (tokio::net::TcpListener, tokio::net::TcpListener) {
    for _ in 0..20 {
        let a = tokio::net::TcpListener::bind("127.0.0.2:0")
            .await
            .expect("bind 127.0.0.2");
        let port = a.local_addr().expect("addr").port();
        if let Ok(b) = tokio::net::TcpListener::bind(("127.0.0.3", port)).await {
            return (a, b);
        }
    }
    panic!("no port free on both 127.0.0.2 and 127.0.0.3");
}

fn dns_config(name: &str, port: u16, extra: &str) -> String {
    format!(
        "providers:\n  pool:\n    kind: vllm_pool\n    dns: {{ name: {name}, port: {port}{extra} }}\n    routing:\n      replica_header: {REPLICA_HEADER}\n\
         models:\n  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}\n"
    )
}

fn urls(pool: &Value) -> Vec<String> {
    pool["replicas"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["url"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Serving replicas of `n` requests with distinct prompts.
async fn served_by(gw: &TestGateway, n: usize, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let (status, rep) = ask(gw, "llama", &format!("{tag} question {i}"), None).await;
        assert_eq!(status, 200);
        out.push(rep.expect("replica header"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_pool_follows_the_name_as_replicas_join_and_leave() {
    let (la, lb) = two_listeners_on_one_port().await;
    let port = la.local_addr().expect("addr").port();
    let a = counting_replica(la).await;
    let b = counting_replica(lb).await;
    let (ip_a, ip_b) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
    let dns = DnsServer::start(&[ip_a]).await;
    let extra = format!(", refresh_interval: 100ms, nameserver: \"{}\"", dns.addr());
    let gw = TestGateway::start(&dns_config("vllm.inference.svc.cluster.local", port, &extra)).await;

    // One replica in DNS: it takes all the traffic.
    let pool = wait_pool(&gw, "the first resolution", |p| urls(p) == [a.url.clone()]).await;
    assert_eq!(pool["dns"]["name"], format!("vllm.inference.svc.cluster.local:{port}"));
    assert!(served_by(&gw, 4, "one").await.iter().all(|r| *r == authority(&a.url)));
    let asked = dns.queries();
    assert!(
        asked.contains(&("vllm.inference.svc.cluster.local".to_string(), 1)),
        "{asked:?}"
    );
    assert!(
        asked.contains(&("vllm.inference.svc.cluster.local".to_string(), 28)),
        "AAAA asked too"
    );

    // A second pod appears: it joins, is scraped, and starts receiving traffic.
    dns.set(&[ip_a, ip_b]);
    wait_pool(&gw, "the new replica to join and be scraped", |p| {
        urls(p).len() == 2 && replica(p, &b.url)["metrics_age_ms"].is_u64()
    })
    .await;
    let served = served_by(&gw, 20, "two").await;
    assert!(
        served.contains(&authority(&b.url)),
        "the new replica gets traffic: {served:?}"
    );
    assert!(b.chats.load(Ordering::SeqCst) > 0);

    // The first pod goes away: no new picks, its scraper stops, its metric series go.
    dns.set(&[ip_b]);
    wait_pool(&gw, "the old replica to leave", |p| urls(p) == [b.url.clone()]).await;
    let chats_a = a.chats.load(Ordering::SeqCst);
    assert!(served_by(&gw, 8, "three").await.iter().all(|r| *r == authority(&b.url)));
    assert_eq!(
        a.chats.load(Ordering::SeqCst),
        chats_a,
        "no request reached the removed replica"
    );
    let scrapes_a = a.scrapes.load(Ordering::SeqCst);
    // Six scrape periods with no scrape of the removed replica (scrape in flight at removal: at most one more).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        a.scrapes.load(Ordering::SeqCst) <= scrapes_a + 1,
        "the removed replica is no longer scraped"
    );
    let m = gw.metrics().await;
    for family in [
        "gatehouse_pool_replica_healthy",
        "gatehouse_pool_replica_waiting",
        "gatehouse_pool_replica_in_flight",
    ] {
        let series = format!("{family}{{pool=\"pool\",replica=\"{}\"}}", authority(&a.url));
        assert!(!m.contains(&series), "{series} is gone: {m}");
    }
    assert!(
        m.contains(&format!(
            "gatehouse_pool_replica_healthy{{pool=\"pool\",replica=\"{}\"}} 1",
            authority(&b.url)
        )),
        "{m}"
    );
    assert!(m.contains("gatehouse_pool_replicas{pool=\"pool\"} 1"), "{m}");

    // DNS fails: the last known set stays and keeps serving; the failure is counted and shown.
    dns.fail();
    let pool = wait_pool(&gw, "a failed resolution", |p| {
        p["dns"]["failures"].as_u64().unwrap_or(0) > 0
    })
    .await;
    assert!(
        pool["dns"]["last_error"].as_str().unwrap_or("").contains("SERVFAIL"),
        "{pool:#}"
    );
    assert_eq!(urls(&pool), std::slice::from_ref(&b.url));
    assert!(served_by(&gw, 3, "four").await.iter().all(|r| *r == authority(&b.url)));
    let m = gw.metrics().await;
    assert!(
        m.contains("gatehouse_pool_dns_resolutions_total{pool=\"pool\",result=\"error\"}"),
        "{m}"
    );
    assert!(
        m.contains("gatehouse_pool_dns_resolutions_total{pool=\"pool\",result=\"ok\"}"),
        "{m}"
    );
    // It recovers at the next good answer.
    dns.set(&[ip_a, ip_b]);
    wait_pool(&gw, "recovery", |p| {
        urls(p).len() == 2 && p["dns"]["last_error"].is_null()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_pool_uses_the_system_resolver_by_default() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let r = counting_replica(listener).await;
    let gw = TestGateway::start(&dns_config("localhost", port, "")).await;
    // `localhost` may also resolve to ::1, where nothing listens: that replica turns unhealthy, 127.0.0.1 serves.
    wait_pool(&gw, "localhost to resolve", |p| urls(p).contains(&r.url)).await;
    for rep in served_by(&gw, 4, "local").await {
        assert_eq!(rep, authority(&r.url));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_metrics_url_is_scraped_instead_of_its_metrics_path() {
    use axum::routing::get;
    // The busy replica's metrics come from an exporter on another port and path; its own /metrics says idle.
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let exporter = axum::Router::new().route(
        "/exporter/stats",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { "vllm:num_requests_waiting{model_name=\"m\"} 7.0\nvllm:num_requests_running{model_name=\"m\"} 64.0\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.95\n" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let stats = format!("http://{}/exporter/stats", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, exporter).await;
    });
    let busy = start_sim(sim(0.01)).await;
    let idle = start_sim(sim(0.01)).await;
    let yaml = format!(
        "providers:\n  pool:\n    kind: vllm_pool\n    endpoints:\n      - {{ url: \"{busy}\", metrics_url: \"{stats}\" }}\n      - \"{idle}\"\n    routing:\n      replica_header: {REPLICA_HEADER}\n\
         models:\n  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}\n"
    );
    let gw = TestGateway::start(&yaml).await;
    let pool = wait_pool(&gw, "the exporter's figures on /status", |p| {
        replica(p, &busy)["waiting"] == 7.0 && replica(p, &idle)["metrics_age_ms"].is_u64()
    })
    .await;
    assert_eq!(replica(&pool, &busy)["metrics_url"], stats);
    assert_eq!(replica(&pool, &idle)["metrics_url"], format!("{idle}/metrics"));
    assert_eq!(replica(&pool, &idle)["waiting"], 0.0);
    // prefix.auto_tune: the table is sized to the simulator's KV cache (its default 2048 blocks of 16 tokens,
    // 4 characters per token, 64-character blocks), not to the configured bound.
    let kv = vllm_sim::SimOptions::default();
    assert_eq!(
        replica(&pool, &idle)["prefix_capacity"],
        (kv.num_gpu_blocks * kv.block_size * 4).div_ceil(64)
    );
    assert!(hits.load(Ordering::SeqCst) > 0);
    for rep in served_by(&gw, 8, "m").await {
        assert_eq!(rep, authority(&idle), "the replica its exporter calls full is avoided");
    }
}
