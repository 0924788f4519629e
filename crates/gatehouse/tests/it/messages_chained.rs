//! `POST /v1/messages` served by Gemini and Bedrock targets: Anthropic → OpenAI → native and back, chained through
//! the OpenAI shape, streaming included, with the strict Gemini and Bedrock mocks checking what they received.

use serde_json::{Value, json};
use testkit::{BedrockReply, GeminiReply, MockBedrock, MockGemini};

use crate::messages::events;
use crate::support::TestGateway;

const BEDROCK_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

async fn setup(gemini: GeminiReply, bedrock: BedrockReply) -> (MockGemini, MockBedrock, TestGateway) {
    let g = MockGemini::builder().api_key("AIza-key").reply(gemini).start().await;
    let b = MockBedrock::builder("us-east-1", "AKIDX", "secretx")
        .models(&[BEDROCK_MODEL])
        .reply(bedrock)
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: AIza-key }} }}\n  aws: {{ kind: bedrock, region: us-east-1, base_url: \"{}\", aws: {{ access_key_id: {{ value: AKIDX }}, secret_access_key: {{ value: secretx }} }} }}\nmodels:\n  - {{ name: gem, targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\n  - {{ name: rock, targets: [{{ provider: aws, model: \"{BEDROCK_MODEL}\" }}] }}\n",
        g.base_url(),
        b.base_url()
    ))
    .await;
    (g, b, gw)
}

fn messages(gw: &TestGateway, body: &Value) -> reqwest::RequestBuilder {
    gw.http
        .post(gw.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", "client-key")
        .json(body)
}

#[tokio::test]
async fn messages_reach_gemini_and_bedrock_and_come_back_as_anthropic_messages() {
    let (g, b, gw) = setup(
        GeminiReply::text("Hello from Gemini"),
        BedrockReply::text("Hello from Bedrock"),
    )
    .await;
    for (model, text) in [("gem", "Hello from Gemini"), ("rock", "Hello from Bedrock")] {
        let r = messages(
            &gw,
            &json!({"model": model, "max_tokens": 64, "system": "Be brief.",
                "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .send()
        .await
        .expect("send");
        assert_eq!(r.status(), 200, "{model}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["type"], "message", "{model}: {v}");
        assert_eq!(v["model"], model);
        assert_eq!(v["content"], json!([{"type": "text", "text": text}]), "{model}");
        assert_eq!(v["stop_reason"], "end_turn");
        assert!(v["usage"]["output_tokens"].as_u64().expect("usage") > 0, "{model}: {v}");
        let log = gw.next_log().await;
        assert_eq!(log["route"], "messages");
        assert!(log["input_tokens"].as_u64().expect("metered") > 0);
    }
    let sent = g.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].json()["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(sent[0].header("x-api-key"), None, "the client's key never leaves");
    assert!(b.requests()[0].rejection.is_none(), "{:?}", b.requests()[0].rejection);
    assert_eq!(b.requests()[0].json()["system"][0]["text"], "Be brief.");
}

#[tokio::test]
async fn chained_streams_have_the_anthropic_event_grammar() {
    let (_g, _b, gw) = setup(GeminiReply::text("one two three"), BedrockReply::text("four five six")).await;
    for (model, text) in [("gem", "one two three"), ("rock", "four five six")] {
        let r = messages(
            &gw,
            &json!({"model": model, "max_tokens": 64, "stream": true,
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
        let evs = events(&r.bytes().await.expect("body"));
        let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"message_start"), "{model}: {names:?}");
        assert_eq!(names.last(), Some(&"message_stop"), "{model}: {names:?}");
        let streamed: String = evs
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .filter_map(|(_, d)| d["delta"]["text"].as_str())
            .collect();
        assert_eq!(streamed, text, "{model}");
        let delta = evs.iter().find(|(n, _)| n == "message_delta").expect("message_delta");
        assert!(
            delta.1["usage"]["output_tokens"].as_u64().expect("usage") > 0,
            "{model}"
        );
        let log = gw.next_log().await;
        assert_eq!(log["outcome"], "complete", "{model}");
        assert_eq!(log["stream"], true);
    }
}

#[tokio::test]
async fn chained_errors_and_count_tokens_are_anthropic_shaped() {
    let (_g, b, gw) = setup(
        GeminiReply::error(429, "RESOURCE_EXHAUSTED", "quota exceeded"),
        BedrockReply::error(400, "ValidationException", "bad input"),
    )
    .await;
    let body = |model: &str| json!({"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]});
    let r = messages(&gw, &body("gem")).send().await.expect("send");
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    let r = messages(&gw, &body("rock")).send().await.expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(b.requests().len() == 1);
    let r = gw
        .http
        .post(gw.url("/v1/messages/count_tokens"))
        .json(&json!({"model": "gem", "messages": [{"role": "user", "content": "count these words"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("x-gatehouse-token-count").and_then(|v| v.to_str().ok()),
        Some("estimate")
    );
}

#[tokio::test]
async fn both_hops_dropped_params_arrive_in_one_header() {
    let (g, _b, gw) = setup(GeminiReply::text("ok"), BedrockReply::text("unused")).await;
    let r = messages(
        &gw,
        &json!({"model": "gem", "max_tokens": 8, "service_tier": "auto", "metadata": {"user_id": "u-7"},
            "messages": [{"role": "user", "content": "hi"}]}),
    )
    .send()
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    let all: Vec<&str> = r
        .headers()
        .get_all("x-gatehouse-dropped-params")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(all.len(), 1, "{all:?}");
    let names: Vec<&str> = all[0].split(',').collect();
    // `service_tier` is dropped by the Messages → OpenAI hop, `user` (from `metadata.user_id`) by OpenAI → Gemini.
    assert!(names.contains(&"service_tier") && names.contains(&"user"), "{names:?}");
    assert!(g.requests()[0].rejection.is_none());
}
