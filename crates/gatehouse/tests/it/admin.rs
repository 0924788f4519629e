//! The admin listener: health, readiness, metrics, redacted config and status.

use crate::support::TestGateway;

const CONFIG: &str = r#"
providers:
  pool: { kind: vllm_pool, endpoints: ["http://127.0.0.1:9"] }
  paid:
    kind: openai_compatible
    base_url: https://api.example.com
    api_key: { value: "sk-live-SECRET-should-never-leak" }
  nokey:
    kind: openai_compatible
    base_url: https://api.example.com
    api_key: { env: GATEHOUSE_TEST_UNSET_KEY_1 }
models:
  - { name: local, aliases: [l], targets: [{ provider: pool }] }
  - { name: paid, targets: [{ provider: paid, model: gpt-4o }] }
  - { name: off, targets: [{ provider: nokey }] }
"#;

#[tokio::test]
async fn health_ready_and_metrics() {
    let gw = TestGateway::start(CONFIG).await;
    let r = gw.http.get(gw.admin("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), 200);
    let r = gw.http.get(gw.admin("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 200);
    let r = gw
        .chat(serde_json::json!({"model": "off", "messages": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    gw.next_log().await;
    let m = gw.metrics().await;
    for name in [
        "gatehouse_config_reloads_total{result=\"error\"} 0",
        "gatehouse_requests_total{route=\"chat_completions\",model=\"off\",target=\"\",status=\"503\",code=\"target_disabled\"} 1",
        "# TYPE gatehouse_request_duration_seconds histogram",
        "gatehouse_requests_in_flight 0",
    ] {
        assert!(m.contains(name), "metrics lack {name}:\n{m}");
    }
}

#[tokio::test]
async fn config_dump_redacts_secrets() {
    let gw = TestGateway::start(CONFIG).await;
    let body = gw
        .http
        .get(gw.admin("/config"))
        .send()
        .await
        .expect("config")
        .text()
        .await
        .expect("text");
    assert!(!body.contains("sk-live-SECRET"), "{body}");
    assert!(body.contains("<redacted>"), "{body}");
    assert!(
        body.contains("GATEHOUSE_TEST_UNSET_KEY_1"),
        "env secret shows its variable name: {body}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["providers"]["paid"]["base_url"], "https://api.example.com");
}

#[tokio::test]
async fn status_shows_targets_with_state_and_reason() {
    let gw = TestGateway::start(CONFIG).await;
    let v: serde_json::Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let models = v["models"].as_array().expect("models");
    let off = models.iter().find(|m| m["name"] == "off").expect("off model");
    assert_eq!(off["serving"], serde_json::Value::Null);
    assert_eq!(off["targets"][0]["state"], "disabled");
    assert!(
        off["targets"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("GATEHOUSE_TEST_UNSET_KEY_1` is not set")
    );
    let paid = models.iter().find(|m| m["name"] == "paid").expect("paid");
    assert_eq!(paid["serving"], "paid");
    assert_eq!(paid["targets"][0]["model"], "gpt-4o");
    let html = gw
        .http
        .get(gw.admin("/status"))
        .send()
        .await
        .expect("status")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<table>") && html.contains("class=disabled"), "{html}");
    assert!(!html.contains("sk-live-SECRET"));
}

#[tokio::test]
async fn models_list_shows_disabled_reason() {
    let gw = TestGateway::start(CONFIG).await;
    let v: serde_json::Value = gw
        .http
        .get(gw.url("/v1/models"))
        .send()
        .await
        .expect("models")
        .json()
        .await
        .expect("json");
    assert_eq!(v["object"], "list");
    let data = v["data"].as_array().expect("data");
    assert_eq!(
        data.iter().map(|m| m["id"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["local", "paid", "off"]
    );
    let off = &data[2];
    assert_eq!(off["object"], "model");
    assert_eq!(off["gatehouse"]["available"], false);
    assert!(
        off["gatehouse"]["targets"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("not set")
    );
    assert_eq!(data[0]["gatehouse"]["aliases"][0], "l");
}

#[tokio::test]
async fn disabled_target_answers_503_with_reason() {
    let gw = TestGateway::start(CONFIG).await;
    let r = gw
        .chat(serde_json::json!({"model": "off", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "target_disabled");
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("GATEHOUSE_TEST_UNSET_KEY_1")
    );
    let log = gw.next_log().await;
    assert_eq!(log["error_code"], "target_disabled");
    assert_eq!(log["status"], 503);
}
