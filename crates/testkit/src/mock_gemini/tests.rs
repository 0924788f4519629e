//! The mock over real HTTP: what it refuses (as the real API does) and what it answers.

use serde_json::{Value, json};

use super::*;

async fn post(mock: &MockGemini, path: &str, key: Option<&str>, body: &Value) -> (u16, Value, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", mock.base_url()))
        .json(body);
    if let Some(k) = key {
        req = req.header("x-goog-api-key", k);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

fn hi() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]})
}

const GEN: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

#[tokio::test]
async fn refuses_what_gemini_refuses() {
    let mock = MockGemini::builder().api_key("k").start().await;
    for (path, key, body, status, want) in [
        (
            "/v1/models/gemini-2.5-flash:generateContent",
            Some("k"),
            hi(),
            404,
            "NOT_FOUND",
        ),
        (GEN, None, hi(), 403, "PERMISSION_DENIED"),
        (GEN, Some("wrong"), hi(), 400, "INVALID_ARGUMENT"),
        (
            "/v1beta/models/gpt-4o:generateContent",
            Some("k"),
            hi(),
            404,
            "NOT_FOUND",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": []}),
            400,
            "contents is not specified",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
            400,
            "valid role",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "stream": true}),
            400,
            "Unknown name \"stream\"",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [{"role": "user", "parts": [{"text": "x", "inlineData": {"mimeType": "a/b", "data": "x"}}]}]}),
            400,
            "exactly one data field",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"max_tokens": 3}}),
            400,
            "Unknown name \"max_tokens\"",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}}}]}]}),
            400,
            "Unknown name \"additionalProperties\"",
        ),
        (
            GEN,
            Some("k"),
            json!({"contents": [
            {"role": "user", "parts": [{"text": "x"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}, {"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
            400,
            "number of function response parts",
        ),
    ] {
        let (got, v, text) = post(&mock, path, key, &body).await;
        assert_eq!(got, status, "{path} {body}: {text}");
        let said = format!(
            "{} {}",
            v["error"]["status"].as_str().unwrap_or_default(),
            v["error"]["message"].as_str().unwrap_or_default()
        );
        assert!(said.contains(want), "{path} {body}: {said}");
    }
    let (_, v, _) = post(&mock, GEN, Some("wrong"), &hi()).await;
    assert_eq!(v["error"]["details"][0]["reason"], "API_KEY_INVALID");
    assert!(mock.requests().iter().all(|r| r.rejection.is_some()));
}

#[tokio::test]
async fn answers_whole_and_streamed() {
    let mock = MockGemini::builder()
        .reply(
            GeminiReply::text("one two three")
                .with_thought("hmm ok")
                .with_cached_tokens(4),
        )
        .start()
        .await;
    let (status, v, _) = post(&mock, GEN, None, &hi()).await;
    assert_eq!(status, 200);
    assert_eq!(v["candidates"][0]["content"]["parts"][1]["text"], "one two three");
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        v["usageMetadata"],
        json!({"promptTokenCount": 6, "candidatesTokenCount": 3, "thoughtsTokenCount": 2,
        "cachedContentTokenCount": 4, "totalTokenCount": 11})
    );

    let (status, _, text) = post(
        &mock,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        None,
        &hi(),
    )
    .await;
    assert_eq!(status, 200);
    let events: Vec<&str> = text.split("\r\n\r\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 6, "2 thought words + 3 words + the final chunk: {text}");
    assert!(events[5].contains("\"finishReason\":\"STOP\""), "{text}");

    let (status, v, _) = post(
        &mock,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        None,
        &hi(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(6),
        "without alt=sse the stream is one JSON array"
    );
}
