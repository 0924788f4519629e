//! The Responses mock over real HTTP: its strictness, what it records, and the shapes it answers with.

use serde_json::{Value, json};

use super::*;

async fn post(mock: &MockResponses, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/responses", mock.base_url()))
        .json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.expect("send")
}

#[tokio::test]
async fn refuses_what_the_api_refuses() {
    let mock = MockResponses::builder().api_key("sk-up").start().await;
    let cases: Vec<(Option<&str>, Value, u16, &str)> = vec![
        (
            Some("sk-client"),
            json!({"model": "m", "input": "hi"}),
            401,
            "invalid_api_key",
        ),
        (
            Some("sk-up"),
            json!({"model": "m", "input": "hi", "stream_options": {"include_usage": true}, "stream": true}),
            400,
            "unknown_parameter",
        ),
        (
            Some("sk-up"),
            json!({"model": "m", "input": "hi", "stream_options": {"include_obfuscation": false}}),
            400,
            "invalid_value",
        ),
        (
            Some("sk-up"),
            json!({"model": "m", "input": "hi", "messages": []}),
            400,
            "unknown_parameter",
        ),
        (Some("sk-up"), json!({"input": "hi"}), 400, "missing_required_parameter"),
        (Some("sk-up"), json!({"model": "m", "input": 3}), 400, "invalid_type"),
        (
            Some("sk-up"),
            json!({"model": "m", "input": "hi", "max_output_tokens": 8}),
            400,
            "integer_below_min_value",
        ),
        (
            Some("sk-up"),
            json!({"model": "m", "input": "hi", "previous_response_id": "resp_nope"}),
            400,
            "previous_response_not_found",
        ),
    ];
    for (key, body, status, code) in cases {
        let resp = post(&mock, key, body.clone()).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let err: Value = resp.json().await.expect("json");
        assert_eq!(err["error"]["code"], code, "{body}");
    }
    assert!(mock.requests().iter().all(|r| r.is_rejected()));
}

#[tokio::test]
async fn answers_stores_and_chains() {
    let mock = MockResponses::builder()
        .push_reply(ResponsesReply::Text("hello there".into()))
        .push_reply(ResponsesReply::Text("not kept".into()))
        .start()
        .await;
    let r: Value = post(&mock, None, json!({"model": "m", "input": "one two three"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["object"], "response");
    assert_eq!(r["output"][0]["content"][0]["text"], "hello there");
    assert_eq!(r["usage"]["input_tokens"], 3);
    assert_eq!(r["usage"]["output_tokens"], 2);
    let id = r["id"].as_str().expect("id").to_string();
    let unstored: Value = post(&mock, None, json!({"model": "m", "input": "x", "store": false}))
        .await
        .json()
        .await
        .expect("json");
    // A chained request names the stored id and is accepted; an unstored one is not found.
    let ok = post(
        &mock,
        None,
        json!({"model": "m", "input": "more", "previous_response_id": id}),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let missing = post(
        &mock,
        None,
        json!({"model": "m", "input": "more", "previous_response_id": unstored["id"]}),
    )
    .await;
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn streams_typed_events_with_sequence_numbers_and_usage() {
    let mock = MockResponses::builder()
        .reply(ResponsesReply::FunctionCall {
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        })
        .start()
        .await;
    let resp = post(&mock, None, json!({"model": "m", "input": "weather?", "stream": true})).await;
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.expect("body");
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|f| f.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).expect("event json"))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    let deltas: String = events[3..5]
        .iter()
        .map(|e| e["delta"].as_str().expect("delta"))
        .collect();
    assert_eq!(deltas, r#"{"city":"Paris"}"#);
    assert_eq!(events[7]["response"]["usage"]["input_tokens"], 1);
    assert_eq!(events[7]["response"]["output"][0]["name"], "get_weather");
}
