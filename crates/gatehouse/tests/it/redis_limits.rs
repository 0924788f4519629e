//! The shared (Redis) limiter: the Lua script reproduces the pure GCRA on the same vectors, two gateways sharing one
//! Redis admit exactly the configured burst across both, and a Redis that dies mid-test gives the configured fail mode
//! and then recovers when it returns, without restarting gatehouse.
//!
//! Each test starts its own `redis-server` on a free loopback port (`GATEHOUSE_REDIS_SERVER`, else `redis-server` on
//! PATH or /usr/bin). Without one the tests say so and pass, unless GATEHOUSE_REQUIRE_INTEROP is set.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gatehouse::limit::Gcra;
use gatehouse::limit::redis::RedisLimiter;
use gatehouse::policy::keys::hash_key;
use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::{ChildGateway, TestGateway, with_defaults};

pub(crate) struct Redis {
    child: Child,
    port: u16,
    bin: PathBuf,
}

pub(crate) fn redis_binary() -> Option<PathBuf> {
    let candidates = [
        std::env::var("GATEHOUSE_REDIS_SERVER").ok().map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/redis-server")),
        Some(PathBuf::from("/usr/local/bin/redis-server")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
            "GATEHOUSE_REQUIRE_INTEROP is set but redis-server is not installed"
        );
        eprintln!("SKIPPED: redis-server is not installed (scripts/test.sh installs it)");
    }
    found
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Redis {
    pub(crate) async fn start(bin: PathBuf, port: u16) -> Self {
        let child = Command::new(&bin)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut redis = Self { child, port, bin };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        redis.kill();
        panic!("redis-server did not start on port {port}");
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn redis_script_matches_the_pure_gcra_on_shared_vectors() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let limiter = RedisLimiter::new(&redis.url(), Duration::from_secs(2)).expect("limiter");
    const MS: u64 = 1_000_000;
    // (rate per second, burst, [(advance ms, cost)]) — the same vectors drive both implementations.
    type Vector<'a> = (f64, u32, &'a [(u64, u64)]);
    let vectors: &[Vector<'_>] = &[
        (
            5.0,
            10,
            &[
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (0, 1),
                (200, 1),
                (0, 1),
                (2000, 1),
            ],
        ),
        (1.0, 1, &[(0, 1), (500, 1), (500, 1), (999, 1), (1, 1)]),
        (
            100.0,
            3000,
            &[
                (0, 1000),
                (0, 1500),
                (0, 600),
                (1000, 600),
                (3, 2),
                (0, 5000),
                (30_000, 5000),
            ],
        ),
        (0.5, 2, &[(0, 1), (0, 1), (0, 1), (1999, 1), (1, 1), (10_000, 3)]),
    ];
    for (i, (rate, burst, steps)) in vectors.iter().enumerate() {
        let g = Gcra::new(*rate, *burst).expect("gcra");
        let key = format!("vec:{i}");
        let (mut tat, mut now) = (None, 1_000 * MS);
        for (j, (advance, cost)) in steps.iter().enumerate() {
            now += advance * MS;
            let pure = g.check_n(&mut tat, now, *cost);
            let shared = limiter.check_n(&key, g, *cost, Some(now)).await.expect("redis");
            assert_eq!(pure, shared, "vector {i} step {j}");
        }
    }
}

async fn gateway(mock: &MockOpenAi, redis_url: &str, on_error: &str) -> TestGateway {
    TestGateway::start(&config(mock, redis_url, on_error)).await
}

/// One key, a shared limit of burst 5 per key through Redis.
fn config(mock: &MockOpenAi, redis_url: &str, on_error: &str) -> String {
    format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: a, sha256: "{}" }}
redis: {{ url: "{redis_url}", on_error: {on_error}, timeout: 300ms }}
limits:
  - {{ name: shared, scope: key, requests_per_minute: 1, burst: 5 }}
"#,
        mock.base_url(),
        hash_key("sk-a")
    )
}

async fn send(gw: &TestGateway) -> u16 {
    gw.chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .bearer_auth("sk-a")
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test]
async fn redis_two_gateways_share_one_burst() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let one = gateway(&mock, &redis.url(), "fail_closed").await;
    let two = gateway(&mock, &redis.url(), "fail_closed").await;
    let mut admitted = 0;
    for i in 0..12 {
        let gw = if i % 2 == 0 { &one } else { &two };
        match send(gw).await {
            200 => admitted += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(admitted, 5, "the burst of 5 holds across both replicas, not 2×5");
    assert_eq!(mock.requests().len(), 5);
}

#[tokio::test]
async fn redis_two_gatehouse_processes_share_one_burst() {
    // The deployment shape: separate gatehouse processes (the real binary), one Redis.
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut children = Vec::new();
    for name in ["one", "two"] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, with_defaults(&config(&mock, &redis.url(), "fail_closed"))).expect("write config");
        children.push(ChildGateway::spawn(&path).await);
    }
    let http = reqwest::Client::new();
    let mut admitted = 0;
    for i in 0..12 {
        let child = &children[i % 2];
        let status = http
            .post(format!("http://{}/v1/chat/completions", child.data))
            .bearer_auth("sk-a")
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("send")
            .status()
            .as_u16();
        match status {
            200 => admitted += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(admitted, 5, "the burst of 5 holds across both processes, not 2×5");
    assert_eq!(mock.requests().len(), 5);
}

#[tokio::test]
async fn redis_failure_follows_the_fail_mode_and_recovers() {
    let Some(bin) = redis_binary() else { return };
    let port = free_port();
    let mut redis = Redis::start(bin, port).await;
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let closed = gateway(&mock, &redis.url(), "fail_closed").await;
    let open = gateway(&mock, &redis.url(), "fail_open").await;
    assert_eq!(send(&closed).await, 200);
    redis.kill();
    // fail_closed: 503 limiter_unavailable; fail_open: served without the limit.
    let r = closed
        .chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .bearer_auth("sk-a")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "limiter_unavailable");
    for _ in 0..7 {
        assert_eq!(
            send(&open).await,
            200,
            "fail_open admits past the burst while Redis is down"
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
    // Redis back on the same port (empty): both gateways recover without a restart.
    let bin = redis.bin.clone();
    let _redis = Redis::start(bin, port).await;
    let mut recovered = false;
    for _ in 0..50 {
        if send(&closed).await == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "fail_closed gateway did not recover after Redis returned");
    // Enforced again: the fresh bucket allows 5 in all (one used above), then refuses.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(send(&closed).await);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 4, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429));
}

#[tokio::test]
async fn redis_budget_is_shared_by_two_gateways() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    // $1 per output token; each reply has 2 output tokens and asks for max_tokens 2: estimate = real = $2.
    let mock = MockOpenAi::builder().reply(Reply::chat("a b")).start().await;
    let yaml = format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: a, sha256: "{}" }}
redis: {{ url: "{}", on_error: fail_closed }}
pricing:
  models:
    m: {{ input: 0, output: 1000000 }}
budgets:
  - {{ name: daily, scope: key, period: day, limit_usd: 5 }}
"#,
        mock.base_url(),
        hash_key("sk-a"),
        redis.url()
    );
    let one = TestGateway::start(&yaml).await;
    let two = TestGateway::start(&yaml).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let gw = if i % 2 == 0 { &one } else { &two };
        let r = gw
            .chat(json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}))
            .bearer_auth("sk-a")
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        if status == 429 {
            let v: serde_json::Value = r.json().await.expect("json");
            assert_eq!(v["error"]["code"], "budget_exceeded");
        } else {
            let _ = r.text().await;
        }
        statuses.push(status);
    }
    // $0, $2, $4 are below $5 across both replicas: three admitted in all, not three each.
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3, "{statuses:?}");
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn redis_token_limit_is_settled_in_the_shared_bucket() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("w ".repeat(3000)))
        .start()
        .await;
    let yaml = format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: a, sha256: "{}" }}
redis: {{ url: "{}", on_error: fail_closed }}
limits:
  - {{ name: tpm, scope: key, tokens_per_minute: 6000 }}
"#,
        mock.base_url(),
        hash_key("sk-a"),
        redis.url()
    );
    let one = TestGateway::start(&yaml).await;
    let two = TestGateway::start(&yaml).await;
    let send = |gw: &TestGateway| {
        gw.chat(json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
            .bearer_auth("sk-a")
            .send()
    };
    let remaining = |r: &reqwest::Response| -> i64 {
        r.headers()
            .get("x-ratelimit-remaining-tokens")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("remaining tokens header")
    };
    let r = send(&one).await.expect("send");
    assert_eq!(r.status(), 200);
    let rem1 = remaining(&r);
    assert!((5950..6000).contains(&rem1), "pre-charged estimate only: {rem1}");
    let _ = r.text().await;
    let log = one.next_log().await;
    let used = log["input_tokens"].as_i64().expect("in") + log["output_tokens"].as_i64().expect("out");
    assert!(used > 3000);
    mock.set_reply(Reply::chat("ok"));
    // The settlement runs in the background; the other replica sees the debt once it has landed.
    let mut seen = None;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = send(&two).await.expect("send");
        assert_eq!(r.status(), 200);
        let rem = remaining(&r);
        let _ = r.text().await;
        if rem < 6000 - used + 300 {
            seen = Some(rem);
            break;
        }
    }
    assert!(seen.is_some(), "replica two never saw replica one's real usage");
}

#[tokio::test]
async fn redis_concurrency_slots_are_shared_and_released() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let mock = MockOpenAi::builder()
        .reply(Reply::delay(Duration::from_millis(600), Reply::chat("hi")))
        .start()
        .await;
    let yaml = format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: a, sha256: "{}" }}
redis: {{ url: "{}", on_error: fail_closed }}
limits:
  - {{ name: one, scope: key, concurrent: 1 }}
"#,
        mock.base_url(),
        hash_key("sk-a"),
        redis.url()
    );
    let one = TestGateway::start(&yaml).await;
    let two = TestGateway::start(&yaml).await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let first = {
        let req = one.chat(body.clone()).bearer_auth("sk-a");
        tokio::spawn(async move { req.send().await.expect("send").status().as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = two.chat(body.clone()).bearer_auth("sk-a").send().await.expect("send");
    assert_eq!(r.status(), 429, "the other replica sees the slot taken");
    assert_eq!(first.await.expect("join"), 200);
    let mut freed = false;
    for _ in 0..20 {
        if two
            .chat(body.clone())
            .bearer_auth("sk-a")
            .send()
            .await
            .expect("send")
            .status()
            == 200
        {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "the slot was released in Redis");
}

/// Each Redis limiter call made for a request is a CLIENT span (`db.system.name = redis`) under the request's span.
#[tokio::test]
async fn redis_limiter_calls_are_traced_under_the_request_span() {
    let Some(bin) = redis_binary() else { return };
    let redis = Redis::start(bin, free_port()).await;
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let receiver = testkit::OtlpReceiver::start().await;
    let yaml = format!(
        "{}telemetry: {{ access_log: off, traces: {{ endpoint: \"{}\", export_interval: 50ms }} }}\n",
        config(&mock, &redis.url(), "fail_closed"),
        receiver.url()
    );
    let gw = TestGateway::start(&yaml).await;
    assert_eq!(send(&gw).await, 200);
    let spans = receiver
        .wait_for(|s| s.iter().any(|s| s.name == "EVALSHA") && s.iter().any(|s| s.kind == "SERVER"))
        .await;
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server span");
    let redis_span = spans.iter().find(|s| s.name == "EVALSHA").expect("redis span");
    assert_eq!(redis_span.kind, "CLIENT");
    assert_eq!(redis_span.trace_id, server.trace_id);
    assert_eq!(redis_span.parent_span_id, server.span_id);
    assert_eq!(redis_span.str("db.system.name"), Some("redis"));
    assert_eq!(redis_span.str("gatehouse.purpose"), Some("rate_limit"));
    assert!(!redis_span.error);
}
