//! Anthropic targets: the Responses request translated to the strict Anthropic mock and back, the hosted-tool
//! rule, and `previous_response_id` served from the gateway's response store, scoped to the caller.

use testkit::{AnthropicReply, MockAnthropic};

use super::*;

const ANT_KEY: &str = "sk-ant-upstream";

pub(crate) fn anthropic_config(mock: &MockAnthropic, extra: &str) -> String {
    format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: {ANT_KEY} }} }}\nmodels:\n  - {{ name: claude, targets: [{{ provider: claude, model: claude-haiku-4-5 }}] }}\nfailover: {{ max_attempts: 1 }}\n{extra}",
        mock.base_url()
    )
}

fn body_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn translated_to_anthropic_and_back_with_usage() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .reply(
            AnthropicReply::message("Hello from Claude")
                .with_input_tokens(10)
                .with_cache_tokens(3, 5)
                .with_output_tokens(7),
        )
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let body = json!({"model": "claude", "instructions": "Be brief.", "input": "Say hello", "store": false, "max_output_tokens": 64});
    let (status, _, text) = post(&gw, &body, &[("authorization", "Bearer client-key")]).await;
    assert_eq!(status, 200, "{text}");
    let r = body_of(&text);
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["model"], "claude");
    assert!(r["id"].as_str().expect("id").starts_with("resp_"));
    assert_eq!(r["output"][0]["type"], "message");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello from Claude");
    // Anthropic's input excludes cache tokens; the Responses usage includes them.
    assert_eq!(r["usage"]["input_tokens"], 18);
    assert_eq!(r["usage"]["input_tokens_details"]["cached_tokens"], 5);
    assert_eq!(r["usage"]["output_tokens"], 7);

    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].header("x-api-key"), Some(ANT_KEY));
    assert_eq!(
        sent[0].header("authorization"),
        None,
        "the client's credential is not forwarded"
    );
    let m = sent[0].json();
    assert_eq!(m["model"], "claude-haiku-4-5");
    assert_eq!(m["max_tokens"], 64);
    assert_eq!(m["system"][0]["text"], "Be brief.");
    assert_eq!(m["messages"][0]["role"], "user");

    let log = gw.next_log().await;
    assert_eq!(
        (log["route"].as_str(), log["target"].as_str()),
        (Some("responses"), Some("claude"))
    );
    assert_eq!(
        (log["input_tokens"].as_u64(), log["output_tokens"].as_u64()),
        (Some(18), Some(7))
    );
    assert_eq!(log["cached_input_tokens"], 5);
}

#[tokio::test]
async fn hosted_tools_are_dropped_with_a_warning_header() {
    let mock = MockAnthropic::builder().api_key(ANT_KEY).start().await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let body = json!({
        "model": "claude", "input": "search the web", "store": false,
        "tools": [{"type": "web_search"}, {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}],
    });
    let (status, headers, text) = post(&gw, &body, &[]).await;
    assert_eq!(status, 200, "{text}");
    let warning = headers["x-gatehouse-warning"].to_str().expect("ascii");
    assert!(warning.contains("tool:web_search"), "{warning}");
    let sent = mock.requests()[0].json();
    let tools = sent["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 1, "only the function reached Anthropic: {tools:?}");
    assert_eq!(tools[0]["name"], "lookup");
}

#[tokio::test]
async fn previous_response_id_round_trip_and_404() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .enqueue(AnthropicReply::message("I will remember 7."))
        .enqueue(AnthropicReply::message("The number was 7."))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let (status, _, text) = post(&gw, &json!({"model": "claude", "input": "Remember the number 7."}), &[]).await;
    assert_eq!(status, 200, "{text}");
    let first = body_of(&text);
    let id = first["id"].as_str().expect("id").to_string();
    let (status, _, text) = post(
        &gw,
        &json!({"model": "claude", "input": "Which number?", "previous_response_id": id}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body_of(&text)["previous_response_id"], id.as_str());
    // The stored turn was replayed to Anthropic ahead of the new input.
    let sent = mock.requests();
    let m = sent[1].json();
    let roles: Vec<&str> = m["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|x| x["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(m["messages"][1]["content"][0]["text"], "I will remember 7.");

    // Unknown ids (and `store: false` responses) are a clear 404 in OpenAI's error shape; nothing goes upstream.
    let (status, _, text) = post(
        &gw,
        &json!({"model": "claude", "input": "x", "previous_response_id": "resp_nope"}),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let e = body_of(&text);
    assert_eq!(e["error"]["code"], "previous_response_not_found");
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert_eq!(mock.requests().len(), 2);
}

#[tokio::test]
async fn stored_responses_are_scoped_to_the_principal() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .reply(AnthropicReply::message("noted"))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, &keys_yaml())).await;
    let alice = [("authorization", "Bearer sk-alice")];
    let bob = [("authorization", "Bearer sk-bob")];
    let (_, _, text) = post(&gw, &json!({"model": "claude", "input": "a secret"}), &alice).await;
    let id = body_of(&text)["id"].as_str().expect("id").to_string();
    let next = json!({"model": "claude", "input": "go on", "previous_response_id": id});
    let (status, _, text) = post(&gw, &next, &bob).await;
    assert_eq!(status, 404, "bob cannot continue alice's response: {text}");
    assert_eq!(body_of(&text)["error"]["code"], "previous_response_not_found");
    let (status, _, _) = post(&gw, &next, &alice).await;
    assert_eq!(status, 200);
    // `store: false` keeps nothing.
    let (_, _, text) = post(&gw, &json!({"model": "claude", "input": "x", "store": false}), &alice).await;
    let unstored = body_of(&text)["id"].as_str().expect("id").to_string();
    let (status, _, _) = post(
        &gw,
        &json!({"model": "claude", "input": "y", "previous_response_id": unstored}),
        &alice,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn store_bounds_evict_the_least_recently_used() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .reply(AnthropicReply::message("ok"))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(
        &mock,
        "responses:\n  store: { max_entries: 1, ttl: 1h }\n",
    ))
    .await;
    let mut ids = Vec::new();
    for input in ["first", "second"] {
        let (_, _, text) = post(&gw, &json!({"model": "claude", "input": input}), &[]).await;
        ids.push(body_of(&text)["id"].as_str().expect("id").to_string());
    }
    let cont = |id: &str| json!({"model": "claude", "input": "more", "previous_response_id": id, "store": false});
    assert_eq!(post(&gw, &cont(&ids[0]), &[]).await.0, 404, "evicted by the second");
    assert_eq!(post(&gw, &cont(&ids[1]), &[]).await.0, 200);
}

#[tokio::test]
async fn anthropic_errors_become_openai_errors() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .reply(AnthropicReply::rate_limited(3))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let (status, headers, text) = post(&gw, &json!({"model": "claude", "input": "hi"}), &[]).await;
    assert_eq!(status, 429, "{text}");
    assert_eq!(headers["retry-after"], "3");
    assert_eq!(body_of(&text)["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn streamed_from_anthropic_as_typed_events_and_stored() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .enqueue(
            AnthropicReply::message("Streaming hello from Claude")
                .with_input_tokens(12)
                .with_output_tokens(5),
        )
        .enqueue(AnthropicReply::tool_use("get_weather", json!({"city": "Paris"})))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let (status, headers, text) = post(
        &gw,
        &json!({"model": "claude", "input": "Say hello", "stream": true}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/event-stream")
    );
    let evs = events(&text);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(&kinds[..2], ["response.created", "response.in_progress"]);
    assert_eq!(kinds.last(), Some(&"response.completed"));
    assert!(kinds.contains(&"response.output_text.delta"));
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    let deltas: String = evs
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(deltas, "Streaming hello from Claude");
    let done = &evs[evs.len() - 1]["response"];
    assert_eq!(done["usage"]["input_tokens"], 12);
    assert_eq!(done["usage"]["output_tokens"], 5);
    let log = gw.next_log().await;
    assert_eq!(
        (
            log["stream"].as_bool(),
            log["input_tokens"].as_u64(),
            log["output_tokens"].as_u64()
        ),
        (Some(true), Some(12), Some(5))
    );

    // The streamed response was stored: continuing it replays its turn, and a function call streams its arguments.
    let id = done["id"].as_str().expect("id");
    let next = json!({"model": "claude", "input": "and the weather?", "previous_response_id": id, "stream": true,
                      "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]});
    let (status, _, text) = post(&gw, &next, &[]).await;
    assert_eq!(status, 200, "{text}");
    let m = mock.requests()[1].json();
    assert_eq!(m["messages"][1]["content"][0]["text"], "Streaming hello from Claude");
    let evs = events(&text);
    let args: String = evs
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).expect("arguments JSON"),
        json!({"city": "Paris"})
    );
    let item = &evs.last().expect("events")["response"]["output"][0];
    assert_eq!(
        (item["type"].as_str(), item["name"].as_str()),
        (Some("function_call"), Some("get_weather"))
    );
}

#[tokio::test]
async fn anthropic_stream_error_ends_with_a_failed_event_and_is_not_stored() {
    let mock = MockAnthropic::builder()
        .api_key(ANT_KEY)
        .reply(AnthropicReply::message("one two three four five").with_error_after(2))
        .start()
        .await;
    let gw = TestGateway::start(&anthropic_config(&mock, "")).await;
    let (status, _, text) = post(&gw, &json!({"model": "claude", "input": "hi", "stream": true}), &[]).await;
    assert_eq!(status, 200);
    let evs = events(&text);
    let last = evs.last().expect("events");
    assert!(
        matches!(last["type"].as_str(), Some("response.failed" | "error")),
        "the stream ends with a failure event: {last}"
    );
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "error");
    let id = evs[0]["response"]["id"].as_str().expect("id");
    let (status, _, _) = post(
        &gw,
        &json!({"model": "claude", "input": "more", "previous_response_id": id}),
        &[],
    )
    .await;
    assert_eq!(status, 404, "a failed stream is not stored");
}
