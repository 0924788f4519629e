//! `POST /v1/responses`: the Responses object, the typed event stream, function calls and their outputs.

use super::*;

fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let kind = f.lines().find_map(|l| l.strip_prefix("event: ")).expect("event line");
            let data: Value =
                serde_json::from_str(f.lines().find_map(|l| l.strip_prefix("data: ")).expect("data")).expect("json");
            assert_eq!(data["type"], kind, "event name and type agree");
            data
        })
        .collect()
}

#[tokio::test]
async fn answers_a_response_object_with_usage() {
    let sim = Sim::fast().await;
    let body = json!({"model": MODEL, "instructions": "Be brief.", "input": "Say hello", "store": false});
    let (status, r) = sim.post_json("/v1/responses", &body).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert!(r["id"].as_str().expect("id").starts_with("resp_"));
    let item = &r["output"][0];
    assert_eq!(
        (item["type"].as_str(), item["role"].as_str()),
        (Some("message"), Some("assistant"))
    );
    assert!(!item["content"][0]["text"].as_str().expect("text").is_empty());
    let u = &r["usage"];
    assert!(u["input_tokens"].as_u64().expect("input") > 0);
    assert_eq!(
        u["total_tokens"].as_u64(),
        Some(u["input_tokens"].as_u64().expect("in") + u["output_tokens"].as_u64().expect("out"))
    );
    // A token limit ends the response as incomplete, saying why.
    let (_, r) = sim
        .post_json(
            "/v1/responses",
            &json!({"model": MODEL, "input": "hi", "max_output_tokens": 16}),
        )
        .await;
    assert_eq!(r["status"], "incomplete");
    assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(r["usage"]["output_tokens"], 16);
}

#[tokio::test]
async fn streams_typed_events_in_order() {
    let sim = Sim::fast().await;
    let (status, text) = sim
        .post(
            "/v1/responses",
            json!({"model": MODEL, "input": "Stream please", "stream": true}).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let evs = events(&text);
    let kinds: Vec<&str> = evs.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        &kinds[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        &kinds[kinds.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert!(
        kinds[4..kinds.len() - 4]
            .iter()
            .all(|k| *k == "response.output_text.delta")
    );
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sequence_number"], i);
    }
    let deltas: String = evs.iter().filter_map(|e| e["delta"].as_str()).collect();
    let done = &evs[evs.len() - 1]["response"];
    assert_eq!(done["output"][0]["content"][0]["text"], deltas.as_str());
    assert_eq!(done["usage"]["output_tokens"].as_u64(), Some((kinds.len() - 8) as u64));
}

#[tokio::test]
async fn function_call_round_trip() {
    let sim = Sim::fast().await;
    let tools = json!([{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                        {"type": "web_search"}]);
    let (status, r) = sim
        .post_json(
            "/v1/responses",
            &json!({"model": MODEL, "input": "What is the weather in Paris?", "tools": tools}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let call = &r["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "get_weather");
    let args: Value = serde_json::from_str(call["arguments"].as_str().expect("arguments")).expect("arguments are JSON");
    assert!(args.is_object());
    // The call's output goes back as an item; the model answers with text.
    let input = json!([
        {"role": "user", "content": [{"type": "input_text", "text": "What is the weather in Paris?"}]},
        call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "18C and sunny"},
    ]);
    let (_, text) = sim
        .post(
            "/v1/responses",
            json!({"model": MODEL, "input": input, "tools": tools, "stream": true}).to_string(),
        )
        .await;
    let evs = events(&text);
    assert_eq!(evs.last().expect("events")["response"]["output"][0]["type"], "message");
    // A stored conversation cannot be continued: the replica keeps nothing.
    let (status, _) = sim
        .post_json(
            "/v1/responses",
            &json!({"model": MODEL, "input": "more", "previous_response_id": r["id"]}),
        )
        .await;
    assert_eq!(status, 400);
}
