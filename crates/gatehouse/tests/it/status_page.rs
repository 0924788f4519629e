//! `/status` as one self-contained HTML page and as JSON: version, config generation and last reload, models →
//! targets (serving, state), vLLM pool replicas with their signals, limits, budgets, MCP upstreams with sessions,
//! trace export — fetched and checked, with no external asset and no secret on the page.

use gatehouse::policy::keys::hash_key;
use serde_json::{Value, json};
use testkit::{MockOpenAi, Reply};

use crate::pool_routing::{BASE, sim, start_sim, wait_pool};
use crate::support::TestGateway;

fn config(up: &str, replica: &str) -> String {
    format!(
        r#"
providers:
  primary: {{ kind: openai_compatible, base_url: "{up}", api_key: {{ value: sk-status-secret }} }}
  missing: {{ kind: openai_compatible, base_url: "{up}", api_key: {{ env: GATEHOUSE_TEST_UNSET_KEY_42 }} }}
  pool:
    kind: vllm_pool
    endpoints: ["{replica}"]
models:
  - {{ name: chat, aliases: [c], targets: [{{ provider: primary }}, {{ provider: missing }}] }}
  - {{ name: llama, targets: [{{ provider: pool, model: {BASE} }}] }}
auth:
  api_keys:
    - {{ name: alice, sha256: "{}", team: ml }}
limits:
  - {{ name: per-key, scope: key, requests_per_minute: 60, burst: 10 }}
pricing:
  models:
    chat: {{ input: 1, output: 1 }}
budgets:
  - {{ name: team-daily, scope: team, period: day, limit_usd: 50 }}
mcp:
  upstreams:
    tools: {{ url: "http://127.0.0.1:9/mcp?token=should-not-show" }}
telemetry:
  access_log: off
  traces: {{ endpoint: "http://127.0.0.1:4318", headers: {{ x-api-key: {{ value: otel-status-secret }} }} }}
"#,
        hash_key("sk-alice")
    )
}

#[tokio::test]
async fn status_page_shows_every_section_as_html_and_json() {
    let up = MockOpenAi::builder().reply(Reply::chat("hi")).start().await;
    let replica = start_sim(sim(0.01)).await;
    let gw = TestGateway::start(&config(&up.base_url(), &replica)).await;
    let r = gw
        .chat(json!({"model": "chat", "messages": [{"role": "user", "content": "hi"}]}))
        .bearer_auth("sk-alice")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // The pool's replica has been scraped (its signals are on the page).
    wait_pool(&gw, "scraped", |p| p["replicas"][0]["metrics_age_ms"].is_number()).await;

    let json: Value = gw
        .http
        .get(gw.admin("/status"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["config_generation"], 0);
    assert_eq!(json["ready"], true);
    let chat = &json["models"][0];
    assert_eq!(chat["name"], "chat");
    assert_eq!(chat["serving"], "primary");
    assert_eq!(chat["targets"][1]["state"], "disabled");
    assert!(
        chat["targets"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("GATEHOUSE_TEST_UNSET_KEY_42"))
    );
    assert_eq!(json["pools"][0]["replicas"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["limits"]["backend"], "in-process");
    assert_eq!(json["limits"]["limits"][0]["name"], "per-key");
    assert_eq!(json["limits"]["limits"][0]["tracked_keys"], 1);
    assert_eq!(json["budgets"][0]["budget"], "team-daily");
    assert_eq!(json["budgets"][0]["account"], "ml");
    assert!(json["budgets"][0]["spent_usd"].as_f64().is_some_and(|s| s > 0.0));
    assert_eq!(json["mcp"][0]["name"], "tools");
    assert_eq!(json["mcp"][0]["transport"], "http");
    assert_eq!(json["mcp"][0]["target"], "http://127.0.0.1:9/mcp");
    assert_eq!(json["mcp"][0]["local_sessions"], 0);
    assert_eq!(json["traces"]["exporting"], true);
    assert_eq!(json["traces"]["endpoint"], "http://127.0.0.1:4318/v1/traces");
    let same: Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(same["models"], json["models"]);

    let resp = gw.http.get(gw.admin("/status")).send().await.expect("status");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/html"))
    );
    let html = resp.text().await.expect("html");
    std::fs::write(std::env::temp_dir().join("gatehouse-status.html"), &html).ok();
    for needle in [
        "<h1>gatehouse</h1>",
        &format!("version {}", env!("CARGO_PKG_VERSION")),
        "config generation 0",
        "<h2>Models</h2>",
        "primary",
        "GATEHOUSE_TEST_UNSET_KEY_42",
        "<h2>vLLM pool pool</h2>",
        "<h2>Limits</h2>",
        "per-key",
        "<h2>Budgets</h2>",
        "team-daily",
        "<h2>MCP upstreams</h2>",
        "<h2>Telemetry</h2>",
        "http://127.0.0.1:4318/v1/traces",
    ] {
        assert!(html.contains(needle), "missing {needle} in the page");
    }
    // Self-contained: no script, no stylesheet or image fetched from anywhere.
    for banned in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(banned), "external asset or script: {banned}");
    }
    for secret in ["sk-status-secret", "otel-status-secret", "should-not-show", "sk-alice"] {
        assert!(
            !html.contains(secret) && !json.to_string().contains(secret),
            "{secret} on /status"
        );
    }

    // A rejected reload: the generation moves, the page says so and why, and the running config stays.
    // (Another directory than the watched config's, so no second reload races this one.)
    let other = tempfile::tempdir().expect("tempdir");
    let bad = other.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nmodels: [{ name: x, targets: [{ provider: nope }] }]\n",
    )
    .expect("write");
    assert!(!gatehouse::reload::reload(&gw.gw.state, &bad).await);
    let json: Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(json["config_generation"], 1);
    assert_eq!(json["last_reload"]["result"], "error");
    assert!(
        json["last_reload"]["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("nope"))
    );
    assert_eq!(
        json["models"][0]["name"], "chat",
        "the previous config is still in force"
    );
    let html = gw
        .http
        .get(gw.admin("/status"))
        .send()
        .await
        .expect("status")
        .text()
        .await
        .expect("html");
    assert!(html.contains("config generation 1"));
    assert!(html.contains("Last reload: <span class=error>error</span>"));
    assert!(html.contains("the previous config stays in force"));
    assert!(html.contains("nope"));
}
