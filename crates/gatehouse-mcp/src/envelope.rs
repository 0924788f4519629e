//! The JSON-RPC 2.0 envelope, read by borrowing from the message bytes.
//!
//! Only `jsonrpc`, `id` and `method` are decoded; `params`, `result` and `error` stay `&RawValue`, so a message the
//! gateway forwards keeps every field byte for byte, including ones this code has never heard of. The few `params`
//! fields routing needs (`name`, `uri`, `cursor`, `_meta.progressToken`) are read by [`Params::read`], and a rewrite
//! touches only the one field it changes ([`replace_param`]).
//!
//! Invariants: a parsed message is exactly one of request (method + id), notification (method, no id) or response
//! (id + exactly one of result/error); ids are strings or integers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::McpError;

/// JSON-RPC error codes the gateway uses.
pub mod codes {
    /// Invalid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad params, unknown tool/prompt/resource, bad cursor.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Our own failure.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Implementation-defined server error: an upstream is unavailable, a policy refused the call.
    pub const SERVER_ERROR: i64 = -32000;
}

/// One JSON-RPC message, borrowed from its bytes.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// A call that expects a response.
    Request {
        /// The caller's id, raw (string or integer).
        id: &'a RawValue,
        /// The method.
        method: &'a str,
        /// The params, raw; `None` when absent.
        params: Option<&'a RawValue>,
    },
    /// A one-way message.
    Notification {
        /// The method.
        method: &'a str,
        /// The params, raw.
        params: Option<&'a RawValue>,
    },
    /// An answer to a request.
    Response {
        /// The id of the request it answers (`None` only for an error about an unreadable request).
        id: Option<&'a RawValue>,
        /// `Ok(result)` or `Err(error)`, raw.
        outcome: Result<&'a RawValue, &'a RawValue>,
    },
}

/// What a POST body held: one message, or a batch.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// One message.
    Single(Message<'a>),
    /// A JSON array of messages (allowed only in 2025-03-26).
    Batch(Vec<Message<'a>>),
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    method: Option<&'a str>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// The routing-relevant fields of a request's `params`; everything else is left raw.
#[derive(Debug, Default, Deserialize)]
pub struct Params<'a> {
    /// `tools/call`, `prompts/get`: the tool or prompt name.
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// `resources/read`, `resources/subscribe`: the resource URI.
    #[serde(default, borrow)]
    pub uri: Option<Cow<'a, str>>,
    /// `*/list`: the pagination cursor.
    #[serde(default, borrow)]
    pub cursor: Option<Cow<'a, str>>,
    /// `_meta`, raw (progress token, trace context).
    #[serde(default, borrow, rename = "_meta")]
    pub meta: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct OutRequest<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct OutNotification<'a> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct OutResult<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: &'a RawValue,
}

#[derive(Serialize)]
struct OutError<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RawValue>,
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
}

// === parsing ===

/// Parses one POST body or stdio line: a message or a batch. Nesting depth is bounded by serde_json (128).
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, McpError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let items: Vec<Wire<'_>> =
            serde_json::from_slice(bytes).map_err(|e| McpError::InvalidMessage(e.to_string()))?;
        if items.is_empty() {
            return Err(McpError::InvalidMessage("empty batch".into()));
        }
        return items
            .into_iter()
            .map(classify)
            .collect::<Result<_, _>>()
            .map(Parsed::Batch);
    }
    let wire: Wire<'_> = serde_json::from_slice(bytes).map_err(|e| McpError::InvalidMessage(e.to_string()))?;
    classify(wire).map(Parsed::Single)
}

/// Parses exactly one message (batches refused).
pub fn parse_one(bytes: &[u8]) -> Result<Message<'_>, McpError> {
    match parse(bytes)? {
        Parsed::Single(m) => Ok(m),
        Parsed::Batch(_) => Err(McpError::BatchNotAllowed),
    }
}

fn classify(w: Wire<'_>) -> Result<Message<'_>, McpError> {
    if w.jsonrpc != "2.0" {
        return Err(McpError::InvalidMessage(format!(
            "`jsonrpc` must be \"2.0\", got {:?}",
            w.jsonrpc
        )));
    }
    if let Some(id) = w.id {
        check_id(id)?;
    }
    match (w.method, w.id, w.result, w.error) {
        (Some(method), Some(id), None, None) => Ok(Message::Request {
            id,
            method,
            params: w.params,
        }),
        (Some(method), None, None, None) => Ok(Message::Notification {
            method,
            params: w.params,
        }),
        (None, id, Some(result), None) if id.is_some() && w.params.is_none() => Ok(Message::Response {
            id,
            outcome: Ok(result),
        }),
        (None, id, None, Some(error)) if w.params.is_none() => Ok(Message::Response {
            id,
            outcome: Err(error),
        }),
        _ => Err(McpError::InvalidMessage(
            "expected a request (method + id), a notification (method) or a response (id + result or error)".into(),
        )),
    }
}

/// Ids are strings or integers (MCP forbids null ids on requests; fractions are not integers).
fn check_id(id: &RawValue) -> Result<(), McpError> {
    let s = id.get();
    let ok = s.starts_with('"') || (!s.is_empty() && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(McpError::InvalidMessage(format!(
            "`id` must be a string or an integer, got {s}"
        )))
    }
}

// === impl Message ===

impl<'a> Message<'a> {
    /// The method of a request or notification.
    #[must_use]
    pub fn method(&self) -> Option<&'a str> {
        match self {
            Self::Request { method, .. } | Self::Notification { method, .. } => Some(method),
            Self::Response { .. } => None,
        }
    }

    /// The params of a request or notification.
    #[must_use]
    pub fn params(&self) -> Option<&'a RawValue> {
        match self {
            Self::Request { params, .. } | Self::Notification { params, .. } => *params,
            Self::Response { .. } => None,
        }
    }

    /// The id of a request or response.
    #[must_use]
    pub fn id(&self) -> Option<&'a RawValue> {
        match self {
            Self::Request { id, .. } => Some(id),
            Self::Response { id, .. } => *id,
            Self::Notification { .. } => None,
        }
    }
}

// === impl Params ===

impl<'a> Params<'a> {
    /// Reads the routing fields of `params`; absent params read as empty.
    pub fn read(params: Option<&'a RawValue>) -> Result<Self, McpError> {
        match params {
            None => Ok(Self::default()),
            Some(p) => serde_json::from_str(p.get()).map_err(|e| McpError::InvalidParams(e.to_string())),
        }
    }

    /// `_meta.progressToken`, raw, when the requester asked for progress.
    #[must_use]
    pub fn progress_token(&self) -> Option<Box<RawValue>> {
        #[derive(Deserialize)]
        struct Meta {
            #[serde(rename = "progressToken")]
            token: Option<Box<RawValue>>,
        }
        let meta: Meta = serde_json::from_str(self.meta?.get()).ok()?;
        meta.token
    }
}

// === building ===

/// Replaces (or adds) one top-level field of a params object, keeping every other field's raw bytes.
pub fn replace_param(params: &RawValue, key: &str, value: &str) -> Result<Box<RawValue>, McpError> {
    let mut map: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_str(params.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    let encoded = to_raw(&value)?;
    map.insert(Cow::Borrowed(key), &encoded);
    let out = serde_json::to_string(&map).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    RawValue::from_string(out).map_err(|e| McpError::InvalidParams(e.to_string()))
}

/// Replaces (or adds) one top-level field of a params object with a raw JSON value, keeping every other field's raw
/// bytes.
pub fn replace_param_raw(params: &RawValue, key: &str, value: &RawValue) -> Result<Box<RawValue>, McpError> {
    let mut map: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_str(params.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    map.insert(Cow::Borrowed(key), value);
    let out = serde_json::to_string(&map).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    RawValue::from_string(out).map_err(|e| McpError::InvalidParams(e.to_string()))
}

/// Serializes a request.
#[must_use]
pub fn request(id: &RawValue, method: &str, params: Option<&RawValue>) -> String {
    serde_json::to_string(&OutRequest {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
    .unwrap_or_default()
}

/// Serializes a notification.
#[must_use]
pub fn notification(method: &str, params: Option<&RawValue>) -> String {
    serde_json::to_string(&OutNotification {
        jsonrpc: "2.0",
        method,
        params,
    })
    .unwrap_or_default()
}

/// Serializes a success response.
#[must_use]
pub fn result(id: &RawValue, result: &RawValue) -> String {
    serde_json::to_string(&OutResult {
        jsonrpc: "2.0",
        id,
        result,
    })
    .unwrap_or_default()
}

/// Serializes an error response; `id` is `None` (JSON `null`) only when the request's id is unknown.
#[must_use]
pub fn error(id: Option<&RawValue>, code: i64, message: &str, data: Option<&RawValue>) -> String {
    serde_json::to_string(&OutError {
        jsonrpc: "2.0",
        id,
        error: ErrorObject { code, message, data },
    })
    .unwrap_or_default()
}

/// Serializes any value as a raw JSON value.
pub fn to_raw<T: Serialize + ?Sized>(v: &T) -> Result<Box<RawValue>, McpError> {
    serde_json::value::to_raw_value(v).map_err(|e| McpError::InvalidMessage(e.to_string()))
}

#[cfg(test)]
mod tests;
