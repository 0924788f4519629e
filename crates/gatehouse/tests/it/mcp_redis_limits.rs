//! The `/mcp` rate limit through the shared Redis backend (`redis:`, the LLM routes' limiter): one bucket per caller
//! across gatehouse processes, and the configured fail mode when Redis goes away. Each test starts its own
//! `redis-server` (`GATEHOUSE_REDIS_SERVER`).

use serde_json::json;

use crate::mcp_stateless::Stateless;
use crate::mcp_support::{RawClient, read_reply};
use crate::redis_limits::{Redis, free_port, redis_binary};
use crate::support::{ChildGateway, TestGateway, with_defaults};

/// A gateway whose only upstream is a dead port (`initialize` still answers: a failing upstream only degrades its
/// own items), limited to burst 3 at 0.2/s per caller — the 4th request is refused for ~5 s.
fn config(redis_url: &str, on_error: &str) -> String {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!(
        "redis: {{ url: \"{redis_url}\", on_error: {on_error}, timeout: 300ms }}\nmcp:\n  session_key: {{ value: \"{}\" }}\n  rate_limit: {{ per: caller, requests_per_second: 0.2, burst: 3 }}\n  upstreams:\n    everything: {{ url: \"http://127.0.0.1:{dead}/mcp\" }}\n",
        crate::mcp::KEY
    )
}

fn init() -> serde_json::Value {
    json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_rate_limit_is_shared_by_two_gatehouse_processes_through_redis() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut children = Vec::new();
    for name in ["one", "two"] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, with_defaults(&config(&redis.url(), "fail_closed"))).expect("write config");
        children.push(ChildGateway::spawn(&path).await);
    }
    let mut statuses = Vec::new();
    for i in 0..8 {
        let mut c = RawClient::new(format!("http://{}/mcp", children[i % 2].data));
        let r = c.call("initialize", init()).await;
        if r.status == 429 {
            assert_eq!(r.last()["error"]["data"]["code"], "mcp_rate_limited");
            let retry: u64 = r.headers["retry-after"].to_str().expect("ascii").parse().expect("secs");
            assert!((1..=5).contains(&retry), "retry-after {retry}");
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "the burst of 3 holds across both processes, not 2×3: {statuses:?}"
    );
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // The stateless era spends the same bucket.
    let s = Stateless::new(format!("http://{}/mcp", children[1].data));
    let r = s.call(json!(1), "tools/list", json!({})).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.last()["id"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_rate_limit_follows_the_redis_fail_mode() {
    let Some(bin) = redis_binary() else { return };
    let mut redis = Redis::start(bin, free_port()).await;
    let closed = TestGateway::start(&config(&redis.url(), "fail_closed")).await;
    let open = TestGateway::start(&config(&redis.url(), "fail_open")).await;
    let mut c = RawClient::new(closed.url("/mcp"));
    assert_eq!(c.call("initialize", init()).await.status, 200);
    redis.kill();
    let r = read_reply(
        c.request_builder()
            .body(json!({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": init()}).to_string())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.last()["id"], 9);
    assert_eq!(r.last()["error"]["data"]["code"], "limiter_unavailable");
    let mut o = RawClient::new(open.url("/mcp"));
    for i in 0..5 {
        assert_eq!(
            o.call("initialize", init()).await.status,
            200,
            "fail_open admits past the burst ({i})"
        );
    }
    let metrics = closed.metrics().await;
    let errors: f64 = metrics
        .lines()
        .find(|l| l.starts_with("gatehouse_limiter_backend_errors_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("backend error metric");
    assert!(errors >= 1.0, "{metrics}");
}
