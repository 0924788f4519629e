//! A client's request body in, the translated upstream body out: the same error classes and the same buffer
//! sizing for every translator.

use serde::{Deserialize, Serialize};

use crate::LlmError;

/// Reads a client's JSON body (returned with its text, which sizes the translated body): not UTF-8 or not JSON is
/// [`LlmError::InvalidJson`], JSON of the wrong shape is [`LlmError::InvalidRequest`] (see [`json_error`]).
pub(crate) fn parse_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<(&'a str, T), LlmError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| LlmError::invalid_json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let value = serde_json::from_str(text).map_err(json_error)?;
    Ok((text, value))
}

/// A `serde_json` error about a client's body: a value of the wrong shape is the client's invalid request (the
/// message names the field), anything else is invalid JSON.
pub(crate) fn json_error(e: serde_json::Error) -> LlmError {
    match e.classify() {
        serde_json::error::Category::Data => LlmError::invalid_request(e.to_string()),
        _ => LlmError::invalid_json(e.to_string()),
    }
}

/// Serialises the translated request; `input_len` (the client's body size) sizes the buffer, since the
/// translation is about as long. `what` names the failure, which only a bug could cause.
pub(crate) fn write_body<T: Serialize>(out: &T, input_len: usize, what: &'static str) -> Result<Vec<u8>, LlmError> {
    let mut body = Vec::with_capacity(input_len + 128);
    serde_json::to_writer(&mut body, out).map_err(|_| LlmError::Internal { detail: what })?;
    Ok(body)
}
