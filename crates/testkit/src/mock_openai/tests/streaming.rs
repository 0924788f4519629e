//! Streamed replies: OpenAI's chunk shapes with and without usage, gating, pacing and cancellation.

use std::time::Duration;

use futures_util::StreamExt;

use super::*;
use crate::{SseCollector, sse_data};

fn streamed(include_usage: Option<bool>) -> Value {
    let mut body = hi();
    body["stream"] = json!(true);
    if let Some(include) = include_usage {
        body["stream_options"] = json!({"include_usage": include});
    }
    body
}

async fn events(r: reqwest::Response) -> Vec<Value> {
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let data = sse_data(&r.bytes().await.expect("body"));
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{data:?}");
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("chunk is JSON"))
        .collect()
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage_at_all() {
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("alpha beta gamma"))
        .start()
        .await;
    for include in [None, Some(false)] {
        let chunks = events(chat(&mock, streamed(include)).await).await;
        assert_eq!(chunks.len(), 4, "three words and a finish chunk: {chunks:?}");
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": "alpha"})
        );
        assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": " beta"}));
        assert_eq!(chunks[2]["choices"][0]["delta"], json!({"content": " gamma"}));
        assert_eq!(chunks[3]["choices"][0]["delta"], json!({}));
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
        for c in &chunks {
            assert_eq!(c["object"], "chat.completion.chunk");
            assert_eq!(c["model"], "gpt-test");
            assert!(c.get("usage").is_none(), "{c}");
        }
    }
}

#[tokio::test]
async fn stream_with_include_usage_ends_with_a_usage_chunk() {
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("alpha beta gamma"))
        .start()
        .await;
    let chunks = events(chat(&mock, streamed(Some(true))).await).await;
    assert_eq!(chunks.len(), 5);
    for c in &chunks[..4] {
        assert_eq!(c["usage"], Value::Null, "every chunk carries usage: null: {c}");
        assert!(c.get("usage").is_some());
    }
    let last = &chunks[4];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6})
    );
}

#[tokio::test]
async fn completions_stream_text_completion_chunks() {
    let mock = MockOpenAi::builder().reply(Reply::chat("a b")).start().await;
    let body = json!({"model": "m", "prompt": "p", "stream": true, "stream_options": {"include_usage": true}});
    let chunks = events(post(&mock, "/v1/completions", body).await).await;
    let texts: Vec<_> = chunks.iter().filter_map(|c| c["choices"][0]["text"].as_str()).collect();
    assert_eq!(texts, ["a", " b", ""]);
    assert!(chunks.iter().all(|c| c["object"] == "text_completion"));
    assert_eq!(chunks[3]["usage"]["total_tokens"], 3);
}

#[tokio::test]
async fn gated_stream_releases_chunk_by_chunk() {
    let (reply, gate) = Reply::gated_stream(&["one", "two", "three"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let r = chat(&mock, streamed(Some(true))).await;
    assert_eq!(r.status(), 200, "headers go out before any chunk is released");
    let mut body = r.bytes_stream();
    let mut sse = SseCollector::new();
    for (released, word) in [(1, "one"), (2, " two"), (3, " three")] {
        gate.release(1);
        while sse.events().len() < released {
            let chunk = tokio::time::timeout(WITHIN, body.next())
                .await
                .expect("released chunk arrives")
                .expect("more body")
                .expect("bytes");
            sse.push(&chunk);
        }
        assert_eq!(sse.events().len(), released, "only released chunks were sent");
        assert_eq!(sse.json()[released - 1]["choices"][0]["delta"]["content"], word);
    }
    gate.finish();
    while let Some(chunk) = body.next().await {
        sse.push(&chunk.expect("bytes"));
    }
    let data = sse.finish();
    assert_eq!(data.len(), 6, "3 words, finish, usage, [DONE]: {data:?}");
    assert_eq!(data[5], "[DONE]");
    assert_eq!(mock.cancelled_streams(), 0, "a completed stream is not cancelled");
}

#[tokio::test]
async fn dropping_the_response_mid_stream_counts_as_cancelled() {
    let (reply, gate) = Reply::gated_stream(&["one", "two"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    let mut body = chat(&mock, streamed(None)).await.bytes_stream();
    gate.release(1);
    let first = tokio::time::timeout(WITHIN, body.next())
        .await
        .expect("first chunk")
        .expect("more body")
        .expect("bytes");
    assert!(String::from_utf8_lossy(&first).contains("one"));
    assert_eq!(mock.cancelled_streams(), 0);
    drop(body);
    tokio::time::timeout(WITHIN, mock.wait_cancelled(1))
        .await
        .expect("the mock notices the client went away");
    assert_eq!(mock.cancelled_streams(), 1);
    assert_eq!(mock.abandoned_requests(), 0, "the response had started");
}

#[tokio::test]
async fn gated_stream_always_streams_and_answers_every_request_in_lockstep() {
    let (reply, gate) = Reply::gated_stream(&["x"]);
    let mock = MockOpenAi::builder().reply(reply).start().await;
    gate.finish();
    for _ in 0..2 {
        let chunks = events(chat(&mock, hi()).await).await;
        assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "x");
    }
}

#[tokio::test]
async fn stream_with_delay_paces_every_chunk() {
    let per_chunk = Duration::from_millis(30);
    let mock = MockOpenAi::builder()
        .reply(Reply::stream_with_delay("a b c", per_chunk))
        .start()
        .await;
    let started = std::time::Instant::now();
    let chunks = events(chat(&mock, streamed(None)).await).await;
    assert!(started.elapsed() >= per_chunk * 3, "{:?}", started.elapsed());
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "a b c");
}
