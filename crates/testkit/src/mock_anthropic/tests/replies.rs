//! Non-streamed replies: the Message shape, tool and thinking blocks, usage, errors, the queue, delays and hangs.

use super::*;

#[tokio::test]
async fn message_reply_has_the_api_shape() {
    let mock = mock_with(AnthropicReply::message("hello from the mock")).await;
    let r = send(&mock, &with(hi(), "system", json!("be brief"))).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["request-id"], "req_mock_0");
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "id": "msg_mock_0",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [{"type": "text", "text": "hello from the mock"}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": 5,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 4,
            },
        })
    );
}

#[tokio::test]
async fn tool_use_and_thinking_replies() {
    let mock = mock_with(AnthropicReply::message("ok")).await;
    mock.enqueue(AnthropicReply::message("Let me check.").and_tool_use("get_weather", json!({"city": "Paris"})));
    mock.enqueue(AnthropicReply::tool_use("a", json!({})).and_tool_use("b", json!({"x": 1})));
    mock.enqueue(AnthropicReply::thinking("step by step", "42"));

    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(
        body["content"],
        json!([
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_mock_0_1", "name": "get_weather", "input": {"city": "Paris"}},
        ])
    );

    let (_, body) = status_json(send(&mock, &hi()).await).await;
    let ids: Vec<_> = body["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|b| b["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("toolu_mock_1_0"), json!("toolu_mock_1_1")],
        "parallel tool calls"
    );

    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["content"][0]["type"], "thinking");
    assert_eq!(body["content"][0]["thinking"], "step by step");
    assert!(body["content"][0]["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(body["content"][1], json!({"type": "text", "text": "42"}));
    assert_eq!(body["usage"]["output_tokens"], 4, "thinking words count as output");
}

#[tokio::test]
async fn usage_and_stop_reason_can_be_scripted() {
    let reply = AnthropicReply::message("truncated")
        .with_input_tokens(100)
        .with_output_tokens(7)
        .with_cache_tokens(30, 60)
        .with_stop_reason("max_tokens");
    let mock = mock_with(reply).await;
    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(body["stop_reason"], "max_tokens");
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 100, "cache_creation_input_tokens": 30, "cache_read_input_tokens": 60, "output_tokens": 7})
    );
    mock.set_reply(AnthropicReply::message("a END").with_stop_sequence("END"));
    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(
        (&body["stop_reason"], &body["stop_sequence"]),
        (&json!("stop_sequence"), &json!("END"))
    );
}

#[tokio::test]
async fn error_replies_have_the_error_shape_and_retry_after() {
    let mock = MockAnthropic::builder()
        .enqueue(AnthropicReply::rate_limited(7))
        .enqueue(AnthropicReply::overloaded())
        .enqueue(AnthropicReply::error(500, "api_error", "Internal server error"))
        .enqueue(AnthropicReply::error(401, "authentication_error", "invalid x-api-key").with_retry_after(1))
        .start()
        .await;
    let expected = [
        (429, "rate_limit_error", Some("7")),
        (529, "overloaded_error", None),
        (500, "api_error", None),
        (401, "authentication_error", Some("1")),
    ];
    for (i, (status, error_type, retry_after)) in expected.into_iter().enumerate() {
        // Errors are JSON even when the request asked for a stream.
        let r = send(&mock, &with(hi(), "stream", json!(i % 2 == 0))).await;
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
            retry_after
        );
        let request_id = format!("req_mock_{i}");
        assert_eq!(r.headers()["request-id"], request_id.as_str());
        let (got, body) = status_json(r).await;
        assert_eq!(got, status);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], error_type);
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["request_id"], request_id);
    }
    let (status, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(
        (status, &body["content"][0]["text"]),
        (200, &json!("ok")),
        "then the default"
    );
}

#[tokio::test]
async fn refusals_do_not_consume_queued_replies() {
    let mock = MockAnthropic::builder()
        .enqueue(AnthropicReply::message("queued"))
        .start()
        .await;
    assert_eq!(send(&mock, &without(hi(), "max_tokens")).await.status(), 400);
    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert_eq!(body["content"][0]["text"], "queued");
}

#[tokio::test]
async fn raw_delay_and_hang() {
    let delay = Duration::from_millis(50);
    let mock = MockAnthropic::builder()
        .enqueue(AnthropicReply::raw(200, "application/json", "{\"type\":\"mess"))
        .enqueue(AnthropicReply::delay(delay, AnthropicReply::message("late")))
        .enqueue(AnthropicReply::hang())
        .start()
        .await;
    let r = send(&mock, &hi()).await;
    assert_eq!(r.text().await.expect("body"), "{\"type\":\"mess");

    let started = std::time::Instant::now();
    let (_, body) = status_json(send(&mock, &hi()).await).await;
    assert!(started.elapsed() >= delay);
    assert_eq!(body["content"][0]["text"], "late");

    let hung = request(&mock, &hi()).timeout(Duration::from_millis(100)).send().await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    tokio::time::timeout(WITHIN, mock.wait_abandoned(1))
        .await
        .expect("the mock notices the client gave up");
}

#[tokio::test]
async fn gated_message_waits_for_finish() {
    let (reply, gate) = AnthropicReply::message("held").gated();
    let mock = mock_with(reply).await;
    let mut pending = tokio::spawn(send_owned(url(&mock)));
    tokio::time::timeout(WITHIN, mock.wait_for_requests(1))
        .await
        .expect("request arrives");
    gate.release(5);
    let early = tokio::time::timeout(Duration::from_millis(50), &mut pending).await;
    assert!(
        early.is_err(),
        "releasing deltas does not answer a non-streamed request"
    );
    gate.finish();
    let (status, body) = tokio::time::timeout(WITHIN, pending)
        .await
        .expect("answered")
        .expect("task");
    assert_eq!((status, &body["content"][0]["text"]), (200, &json!("held")));
}

#[tokio::test]
async fn cut_message_drops_the_connection_mid_body() {
    let mock = mock_with(AnthropicReply::message("never whole").with_cut_after(0)).await;
    let r = send(&mock, &hi()).await;
    assert_eq!(r.status(), 200, "headers went out");
    assert!(r.bytes().await.is_err(), "the body never completes");
    assert_eq!(mock.cancelled_streams(), 0, "the mock's own cut is not a client cancel");
}

async fn send_owned(url: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&hi())
        .send()
        .await
        .expect("send");
    status_json(r).await
}
