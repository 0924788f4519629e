//! A Responses request rewritten as the chat request vLLM would build from it (see the parent module).

use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// The chat-completions body equivalent to a Responses body.
pub(super) fn to_chat(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("Invalid request body: expected a JSON object".to_owned()));
    };
    if req.get("previous_response_id").is_some_and(|v| !v.is_null()) {
        return Err(bad(
            "previous_response_id is not supported: this server does not store responses (store is disabled)"
                .to_owned(),
        ));
    }
    let mut messages = Vec::new();
    match req.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(_) => return Err(bad("instructions: Input should be a valid string".to_owned())),
    }
    match req.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                item_to_messages(item, &mut messages).map_err(|m| bad(format!("input.{i}: {m}")))?;
            }
        }
        Some(_) => return Err(bad("input: Input should be a valid string or list".to_owned())),
    }
    if messages.is_empty() {
        return Err(bad("input: the conversation is empty".to_owned()));
    }
    let mut chat = Map::new();
    for key in ["model", "stream", "temperature", "top_p", "parallel_tool_calls", "seed"] {
        if let Some(v) = req.get(key).filter(|v| !v.is_null()) {
            chat.insert(key.to_owned(), v.clone());
        }
    }
    chat.insert("messages".to_owned(), Value::Array(messages));
    if let Some(v) = req.get("max_output_tokens").filter(|v| !v.is_null()) {
        chat.insert("max_completion_tokens".to_owned(), v.clone());
    }
    if let Some(Value::Array(tools)) = req.get("tools") {
        let functions: Vec<Value> = tools
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
            .map(|t| {
                let mut f = Map::new();
                for key in ["name", "description", "parameters"] {
                    if let Some(v) = t.get(key).filter(|v| !v.is_null()) {
                        f.insert(key.to_owned(), v.clone());
                    }
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        if !functions.is_empty() {
            chat.insert("tools".to_owned(), Value::Array(functions));
            if let Some(choice) = req.get("tool_choice").filter(|v| !v.is_null()) {
                let choice = match choice.get("name") {
                    Some(name) => json!({"type": "function", "function": {"name": name}}),
                    None => choice.clone(),
                };
                chat.insert("tool_choice".to_owned(), choice);
            }
        }
    }
    serde_json::to_vec(&chat).map_err(|e| bad(e.to_string()))
}

/// One input item as chat messages.
fn item_to_messages(item: &Value, out: &mut Vec<Value>) -> Result<(), String> {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("message");
    match kind {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("developer" | "system") => "system",
                Some(r @ ("user" | "assistant")) => r,
                other => return Err(format!("unsupported role {other:?}")),
            };
            let text = match item.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter(|p| {
                        matches!(
                            p.get("type").and_then(Value::as_str),
                            Some("input_text" | "output_text" | "text")
                        )
                    })
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => return Err("content: Field required".to_owned()),
            };
            out.push(json!({"role": role, "content": text}));
        }
        "function_call" => {
            let name = item.get("name").and_then(Value::as_str).ok_or("name: Field required")?;
            let call_id = item.get("call_id").and_then(Value::as_str).unwrap_or_default();
            let arguments = item.get("arguments").cloned().unwrap_or(json!("{}"));
            out.push(json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            ]}));
        }
        "function_call_output" => {
            let output = match item.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => return Err("output: Field required".to_owned()),
            };
            let call_id = item.get("call_id").and_then(Value::as_str).unwrap_or_default();
            out.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
        }
        // Reasoning from an earlier turn is not replayed to the model.
        "reasoning" => {}
        other => return Err(format!("unsupported input item type '{other}'")),
    }
    Ok(())
}
