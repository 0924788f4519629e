//! Inference-aware routing of a `vllm_pool` against real in-process `vllm-sim` replicas (and, where a replica must
//! misbehave in a way the simulator does not, a small fake replica that checks what it receives).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestGateway;

pub(crate) const BASE: &str = "meta-llama/Llama-3.1-8B-Instruct";
pub(crate) const REPLICA_HEADER: &str = "x-gatehouse-replica";

pub(crate) async fn start_sim(opts: vllm_sim::SimOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = vllm_sim::serve(listener, opts).await;
    });
    format!("http://{addr}")
}

pub(crate) fn sim(time_scale: f64) -> vllm_sim::SimOptions {
    vllm_sim::SimOptions {
        time_scale,
        ..vllm_sim::SimOptions::default()
    }
}

pub(crate) fn authority(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// A pool config over `urls` with the replica header on; `routing` is extra YAML inside `routing:`.
pub(crate) fn pool_config(urls: &[String], routing: &str) -> String {
    let list = urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "providers:\n  pool:\n    kind: vllm_pool\n    endpoints: [{list}]\n    routing:\n      replica_header: {REPLICA_HEADER}\n{routing}\
         models:\n  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}\n  - {{ name: sql, targets: [{{ provider: pool, model: sql-lora }}] }}\n  - {{ name: tweet, targets: [{{ provider: pool, model: tweet-lora }}] }}\n"
    )
}

/// Polls `/status` until `pred` holds for the pool (up to 10 s).
pub(crate) async fn wait_pool(gw: &TestGateway, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
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

pub(crate) fn replica<'a>(pool: &'a Value, url: &str) -> &'a Value {
    pool["replicas"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["url"] == url))
        .expect("replica listed")
}

/// Sends a chat request through the gateway and returns (status, replica that served it).
pub(crate) async fn ask(
    gw: &TestGateway,
    model: &str,
    content: &str,
    objective: Option<&str>,
) -> (u16, Option<String>) {
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
    // One running and up to seven waiting per replica: saturated (waiting ≥ 2) for ~2.5 s.
    load_directly(&a, BASE, 8, 400);
    load_directly(&b, BASE, 8, 400);
    // Saturated on fresh figures: before the first scrape every replica is unknown, which also counts as saturated,
    // and the load may not have reached the replicas yet.
    wait_pool(&gw, "saturation on fresh metrics", |p| {
        p["saturated"] == true
            && p["replicas"].as_array().is_some_and(|r| {
                r.iter()
                    .all(|r| r["stale"] == false && r["waiting"].as_f64() >= Some(2.0))
            })
    })
    .await;
    // One shed request checked whole (status, Retry-After, code): the saturated window is short on a busy machine.
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
        m.contains("gatehouse_pool_shed_total{pool=\"pool\",priority=\"-1\"} 1"),
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
    // A generous staleness bound: on a loaded CI machine a scrape can be late, and an unknown LoRA signal would make
    // the pick a coin toss (this test is about affinity, not staleness, which has its own test).
    let gw = TestGateway::start(&pool_config(
        &[sql.clone(), tweet_a.clone(), tweet_b.clone()],
        "      staleness: 5s\n",
    ))
    .await;
    load_directly(&sql, "sql-lora", 1, 3000);
    load_directly(&tweet_a, "tweet-lora", 1, 3000);
    load_directly(&tweet_b, "tweet-lora", 1, 3000);
    wait_pool(&gw, "adapters running", |p| {
        replica(p, &sql)["lora_running"] == json!(["sql-lora"])
            && replica(p, &tweet_a)["lora_running"] == json!(["tweet-lora"])
            && replica(p, &tweet_b)["lora_running"] == json!(["tweet-lora"])
    })
    .await;
    // Affinity is a weighted score next to queue and KV load, not a hard filter, so on a loaded machine (CI) a
    // stale or noisy load signal can tip one pick; round robin would put 2 of 6 here, affinity nearly all.
    let mut on_sql = 0;
    for i in 0..6 {
        let (status, rep) = ask(&gw, "sql", &format!("select {i}"), None).await;
        assert_eq!(status, 200);
        if rep.as_deref() == Some(authority(&sql).as_str()) {
            on_sql += 1;
        }
    }
    assert!(
        on_sql >= 5,
        "sql-lora is loaded only on one replica, yet {on_sql} of 6 went there"
    );
    let mut tweet = HashMap::new();
    for i in 0..8 {
        let (status, rep) = ask(&gw, "tweet", &format!("tweet number {i} about something else"), None).await;
        assert_eq!(status, 200);
        let rep = rep.expect("replica");
        *tweet.entry(rep).or_insert(0) += 1;
    }
    let on_sql_for_tweet = tweet.get(&authority(&sql)).copied().unwrap_or(0);
    assert!(
        on_sql_for_tweet <= 1,
        "the sql replica has no room for tweet-lora, yet {on_sql_for_tweet} of 8 went there: {tweet:?}"
    );
    assert!(!tweet.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_split_sends_a_canary_share_to_the_new_adapter() {
    let opts = vllm_sim::SimOptions {
        lora: vec!["sql-v1".into(), "sql-v2".into()],
        ..sim(0.0)
    };
    let a = start_sim(opts.clone()).await;
    let b = start_sim(opts).await;
    let gw = Arc::new(
        TestGateway::start(&format!(
            "providers:\n  pool: {{ kind: vllm_pool, endpoints: [\"{a}\", \"{b}\"] }}\nmodels:\n  - name: sql\n    targets:\n      - provider: pool\n        split: [{{ model: sql-v1, weight: 80 }}, {{ model: sql-v2, weight: 20 }}, {{ model: sql-v0, weight: 0 }}]\n"
        ))
        .await,
    );
    let mut counts: HashMap<String, usize> = HashMap::new();
    for i in 0..200 {
        let r = gw
            .chat(json!({"model": "sql", "max_tokens": 1, "messages": [{"role": "user", "content": format!("q{i}")}]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("json");
        // vllm-sim answers with the model it was asked for: the adapter the gateway chose.
        *counts
            .entry(v["model"].as_str().expect("model").to_string())
            .or_insert(0) += 1;
    }
    let v1 = counts.get("sql-v1").copied().unwrap_or(0);
    let v2 = counts.get("sql-v2").copied().unwrap_or(0);
    assert_eq!(v1 + v2, 200, "weight 0 is never chosen: {counts:?}");
    // Binomial(200, 0.2): mean 40, sd ≈ 5.7; ±5 sd.
    assert!((12..=68).contains(&v2), "{counts:?}");
}

/// Starts a streamed chat request through the gateway and returns it once its first chunk (the first token) is
/// here, with the replica that serves it; the stream is left open.
async fn stream_until_first_token(gw: &TestGateway, content: &str) -> (reqwest::Response, String) {
    let mut r = gw
        .chat(json!({"model": "llama", "stream": true, "max_tokens": 3000,
            "messages": [{"role": "user", "content": content}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let replica = r.headers()[REPLICA_HEADER].to_str().expect("ascii").to_string();
    let first = r.chunk().await.expect("first chunk").expect("a chunk before the end");
    assert!(!first.is_empty());
    (r, replica)
}

/// The low-load tail `bench/ROUTING.md` measured: a request sent to a replica that is still prefilling another one
/// waits for that prefill. With two replicas where the one with *fewer* requests in flight is prefilling a long
/// prompt, the default queue signal (`awaiting_first_token`) sends the next requests to the other one; counting
/// requests in flight (`in_flight_when_idle`, the control) sends them to the prefilling replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_prefilling_a_long_prompt_gets_no_second_request_at_low_load() {
    for (signal, avoids_the_prefill) in [("awaiting_first_token", true), ("in_flight_when_idle", false)] {
        prefill_collision(signal, avoids_the_prefill).await;
    }
}

async fn prefill_collision(signal: &str, avoids_the_prefill: bool) {
    let opts = || vllm_sim::SimOptions {
        prefill_ms_per_token: 1.0,
        num_gpu_blocks: 20_000,
        ..sim(1.0)
    };
    let urls = [start_sim(opts()).await, start_sim(opts()).await];
    let gw = TestGateway::start(&pool_config(&urls, &format!("      queue_signal: {signal}\n"))).await;
    wait_pool(&gw, "both replicas scraped", |p| {
        p["replicas"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["stale"] == false))
    })
    .await;
    // Three long decodes spread by in-flight count (2 + 1); closing the lone one leaves 2 + 0.
    let mut open = Vec::new();
    for i in 0..3 {
        open.push(stream_until_first_token(&gw, &format!("decode for a while {i}")).await);
    }
    let lone = open
        .iter()
        .position(|(_, r)| open.iter().filter(|(_, o)| o == r).count() == 1)
        .expect("spread 2 + 1 by in-flight count");
    let (_, idle) = open.remove(lone);
    let busy = open[0].1.clone();
    assert!(open.iter().all(|(_, r)| *r == busy) && busy != idle);
    // A ~3,000-token prompt (≈ 3 s of prefill here) goes to the idle replica.
    let long_prompt = (0..3000).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    let long = gw
        .chat(json!({"model": "llama", "stream": true, "max_tokens": 2,
            "messages": [{"role": "user", "content": long_prompt}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        long.headers()[REPLICA_HEADER],
        idle.as_str(),
        "the long prompt goes where nothing runs"
    );
    wait_pool(
        &gw,
        "the scrapes see one prefill on one replica and two decodes on the other",
        |p| {
            let (i, b) = (
                replica(p, &format!("http://{idle}")),
                replica(p, &format!("http://{busy}")),
            );
            i["running"].as_f64() == Some(1.0)
                && i["awaiting_first_token"] == 1
                && i["in_flight"] == 1
                && b["running"].as_f64() == Some(2.0)
                && b["in_flight"] == 2
        },
    )
    .await;
    let expected = if avoids_the_prefill { &busy } else { &idle };
    for i in 0..3 {
        let (status, served) = ask(&gw, "llama", &format!("short question {i}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(served.as_deref(), Some(expected.as_str()), "{signal}: request {i}");
    }
    drop((open, long));
}
