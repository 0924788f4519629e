use serde_json::{Value, json};

use super::*;

fn tools(value: Value) -> Vec<ToolSpec> {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("tools: {e}"))
}

fn weather_and_search() -> Vec<ToolSpec> {
    tools(json!([
        {"type": "function", "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }},
        {"function": {"name": "web_search", "description": "Search the web"}}
    ]))
}

fn message(result: Result<ToolChoice, ApiError>) -> String {
    match result {
        Ok(choice) => panic!("expected an error, got {choice:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn choice_defaults_and_modes() {
    let t = weather_and_search();
    assert_eq!(validate(None, None).ok(), Some(ToolChoice::None));
    assert_eq!(validate(Some(&t), None).ok(), Some(ToolChoice::Auto));
    assert_eq!(validate(Some(&[]), None).ok(), Some(ToolChoice::None));
    assert_eq!(validate(Some(&t), Some(&Value::Null)).ok(), Some(ToolChoice::Auto));
    assert_eq!(validate(None, Some(&json!("none"))).ok(), Some(ToolChoice::None));
    assert_eq!(validate(Some(&t), Some(&json!("auto"))).ok(), Some(ToolChoice::Auto));
    assert_eq!(
        validate(Some(&t), Some(&json!("required"))).ok(),
        Some(ToolChoice::Required)
    );
    assert_eq!(
        validate(Some(&[]), Some(&json!("required"))).ok(),
        Some(ToolChoice::None)
    );
    let named = json!({"type": "function", "function": {"name": "web_search"}});
    assert_eq!(
        validate(Some(&t), Some(&named)).ok(),
        Some(ToolChoice::Named("web_search".into()))
    );
    let untyped = json!({"function": {"name": "get_weather"}});
    assert_eq!(
        validate(Some(&t), Some(&untyped)).ok(),
        Some(ToolChoice::Named("get_weather".into()))
    );
}

#[test]
fn invalid_tools_and_choices_use_vllm_messages() {
    let t = weather_and_search();
    let custom = tools(json!([{"type": "custom", "custom": {"name": "grep"}}]));
    assert_eq!(
        message(validate(Some(&custom), None)),
        "tools.0.type: Input should be 'function', got 'custom'"
    );
    let missing = tools(json!([{"type": "function"}]));
    assert_eq!(
        message(validate(Some(&missing), None)),
        "tools.0.function: Field required"
    );
    assert_eq!(
        message(validate(None, Some(&json!("auto")))),
        "When using `tool_choice`, `tools` must be set."
    );
    assert!(
        message(validate(Some(&t), Some(&json!("sometimes"))))
            .starts_with("Invalid value for `tool_choice`: sometimes!")
    );
    assert!(message(validate(Some(&t), Some(&json!(3)))).starts_with("Invalid value for `tool_choice`: 3!"));
    let unknown = json!({"type": "function", "function": {"name": "nope"}});
    assert_eq!(
        message(validate(Some(&t), Some(&unknown))),
        "The tool specified in `tool_choice` does not match any of the specified `tools`"
    );
    assert!(
        message(validate(Some(&t), Some(&json!({"type": "function"})))).starts_with("Invalid value for `function`")
    );
    assert!(message(validate(Some(&t), Some(&json!({"function": {}})))).starts_with("Expected field `name`"));
    assert!(message(validate(Some(&t), Some(&json!({"function": {"name": ""}})))).starts_with("Invalid `name`"));
    let allowed = json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}});
    assert!(message(validate(Some(&t), Some(&allowed))).starts_with("tool_choice.type"));
}

#[test]
fn forced_choices_always_call() {
    let t = weather_and_search();
    let required = decide(&ToolChoice::Required, &t, Some("tool"), "42");
    assert_eq!(
        required,
        Some(ToolCallPlan {
            name: "get_weather".into(),
            arguments: r#"{"city":"sim"}"#.into(),
            name_tokens: 3, // "get_" "weat" "her"
            kind: CallKind::Required,
        })
    );
    let named = decide(&ToolChoice::Named("web_search".into()), &t, Some("user"), "hi");
    assert_eq!(named.as_ref().map(|p| p.arguments.as_str()), Some("{}"));
    assert_eq!(named.map(|p| p.kind), Some(CallKind::Named));
    assert_eq!(
        decide(&ToolChoice::None, &t, Some("user"), "call the weather tool"),
        None
    );
}

#[test]
fn auto_calls_on_a_mentioned_name_or_a_keyword_in_the_last_user_message() {
    let t = weather_and_search();
    let auto = |role: &str, text: &str| decide(&ToolChoice::Auto, &t, Some(role), text).map(|p| p.name);
    assert_eq!(
        auto("user", "Please run WEB_SEARCH for rust"),
        Some("web_search".into())
    );
    assert_eq!(auto("user", "What's the Weather in Paris?"), Some("get_weather".into()));
    assert_eq!(auto("user", "use a tool"), Some("get_weather".into()));
    assert_eq!(
        auto("user", "recall this"),
        Some("get_weather".into()),
        "substring match"
    );
    assert_eq!(
        auto("user", "web_search or weather"),
        Some("web_search".into()),
        "a name wins"
    );
    assert_eq!(auto("user", "Hello there"), None);
    assert_eq!(
        auto("tool", "weather: 21C"),
        None,
        "a tool result is answered with text"
    );
    assert_eq!(auto("assistant", "weather"), None);
    assert_eq!(decide(&ToolChoice::Auto, &t, None, ""), None);
}

#[test]
fn apply_scripts_name_then_arguments_and_honours_the_limit() {
    let plan = decide(&ToolChoice::Required, &weather_and_search(), None, "").unwrap_or_else(|| panic!("no call"));
    let mut sub = Submission {
        adapter: None,
        prompt: vec![1],
        max_tokens: 64,
        finish_reason: FinishReason::Stop,
        request_seed: None,
        script: None,
    };
    plan.apply(&mut sub, None);
    // get_weather (3) + {"city":"sim"} (9)
    assert_eq!((sub.max_tokens, sub.finish_reason), (12, FinishReason::Stop));
    let text: String = sub.script.iter().flatten().map(|p| p.text.as_str()).collect();
    assert_eq!(text, r#"get_weather{"city":"sim"}"#);
    plan.apply(&mut sub, Some(100));
    assert_eq!((sub.max_tokens, sub.finish_reason), (12, FinishReason::Stop));
    plan.apply(&mut sub, Some(5));
    assert_eq!((sub.max_tokens, sub.finish_reason), (5, FinishReason::Length));
}

#[test]
fn finish_reason_and_content_follow_vllm() {
    assert_eq!(CallKind::Auto.finish_reason(FinishReason::Stop), "tool_calls");
    assert_eq!(CallKind::Required.finish_reason(FinishReason::Stop), "tool_calls");
    assert_eq!(CallKind::Named.finish_reason(FinishReason::Stop), "stop");
    assert_eq!(CallKind::Auto.finish_reason(FinishReason::Length), "length");
    assert_eq!(CallKind::Auto.content(), None);
    assert_eq!(CallKind::Named.content(), Some(""));
}

#[test]
fn tools_render_as_compact_json_lines() {
    let rendered = render(&weather_and_search());
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with(r#"{"type":"function","function":{"name":"get_weather","parameters":"#));
    assert_eq!(
        lines[1],
        r#"{"function":{"name":"web_search","description":"Search the web"}}"#
    );
}
