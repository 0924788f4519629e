//! Streams from an Anthropic target: translated incrementally, usage always returned and metered, and every way
//! a stream can fail ends the client stream with an OpenAI error object instead of a silent truncation.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use testkit::{AnthropicReply, MockAnthropic, sse_data};

use crate::anthropic::{config, setup};
use crate::support::TestGateway;

fn stream_body() -> Value {
    json!({"model": "haiku", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

/// The JSON payloads of an OpenAI stream, and whether it ended with `[DONE]`.
fn chunks(body: &[u8]) -> (Vec<Value>, bool) {
    let data = sse_data(body);
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let values = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk is JSON"))
        .collect();
    (values, done)
}

fn text_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn stream_is_translated_with_usage_even_when_not_asked() {
    let reply = AnthropicReply::message("Streaming hello from Claude")
        .with_input_tokens(12)
        .with_cache_tokens(0, 4)
        .with_output_tokens(4);
    let (mock, gw) = setup(reply).await;
    let r = gw.chat(stream_body()).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let body = r.bytes().await.expect("body");
    let (chunks, done) = chunks(&body);
    assert!(done, "ends with [DONE]");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(chunks[0]["model"], "haiku");
    assert_eq!(text_of(&chunks), "Streaming hello from Claude");
    let finishes: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finishes, ["stop"]);
    let last = chunks.last().expect("usage chunk");
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 16);
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    let sent = mock.requests()[0].json();
    assert_eq!(sent["stream"], true);
    assert!(sent.get("stream_options").is_none(), "not an Anthropic field");
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["stream"], true);
    assert_eq!(log["input_tokens"], 16);
    assert_eq!(log["output_tokens"], 4);
    assert!(log["ttfb_ms"].as_f64().is_some());
}

#[tokio::test]
async fn first_chunk_arrives_before_anthropic_finishes() {
    let (reply, gate) = AnthropicReply::message("one two three").gated();
    let (_mock, gw) = setup(reply).await;
    let r = gw.chat(stream_body()).send().await.expect("send");
    let mut body = r.bytes_stream();
    gate.release(1);
    let mut seen = Vec::new();
    // The role chunk and the first word arrive while the upstream still holds the rest.
    while !String::from_utf8_lossy(&seen).contains("one") {
        let next = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a chunk before the upstream finished")
            .expect("chunk")
            .expect("bytes");
        seen.extend_from_slice(&next);
    }
    assert!(!String::from_utf8_lossy(&seen).contains("[DONE]"));
    gate.finish();
    while let Some(next) = body.next().await {
        seen.extend_from_slice(&next.expect("bytes"));
    }
    let (chunks, done) = chunks(&seen);
    assert!(done);
    assert_eq!(text_of(&chunks), "one two three");
}

#[tokio::test]
async fn streamed_tool_call_arrives_as_openai_tool_call_deltas() {
    let reply =
        AnthropicReply::message("Let me check.").and_tool_use("get_weather", json!({"city": "Paris", "unit": "c"}));
    let (_mock, gw) = setup(reply).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let body = gw
        .chat(json!({"model": "haiku", "stream": true, "tools": tools,
            "messages": [{"role": "user", "content": "Weather?"}]}))
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    let (chunks, done) = chunks(&body);
    assert!(done);
    assert_eq!(text_of(&chunks), "Let me check.");
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert!(calls.len() >= 2, "name first, then argument fragments: {calls:?}");
    assert_eq!(calls[0]["index"], 0, "index counts tool blocks only");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(calls[0]["id"].as_str().is_some_and(|s| !s.is_empty()));
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).expect("args"),
        json!({"city": "Paris", "unit": "c"})
    );
    let finishes: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finishes, ["tool_calls"]);
}

#[tokio::test]
async fn error_event_mid_stream_ends_with_an_openai_error_object() {
    let (_mock, gw) = setup(AnthropicReply::message("one two three four").with_error_after(2)).await;
    let body = gw
        .chat(stream_body())
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("the stream ends cleanly, not with a reset");
    let (chunks, done) = chunks(&body);
    assert!(!done, "no [DONE] after an error");
    let last = chunks.last().expect("error object");
    assert_eq!(last["error"]["code"], "upstream_overloaded");
    assert!(last["error"]["message"].is_string());
    assert_eq!(text_of(&chunks), "one two");
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "error");
    assert_eq!(log["error_code"], "upstream_overloaded");
}

#[tokio::test]
async fn cut_connection_mid_stream_ends_with_a_truncation_error() {
    let (_mock, gw) = setup(AnthropicReply::message("one two three four").with_cut_after(2)).await;
    let r = gw.chat(stream_body()).send().await.expect("send");
    let mut seen = Vec::new();
    let mut body = r.bytes_stream();
    while let Some(next) = body.next().await {
        match next {
            Ok(b) => seen.extend_from_slice(&b),
            Err(e) => panic!("the client stream must end with an error object, not a reset: {e}"),
        }
    }
    let (chunks, done) = chunks(&seen);
    assert!(!done);
    let code = chunks.last().expect("error object")["error"]["code"].clone();
    assert!(
        code == "upstream_stream_truncated" || code == "upstream_stream_error",
        "{code}"
    );
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "error");
}

#[tokio::test]
async fn idle_anthropic_stream_ends_with_a_timeout_error_and_cancels_upstream() {
    let (reply, gate) = AnthropicReply::message("one two").gated();
    let mock = MockAnthropic::builder()
        .api_key("sk-ant-upstream-key")
        .reply(reply)
        .start()
        .await;
    let yaml = config(&mock, "    timeouts: { idle: 300ms }", "");
    let gw = TestGateway::start(&yaml).await;
    let r = gw.chat(stream_body()).send().await.expect("send");
    gate.release(1);
    let body = r.bytes().await.expect("ends cleanly");
    let (chunks, done) = chunks(&body);
    assert!(!done);
    assert_eq!(chunks.last().expect("error")["error"]["code"], "upstream_idle_timeout");
    let log = gw.next_log().await;
    assert_eq!(log["error_code"], "upstream_idle_timeout");
    tokio::time::timeout(Duration::from_secs(10), mock.wait_cancelled(1))
        .await
        .expect("upstream stream was not cancelled");
}

#[tokio::test]
async fn client_disconnect_cancels_anthropic_and_meters_what_was_seen() {
    let (reply, gate) = AnthropicReply::message("one two three").with_input_tokens(9).gated();
    let (mock, gw) = setup(reply).await;
    let r = gw.chat(stream_body()).send().await.expect("send");
    let mut body = r.bytes_stream();
    gate.release(1);
    body.next().await.expect("first chunk").expect("bytes");
    drop(body);
    tokio::time::timeout(Duration::from_secs(10), mock.wait_cancelled(1))
        .await
        .expect("upstream stream was not cancelled");
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "client_disconnected");
    assert_eq!(
        log["input_tokens"], 9,
        "message_start usage is metered even though the client left"
    );
}

#[tokio::test]
async fn streamed_thinking_arrives_as_reasoning_content() {
    let (_mock, gw) = setup(AnthropicReply::thinking("First, consider.", "Done.")).await;
    let body = gw
        .chat(
            json!({"model": "haiku", "stream": true, "reasoning_effort": "medium", "max_tokens": 5000,
            "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    let (chunks, done) = chunks(&body);
    assert!(done);
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "First, consider.");
    assert_eq!(text_of(&chunks), "Done.");
}
