//! `responses.store.backend: redis`: stored responses shared by two gateways through one real `redis-server`,
//! still scoped to the principal, a clear 503 while Redis is down, and the config rules checked by
//! `gatehouse check`.

use std::process::Command;

use testkit::{AnthropicReply, MockAnthropic};

use super::translated::anthropic_config;
use super::*;
use crate::redis_limits::{Redis, free_port, redis_binary};

fn body_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_is_shared_by_two_gateways_and_scoped() {
    let Some(bin) = redis_binary() else { return };
    let mut redis = Redis::start(bin, free_port()).await;
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-upstream")
        .reply(AnthropicReply::message("stored in redis"))
        .start()
        .await;
    let extra = format!(
        "redis: {{ url: \"{}\", timeout: 300ms }}\nresponses:\n  store: {{ backend: redis, ttl: 10m }}\n{}",
        redis.url(),
        keys_yaml()
    );
    let a = TestGateway::start(&anthropic_config(&mock, &extra)).await;
    let b = TestGateway::start(&anthropic_config(&mock, &extra)).await;
    let alice = [("authorization", "Bearer sk-alice")];
    let bob = [("authorization", "Bearer sk-bob")];

    // Stored on replica A (written before A answers), continued on replica B.
    let (status, _, text) = post(&a, &json!({"model": "claude", "input": "remember this"}), &alice).await;
    assert_eq!(status, 200, "{text}");
    let id = body_of(&text)["id"].as_str().expect("id").to_string();
    let next = json!({"model": "claude", "input": "and now?", "previous_response_id": id});
    let (status, _, text) = post(&b, &next, &alice).await;
    assert_eq!(status, 200, "replica B continues a response replica A stored: {text}");
    let replayed = mock.requests().last().expect("sent").json();
    assert_eq!(replayed["messages"][1]["content"][0]["text"], "stored in redis");
    let (status, _, text) = post(&b, &next, &bob).await;
    assert_eq!(status, 404, "another principal gets not-found: {text}");
    // An id not shaped like ours is never looked up.
    let (status, _, _) = post(
        &b,
        &json!({"model": "claude", "input": "x", "previous_response_id": "resp_x:alice"}),
        &alice,
    )
    .await;
    assert_eq!(status, 404);

    redis.kill();
    let (status, _, text) = post(&a, &next, &alice).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(body_of(&text)["error"]["code"], "response_store_unavailable");
    // Without previous_response_id the route does not depend on the store.
    let (status, _, _) = post(
        &a,
        &json!({"model": "claude", "input": "stateless", "store": false}),
        &alice,
    )
    .await;
    assert_eq!(status, 200);
}

#[test]
fn check_refuses_a_redis_store_without_redis_and_bad_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "providers:\n  p: { kind: openai, base_url: \"http://127.0.0.1:9/v1\" }\nmodels:\n  - { name: m, targets: [{ provider: p }] }\nresponses:\n  store: { backend: redis, ttl: 0s }\n",
    )
    .expect("write");
    let out = Command::new(crate::support::binary())
        .arg("check")
        .arg(&path)
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("responses.store.backend"), "{err}");
    assert!(err.contains("responses.store.ttl: must be greater than zero"), "{err}");
}
