//! Metering and pricing: cost from normalised usage (cached and cache-write tokens priced separately), the shipped
//! example price table, `cost_usd` in the access log, spend and token counters by key/team/model/provider, the
//! optional cost header, and streams metered at their end.

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic, MockOpenAi, Reply};

use crate::support::TestGateway;

const KEY: &str = "sk-ant-provider";

fn prices_file() -> String {
    format!("{}/../../examples/prices.yaml", env!("CARGO_MANIFEST_DIR"))
}

async fn setup(cost_header: bool) -> (MockAnthropic, MockOpenAi, TestGateway) {
    let anthropic = MockAnthropic::builder()
        .api_key(KEY)
        .reply(
            AnthropicReply::message("hi")
                .with_output_tokens(1000)
                .with_cache_tokens(2000, 6000),
        )
        .start()
        .await;
    let openai = MockOpenAi::builder().reply(Reply::chat("one two three")).start().await;
    let gw = TestGateway::start(&format!(
        r#"
providers:
  claude: {{ kind: anthropic, base_url: "{}", api_key: {{ value: "{KEY}" }} }}
  local: {{ kind: openai_compatible, base_url: "{}" }}
models:
  - {{ name: sonnet, targets: [{{ provider: claude, model: claude-sonnet-4-5 }}] }}
  - {{ name: llama, targets: [{{ provider: local }}] }}
auth:
  api_keys:
    - {{ name: alice, sha256: "{}", team: ml, user: alice }}
pricing:
  files: ["{}"]
  models:
    llama: {{ input: 0.5, output: 1.5 }}
  cost_header: {cost_header}
"#,
        anthropic.base_url(),
        openai.base_url(),
        hash_key("sk-alice"),
        prices_file()
    ))
    .await;
    (anthropic, openai, gw)
}

fn expected(log: &Value, input: f64, output: f64, read: f64, write: f64) -> f64 {
    let n = |k: &str| log[k].as_f64().unwrap_or_else(|| panic!("{k} in {log}"));
    let (i, o, r, w) = (
        n("input_tokens"),
        n("output_tokens"),
        n("cached_input_tokens"),
        n("cache_write_input_tokens"),
    );
    ((i - r - w) * input + r * read + w * write + o * output) / 1e6
}

#[tokio::test]
async fn metering_prices_cached_tokens_logs_and_counts_spend() {
    let (_a, _o, gw) = setup(true).await;
    let r = gw
        .chat(json!({"model": "sonnet", "max_tokens": 2000, "messages": [{"role": "user", "content": "hello there"}]}))
        .bearer_auth("sk-alice")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let header: f64 = r
        .headers()
        .get("x-gatehouse-cost-usd")
        .and_then(|v| v.to_str().ok())
        .expect("cost header")
        .parse()
        .expect("number");
    let _ = r.text().await;
    let log = gw.next_log().await;
    assert_eq!(log["cached_input_tokens"], 6000);
    assert_eq!(log["cache_write_input_tokens"], 2000);
    // claude-sonnet-4-5 in examples/prices.yaml: 3 in, 15 out, 0.30 cache read, 3.75 cache write.
    let want = expected(&log, 3.0, 15.0, 0.30, 3.75);
    let cost = log["cost_usd"].as_f64().expect("cost_usd");
    assert!((cost - want).abs() < 1e-12, "{cost} vs {want}");
    assert!((header - want).abs() < 1e-6, "{header} vs {want}");
    let metrics = gw.metrics().await;
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("gatehouse_spend_usd_total{")
                && l.contains("key=\"alice\"")
                && l.contains("team=\"ml\"")
                && l.contains("model=\"sonnet\"")
                && l.contains("provider=\"claude\"")
        })
        .unwrap_or_else(|| panic!("no spend line:\n{metrics}"));
    let v: f64 = line.rsplit(' ').next().expect("value").parse().expect("number");
    assert!((v - want).abs() < 1e-9, "{line}");
    assert!(
        metrics.lines().any(|l| l.starts_with("gatehouse_billed_tokens_total{")
            && l.contains("type=\"cache_read\"")
            && l.ends_with(" 6000")),
        "{metrics}"
    );
}

#[tokio::test]
async fn metering_counts_streams_and_inline_prices_without_header() {
    let (_a, _o, gw) = setup(false).await;
    let r = gw
        .chat(
            json!({"model": "llama", "stream": true, "stream_options": {"include_usage": true},
                     "messages": [{"role": "user", "content": "hello there"}]}),
        )
        .bearer_auth("sk-alice")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-gatehouse-cost-usd").is_none(), "off by default");
    let _ = r.text().await;
    let log = gw.next_log().await;
    assert_eq!(log["output_tokens"], 3);
    let want = expected(&log, 0.5, 1.5, 0.5, 0.5);
    let cost = log["cost_usd"].as_f64().expect("cost_usd");
    assert!(cost > 0.0 && (cost - want).abs() < 1e-12, "{cost} vs {want}");
}

#[tokio::test]
async fn pricing_config_errors_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "models: []\npricing:\n  files: [/nonexistent/prices.yaml]\n  models:\n    m: { input: -1, output: 2 }\n",
    )
    .expect("write");
    let errs = gatehouse::config::load(&path).expect_err("invalid").to_string();
    assert!(errs.contains("pricing.files[0]: cannot read price file"), "{errs}");
    assert!(
        errs.contains("pricing.models.m: prices of `m` must be finite and not negative"),
        "{errs}"
    );
}
