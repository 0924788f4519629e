//! What the server's response store keeps between turns, in the Responses API's own item shapes.
//!
//! A stored conversation is a list of items (JSON values): the request's `input` items (see [`input_items`]),
//! then the response's `output` items (`TranslatedResponse::output_items`, `ResponseStreamTranslator::output_items`),
//! then the next turn's, and so on. The next request with `previous_response_id` passes the whole list as
//! [`RequestOptions::history`](super::RequestOptions::history); `instructions` are not part of it (the API says
//! a new request's `instructions` replace the old ones).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::LlmError;

#[derive(Deserialize)]
struct InputOnly {
    #[serde(default)]
    input: Option<Value>,
}

/// The `input` of a Responses request body as a list of items: a string becomes one user `message` item with an
/// `input_text` part; an array is returned item by item, unchanged.
///
/// # Errors
///
/// [`LlmError::InvalidJson`] when the body is not JSON; [`LlmError::InvalidRequest`] when `input` is missing or
/// neither a string nor an array.
pub fn input_items(responses_body: &[u8]) -> Result<Vec<Value>, LlmError> {
    let body: InputOnly = serde_json::from_slice(responses_body).map_err(crate::body::json_error)?;
    match body.input {
        Some(Value::String(text)) => Ok(vec![json!({
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        })]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(LlmError::invalid_request("`input` must be a string or a list of items")),
        None => Err(LlmError::invalid_request("`input` is required")),
    }
}
