//! The mock refuses the bodies the Messages API refuses, with its error shape and wording, and records why.

use super::*;

fn field(path: &str, reason: &str) -> AnthropicRejection {
    AnthropicRejection::InvalidField {
        path: path.into(),
        reason: reason.into(),
    }
}

fn user(content: Value) -> Value {
    json!({"role": "user", "content": content})
}

fn with_messages(messages: Value) -> Value {
    with(hi(), "messages", messages)
}

/// A conversation where the assistant called tool `toolu_1` and the user answers with `result`.
fn tool_turns(result: Value) -> Value {
    with_messages(json!([
        user(json!("weather?")),
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        user(result),
    ]))
}

async fn assert_refused(mock: &MockAnthropic, body: &Value, expected: &AnthropicRejection) {
    let r = send(mock, body).await;
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let json = r.json::<Value>().await.expect("JSON");
    assert_error(status, &headers, &json, expected);
    let recorded = mock.requests();
    assert_eq!(
        recorded.last().and_then(|r| r.rejection.as_ref()),
        Some(expected),
        "{body}"
    );
}

#[tokio::test]
async fn rejects_invalid_bodies_with_the_api_message() {
    let mock = mock_with(AnthropicReply::message("ok")).await;
    let tool = |name: &str| json!({"name": name, "input_schema": {"type": "object"}});
    let cases = [
        (with(hi(), "n", json!(2)), AnthropicRejection::UnknownField("n".into())),
        (
            without(hi(), "max_tokens"),
            AnthropicRejection::MissingField("max_tokens".into()),
        ),
        (
            with(hi(), "max_tokens", json!(-1)),
            field("max_tokens", "Input should be greater than or equal to 0"),
        ),
        (
            with(hi(), "max_tokens", json!("9")),
            field("max_tokens", "Input should be a valid integer"),
        ),
        (without(hi(), "model"), AnthropicRejection::MissingField("model".into())),
        (
            without(hi(), "messages"),
            AnthropicRejection::MissingField("messages".into()),
        ),
        (with_messages(json!([])), AnthropicRejection::NoMessages),
        (
            with_messages(json!("hi")),
            field("messages", "Input should be a valid list"),
        ),
        (
            with_messages(json!([{"role": "system", "content": "be nice"}, user(json!("x"))])),
            AnthropicRejection::SystemRole,
        ),
        (
            with_messages(json!([{"role": "tool", "content": "x"}])),
            field("messages.0.role", "Input should be 'user' or 'assistant'"),
        ),
        (
            with_messages(json!([user(json!([{"type": "text", "text": ""}]))])),
            AnthropicRejection::EmptyText("messages"),
        ),
        (
            with_messages(json!([user(json!(""))])),
            AnthropicRejection::EmptyContent(0),
        ),
        (
            with_messages(json!([user(
                json!([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "1"}])
            )])),
            AnthropicRejection::UnexpectedToolResult {
                path: "messages.0.content.0".into(),
                id: "toolu_9".into(),
            },
        ),
        (
            tool_turns(json!("no result block")),
            AnthropicRejection::MissingToolResult {
                index: 1,
                ids: vec!["toolu_1".into()],
            },
        ),
        (
            with_messages(json!([user(json!("x")), {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{\"a\":1}"}
            ]}])),
            field("messages.1.content.0.input", validate::OBJECT),
        ),
        (
            with(hi(), "tools", json!([tool("get weather")])),
            field(
                "tools.0.custom.name",
                "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
            ),
        ),
        (
            with(hi(), "tools", json!([{"name": "f"}])),
            AnthropicRejection::MissingField("tools.0.custom.input_schema".into()),
        ),
        (
            with(hi(), "tools", json!([{"type": "function", "function": {"name": "f"}}])),
            field(
                "tools.0",
                "Input tag 'function' found using 'type' does not match any of the expected tags: 'custom' or a \
                 versioned server tool",
            ),
        ),
        (
            with(hi(), "tool_choice", json!({"type": "required"})),
            field("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'"),
        ),
        (
            with(hi(), "tool_choice", json!({"type": "tool"})),
            AnthropicRejection::MissingField("tool_choice.tool.name".into()),
        ),
        (
            with(hi(), "thinking", json!({"type": "enabled", "budget_tokens": 512})),
            field(
                "thinking.enabled.budget_tokens",
                "Input should be greater than or equal to 1024",
            ),
        ),
        (
            with(hi(), "thinking", json!({"type": "enabled", "budget_tokens": 2048})),
            AnthropicRejection::ThinkingBudget,
        ),
        (
            with(hi(), "thinking", json!({"type": "on"})),
            field("thinking.type", "Input should be 'enabled', 'disabled' or 'adaptive'"),
        ),
        (
            with(hi(), "temperature", json!(1.5)),
            field("temperature", "Input should be less than or equal to 1"),
        ),
        (
            with(with(hi(), "temperature", json!(0.5)), "top_p", json!(0.9)),
            AnthropicRejection::SamplingExclusive,
        ),
        (
            with_messages(json!([user(
                json!([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AA=="}}])
            )])),
            field(
                "messages.0.content.0.source.base64.media_type",
                "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
            ),
        ),
        (
            with_messages(json!([user(
                json!([{"type": "document", "source": {"type": "base64", "media_type": "text/plain", "data": "AA=="}}])
            )])),
            field(
                "messages.0.content.0.source.base64.media_type",
                "Input should be 'application/pdf'",
            ),
        ),
        (
            with_messages(json!([user(
                json!([{"type": "image_url", "image_url": {"url": "https://x/y.png"}}])
            )])),
            field(
                "messages.0.content.0",
                "Input tag 'image_url' found using 'type' does not match any of the expected tags: 'text', 'image', \
                 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'",
            ),
        ),
        (
            with_messages(json!([user(json!([{"type": "text", "text": "x", "refusal": null}]))])),
            AnthropicRejection::UnknownField("messages.0.content.0.refusal".into()),
        ),
        (
            with(hi(), "metadata", json!({"user": "u1"})),
            AnthropicRejection::UnknownField("metadata.user".into()),
        ),
        (
            with(hi(), "system", json!([{"type": "text", "text": ""}])),
            AnthropicRejection::EmptyText("system"),
        ),
        (
            with(hi(), "stop_sequences", json!(["  "])),
            field("stop_sequences.0", "each stop sequence must contain non-whitespace"),
        ),
        (
            with(hi(), "stream", json!("yes")),
            field("stream", "Input should be a valid boolean"),
        ),
    ];
    let count = cases.len();
    for (body, expected) in cases {
        assert_refused(&mock, &body, &expected).await;
    }
    let recorded = mock.requests();
    assert_eq!(recorded.len(), count, "refused requests are recorded too");
    assert!(recorded.iter().all(Recorded::is_rejected));
}

#[tokio::test]
async fn accepts_everything_the_api_documents() {
    let mock = mock_with(AnthropicReply::message("ok")).await;
    let body = json!({
        "model": "claude-test",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": [
                {"type": "text", "text": "look at these"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
                {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_01B", "content": [{"type": "text", "text": "noon"}], "is_error": false},
                {"type": "text", "text": "thanks"},
            ]},
            {"role": "assistant", "content": ""},
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}},
            {"name": "get_time", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "metadata": {"user_id": "u-1"},
        "stop_sequences": ["END"],
        "temperature": 1,
        "top_k": 5,
        "service_tier": "auto",
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
        "stream": false,
    });
    let r = send(&mock, &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    for variant in [
        with(hi(), "thinking", json!({"type": "adaptive"})),
        with(hi(), "tool_choice", json!({"type": "none"})),
        with(hi(), "tool_choice", json!({"type": "tool", "name": "f"})),
        with(hi(), "max_tokens", json!(0)),
        with(hi(), "top_p", json!(0.9)),
        with(hi(), "system", json!("You are terse.")),
    ] {
        let r = send(&mock, &variant).await;
        assert_eq!(r.status(), 200, "{variant}: {}", r.text().await.unwrap_or_default());
    }
}

#[tokio::test]
async fn sampling_exclusive_can_be_turned_off() {
    let mock = MockAnthropic::builder().sampling_exclusive(false).start().await;
    let body = with(with(hi(), "temperature", json!(0.5)), "top_p", json!(0.9));
    assert_eq!(send(&mock, &body).await.status(), 200);
}
