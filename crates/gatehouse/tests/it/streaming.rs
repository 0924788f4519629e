//! Streaming: frames relayed as they arrive, usage always recorded, disconnects cancel upstream.

use futures_util::StreamExt;
use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

fn config(mock: &MockOpenAi, idle: &str) -> String {
    format!(
        "providers:\n  up: {{ kind: openai_compatible, base_url: \"{}\", timeouts: {{ idle: {idle} }} }}\nmodels:\n  - {{ name: m, targets: [{{ provider: up, model: up-model }}] }}\n",
        mock.base_url()
    )
}

fn data_payloads(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn first_chunk_arrives_before_upstream_finishes() {
    let (reply, gate) = Reply::gated_stream(&["one", "two", "three"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let gw = TestGateway::start(&config(&mock, "30s")).await;
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r.bytes_stream();
    gate.release(1);
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
        .await
        .expect("first chunk must arrive while the upstream is still open")
        .expect("chunk")
        .expect("bytes");
    let first = String::from_utf8_lossy(&first).to_string();
    assert!(first.contains("one"), "{first}");
    assert!(!first.contains("two"), "only released chunks can have arrived: {first}");
    gate.finish();
    let mut rest = String::new();
    while let Some(chunk) = body.next().await {
        rest.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(
        rest.contains("two") && rest.contains("three") && rest.trim_end().ends_with("data: [DONE]"),
        "{rest}"
    );
}

#[tokio::test]
async fn usage_is_recorded_and_returned_without_include_usage() {
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("alpha beta gamma"))
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, "30s")).await;
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "count my words"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    // Upstream was asked for usage although the client did not ask.
    let sent: serde_json::Value = serde_json::from_slice(&mock.requests()[0].body).expect("json");
    assert_eq!(sent["stream_options"]["include_usage"], true);
    // The client sees the usage chunk (choices: []) just before [DONE].
    let payloads = data_payloads(&text);
    assert_eq!(payloads.last().map(String::as_str), Some("[DONE]"));
    let usage_chunk: serde_json::Value = serde_json::from_str(&payloads[payloads.len() - 2]).expect("usage chunk");
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 3);
    let log = gw.next_log().await;
    assert_eq!(log["stream"], true);
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["output_tokens"], 3);
    assert_eq!(log["input_tokens"], usage_chunk["usage"]["prompt_tokens"]);
    assert!(log["ttfb_ms"].as_f64().is_some());
}

#[tokio::test]
async fn client_asked_include_usage_keeps_its_stream_options() {
    let mock = MockOpenAi::builder().reply(Reply::chat("x y")).start().await;
    let gw = TestGateway::start(&config(&mock, "30s")).await;
    let body = r#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    r.text().await.expect("body");
    let sent = String::from_utf8(mock.requests()[0].body.to_vec()).expect("utf8");
    assert_eq!(sent, body.replace("\"m\"", "\"up-model\""));
    assert_eq!(gw.next_log().await["output_tokens"], 2);
}

#[tokio::test]
async fn client_disconnect_cancels_upstream_and_is_still_logged() {
    let (reply, gate) = Reply::gated_stream(&["one", "two", "three"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let gw = TestGateway::start(&config(&mock, "30s")).await;
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    let mut body = r.bytes_stream();
    gate.release(1);
    body.next().await.expect("first chunk").expect("bytes");
    drop(body);
    tokio::time::timeout(std::time::Duration::from_secs(10), mock.wait_cancelled(1))
        .await
        .expect("upstream stream was not cancelled");
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "client_disconnected");
    assert_eq!(log["stream"], true);
    let m = gw.metrics().await;
    assert!(m.contains("code=\"client_disconnected\"} 1"), "{m}");
}

#[tokio::test]
async fn idle_upstream_stream_is_cut_and_logged() {
    let (reply, gate) = Reply::gated_stream(&["one", "two"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let gw = TestGateway::start(&config(&mock, "300ms")).await;
    let r = gw
        .chat(json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    gate.release(1);
    // Never release the rest: the idle timeout must end the stream with an error.
    let res = r.text().await;
    assert!(res.is_err() || !res.as_deref().unwrap_or("").contains("[DONE]"));
    let log = gw.next_log().await;
    assert_eq!(log["error_code"], "upstream_idle_timeout");
    tokio::time::timeout(std::time::Duration::from_secs(10), mock.wait_cancelled(1))
        .await
        .expect("upstream closed");
    drop(gate);
}
