//! Provider keys never reach a client, a log line or the config dump, even at debug log level.

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::{ChildGateway, with_defaults};

#[tokio::test]
async fn provider_key_never_reaches_logs_or_clients() {
    const KEY: &str = "sk-prov-TOPSECRET-4242";
    let ok = MockOpenAi::builder()
        .api_key(KEY)
        .reply(Reply::chat("fine"))
        .start()
        .await;
    let wrong = MockOpenAi::builder()
        .api_key("another-key")
        .reply(Reply::chat("x"))
        .start()
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).expect("write key");
    let config = with_defaults(&format!(
        "providers:\n  ok: {{ kind: openai_compatible, base_url: \"{}\", api_key: {{ file: \"{}\" }} }}\n  wrong: {{ kind: openai_compatible, base_url: \"{}\", api_key: {{ value: \"{KEY}\" }} }}\nmodels:\n  - {{ name: ok, targets: [{{ provider: ok }}] }}\n  - {{ name: wrong, targets: [{{ provider: wrong }}] }}\n",
        ok.base_url(),
        key_file.display(),
        wrong.base_url()
    ))
    .replace("access_log: off", "access_log: stdout");
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, config).expect("write config");
    let mut child = ChildGateway::spawn_with_log(&path, "debug,hyper=trace").await;
    let http = reqwest::Client::new();
    let mut bodies = String::new();
    for model in ["ok", "wrong"] {
        for stream in [false, true] {
            let r = http
                .post(format!("http://{}/v1/chat/completions", child.data))
                .json(&json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .expect("send");
            bodies.push_str(&r.text().await.unwrap_or_default());
        }
    }
    bodies.push_str(
        &http
            .get(format!("http://{}/config", child.admin))
            .send()
            .await
            .expect("config")
            .text()
            .await
            .expect("text"),
    );
    bodies.push_str(
        &http
            .get(format!("http://{}/status", child.admin))
            .send()
            .await
            .expect("status")
            .text()
            .await
            .expect("text"),
    );
    assert_eq!(ok.requests().len(), 2, "the key was really used");
    child.signal("TERM");
    child.wait_exit().await;
    let logs = [
        child.stdout.lock().expect("lock").join("\n"),
        child.stderr.lock().expect("lock").join("\n"),
    ]
    .join("\n");
    assert!(logs.contains("upstream_auth_failed"), "the failure is logged: {logs}");
    assert!(!logs.contains("TOPSECRET"), "key leaked into logs");
    assert!(!bodies.contains("TOPSECRET"), "key leaked to a client: {bodies}");
}
