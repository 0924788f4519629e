//! Multi-round-trip requests (MRTR, 2026-07-28) over session-era upstreams, with no I/O.
//!
//! A stateless client cannot be sent a server→client request. When a session-era upstream asks one
//! (`sampling/createMessage`, `elicitation/create`, `roots/list`) while a `tools/call`, `prompts/get` or
//! `resources/read` runs, the gateway answers the client's HTTP request with an `input_required` result
//! ([`input_required_result`]) and parks the still-open upstream call. The client retries the same method with a new
//! id, `inputResponses` (one result per key of `inputRequests`) and the echoed `requestState`; the gateway matches the
//! retry to the parked call ([`StateClaims::check`]) and hands the client's results to the upstream under the
//! upstream's own request ids.
//!
//! This module holds the pure parts:
//! - [`split_retry`]: the retry fields taken out of the params (upstreams never see them);
//! - [`binding`]: the canonical bytes a parked call is bound to (method, name or URI, arguments), hashed by the
//!   server crate;
//! - [`StateClaims`]: the plaintext of the sealed `requestState` (sealing is AEAD in the server crate), checked against
//!   the retry with an injected clock;
//! - [`input_required_result`]: the result shape sent to the client.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::McpError;
use crate::envelope::to_raw;

/// The server→client requests an `input_required` result may carry (2026-07-28 `InputRequest`).
pub const INPUT_METHODS: &[&str] = &["sampling/createMessage", "elicitation/create", "roots/list"];

/// The methods whose result may be `input_required`.
pub const INTERACTIVE_METHODS: &[&str] = &["tools/call", "prompts/get", "resources/read"];

/// Params key of a retry: the client's results, keyed like `inputRequests`.
pub const INPUT_RESPONSES_KEY: &str = "inputResponses";
/// Params key of a retry: the echoed opaque state.
pub const REQUEST_STATE_KEY: &str = "requestState";

/// Version of [`StateClaims`].
pub const STATE_VERSION: u8 = 1;
/// The largest `requestState` plaintext accepted (they are small: an id, a principal and a digest).
pub const MAX_STATE_BYTES: usize = 2048;
/// Most input requests one `input_required` result carries (further ones stay queued for the next round).
pub const MAX_INPUT_REQUESTS: usize = 16;

/// Whether a server→client request can be carried by an `input_required` result.
#[must_use]
pub fn is_input_method(method: &str) -> bool {
    INPUT_METHODS.contains(&method)
}

/// What a retry carries besides the original request.
#[derive(Debug, Clone, Default)]
pub struct RetryFields {
    /// `inputResponses`: one raw result per input-request key.
    pub input_responses: BTreeMap<String, Box<RawValue>>,
    /// `requestState`, as echoed.
    pub request_state: Option<String>,
}

/// Takes `inputResponses` and `requestState` out of request params: returns the params as the original request had
/// them (every other field keeps its raw bytes) and the retry fields. `inputResponses` must be an object of objects
/// and `requestState` a string.
pub fn split_retry(params: &RawValue) -> Result<(Box<RawValue>, RetryFields), McpError> {
    let mut map: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_str(params.get()).map_err(|_| McpError::InvalidParams("params must be an object".into()))?;
    let mut fields = RetryFields::default();
    let responses = map.remove(INPUT_RESPONSES_KEY);
    let state = map.remove(REQUEST_STATE_KEY);
    if responses.is_none() && state.is_none() {
        return Ok((params.to_owned(), fields));
    }
    if let Some(r) = responses.filter(|r| r.get() != "null") {
        let each: BTreeMap<String, Box<RawValue>> = serde_json::from_str(r.get())
            .map_err(|_| McpError::InvalidParams(format!("`{INPUT_RESPONSES_KEY}` must be an object")))?;
        if let Some((k, _)) = each.iter().find(|(_, v)| !v.get().trim_start().starts_with('{')) {
            return Err(McpError::InvalidParams(format!(
                "`{INPUT_RESPONSES_KEY}.{k}` must be a result object"
            )));
        }
        fields.input_responses = each;
    }
    if let Some(s) = state.filter(|s| s.get() != "null") {
        let s: String = serde_json::from_str(s.get())
            .map_err(|_| McpError::InvalidParams(format!("`{REQUEST_STATE_KEY}` must be a string")))?;
        fields.request_state = Some(s);
    }
    Ok((to_raw(&map)?, fields))
}

/// The canonical bytes a parked call is bound to: the method, the name (`tools/call`, `prompts/get`) or URI
/// (`resources/read`) and the arguments, with object keys sorted, so a retry of the same request gives the same bytes
/// and a retry of any other request does not. `_meta` (progress tokens, trace context) is not part of the request's
/// identity.
pub fn binding(method: &str, params: Option<&RawValue>) -> Result<Vec<u8>, McpError> {
    #[derive(Deserialize)]
    struct P {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        uri: Option<String>,
        #[serde(default)]
        arguments: Option<Value>,
    }
    let p: P = match params {
        Some(p) => serde_json::from_str(p.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?,
        None => P {
            name: None,
            uri: None,
            arguments: None,
        },
    };
    // A serde_json Value map is a BTreeMap (no `preserve_order`), so serializing it sorts the keys at every level.
    let canonical = serde_json::json!([method, p.name, p.uri, p.arguments]);
    serde_json::to_vec(&canonical).map_err(|e| McpError::InvalidParams(e.to_string()))
}

/// The plaintext sealed into `requestState`: which parked call it names, whose it is, what request it belongs to,
/// and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateClaims {
    /// [`STATE_VERSION`].
    pub v: u8,
    /// The parked call's id on the replica that holds it.
    pub park: String,
    /// The principal that started the call.
    pub principal: String,
    /// The method of the call.
    pub method: String,
    /// Digest of [`binding`] (hex).
    pub binding: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub exp_ms: u64,
}

/// Why a `requestState` does not fit the retry that echoed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// It does not decode (or was not sealed by this deployment).
    #[error("requestState is not valid")]
    Invalid,
    /// Another principal's.
    #[error("requestState belongs to another principal")]
    Foreign,
    /// Issued for another method, name or arguments.
    #[error("requestState was issued for a different request")]
    Mismatch,
    /// Past its expiry.
    #[error("requestState has expired")]
    Expired,
    /// Valid, but the call it names is not held by the replica that got the retry (another replica holds it, or it
    /// already ended).
    #[error("the call this requestState names is not waiting here (another replica, or it ended)")]
    NotHeld,
}

// === impl StateError ===

impl StateError {
    /// The stable code string for logs, metrics and `error.data.code`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid => "mcp_request_state_invalid",
            Self::Foreign => "mcp_request_state_foreign",
            Self::Mismatch => "mcp_request_state_mismatch",
            Self::Expired => "mcp_request_state_expired",
            Self::NotHeld => "mcp_request_state_not_held",
        }
    }
}

// === impl StateClaims ===

impl StateClaims {
    /// Serializes the claims (bounded by [`MAX_STATE_BYTES`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, StateError> {
        let b = serde_json::to_vec(self).map_err(|_| StateError::Invalid)?;
        if b.len() > MAX_STATE_BYTES {
            return Err(StateError::Invalid);
        }
        Ok(b)
    }

    /// Reads claims that were sealed by [`Self::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, StateError> {
        if b.len() > MAX_STATE_BYTES {
            return Err(StateError::Invalid);
        }
        let c: Self = serde_json::from_slice(b).map_err(|_| StateError::Invalid)?;
        if c.v != STATE_VERSION {
            return Err(StateError::Invalid);
        }
        Ok(c)
    }

    /// Whether these claims fit a retry by `principal` of `method` with `binding`, at `now_ms`. Checked in this
    /// order: principal, request, expiry (so another principal learns nothing about the call).
    pub fn check(&self, principal: &str, method: &str, binding: &str, now_ms: u64) -> Result<(), StateError> {
        if self.principal != principal {
            return Err(StateError::Foreign);
        }
        if self.method != method || self.binding != binding {
            return Err(StateError::Mismatch);
        }
        if now_ms >= self.exp_ms {
            return Err(StateError::Expired);
        }
        Ok(())
    }
}

/// One input request for the client: `{method, params}` (an MRTR `InputRequest` has no JSON-RPC id).
pub fn input_request(method: &str, params: Option<&RawValue>) -> Result<Box<RawValue>, McpError> {
    let mut m: Map<String, Value> = Map::new();
    m.insert("method".into(), Value::String(method.to_string()));
    if let Some(p) = params {
        let v: Value = serde_json::from_str(p.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
        m.insert("params".into(), v);
    }
    to_raw(&m)
}

/// The `input_required` result: `{resultType: "input_required", inputRequests: {key: request}, requestState}`.
pub fn input_required_result(requests: &[(String, Box<RawValue>)], state: &str) -> Result<Box<RawValue>, McpError> {
    let inputs: BTreeMap<&str, &RawValue> = requests.iter().map(|(k, r)| (k.as_str(), &**r)).collect();
    #[derive(Serialize)]
    struct R<'a> {
        #[serde(rename = "resultType")]
        result_type: &'static str,
        #[serde(rename = "inputRequests")]
        input_requests: BTreeMap<&'a str, &'a RawValue>,
        #[serde(rename = "requestState")]
        request_state: &'a str,
    }
    to_raw(&R {
        result_type: "input_required",
        input_requests: inputs,
        request_state: state,
    })
}

#[cfg(test)]
mod tests;
