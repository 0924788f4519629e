//! The mock's strictness: which requests the real OpenAI API would refuse, and how it says so.
//!
//! Checks run in a fixed order and the first failure wins: route (404) → API key (401) → `content-type` (400) →
//! body is a JSON object (400) → `model` → `stream` / `stream_options` → the endpoint's required field.
//! Deviation from OpenAI, on purpose: a `content-type` other than `application/json` is refused with 400
//! `invalid_content_type` (OpenAI answers 400 too, but with a generic parse error and a `null` code); a stable
//! code makes the failure obvious in a gateway test.

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use serde_json::{Map, Value, json};

/// Why the mock refused a request; kept on [`crate::Recorded`] so tests can assert the gateway sent something
/// the real API would have accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Unknown path, or a known path with the wrong method: 404, as OpenAI answers `Invalid URL (GET /v1/...)`.
    UnknownRoute,
    /// An API key is configured and `Authorization: Bearer <key>` was missing or different: 401.
    InvalidApiKey,
    /// `content-type` was absent or not `application/json`: 400.
    InvalidContentType,
    /// The request body ended early (the client went away while sending it): 400.
    IncompleteBody,
    /// The body was not JSON, or JSON but not an object: 400.
    InvalidJson,
    /// A required field was absent: 400 `missing_required_parameter`.
    MissingParameter(&'static str),
    /// A field had the wrong JSON type: 400 `invalid_type`.
    InvalidType {
        /// The offending field.
        param: &'static str,
        /// What OpenAI expects there, e.g. "a string".
        expected: &'static str,
    },
    /// `messages` was an empty array: 400 `empty_array`.
    EmptyArray(&'static str),
    /// `stream_options` was set without `"stream": true`: 400, as OpenAI refuses it.
    StreamOptionsWithoutStream,
    /// Azure mode: the `api-version` query parameter was missing or not one the mock serves: 404, as Azure
    /// answers `Resource not found`.
    ApiVersion,
    /// Azure mode: the path named a deployment the resource does not have: 404 `DeploymentNotFound`.
    DeploymentNotFound,
}

/// Which API the mock imitates: OpenAI's, or Azure OpenAI's deployment-addressed one.
#[derive(Clone, Debug)]
pub(crate) enum Dialect {
    /// `/v1/...` routes, `Authorization: Bearer <key>` when a key is set, `model` required.
    OpenAi { api_key: Option<String> },
    /// `/openai/deployments/{deployment}/...?api-version=V` routes, `api-key: <key>` when a key is set (an
    /// `Authorization` header is then taken as an Entra ID token and refused), `model` optional.
    Azure {
        api_key: Option<String>,
        api_version: String,
        deployments: Vec<String>,
    },
}

/// The generation endpoints a [`crate::Reply`] can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Chat,
    Completions,
    Embeddings,
}

/// What an accepted request asked for: all a reply needs, so rendering never re-reads the body.
#[derive(Clone, Debug)]
pub(crate) struct Accepted {
    pub(crate) endpoint: Endpoint,
    /// Echoed in every response body, as OpenAI does.
    pub(crate) model: String,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    /// Whitespace-separated words in the prompt: the mock's deterministic token count.
    pub(crate) prompt_tokens: u64,
    /// How many embeddings to return (embeddings only).
    pub(crate) inputs: usize,
}

/// Where an accepted request goes.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    Models,
    Generate(Accepted),
}

// === impl Rejection ===

impl Rejection {
    /// The HTTP status OpenAI uses for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute | Self::ApiVersion | Self::DeploymentNotFound => StatusCode::NOT_FOUND,
            Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error.code` string in the response body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownRoute => "unknown_url",
            Self::InvalidApiKey => "invalid_api_key",
            Self::InvalidContentType => "invalid_content_type",
            Self::IncompleteBody => "incomplete_body",
            Self::InvalidJson => "invalid_json",
            Self::MissingParameter(_) => "missing_required_parameter",
            Self::InvalidType { .. } => "invalid_type",
            Self::EmptyArray(_) => "empty_array",
            Self::StreamOptionsWithoutStream => "invalid_value",
            Self::ApiVersion => "404",
            Self::DeploymentNotFound => "DeploymentNotFound",
        }
    }

    /// The `error.param` field, when the refusal is about one field.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            Self::MissingParameter(p) | Self::EmptyArray(p) => Some(p),
            Self::InvalidType { param, .. } => Some(param),
            Self::StreamOptionsWithoutStream => Some("stream_options"),
            _ => None,
        }
    }

    /// The OpenAI error JSON: `{"error": {"message", "type", "param", "code"}}`.
    pub(crate) fn body(&self, method: &Method, path: &str) -> Bytes {
        // OpenAI reports every one of these, 401 included, as an `invalid_request_error`.
        let kind = "invalid_request_error";
        let message = match self {
            Self::UnknownRoute => format!("Invalid URL ({method} {path})"),
            other => other.to_string(),
        };
        Bytes::from(
            json!({"error": {"message": message, "type": kind, "param": self.param(), "code": self.code()}})
                .to_string(),
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownRoute => f.write_str("Invalid URL"),
            // Never echo the presented key: a test must not be able to leak it through the mock.
            Self::InvalidApiKey => f.write_str("Incorrect API key provided."),
            Self::InvalidContentType => f.write_str("Invalid content-type: expected application/json."),
            Self::IncompleteBody => f.write_str("The request body ended before it was complete."),
            Self::InvalidJson => {
                f.write_str("We could not parse the JSON body of your request. The body must be a JSON object.")
            }
            Self::MissingParameter(p) => write!(f, "Missing required parameter: '{p}'."),
            Self::InvalidType { param, expected } => {
                write!(f, "Invalid type for '{param}': expected {expected}.")
            }
            Self::EmptyArray(p) => write!(
                f,
                "Invalid '{p}': empty array. Expected an array with minimum length 1, but got an empty array instead."
            ),
            Self::StreamOptionsWithoutStream => {
                f.write_str("The 'stream_options' parameter is only allowed when 'stream' is enabled.")
            }
            Self::ApiVersion => f.write_str("Resource not found"),
            Self::DeploymentNotFound => f.write_str(
                "The API deployment for this resource does not exist. If you created the deployment within the \
                 last 5 minutes, please wait a moment and try again.",
            ),
        }
    }
}

// === validation ===

/// Decides whether the real API would accept this request, in the order documented at the top of the module.
pub(crate) fn check(
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
    body: &[u8],
    dialect: &Dialect,
) -> Result<Route, Rejection> {
    let (endpoint, deployment) = match dialect {
        Dialect::OpenAi { api_key } => {
            let endpoint = match (method, uri.path()) {
                (&Method::GET, "/v1/models") => None,
                (&Method::POST, "/v1/chat/completions") => Some(Endpoint::Chat),
                (&Method::POST, "/v1/completions") => Some(Endpoint::Completions),
                (&Method::POST, "/v1/embeddings") => Some(Endpoint::Embeddings),
                _ => return Err(Rejection::UnknownRoute),
            };
            if let Some(key) = api_key {
                check_key(headers, key)?;
            }
            (endpoint, None)
        }
        Dialect::Azure {
            api_key,
            api_version,
            deployments,
        } => {
            // `GET /openai/models?api-version=…` (Azure's "Models - List") lists what the resource can deploy.
            let listing = method == Method::GET && uri.path() == "/openai/models";
            let (deployment, endpoint) = if listing {
                ("", Endpoint::Chat)
            } else {
                azure_route(method, uri.path())?
            };
            let version = uri
                .query()
                .into_iter()
                .flat_map(|q| q.split('&'))
                .filter_map(|kv| kv.strip_prefix("api-version="))
                .collect::<Vec<_>>();
            if version.as_slice() != [api_version.as_str()] {
                return Err(Rejection::ApiVersion);
            }
            if let Some(key) = api_key {
                let mut values = headers.get_all("api-key").iter();
                let ok = matches!((values.next(), values.next()), (Some(v), None) if v.as_bytes() == key.as_bytes());
                if !ok || headers.contains_key(header::AUTHORIZATION) {
                    return Err(Rejection::InvalidApiKey);
                }
            }
            if listing {
                return Ok(Route::Models);
            }
            if !deployments.iter().any(|d| d == deployment) {
                return Err(Rejection::DeploymentNotFound);
            }
            (Some(endpoint), Some(deployment.to_string()))
        }
    };
    let Some(endpoint) = endpoint else {
        return Ok(Route::Models);
    };
    if !is_json_content_type(headers) {
        return Err(Rejection::InvalidContentType);
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(Rejection::InvalidJson);
    };
    accept(endpoint, &obj, deployment).map(Route::Generate)
}

/// `POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings}`.
fn azure_route<'p>(method: &Method, path: &'p str) -> Result<(&'p str, Endpoint), Rejection> {
    let rest = path
        .strip_prefix("/openai/deployments/")
        .filter(|_| method == Method::POST)
        .ok_or(Rejection::UnknownRoute)?;
    let (deployment, op) = rest.split_once('/').ok_or(Rejection::UnknownRoute)?;
    let endpoint = match op {
        "chat/completions" => Endpoint::Chat,
        "completions" => Endpoint::Completions,
        "embeddings" => Endpoint::Embeddings,
        _ => return Err(Rejection::UnknownRoute),
    };
    Ok((deployment, endpoint))
}

fn check_key(headers: &http::HeaderMap, key: &str) -> Result<(), Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(v), None) if v.as_bytes() == format!("Bearer {key}").as_bytes() => Ok(()),
        _ => Err(Rejection::InvalidApiKey),
    }
}

/// Whether `content-type` is `application/json`, parameters (e.g. `charset`) allowed: what both APIs require.
pub(crate) fn is_json_content_type(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// `deployment`: Azure mode, where the deployment names the model and `model` in the body is optional.
fn accept(endpoint: Endpoint, obj: &Map<String, Value>, deployment: Option<String>) -> Result<Accepted, Rejection> {
    let model = match (obj.get("model"), deployment) {
        (None | Some(Value::Null), Some(d)) => d,
        (None, None) => return Err(Rejection::MissingParameter("model")),
        (Some(Value::String(m)), _) => m.clone(),
        (Some(_), _) => return Err(invalid("model", "a string")),
    };
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream", "a boolean")),
    };
    let include_usage = match obj.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(_) if !stream => return Err(Rejection::StreamOptionsWithoutStream),
        Some(Value::Object(opts)) => match opts.get("include_usage") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("stream_options.include_usage", "a boolean")),
        },
        Some(_) => return Err(invalid("stream_options", "an object")),
    };
    let (prompt_tokens, inputs) = match endpoint {
        Endpoint::Chat => {
            let messages = match obj.get("messages") {
                None => return Err(Rejection::MissingParameter("messages")),
                Some(Value::Array(m)) if m.is_empty() => {
                    return Err(Rejection::EmptyArray("messages"));
                }
                Some(Value::Array(m)) => m,
                Some(_) => return Err(invalid("messages", "an array")),
            };
            let words = messages.iter().map(|m| m.get("content").map_or(0, count_words)).sum();
            (words, 1)
        }
        Endpoint::Completions => {
            let prompt = obj.get("prompt").ok_or(Rejection::MissingParameter("prompt"))?;
            (count_words(prompt), 1)
        }
        Endpoint::Embeddings => {
            let input = obj.get("input").ok_or(Rejection::MissingParameter("input"))?;
            (count_words(input), count_inputs(input))
        }
    };
    Ok(Accepted {
        endpoint,
        model,
        stream,
        include_usage,
        prompt_tokens,
        inputs,
    })
}

fn invalid(param: &'static str, expected: &'static str) -> Rejection {
    Rejection::InvalidType { param, expected }
}

/// The mock's token count: whitespace-separated words in strings, one per number (a pre-tokenized prompt),
/// recursing into arrays and into the `text` of content parts.
pub(crate) fn count_words(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.split_whitespace().count() as u64,
        Value::Number(_) => 1,
        Value::Array(items) => items.iter().map(count_words).sum(),
        Value::Object(part) => part.get("text").map_or(0, count_words),
        Value::Null | Value::Bool(_) => 0,
    }
}

/// How many embeddings an `input` asks for: one per string, or one for a single token array.
fn count_inputs(input: &Value) -> usize {
    match input {
        Value::Array(items) if items.iter().all(Value::is_number) => usize::from(!items.is_empty()),
        Value::Array(items) => items.len(),
        _ => 1,
    }
}
