//! What the real Gemini API (`generativelanguage.googleapis.com/v1beta`) refuses, and how it says so.
//!
//! Checks run in order and the first failure wins: route (404) → credential (403 without a key, 401 for an
//! `Authorization` header, which Google reads as an OAuth token, 400 `API_KEY_INVALID` for a wrong key) → model
//! (404) → `content-type` and JSON (400) → the body. The body rules encode the API's proto-JSON strictness: an
//! unknown field anywhere Gemini defines the shape (top level, `generationConfig`, parts, function declarations,
//! schemas) is a 400 `Unknown name "x"`; `contents` must be non-empty with roles `user`/`model`, every part must
//! carry exactly one data field; `temperature` ∈ [0, 2]; a turn answering function calls must carry as many
//! `functionResponse` parts as the calls it answers.

use http::{HeaderMap, Method, header};
use serde_json::{Map, Value};

use super::rejection::GeminiRejection;

/// What an accepted request asked for.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub(crate) model: String,
    pub(crate) stream: bool,
    /// `alt=sse` on a stream (otherwise Gemini streams one JSON array).
    pub(crate) sse: bool,
    /// Whitespace-separated words in the text parts (system instruction included): the mock's token count.
    pub(crate) prompt_tokens: u64,
    /// `batchEmbedContents`: how many vectors, of what dimension.
    pub(crate) embed: Option<(usize, usize)>,
}

/// The mock's configuration that validation reads.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) api_key: Option<String>,
    pub(crate) models: Vec<String>,
}

const TOP_LEVEL: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "generationConfig",
    "cachedContent",
];
const GENERATION_CONFIG: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "thinkingConfig",
    "responseModalities",
];
const PART: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "thought",
    "thoughtSignature",
];
const PART_DATA: &[&str] = &[
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
];

/// The credential rules every call follows: an API key in `x-goog-api-key` (exactly once), never `Authorization`
/// (Google would take it as an OAuth token). `GET /v1beta/models` (the models list) checks only these.
pub(crate) fn check_key(headers: &HeaderMap, policy: &Policy) -> Result<(), GeminiRejection> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(GeminiRejection::Unauthenticated);
    }
    if let Some(key) = &policy.api_key {
        let mut values = headers.get_all("x-goog-api-key").iter();
        match (values.next(), values.next()) {
            (None, _) => return Err(GeminiRejection::MissingKey),
            (Some(v), None) if v.as_bytes() == key.as_bytes() => {}
            _ => return Err(GeminiRejection::InvalidKey),
        }
    }
    Ok(())
}

/// Decides whether the real API would accept this request.
pub(crate) fn check(
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    policy: &Policy,
) -> Result<Accepted, GeminiRejection> {
    let rest = uri
        .path()
        .strip_prefix("/v1beta/models/")
        .filter(|_| method == Method::POST)
        .ok_or(GeminiRejection::UnknownRoute)?;
    let (model, op) = rest.split_once(':').ok_or(GeminiRejection::UnknownRoute)?;
    let (stream, embed) = match op {
        "generateContent" => (false, false),
        "streamGenerateContent" => (true, false),
        "batchEmbedContents" => (false, true),
        _ => return Err(GeminiRejection::UnknownRoute),
    };
    let sse = uri.query().is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
    check_key(headers, policy)?;
    if !policy.models.iter().any(|m| m == model) {
        return Err(GeminiRejection::ModelNotFound(model.to_string()));
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(invalid("Invalid content-type: expected application/json"));
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("Invalid JSON payload received."));
    };
    if embed {
        return batch_embed(&obj, model);
    }
    known(&obj, TOP_LEVEL, "")?;
    let mut prompt_tokens = contents(&obj)?;
    if let Some(system) = obj.get("systemInstruction") {
        let parts = system
            .get("parts")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("* GenerateContentRequest.system_instruction.parts: parts is required"))?;
        for (j, p) in parts.iter().enumerate() {
            prompt_tokens += part(p, &format!("system_instruction.parts[{j}]"))?;
        }
    }
    if let Some(config) = obj.get("generationConfig") {
        generation_config(config)?;
    }
    if let Some(tools) = obj.get("tools") {
        super::tools::function_declarations(tools)?;
    }
    if let Some(mode) = obj
        .get("toolConfig")
        .and_then(|t| t.pointer("/functionCallingConfig/mode"))
        && !matches!(
            mode.as_str(),
            Some("AUTO" | "ANY" | "NONE" | "VALIDATED" | "MODE_UNSPECIFIED")
        )
    {
        return Err(invalid(format!(
            "Invalid value at 'tool_config.function_calling_config.mode' ({mode})"
        )));
    }
    Ok(Accepted {
        model: model.to_string(),
        stream,
        sse,
        prompt_tokens,
        embed: None,
    })
}

/// `batchEmbedContents`: 1–100 `requests`, each for this model (`models/<model>`), with text parts only.
fn batch_embed(obj: &Map<String, Value>, model: &str) -> Result<Accepted, GeminiRejection> {
    known(obj, &["requests"], "")?;
    let requests = match obj.get("requests") {
        Some(Value::Array(r)) if !r.is_empty() && r.len() <= 100 => r,
        _ => {
            return Err(invalid(
                "* BatchEmbedContentsRequest.requests: between 1 and 100 requests are required",
            ));
        }
    };
    let mut dims = 8;
    for (i, r) in requests.iter().enumerate() {
        let at = format!("requests[{i}]");
        let Some(r) = r.as_object() else {
            return Err(invalid(format!("Invalid value at '{at}'")));
        };
        known(
            r,
            &["model", "content", "taskType", "title", "outputDimensionality"],
            &at,
        )?;
        if r.get("model").and_then(Value::as_str) != Some(&format!("models/{model}")) {
            return Err(invalid(format!(
                "Model names should start with `models/` and match the request: {at}.model"
            )));
        }
        let parts = r
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty() && p.iter().all(|p| p.get("text").and_then(Value::as_str).is_some()))
            .ok_or_else(|| invalid(format!("{at}.content: text parts are required")))?;
        let _ = parts;
        if let Some(d) = r.get("outputDimensionality") {
            dims = d
                .as_u64()
                .filter(|d| (1..=3072).contains(d))
                .ok_or_else(|| invalid(format!("{at}.output_dimensionality")))? as usize;
        }
    }
    Ok(Accepted {
        model: model.to_string(),
        stream: false,
        sse: false,
        prompt_tokens: 0,
        embed: Some((requests.len(), dims)),
    })
}

pub(super) fn invalid(message: impl Into<String>) -> GeminiRejection {
    GeminiRejection::InvalidArgument(message.into())
}

/// Every key of `obj` must be one of `allowed` (Gemini's proto JSON parser rejects the rest).
pub(super) fn known(obj: &Map<String, Value>, allowed: &[&str], at: &str) -> Result<(), GeminiRejection> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) if at.is_empty() => Err(invalid(format!(
            "Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."
        ))),
        Some(k) => Err(invalid(format!(
            "Invalid JSON payload received. Unknown name \"{k}\" at '{at}': Cannot find field."
        ))),
    }
}

/// `contents`: non-empty, roles `user`/`model`, valid parts, function responses matching the calls they answer.
fn contents(obj: &Map<String, Value>) -> Result<u64, GeminiRejection> {
    let contents = match obj.get("contents") {
        Some(Value::Array(c)) if !c.is_empty() => c,
        _ => return Err(invalid("* GenerateContentRequest.contents: contents is not specified")),
    };
    let mut words = 0;
    let mut pending_calls = 0usize;
    for (i, content) in contents.iter().enumerate() {
        let Some(c) = content.as_object() else {
            return Err(invalid(format!("Invalid value at 'contents[{i}]'")));
        };
        known(c, &["role", "parts"], &format!("contents[{i}]"))?;
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        if !matches!(role, "user" | "model") {
            return Err(invalid(format!(
                "Please use a valid role: user, model. (contents[{i}].role = {role})"
            )));
        }
        let parts = match c.get("parts") {
            Some(Value::Array(p)) if !p.is_empty() => p,
            _ => {
                return Err(invalid(format!(
                    "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
                )));
            }
        };
        let mut calls = 0;
        let mut responses = 0;
        for (j, p) in parts.iter().enumerate() {
            words += part(p, &format!("contents[{i}].parts[{j}]"))?;
            calls += usize::from(p.get("functionCall").is_some());
            responses += usize::from(p.get("functionResponse").is_some());
        }
        if role == "model" && responses > 0 || role == "user" && calls > 0 {
            return Err(invalid(format!(
                "contents[{i}]: function calls come from the model, responses from the user"
            )));
        }
        if pending_calls > 0 && responses != pending_calls {
            return Err(invalid(
                "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
            ));
        }
        pending_calls = calls;
    }
    Ok(words)
}

/// One part: known fields, exactly one data field; returns its word count.
fn part(p: &Value, at: &str) -> Result<u64, GeminiRejection> {
    let Some(obj) = p.as_object() else {
        return Err(invalid(format!("Invalid value at '{at}'")));
    };
    known(obj, PART, at)?;
    let data = obj.keys().filter(|k| PART_DATA.contains(&k.as_str())).count();
    if data != 1 {
        return Err(invalid(format!(
            "{at}: a part must have exactly one data field (oneof)"
        )));
    }
    if let Some(call) = obj.get("functionCall")
        && (call.get("name").and_then(Value::as_str).is_none_or(str::is_empty)
            || call.get("args").is_some_and(|a| !a.is_object()))
    {
        return Err(invalid(format!(
            "{at}.function_call: name is required and args must be an object"
        )));
    }
    if let Some(resp) = obj.get("functionResponse")
        && (resp.get("name").and_then(Value::as_str).is_none_or(str::is_empty)
            || !resp.get("response").is_some_and(Value::is_object))
    {
        return Err(invalid(format!(
            "{at}.function_response: name and an object response are required"
        )));
    }
    if let Some(blob) = obj.get("inlineData") {
        let ok = blob
            .get("mimeType")
            .and_then(Value::as_str)
            .is_some_and(|m| m.contains('/'))
            && blob.get("data").and_then(Value::as_str).is_some_and(|d| !d.is_empty());
        if !ok {
            return Err(invalid(format!(
                "{at}.inline_data: mimeType and base64 data are required"
            )));
        }
    }
    Ok(obj
        .get("text")
        .and_then(Value::as_str)
        .map_or(0, |t| t.split_whitespace().count() as u64))
}

fn generation_config(config: &Value) -> Result<(), GeminiRejection> {
    let Some(obj) = config.as_object() else {
        return Err(invalid("Invalid value at 'generation_config'"));
    };
    known(obj, GENERATION_CONFIG, "generation_config")?;
    if let Some(t) = obj.get("temperature").and_then(Value::as_f64)
        && !(0.0..=2.0).contains(&t)
    {
        return Err(invalid("temperature must be in [0.0, 2.0]"));
    }
    if let Some(stops) = obj.get("stopSequences").and_then(Value::as_array)
        && stops.len() > 5
    {
        return Err(invalid("stop_sequences: at most 5"));
    }
    if let Some(schema) = obj.get("responseSchema") {
        super::tools::check_schema(schema, "generation_config.response_schema", 0)?;
    }
    if let Some(thinking) = obj.get("thinkingConfig").and_then(Value::as_object) {
        known(
            thinking,
            &["thinkingBudget", "includeThoughts", "thinkingLevel"],
            "generation_config.thinking_config",
        )?;
    }
    Ok(())
}
