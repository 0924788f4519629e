//! Health of `vllm_pool` replicas: stale metrics, failing scrapes, failed requests, and state across reloads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::pool_routing::{BASE, REPLICA_HEADER, ask, authority, pool_config, replica, sim, start_sim, wait_pool};
use crate::support::TestGateway;

/// A replica the simulator cannot play: its `/metrics` answers `metrics` on the first call and then does whatever
/// `later` says; its chat endpoint counts requests and answers a minimal OpenAI reply.
async fn fake_replica(later: &'static str) -> (String, Arc<AtomicUsize>) {
    use axum::routing::{get, post};
    let chats = Arc::new(AtomicUsize::new(0));
    let scrapes = Arc::new(AtomicUsize::new(0));
    let c = chats.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let n = scrapes.fetch_add(1, Ordering::SeqCst);
                async move {
                    let idle = "vllm:num_requests_waiting{model_name=\"m\"} 0.0\nvllm:num_requests_running{model_name=\"m\"} 0.0\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.0\n";
                    match (n, later) {
                        (0, _) | (_, "idle" | "idle_but_chat_hangs") => (http::StatusCode::OK, idle.to_string()),
                        (_, "hang") => {
                            std::future::pending::<()>().await;
                            unreachable!()
                        }
                        _ => (http::StatusCode::INTERNAL_SERVER_ERROR, "boom".to_string()),
                    }
                }
            }),
        )
        .route(
            "/v1/chat/completions",
            post(move |body: axum::Json<Value>| {
                c.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert!(body["messages"].is_array(), "a chat body was forwarded");
                    if later == "idle_but_chat_hangs" {
                        std::future::pending::<()>().await;
                    }
                    axum::Json(json!({"id": "x", "object": "chat.completion", "created": 0, "model": BASE,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "fake"}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), chats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_metrics_are_not_treated_as_idle() {
    let (stale, chats) = fake_replica("hang").await;
    let a = start_sim(sim(0.01)).await;
    let b = start_sim(sim(0.01)).await;
    // A long scrape timeout and failure threshold: the replica stays "healthy", its last (idle) scrape just ages.
    let routing = "      scrape_timeout: 30s\n      unhealthy_after: 100\n";
    let gw = TestGateway::start(&pool_config(&[stale.clone(), a, b], routing)).await;
    let pool = wait_pool(&gw, "the hanging replica's metrics to go stale", |p| {
        let r = replica(p, &stale);
        r["stale"] == true && r["metrics_age_ms"].as_u64().is_some()
    })
    .await;
    let r = replica(&pool, &stale);
    assert_eq!(r["healthy"], true);
    assert_eq!(r["waiting"], 0.0, "its last scrape said idle");
    for i in 0..10 {
        let (status, rep) = ask(&gw, "llama", &format!("q{i}"), None).await;
        assert_eq!(status, 200);
        assert_ne!(rep.as_deref(), Some(authority(&stale).as_str()));
    }
    assert_eq!(chats.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_failure_marks_the_replica_unhealthy_and_traffic_moves() {
    let (broken, chats) = fake_replica("fail").await;
    let a = start_sim(sim(0.01)).await;
    let gw = TestGateway::start(&pool_config(&[broken.clone(), a.clone()], "")).await;
    let pool = wait_pool(&gw, "the failing replica to turn unhealthy", |p| {
        replica(p, &broken)["healthy"] == false
    })
    .await;
    let reason = replica(&pool, &broken)["reason"].as_str().expect("reason").to_string();
    assert!(
        reason.contains("metrics scrape failed") && reason.contains("HTTP 500"),
        "{reason}"
    );
    for i in 0..8 {
        let (status, rep) = ask(&gw, "llama", &format!("q{i}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(rep.as_deref(), Some(authority(&a).as_str()));
    }
    assert_eq!(chats.load(Ordering::SeqCst), 0);
    let m = gw.metrics().await;
    let gauge = format!(
        "gatehouse_pool_replica_healthy{{pool=\"pool\",replica=\"{}\"}} 0",
        authority(&broken)
    );
    assert!(m.contains(&gauge), "{m}");
    let html = gw
        .http
        .get(gw.admin("/status"))
        .send()
        .await
        .expect("status")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("unhealthy") && html.contains("metrics scrape failed"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_request_ejects_the_replica_for_the_ejection_time() {
    let (hanging, chats) = fake_replica("idle_but_chat_hangs").await;
    let a = start_sim(sim(0.01)).await;
    let urls = [hanging.clone(), a.clone()];
    let list = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    let gw = TestGateway::start(&format!(
        "providers:\n  pool:\n    kind: vllm_pool\n    endpoints: [{list}]\n    timeouts: {{ first_byte: 300ms }}\n    routing: {{ ejection_time: 1h, replica_header: {REPLICA_HEADER} }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}\nfailover: {{ max_attempts: 1 }}\n"
    ))
    .await;
    wait_pool(&gw, "first scrapes", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["stale"] == false))
    })
    .await;
    // Both replicas look idle; keep asking until one request lands on the hanging one and times out.
    let mut timed_out = false;
    for i in 0..40 {
        let (status, _) = ask(&gw, "llama", &format!("probe {i}"), None).await;
        if status == 504 {
            timed_out = true;
            break;
        }
        assert_eq!(status, 200);
    }
    assert!(timed_out, "the picker never tried the hanging replica");
    assert_eq!(chats.load(Ordering::SeqCst), 1);
    let pool = wait_pool(&gw, "ejection", |p| replica(p, &hanging)["healthy"] == false).await;
    assert_eq!(replica(&pool, &hanging)["reason"], "request failed (upstream_timeout)");
    for i in 0..8 {
        let (status, rep) = ask(&gw, "llama", &format!("after {i}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(rep.as_deref(), Some(authority(&a).as_str()));
    }
    assert_eq!(
        chats.load(Ordering::SeqCst),
        1,
        "no request reached the ejected replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_prefix_table_and_signals() {
    let a = start_sim(sim(0.01)).await;
    let b = start_sim(sim(0.01)).await;
    let urls = [a.clone(), b.clone()];
    let gw = TestGateway::start(&pool_config(&urls, "")).await;
    let prompt = "A long shared prompt that fills several blocks. ".repeat(10);
    let (status, first) = ask(&gw, "llama", &prompt, None).await;
    assert_eq!(status, 200);
    let first = first.expect("replica");
    let before = wait_pool(&gw, "prefix blocks", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["prefix_blocks"].as_u64() > Some(0)))
    })
    .await;
    // An unrelated edit (a new model) reloads the whole config.
    let text = std::fs::read_to_string(gw.config_path()).expect("read");
    let mut rx = gw.gw.state.generation.subscribe();
    std::fs::write(
        gw.config_path(),
        format!("{text}  - {{ name: extra, targets: [{{ provider: pool, model: {BASE} }}] }}\n"),
    )
    .expect("write");
    tokio::time::timeout(Duration::from_secs(10), rx.changed())
        .await
        .expect("reloaded in time")
        .expect("generation");
    assert!(
        gw.gw.state.snapshot().model("extra").is_some(),
        "the new config is live"
    );
    let after = wait_pool(&gw, "signals after reload", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["stale"] == false))
    })
    .await;
    for url in &urls {
        assert_eq!(
            replica(&after, url)["prefix_blocks"],
            replica(&before, url)["prefix_blocks"]
        );
    }
    let (_, again) = ask(&gw, "llama", &prompt, None).await;
    assert_eq!(again.as_deref(), Some(first.as_str()), "affinity survived the reload");
}
