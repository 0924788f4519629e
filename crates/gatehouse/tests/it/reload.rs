//! Hot reload (good, bad, in-flight), secret file rotation, and SIGHUP on the real binary.

use std::time::Duration;

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::{ChildGateway, TestGateway, with_defaults};

fn one_model(base: &str, model: &str, extra: &str) -> String {
    with_defaults(&format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"{base}\"{extra} }}\nmodels:\n  - {{ name: {model}, targets: [{{ provider: up }}] }}\n"
    ))
}

/// Waits for the next reload attempt or secret change.
async fn next_generation(gw: &TestGateway, rx: &mut tokio::sync::watch::Receiver<u64>) {
    tokio::time::timeout(Duration::from_secs(10), rx.changed())
        .await
        .expect("no reload within 10s")
        .expect("state dropped");
    let _ = gw;
}

#[tokio::test]
async fn good_reload_swaps_config_and_bad_reload_keeps_it() {
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let gw = TestGateway::start(&one_model(&mock.base_url(), "first", "")).await;
    let mut gen_rx = gw.gw.state.generation.subscribe();

    testkit::write_file_atomically(gw.config_path(), one_model(&mock.base_url(), "second", "").as_bytes());
    next_generation(&gw, &mut gen_rx).await;
    let r = gw
        .chat(json!({"model": "second", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = gw
        .chat(json!({"model": "first", "messages": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);

    // A broken file: every error logged, old config kept, error counted and shown on /status.
    testkit::write_file_atomically(gw.config_path(), b"providers:\n  up: { kind: nope }\nmodels: 7\n");
    next_generation(&gw, &mut gen_rx).await;
    let r = gw
        .chat(json!({"model": "second", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "old config still serves");
    let m = gw.metrics().await;
    assert!(m.contains("gatehouse_config_reloads_total{result=\"error\"} 1"), "{m}");
    assert!(
        m.contains("gatehouse_config_reloads_total{result=\"success\"} 1"),
        "{m}"
    );
    let status: serde_json::Value = gw
        .http
        .get(gw.admin("/status?format=json"))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["last_reload"]["result"], "error");
    let errors = status["last_reload"]["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "both problems reported: {errors:?}");
}

#[tokio::test]
async fn in_flight_request_finishes_on_its_config() {
    let (reply, gate) = Reply::gated_stream(&["old", "config"]);
    let old = MockOpenAi::builder().reply(reply).start().await;
    let new = MockOpenAi::builder().reply(Reply::chat("new")).start().await;
    let gw = TestGateway::start(&one_model(&old.base_url(), "m", "")).await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    old.wait_for_requests(1).await;

    testkit::write_file_atomically(gw.config_path(), one_model(&new.base_url(), "m", "").as_bytes());
    next_generation(&gw, &mut gen_rx).await;
    gate.finish();
    let text = r.text().await.expect("stream");
    assert!(text.contains("old") && text.contains("[DONE]"), "{text}");
    let r = gw
        .chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["choices"][0]["message"]["content"],
        "new"
    );
    assert_eq!(old.requests().len(), 1);
    assert_eq!(new.requests().len(), 1);
}

#[tokio::test]
async fn secret_file_rotation_is_picked_up_without_restart() {
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let secrets = tempfile::tempdir().expect("tempdir");
    testkit::swap_k8s_secret_dir(secrets.path(), "api-key", b"key-one\n");
    let key_path = secrets.path().join("api-key");
    let gw = TestGateway::start(&one_model(
        &mock.base_url(),
        "m",
        &format!(", api_key: {{ file: \"{}\" }}", key_path.display()),
    ))
    .await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    let send = || {
        gw.chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    assert_eq!(send().await.expect("send").status(), 200);

    testkit::swap_k8s_secret_dir(secrets.path(), "api-key", b"key-two\n");
    next_generation(&gw, &mut gen_rx).await;
    assert_eq!(send().await.expect("send").status(), 200);
    let auths: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(auths, ["Bearer key-one", "Bearer key-two"]);
}

#[tokio::test]
async fn missing_secret_file_disables_then_enables_the_target() {
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let secrets = tempfile::tempdir().expect("tempdir");
    let key_path = secrets.path().join("api-key");
    let gw = TestGateway::start(&one_model(
        &mock.base_url(),
        "m",
        &format!(", api_key: {{ file: \"{}\" }}", key_path.display()),
    ))
    .await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    let r = gw
        .chat(json!({"model": "m", "messages": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    testkit::write_file_atomically(&key_path, b"late-key");
    next_generation(&gw, &mut gen_rx).await;
    let r = gw
        .chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(mock.requests()[0].headers["authorization"], "Bearer late-key");
}

#[tokio::test]
async fn sighup_reloads_the_binary_config() {
    let mock = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, one_model(&mock.base_url(), "m", "")).expect("write");
    let child = ChildGateway::spawn(&path).await;
    let http = reqwest::Client::new();
    child.signal("HUP");
    // The child is another process: poll its metrics, bounded.
    let url = format!("http://{}/metrics", child.admin);
    let mut seen = String::new();
    for _ in 0..100 {
        seen = http
            .get(&url)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if seen.contains("gatehouse_config_reloads_total{result=\"success\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.contains("gatehouse_config_reloads_total{result=\"success\"} 1"),
        "{seen}"
    );
    assert!(child.stderr.lock().expect("lock").iter().any(|l| l.contains("SIGHUP")));
}

#[tokio::test]
async fn anthropic_key_rotates_through_the_secret_file() {
    let mock = testkit::MockAnthropic::builder()
        .reply(testkit::AnthropicReply::message("ok"))
        .start()
        .await;
    let secrets = tempfile::tempdir().expect("tempdir");
    testkit::swap_k8s_secret_dir(secrets.path(), "api-key", b"ant-key-one\n");
    let key_path = secrets.path().join("api-key");
    let gw = TestGateway::start(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ file: \"{}\" }} }}\nmodels:\n  - {{ name: m, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\n",
        mock.base_url(),
        key_path.display()
    ))
    .await;
    let mut gen_rx = gw.gw.state.generation.subscribe();
    let send = || {
        gw.chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    assert_eq!(send().await.expect("send").status(), 200);
    testkit::swap_k8s_secret_dir(secrets.path(), "api-key", b"ant-key-two\n");
    next_generation(&gw, &mut gen_rx).await;
    assert_eq!(send().await.expect("send").status(), 200);
    let keys: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, ["ant-key-one", "ant-key-two"]);
}
