//! Warm fallback: active health probes (non-billed, with hysteresis), warm standby connections, priority groups
//! with weights, a killed primary restored on the same port winning its traffic back by probe, the `/status`
//! fallback section, probes restarted on reload, and a bounded load while the primary dies and returns.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic, MockOpenAi, Reply};

use crate::support::{TestGateway, with_defaults};

fn chat_body(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

async fn ok_mock(text: &str) -> MockOpenAi {
    MockOpenAi::builder().reply(Reply::chat(text)).start().await
}

/// Primary and secondary, both probed with `health` (a YAML flow mapping), `extra` appended.
fn probed_pair(primary: &str, secondary: &str, health: &str, extra: &str) -> String {
    format!(
        r#"
providers:
  primary:
    kind: openai_compatible
    base_url: {primary}
    health: {health}
  secondary:
    kind: openai_compatible
    base_url: {secondary}
    health: {health}
models:
  - name: m
    targets: [{{ provider: primary }}, {{ provider: secondary }}]
{extra}
"#
    )
}

/// Sends one chat; returns (status, served-by header, attempts header, body text).
async fn send(gw: &TestGateway, stream: bool) -> (u16, String, String, String) {
    let r = gw.chat(chat_body(stream)).send().await.expect("send");
    let status = r.status().as_u16();
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (target, attempts) = (h("x-gatehouse-target"), h("x-gatehouse-attempts"));
    (status, target, attempts, r.text().await.unwrap_or_default())
}

async fn status_json(gw: &TestGateway) -> Value {
    gw.http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json")
}

/// The fallback entry of `provider` for model `m` on `/status`.
fn fallback_target<'a>(status: &'a Value, provider: &str) -> &'a Value {
    status["fallback"][0]["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["provider"] == provider)
        .expect("target listed")
}

/// Polls `/status` until `pred` holds (the state is set by the probe task; there is no event to subscribe to from
/// outside the process), for at most 20 s.
async fn wait_status(gw: &TestGateway, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = status_json(gw).await;
        if pred(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {s:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn probe_state(s: &Value, provider: &str) -> String {
    fallback_target(s, provider)["health"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every request the probes could have made is a GET of the models list; POSTs are real traffic only.
fn assert_only_models_gets(mock: &MockOpenAi, expected_posts: usize) {
    let sent = mock.requests();
    let posts: Vec<_> = sent.iter().filter(|r| r.method == http::Method::POST).collect();
    for r in &sent {
        assert!(
            (r.method == http::Method::GET && r.path == "/v1/models")
                || (r.method == http::Method::POST && r.path == "/v1/chat/completions"),
            "unexpected upstream call {} {}",
            r.method,
            r.path
        );
        assert!(r.rejection.is_none(), "{:?}", r.rejection);
    }
    assert_eq!(
        posts.len(),
        expected_posts,
        "completions = client requests routed here, none from probes"
    );
}

#[tokio::test]
async fn a_killed_primary_restored_on_its_port_gets_traffic_back_after_the_healthy_threshold() {
    let primary = ok_mock("primary").await;
    let addr = primary.addr();
    let secondary = ok_mock("secondary").await;
    let health = "{ interval: 50ms, timeout: 40ms, healthy_threshold: 2, unhealthy_threshold: 2 }";
    let gw = TestGateway::start(&probed_pair(&primary.base_url(), &secondary.base_url(), health, "")).await;
    let (status, target, _, _) = send(&gw, false).await;
    assert_eq!((status, target.as_str()), (200, "primary"));
    primary.wait_for_requests(3).await;
    assert_only_models_gets(&primary, 1);

    // Killed: the probes fail twice in a row and take it out of rotation before any request has to fail.
    drop(primary);
    let s = wait_status(&gw, "primary unhealthy", |s| probe_state(s, "primary") == "unhealthy").await;
    let t = fallback_target(&s, "primary");
    assert_eq!(t["in_rotation"], false);
    assert!(
        t["health"]["probe"]["consecutive_failures"].as_u64().expect("n") >= 2,
        "{t}"
    );
    assert_eq!(t["health"]["probe"]["last"]["ok"], false, "{t}");
    assert!(
        t["health"]["reason"]
            .as_str()
            .expect("reason")
            .starts_with("active probes failing"),
        "{t}"
    );
    assert_eq!(s["fallback"][0]["serving"], "secondary");
    assert!(
        s["fallback"][0]["why"]
            .as_str()
            .expect("why")
            .starts_with("preferred targets out of rotation: primary"),
        "{s}"
    );
    assert_eq!(s["models"][0]["serving"], "secondary");
    for _ in 0..3 {
        let (status, target, attempts, _) = send(&gw, false).await;
        assert_eq!(
            (status, target.as_str(), attempts.as_str()),
            (200, "secondary", "1"),
            "skipped, not tried"
        );
    }
    let metrics = gw.metrics().await;
    for needle in [
        "gatehouse_target_health{provider=\"primary\"} 0",
        "gatehouse_target_health_transitions_total{provider=\"primary\",to=\"unhealthy\",source=\"probe\"} 1",
        "gatehouse_target_ejections_total{provider=\"primary\",reason=\"probe_failures\"} 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    let html = gw
        .http
        .get(gw.admin("/status"))
        .send()
        .await
        .expect("html")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains("<h2>Fallback</h2>") && html.contains("last probe"),
        "{html}"
    );
    assert!(html.contains("unhealthy: active probes failing"), "{html}");

    // Restored on the same port: after two passing probes it is back, and traffic with it.
    let restored = MockOpenAi::builder()
        .reply(Reply::chat("primary again"))
        .bind(addr)
        .start()
        .await;
    let s = wait_status(&gw, "primary healthy", |s| probe_state(s, "primary") == "healthy").await;
    let probe = &fallback_target(&s, "primary")["health"]["probe"];
    assert!(probe["consecutive_successes"].as_u64().expect("n") >= 2, "{probe}");
    assert_eq!(probe["last"]["ok"], true);
    assert!(probe["last"]["at_unix_ms"].as_u64().expect("time") > 0);
    assert_eq!(s["fallback"][0]["serving"], "primary");
    for _ in 0..3 {
        let (status, target, attempts, body) = send(&gw, false).await;
        assert_eq!((status, target.as_str(), attempts.as_str()), (200, "primary", "1"));
        assert!(body.contains("primary again"), "{body}");
    }
    assert_only_models_gets(&restored, 3);
    assert!(
        restored
            .requests()
            .iter()
            .filter(|r| r.method == http::Method::GET)
            .count()
            >= 2,
        "the recovery came from probes"
    );
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("gatehouse_target_health{provider=\"primary\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "gatehouse_target_health_transitions_total{provider=\"primary\",to=\"healthy\",source=\"probe\"} 1"
        ),
        "{metrics}"
    );
    assert_only_models_gets(&secondary, 3);
}

#[tokio::test]
async fn the_first_failover_request_reuses_the_standby_connection_the_probes_keep_warm() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(
            503,
            json!({"error": {"message": "down", "type": "server_error"}}),
        ))
        .start()
        .await;
    let standby = ok_mock("warm").await;
    let cold = ok_mock("cold").await;
    // Probed every 2 s (the first probe at start); `cold` is the same standby without probes, as a control.
    let yaml = format!(
        r#"
providers:
  primary: {{ kind: openai_compatible, base_url: "{}" }}
  standby: {{ kind: openai_compatible, base_url: "{}", health: {{ interval: 2s }} }}
  cold: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - name: m
    targets: [{{ provider: primary }}, {{ provider: standby }}]
  - name: c
    targets: [{{ provider: primary }}, {{ provider: cold }}]
"#,
        primary.base_url(),
        standby.base_url(),
        cold.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    // Once the first probe's result is recorded its answer was read to the end: the connection is idle in the pool.
    wait_status(&gw, "the standby's first probe", |s| {
        s["fallback"][0]["targets"][1]["health"]["probe"]["last"]["ok"] == true
    })
    .await;
    assert_eq!(standby.connections(), 1, "the probe opened one connection");
    let (status, target, attempts, body) = send(&gw, false).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "standby", "2"));
    assert!(body.contains("warm"));
    assert_eq!(
        standby.connections(),
        1,
        "the failover request rode the probe's pooled connection: no new TCP (or TLS) handshake"
    );
    assert_only_models_gets(&standby, 1);

    // Control: the unprobed standby has no connection until the failover request opens one.
    assert_eq!(cold.connections(), 0);
    let r = gw
        .chat(json!({"model": "c", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(cold.connections(), 1, "a cold standby pays a new connection");
}

#[tokio::test]
async fn priority_groups_share_traffic_by_weight_and_fall_to_the_next_group() {
    let a = ok_mock("a").await;
    let b = ok_mock("b").await;
    let c = ok_mock("c").await;
    let yaml = format!(
        r#"
providers:
  a: {{ kind: openai_compatible, base_url: "{}" }}
  b: {{ kind: openai_compatible, base_url: "{}" }}
  c: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - name: m
    targets:
      - {{ provider: a, priority: 0, weight: 3 }}
      - {{ provider: b, priority: 0, weight: 1 }}
      - {{ provider: c, priority: 1 }}
failover: {{ ejection_threshold: 1, ejection_base: 1m }}
"#,
        a.base_url(),
        b.base_url(),
        c.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    for _ in 0..200 {
        assert_eq!(send(&gw, false).await.0, 200);
    }
    let (na, nb, nc) = (a.requests().len(), b.requests().len(), c.requests().len());
    // Expected 150 / 50 / 0; the bounds are wide (binomial, 200 draws) but exclude an even split and strict order.
    assert!((115..=180).contains(&na), "a: {na}, b: {nb}");
    assert_eq!(na + nb, 200);
    assert_eq!(nc, 0, "the second group takes nothing while the first is healthy");
    let s = status_json(&gw).await;
    assert_eq!(s["fallback"][0]["serving"], "a");
    assert_eq!(s["fallback"][0]["group"], json!(["a", "b"]));

    // The whole first group fails: requests fail over inside it, then to the next group; once both are ejected
    // the next group serves at the first attempt.
    let err = Reply::status(500, json!({"error": {"message": "x", "type": "server_error"}}));
    a.set_reply(err.clone());
    b.set_reply(err);
    for _ in 0..2 {
        let (status, target, _, _) = send(&gw, false).await;
        assert_eq!((status, target.as_str()), (200, "c"));
    }
    for _ in 0..5 {
        let (status, target, attempts, _) = send(&gw, false).await;
        assert_eq!((status, target.as_str(), attempts.as_str()), (200, "c", "1"));
    }
    let s = status_json(&gw).await;
    assert_eq!(s["fallback"][0]["serving"], "c");
    assert_eq!(probe_state(&s, "a"), "ejected");
}

#[tokio::test]
async fn probes_of_anthropic_azure_and_gemini_targets_are_models_lists_the_strict_mocks_accept() {
    let claude = MockAnthropic::builder()
        .api_key("sk-ant")
        .reply(AnthropicReply::message("never"))
        .start()
        .await;
    let azure = MockOpenAi::builder()
        .azure("2024-10-21", &["gpt-4o"])
        .api_key("az-key")
        .start()
        .await;
    let gemini = testkit::MockGemini::builder().api_key("g-key").start().await;
    let yaml = format!(
        r#"
providers:
  claude: {{ kind: anthropic, base_url: "{}", api_key: {{ value: sk-ant }}, health: {{ interval: 50ms, timeout: 50ms }} }}
  az: {{ kind: azure_openai, base_url: "{}", api_key: {{ value: az-key }}, health: {{ interval: 50ms, timeout: 50ms }} }}
  gem: {{ kind: gemini, base_url: "{}", api_key: {{ value: g-key }}, health: {{ interval: 50ms, timeout: 50ms }} }}
models:
  - name: m
    targets: [{{ provider: claude, model: claude-haiku-4-5 }}, {{ provider: az, model: gpt-4o }}, {{ provider: gem, model: gemini-2.5-flash }}]
"#,
        claude.base_url(),
        azure.base_url(),
        gemini.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let sent = claude.wait_for_requests(3).await;
    for r in &sent {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/models"));
        assert!(r.rejection.is_none(), "{:?}", r.rejection);
        assert_eq!(r.header("x-api-key"), Some("sk-ant"));
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    }
    let sent = azure.wait_for_requests(3).await;
    for r in &sent {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/openai/models"));
        assert_eq!(r.query.as_deref(), Some("api-version=2024-10-21"));
        assert!(r.rejection.is_none(), "{:?}", r.rejection);
        assert_eq!(r.header("api-key"), Some("az-key"));
        assert!(r.header("authorization").is_none());
    }
    let sent = gemini.wait_for_requests(3).await;
    for r in &sent {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1beta/models"));
        assert!(r.rejection.is_none(), "{:?}", r.rejection);
        assert_eq!(r.header("x-goog-api-key"), Some("g-key"));
    }
    let s = wait_status(&gw, "all probed", |s| {
        ["claude", "az", "gem"]
            .iter()
            .all(|p| fallback_target(s, p)["health"]["probe"]["last"]["ok"] == true)
    })
    .await;
    assert_eq!(s["fallback"][0]["serving"], "claude");
}

#[tokio::test]
async fn a_reload_restarts_the_probes_and_stops_the_old_ones() {
    let first = ok_mock("first").await;
    let second = ok_mock("second").await;
    let config = |base: &str| {
        with_defaults(&format!(
            "providers:\n  up: {{ kind: openai_compatible, base_url: \"{base}\", health: {{ interval: 30ms, timeout: 30ms }} }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up }}] }}\n"
        ))
    };
    let gw = TestGateway::start(&config(&first.base_url())).await;
    first.wait_for_requests(3).await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    testkit::write_file_atomically(gw.config_path(), config(&second.base_url()).as_bytes());
    tokio::time::timeout(Duration::from_secs(10), gen_rx.changed())
        .await
        .expect("no reload within 10s")
        .expect("state");
    second.wait_for_requests(3).await;
    // The old provider is dropped with its snapshot; at most one probe of it was in flight at the swap.
    let stopped_at = first.requests().len();
    let n = second.requests().len();
    second.wait_for_requests(n + 5).await;
    assert_eq!(
        first.requests().len(),
        stopped_at,
        "the old snapshot's probe task is gone"
    );
    assert!(first.requests().iter().all(|r| r.path == "/v1/models"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_requests_while_the_primary_dies_and_returns_fail_none_and_traffic_returns() {
    // 1,000 requests, one every 3 ms (half streamed); the primary is killed at request 250 and restarted on its port
    // at request 600. No client-visible failure; the restored primary wins traffic back through its probes.
    let primary = ok_mock("primary").await;
    let addr = primary.addr();
    let secondary = ok_mock("secondary").await;
    let health = "{ interval: 50ms, timeout: 50ms, healthy_threshold: 2, unhealthy_threshold: 2 }";
    // Default failover settings: the retry budget covers the (bounded) requests in flight at the kill.
    let gw = Arc::new(TestGateway::start(&probed_pair(&primary.base_url(), &secondary.base_url(), health, "")).await);
    let mut primary = Some(primary);
    let mut restored = None;
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(3));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // At most 32 requests in flight: when a busy machine cannot keep the rate, it slows down instead of queueing
    // hundreds of requests, so "request 250" still happens while the primary dies.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(32));
    for i in 0..1000 {
        tick.tick().await;
        let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
        if i == 250 {
            drop(primary.take());
        }
        if i == 600 {
            restored = Some(
                MockOpenAi::builder()
                    .reply(Reply::chat("restored"))
                    .bind(addr)
                    .start()
                    .await,
            );
        }
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            let stream = i % 2 == 0;
            let (status, target, _, body) = send(&gw, stream).await;
            drop(permit);
            let complete = if stream {
                body.trim_end().ends_with("data: [DONE]")
            } else {
                serde_json::from_str::<Value>(&body).is_ok_and(|v| v["choices"][0]["message"]["content"].is_string())
            };
            let by_restored = body.contains("restored");
            let detail = if status == 200 {
                String::new()
            } else {
                format!("{target}: {body}")
            };
            (i, status, complete, target, by_restored, detail)
        }));
    }
    let mut failed = Vec::new();
    let mut cut_mid_stream = Vec::new();
    let mut served_by_restored = 0;
    for t in tasks {
        let (i, status, complete, target, by_restored, detail) = t.await.expect("task");
        if status == 200 && !complete && i % 2 == 0 && target == "primary" {
            // Streaming from the primary when it was killed: bytes had reached the client, so it is never retried
            // (the issue's "had started streaming" exclusion). Counted, and bounded below.
            cut_mid_stream.push(i);
        } else if status != 200 || !complete {
            failed.push((i, status, detail));
        }
        if by_restored {
            served_by_restored += 1;
        }
    }
    assert!(failed.is_empty(), "client-visible failures: {failed:?}");
    assert!(cut_mid_stream.len() <= 3, "streams cut by the kill: {cut_mid_stream:?}");
    let restored = restored.expect("restored");
    // Traffic is back: wait for the probes' verdict (generous bound on a busy machine), then it all goes there.
    wait_status(&gw, "primary healthy", |s| probe_state(s, "primary") == "healthy").await;
    for _ in 0..10 {
        let (status, target, _, _) = send(&gw, false).await;
        assert_eq!((status, target.as_str()), (200, "primary"));
    }
    eprintln!("requests served by the restored primary during the load: {served_by_restored}");
    assert!(served_by_restored > 0, "traffic returned during the load");
    // The probes sent only GETs of the models list, without a body; every completion the restored primary saw
    // carried a client's body: one per request it served, plus the rare attempt that failed over from it.
    let sent = restored.requests();
    let posts = sent.iter().filter(|r| r.method == http::Method::POST).count();
    assert_only_models_gets(&restored, posts);
    for r in &sent {
        if r.method == http::Method::GET {
            assert!(r.body.is_empty());
        } else {
            assert_eq!(r.json()["messages"][0]["content"], "hi", "a client's request");
        }
    }
    assert!(
        posts >= served_by_restored + 10,
        "completions {posts}, served {served_by_restored} + 10"
    );
    eprintln!(
        "attempts on the restored primary that failed over: {}",
        posts - served_by_restored - 10
    );
    assert!(secondary.requests().len() > 100, "the secondary took over");
}

#[tokio::test]
async fn a_vllm_pool_is_probed_on_every_replica_health_endpoint_and_a_dead_pool_is_skipped() {
    let live = [
        crate::pool_routing::start_sim(crate::pool_routing::sim(0.0)).await,
        crate::pool_routing::start_sim(crate::pool_routing::sim(0.0)).await,
    ];
    let dead: Vec<String> = {
        let mut urls = Vec::new();
        for _ in 0..2 {
            let l = testkit::free_port_listener().await;
            urls.push(format!("http://{}", l.local_addr().expect("addr")));
        }
        urls // the listeners are dropped: connections are refused
    };
    let standby = ok_mock("standby").await;
    let yaml = format!(
        r#"
providers:
  live: {{ kind: vllm_pool, endpoints: ["{}", "{}"], picker: round_robin, health: {{ interval: 50ms, timeout: 50ms }} }}
  dead: {{ kind: vllm_pool, endpoints: ["{}", "{}"], picker: round_robin, health: {{ interval: 50ms, timeout: 50ms, unhealthy_threshold: 2 }} }}
  standby: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - name: live
    targets: [{{ provider: live, model: {base} }}]
  - name: m
    targets: [{{ provider: dead, model: {base} }}, {{ provider: standby }}]
"#,
        live[0],
        live[1],
        dead[0],
        dead[1],
        standby.base_url(),
        base = crate::pool_routing::BASE,
    );
    let gw = TestGateway::start(&yaml).await;
    let s = wait_status(&gw, "both pools probed", |s| {
        s["fallback"][1]["targets"][0]["health"]["state"] == "unhealthy"
            && s["fallback"][0]["targets"][0]["health"]["probe"]["last"]["ok"] == true
    })
    .await;
    let live_probe = &s["fallback"][0]["targets"][0]["health"]["probe"]["last"];
    assert_eq!(live_probe["detail"], "2/2 endpoints passed", "{live_probe}");
    let dead_probe = &s["fallback"][1]["targets"][0]["health"]["probe"]["last"];
    assert!(
        dead_probe["detail"]
            .as_str()
            .expect("detail")
            .starts_with("0/2 endpoints passed; connect failed"),
        "{dead_probe}"
    );
    assert_eq!(s["fallback"][1]["serving"], "standby");
    let (status, target, attempts, _) = send(&gw, false).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "standby", "1"));
}

#[tokio::test]
async fn when_every_target_is_down_by_its_probes_requests_still_try_them_in_order() {
    // `/v1/health` does not exist on the mock (404): the probes fail while completions work.
    let a = ok_mock("a").await;
    let b = ok_mock("b").await;
    let health = "{ interval: 30ms, timeout: 30ms, unhealthy_threshold: 1, path: /v1/health }";
    let gw = TestGateway::start(&probed_pair(&a.base_url(), &b.base_url(), health, "")).await;
    let s = wait_status(&gw, "both down", |s| {
        probe_state(s, "primary") == "unhealthy" && probe_state(s, "secondary") == "unhealthy"
    })
    .await;
    assert_eq!(s["fallback"][0]["serving"], "primary");
    assert!(
        s["fallback"][0]["why"].as_str().expect("why").contains("fail open"),
        "{s}"
    );
    let (status, target, attempts, _) = send(&gw, false).await;
    assert_eq!(
        (status, target.as_str(), attempts.as_str()),
        (200, "primary", "1"),
        "fail open, in order"
    );
    assert!(
        a.requests()
            .iter()
            .any(|r| r.path == "/v1/health" && r.method == http::Method::GET)
    );
}

#[tokio::test]
async fn a_reload_keeps_the_health_of_an_unchanged_target() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(
            500,
            json!({"error": {"message": "x", "type": "server_error"}}),
        ))
        .start()
        .await;
    let secondary = ok_mock("secondary").await;
    let config = |alias: &str| {
        with_defaults(&format!(
            "providers:\n  primary: {{ kind: openai_compatible, base_url: \"{}\" }}\n  secondary: {{ kind: openai_compatible, base_url: \"{}\" }}\nmodels:\n  - {{ name: m, aliases: [{alias}], targets: [{{ provider: primary }}, {{ provider: secondary }}] }}\nfailover: {{ ejection_threshold: 1, ejection_base: 1m }}\n",
            primary.base_url(),
            secondary.base_url()
        ))
    };
    let gw = TestGateway::start(&config("one")).await;
    assert_eq!(send(&gw, false).await.1, "secondary");
    assert_eq!(probe_state(&status_json(&gw).await, "primary"), "ejected");
    let mut gen_rx = gw.gw.state.generation.subscribe();
    testkit::write_file_atomically(gw.config_path(), config("two").as_bytes());
    tokio::time::timeout(Duration::from_secs(10), gen_rx.changed())
        .await
        .expect("no reload within 10s")
        .expect("state");
    let s = status_json(&gw).await;
    assert_eq!(s["models"][0]["aliases"], json!(["two"]), "the new config is live");
    assert_eq!(
        probe_state(&s, "primary"),
        "ejected",
        "the ejection survived the reload: {s}"
    );
    let (status, target, attempts, _) = send(&gw, false).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "secondary", "1"));
    assert_eq!(primary.requests().len(), 1);
}
