//! Failover under injected faults: every failure before the first byte moves the request to the next target and
//! the client sees one clean success; nothing is retried once bytes reached the client; Retry-After, the retry
//! budget and passive ejection are honoured.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic, MockOpenAi, Reply};

use crate::support::TestGateway;

fn chat_body(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn error_json(code: u16) -> Value {
    json!({"error": {"message": format!("injected {code}"), "type": "server_error", "code": null}})
}

/// Two OpenAI-compatible targets, `primary` first; `extra` is appended to the YAML (e.g. a `failover:` section).
fn two_targets(primary: &str, secondary: &str, extra: &str) -> String {
    format!(
        r#"
providers:
  primary:
    kind: openai_compatible
    base_url: {primary}
    timeouts: {{ first_byte: 400ms }}
  secondary:
    kind: openai_compatible
    base_url: {secondary}
models:
  - name: m
    targets: [{{ provider: primary }}, {{ provider: secondary }}]
{extra}
"#
    )
}

async fn ok_mock(text: &str) -> MockOpenAi {
    MockOpenAi::builder().reply(Reply::chat(text)).start().await
}

/// Sends one non-streamed chat and returns (status, target header, attempts header, body).
async fn send(gw: &TestGateway, stream: bool) -> (u16, String, String, Value) {
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
    let body = if stream {
        Value::String(r.text().await.expect("text"))
    } else {
        r.json().await.unwrap_or(Value::Null)
    };
    (status, target, attempts, body)
}

#[tokio::test]
async fn each_error_status_before_the_first_byte_fails_over_to_one_clean_success() {
    for code in [500u16, 502, 503, 429, 529] {
        let primary = MockOpenAi::builder()
            .reply(Reply::status(code, error_json(code)))
            .start()
            .await;
        let secondary = ok_mock("from secondary").await;
        let gw = TestGateway::start(&two_targets(&primary.base_url(), &secondary.base_url(), "")).await;
        let (status, target, attempts, body) = send(&gw, false).await;
        assert_eq!(status, 200, "status {code} must fail over");
        assert_eq!(target, "secondary");
        assert_eq!(attempts, "2");
        assert_eq!(body["choices"][0]["message"]["content"], "from secondary");
        assert_eq!(primary.requests().len(), 1);
        assert_eq!(secondary.requests().len(), 1);
        let log = gw.next_log().await;
        assert_eq!(log["target"], "secondary");
        assert_eq!(log["attempts"], 2);
        assert_eq!(log["outcome"], "complete");
        let metrics = gw.metrics().await;
        assert!(
            metrics.contains(&format!(
                "gatehouse_failovers_total{{model=\"m\",from=\"primary\",to=\"secondary\",reason=\"status_{code}\"}} 1"
            )),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_fails_over() {
    let closed = testkit::free_port_listener().await;
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let secondary = ok_mock("alive").await;
    let gw = TestGateway::start(&two_targets(&dead, &secondary.base_url(), "")).await;
    for stream in [false, true] {
        let (status, target, attempts, body) = send(&gw, stream).await;
        assert_eq!(status, 200);
        assert_eq!(target, "secondary");
        assert_eq!(attempts, "2");
        if stream {
            let text = body.as_str().expect("text");
            assert!(
                text.contains("alive") && text.trim_end().ends_with("data: [DONE]"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn a_first_byte_timeout_fails_over() {
    let primary = MockOpenAi::builder().reply(Reply::hang()).start().await;
    let secondary = ok_mock("patient").await;
    let gw = TestGateway::start(&two_targets(&primary.base_url(), &secondary.base_url(), "")).await;
    let (status, target, attempts, body) = send(&gw, false).await;
    assert_eq!(status, 200);
    assert_eq!((target.as_str(), attempts.as_str()), ("secondary", "2"));
    assert_eq!(body["choices"][0]["message"]["content"], "patient");
    primary.wait_abandoned(1).await;
}

#[tokio::test]
async fn openai_primary_fails_over_to_anthropic_and_the_client_keeps_the_openai_shape() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(503, error_json(503)))
        .start()
        .await;
    let claude = MockAnthropic::builder()
        .api_key("sk-ant")
        .reply(AnthropicReply::message("bonjour"))
        .start()
        .await;
    let yaml = format!(
        r#"
providers:
  primary: {{ kind: openai_compatible, base_url: "{}" }}
  claude: {{ kind: anthropic, base_url: "{}", api_key: {{ value: sk-ant }} }}
models:
  - name: m
    targets: [{{ provider: primary }}, {{ provider: claude, model: claude-haiku-4-5 }}]
"#,
        primary.base_url(),
        claude.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, target, attempts, body) = send(&gw, false).await;
    assert_eq!(status, 200);
    assert_eq!((target.as_str(), attempts.as_str()), ("claude", "2"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "m");
    assert_eq!(body["choices"][0]["message"]["content"], "bonjour");
    assert!(body["usage"]["prompt_tokens"].as_u64().expect("usage") > 0);
    assert!(body["usage"]["completion_tokens"].as_u64().expect("usage") > 0);
    let sent = claude.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);

    // Streamed too: OpenAI chunks with a usage chunk and [DONE].
    let (status, target, _, body) = send(&gw, true).await;
    assert_eq!((status, target.as_str()), (200, "claude"));
    let text = body.as_str().expect("text");
    assert!(
        text.contains("chat.completion.chunk") && text.contains("\"usage\""),
        "{text}"
    );
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}

#[tokio::test]
async fn the_only_target_is_retried_after_a_backoff() {
    let only = MockOpenAi::builder()
        .reply(Reply::chat("second time lucky"))
        .push_reply(Reply::status(503, error_json(503)))
        .start()
        .await;
    let yaml = format!(
        "providers:\n  only: {{ kind: openai_compatible, base_url: \"{}\" }}\nmodels:\n  - name: m\n    targets: [{{ provider: only }}]\nfailover: {{ backoff_base: 20ms }}\n",
        only.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, target, attempts, body) = send(&gw, false).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "only", "2"));
    assert_eq!(body["choices"][0]["message"]["content"], "second time lucky");
    assert_eq!(only.requests().len(), 2);
    assert!(
        gw.metrics()
            .await
            .contains("gatehouse_retries_total{provider=\"only\"} 1")
    );
}

#[tokio::test]
async fn retry_after_is_waited_for_on_the_same_target_and_beyond_the_cap_is_not() {
    let only = MockOpenAi::builder()
        .reply(Reply::chat("after the wait"))
        .push_reply(Reply::status(429, error_json(429)).with_header("retry-after", "1"))
        .start()
        .await;
    let yaml = format!(
        "providers:\n  only: {{ kind: openai_compatible, base_url: \"{}\" }}\nmodels:\n  - name: m\n    targets: [{{ provider: only }}]\nfailover: {{ backoff_base: 10ms, retry_after_cap: 2s }}\n",
        only.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let started = std::time::Instant::now();
    let (status, _, attempts, _) = send(&gw, false).await;
    assert_eq!((status, attempts.as_str()), (200, "2"));
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 not honoured"
    );

    // A Retry-After longer than the cap: the client gets the 429 (with its Retry-After) at once.
    only.push_reply(Reply::status(429, error_json(429)).with_header("retry-after", "30"));
    let started = std::time::Instant::now();
    let r = gw.chat(chat_body(false)).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
    assert_eq!(r.headers()["x-gatehouse-attempts"], "1");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn when_every_attempt_fails_the_client_gets_the_last_answer() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(500, error_json(500)))
        .start()
        .await;
    let secondary = MockOpenAi::builder()
        .reply(Reply::status(503, error_json(503)))
        .start()
        .await;
    let gw = TestGateway::start(&two_targets(
        &primary.base_url(),
        &secondary.base_url(),
        "failover: { max_attempts: 2 }",
    ))
    .await;
    let (status, target, attempts, body) = send(&gw, false).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (503, "secondary", "2"));
    assert_eq!(body["error"]["message"], "injected 503");
    assert_eq!(primary.requests().len() + secondary.requests().len(), 2);
}

#[tokio::test]
async fn a_mid_stream_failure_is_not_retried() {
    // Passthrough: the upstream dies after the first words; the client connection is aborted, no second attempt.
    let (reply, gate) = Reply::gated_stream(&["one", "two", "three"]);
    let primary = MockOpenAi::builder().reply(reply).start().await;
    let secondary = ok_mock("never").await;
    let gw = TestGateway::start(&two_targets(&primary.base_url(), &secondary.base_url(), "")).await;
    let mut r = gw.chat(chat_body(true)).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-gatehouse-target"], "primary");
    gate.release(1);
    let first = r.chunk().await.expect("first chunk").expect("bytes");
    assert!(String::from_utf8_lossy(&first).contains("one"));
    drop(primary); // the upstream dies mid-stream
    let mut rest = Vec::new();
    let ended_with_error = loop {
        match r.chunk().await {
            Ok(Some(b)) => rest.extend_from_slice(&b),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(
        ended_with_error,
        "passthrough must abort: {}",
        String::from_utf8_lossy(&rest)
    );
    assert!(secondary.requests().is_empty(), "no retry after the first byte");

    // Translated: Anthropic cut mid-stream; the client gets an OpenAI error frame, and no retry either.
    let claude = MockAnthropic::builder()
        .api_key("sk-ant")
        .reply(AnthropicReply::message("a b c d e").with_cut_after(2))
        .start()
        .await;
    let backup = ok_mock("never").await;
    let yaml = format!(
        r#"
providers:
  claude: {{ kind: anthropic, base_url: "{}", api_key: {{ value: sk-ant }} }}
  backup: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - name: m
    targets: [{{ provider: claude, model: claude-haiku-4-5 }}, {{ provider: backup }}]
"#,
        claude.base_url(),
        backup.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, target, attempts, body) = send(&gw, true).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "claude", "1"));
    let text = body.as_str().expect("text");
    assert!(
        text.contains("\"error\""),
        "the stream must end with an error event: {text}"
    );
    assert!(backup.requests().is_empty());
}

#[tokio::test]
async fn the_retry_budget_stops_a_retry_storm() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(503, error_json(503)))
        .start()
        .await;
    let secondary = ok_mock("budgeted").await;
    let gw = TestGateway::start(&two_targets(
        &primary.base_url(),
        &secondary.base_url(),
        "failover: { retry_budget: 0.1, retry_budget_min_per_sec: 0, ejection_threshold: 1000 }",
    ))
    .await;
    let mut ok = 0;
    for _ in 0..30 {
        let (status, _, _, _) = send(&gw, false).await;
        if status == 200 {
            ok += 1;
        }
    }
    // 10% of 30 requests: at most 3 retries reach the secondary; the rest get the primary's 503.
    assert!((1..=3).contains(&ok), "retries allowed: {ok}");
    assert_eq!(secondary.requests().len(), ok);
    assert_eq!(primary.requests().len(), 30);
}

#[tokio::test]
async fn consecutive_failures_eject_the_primary_and_traffic_skips_it() {
    let primary = MockOpenAi::builder()
        .reply(Reply::status(500, error_json(500)))
        .start()
        .await;
    let secondary = ok_mock("standby").await;
    let gw = TestGateway::start(&two_targets(
        &primary.base_url(),
        &secondary.base_url(),
        "failover: { ejection_threshold: 2, ejection_base: 300ms, ejection_max: 1s }",
    ))
    .await;
    for _ in 0..2 {
        assert_eq!(send(&gw, false).await.2, "2");
    }
    // Ejected: the next requests go straight to the secondary.
    for _ in 0..3 {
        let (status, target, attempts, _) = send(&gw, false).await;
        assert_eq!((status, target.as_str(), attempts.as_str()), (200, "secondary", "1"));
    }
    assert_eq!(primary.requests().len(), 2);
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("gatehouse_target_health{provider=\"primary\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gatehouse_target_ejections_total{provider=\"primary\",reason=\"consecutive_failures\"} 1")
    );
    let status: Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let model = &status["models"][0];
    assert_eq!(model["serving"], "secondary", "{status}");
    assert_eq!(model["targets"][0]["health"]["state"], "ejected", "{status}");
    assert!(
        model["targets"][0]["health"]["remaining_ms"]
            .as_u64()
            .expect("time left")
            <= 300
    );
    assert_eq!(model["targets"][1]["health"]["state"], "healthy");

    // After the ejection the primary is tried again; healthy now, it serves and its gauge returns to 1.
    primary.set_reply(Reply::chat("back"));
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (status, target, _, body) = send(&gw, false).await;
    assert_eq!((status, target.as_str()), (200, "primary"));
    assert_eq!(body["choices"][0]["message"]["content"], "back");
    assert!(
        gw.metrics()
            .await
            .contains("gatehouse_target_health{provider=\"primary\"} 1")
    );
}

#[tokio::test]
async fn a_stream_whose_first_event_is_an_error_fails_over() {
    // OpenAI-style "200 then error": the head says 200, the first event is an error object.
    let primary = MockOpenAi::builder()
        .reply(Reply::raw(
            200,
            "text/event-stream",
            "data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\",\"code\":null}}\n\n",
        ))
        .start()
        .await;
    let secondary = ok_mock("clean stream").await;
    let gw = TestGateway::start(&two_targets(&primary.base_url(), &secondary.base_url(), "")).await;
    let (status, target, attempts, body) = send(&gw, true).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "secondary", "2"));
    let text = body.as_str().expect("text");
    assert!(
        !text.contains("overloaded"),
        "the error event must not reach the client: {text}"
    );
    assert!(
        text.contains("clean") && text.trim_end().ends_with("data: [DONE]"),
        "{text}"
    );
    assert!(gw.metrics().await.contains("reason=\"stream_error_event\"} 1"));

    // Anthropic: `event: error` first, from an Anthropic primary; the OpenAI-compatible secondary serves.
    let claude = MockAnthropic::builder()
        .api_key("sk-ant")
        .reply(AnthropicReply::raw(
            200,
            "text/event-stream",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        ))
        .start()
        .await;
    let yaml = format!(
        r#"
providers:
  claude: {{ kind: anthropic, base_url: "{}", api_key: {{ value: sk-ant }} }}
  backup: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - name: m
    targets: [{{ provider: claude, model: claude-haiku-4-5 }}, {{ provider: backup }}]
"#,
        claude.base_url(),
        secondary.base_url()
    );
    let gw = TestGateway::start(&yaml).await;
    let (status, target, attempts, body) = send(&gw, true).await;
    assert_eq!((status, target.as_str(), attempts.as_str()), (200, "backup", "2"));
    assert!(body.as_str().expect("text").contains("clean"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_primary_under_load_fails_no_request() {
    // 300 requests at a fixed rate (one every 5 ms, streamed and not); the primary is dropped a third of the way in.
    let primary = ok_mock("primary").await;
    let secondary = ok_mock("secondary").await;
    let gw =
        std::sync::Arc::new(TestGateway::start(&two_targets(&primary.base_url(), &secondary.base_url(), "")).await);
    let mut primary = Some(primary);
    let mut tasks = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for i in 0..300 {
        tick.tick().await;
        if i == 100 {
            drop(primary.take());
        }
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            let stream = i % 2 == 0;
            let (status, _, _, body) = send(&gw, stream).await;
            let complete = if stream {
                body.as_str().is_some_and(|t| t.trim_end().ends_with("data: [DONE]"))
            } else {
                body["choices"][0]["message"]["content"].is_string()
            };
            (status, complete)
        }));
    }
    let mut failed = 0;
    for t in tasks {
        let (status, complete) = t.await.expect("task");
        if status != 200 || !complete {
            failed += 1;
        }
    }
    assert_eq!(failed, 0, "client-visible failures while the primary died");
    assert!(secondary.requests().len() >= 150, "the secondary took over");
}
