//! Streamed replies: Anthropic's event grammar, tool and thinking blocks, pacing, gating, mid-stream errors, cuts
//! and cancellation.

use futures_util::StreamExt;

use super::*;
use crate::SseCollector;

fn streamed() -> Value {
    with(hi(), "stream", json!(true))
}

/// The events of a complete streamed response, after checking its headers.
async fn stream_events(r: reqwest::Response) -> Vec<(String, Value)> {
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert!(r.headers().contains_key("request-id"));
    events(&r.bytes().await.expect("body"))
}

/// Reads `body` into `sse` until it holds at least `n` events.
async fn read_until<S>(body: &mut S, sse: &mut SseCollector, n: usize)
where
    S: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    while sse.events().len() < n {
        let chunk = tokio::time::timeout(WITHIN, body.next())
            .await
            .expect("next event arrives")
            .expect("more body")
            .expect("bytes");
        sse.push(&chunk);
    }
}

#[tokio::test]
async fn text_stream_follows_the_event_grammar() {
    let mock = mock_with(AnthropicReply::message("alpha beta gamma").with_cache_tokens(2, 40)).await;
    let events = stream_events(send(&mock, &streamed()).await).await;
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let start = &events[0].1["message"];
    assert_eq!(start["id"], "msg_mock_0");
    assert_eq!(start["model"], "claude-test");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(
        start["usage"],
        json!({"input_tokens": 3, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 40, "output_tokens": 1})
    );
    assert_eq!(events[1].1["content_block"], json!({"type": "text", "text": ""}));
    let text: Vec<_> = events[3..6].iter().map(|(_, e)| e["delta"]["text"].clone()).collect();
    assert_eq!(text, [json!("alpha"), json!(" beta"), json!(" gamma")]);
    assert!(events[3..7].iter().all(|(_, e)| e["index"] == 0));
    assert_eq!(
        events[7].1,
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"input_tokens": 3, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 40, "output_tokens": 3},
        }),
        "usage in message_delta is cumulative"
    );
}

#[tokio::test]
async fn thinking_and_tool_blocks_stream_their_own_deltas() {
    let input = json!({"city": "Paris", "units": "metric"});
    let reply = AnthropicReply::thinking("let me see", "Checking.")
        .and_tool_use("get_weather", input.clone())
        .without_ping();
    let mock = mock_with(reply).await;
    let events = stream_events(send(&mock, &streamed()).await).await;
    assert!(!names(&events).contains(&"ping"));
    let blocks: Vec<_> = events
        .iter()
        .filter(|(name, _)| name == "content_block_start")
        .map(|(_, e)| (e["index"].clone(), e["content_block"].clone()))
        .collect();
    assert_eq!(
        blocks,
        [
            (json!(0), json!({"type": "thinking", "thinking": "", "signature": ""})),
            (json!(1), json!({"type": "text", "text": ""})),
            (
                json!(2),
                json!({"type": "tool_use", "id": "toolu_mock_0_2", "name": "get_weather", "input": {}})
            ),
        ]
    );
    let deltas = |index: u64| -> Vec<Value> {
        events
            .iter()
            .filter(|(name, e)| name == "content_block_delta" && e["index"] == index)
            .map(|(_, e)| e["delta"].clone())
            .collect()
    };
    let thinking = deltas(0);
    assert_eq!(thinking[0], json!({"type": "thinking_delta", "thinking": "let"}));
    assert_eq!(
        thinking.last().map(|d| d["type"].clone()),
        Some(json!("signature_delta"))
    );
    let json_pieces: Vec<String> = deltas(2)
        .iter()
        .map(|d| {
            assert_eq!(d["type"], "input_json_delta");
            d["partial_json"].as_str().expect("string").to_string()
        })
        .collect();
    assert_eq!(
        json_pieces[0], "",
        "the first fragment is empty, as the real API often sends"
    );
    assert!(json_pieces.len() >= 3, "{json_pieces:?}");
    let whole: Value = serde_json::from_str(&json_pieces.concat()).expect("fragments join to JSON");
    assert_eq!(whole, input);
    // Each block is stopped before the next starts.
    let order: Vec<_> = events
        .iter()
        .filter(|(name, _)| name.starts_with("content_block_st"))
        .map(|(name, e)| format!("{name}:{}", e["index"]))
        .collect();
    assert_eq!(
        order,
        [
            "content_block_start:0",
            "content_block_stop:0",
            "content_block_start:1",
            "content_block_stop:1",
            "content_block_start:2",
            "content_block_stop:2",
        ]
    );
    let (_, delta) = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn gated_stream_releases_delta_by_delta() {
    let (reply, gate) = AnthropicReply::message("one two three").gated();
    let mock = mock_with(reply).await;
    let r = send(&mock, &streamed()).await;
    assert_eq!(r.status(), 200, "headers go out before any delta is released");
    let mut body = r.bytes_stream();
    let mut sse = SseCollector::new();
    read_until(&mut body, &mut sse, 1).await;
    assert_eq!(
        sse.json()[0]["type"],
        "message_start",
        "message_start does not wait for the gate"
    );
    // The first release brings the block start and the ping along with the first delta.
    for (released, events_so_far, word) in [(1, 4, "one"), (2, 5, " two"), (3, 6, " three")] {
        gate.release(1);
        read_until(&mut body, &mut sse, events_so_far).await;
        assert_eq!(
            sse.events().len(),
            events_so_far,
            "only released deltas were sent ({released})"
        );
        assert_eq!(sse.json()[events_so_far - 1]["delta"]["text"], word);
    }
    gate.finish();
    while let Some(chunk) = body.next().await {
        sse.push(&chunk.expect("bytes"));
    }
    let kinds: Vec<_> = sse.json().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        kinds[6..],
        [
            json!("content_block_stop"),
            json!("message_delta"),
            json!("message_stop")
        ]
    );
    assert_eq!(mock.cancelled_streams(), 0, "a completed stream is not cancelled");
}

#[tokio::test]
async fn chunk_delay_paces_every_delta() {
    let per_delta = Duration::from_millis(30);
    let mock = mock_with(AnthropicReply::message("a b c").with_chunk_delay(per_delta)).await;
    let started = std::time::Instant::now();
    let events = stream_events(send(&mock, &streamed()).await).await;
    assert!(started.elapsed() >= per_delta * 3, "{:?}", started.elapsed());
    assert_eq!(events.last().map(|(name, _)| name.as_str()), Some("message_stop"));
}

#[tokio::test]
async fn error_after_n_deltas_sends_an_error_event_and_ends() {
    let mock = mock_with(AnthropicReply::message("a b c d").with_error_after(2)).await;
    let events = stream_events(send(&mock, &streamed()).await).await;
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "error",
        ]
    );
    assert_eq!(
        events[5].1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert_eq!(mock.cancelled_streams(), 0);
}

#[tokio::test]
async fn cut_after_n_deltas_drops_the_connection() {
    let mock = mock_with(AnthropicReply::message("a b c d").with_cut_after(1)).await;
    let r = send(&mock, &streamed()).await;
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let mut received = Vec::new();
    let error = loop {
        match tokio::time::timeout(WITHIN, body.next()).await.expect("the body moves") {
            Some(Ok(chunk)) => received.extend_from_slice(&chunk),
            Some(Err(e)) => break e,
            None => panic!("the body ended cleanly: {}", String::from_utf8_lossy(&received)),
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    let events = events(&received);
    assert_eq!(
        events.last().map(|(name, _)| name.as_str()),
        Some("content_block_delta")
    );
    assert_eq!(
        names(&events).iter().filter(|n| **n == "content_block_delta").count(),
        1
    );
}

#[tokio::test]
async fn dropping_the_response_mid_stream_counts_as_cancelled() {
    let (reply, gate) = AnthropicReply::message("one two").gated();
    let mock = mock_with(reply).await;
    let mut body = send(&mock, &streamed()).await.bytes_stream();
    gate.release(1);
    let mut sse = SseCollector::new();
    read_until(&mut body, &mut sse, 4).await;
    assert_eq!(mock.cancelled_streams(), 0);
    drop(body);
    tokio::time::timeout(WITHIN, mock.wait_cancelled(1))
        .await
        .expect("the mock notices the client went away");
    assert_eq!(mock.abandoned_requests(), 0, "the response had started");
}

#[tokio::test]
async fn non_streamed_requests_ignore_stream_shapers() {
    let mock = mock_with(AnthropicReply::message("whole answer").with_error_after(0)).await;
    let (status, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!((status, &body["content"][0]["text"]), (200, &json!("whole answer")));
}
