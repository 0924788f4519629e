//! Model selection, passthrough fidelity and credentials on OpenAI-compatible routes.

use serde_json::json;
use testkit::{MockOpenAi, Reply};

use crate::support::TestGateway;

fn config(mock: &MockOpenAi) -> String {
    format!(
        r#"
providers:
  up:
    kind: openai_compatible
    base_url: {}
    api_key: {{ value: "sk-upstream-key" }}
models:
  - name: fast
    aliases: [quick, speedy]
    targets: [{{ provider: up, model: upstream-fast-v2 }}]
  - name: same
    targets: [{{ provider: up }}]
"#,
        mock.base_url()
    )
}

async fn setup() -> (MockOpenAi, TestGateway) {
    let mock = MockOpenAi::builder()
        .api_key("sk-upstream-key")
        .reply(Reply::chat("hello there"))
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock)).await;
    (mock, gw)
}

#[tokio::test]
async fn body_model_routes_and_is_rewritten_to_upstream_name() {
    let (mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "hello there");
    assert!(v["usage"]["total_tokens"].as_u64().expect("usage") > 0);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    let sent: serde_json::Value = serde_json::from_slice(&reqs[0].body).expect("json");
    assert_eq!(sent["model"], "upstream-fast-v2");
    let log = gw.next_log().await;
    assert_eq!(log["model"], "fast");
    assert_eq!(log["target"], "up");
    assert_eq!(log["status"], 200);
    assert_eq!(log["outcome"], "complete");
    assert!(log["input_tokens"].as_u64().expect("input tokens") > 0);
    assert_eq!(log["output_tokens"], 2);
}

#[tokio::test]
async fn header_model_wins_over_body_model() {
    let (mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "something-else", "messages": [{"role": "user", "content": "hi"}]}))
        .header("X-Gateway-Base-Model-Name", "same")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent: serde_json::Value = serde_json::from_slice(&mock.requests()[0].body).expect("json");
    assert_eq!(sent["model"], "same");
    // The header alone is enough: the body may omit `model`.
    let r = gw
        .chat(json!({"messages": [{"role": "user", "content": "hi"}]}))
        .header("X-Gateway-Base-Model-Name", "quick")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent: serde_json::Value = serde_json::from_slice(&mock.requests()[1].body).expect("json");
    assert_eq!(sent["model"], "upstream-fast-v2");
}

#[tokio::test]
async fn alias_resolves_to_the_model() {
    let (mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "speedy", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(gw.next_log().await["model"], "fast", "logged under the canonical name");
}

#[tokio::test]
async fn unknown_model_is_404_and_never_reaches_upstream() {
    let (mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "nope", "messages": []}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "model_not_found");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let r = gw.chat(json!({"messages": []})).send().await.expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "model_required"
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn passthrough_body_is_byte_identical_except_model() {
    let (mock, gw) = setup().await;
    // Odd spacing, key order, unknown fields, unicode escapes and number formats must survive untouched.
    let body = "{ \"temperature\":0.70,\n  \"model\" : \"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\\u00e9 \u{1F600}\"}],\n\"x_vendor\": {\"keep\": [1, 2.50, 1e3]} }";
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent = String::from_utf8(mock.requests()[0].body.to_vec()).expect("utf8");
    assert_eq!(sent, body.replace("\"fast\"", "\"upstream-fast-v2\""));
}

#[tokio::test]
async fn client_authorization_is_never_forwarded() {
    let (mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .header("authorization", "Bearer client-secret-token")
        .header("x-request-id", "req-abc-123")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "req-abc-123");
    let req = &mock.requests()[0];
    assert_eq!(req.headers["authorization"], "Bearer sk-upstream-key");
    assert_eq!(req.headers["x-request-id"], "req-abc-123");
    for (name, value) in &req.headers {
        assert!(
            !value.to_str().unwrap_or("").contains("client-secret-token"),
            "client credential leaked in {name}"
        );
    }
    assert_eq!(gw.next_log().await["request_id"], "req-abc-123");
}

#[tokio::test]
async fn completions_and_embeddings_are_routed() {
    let (mock, gw) = setup().await;
    let r = gw
        .http
        .post(gw.url("/v1/completions"))
        .json(&json!({"model": "fast", "prompt": "once"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "fast", "input": "vectors please"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["object"], "list");
    let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/completions", "/v1/embeddings"]);
    gw.next_log().await;
    let log = gw.next_log().await;
    assert_eq!(log["route"], "embeddings");
    assert!(log["input_tokens"].as_u64().expect("embedding usage") > 0);
}

#[tokio::test]
async fn upstream_rejecting_our_key_is_502_without_echoing_it() {
    let mock = MockOpenAi::builder()
        .api_key("the-right-key")
        .reply(Reply::chat("x"))
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock)).await;
    let r = gw
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 502);
    let text = r.text().await.expect("text");
    assert!(text.contains("upstream_auth_failed"), "{text}");
    assert!(!text.contains("sk-upstream-key"), "{text}");
}

#[tokio::test]
async fn upstream_error_status_is_relayed_with_retry_after() {
    let (mock, gw) = setup().await;
    mock.set_reply(
        Reply::status(
            429,
            json!({"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}),
        )
        .with_header("retry-after", "7"),
    );
    let r = gw
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    let log = gw.next_log().await;
    assert_eq!(log["error_code"], "upstream_error_status");
}

#[tokio::test]
async fn vllm_pool_round_robins_across_replicas() {
    // The mocks serve no /metrics, so scrape-based health is pushed out of the way: this test is about turns.
    let a = MockOpenAi::builder().reply(Reply::chat("from a")).start().await;
    let b = MockOpenAi::builder().reply(Reply::chat("from b")).start().await;
    let gw = TestGateway::start(&format!(
        "providers:\n  pool: {{ kind: vllm_pool, picker: round_robin, routing: {{ unhealthy_after: 100000 }}, endpoints: [\"{}\", \"{}\"] }}\nmodels:\n  - {{ name: llama, targets: [{{ provider: pool, model: base }}] }}\n",
        a.base_url(),
        b.base_url()
    ))
    .await;
    for _ in 0..4 {
        let r = gw
            .chat(json!({"model": "llama", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    // The pool also scrapes GET /metrics on each replica; count the chat requests.
    let chats = |m: &MockOpenAi| {
        m.requests()
            .into_iter()
            .filter(|r| r.path == "/v1/chat/completions")
            .collect::<Vec<_>>()
    };
    assert_eq!(chats(&a).len(), 2);
    assert_eq!(chats(&b).len(), 2);
    assert!(
        chats(&a)[0].headers.get("authorization").is_none(),
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn metrics_record_tokens_and_ttft() {
    let (_mock, gw) = setup().await;
    let r = gw
        .chat(json!({"model": "fast", "messages": [{"role": "user", "content": "one two three"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    gw.next_log().await;
    let m = gw.metrics().await;
    assert!(m.contains("gen_ai_client_token_usage_count{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"up\",gen_ai_request_model=\"fast\",gen_ai_token_type=\"output\"} 1"), "{m}");
    assert!(m.contains("gen_ai_server_time_to_first_token_count{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"up\",gen_ai_request_model=\"fast\"} 1"), "{m}");
    assert!(m.contains("gatehouse_requests_total{route=\"chat_completions\",model=\"fast\",target=\"up\",status=\"200\",code=\"\"} 1"), "{m}");
}
