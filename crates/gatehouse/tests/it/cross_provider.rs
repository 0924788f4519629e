//! One model, targets on three providers (Anthropic, Gemini, Bedrock): the same OpenAI conversation — a tool call,
//! then the tool result with a streamed answer — served through each provider in turn (the serving target is
//! switched by a config reload), with identical client-visible shapes. This is the "another backend of the same
//! shape" claim: routing, translation back to OpenAI, usage and streaming behave the same whoever serves.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{AnthropicReply, BedrockReply, GeminiReply, MockAnthropic, MockBedrock, MockGemini};

use crate::gemini::openai_chunks;
use crate::support::{TestGateway, with_defaults};

const BEDROCK_MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const ANSWER: &str = "It is sunny in Paris";

struct Mocks {
    anthropic: MockAnthropic,
    gemini: MockGemini,
    bedrock: MockBedrock,
}

/// The config with `first` as the model's first (serving) target and the other two behind it.
fn config(m: &Mocks, first: &str) -> String {
    let mut order = vec!["claude", "google", "aws"];
    order.retain(|p| *p != first);
    order.insert(0, first);
    let target = |p: &str| match p {
        "claude" => "{ provider: claude, model: claude-haiku-4-5 }".to_string(),
        "google" => "{ provider: google, model: gemini-2.5-flash }".to_string(),
        _ => format!("{{ provider: aws, model: \"{BEDROCK_MODEL}\" }}"),
    };
    let targets: Vec<String> = order.iter().map(|p| target(p)).collect();
    with_defaults(&format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", api_key: {{ value: sk-ant }} }}\n  google: {{ kind: gemini, base_url: \"{}\", api_key: {{ value: AIza-key }} }}\n  aws: {{ kind: bedrock, region: us-east-1, base_url: \"{}\", aws: {{ access_key_id: {{ value: AKIDX }}, secret_access_key: {{ value: secretx }} }} }}\nmodels:\n  - name: assistant\n    targets: [{}]\n",
        m.anthropic.base_url(),
        m.gemini.base_url(),
        m.bedrock.base_url(),
        targets.join(", ")
    ))
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

/// What a client can observe of a completion, with provider-specific ids and counts abstracted.
fn completion_shape(v: &Value) -> Value {
    let message = &v["choices"][0]["message"];
    let calls: Vec<Value> = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    assert!(c["id"].as_str().is_some_and(|id| !id.is_empty()), "{c}");
                    json!({"type": c["type"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "object": v["object"], "model": v["model"], "id_is_string": v["id"].is_string(), "role": message["role"],
        "content": message["content"], "tool_calls": calls, "finish_reason": v["choices"][0]["finish_reason"],
        "usage": usage_shape(&v["usage"]),
    })
}

/// Usage is present, integral and adds up.
fn usage_shape(u: &Value) -> Value {
    let (p, c, t) = (
        u["prompt_tokens"].as_u64(),
        u["completion_tokens"].as_u64(),
        u["total_tokens"].as_u64(),
    );
    json!({"integers": p.is_some() && c.is_some() && t.is_some(), "adds_up": p.zip(c).map(|(p, c)| p + c) == t,
        "cached_reported": u["prompt_tokens_details"]["cached_tokens"].is_u64()})
}

/// What a client can observe of a stream.
fn stream_shape(body: &[u8]) -> Value {
    let (chunks, done) = openai_chunks(body);
    let ids: Vec<&Value> = chunks.iter().map(|c| &c["id"]).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let finish: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| f.is_string())
        .collect();
    let last = chunks.last().cloned().unwrap_or_default();
    json!({
        "done": done, "one_id": ids.windows(2).all(|w| w[0] == w[1]),
        "objects": chunks.iter().all(|c| c["object"] == "chat.completion.chunk"),
        "first_delta": chunks.first().map(|c| c["choices"][0]["delta"].clone()),
        "text": text, "finish": finish, "usage_last": last["choices"] == json!([]), "usage": usage_shape(&last["usage"]),
    })
}

#[tokio::test]
async fn one_model_served_by_three_providers_looks_the_same() {
    let mocks = Mocks {
        anthropic: MockAnthropic::builder()
            .api_key("sk-ant")
            .reply(AnthropicReply::message(ANSWER))
            .enqueue(AnthropicReply::tool_use("get_weather", json!({"city": "Paris"})))
            .start()
            .await,
        gemini: MockGemini::builder()
            .api_key("AIza-key")
            .reply(GeminiReply::text(ANSWER))
            .enqueue(GeminiReply::function_call("get_weather", json!({"city": "Paris"})))
            .start()
            .await,
        bedrock: MockBedrock::builder("us-east-1", "AKIDX", "secretx")
            .models(&[BEDROCK_MODEL])
            .reply(BedrockReply::text(ANSWER))
            .start()
            .await,
    };
    mocks
        .bedrock
        .enqueue(BedrockReply::text("").with_tool_use("tooluse_x1", "get_weather", json!({"city": "Paris"})));

    let gw = TestGateway::start(&config(&mocks, "claude")).await;
    let mut generation = gw.gw.state.generation.subscribe();
    let mut shapes = Vec::new();
    for provider in ["claude", "google", "aws"] {
        if provider != "claude" {
            testkit::write_file_atomically(gw.config_path(), config(&mocks, provider).as_bytes());
            tokio::time::timeout(Duration::from_secs(10), generation.changed())
                .await
                .expect("reload within 10s")
                .expect("state alive");
        }
        let mut messages = vec![json!({"role": "user", "content": "What is the weather in Paris?"})];
        let first: Value = gw
            .chat(json!({"model": "assistant", "messages": messages, "tools": tools()}))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let call = first["choices"][0]["message"]["tool_calls"][0].clone();
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call.clone()]}));
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 24C"}));
        let r = gw
            .chat(json!({"model": "assistant", "stream": true, "messages": messages, "tools": tools()}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{provider}");
        let stream = stream_shape(&r.bytes().await.expect("body"));
        let served_by = (
            gw.next_log().await["target"].clone(),
            gw.next_log().await["target"].clone(),
        );
        assert_eq!(
            served_by,
            (json!(provider), json!(provider)),
            "the reload moved the serving target"
        );
        shapes.push((provider, completion_shape(&first), stream));
    }

    let (_, want_completion, want_stream) = &shapes[0];
    assert_eq!(
        want_completion,
        &json!({"object": "chat.completion", "model": "assistant", "id_is_string": true, "role": "assistant",
            "content": null, "tool_calls": [{"type": "function", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}],
            "finish_reason": "tool_calls", "usage": {"integers": true, "adds_up": true, "cached_reported": true}})
    );
    assert_eq!(
        want_stream,
        &json!({"done": true, "one_id": true, "objects": true, "first_delta": {"role": "assistant", "content": ""},
            "text": ANSWER, "finish": ["stop"], "usage_last": true,
            "usage": {"integers": true, "adds_up": true, "cached_reported": true}})
    );
    for (provider, completion, stream) in &shapes[1..] {
        assert_eq!(completion, want_completion, "{provider}: non-stream tool call shape");
        assert_eq!(stream, want_stream, "{provider}: streamed answer shape");
    }
    // Every upstream accepted what it was sent, tool results included (each mock checks they pair with its calls).
    assert!(mocks.anthropic.requests().iter().all(|r| r.rejection.is_none()));
    assert!(mocks.gemini.requests().iter().all(|r| r.rejection.is_none()));
    assert!(mocks.bedrock.requests().iter().all(|r| r.rejection.is_none()));
    assert_eq!(
        (
            mocks.anthropic.requests().len(),
            mocks.gemini.requests().len(),
            mocks.bedrock.requests().len()
        ),
        (2, 2, 2)
    );
}
