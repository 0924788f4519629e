//! Tests of the Anthropic mock over real HTTP: strictness, recording, replies and streaming.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

mod edge;
mod replies;
mod streaming;
mod strict;

/// Wait bound for events that should happen at once; only reached when a test is failing.
const WITHIN: Duration = Duration::from_secs(10);

/// The upstream key the mocks under test require.
const KEY: &str = "sk-ant-upstream";

fn url(mock: &MockAnthropic) -> String {
    format!("{}/v1/messages", mock.base_url())
}

/// A request as a well-behaved gateway sends it: key, version, JSON.
fn request(mock: &MockAnthropic, body: &Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url(mock))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(body)
}

async fn send(mock: &MockAnthropic, body: &Value) -> reqwest::Response {
    request(mock, body).send().await.expect("send")
}

/// A mock requiring [`KEY`] and answering `reply`.
async fn mock_with(reply: AnthropicReply) -> MockAnthropic {
    MockAnthropic::builder().api_key(KEY).reply(reply).start().await
}

/// The status and JSON body of a response.
async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// The smallest valid request: three words of input.
fn hi() -> Value {
    json!({"model": "claude-test", "max_tokens": 256, "messages": [{"role": "user", "content": "hi there you"}]})
}

/// `body` with `key` set to `value`.
fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

/// `body` without `key`.
fn without(mut body: Value, key: &str) -> Value {
    if let Some(obj) = body.as_object_mut() {
        obj.remove(key);
    }
    body
}

/// The `(event name, data)` pairs of a complete Anthropic SSE body, checking that every event is named after the
/// `type` of its data, as the real API does.
fn events(body: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(body).expect("SSE is UTF-8");
    text.split("\n\n")
        .filter(|frame| !frame.is_empty())
        .map(|frame| {
            let mut name = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(d).expect("data is JSON"));
                }
            }
            let (name, data) = (name.expect("event line"), data.expect("data line"));
            assert_eq!(data["type"], name.as_str(), "event name matches data type");
            (name, data)
        })
        .collect()
}

/// Asserts that `body` is Anthropic's error JSON for `rejection` and carries the response's request id.
fn assert_error(status: u16, headers: &http::HeaderMap, body: &Value, rejection: &AnthropicRejection) {
    assert_eq!(status, rejection.status().as_u16(), "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], rejection.error_type(), "{body}");
    assert_eq!(body["error"]["message"], rejection.to_string(), "{body}");
    let request_id = headers["request-id"].to_str().expect("ASCII");
    assert!(request_id.starts_with("req_mock_"), "{request_id}");
    assert_eq!(body["request_id"], request_id, "{body}");
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(name, _)| name.as_str()).collect()
}
