//! What the real Responses API refuses, and how it says so (OpenAI's error JSON, `invalid_request_error`).

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::{Map, Value, json};

/// Why the mock refused a request; kept on [`crate::Recorded`] so a test proves the gateway sent a valid one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponsesRejection {
    /// Not `POST /v1/responses` (Azure mode: not `POST /openai/responses?api-version=V`): 404.
    UnknownRoute,
    /// The configured key was not presented the way the API expects: 401.
    InvalidApiKey,
    /// `content-type` was not `application/json`: 400.
    InvalidContentType,
    /// The body ended early: 400.
    IncompleteBody,
    /// Not a JSON object: 400.
    InvalidJson,
    /// A top-level key the API does not document: 400 `unknown_parameter`.
    UnknownParameter(String),
    /// A field of the wrong JSON type: 400 `invalid_type`.
    InvalidType(&'static str),
    /// `model` absent: 400 `missing_required_parameter`.
    MissingModel,
    /// `stream_options` without `stream: true`: 400.
    StreamOptionsWithoutStream,
    /// `max_output_tokens` below the API's minimum of 16: 400 `integer_below_min_value`.
    MaxOutputTokensTooSmall,
    /// `previous_response_id` names no stored response of this mock: 400 `previous_response_not_found`.
    PreviousResponseNotFound(String),
}

/// The mock's configuration the checks need.
pub(crate) struct Rules<'a> {
    pub(crate) api_key: Option<&'a str>,
    pub(crate) azure_api_version: Option<&'a str>,
    pub(crate) stored: &'a HashSet<String>,
}

/// What an accepted request asked for.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub(crate) model: String,
    pub(crate) stream: bool,
    /// Whether the response is kept for `previous_response_id` (the API's default is `true`).
    pub(crate) store: bool,
    /// Whitespace-separated words of every text in `input` and `instructions`: the mock's token count.
    pub(crate) input_tokens: u64,
    pub(crate) previous_response_id: Option<String>,
}

/// The top-level keys of `POST /v1/responses` as documented in OpenAI's API reference.
const KNOWN: &[&str] = &[
    "background",
    "conversation",
    "include",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "metadata",
    "model",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "user",
];

/// Runs the checks in order; the first failure wins.
pub(crate) fn check(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    rules: &Rules<'_>,
) -> Result<Accepted, ResponsesRejection> {
    use ResponsesRejection as R;
    let route_ok = match rules.azure_api_version {
        None => uri.path() == "/v1/responses",
        Some(v) => uri.path() == "/openai/responses" && uri.query() == Some(&format!("api-version={v}")),
    };
    if method != Method::POST || !route_ok {
        return Err(R::UnknownRoute);
    }
    if let Some(key) = rules.api_key {
        let ok = match rules.azure_api_version {
            None => headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {key}")),
            Some(_) => {
                headers.get("api-key").and_then(|v| v.to_str().ok()) == Some(key)
                    && !headers.contains_key(header::AUTHORIZATION)
            }
        };
        if !ok {
            return Err(R::InvalidApiKey);
        }
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !ct.is_some_and(|c| c.starts_with("application/json")) {
        return Err(R::InvalidContentType);
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(R::InvalidJson);
    };
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(R::UnknownParameter(k.clone()));
    }
    let model = match obj.get("model") {
        None | Some(Value::Null) => return Err(R::MissingModel),
        Some(Value::String(m)) => m.clone(),
        Some(_) => return Err(R::InvalidType("model")),
    };
    let flag = |k: &'static str, default: bool| match obj.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(R::InvalidType(k)),
    };
    let stream = flag("stream", false)?;
    let store = flag("store", true)?;
    match obj.get("stream_options") {
        None | Some(Value::Null) => {}
        Some(_) if !stream => return Err(R::StreamOptionsWithoutStream),
        // The Responses API's only stream option; chat's `include_usage` is refused by name.
        Some(Value::Object(o)) => {
            if let Some(k) = o.keys().find(|k| k.as_str() != "include_obfuscation") {
                return Err(R::UnknownParameter(format!("stream_options.{k}")));
            }
        }
        Some(_) => return Err(R::InvalidType("stream_options")),
    }
    match obj.get("max_output_tokens") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => {
            if n.as_u64().is_none_or(|n| n < 16) {
                return Err(R::MaxOutputTokensTooSmall);
            }
        }
        Some(_) => return Err(R::InvalidType("max_output_tokens")),
    }
    if !matches!(obj.get("input"), None | Some(Value::String(_) | Value::Array(_))) {
        return Err(R::InvalidType("input"));
    }
    if !matches!(obj.get("instructions"), None | Some(Value::String(_) | Value::Null)) {
        return Err(R::InvalidType("instructions"));
    }
    let previous_response_id = match obj.get("previous_response_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if rules.stored.contains(id) => Some(id.clone()),
        Some(Value::String(id)) => return Err(R::PreviousResponseNotFound(id.clone())),
        Some(_) => return Err(R::InvalidType("previous_response_id")),
    };
    Ok(Accepted {
        model,
        stream,
        store,
        input_tokens: count_words(&obj),
        previous_response_id,
    })
}

/// Words in `instructions` and every `text` string (or string `content`) inside `input`.
fn count_words(obj: &Map<String, Value>) -> u64 {
    fn walk(v: &Value, n: &mut usize) {
        match v {
            Value::String(s) => *n += s.split_whitespace().count(),
            Value::Array(a) => a.iter().for_each(|x| walk(x, n)),
            Value::Object(o) => {
                for k in ["text", "content", "output"] {
                    if let Some(x) = o.get(k) {
                        walk(x, n);
                    }
                }
            }
            _ => {}
        }
    }
    let mut n = 0;
    for k in ["instructions", "input"] {
        if let Some(v) = obj.get(k) {
            walk(v, &mut n);
        }
    }
    n as u64
}

// === impl ResponsesRejection ===

impl ResponsesRejection {
    /// The HTTP status the API answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute => StatusCode::NOT_FOUND,
            Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownRoute => "unknown_url",
            Self::InvalidApiKey => "invalid_api_key",
            Self::InvalidContentType => "invalid_content_type",
            Self::IncompleteBody => "incomplete_body",
            Self::InvalidJson => "invalid_json",
            Self::UnknownParameter(_) => "unknown_parameter",
            Self::InvalidType(_) => "invalid_type",
            Self::MissingModel => "missing_required_parameter",
            Self::StreamOptionsWithoutStream => "invalid_value",
            Self::MaxOutputTokensTooSmall => "integer_below_min_value",
            Self::PreviousResponseNotFound(_) => "previous_response_not_found",
        }
    }

    fn param(&self) -> Option<String> {
        match self {
            Self::UnknownParameter(p) => Some(p.clone()),
            Self::InvalidType(p) => Some((*p).to_string()),
            Self::MissingModel => Some("model".into()),
            Self::StreamOptionsWithoutStream => Some("stream_options".into()),
            Self::MaxOutputTokensTooSmall => Some("max_output_tokens".into()),
            Self::PreviousResponseNotFound(_) => Some("previous_response_id".into()),
            _ => None,
        }
    }

    pub(crate) fn body(&self) -> Bytes {
        let body = json!({"error": {"message": self.to_string(), "type": "invalid_request_error", "param": self.param(), "code": self.code()}});
        Bytes::from(body.to_string())
    }
}

impl fmt::Display for ResponsesRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownRoute => f.write_str("Invalid URL"),
            Self::InvalidApiKey => f.write_str("Incorrect API key provided."),
            Self::InvalidContentType => f.write_str("Invalid content-type: expected application/json."),
            Self::IncompleteBody => f.write_str("The request body ended before it was complete."),
            Self::InvalidJson => f.write_str("We could not parse the JSON body of your request."),
            Self::UnknownParameter(p) => write!(f, "Unknown parameter: '{p}'."),
            Self::InvalidType(p) => write!(f, "Invalid type for '{p}'."),
            Self::MissingModel => f.write_str("Missing required parameter: 'model'."),
            Self::StreamOptionsWithoutStream => f.write_str("stream_options is only allowed when stream is true."),
            Self::MaxOutputTokensTooSmall => {
                f.write_str("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16.")
            }
            Self::PreviousResponseNotFound(id) => write!(f, "Previous response with id '{id}' not found."),
        }
    }
}
