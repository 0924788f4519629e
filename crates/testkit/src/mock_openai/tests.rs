//! Tests of the mock over real HTTP: strictness, recording, replies and streaming.

use serde_json::{Value, json};

use super::*;

mod azure;
mod replies;
mod streaming;
mod strict;

/// Wait bound for events that should happen at once; only reached when a test is failing.
const WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

fn url(mock: &MockOpenAi, path: &str) -> String {
    format!("{}{path}", mock.base_url())
}

async fn post(mock: &MockOpenAi, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url(mock, path))
        .json(&body)
        .send()
        .await
        .expect("send")
}

async fn chat(mock: &MockOpenAi, body: Value) -> reqwest::Response {
    post(mock, "/v1/chat/completions", body).await
}

/// The status and JSON body of a response.
async fn status_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

fn hi() -> Value {
    json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi there you"}]})
}
