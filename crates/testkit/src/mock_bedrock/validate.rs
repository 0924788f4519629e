//! The Converse body rules the mock enforces, as Bedrock answers them (400 `ValidationException` with its
//! message): known top-level and `inferenceConfig` fields only; `messages` non-empty, starting with `user` and
//! alternating; every content block exactly one known member; `toolUse`/`toolResult` blocks only with
//! `toolConfig`; the turn after an assistant `toolUse` turn carries a `toolResult` for each of its ids;
//! `temperature` and `topP` in [0, 1]; tool names `^[a-zA-Z0-9_-]{1,64}$`; images `png|jpeg|gif|webp` with bytes.

use serde_json::{Map, Value};

/// What an accepted request asked for.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub(crate) stream: bool,
    /// Whitespace-separated words in the text blocks (system included): the mock's input token count.
    pub(crate) input_tokens: u64,
}

const TOP: &[&str] = &[
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
];
const INFERENCE: &[&str] = &["maxTokens", "temperature", "topP", "stopSequences"];
const BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "video",
    "toolUse",
    "toolResult",
    "guardContent",
    "reasoningContent",
    "cachePoint",
];

fn invalid(m: impl Into<String>) -> (&'static str, String) {
    ("ValidationException", m.into())
}

/// Checks the JSON body of a Converse request.
pub(crate) fn body(body: &[u8], stream: bool) -> Result<Accepted, (&'static str, String)> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(
            "Malformed input request, please reformat your input and try again.",
        ));
    };
    if let Some(k) = obj.keys().find(|k| !TOP.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Malformed input request: extraneous key [{k}] is not permitted"
        )));
    }
    let mut words = 0;
    if let Some(system) = obj.get("system") {
        for b in system.as_array().ok_or_else(|| invalid("system must be a list"))? {
            words += count(b);
        }
    }
    if let Some(cfg) = obj.get("inferenceConfig") {
        let cfg = cfg
            .as_object()
            .ok_or_else(|| invalid("inferenceConfig must be an object"))?;
        if let Some(k) = cfg.keys().find(|k| !INFERENCE.contains(&k.as_str())) {
            return Err(invalid(format!(
                "Malformed input request: extraneous key [{k}] is not permitted"
            )));
        }
        for key in ["temperature", "topP"] {
            if cfg
                .get(key)
                .and_then(Value::as_f64)
                .is_some_and(|v| !(0.0..=1.0).contains(&v))
            {
                return Err(invalid(format!(
                    "1 validation error detected: Value at 'inferenceConfig.{key}' failed to satisfy constraint: Member must have value less than or equal to 1"
                )));
            }
        }
    }
    let tools = tool_names(&obj)?;
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        _ => {
            return Err(invalid(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            ));
        }
    };
    let mut expect_results: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let want = if i % 2 == 0 { "user" } else { "assistant" };
        if role != want {
            return Err(invalid(if i == 0 {
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.".to_string()
            } else {
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".to_string()
            }));
        }
        let content = m.get("content").and_then(Value::as_array).filter(|c| !c.is_empty()).ok_or_else(|| {
            invalid(format!("The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."))
        })?;
        let mut uses = Vec::new();
        let mut results = Vec::new();
        for (j, block) in content.iter().enumerate() {
            let b = block
                .as_object()
                .ok_or_else(|| invalid(format!("messages.{i}.content.{j} must be an object")))?;
            let keys: Vec<&String> = b.keys().collect();
            if keys.len() != 1 || !BLOCKS.contains(&keys[0].as_str()) {
                return Err(invalid(format!(
                    "messages.{i}.content.{j}: a content block must have exactly one member"
                )));
            }
            words += count(block);
            if let Some(tu) = b.get("toolUse") {
                uses.push(tool_use(tu, &tools, i)?);
            }
            if let Some(tr) = b.get("toolResult") {
                let id = tr.get("toolUseId").and_then(Value::as_str).unwrap_or_default();
                if tools.is_none() {
                    return Err(invalid(
                        "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
                    ));
                }
                if tr.get("content").and_then(Value::as_array).is_none_or(Vec::is_empty) {
                    return Err(invalid(format!("messages.{i}: toolResult content must not be empty")));
                }
                results.push(id.to_string());
            }
            if let Some(img) = b.get("image") {
                let ok = matches!(
                    img.get("format").and_then(Value::as_str),
                    Some("png" | "jpeg" | "gif" | "webp")
                ) && img
                    .pointer("/source/bytes")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty());
                if !ok {
                    return Err(invalid(format!(
                        "messages.{i}.content.{j}: image needs a format and source.bytes"
                    )));
                }
            }
        }
        if role == "user" && results != expect_results {
            return Err(invalid(format!(
                "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
                expect_results.join(", ")
            )));
        }
        expect_results = uses;
    }
    Ok(Accepted {
        stream,
        input_tokens: words,
    })
}

fn tool_names(obj: &Map<String, Value>) -> Result<Option<Vec<String>>, (&'static str, String)> {
    let Some(cfg) = obj.get("toolConfig") else {
        return Ok(None);
    };
    let tools = cfg
        .get("tools")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("toolConfig.tools must not be empty"))?;
    let mut names = Vec::new();
    for t in tools {
        let name = t.pointer("/toolSpec/name").and_then(Value::as_str).unwrap_or_default();
        let ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok || !t.pointer("/toolSpec/inputSchema/json").is_some_and(Value::is_object) {
            return Err(invalid(format!("toolConfig.tools: invalid toolSpec for `{name}`")));
        }
        names.push(name.to_string());
    }
    if let Some(choice) = cfg.get("toolChoice") {
        let ok = choice.get("auto").is_some()
            || choice.get("any").is_some()
            || choice
                .pointer("/tool/name")
                .and_then(Value::as_str)
                .is_some_and(|n| names.iter().any(|x| x == n));
        if !ok {
            return Err(invalid("toolConfig.toolChoice must be auto, any or a declared tool"));
        }
    }
    Ok(Some(names))
}

fn tool_use(tu: &Value, tools: &Option<Vec<String>>, i: usize) -> Result<String, (&'static str, String)> {
    if tools.is_none() {
        return Err(invalid(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ));
    }
    let id = tu.get("toolUseId").and_then(Value::as_str).unwrap_or_default();
    let ok_id = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if !ok_id || !tu.get("input").is_some_and(Value::is_object) || tu.get("name").and_then(Value::as_str).is_none() {
        return Err(invalid(format!(
            "messages.{i}: toolUse needs a valid toolUseId, a name and an object input"
        )));
    }
    Ok(id.to_string())
}

fn count(v: &Value) -> u64 {
    v.get("text")
        .and_then(Value::as_str)
        .map_or(0, |t| t.split_whitespace().count() as u64)
}
