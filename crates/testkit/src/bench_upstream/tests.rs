use super::*;

fn parse_frames(frames: &[Bytes]) -> Vec<String> {
    frames
        .iter()
        .map(|f| {
            let text = std::str::from_utf8(f).expect("utf8");
            let data = text.strip_prefix("data: ").expect("data frame");
            data.strip_suffix("\n\n").expect("frame end").to_string()
        })
        .collect()
}

#[test]
fn detects_stream_and_usage_flags_without_parsing() {
    let canned = Canned::new(3);
    for (body, stream) in [
        (r#"{"model":"m","stream":true}"#, true),
        (r#"{"stream" :  true, "model":"m"}"#, true),
        ("{\"stream\":\n\ttrue}", true),
        (r#"{"model":"m","stream":false}"#, false),
        (r#"{"model":"m"}"#, false),
        (r#"{"stream_options":{"include_usage":true}}"#, false),
        (r#"{"x":"stream","stream":true}"#, true),
        (r#"{"stream"}"#, false),
    ] {
        assert_eq!(canned.wants_stream(body.as_bytes()), stream, "{body}");
    }
    assert!(canned.wants_usage(br#"{"stream":true,"stream_options":{"include_usage": true}}"#));
    assert!(!canned.wants_usage(br#"{"stream":true,"stream_options":{"include_usage":false}}"#));
    assert!(!canned.wants_usage(br#"{"stream":true}"#));
}

#[test]
fn chat_body_is_about_one_kilobyte_with_usage() {
    let canned = Canned::new(3);
    let body = canned.chat_body();
    assert!((900..1300).contains(&body.len()), "{} bytes", body.len());
    let v: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], MODEL);
    let content = v["choices"][0]["message"]["content"].as_str().expect("content");
    assert_eq!(v["usage"]["completion_tokens"], content.split_whitespace().count());
    assert_eq!(
        v["usage"]["total_tokens"],
        v["usage"]["prompt_tokens"].as_u64().expect("prompt")
            + v["usage"]["completion_tokens"].as_u64().expect("completion")
    );
}

#[test]
fn stream_frames_follow_openai_with_and_without_usage() {
    let canned = Canned::new(5);
    let plain = parse_frames(canned.stream_frames(false));
    assert_eq!(plain.len(), 5 + 2, "chunks, finish, [DONE]");
    assert_eq!(plain.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = plain[..6]
        .iter()
        .map(|d| serde_json::from_str(d).expect("json"))
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");

    let with_usage = parse_frames(canned.stream_frames(true));
    assert_eq!(with_usage.len(), 5 + 3, "chunks, finish, usage, [DONE]");
    let chunks: Vec<Value> = with_usage[..7]
        .iter()
        .map(|d| serde_json::from_str(d).expect("json"))
        .collect();
    assert!(chunks[..6].iter().all(|c| c.get("usage") == Some(&Value::Null)));
    assert_eq!(chunks[6]["choices"], json!([]));
    assert_eq!(chunks[6]["usage"]["completion_tokens"], 5);
}

#[test]
fn respond_routes_by_method_path_and_body() {
    let canned = Canned::new(2);
    let stream = canned.respond(&Method::POST, "/v1/chat/completions", br#"{"stream":true}"#);
    assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");
    assert!(matches!(stream.body(), Either::Right(_)));
    let json = canned.respond(&Method::POST, "/v1/chat/completions", br#"{"model":"m"}"#);
    assert_eq!(json.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(canned.respond(&Method::GET, "/health", b"").status(), StatusCode::OK);
    assert_eq!(
        canned.respond(&Method::GET, "/v1/chat/completions", b"").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        canned.respond(&Method::POST, "/nope", b"").status(),
        StatusCode::NOT_FOUND
    );
}

/// Splits Anthropic SSE frames into `(event name, data JSON)`, asserting the grammar of each frame: exactly one
/// `event:` line, then one `data:` line, then the blank line that ends the event.
fn parse_events(frames: &[Bytes]) -> Vec<(String, Value)> {
    frames
        .iter()
        .map(|f| {
            let text = std::str::from_utf8(f).expect("utf8");
            let text = text.strip_suffix("\n\n").expect("event ends with a blank line");
            let (event, data) = text.split_once('\n').expect("two lines");
            let name = event.strip_prefix("event: ").expect("event line first");
            let data = data.strip_prefix("data: ").expect("data line second");
            assert!(!data.contains('\n'), "one data line: {text}");
            let data: Value = serde_json::from_str(data).expect("data is json");
            assert_eq!(data["type"], name, "the event name is the payload type");
            (name.to_owned(), data)
        })
        .collect()
}

#[test]
fn anthropic_message_is_about_one_kilobyte_with_usage() {
    let canned = Canned::new(3);
    let body = canned.message_body();
    assert!((900..1300).contains(&body.len()), "{} bytes", body.len());
    let v: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], MODEL);
    assert!(v["id"].as_str().expect("id").starts_with("msg_"));
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["stop_sequence"], Value::Null);
    let blocks = v["content"].as_array().expect("content blocks");
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["type"], "text");
    let text = blocks[0]["text"].as_str().expect("text");
    assert!(text.len() >= 700, "{} bytes of text", text.len());
    assert_eq!(v["usage"]["output_tokens"], text.split_whitespace().count());
    assert!(v["usage"]["input_tokens"].as_u64().expect("input") > 0);
}

#[test]
fn anthropic_stream_follows_the_event_grammar() {
    let canned = Canned::new(5);
    let events = parse_events(canned.message_stream_frames());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(["content_block_delta"; 5]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);

    let start = &events[0].1["message"];
    assert_eq!(start["type"], "message");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert!(start["usage"]["input_tokens"].as_u64().expect("input") > 0);
    assert_eq!(events[1].1["content_block"], json!({"type": "text", "text": ""}));

    let text: String = events[2..7]
        .iter()
        .map(|(_, e)| {
            assert_eq!(e["index"], 0);
            assert_eq!(e["delta"]["type"], "text_delta");
            e["delta"]["text"].as_str().expect("text").to_owned()
        })
        .collect();
    assert_eq!(text, "gate house proxy fast token");

    assert_eq!(events[7].1["index"], 0);
    let delta = &events[8].1;
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(delta["usage"]["output_tokens"], 5, "cumulative: one per delta");
}

#[test]
fn anthropic_stream_carries_one_text_delta_per_chunk() {
    let canned = Canned::new(100);
    let events = parse_events(canned.message_stream_frames());
    let deltas = events.iter().filter(|(n, _)| n == "content_block_delta").count();
    assert_eq!(deltas, 100);
    assert_eq!(events.len(), 100 + 5);
}

#[test]
fn respond_routes_anthropic_messages_by_body() {
    let canned = Canned::new(2);
    let stream = canned.respond(&Method::POST, "/v1/messages", br#"{"model":"m","stream": true}"#);
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");
    assert!(matches!(stream.body(), Either::Right(_)));
    let json = canned.respond(&Method::POST, "/v1/messages", br#"{"model":"m","stream":false}"#);
    assert_eq!(json.headers()[header::CONTENT_TYPE], "application/json");
    assert!(matches!(json.body(), Either::Left(_)));
    assert_eq!(
        canned.respond(&Method::GET, "/v1/messages", b"").status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn frames_body_yields_every_frame_then_ends() {
    let canned = Canned::new(4);
    let Either::Right(body) = canned
        .respond(&Method::POST, "/v1/chat/completions", br#"{"stream":true}"#)
        .into_body()
    else {
        panic!("a stream request gets frames");
    };
    assert_eq!(body.size_hint().exact(), None, "chunked, like real SSE");
    let bytes = body.collect().await.expect("infallible").to_bytes();
    let expected: Vec<u8> = canned.stream_frames(false).concat();
    assert_eq!(bytes, expected);
}

#[tokio::test]
async fn serves_keep_alive_requests_over_http() {
    let listener = crate::free_port_listener().await;
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(serve(listener, Arc::new(Canned::new(3))));
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("health")
            .status(),
        200
    );
    for _ in 0..3 {
        let r = client
            .post(format!("{base}/v1/chat/completions"))
            .body(r#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let data = crate::sse_data(&r.bytes().await.expect("body"));
        assert_eq!(data.len(), 3 + 3);
    }
    let r = client
        .post(format!("{base}/v1/chat/completions"))
        .body(r#"{"model":"m"}"#)
        .send()
        .await
        .expect("send");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["object"], "chat.completion");

    let r = client
        .post(format!("{base}/v1/messages"))
        .body(r#"{"model":"m","max_tokens":16,"stream":true}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let body = r.bytes().await.expect("body");
    assert_eq!(body, Bytes::from(Canned::new(3).message_stream_frames().concat()));
    let r = client
        .post(format!("{base}/v1/messages"))
        .body(r#"{"model":"m","max_tokens":16}"#)
        .send()
        .await
        .expect("send");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["type"], "message");
    server.abort();
}
