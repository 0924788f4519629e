//! Non-streamed replies: shapes per endpoint, usage, statuses, raw bytes, the queue, delays and hangs.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn chat_reply_echoes_model_and_counts_words() {
    let mock = MockOpenAi::builder()
        .reply(Reply::chat("hello from the mock"))
        .start()
        .await;
    let (status, body) = status_json(chat(&mock, hi()).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "chatcmpl-mock-0");
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["message"]["content"], "hello from the mock");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
    );
}

#[tokio::test]
async fn completions_and_embeddings_have_their_own_shapes() {
    let mock = MockOpenAi::builder().reply(Reply::chat("once upon")).start().await;
    let (status, body) =
        status_json(post(&mock, "/v1/completions", json!({"model": "m", "prompt": "tell me"})).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "once upon");
    assert_eq!(body["usage"]["total_tokens"], 4);

    let (status, body) = status_json(
        post(
            &mock,
            "/v1/embeddings",
            json!({"model": "e", "input": ["one two", "three"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "e");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["index"], 1);
    assert_eq!(data[0]["embedding"].as_array().expect("vector").len(), 4);
    assert_eq!(body["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
}

#[tokio::test]
async fn status_raw_queue_and_default_replies() {
    let mock = MockOpenAi::builder()
        .push_reply(
            Reply::status(
                429,
                json!({"error": {"message": "slow down", "code": "rate_limit_exceeded"}}),
            )
            .with_header("retry-after", "7"),
        )
        .push_reply(Reply::raw(200, "application/json", "{broken"))
        .reply(Reply::chat("default"))
        .start()
        .await;
    let r = chat(&mock, hi()).await;
    assert_eq!(r.headers()["retry-after"], "7");
    let (status, body) = status_json(r).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    let r = chat(&mock, hi()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("text"), "{broken");

    let (_, body) = status_json(chat(&mock, hi()).await).await;
    assert_eq!(body["choices"][0]["message"]["content"], "default");

    mock.set_reply(Reply::chat("changed"));
    mock.push_reply(Reply::status(500, json!({"error": {"message": "boom"}})));
    assert_eq!(chat(&mock, hi()).await.status(), 500);
    let (_, body) = status_json(chat(&mock, hi()).await).await;
    assert_eq!(body["choices"][0]["message"]["content"], "changed");
}

#[tokio::test]
async fn refused_requests_do_not_consume_queued_replies() {
    let mock = MockOpenAi::builder().push_reply(Reply::chat("queued")).start().await;
    assert_eq!(chat(&mock, json!({"model": "m"})).await.status(), 400);
    let (_, body) = status_json(chat(&mock, hi()).await).await;
    assert_eq!(body["choices"][0]["message"]["content"], "queued");
}

#[tokio::test]
async fn delay_holds_back_the_headers() {
    let delay = Duration::from_millis(100);
    let mock = MockOpenAi::builder()
        .reply(Reply::delay(delay, Reply::chat("late").with_header("x-inner", "1")).with_header("x-outer", "1"))
        .start()
        .await;
    let started = std::time::Instant::now();
    let r = chat(&mock, hi()).await;
    assert!(started.elapsed() >= delay, "headers came after {:?}", started.elapsed());
    assert_eq!(r.headers()["x-inner"], "1");
    assert_eq!(r.headers()["x-outer"], "1");
    let (_, body) = status_json(r).await;
    assert_eq!(body["choices"][0]["message"]["content"], "late");
}

#[tokio::test]
async fn a_hung_request_is_abandoned_when_the_client_gives_up() {
    let mock = MockOpenAi::builder().reply(Reply::hang()).start().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let err = client
        .post(url(&mock, "/v1/chat/completions"))
        .json(&hi())
        .send()
        .await
        .expect_err("a hung upstream never answers");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(mock.requests().len(), 1, "recorded before hanging");
    tokio::time::timeout(WITHIN, mock.wait_abandoned(1))
        .await
        .expect("the dropped connection ends the handler");
    assert_eq!(mock.abandoned_requests(), 1);
    assert_eq!(mock.cancelled_streams(), 0);
}

#[tokio::test]
async fn dropping_the_mock_closes_hung_connections() {
    let mock = MockOpenAi::builder().reply(Reply::hang()).start().await;
    let url = url(&mock, "/v1/chat/completions");
    let pending = tokio::spawn(async move { reqwest::Client::new().post(url).json(&hi()).send().await });
    tokio::time::timeout(WITHIN, mock.wait_for_requests(1))
        .await
        .expect("request arrived");
    let base = mock.base_url();
    drop(mock);
    let result = tokio::time::timeout(WITHIN, pending)
        .await
        .expect("the hung request ends with the mock")
        .expect("join");
    assert!(result.is_err(), "no response, just a closed connection");
    assert!(
        reqwest::get(format!("{base}/v1/models")).await.is_err(),
        "listener closed"
    );
}
