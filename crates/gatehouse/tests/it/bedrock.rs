//! OpenAI chat completions served by a Bedrock target: every request SigV4-signed and verified by the strict
//! mock (which recomputes the signature), Converse translated both ways, binary event streams decoded.

use serde_json::{Value, json};
use testkit::{BedrockReply, MockBedrock};

use crate::gemini::openai_chunks;
use crate::support::TestGateway;

const AKID: &str = "AKIDGATEHOUSETEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYgatehouse";
const TOKEN: &str = "session-token-for-temporary-credentials";
const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

pub fn config(mock: &MockBedrock, secret: &str) -> String {
    format!(
        "providers:\n  aws: {{ kind: bedrock, region: us-west-2, base_url: \"{}\", aws: {{ access_key_id: {{ value: {AKID} }}, secret_access_key: {{ value: \"{secret}\" }}, session_token: {{ value: {TOKEN} }} }} }}\nmodels:\n  - {{ name: haiku, targets: [{{ provider: aws, model: \"{MODEL}\" }}] }}\n",
        mock.base_url()
    )
}

async fn setup(reply: BedrockReply) -> (MockBedrock, TestGateway) {
    let mock = MockBedrock::builder("us-west-2", AKID, SECRET)
        .session_token(TOKEN)
        .models(&[MODEL])
        .reply(reply)
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, SECRET)).await;
    (mock, gw)
}

#[tokio::test]
async fn converse_is_signed_translated_and_counts_cache_tokens() {
    let (mock, gw) = setup(BedrockReply::text("Hello from Bedrock").with_cache(100, 20)).await;
    let r = gw
        .chat(json!({"model": "haiku", "max_tokens": 64, "messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]}))
        .header("authorization", "Bearer client-own-key")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["model"], "haiku");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Bedrock");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"]["prompt_tokens"],
        4 + 100 + 20,
        "inputTokens + cache reads + cache writes"
    );
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cache_write_tokens"], 20);
    assert_eq!(v["usage"]["completion_tokens"], 3);

    let req = &mock.requests()[0];
    assert!(
        req.rejection.is_none(),
        "the signature verified and the body passed: {:?}",
        req.rejection
    );
    assert_eq!(req.path, "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
    let auth = req.header("authorization").expect("signed");
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AKID}/")),
        "{auth}"
    );
    assert!(
        auth.contains("/us-west-2/bedrock/aws4_request, SignedHeaders="),
        "{auth}"
    );
    assert!(!auth.contains("client-own-key"));
    assert_eq!(req.header("x-amz-security-token"), Some(TOKEN));
    assert_eq!(req.header("x-amz-date").map(str::len), Some(16));
    let body = req.json();
    assert_eq!(body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 64}));
    let log = gw.next_log().await;
    assert_eq!(log["outcome"], "complete");
    assert_eq!(log["input_tokens"], 124);
}

#[tokio::test]
async fn converse_stream_frames_become_openai_chunks_with_tools_and_usage() {
    let reply = BedrockReply::text("Let me check").with_tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}));
    let (mock, gw) = setup(reply).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let r = gw
        .chat(json!({"model": "haiku", "stream": true, "tools": tools, "messages": [{"role": "user", "content": "weather?"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(done);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Let me check");
    let args: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"city\":\"Paris\"}");
    let start = chunks
        .iter()
        .find(|c| c["choices"][0]["delta"]["tool_calls"][0]["id"].is_string())
        .expect("tool start");
    assert_eq!(start["choices"][0]["delta"]["tool_calls"][0]["id"], "tooluse_1");
    assert_eq!(
        chunks.iter().find_map(|c| c["choices"][0]["finish_reason"].as_str()),
        Some("tool_calls")
    );
    let usage = chunks.last().expect("usage");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 3 + 5);

    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "{:?}", req.rejection);
    assert_eq!(
        req.path,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
    );
    assert_eq!(req.json()["toolConfig"]["tools"][0]["toolSpec"]["name"], "get_weather");
    assert_eq!(gw.next_log().await["output_tokens"], 8);
}

#[tokio::test]
async fn wrong_secret_fails_the_signature_check_and_never_leaks() {
    let mock = MockBedrock::builder("us-west-2", AKID, SECRET)
        .session_token(TOKEN)
        .models(&[MODEL])
        .start()
        .await;
    let gw = TestGateway::start(&config(&mock, "not-the-secret")).await;
    let r = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 502);
    let text = r.text().await.expect("body");
    assert!(text.contains("upstream_auth_failed"), "{text}");
    assert!(!text.contains("not-the-secret") && !text.contains(TOKEN));
    let rejection = mock.requests()[0].rejection.clone().expect("refused");
    assert_eq!(
        rejection.0, "InvalidSignatureException",
        "the mock recomputed the signature: {rejection:?}"
    );
}

#[tokio::test]
async fn throttling_and_stream_exceptions_become_openai_errors() {
    let (mock, gw) = setup(BedrockReply::error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
    ))
    .await;
    let body = json!({"model": "haiku", "messages": [{"role": "user", "content": "hi"}]});
    let r = gw.chat(body.clone()).send().await.expect("send");
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "upstream_rate_limited");
    assert_eq!(
        v["error"]["message"],
        "Too many requests, please wait before trying again."
    );

    mock.enqueue(BedrockReply::text("a b c d").with_exception_after(2, "throttlingException", "Too many tokens"));
    let mut stream = body.clone();
    stream["stream"] = json!(true);
    let r = gw.chat(stream.clone()).send().await.expect("send");
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(!done);
    assert_eq!(chunks.last().expect("error")["error"]["code"], "upstream_rate_limited");

    mock.enqueue(BedrockReply::text("x y").cut());
    let r = gw.chat(stream).send().await.expect("send");
    let (chunks, done) = openai_chunks(&r.bytes().await.expect("body"));
    assert!(!done);
    let code = chunks.last().expect("error")["error"]["code"].clone();
    assert!(
        code == "upstream_stream_truncated" || code == "upstream_stream_error",
        "{code}"
    );
}

#[tokio::test]
async fn first_chunk_arrives_before_bedrock_finishes() {
    use futures_util::StreamExt;
    let (reply, gate) = BedrockReply::text("one two three").gated();
    let (_mock, gw) = setup(reply).await;
    let r = gw
        .chat(json!({"model": "haiku", "stream": true, "messages": [{"role": "user", "content": "count"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    gate.release(1);
    let mut seen = String::new();
    while !seen.contains("\"content\":\"one\"") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("the first word must arrive while Bedrock is still streaming")
            .expect("chunk")
            .expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("two"), "only released frames can have arrived: {seen}");
    gate.finish();
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
    }
    assert!(
        seen.contains(" three") && seen.trim_end().ends_with("data: [DONE]"),
        "{seen}"
    );
}
