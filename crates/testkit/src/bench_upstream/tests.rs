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
    server.abort();
}
