//! Why [`MockAnthropic`](crate::MockAnthropic) refused a request, and the Anthropic error JSON it answers with.
//!
//! Messages copy the real API's wording where it is known (pydantic-style `"<path>: <reason>"` for schema
//! errors, the exact sentences for the semantic ones), so a gateway test that passes an upstream error through can
//! assert on text a user would really see.

use std::fmt;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};

/// Why the mock refused a request; kept on [`crate::AnthropicRecorded`] so a test can assert that the gateway sent
/// something the real Messages API would have accepted, and which rule it broke if not.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnthropicRejection {
    /// Not `POST /v1/messages`: 404 `not_found_error`.
    NotFound,
    /// A key is configured and no `x-api-key` was sent: 401 `authentication_error`.
    MissingApiKey,
    /// A key is configured and `x-api-key` differed (or was sent twice): 401 `authentication_error`.
    InvalidApiKey,
    /// No `anthropic-version` header: 400.
    MissingVersion,
    /// An `anthropic-version` the mock was not told to accept: 400.
    InvalidVersion(String),
    /// `content-type` absent or not `application/json`: 400.
    InvalidContentType,
    /// The request body ended early (the client went away while sending it): 400.
    IncompleteBody,
    /// The body was not JSON, or JSON but not an object: 400.
    InvalidJson,
    /// A required field was absent (`"<path>: Field required"`): 400.
    MissingField(String),
    /// A field the API does not define (`"<path>: Extra inputs are not permitted"`): 400.
    UnknownField(String),
    /// A field had the wrong type or an out-of-range value: 400.
    InvalidField {
        /// Dotted path, e.g. `messages.0.content.1.source.media_type`.
        path: String,
        /// What the API expects, e.g. `Input should be less than or equal to 1`.
        reason: String,
    },
    /// `messages` was an empty array: 400.
    NoMessages,
    /// A message used the `system` role, which only exists as the top-level `system` field: 400.
    SystemRole,
    /// A text block (in `messages` or `system`) had `"text": ""`: 400. Holds the top-level field.
    EmptyText(&'static str),
    /// Message `index` had empty content and is not the optional final assistant message: 400.
    EmptyContent(usize),
    /// A `tool_result` names no `tool_use` of the previous message: 400.
    UnexpectedToolResult {
        /// Path of the `tool_result` block.
        path: String,
        /// The unknown `tool_use_id`.
        id: String,
    },
    /// Assistant message `index` has `tool_use` blocks that the next message does not answer: 400.
    MissingToolResult {
        /// The assistant message.
        index: usize,
        /// The unanswered `tool_use` ids.
        ids: Vec<String>,
    },
    /// Both `temperature` and `top_p` while the mock plays a model that refuses that: 400.
    SamplingExclusive,
    /// `thinking.budget_tokens` was not below `max_tokens`: 400.
    ThinkingBudget,
}

// === impl AnthropicRejection ===

impl AnthropicRejection {
    /// The HTTP status the real API uses for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MissingApiKey | Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error.type` string in the response body.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found_error",
            Self::MissingApiKey | Self::InvalidApiKey => "authentication_error",
            _ => "invalid_request_error",
        }
    }

    /// The Anthropic error JSON for request `request_id`.
    pub(super) fn body(&self, request_id: &str) -> Bytes {
        Bytes::from(error_json(self.error_type(), &self.to_string(), request_id).to_string())
    }
}

impl fmt::Display for AnthropicRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("Not Found"),
            Self::MissingApiKey => f.write_str("x-api-key header is required"),
            // Never echo the presented key: a test must not be able to leak it through the mock.
            Self::InvalidApiKey => f.write_str("invalid x-api-key"),
            Self::MissingVersion => f.write_str("anthropic-version: header is required"),
            Self::InvalidVersion(v) => write!(f, "anthropic-version: invalid version {v:?}"),
            Self::InvalidContentType => f.write_str("content-type: expected application/json"),
            Self::IncompleteBody => f.write_str("The request body ended before it was complete."),
            Self::InvalidJson => f.write_str("There was an error parsing the body of your request as a JSON object."),
            Self::MissingField(path) => write!(f, "{path}: Field required"),
            Self::UnknownField(path) => write!(f, "{path}: Extra inputs are not permitted"),
            Self::InvalidField { path, reason } => write!(f, "{path}: {reason}"),
            Self::NoMessages => f.write_str("messages: at least one message is required"),
            Self::SystemRole => f.write_str(
                "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, \
                 not \"system\" as an input message role.",
            ),
            Self::EmptyText(field) => write!(f, "{field}: text content blocks must be non-empty"),
            Self::EmptyContent(i) => write!(
                f,
                "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
            ),
            Self::UnexpectedToolResult { path, id } => write!(
                f,
                "{path}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must \
                 have a corresponding `tool_use` block in the previous message."
            ),
            Self::MissingToolResult { index, ids } => write!(
                f,
                "messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. \
                 Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                ids.join(", ")
            ),
            Self::SamplingExclusive => {
                f.write_str("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
            }
            Self::ThinkingBudget => f.write_str("`max_tokens` must be greater than `thinking.budget_tokens`."),
        }
    }
}

/// `{"type":"error","error":{"type","message"},"request_id"}`: the shape of every Anthropic error, refusals and
/// scripted error replies alike (the `request_id` also goes out as the `request-id` header).
pub(super) fn error_json(error_type: &str, message: &str, request_id: &str) -> Value {
    json!({
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    })
}
