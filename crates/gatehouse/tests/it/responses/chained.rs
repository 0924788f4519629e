//! Gemini and Bedrock targets: the Responses request chained through the Anthropic Messages translation and the
//! `/v1/messages` chain to the strict Gemini and Bedrock mocks, and the answer back as a Responses object or the
//! typed event stream, metered and stored like the Anthropic target's.

use testkit::{BedrockReply, GeminiReply, MockBedrock, MockGemini};

use super::*;

const GEMINI_KEY: &str = "AIza-upstream";
const BEDROCK_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const BEDROCK_PATH: &str = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0";

async fn setup(gemini: MockGemini, bedrock: MockBedrock) -> (MockGemini, MockBedrock, TestGateway) {
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: {GEMINI_KEY} }} }}\n  aws: {{ kind: bedrock, region: us-east-1, base_url: \"{}\", aws: {{ access_key_id: {{ value: AKIDX }}, secret_access_key: {{ value: secretx }} }} }}\nmodels:\n  - {{ name: gem, targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\n  - {{ name: rock, targets: [{{ provider: aws, model: \"{BEDROCK_MODEL}\" }}] }}\nfailover: {{ max_attempts: 1 }}\n",
        gemini.base_url(),
        bedrock.base_url()
    ))
    .await;
    (gemini, bedrock, gw)
}

async fn mocks(gemini: GeminiReply, bedrock: BedrockReply) -> (MockGemini, MockBedrock, TestGateway) {
    let g = MockGemini::builder().api_key(GEMINI_KEY).reply(gemini).start().await;
    let b = MockBedrock::builder("us-east-1", "AKIDX", "secretx")
        .models(&[BEDROCK_MODEL])
        .reply(bedrock)
        .start()
        .await;
    setup(g, b).await
}

fn body_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn responses_reach_gemini_and_bedrock_through_the_messages_chain() {
    let (g, b, gw) = mocks(
        GeminiReply::text("Hello from Gemini"),
        BedrockReply::text("Hello from Bedrock"),
    )
    .await;
    for (model, text) in [("gem", "Hello from Gemini"), ("rock", "Hello from Bedrock")] {
        let body = json!({"model": model, "instructions": "Be brief.", "input": "Say hello",
            "store": false, "max_output_tokens": 64});
        let (status, _, out) = post(&gw, &body, &[("authorization", "Bearer client-key")]).await;
        assert_eq!(status, 200, "{model}: {out}");
        let r = body_of(&out);
        assert_eq!(r["object"], "response", "{model}: {r}");
        assert_eq!(r["status"], "completed");
        assert_eq!(r["model"], model);
        assert!(r["id"].as_str().expect("id").starts_with("resp_"));
        assert_eq!(r["output"][0]["type"], "message");
        assert_eq!(r["output"][0]["content"][0]["type"], "output_text");
        assert_eq!(r["output"][0]["content"][0]["text"], text, "{model}");
        let usage = &r["usage"];
        let (input, output) = (
            usage["input_tokens"].as_u64().expect("input"),
            usage["output_tokens"].as_u64().expect("output"),
        );
        assert!(input > 0 && output > 0, "{model}: {usage}");
        assert_eq!(usage["total_tokens"].as_u64(), Some(input + output));
        let log = gw.next_log().await;
        assert_eq!(log["route"], "responses");
        assert_eq!(
            log["input_tokens"].as_u64(),
            Some(input),
            "{model}: metered as answered"
        );
        assert_eq!(log["output_tokens"].as_u64(), Some(output));
    }
    let sent = g.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent[0].header("x-goog-api-key"), Some(GEMINI_KEY));
    assert_eq!(
        sent[0].header("authorization"),
        None,
        "the client's credential never leaves"
    );
    let m = sent[0].json();
    assert_eq!(m["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(m["contents"][0]["role"], "user");
    assert_eq!(m["contents"][0]["parts"][0]["text"], "Say hello");
    assert_eq!(m["generationConfig"]["maxOutputTokens"], 64);

    let sent = b.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, format!("{BEDROCK_PATH}/converse"));
    let auth = sent[0].header("authorization").expect("signed");
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDX/"), "{auth}");
    let m = sent[0].json();
    assert_eq!(m["system"][0]["text"], "Be brief.");
    assert_eq!(m["messages"][0]["content"][0]["text"], "Say hello");
    assert_eq!(m["inferenceConfig"]["maxTokens"], 64);
}

#[tokio::test]
async fn chained_responses_stream_typed_events_with_usage() {
    let (g, b, gw) = mocks(GeminiReply::text("one two three"), BedrockReply::text("four five six")).await;
    for (model, text) in [("gem", "one two three"), ("rock", "four five six")] {
        let body = json!({"model": model, "input": "Count", "stream": true, "store": false});
        let (status, headers, out) = post(&gw, &body, &[]).await;
        assert_eq!(status, 200, "{model}: {out}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let evs = events(&out);
        let kinds: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(kinds.first(), Some(&"response.created"), "{model}: {kinds:?}");
        assert_eq!(kinds.last(), Some(&"response.completed"), "{model}: {kinds:?}");
        for k in [
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.output_item.done",
        ] {
            assert!(kinds.contains(&k), "{model}: {k} missing from {kinds:?}");
        }
        let seqs: Vec<u64> = evs.iter().filter_map(|e| e["sequence_number"].as_u64()).collect();
        assert_eq!(
            seqs,
            (0..evs.len() as u64).collect::<Vec<_>>(),
            "{model}: numbered in order"
        );
        let streamed: String = evs
            .iter()
            .filter(|e| e["type"] == "response.output_text.delta")
            .filter_map(|e| e["delta"].as_str())
            .collect();
        assert_eq!(streamed, text, "{model}");
        let done = &evs[evs.len() - 1]["response"];
        assert_eq!(done["status"], "completed");
        assert_eq!(done["model"], model);
        assert_eq!(done["output"][0]["content"][0]["text"], text);
        let output = done["usage"]["output_tokens"].as_u64().expect("usage");
        assert!(output > 0, "{model}: {done}");
        assert!(done["usage"]["input_tokens"].as_u64().expect("input") > 0);
        let log = gw.next_log().await;
        assert_eq!(log["outcome"], "complete", "{model}");
        assert_eq!(log["stream"], true);
        assert_eq!(log["output_tokens"].as_u64(), Some(output), "{model}: metered");
    }
    let sent = g.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    assert_eq!(sent[0].header("x-goog-api-key"), Some(GEMINI_KEY));
    let sent = b.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert_eq!(sent[0].path, format!("{BEDROCK_PATH}/converse-stream"));
    assert!(
        sent[0]
            .header("authorization")
            .expect("signed")
            .starts_with("AWS4-HMAC-SHA256 ")
    );
}

#[tokio::test]
async fn chained_function_call_and_previous_response_id_round_trip() {
    let g = MockGemini::builder()
        .api_key(GEMINI_KEY)
        .enqueue(GeminiReply::function_call("get_weather", json!({"city": "Paris"})))
        .enqueue(GeminiReply::text("It is sunny in Paris."))
        .start()
        .await;
    let b = MockBedrock::builder("us-east-1", "AKIDX", "secretx")
        .models(&[BEDROCK_MODEL])
        .start()
        .await;
    let (g, _b, gw) = setup(g, b).await;
    let tools = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "input": "Weather in Paris?", "tools": tools}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let first = body_of(&out);
    let call = first["output"]
        .as_array()
        .expect("output")
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap_or_else(|| panic!("no function_call: {first}"));
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["arguments"].as_str().expect("args")).expect("json"),
        json!({"city": "Paris"})
    );
    let call_id = call["call_id"].as_str().expect("call_id").to_string();
    let id = first["id"].as_str().expect("id").to_string();

    // The next turn sends only the tool output; the stored turn (question and call) is replayed ahead of it.
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "previous_response_id": id, "tools": tools,
            "input": [{"type": "function_call_output", "call_id": call_id, "output": "{\"sky\":\"sunny\"}"}]}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let second = body_of(&out);
    assert_eq!(second["previous_response_id"], id.as_str());
    assert_eq!(second["output"][0]["content"][0]["text"], "It is sunny in Paris.");
    let sent = g.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].rejection.is_none(), "{:?}", sent[1].rejection);
    let contents = sent[1].json()["contents"].clone();
    let roles: Vec<&str> = contents
        .as_array()
        .expect("contents")
        .iter()
        .filter_map(|c| c["role"].as_str())
        .collect();
    assert_eq!(roles, ["user", "model", "user"], "{contents}");
    assert_eq!(contents[0]["parts"][0]["text"], "Weather in Paris?");
    assert_eq!(contents[1]["parts"][0]["functionCall"]["name"], "get_weather");
    assert_eq!(contents[2]["parts"][0]["functionResponse"]["name"], "get_weather");

    // An unknown id is a 404, before any upstream call.
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "previous_response_id": "resp_unknown", "input": "hi"}),
        &[],
    )
    .await;
    assert_eq!(status, 404, "{out}");
    assert_eq!(g.requests().len(), 2);
}

#[tokio::test]
async fn chained_errors_are_openai_shaped() {
    let (_g, _b, gw) = mocks(
        GeminiReply::error(429, "RESOURCE_EXHAUSTED", "quota exceeded"),
        BedrockReply::error(400, "ValidationException", "bad input"),
    )
    .await;
    let (status, _, out) = post(&gw, &json!({"model": "gem", "input": "x"}), &[]).await;
    assert_eq!(status, 429, "{out}");
    let e = body_of(&out);
    assert!(e["error"]["message"].is_string(), "{e}");
    assert!(e.get("type").is_none(), "OpenAI shape, not Anthropic's: {e}");
    let (status, _, out) = post(&gw, &json!({"model": "rock", "input": "x", "stream": true}), &[]).await;
    assert_eq!(status, 400, "{out}");
    assert!(body_of(&out)["error"]["message"].is_string());
}

#[tokio::test]
async fn gemini_thoughts_come_back_as_a_reasoning_item() {
    let (g, _b, gw) = mocks(
        GeminiReply::text("42").with_thought("Weighing the options"),
        BedrockReply::text("unused"),
    )
    .await;
    let body = json!({"model": "gem", "input": "Answer?", "store": false, "reasoning": {"effort": "low"}});
    let (status, _, out) = post(&gw, &body, &[]).await;
    assert_eq!(status, 200, "{out}");
    let r = body_of(&out);
    let kinds: Vec<&str> = r["output"]
        .as_array()
        .expect("output")
        .iter()
        .filter_map(|i| i["type"].as_str())
        .collect();
    assert_eq!(kinds, ["reasoning", "message"], "{r}");
    assert_eq!(r["output"][0]["summary"][0]["text"], "Weighing the options", "{r}");
    assert_eq!(r["output"][1]["content"][0]["text"], "42");
    let m = g.requests()[0].json();
    assert!(g.requests()[0].rejection.is_none());
    assert_eq!(m["generationConfig"]["thinkingConfig"]["includeThoughts"], true, "{m}");
}

#[tokio::test]
async fn chained_stream_is_stored_when_complete_and_not_when_it_fails() {
    let g = MockGemini::builder()
        .api_key(GEMINI_KEY)
        .enqueue(GeminiReply::text("Remembered: seven"))
        .enqueue(GeminiReply::text("It was seven"))
        .enqueue(GeminiReply::text("never finished words").with_error_after(1, 503, "UNAVAILABLE", "overloaded"))
        .start()
        .await;
    let b = MockBedrock::builder("us-east-1", "AKIDX", "secretx")
        .models(&[BEDROCK_MODEL])
        .start()
        .await;
    let (g, _b, gw) = setup(g, b).await;
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "input": "Remember 7.", "stream": true}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let evs = events(&out);
    let last = evs.last().expect("events");
    assert_eq!(last["type"], "response.completed", "{out}");
    let id = last["response"]["id"].as_str().expect("id").to_string();
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "input": "Which?", "previous_response_id": id}),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let contents = g.requests()[1].json()["contents"].clone();
    assert_eq!(contents[0]["parts"][0]["text"], "Remember 7.", "{contents}");
    assert_eq!(contents[1]["parts"][0]["text"], "Remembered: seven", "{contents}");
    assert_eq!(contents[2]["parts"][0]["text"], "Which?", "{contents}");

    let (status, _, out) = post(&gw, &json!({"model": "gem", "input": "Try.", "stream": true}), &[]).await;
    assert_eq!(status, 200, "{out}");
    let evs = events(&out);
    let kinds: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds.last(), Some(&"response.failed"), "{kinds:?}");
    assert!(kinds.contains(&"error"), "{kinds:?}");
    assert!(!kinds.contains(&"response.completed"), "{kinds:?}");
    let failed = evs[0]["response"]["id"].as_str().expect("id").to_string();
    let (status, _, out) = post(
        &gw,
        &json!({"model": "gem", "input": "again", "previous_response_id": failed}),
        &[],
    )
    .await;
    assert_eq!(status, 404, "a failed stream is not stored: {out}");
}

#[tokio::test]
async fn every_hop_reports_what_it_dropped() {
    let (g, _b, gw) = mocks(GeminiReply::text("ok"), BedrockReply::text("unused")).await;
    let body = json!({"model": "gem", "input": "hi", "store": false,
        "prompt_cache_key": "k1", "safety_identifier": "user-7",
        "tools": [{"type": "web_search"}]});
    let (status, headers, out) = post(&gw, &body, &[]).await;
    assert_eq!(status, 200, "{out}");
    let dropped = headers["x-gatehouse-dropped-params"].to_str().expect("ascii");
    let names: Vec<&str> = dropped.split(',').collect();
    // `prompt_cache_key` is dropped by the Responses → Messages hop, `user` (from `safety_identifier`) by the
    // OpenAI → Gemini hop: one header carries both lists.
    assert!(names.contains(&"prompt_cache_key"), "{dropped}");
    assert!(names.contains(&"user"), "{dropped}");
    assert_eq!(headers.get_all("x-gatehouse-dropped-params").iter().count(), 1);
    let warning = headers["x-gatehouse-warning"].to_str().expect("ascii");
    assert!(warning.contains("tool:web_search"), "{warning}");
    let sent = g.requests();
    assert!(sent[0].rejection.is_none(), "{:?}", sent[0].rejection);
    assert!(
        sent[0].json().get("tools").is_none(),
        "the hosted tool never reaches Gemini"
    );
}

#[tokio::test]
async fn a_failing_gemini_target_fails_over_to_bedrock() {
    let g = MockGemini::builder()
        .api_key(GEMINI_KEY)
        .reply(GeminiReply::error(503, "UNAVAILABLE", "overloaded"))
        .start()
        .await;
    let b = MockBedrock::builder("us-east-1", "AKIDX", "secretx")
        .models(&[BEDROCK_MODEL])
        .reply(BedrockReply::text("Bedrock took over"))
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: {GEMINI_KEY} }} }}\n  aws: {{ kind: bedrock, region: us-east-1, base_url: \"{}\", aws: {{ access_key_id: {{ value: AKIDX }}, secret_access_key: {{ value: secretx }} }} }}\nmodels:\n  - {{ name: both, targets: [{{ provider: google, model: gemini-2.5-flash }}, {{ provider: aws, model: \"{BEDROCK_MODEL}\" }}] }}\nfailover: {{ max_attempts: 2 }}\n",
        g.base_url(),
        b.base_url()
    ))
    .await;
    for stream in [false, true] {
        let (status, headers, out) = post(
            &gw,
            &json!({"model": "both", "input": "hi", "store": false, "stream": stream}),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(headers["x-gatehouse-target"], "aws", "stream={stream}");
        assert_eq!(headers["x-gatehouse-attempts"], "2", "stream={stream}");
        let text = if stream {
            let evs = events(&out);
            evs.last().expect("events")["response"]["output"][0]["content"][0]["text"].clone()
        } else {
            body_of(&out)["output"][0]["content"][0]["text"].clone()
        };
        assert_eq!(text, "Bedrock took over", "stream={stream}");
    }
    assert_eq!(g.requests().len(), 2);
    assert_eq!(b.requests().len(), 2);
}
