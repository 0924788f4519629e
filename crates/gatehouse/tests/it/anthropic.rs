//! OpenAI chat completions served by an Anthropic target: what the strict Anthropic mock receives, what the
//! client gets back, errors, credentials and headers.

use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic};

use crate::support::{ChildGateway, TestGateway, with_defaults};

pub const KEY: &str = "sk-ant-upstream-key";

pub fn config(mock: &MockAnthropic, extra_provider: &str, extra_target: &str) -> String {
    format!(
        r#"
providers:
  claude:
    kind: anthropic
    base_url: {}
    api_key: {{ value: "{KEY}" }}
    allowed_betas: [prompt-caching-2024-07-31, token-efficient-tools-2025-02-19]
{extra_provider}
models:
  - name: claude-haiku
    aliases: [haiku]
    targets: [{{ provider: claude, model: claude-haiku-4-5, max_tokens_default: 1000 {extra_target} }}]
"#,
        mock.base_url()
    )
}

pub async fn setup(reply: AnthropicReply) -> (MockAnthropic, TestGateway) {
    let mock = MockAnthropic::builder().api_key(KEY).reply(reply).start().await;
    let gw = TestGateway::start(&config(&mock, "", "")).await;
    (mock, gw)
}

#[tokio::test]
async fn header_model_reaches_anthropic_as_the_configured_upstream_model() {
    let (mock, gw) = setup(
        AnthropicReply::message("Hello from Claude")
            .with_input_tokens(10)
            .with_output_tokens(7),
    )
    .await;
    // The seed's topology: a gateway in front sets the header and leaves its own model name in the body.
    let r = gw
        .chat(json!({"model": "gpt-4o", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"}]}))
        .header("x-gateway-base-model-name", "claude-haiku")
        .header("authorization", "Bearer client-own-key")
        .header("x-api-key", "client-own-x-api-key")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "claude-haiku", "the client-facing name is reported");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Claude");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 10);
    assert_eq!(v["usage"]["completion_tokens"], 7);
    assert_eq!(v["usage"]["total_tokens"], 17);

    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    let req = &sent[0];
    assert!(
        req.rejection.is_none(),
        "the strict mock accepted it: {:?}",
        req.rejection
    );
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(KEY), "the provider key is sent");
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        req.header("authorization"),
        None,
        "the client's credential never reaches Anthropic"
    );
    let body = req.json();
    assert_eq!(body["model"], "claude-haiku-4-5");
    assert_eq!(body["max_tokens"], 1000, "the target's max_tokens_default");
    assert_eq!(body["system"][0]["text"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
    );

    let log = gw.next_log().await;
    assert_eq!(log["model"], "claude-haiku");
    assert_eq!(log["target"], "claude");
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["input_tokens"], 10);
    assert_eq!(log["output_tokens"], 7);
}

#[tokio::test]
async fn usage_counts_cache_reads_and_writes() {
    let reply = AnthropicReply::message("cached")
        .with_input_tokens(21)
        .with_cache_tokens(188, 2000)
        .with_output_tokens(3);
    let (_mock, gw) = setup(reply).await;
    let v: Value = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        v["usage"]["prompt_tokens"],
        21 + 188 + 2000,
        "input + cache writes + cache reads"
    );
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 2000);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cache_write_tokens"], 188);
    assert_eq!(v["usage"]["total_tokens"], 21 + 188 + 2000 + 3);
    let log = gw.next_log().await;
    assert_eq!(log["input_tokens"], 2209);
    assert_eq!(log["cached_input_tokens"], 2000);
    assert_eq!(log["cache_write_input_tokens"], 188);
    let m = gw.metrics().await;
    assert!(m.contains("gen_ai_client_token_usage"), "{m}");
}

#[tokio::test]
async fn tool_round_trip_is_translated_both_ways() {
    let (mock, gw) = setup(AnthropicReply::tool_use("get_weather", json!({"city": "Paris"}))).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let v: Value = gw
        .chat(json!({"model": "haiku", "tools": tools, "tool_choice": "required",
            "messages": [{"role": "user", "content": "Weather in Paris?"}]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let call = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"city":"Paris"}"#);
    let id = call["id"].as_str().expect("id").to_string();

    mock.set_reply(AnthropicReply::message("18C and sunny."));
    let r = gw
        .chat(json!({"model": "haiku", "tools": tools, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": id, "content": "18C, sun"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent = mock.requests();
    let first = sent[0].json();
    assert_eq!(first["tool_choice"], json!({"type": "any"}));
    assert_eq!(first["tools"][0]["name"], "get_weather");
    assert!(first["tools"][0]["input_schema"].is_object());
    let second = sent[1].json();
    assert!(sent[1].rejection.is_none(), "{:?}", sent[1].rejection);
    assert_eq!(second["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(second["messages"][1]["content"][0]["id"], id.as_str());
    assert_eq!(second["messages"][1]["content"][0]["input"], json!({"city": "Paris"}));
    assert_eq!(second["messages"][2]["content"][0]["type"], "tool_result");
    assert_eq!(second["messages"][2]["content"][0]["tool_use_id"], id.as_str());
}

#[tokio::test]
async fn untranslatable_parameter_is_400_naming_it_and_never_reaches_anthropic() {
    let (mock, gw) = setup(AnthropicReply::message("x")).await;
    for (body, param) in [
        (
            json!({"model": "haiku", "n": 2, "messages": [{"role": "user", "content": "x"}]}),
            "n",
        ),
        (
            json!({"model": "haiku", "logprobs": true, "messages": [{"role": "user", "content": "x"}]}),
            "logprobs",
        ),
        (
            json!({"model": "haiku", "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}),
            "temperature",
        ),
        (
            json!({"model": "haiku", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "http://example.com/cat.png"}}]}]}),
            "http",
        ),
        (
            json!({"model": "haiku", "messages": [{"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]},
            {"role": "user", "content": "x"}]}),
            "arguments",
        ),
    ] {
        let r = gw.chat(body).send().await.expect("send");
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.expect("json");
        let msg = v["error"]["message"].as_str().expect("message");
        assert!(msg.contains(param), "{msg} should name {param}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    assert!(mock.requests().is_empty(), "nothing reached Anthropic");
}

#[tokio::test]
async fn dropped_parameters_are_listed_for_the_client() {
    let mock = MockAnthropic::builder()
        .api_key(KEY)
        .reply(AnthropicReply::message("ok"))
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, "", ", drop_unsupported: true")).await;
    let r = gw
        .chat(
            json!({"model": "haiku", "n": 2, "seed": 7, "temperature": 0.5, "top_p": 0.9, "store": true,
            "messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let dropped = r
        .headers()
        .get("x-gatehouse-dropped-params")
        .and_then(|v| v.to_str().ok())
        .expect("dropped header")
        .to_string();
    for p in ["n", "seed", "top_p", "store"] {
        assert!(dropped.split(',').any(|d| d == p), "{p} missing from {dropped}");
    }
    let body = mock.requests()[0].json();
    assert_eq!(body["temperature"], 0.5, "temperature kept on an `exclusive` model");
    assert!(body.get("top_p").is_none(), "never both: {body}");
    assert!(mock.requests()[0].rejection.is_none());
}

#[tokio::test]
async fn anthropic_beta_values_are_filtered_by_the_allowlist() {
    let (mock, gw) = setup(AnthropicReply::message("ok")).await;
    let r = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "x"}]}))
        .header("anthropic-beta", "prompt-caching-2024-07-31, not-allowed-beta")
        .header("anthropic-beta", "token-efficient-tools-2025-02-19")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "x"}]}))
        .header("anthropic-beta", "not-allowed-beta")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent = mock.requests();
    assert_eq!(
        sent[0].header("anthropic-beta"),
        Some("prompt-caching-2024-07-31,token-efficient-tools-2025-02-19")
    );
    assert_eq!(sent[1].header("anthropic-beta"), None);
}

#[tokio::test]
async fn anthropic_errors_become_openai_errors_with_retry_after() {
    // One attempt: this test is about how an error is relayed, not about retries (tests/it/failover.rs).
    let mock = MockAnthropic::builder()
        .api_key(KEY)
        .reply(AnthropicReply::message("unused"))
        .start()
        .await;
    let gw = TestGateway::start(&format!("{}failover: {{ max_attempts: 1 }}\n", config(&mock, "", ""))).await;
    let cases = [
        (AnthropicReply::rate_limited(7), 429, "upstream_rate_limited", Some("7")),
        (
            AnthropicReply::overloaded().with_retry_after(3),
            503,
            "upstream_overloaded",
            Some("3"),
        ),
        (
            AnthropicReply::error(
                400,
                "invalid_request_error",
                "prompt is too long: 300000 tokens > 200000 maximum",
            ),
            400,
            "context_length_exceeded",
            None,
        ),
        (
            AnthropicReply::error(500, "api_error", "Internal server error"),
            500,
            "upstream_server_error",
            None,
        ),
    ];
    for (reply, status, code, retry_after) in cases {
        mock.enqueue(reply);
        let r = gw
            .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), status, "{code}");
        assert_eq!(
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
            retry_after,
            "{code}"
        );
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"]["code"], code);
        assert!(v["error"]["message"].is_string());
        let log = gw.next_log().await;
        assert_eq!(log["error_code"], code);
    }
}

#[tokio::test]
async fn routes_anthropic_cannot_serve_are_400() {
    let (mock, gw) = setup(AnthropicReply::message("x")).await;
    let r = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "haiku", "input": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "route_not_supported");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn anthropic_key_never_reaches_logs_clients_or_config() {
    const SECRET: &str = "sk-ant-TOPSECRET-9191";
    let ok = MockAnthropic::builder()
        .api_key(SECRET)
        .reply(AnthropicReply::message("fine"))
        .start()
        .await;
    let wrong = MockAnthropic::builder().api_key("another-key").start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, SECRET).expect("write key");
    let config = with_defaults(&format!(
        "providers:\n  ok: {{ kind: anthropic, base_url: \"{}\", api_key: {{ file: \"{}\" }} }}\n  wrong: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: \"{SECRET}\" }} }}\nmodels:\n  - {{ name: ok, targets: [{{ provider: ok }}] }}\n  - {{ name: wrong, targets: [{{ provider: wrong }}] }}\n",
        ok.base_url(),
        key_file.display(),
        wrong.base_url()
    ))
    .replace("access_log: off", "access_log: stdout");
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, config).expect("write config");
    let mut child = ChildGateway::spawn_with_log(&path, "trace").await;
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
            let status = r.status().as_u16();
            bodies.push_str(&r.text().await.unwrap_or_default());
            if model == "wrong" {
                assert_eq!(status, 502);
                assert!(bodies.contains("upstream_auth_failed"), "{bodies}");
            }
        }
    }
    for path in ["/config", "/status", "/status?format=json"] {
        let text = http
            .get(format!("http://{}{path}", child.admin))
            .send()
            .await
            .expect("admin")
            .text()
            .await
            .expect("text");
        bodies.push_str(&text);
    }
    assert_eq!(ok.requests().len(), 2, "the key was really used");
    assert_eq!(ok.requests()[0].header("x-api-key"), Some(SECRET));
    child.signal("TERM");
    child.wait_exit().await;
    let logs = [
        child.stdout.lock().expect("lock").join("\n"),
        child.stderr.lock().expect("lock").join("\n"),
    ]
    .join("\n");
    assert!(
        logs.contains("rejected the gateway's credential"),
        "the operator is told: {logs}"
    );
    assert!(!logs.contains("TOPSECRET"), "key leaked into logs");
    assert!(!bodies.contains("TOPSECRET"), "key leaked to a client: {bodies}");
}

#[tokio::test]
async fn thinking_becomes_reasoning_content_and_effort_becomes_a_budget() {
    let (mock, gw) = setup(AnthropicReply::thinking("Let me think step by step.", "42")).await;
    let v: Value = gw
        .chat(
            json!({"model": "haiku", "reasoning_effort": "low", "max_completion_tokens": 4000,
            "messages": [{"role": "user", "content": "Answer?"}]}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "42");
    assert_eq!(
        v["choices"][0]["message"]["reasoning_content"],
        "Let me think step by step."
    );
    let sent = &mock.requests()[0];
    assert!(sent.rejection.is_none(), "{:?}", sent.rejection);
    let body = sent.json();
    assert_eq!(body["thinking"], json!({"type": "enabled", "budget_tokens": 1024}));
    assert_eq!(body["max_tokens"], 4000);
}

#[tokio::test]
async fn anthropic_that_never_answers_is_504() {
    let mock = MockAnthropic::builder()
        .api_key(KEY)
        .reply(AnthropicReply::hang())
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, "    timeouts: { first_byte: 300ms }", "")).await;
    let r = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 504);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "upstream_timeout");
    assert_eq!(gw.next_log().await["error_code"], "upstream_timeout");
}
