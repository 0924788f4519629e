//! Tool calling over HTTP: `tool_choice` modes, response and stream shapes, round trips and vLLM's 400s.

use serde_json::{Value, json};

use super::{MODEL, Sim, sse_events};

/// `get_weather` (required `location`, `unit` enum) and `web_search`.
fn tools() -> Value {
    json!([
        {"type": "function", "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "days": {"type": "integer"}
                },
                "required": ["location", "unit"]
            }
        }},
        {"type": "function", "function": {
            "name": "web_search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "top_k": {"type": "integer"}}}
        }}
    ])
}

const WEATHER_ARGS: &str = r#"{"location":"sim","unit":"celsius"}"#;
/// Tokens of the arguments: `{ " loca tion " : " sim " , " unit " : " cels ius " }`.
const WEATHER_ARGS_TOKENS: usize = 19;
/// "get_" "weat" "her" + the arguments.
const WEATHER_CALL_TOKENS: usize = 3 + WEATHER_ARGS_TOKENS;

fn body(text: &str, tool_choice: Option<Value>) -> Value {
    let mut body = json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text}
        ],
        "tools": tools(),
        "parallel_tool_calls": false
    });
    if let Some(choice) = tool_choice {
        body["tool_choice"] = choice;
    }
    body
}

fn named(name: &str) -> Option<Value> {
    Some(json!({"type": "function", "function": {"name": name}}))
}

/// Checks the vLLM shape of a single-call response; returns (name, arguments).
fn the_call(resp: &Value) -> (String, String) {
    let message = &resp["choices"][0]["message"];
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["reasoning_content"], Value::Null);
    let calls = message["tool_calls"].as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 1, "{resp}");
    let call = &calls[0];
    let id = call["id"].as_str().unwrap_or_default();
    assert!(
        id.strip_prefix("chatcmpl-tool-")
            .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
        "{id}"
    );
    assert_eq!(call["type"], "function");
    let arguments = call["function"]["arguments"].as_str().unwrap_or_default().to_owned();
    assert!(
        serde_json::from_str::<Value>(&arguments).is_ok_and(|v| v.is_object()),
        "{arguments}"
    );
    (
        call["function"]["name"].as_str().unwrap_or_default().to_owned(),
        arguments,
    )
}

#[tokio::test]
async fn required_calls_the_first_tool() {
    let sim = Sim::fast().await;
    let (status, resp) = sim
        .post_json("/v1/chat/completions", &body("Hello", Some(json!("required"))))
        .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(the_call(&resp), ("get_weather".to_owned(), WEATHER_ARGS.to_owned()));
    assert_eq!(
        resp["choices"][0]["message"]["content"], "",
        "vLLM: content \"\" for required"
    );
    assert_eq!(resp["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(resp["usage"]["completion_tokens"], WEATHER_CALL_TOKENS);
}

#[tokio::test]
async fn named_choice_calls_that_tool_and_finishes_with_stop() {
    let sim = Sim::fast().await;
    let (status, resp) = sim
        .post_json("/v1/chat/completions", &body("Hello", named("web_search")))
        .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(
        the_call(&resp),
        ("web_search".to_owned(), r#"{"query":"sim","top_k":1}"#.to_owned())
    );
    assert_eq!(resp["choices"][0]["message"]["content"], "");
    assert_eq!(
        resp["choices"][0]["finish_reason"], "stop",
        "vLLM keeps `stop` for a named choice"
    );
}

#[tokio::test]
async fn auto_calls_only_when_the_user_asks_for_it() {
    let sim = Sim::fast().await;
    let (_, resp) = sim
        .post_json("/v1/chat/completions", &body("What is the weather in Paris?", None))
        .await;
    assert_eq!(the_call(&resp).0, "get_weather");
    assert_eq!(resp["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(resp["choices"][0]["finish_reason"], "tool_calls");

    let (_, resp) = sim
        .post_json(
            "/v1/chat/completions",
            &body("Use web_search for rust", Some(json!("auto"))),
        )
        .await;
    assert_eq!(the_call(&resp).0, "web_search");

    for choice in [None, Some(json!("none"))] {
        let mut text = body("Tell me a story", choice.clone());
        if choice.is_some() {
            text["messages"][1]["content"] = json!("What is the weather? Call a tool.");
        }
        text["max_tokens"] = json!(4);
        let (status, resp) = sim.post_json("/v1/chat/completions", &text).await;
        assert_eq!(status, 200, "{resp}");
        let message = &resp["choices"][0]["message"];
        assert!(message["content"].as_str().is_some_and(|c| !c.is_empty()), "{resp}");
        assert_eq!(message["tool_calls"], json!([]));
        assert_eq!(resp["choices"][0]["finish_reason"], "length");
        assert_eq!(resp["usage"]["completion_tokens"], 4);
    }
}

#[tokio::test]
async fn tool_definitions_count_as_prompt_tokens() {
    let sim = Sim::fast().await;
    let mut plain = body("Tell me a story", None);
    plain["max_tokens"] = json!(1);
    let with_tools = sim.post_json("/v1/chat/completions", &plain).await.1;
    plain.as_object_mut().map(|b| b.remove("tools"));
    let without = sim.post_json("/v1/chat/completions", &plain).await.1;
    let count = |r: &Value| r["usage"]["prompt_tokens"].as_u64().unwrap_or_default();
    assert!(count(&with_tools) > count(&without) + 50, "{with_tools} vs {without}");
}

#[tokio::test]
async fn stream_sends_header_then_argument_fragments() {
    let sim = Sim::fast().await;
    let mut streamed = body("Hello", Some(json!("required")));
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let (status, text) = sim.post("/v1/chat/completions", streamed.to_string()).await;
    assert_eq!(status, 200);
    let events = sse_events(&text);
    let chunks = &events[..events.len() - 1];
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(*deltas[0], json!({"role": "assistant", "content": ""}));
    let header = &deltas[1]["tool_calls"][0];
    assert_eq!(header["index"], 0);
    assert_eq!(header["type"], "function");
    assert_eq!(header["function"], json!({"name": "get_weather", "arguments": ""}));
    let id = header["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("chatcmpl-tool-") && id.len() == 14 + 32, "{id}");

    let (usage, rest) = chunks.split_last().unwrap_or_else(|| panic!("no chunks"));
    let (finish, fragments) = rest[2..].split_last().unwrap_or_else(|| panic!("no finish chunk"));
    assert_eq!(fragments.len(), WEATHER_ARGS_TOKENS, "one fragment per argument token");
    let mut arguments = String::new();
    for f in fragments {
        let call = &f["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["index"], 0);
        assert!(call.get("id").is_none() && call.get("type").is_none() && call["function"].get("name").is_none());
        assert_eq!(f["choices"][0]["finish_reason"], Value::Null);
        arguments.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
    }
    assert_eq!(arguments, WEATHER_ARGS);
    assert!(serde_json::from_str::<Value>(&arguments).is_ok());
    assert_eq!(
        finish["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls", "stop_reason": null})
    );
    assert!(chunks.iter().all(|c| c["id"] == chunks[0]["id"]));
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], WEATHER_CALL_TOKENS);
}

#[tokio::test]
async fn streamed_named_call_and_a_call_cut_inside_its_name() {
    let sim = Sim::fast().await;
    let mut named_stream = body("Hello", named("web_search"));
    named_stream["stream"] = json!(true);
    let (_, text) = sim.post("/v1/chat/completions", named_stream.to_string()).await;
    let events = sse_events(&text);
    let chunks = &events[..events.len() - 1];
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    let last = &chunks[chunks.len() - 1]["choices"][0];
    assert_eq!((&last["delta"], &last["finish_reason"]), (&json!({}), &json!("stop")));
    let arguments: String = chunks[2..chunks.len() - 1]
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(arguments, r#"{"query":"sim","top_k":1}"#);

    // Two tokens stop inside "get_" "weat" "her": the header still goes out, with no argument fragment.
    let mut cut = body("Hello", Some(json!("required")));
    cut["stream"] = json!(true);
    cut["max_tokens"] = json!(2);
    let (_, text) = sim.post("/v1/chat/completions", cut.to_string()).await;
    let events = sse_events(&text);
    assert_eq!(events.len(), 3 + 1, "role, header, finish, [DONE]: {text}");
    assert_eq!(
        events[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(events[2]["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn a_token_limit_cuts_the_call_short() {
    let sim = Sim::fast().await;
    let mut short = body("Hello", Some(json!("required")));
    short["max_tokens"] = json!(6);
    let (_, resp) = sim.post_json("/v1/chat/completions", &short).await;
    let call = &resp["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], r#"{"loca"#, "3 name tokens, then 3 argument tokens");
    assert_eq!(resp["choices"][0]["finish_reason"], "length");
    assert_eq!(resp["usage"]["completion_tokens"], 6);
}

#[tokio::test]
async fn a_tool_result_is_answered_with_text() {
    let sim = Sim::fast().await;
    let first = body("What is the weather in Paris?", None);
    let (_, call) = sim.post_json("/v1/chat/completions", &first).await;
    let assistant = call["choices"][0]["message"].clone();
    assert_eq!(assistant["content"], Value::Null);
    let id = assistant["tool_calls"][0]["id"].clone();

    let mut second = first.clone();
    let messages = second["messages"].as_array_mut().unwrap_or_else(|| panic!("messages"));
    messages.push(assistant);
    messages.push(json!({"role": "tool", "tool_call_id": id, "content": "21 degrees and sunny"}));
    second["max_tokens"] = json!(5);
    let (status, answer) = sim.post_json("/v1/chat/completions", &second).await;
    assert_eq!(status, 200, "{answer}");
    let message = &answer["choices"][0]["message"];
    assert!(message["content"].as_str().is_some_and(|c| !c.is_empty()), "{answer}");
    assert_eq!(message["tool_calls"], json!([]));
    assert_eq!(answer["choices"][0]["finish_reason"], "length");
    // The first prompt ended with the assistant header, which now opens the assistant turn: its content renders
    // `{"name":"get_weather","parameters":{…}}` = `{ " name " : "` (6) + name (3) + `" , " para mete rs " :` (8) +
    // arguments + `}`, then eot. The tool turn is start, "tool", end, "21 degr ees and sunn y" (6), eot; then the
    // assistant header again (start, "assi" "stan" "t", end).
    let prompt = |r: &Value| r["usage"]["prompt_tokens"].as_u64().unwrap_or_default();
    let assistant_rest = (6 + 3 + 8 + WEATHER_ARGS_TOKENS + 1) + 1;
    let tool_turn = 3 + 6 + 1;
    let header = 5;
    assert_eq!(
        prompt(&answer),
        prompt(&call) + (assistant_rest + tool_turn + header) as u64
    );
    // The first request's whole prompt is a prefix of the second's, so the cache serves its full blocks.
    let cached = answer["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(cached, prompt(&call) / 16 * 16);
}

#[tokio::test]
async fn invalid_tool_requests_answer_400() {
    let sim = Sim::fast().await;
    let bad_request =
        |message: &str| json!({"error": {"message": message, "type": "BadRequestError", "param": null, "code": 400}});
    let (status, err) = sim
        .post_json("/v1/chat/completions", &body("Hello", named("get_time")))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        err,
        bad_request("The tool specified in `tool_choice` does not match any of the specified `tools`")
    );

    let mut custom = body("Hello", None);
    custom["tools"] = json!([{"type": "custom", "custom": {"name": "grep"}}]);
    let (status, err) = sim.post_json("/v1/chat/completions", &custom).await;
    assert_eq!(status, 400);
    assert_eq!(
        err,
        bad_request("tools.0.type: Input should be 'function', got 'custom'")
    );

    let mut no_tools = body("Hello", Some(json!("required")));
    no_tools.as_object_mut().map(|b| b.remove("tools"));
    let (status, err) = sim.post_json("/v1/chat/completions", &no_tools).await;
    assert_eq!(status, 400);
    assert_eq!(err, bad_request("When using `tool_choice`, `tools` must be set."));

    let (status, _) = sim
        .post_json("/v1/chat/completions", &body("Hello", Some(json!("sometimes"))))
        .await;
    assert_eq!(status, 400);
    let mut parallel = body("Hello", None);
    parallel["parallel_tool_calls"] = json!("yes");
    assert_eq!(sim.post_json("/v1/chat/completions", &parallel).await.0, 400);
}
