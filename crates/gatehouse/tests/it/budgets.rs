//! Spend budgets: concurrent requests reserve their estimate so the limit is passed by at most one estimate,
//! `budget_exceeded` in both dialects, the soft threshold metric, and current spend on `/status`.

use std::time::Duration;

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

#[tokio::test]
async fn budget_concurrent_requests_overshoot_by_at_most_one_estimate() {
    // $1 per output token; every reply has 2 output tokens and asks for max_tokens 2: estimate = real = $2.
    let mock = MockOpenAi::builder()
        .reply(Reply::delay(Duration::from_millis(300), Reply::chat("a b")))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        r#"
providers:
  up: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: m, targets: [{{ provider: up }}] }}
auth:
  api_keys:
    - {{ name: alice, sha256: "{}", team: ml }}
pricing:
  models:
    m: {{ input: 0, output: 1000000 }}
budgets:
  - {{ name: daily, scope: key, period: day, limit_usd: 5, soft_usd: 3 }}
"#,
        mock.base_url(),
        hash_key("sk-alice")
    ))
    .await;
    let body = json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]});
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let req = gw.chat(body.clone()).bearer_auth("sk-alice");
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.expect("send");
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("json");
            (status, v)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, v) = t.await.expect("join");
        match status {
            200 => ok += 1,
            429 => {
                assert_eq!(v["error"]["code"], "budget_exceeded");
                assert_eq!(v["error"]["type"], "insufficient_quota");
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    // Reservations: $0, $2, $4 are below $5 → three admitted; spend $6 = limit + less than one estimate.
    assert_eq!(ok, 3);
    assert_eq!(mock.requests().len(), 3);
    for _ in 0..10 {
        let _ = gw.next_log().await;
    }
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .header("x-api-key", "sk-alice")
        .json(&json!({"model": "m", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .expect("retry-after")
        .parse()
        .expect("secs");
    assert!((1..=86_400).contains(&retry), "until the end of the UTC day: {retry}");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["code"], "budget_exceeded");

    let status: Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let acct = &status["budgets"][0];
    assert_eq!(acct["budget"], "daily");
    assert_eq!(acct["account"], "alice");
    assert_eq!(acct["period"], "day");
    assert_eq!(acct["spent_usd"], 6.0);
    assert_eq!(acct["reserved_usd"], 0.0);
    assert_eq!(acct["period_start"].as_u64().expect("start") % 86_400, 0);
    let metrics = gw.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gatehouse_budget_soft_exceeded_total{")
                && l.contains("account=\"alice\"")
                && l.ends_with(" 1")),
        "{metrics}"
    );
}

#[test]
fn budget_periods_are_calendar_aligned_utc() {
    use gatehouse::config::spec::governance::BudgetPeriod;
    use gatehouse::policy::budget::period_bounds;
    // 2024-02-29T13:00:00Z (leap day).
    let t = 1_709_211_600;
    assert_eq!(period_bounds(BudgetPeriod::Day, t), (1_709_164_800, 1_709_251_200));
    // February 2024: 2024-02-01 .. 2024-03-01.
    assert_eq!(period_bounds(BudgetPeriod::Month, t), (1_706_745_600, 1_709_251_200));
    // December rolls over the year: 2025-12-31T23:59:59Z → 2025-12-01 .. 2026-01-01.
    assert_eq!(
        period_bounds(BudgetPeriod::Month, 1_767_225_599),
        (1_764_547_200, 1_767_225_600)
    );
}
