//! `POST /v1/messages` (Anthropic dialect in): native passthrough to Anthropic targets, translation to
//! OpenAI-style targets, `count_tokens`, and errors in Anthropic's shape.

use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic, MockOpenAi, Reply};

use crate::support::TestGateway;

const KEY: &str = "sk-ant-provider";

fn config(anthropic: &MockAnthropic, openai: &MockOpenAi) -> String {
    format!(
        r#"
providers:
  claude:
    kind: anthropic
    base_url: {}
    api_key: {{ value: "{KEY}" }}
    allowed_betas: [prompt-caching-2024-07-31]
  local:
    kind: openai_compatible
    base_url: {}
    api_key: {{ value: "sk-local" }}
models:
  - name: claude-haiku
    targets: [{{ provider: claude, model: claude-haiku-4-5 }}]
  - name: llama
    targets: [{{ provider: local, model: meta-llama/Llama-3.1-8B-Instruct }}]
"#,
        anthropic.base_url(),
        openai.base_url()
    )
}

async fn setup(reply: AnthropicReply, openai_reply: Reply) -> (MockAnthropic, MockOpenAi, TestGateway) {
    let anthropic = MockAnthropic::builder().api_key(KEY).reply(reply).start().await;
    let openai = MockOpenAi::builder()
        .api_key("sk-local")
        .reply(openai_reply)
        .start()
        .await;
    let gw = TestGateway::start(&config(&anthropic, &openai)).await;
    (anthropic, openai, gw)
}

fn messages(gw: &TestGateway, body: &Value) -> reqwest::RequestBuilder {
    gw.http
        .post(gw.url("/v1/messages"))
        .header("anthropic-version", "2026-10-21")
        .header("authorization", "Bearer client-own-key")
        .json(body)
}

/// `(event name, data JSON)` pairs of an Anthropic SSE body.
pub(crate) fn events(body: &[u8]) -> Vec<(String, Value)> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event: ") {
                name = v.to_string();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push_str(v);
            }
        }
        assert!(!name.is_empty(), "every event needs an `event:` line: {block:?}");
        out.push((name, serde_json::from_str(&data).expect("event data is JSON")));
    }
    out
}

#[tokio::test]
async fn messages_pass_through_natively_with_model_and_credential_swapped() {
    let (anthropic, _openai, gw) = setup(
        AnthropicReply::message("Native hello")
            .with_input_tokens(11)
            .with_cache_tokens(2, 30)
            .with_output_tokens(2),
        Reply::chat("unused"),
    )
    .await;
    let body = br#"{"model":"claude-haiku","max_tokens":64,"metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"Hi"}]}"#;
    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .header("content-type", "application/json")
        .header("anthropic-version", "2026-10-21")
        .header("x-api-key", "client-own-x-api-key")
        .header("anthropic-beta", "prompt-caching-2024-07-31,files-api-2025-04-14")
        .body(body.to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], "Native hello");
    assert_eq!(v["model"], "claude-haiku-4-5", "native replies are relayed unchanged");

    let sent = &anthropic.requests()[0];
    assert!(sent.rejection.is_none(), "{:?}", sent.rejection);
    assert_eq!(sent.path, "/v1/messages");
    let expected = String::from_utf8_lossy(body).replace("\"claude-haiku\"", "\"claude-haiku-4-5\"");
    assert_eq!(String::from_utf8_lossy(&sent.body), expected, "only `model` changes");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.header("anthropic-version"),
        Some("2026-10-21"),
        "the client's version"
    );
    assert_eq!(sent.header("anthropic-beta"), Some("prompt-caching-2024-07-31"));

    let log = gw.next_log().await;
    assert_eq!(log["route"], "messages");
    assert_eq!(log["model"], "claude-haiku");
    assert_eq!(log["input_tokens"], 43);
    assert_eq!(log["cached_input_tokens"], 30);
    assert_eq!(log["output_tokens"], 2);
}

#[tokio::test]
async fn native_stream_is_relayed_and_metered() {
    let (_anthropic, _openai, gw) = setup(
        AnthropicReply::message("one two three").with_input_tokens(7),
        Reply::chat("unused"),
    )
    .await;
    let r = messages(
        &gw,
        &json!({"model": "claude-haiku", "max_tokens": 64, "stream": true,
            "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.expect("body");
    let names: Vec<String> = events(&body).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    assert!(names.contains(&"message_delta".to_string()));
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["input_tokens"], 7);
    assert_eq!(log["output_tokens"], 3);
}

#[tokio::test]
async fn native_errors_keep_anthropic_shape_and_our_key_failure_is_ours() {
    let (anthropic, _openai, gw) = setup(AnthropicReply::rate_limited(9), Reply::chat("unused")).await;
    let body = json!({"model": "claude-haiku", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]});
    let r = messages(&gw, &body).send().await.expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("9"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");

    anthropic.set_reply(AnthropicReply::error(
        401,
        "authentication_error",
        "invalid x-api-key sk-ant-pro…",
    ));
    let r = messages(&gw, &body).send().await.expect("send");
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "api_error");
    assert_eq!(v["error"]["code"], "upstream_auth_failed");
    assert!(!v.to_string().contains("sk-ant-pro"), "never the provider's text: {v}");
}

#[tokio::test]
async fn gateway_errors_on_messages_routes_are_anthropic_json() {
    let (anthropic, _openai, gw) = setup(AnthropicReply::message("x"), Reply::chat("x")).await;
    let r = messages(
        &gw,
        &json!({"model": "no-such", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "not_found_error");
    assert_eq!(v["error"]["code"], "model_not_found");

    let r = gw
        .http
        .post(gw.url("/v1/messages"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let r = gw.http.post(gw.url("/v1/messages/batches")).send().await.expect("send");
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["type"], "error",
        "unknown paths under /v1/messages answer in Anthropic's shape"
    );
    assert!(anthropic.requests().is_empty());
}

#[tokio::test]
async fn messages_to_an_openai_style_target_are_translated_both_ways() {
    let (_anthropic, openai, gw) = setup(AnthropicReply::message("x"), Reply::chat("Hello from llama")).await;
    let r = messages(
        &gw,
        &json!({"model": "llama", "max_tokens": 50, "system": "Be brief.", "stop_sequences": ["END"],
            "messages": [{"role": "user", "content": "Hi there"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "llama");
    assert_eq!(v["content"], json!([{"type": "text", "text": "Hello from llama"}]));
    assert_eq!(v["stop_reason"], "end_turn");
    assert!(v["usage"]["input_tokens"].as_u64().expect("input") > 0);
    assert_eq!(v["usage"]["output_tokens"], 3);

    let sent = &openai.requests()[0];
    assert!(sent.rejection.is_none(), "{:?}", sent.rejection);
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-local"),
        "provider key, not the client's"
    );
    let body = sent.json();
    assert_eq!(body["model"], "meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(body["messages"][0], json!({"role": "system", "content": "Be brief."}));
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["stop"], json!(["END"]));
    let log = gw.next_log().await;
    assert_eq!(log["route"], "messages");
    assert_eq!(log["output_tokens"], 3);
}

#[tokio::test]
async fn translated_stream_has_the_full_anthropic_event_grammar() {
    let (_anthropic, openai, gw) = setup(AnthropicReply::message("x"), Reply::chat("one two three")).await;
    let r = messages(
        &gw,
        &json!({"model": "llama", "max_tokens": 50, "stream": true,
            "messages": [{"role": "user", "content": "Count"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let body = r.bytes().await.expect("body");
    let evs = events(&body);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names[1], "content_block_start");
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let text: String = evs
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "one two three");
    let (_, delta) = &evs[evs.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 3);
    let sent = openai.requests()[0].json();
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["stream_options"],
        json!({"include_usage": true}),
        "usage is always asked for"
    );
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["output_tokens"], 3);
}

#[tokio::test]
async fn translated_stream_of_tool_calls_becomes_tool_use_blocks() {
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let mut sse = String::new();
    sse.push_str(&chunk(json!({"role": "assistant", "content": ""}), Value::Null));
    sse.push_str(&chunk(
        json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        Value::Null,
    ));
    sse.push_str(&chunk(
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
        Value::Null,
    ));
    sse.push_str(&chunk(
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
        Value::Null,
    ));
    sse.push_str(&chunk(json!({}), json!("tool_calls")));
    sse.push_str(&format!(
        "data: {}\n\n",
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
            "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}})
    ));
    sse.push_str("data: [DONE]\n\n");
    let (_anthropic, _openai, gw) =
        setup(AnthropicReply::message("x"), Reply::raw(200, "text/event-stream", sse)).await;
    let tools = json!([{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let body = messages(
        &gw,
        &json!({"model": "llama", "max_tokens": 50, "stream": true, "tools": tools,
            "messages": [{"role": "user", "content": "Weather?"}]}),
    )
    .send()
    .await
    .expect("send")
    .bytes()
    .await
    .expect("body");
    let evs = events(&body);
    let start = evs
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .expect("a tool_use block");
    assert_eq!(start.1["content_block"]["name"], "get_weather");
    assert_eq!(start.1["content_block"]["id"], "call_1");
    let args: String = evs
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).expect("args"),
        json!({"city": "Paris"})
    );
    let delta = evs.iter().find(|(n, _)| n == "message_delta").expect("message_delta");
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta.1["usage"]["output_tokens"], 9);
    assert_eq!(evs.last().map(|(n, _)| n.as_str()), Some("message_stop"));
}

#[tokio::test]
async fn translated_upstream_errors_become_anthropic_errors() {
    let (_anthropic, _openai, gw) = setup(
        AnthropicReply::message("x"),
        Reply::status(
            429,
            json!({"error": {"message": "slow down", "type": "rate_limit_error", "code": null}}),
        )
        .with_header("retry-after", "4"),
    )
    .await;
    let r = messages(
        &gw,
        &json!({"model": "llama", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("4"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn count_tokens_is_forwarded_to_anthropic_and_estimated_elsewhere() {
    let (anthropic, openai, gw) = setup(AnthropicReply::message("x"), Reply::chat("x")).await;
    let body =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "count these four words"}]});
    let r = gw
        .http
        .post(gw.url("/v1/messages/count_tokens"))
        .json(&body("claude-haiku"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("x-gatehouse-token-count").is_none(),
        "Anthropic's own count"
    );
    let v: Value = r.json().await.expect("json");
    assert_eq!(v, json!({"input_tokens": 4}));
    let sent = &anthropic.requests()[0];
    assert!(sent.rejection.is_none(), "{:?}", sent.rejection);
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(sent.json()["model"], "claude-haiku-4-5");

    let r = gw
        .http
        .post(gw.url("/v1/messages/count_tokens"))
        .json(&body("llama"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("x-gatehouse-token-count").and_then(|v| v.to_str().ok()),
        Some("estimate")
    );
    let v: Value = r.json().await.expect("json");
    assert!(v["input_tokens"].as_u64().expect("count") > 0);
    assert!(openai.requests().is_empty(), "estimated locally, no upstream call");
}
