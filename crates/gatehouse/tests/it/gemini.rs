//! OpenAI chat completions served by a Gemini target: what the strict Gemini mock receives (URL, `alt=sse`,
//! `x-goog-api-key`, translated body) and what the client gets back — whole, streamed, tools, errors.

use serde_json::{Value, json};
use testkit::{GeminiReply, MockGemini, sse_data};

use crate::support::TestGateway;

const KEY: &str = "AIza-gemini-upstream-key";

pub fn config(mock: &MockGemini) -> String {
    format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: {KEY} }} }}\nmodels:\n  - {{ name: flash, aliases: [gem], targets: [{{ provider: google, model: gemini-2.5-flash }}] }}\n",
        mock.base_url()
    )
}

async fn setup(reply: GeminiReply) -> (MockGemini, TestGateway) {
    let mock = MockGemini::builder().api_key(KEY).reply(reply).start().await;
    let gw = TestGateway::start(&config(&mock)).await;
    (mock, gw)
}

/// The JSON chunks of an OpenAI stream and whether it ended with `[DONE]`.
pub fn openai_chunks(body: &[u8]) -> (Vec<Value>, bool) {
    let data = sse_data(body);
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let values = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk is JSON"))
        .collect();
    (values, done)
}

#[tokio::test]
async fn chat_is_translated_to_generate_content_and_back() {
    let (mock, gw) = setup(GeminiReply::text("Hello from Gemini").with_cached_tokens(3)).await;
    let r = gw
        .chat(
            json!({"model": "gem", "temperature": 0.3, "max_tokens": 50, "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there"}]}),
        )
        .header("authorization", "Bearer client-own-key")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gem", "the name the client asked for");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Gemini");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"]["prompt_tokens"],
        2 + 2 + 3,
        "words of system + user, plus the cached tokens"
    );
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
    assert_eq!(v["usage"]["completion_tokens"], 3);

    let req = &mock.requests()[0];
    assert!(
        req.rejection.is_none(),
        "the strict mock accepted it: {:?}",
        req.rejection
    );
    assert_eq!(req.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(req.header("x-goog-api-key"), Some(KEY));
    assert_eq!(
        req.header("authorization"),
        None,
        "the client's credential never reaches Google"
    );
    let body = req.json();
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}]}));
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": "Hi there"}]}])
    );
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.3, "maxOutputTokens": 50})
    );

    let log = gw.next_log().await;
    assert_eq!(log["target"], "google");
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["input_tokens"], 7);
    assert_eq!(log["output_tokens"], 3);
}

#[tokio::test]
async fn stream_is_translated_with_usage_and_reasoning() {
    let (mock, gw) = setup(GeminiReply::text("one two three").with_thought("let me see")).await;
    let r = gw
        .chat(json!({"model": "flash", "stream": true, "messages": [{"role": "user", "content": "count"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(done, "ends with [DONE]");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "one two three");
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "let me see");
    let finish = chunks.iter().find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("stop"));
    let usage = chunks.last().expect("usage chunk");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 3 + 3, "answer + thought tokens");
    assert_eq!(usage["usage"]["completion_tokens_details"]["reasoning_tokens"], 3);

    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "{:?}", req.rejection);
    assert_eq!(req.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    assert_eq!(req.query.as_deref(), Some("alt=sse"));
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["output_tokens"], 6);
}

#[tokio::test]
async fn tool_round_trip_keeps_names_and_thought_signatures() {
    let (mock, gw) = setup(GeminiReply::text("It is 21C in Paris.")).await;
    mock.enqueue(
        GeminiReply::function_call("get_weather", json!({"city": "Paris"})).with_call(
            "get_time",
            json!({}),
            Some("c2lnLXRpbWU="),
        ),
    );
    let tools = json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}]);
    let mut messages = vec![json!({"role": "user", "content": "Weather and time in Paris?"})];
    let v: Value = gw
        .chat(json!({"model": "flash", "messages": messages, "tools": tools}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    let calls = v["choices"][0]["message"]["tool_calls"]
        .as_array()
        .expect("tool calls")
        .clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], "{\"city\":\"Paris\"}");
    let time_id = calls[1]["id"].as_str().expect("id");
    assert!(time_id.ends_with("__thought__c2lnLXRpbWU="), "{time_id}");

    messages.push(json!({"role": "assistant", "content": null, "tool_calls": calls}));
    messages.push(json!({"role": "tool", "tool_call_id": calls[0]["id"], "content": "{\"temp_c\": 21}"}));
    messages.push(json!({"role": "tool", "tool_call_id": time_id, "content": "10:42"}));
    let r = gw
        .chat(json!({"model": "flash", "messages": messages, "tools": tools}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["choices"][0]["message"]["content"], "It is 21C in Paris.");

    let sent = mock.requests();
    assert!(
        sent.iter().all(|r| r.rejection.is_none()),
        "{:?}",
        sent.iter().map(|r| &r.rejection).collect::<Vec<_>>()
    );
    let first = sent[0].json();
    assert_eq!(
        first["tools"][0]["functionDeclarations"][0]["parameters"],
        json!({"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}),
        "schema rewritten to Gemini's subset"
    );
    assert!(first["tools"][0]["functionDeclarations"][1].get("parameters").is_none());
    let second = sent[1].json();
    assert_eq!(second["contents"][1]["parts"][1]["thoughtSignature"], "c2lnLXRpbWU=");
    assert_eq!(
        second["contents"][2]["parts"],
        json!([{"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}},
               {"functionResponse": {"name": "get_time", "response": {"content": "10:42"}}}])
    );
}

#[tokio::test]
async fn gemini_errors_become_openai_errors() {
    // One attempt: this test is about how an error is relayed, not about retries (tests/it/failover.rs).
    let mock = MockGemini::builder()
        .api_key(KEY)
        .reply(GeminiReply::text("unused"))
        .start()
        .await;
    let gw = TestGateway::start(&format!("{}failover: {{ max_attempts: 1 }}\n", config(&mock))).await;
    mock.enqueue(GeminiReply::error(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
    ));
    let r = gw
        .chat(json!({"model": "flash", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "upstream_rate_limited");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["message"], "Resource has been exhausted (e.g. check quota).");

    // Not translatable: a 400 naming the parameter, and Gemini is never called.
    let r = gw
        .chat(json!({"model": "flash", "n": 3, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"].as_str().unwrap_or_default().contains("`n`"),
        "{v}"
    );
    assert_eq!(mock.requests().len(), 1);

    // Text completions are not served by this kind.
    let r = gw
        .http
        .post(gw.url("/v1/completions"))
        .json(&json!({"model": "flash", "prompt": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"]["code"],
        "route_not_supported"
    );
}

#[tokio::test]
async fn wrong_gemini_key_is_an_operator_error_that_never_leaks() {
    let mock = MockGemini::builder().api_key("the-right-key").start().await;
    let gw = TestGateway::start(&config(&mock)).await;
    let r = gw
        .chat(json!({"model": "flash", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        502,
        "Gemini's 400 API_KEY_INVALID is our credential problem, not the client's"
    );
    let text = r.text().await.expect("body");
    assert!(text.contains("upstream_auth_failed"), "{text}");
    assert!(!text.contains(KEY) && !text.contains("API key not valid"), "{text}");
    let config: Value = gw
        .http
        .get(gw.admin("/config"))
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert!(!config.to_string().contains(KEY));
}

#[tokio::test]
async fn mid_stream_error_and_cut_end_with_an_openai_error() {
    let (mock, gw) =
        setup(GeminiReply::text("a b c d").with_error_after(2, 503, "UNAVAILABLE", "The model is overloaded.")).await;
    let body = json!({"model": "flash", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let r = gw.chat(body.clone()).send().await.expect("send");
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(!done, "no [DONE] after an error");
    let last = chunks.last().expect("error frame");
    assert_eq!(last["error"]["code"], "upstream_overloaded");
    assert_eq!(last["error"]["message"], "The model is overloaded.");
    let log = gw.next_log().await;
    assert_eq!(log["error_code"], "upstream_overloaded");

    mock.enqueue(GeminiReply::text("x y z").cut());
    let r = gw.chat(body).send().await.expect("send");
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(!done);
    // Depending on timing the cut is seen as a read error or as EOF before the final chunk; both end the stream.
    let code = chunks.last().expect("error frame")["error"]["code"].clone();
    assert!(
        code == "upstream_stream_truncated" || code == "upstream_stream_error",
        "{code}"
    );
    assert_eq!(gw.next_log().await["outcome"], "error");
}

#[tokio::test]
async fn embeddings_go_to_batch_embed_contents_and_come_back_in_openai_shape() {
    let mock = MockGemini::builder()
        .api_key(KEY)
        .models(&["text-embedding-004"])
        .start()
        .await;
    let gw = TestGateway::start(&format!(
        "providers:\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: {KEY} }} }}\nmodels:\n  - {{ name: embed, targets: [{{ provider: google, model: text-embedding-004 }}] }}\n",
        mock.base_url()
    ))
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "embed", "input": ["first text", "second"], "dimensions": 4}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "embed");
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["data"][1]["embedding"], json!([2.0, 1.0, 2.0 / 3.0, 0.5]));
    assert_eq!(v["usage"], json!({"prompt_tokens": 0, "total_tokens": 0}));
    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "{:?}", req.rejection);
    assert_eq!(req.path, "/v1beta/models/text-embedding-004:batchEmbedContents");
    assert_eq!(req.header("x-goog-api-key"), Some(KEY));
    assert_eq!(req.json()["requests"][0]["outputDimensionality"], 4);

    // base64 (what the OpenAI SDK asks for by default): little-endian f32 bytes.
    let v: Value = gw
        .http
        .post(gw.url("/v1/embeddings"))
        .json(&json!({"model": "embed", "input": "x", "dimensions": 2, "encoding_format": "base64"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["data"][0]["embedding"], "AACAPwAAAD8=", "[1.0, 0.5] as f32 LE");
}

#[tokio::test]
async fn first_chunk_arrives_before_gemini_finishes() {
    use futures_util::StreamExt;
    let (reply, gate) = GeminiReply::text("one two three").gated();
    let (_mock, gw) = setup(reply).await;
    let r = gw
        .chat(json!({"model": "flash", "stream": true, "messages": [{"role": "user", "content": "count"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    gate.release(1);
    let mut seen = String::new();
    while !seen.contains("\"content\":\"one\"") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("the first word must arrive while Gemini is still streaming")
            .expect("chunk")
            .expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("two"), "only released chunks can have arrived: {seen}");
    gate.finish();
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(
        seen.contains(" three") && seen.trim_end().ends_with("data: [DONE]"),
        "{seen}"
    );
}
