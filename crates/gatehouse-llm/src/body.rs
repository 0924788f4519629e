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
    check_surrogate_escapes(text)?;
    Ok((text, value))
}

/// Refuses `\u` escapes of lone UTF-16 surrogates (a high half not directly followed by a low half, or a low half
/// alone). JSON's grammar admits them, but they encode no character: serde_json and most upstreams refuse them
/// when they decode the string, while the translators copy some values (tool schemas, call arguments) through
/// unparsed — without this check such a body would be forwarded as something the upstream cannot read. Only the
/// bytes after backslashes are looked at (outside strings a backslash is already a syntax error).
fn check_surrogate_escapes(text: &str) -> Result<(), LlmError> {
    let b = text.as_bytes();
    let lone = |at: usize| LlmError::invalid_json(format!("lone UTF-16 surrogate escape at byte {at}"));
    // Where a high surrogate's low half must start.
    let mut need_low_at: Option<usize> = None;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + off;
        let unit = (b.get(at + 1) == Some(&b'u'))
            .then(|| b.get(at + 2..at + 6))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        match unit {
            Some(0xDC00..=0xDFFF) if need_low_at == Some(at) => need_low_at = None,
            Some(0xDC00..=0xDFFF) => return Err(lone(at)),
            _ => {
                if let Some(low) = need_low_at {
                    return Err(lone(low - 6));
                }
                if let Some(0xD800..=0xDBFF) = unit {
                    need_low_at = Some(at + 6);
                }
            }
        }
        i = at + if unit.is_some() { 6 } else { 2 };
        if i >= b.len() {
            break;
        }
    }
    match need_low_at {
        Some(at) => Err(lone(at - 6)),
        None => Ok(()),
    }
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

#[cfg(test)]
mod tests;
