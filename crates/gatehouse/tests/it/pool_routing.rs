//! Inference-aware routing of a `vllm_pool` against real in-process `vllm-sim` replicas (and, where a replica must
//! misbehave in a way the simulator does not, a small fake replica that checks what it receives).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestGateway;

const BASE: &str = "meta-llama/Llama-3.1-8B-Instruct";
const REPLICA_HEADER: &str = "x-gatehouse-replica";

async fn start_sim(opts: vllm_sim::SimOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = vllm_sim::serve(listener, opts).await;
    });
    format!("http://{addr}")
}

fn sim(time_scale: f64) -> vllm_sim::SimOptions {
    vllm_sim::SimOptions {
        time_scale,
        ..vllm_sim::SimOptions::default()
    }
}

fn authority(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// A pool config over `urls` with the replica header on; `routing` is extra YAML inside `routing:`.
fn pool_config(urls: &[String], routing: &str) -> String {
    let list = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "providers:\n  pool:\n    kind: vllm_pool\n    endpoints: [{list}]\n    routing:\n      replica_header: {REPLICA_HEADER}\n{routing}\
         models:\n  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}\n  - {{ name: sql, targets: [{{ provider: pool, model: sql-lora }}] }}\n  - {{ name: tweet, targets: [{{ provider: pool, model: tweet-lora }}] }}\n"
    )
}

/// Polls `/status` until `pred` holds for the pool (up to 10 s).
async fn wait_pool(gw: &TestGateway, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s: Value = gw
            .http
            .get(gw.admin("/status?format=json"))
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        let pool = s["pools"][0].clone();
        if pred(&pool) {
            return pool;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {pool:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn replica<'a>(pool: &'a Value, url: &str) -> &'a Value {
    pool["replicas"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["url"] == url))
        .expect("replica listed")
}

/// Sends a chat request through the gateway and returns (status, replica that served it).
async fn ask(gw: &TestGateway, model: &str, content: &str, objective: Option<&str>) -> (u16, Option<String>) {
    let mut req = gw.chat(json!({"model": model, "max_tokens": 2, "messages": [{"role": "user", "content": content}]}));
    if let Some(o) = objective {
        req = req.header("x-gateway-inference-objective", o);
    }
    let r = req.send().await.expect("send");
    let replica = r
        .headers()
        .get(REPLICA_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    (status, replica)
}

/// Starts `n` long streaming requests directly on a replica (bypassing the gateway) and leaves them running.
fn load_directly(url: &str, model: &str, n: usize, max_tokens: u32) {
    for i in 0..n {
        let url = format!("{url}/v1/chat/completions");
        let body = json!({"model": model, "max_tokens": max_tokens, "stream": true,
            "messages": [{"role": "user", "content": format!("background load {i}")}]});
        tokio::spawn(async move {
            if let Ok(mut r) = reqwest::Client::new().post(url).json(&body).send().await {
                while let Ok(Some(_)) = r.chunk().await {}
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_replica_is_avoided() {
    let busy_opts = vllm_sim::SimOptions {
        max_num_seqs: 1,
        ..sim(0.2)
    };
    let busy = start_sim(busy_opts).await;
    let a = start_sim(sim(0.01)).await;
    let b = start_sim(sim(0.01)).await;
    let urls = [busy.clone(), a.clone(), b.clone()];
    let gw = TestGateway::start(&pool_config(&urls, "")).await;
    load_directly(&busy, BASE, 6, 3000);
    let pool = wait_pool(&gw, "the busy replica's queue in /status", |p| {
        replica(p, &busy)["waiting"].as_f64().unwrap_or(0.0) >= 3.0
    })
    .await;
    assert_eq!(
        pool["strategy"], "inference",
        "inference is the default picker for vllm_pool"
    );
    let r = replica(&pool, &busy);
    assert_eq!(r["healthy"], true);
    assert_eq!(r["running"], 1.0);
    assert!(r["metrics_age_ms"].as_u64().expect("age") < 200, "{r}");
    let mut served = HashMap::new();
    for i in 0..12 {
        let (status, rep) = ask(&gw, "llama", &format!("question {i}"), None).await;
        assert_eq!(status, 200);
        *served.entry(rep.expect("replica header")).or_insert(0) += 1;
    }
    assert!(!served.contains_key(&authority(&busy)), "{served:?}");
    let m = gw.metrics().await;
    let waiting = format!(
        "gatehouse_pool_replica_waiting{{pool=\"pool\",replica=\"{}\"}}",
        authority(&busy)
    );
    assert!(m.contains(&waiting), "{m}");
    assert!(m.contains("gatehouse_pool_picks_total{pool=\"pool\""), "{m}");
    assert!(
        m.contains("gatehouse_pool_decision_seconds_count{pool=\"pool\",strategy=\"inference\"} 12"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_prefix_prompts_stick_to_one_replica_while_load_spreads() {
    let mut urls = Vec::new();
    for _ in 0..3 {
        urls.push(start_sim(sim(0.05)).await);
    }
    let gw = Arc::new(TestGateway::start(&pool_config(&urls, "")).await);
    wait_pool(&gw, "first scrapes", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["stale"] == false))
    })
    .await;
    let groups = 6;
    let system: Vec<String> = (0..groups)
        .map(|g| format!("You are assistant number {g}. ").repeat(60))
        .collect();
    let mut by_group: Vec<Vec<String>> = vec![Vec::new(); groups];
    for round in 0..4 {
        // One request per group at once: load exists while affinity decides.
        let mut tasks = Vec::new();
        for (g, sys) in system.iter().enumerate() {
            let gw = gw.clone();
            let body = json!({"model": "llama", "max_tokens": 8, "messages": [
                {"role": "system", "content": sys},
                {"role": "user", "content": format!("user {round} asks question {g}")}]});
            tasks.push(tokio::spawn(async move {
                let r = gw.chat(body).send().await.expect("send");
                assert_eq!(r.status(), 200);
                r.headers()
                    .get(REPLICA_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
                    .expect("replica header")
            }));
        }
        for (g, t) in tasks.into_iter().enumerate() {
            by_group[g].push(t.await.expect("join"));
        }
    }
    let mut per_replica: HashMap<&str, usize> = HashMap::new();
    for (g, reps) in by_group.iter().enumerate() {
        assert!(reps.iter().all(|r| *r == reps[0]), "group {g} moved: {reps:?}");
        *per_replica.entry(reps[0].as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        per_replica.len(),
        3,
        "groups spread over every replica: {per_replica:?}"
    );
    assert!(per_replica.values().all(|n| *n <= 3), "{per_replica:?}");
    let m = gw.metrics().await;
    assert!(m.contains("reason=\"prefix_hit\""), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_prefix_does_not_pile_on_one_replica() {
    let opts = vllm_sim::SimOptions {
        max_num_seqs: 2,
        ..sim(0.1)
    };
    let mut urls = Vec::new();
    for _ in 0..3 {
        urls.push(start_sim(opts.clone()).await);
    }
    let gw = Arc::new(TestGateway::start(&pool_config(&urls, "")).await);
    wait_pool(&gw, "first scrapes", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["stale"] == false))
    })
    .await;
    let hot = "The one system prompt everybody shares. ".repeat(80);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let gw = gw.clone();
        let body = json!({"model": "llama", "max_tokens": 20, "messages": [
            {"role": "system", "content": hot}, {"role": "user", "content": format!("q{i}")}]});
        tasks.push(tokio::spawn(async move {
            let r = gw.chat(body).send().await.expect("send");
            assert_eq!(r.status(), 200);
            r.headers()
                .get(REPLICA_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .expect("replica header")
        }));
    }
    let mut per_replica: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        *per_replica.entry(t.await.expect("join")).or_insert(0) += 1;
    }
    assert_eq!(per_replica.len(), 3, "{per_replica:?}");
    assert!(
        per_replica.values().all(|n| *n <= 15),
        "one replica took half or more: {per_replica:?}"
    );
}

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
async fn saturated_pool_sheds_negative_priority_and_serves_the_rest() {
    let opts = vllm_sim::SimOptions {
        max_num_seqs: 1,
        ..sim(0.1)
    };
    let a = start_sim(opts.clone()).await;
    let b = start_sim(opts).await;
    let routing = "      saturation: { queue_threshold: 2 }\n      shed_retry_after: 3s\n      objectives: { batch: -1, chat: 10 }\n";
    let gw = TestGateway::start(&pool_config(&[a.clone(), b.clone()], routing)).await;
    load_directly(&a, BASE, 4, 400);
    load_directly(&b, BASE, 4, 400);
    wait_pool(&gw, "saturation", |p| p["saturated"] == true).await;
    let (status, _) = ask(&gw, "llama", "batch job", Some("batch")).await;
    assert_eq!(status, 429);
    let r = gw
        .chat(json!({"model": "llama", "max_tokens": 2, "messages": [{"role": "user", "content": "batch"}]}))
        .header("x-gateway-inference-objective", "batch")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("3"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "pool_saturated");
    // Priority ≥ 0 (declared, unknown, or no objective) still queues and is served.
    for objective in [Some("chat"), Some("unknown-objective"), None] {
        let (status, rep) = ask(&gw, "llama", "important", objective).await;
        assert_eq!(status, 200, "{objective:?}");
        assert!(rep.is_some());
    }
    let m = gw.metrics().await;
    assert!(
        m.contains("gatehouse_pool_shed_total{pool=\"pool\",priority=\"-1\"} 2"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lora_requests_go_where_the_adapter_is_loaded() {
    let opts = vllm_sim::SimOptions {
        lora: vec!["sql-lora".into(), "tweet-lora".into()],
        max_loras: 1,
        ..sim(0.2)
    };
    let sql = start_sim(opts.clone()).await;
    let tweet_a = start_sim(opts.clone()).await;
    let tweet_b = start_sim(opts).await;
    let gw = TestGateway::start(&pool_config(&[sql.clone(), tweet_a.clone(), tweet_b.clone()], "")).await;
    load_directly(&sql, "sql-lora", 1, 3000);
    load_directly(&tweet_a, "tweet-lora", 1, 3000);
    load_directly(&tweet_b, "tweet-lora", 1, 3000);
    wait_pool(&gw, "adapters running", |p| {
        replica(p, &sql)["lora_running"] == json!(["sql-lora"])
            && replica(p, &tweet_a)["lora_running"] == json!(["tweet-lora"])
            && replica(p, &tweet_b)["lora_running"] == json!(["tweet-lora"])
    })
    .await;
    for i in 0..6 {
        let (status, rep) = ask(&gw, "sql", &format!("select {i}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(
            rep.as_deref(),
            Some(authority(&sql).as_str()),
            "sql-lora is loaded only there"
        );
    }
    let mut tweet = HashMap::new();
    for i in 0..8 {
        let (status, rep) = ask(&gw, "tweet", &format!("tweet number {i} about something else"), None).await;
        assert_eq!(status, 200);
        let rep = rep.expect("replica");
        assert_ne!(rep, authority(&sql), "sql replica has no room for tweet-lora");
        *tweet.entry(rep).or_insert(0) += 1;
    }
    assert!(!tweet.is_empty());
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
