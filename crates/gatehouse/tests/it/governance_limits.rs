//! Limits on the LLM routes (`limits:`): request rates per key with `x-ratelimit-*` headers and 429 in both
//! dialects, token rates pre-charged with an estimate and settled with the real usage (debt and refund), and
//! concurrency slots released when a request finishes.

use std::time::Duration;

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

fn config(mock: &MockOpenAi, limits: &str) -> String {
    format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: a, sha256: "{}", team: t }}
    - {{ name: b, sha256: "{}", team: t }}
limits:
{limits}
"#,
        mock.base_url(),
        hash_key("sk-a"),
        hash_key("sk-b")
    )
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn num(r: &reqwest::Response, name: &str) -> i64 {
    header(r, name)
        .unwrap_or_else(|| panic!("missing {name}"))
        .parse()
        .expect("number")
}

async fn chat(gw: &TestGateway, key: &str, max_tokens: u64) -> reqwest::Response {
    gw.chat(json!({"model": "m", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hello"}]}))
        .bearer_auth(key)
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn llm_request_limit_429_in_both_dialects_with_headers() {
    let mock = MockOpenAi::builder().reply(Reply::chat("hi")).start().await;
    let gw = TestGateway::start(&config(
        &mock,
        "  - { name: per-key, scope: key, requests_per_minute: 1, burst: 2 }",
    ))
    .await;
    let r = chat(&gw, "sk-a", 5).await;
    assert_eq!(r.status(), 200);
    assert_eq!(num(&r, "x-ratelimit-limit-requests"), 2);
    assert_eq!(num(&r, "x-ratelimit-remaining-requests"), 1);
    assert!(header(&r, "x-ratelimit-reset-requests").is_some_and(|v| v.ends_with('s')));
    let r = chat(&gw, "sk-a", 5).await;
    assert_eq!(num(&r, "x-ratelimit-remaining-requests"), 0);
    let r = chat(&gw, "sk-a", 5).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = header(&r, "retry-after").expect("retry-after").parse().expect("secs");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(num(&r, "x-ratelimit-limit-requests"), 2);
    assert_eq!(num(&r, "x-ratelimit-remaining-requests"), 0);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(v["error"]["message"].as_str().expect("msg").contains("per-key"));
    // Anthropic dialect: same limit, Anthropic envelope.
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .header("x-api-key", "sk-a")
        .json(&json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    assert!(header(&r, "retry-after").is_some());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    // Another key has its own bucket.
    assert_eq!(chat(&gw, "sk-b", 5).await.status(), 200);
    assert_eq!(mock.requests().len(), 3, "refused requests never reach the upstream");
}

#[tokio::test]
async fn llm_token_limit_precharges_and_settles_with_real_usage() {
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("w ".repeat(3000)))
        .start()
        .await;
    let gw = TestGateway::start(&config(
        &mock,
        "  - { name: team-tokens, scope: team, tokens_per_minute: 6000 }",
    ))
    .await;
    // Pre-charge: the estimate (body bytes / 4 + max_tokens 10) is taken before the call.
    let r = chat(&gw, "sk-a", 10).await;
    assert_eq!(r.status(), 200);
    assert_eq!(num(&r, "x-ratelimit-limit-tokens"), 6000);
    let rem1 = num(&r, "x-ratelimit-remaining-tokens");
    assert!((5950..6000).contains(&rem1), "{rem1}");
    let _ = r.text().await;
    let log = gw.next_log().await; // the context finished: settled with the real usage
    let used1 = log["input_tokens"].as_i64().expect("in") + log["output_tokens"].as_i64().expect("out");
    assert!(used1 > 3000, "{log}");
    mock.set_reply(Reply::chat("ok"));
    // Settlement charged the debt (3000+ real vs ~40 estimated): the team's bucket, shared by key b, shows it.
    let r = chat(&gw, "sk-b", 10).await;
    assert_eq!(r.status(), 200);
    let rem2 = num(&r, "x-ratelimit-remaining-tokens");
    assert!(
        rem2 < 6000 - used1 + 300 && rem2 > 6000 - used1 - 200,
        "{rem2} after {used1}"
    );
    let _ = r.text().await;
    let _ = gw.next_log().await;
    // An estimate that no longer fits is refused with the token headers.
    let r = chat(&gw, "sk-a", 5000).await;
    assert_eq!(r.status(), 429);
    assert_eq!(num(&r, "x-ratelimit-limit-tokens"), 6000);
    assert!(header(&r, "retry-after").is_some());
    let _ = gw.next_log().await;
    // Refund: a big estimate with a tiny real usage gives the difference back.
    let r = chat(&gw, "sk-a", 1500).await;
    assert_eq!(r.status(), 200);
    let rem3 = num(&r, "x-ratelimit-remaining-tokens");
    let _ = r.text().await;
    let _ = gw.next_log().await;
    let r = chat(&gw, "sk-a", 10).await;
    let rem4 = num(&r, "x-ratelimit-remaining-tokens");
    assert!(rem4 > rem3 + 1400, "refund: {rem3} → {rem4}");
}

#[tokio::test]
async fn llm_concurrency_limit_is_released_when_the_request_ends() {
    let mock = MockOpenAi::builder()
        .reply(Reply::delay(Duration::from_millis(600), Reply::chat("hi")))
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, "  - { name: one-at-a-time, scope: key, concurrent: 1 }")).await;
    let first = {
        let req = gw
            .chat(json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}))
            .bearer_auth("sk-a");
        tokio::spawn(async move { req.send().await.expect("send").status() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = chat(&gw, "sk-a", 5).await;
    assert_eq!(r.status(), 429);
    assert_eq!(num(&r, "x-ratelimit-limit-concurrent"), 1);
    assert_eq!(chat(&gw, "sk-b", 5).await.status(), 200, "another key has its own slot");
    assert_eq!(first.await.expect("join"), 200);
    assert_eq!(chat(&gw, "sk-a", 5).await.status(), 200, "the slot was released");
}

#[tokio::test]
async fn llm_limit_config_errors_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "models: []\nlimits:\n  - { name: x, scope: key }\n  - { name: y, scope: team, requests_per_second: 1, requests_per_minute: 5, burst: 0 }\n  - { name: y, scope: key, concurrent: 1 }\n",
    )
    .expect("write");
    let errs = gatehouse::config::load(&path).expect_err("invalid").to_string();
    assert!(errs.contains("limits[0]: a limit needs"), "{errs}");
    assert!(
        errs.contains("limits[1].requests_per_minute: set `requests_per_second` or"),
        "{errs}"
    );
    assert!(errs.contains("limits[1].burst: must be at least 1"), "{errs}");
    assert!(
        errs.contains("limits[2].name: the limit name `y` is used twice"),
        "{errs}"
    );
    std::fs::write(
        &path,
        "models: []\nlimits:\n  - { name: z, scope: galaxy, concurrent: 1 }\n",
    )
    .expect("write");
    let errs = gatehouse::config::load(&path).expect_err("invalid").to_string();
    assert!(errs.contains("limits[0].scope: unknown value `galaxy`"), "{errs}");
}

#[tokio::test]
async fn llm_limit_state_survives_a_reload_when_unchanged() {
    let mock = MockOpenAi::builder().reply(Reply::chat("hi")).start().await;
    let limits = "  - { name: per-key, scope: key, requests_per_minute: 1, burst: 2 }";
    let gw = TestGateway::start(&config(&mock, limits)).await;
    assert_eq!(chat(&gw, "sk-a", 5).await.status(), 200);
    assert_eq!(chat(&gw, "sk-a", 5).await.status(), 200);
    assert_eq!(chat(&gw, "sk-a", 5).await.status(), 429);
    // Reload with the same limit plus another: the used-up bucket stays used up.
    let path = gw.config_path();
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replace(
        limits,
        &format!("{limits}\n  - {{ name: extra, scope: global, concurrent: 100 }}"),
    );
    std::fs::write(&path, text).expect("write");
    assert!(gatehouse::reload::reload(&gw.gw.state, &path).await, "reload accepted");
    assert_eq!(
        chat(&gw, "sk-a", 5).await.status(),
        429,
        "a reload does not reset an unchanged limit"
    );
    // Changing the limit starts it afresh.
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("burst: 2", "burst: 3");
    std::fs::write(&path, text).expect("write");
    assert!(gatehouse::reload::reload(&gw.gw.state, &path).await, "reload accepted");
    assert_eq!(chat(&gw, "sk-a", 5).await.status(), 200);
}

#[tokio::test]
async fn llm_count_tokens_is_a_request_not_tokens() {
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let gw = TestGateway::start(&config(&mock, "  - { name: tpm, scope: key, tokens_per_minute: 6000 }")).await;
    for _ in 0..3 {
        let r = gw
            .http
            .post(gw.url("/v1/messages/count_tokens"))
            .header("x-api-key", "sk-a")
            .json(&json!({"model": "m", "max_tokens": 5000, "messages": [{"role": "user", "content": "hello"}]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    // Had count_tokens charged its max_tokens, this 5000-token estimate would no longer fit.
    assert_eq!(chat(&gw, "sk-a", 5000).await.status(), 200);
}
