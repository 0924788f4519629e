//! The mock's strictness at the edge: route, headers, body shape and top-level fields, in a fixed order where the
//! first failure wins.
//!
//! Routes: `POST /v1/messages` and `POST /v1/messages/count_tokens` (its own field list, no `max_tokens`).
//! Order: route (404) → `x-api-key` (401) → `anthropic-version` (400) → `content-type` (400) → body is a JSON
//! object (400) → no unknown top-level field → `model` → `max_tokens` → `messages` (see [`super::messages`]) →
//! `system` → `stream` → the options in [`super::options`] (sampling, stop sequences, metadata, tools,
//! `tool_choice`, `thinking`, `service_tier`, `output_config`, `cache_control`).
//!
//! Where the brief for this mock and the published API differ, the API wins and the difference is noted here:
//! `max_tokens` may be `0` (the current API documents `minimum: 0`, used to pre-warm the prompt cache).

use http::{HeaderMap, Method};
use serde_json::{Map, Value};

use super::rejection::AnthropicRejection;
use super::{messages, options};

/// Every top-level field the Messages API documents (GA and beta); anything else is `Extra inputs are not
/// permitted`, which is how a gateway that leaks an OpenAI field (`n`, `user`, `stream_options`) gets caught.
const FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "output_config",
    "cache_control",
    "inference_geo",
    // Beta fields (the real API wants an `anthropic-beta` header for them; the mock does not check that).
    "context_management",
    "mcp_servers",
    "output_format",
    "speed",
    "diagnostics",
    "fallbacks",
    "fallback_credit_token",
];

pub(super) const STRING: &str = "Input should be a valid string";
pub(super) const INTEGER: &str = "Input should be a valid integer";
pub(super) const NUMBER: &str = "Input should be a valid number";
pub(super) const BOOLEAN: &str = "Input should be a valid boolean";
pub(super) const LIST: &str = "Input should be a valid list";
pub(super) const OBJECT: &str = "Input should be a valid dictionary or object to extract fields from";

/// What the mock enforces beyond the API's schema; set on the builder.
#[derive(Debug)]
pub(super) struct Policy {
    /// The required `x-api-key`, if any.
    pub(super) api_key: Option<String>,
    /// The accepted `anthropic-version` values.
    pub(super) versions: Vec<String>,
    /// Refuse `temperature` together with `top_p`, as models since Claude Opus 4.1 / Sonnet 4.5 do.
    pub(super) sampling_exclusive: bool,
}

/// What an accepted request asked for: all a reply needs, so rendering never re-reads the body.
#[derive(Clone, Debug)]
pub(super) struct Accepted {
    /// Echoed in every response, as the real API does.
    pub(super) model: String,
    pub(super) stream: bool,
    /// `POST /v1/messages/count_tokens`: answered with `{"input_tokens": n}`, no reply consumed.
    pub(super) count_only: bool,
    /// `GET /v1/models`: answered with the model list, no reply consumed.
    pub(super) list_models: bool,
    /// Whitespace-separated words in `system` and the messages' text: the mock's deterministic token count.
    pub(super) input_tokens: u64,
}

/// Decides whether the real API would accept this request, in the order documented at the top of the module.
pub(super) fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    policy: &Policy,
) -> Result<Accepted, AnthropicRejection> {
    let count_only = match (method, path) {
        (&Method::POST, "/v1/messages") => false,
        (&Method::POST, "/v1/messages/count_tokens") => true,
        (&Method::GET, "/v1/models") => false,
        _ => return Err(AnthropicRejection::NotFound),
    };
    if let Some(key) = &policy.api_key {
        check_key(headers, key)?;
    }
    check_version(headers, &policy.versions)?;
    if method == Method::GET {
        // The models list: key and version checked like every endpoint, no body.
        return Ok(Accepted {
            model: String::new(),
            stream: false,
            count_only: false,
            list_models: true,
            input_tokens: 0,
        });
    }
    if !crate::validate::is_json_content_type(headers) {
        return Err(AnthropicRejection::InvalidContentType);
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(AnthropicRejection::InvalidJson);
    };
    if count_only {
        return accept_count(&obj);
    }
    accept(&obj, policy)
}

/// The fields `count_tokens` documents: the message shape without generation controls (`max_tokens`, `stream`,
/// sampling) — sending those is `Extra inputs are not permitted`, as on the real endpoint.
const COUNT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "mcp_servers",
    "context_management",
    "output_config",
    "output_format",
    "cache_control",
];

fn accept_count(obj: &Map<String, Value>) -> Result<Accepted, AnthropicRejection> {
    only_fields("", obj, COUNT_FIELDS)?;
    let model = match required("", obj, "model")? {
        Value::String(m) if !m.is_empty() => m.clone(),
        _ => return Err(invalid("model", STRING)),
    };
    let mut input_tokens = messages::check_messages(obj.get("messages"))?;
    if let Some(system) = obj.get("system") {
        input_tokens += messages::check_system(system)?;
    }
    Ok(Accepted {
        model,
        stream: false,
        count_only: true,
        list_models: false,
        input_tokens,
    })
}

fn check_key(headers: &HeaderMap, key: &str) -> Result<(), AnthropicRejection> {
    let mut values = headers.get_all("x-api-key").iter();
    match (values.next(), values.next()) {
        (None, _) => Err(AnthropicRejection::MissingApiKey),
        (Some(v), None) if v.as_bytes() == key.as_bytes() => Ok(()),
        _ => Err(AnthropicRejection::InvalidApiKey),
    }
}

fn check_version(headers: &HeaderMap, versions: &[String]) -> Result<(), AnthropicRejection> {
    let Some(value) = headers.get("anthropic-version") else {
        return Err(AnthropicRejection::MissingVersion);
    };
    let value = String::from_utf8_lossy(value.as_bytes());
    if versions.iter().any(|v| *v == value) {
        Ok(())
    } else {
        Err(AnthropicRejection::InvalidVersion(value.into_owned()))
    }
}

fn accept(obj: &Map<String, Value>, policy: &Policy) -> Result<Accepted, AnthropicRejection> {
    only_fields("", obj, FIELDS)?;
    let model = match required("", obj, "model")? {
        Value::String(m) if m.is_empty() => return Err(invalid("model", "String should have at least 1 character")),
        Value::String(m) => m.clone(),
        _ => return Err(invalid("model", STRING)),
    };
    let max_tokens = match required("", obj, "max_tokens")? {
        Value::Number(n) if n.is_i64() && n.as_u64().is_none() => {
            return Err(invalid("max_tokens", "Input should be greater than or equal to 0"));
        }
        v => v.as_u64().ok_or_else(|| invalid("max_tokens", INTEGER))?,
    };
    let mut input_tokens = messages::check_messages(obj.get("messages"))?;
    if let Some(system) = obj.get("system") {
        input_tokens += messages::check_system(system)?;
    }
    let stream = match obj.get("stream") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream", BOOLEAN)),
    };
    options::check(obj, max_tokens, policy.sampling_exclusive)?;
    Ok(Accepted {
        model,
        stream,
        count_only: false,
        list_models: false,
        input_tokens,
    })
}

// === field helpers, shared with `messages` and `options` ===

/// `prefix.key`, or `key` at the top level.
pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A refusal for the field at `path`.
pub(super) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> AnthropicRejection {
    AnthropicRejection::InvalidField {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Refuses the first key of `obj` not in `allowed`.
pub(super) fn only_fields(prefix: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), AnthropicRejection> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(AnthropicRejection::UnknownField(join(prefix, extra))),
        None => Ok(()),
    }
}

/// `obj[key]`, or `<prefix.key>: Field required`.
pub(super) fn required<'a>(
    prefix: &str,
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Value, AnthropicRejection> {
    obj.get(key)
        .ok_or_else(|| AnthropicRejection::MissingField(join(prefix, key)))
}

/// `value` as an object, or a type error at `path`.
pub(super) fn object<'a>(path: &str, value: &'a Value) -> Result<&'a Map<String, Value>, AnthropicRejection> {
    value.as_object().ok_or_else(|| invalid(path, OBJECT))
}

/// `value` as a string, or a type error at `path`.
pub(super) fn string<'a>(path: &str, value: &'a Value) -> Result<&'a str, AnthropicRejection> {
    value.as_str().ok_or_else(|| invalid(path, STRING))
}

/// `obj[key]` as a required string.
pub(super) fn required_str<'a>(
    prefix: &str,
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, AnthropicRejection> {
    string(&join(prefix, key), required(prefix, obj, key)?)
}

/// Refuses `value` unless it is one of `allowed`, with pydantic's `Input should be 'a', 'b' or 'c'`.
pub(super) fn one_of(path: &str, value: &str, allowed: &[&str]) -> Result<(), AnthropicRejection> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    let expected = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(invalid(path, format!("Input should be {expected}")))
}
