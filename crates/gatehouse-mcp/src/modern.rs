//! The stateless 2026-07-28 era ("modern" in the spec's words): every request carries its own envelope
//! (`params._meta` with the protocol version and the client's capabilities), and the HTTP headers
//! `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` mirror the body so intermediaries can route without reading it.
//! There is no `initialize`, no session and no server→client request (an upstream's becomes an `input_required`
//! result, [`crate::mrtr`]).
//!
//! This module is the gateway's reading of that era, with no I/O:
//! - [`RoutingHeaders::collect`] + [`classify`]: the validation ladder of a modern request, in the spec's order
//!   (duplicated routing header → envelope present → headers match the body → version served), each failure a
//!   [`Rejection`] carrying the JSON-RPC code the spec names and the HTTP status it maps to ([`http_status`]);
//! - [`upstream_init`]: the `initialize` params the gateway opens session-era upstream sessions with on the client's
//!   behalf (the envelope's capabilities minus those no request of this era can carry);
//! - [`strip_envelope`]: the request params as a session-era upstream should see them (envelope keys removed);
//! - [`stamp_result`] and [`discover_result`]: results as the modern wire requires them (`resultType`, and
//!   `ttlMs`/`cacheScope` on cacheable results).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::McpError;
use crate::envelope::{codes, to_raw};

/// The stateless protocol versions served, newest first.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];

/// `_meta` key: the protocol version of this request.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key: the client's capabilities (required).
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key: the client's name and version (optional, SHOULD be sent).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key: the log level the client opts into for this request.
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key of a `server/discover` result: the server's name and version.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// The envelope keys a session-era upstream must not see (they are the modern client's, not the gateway's).
const ENVELOPE_KEYS: &[&str] = &[
    PROTOCOL_VERSION_KEY,
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
];

/// Client capabilities never offered to a session-era upstream for a modern client. `sampling` and `elicitation` are
/// offered: an upstream's request for them arrives on a call's stream and becomes an `input_required` result
/// ([`crate::mrtr`]). `roots` is not: session-era upstreams ask for roots outside any call (server-everything on its
/// standalone stream), where no client request is waiting to carry it. `tasks` (client-side tasks) has no carrier
/// in this era.
pub const BACK_CHANNEL_CAPABILITIES: &[&str] = &["roots", "tasks"];

/// `Mcp-Param-*` headers against a tool's `x-mcp-header` annotations.
pub mod params;

/// Modern error codes (2026-07-28 `basic/index.mdx`, `transports/streamable-http.mdx`).
pub mod errors {
    /// A routing header is missing, duplicated, or disagrees with the body.
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability the envelope does not declare.
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// The envelope's protocol version is not served; `data.supported` lists those that are.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// The HTTP status a modern error answer is sent with; `None` for codes the spec gives none (sent with 200).
#[must_use]
pub fn http_status(code: i64) -> Option<u16> {
    match code {
        codes::PARSE_ERROR
        | codes::INVALID_REQUEST
        | codes::INVALID_PARAMS
        | errors::HEADER_MISMATCH
        | errors::MISSING_REQUIRED_CLIENT_CAPABILITY
        | errors::UNSUPPORTED_PROTOCOL_VERSION => Some(400),
        codes::METHOD_NOT_FOUND => Some(404),
        _ => None,
    }
}

/// The body field a method's `Mcp-Name` header mirrors.
#[must_use]
pub fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// Whether a request is of the stateless era: its `MCP-Protocol-Version` header names a modern version, or (header
/// absent) its body carries the modern envelope — in which case [`classify`] reports the missing header.
#[must_use]
pub fn is_modern(version_header: Option<&str>, params: Option<&RawValue>) -> bool {
    match version_header {
        Some(v) => MODERN_VERSIONS.contains(&v),
        None => params
            .and_then(|p| read_meta(p).ok().flatten())
            .is_some_and(|m| m.contains_key(PROTOCOL_VERSION_KEY)),
    }
}

/// A modern request refused before dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The JSON-RPC error code.
    pub code: i64,
    /// Why, for the client.
    pub message: String,
    /// Error data (`{supported, requested}` for an unsupported version).
    pub data: Option<String>,
}

/// The three routing headers of a modern request, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingHeaders<'a> {
    /// `MCP-Protocol-Version`.
    pub protocol: Option<&'a str>,
    /// `Mcp-Method`.
    pub method: Option<&'a str>,
    /// `Mcp-Name`, as sent (possibly `=?base64?…?=`).
    pub name: Option<&'a str>,
}

/// What a valid envelope says.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The protocol version (one of [`MODERN_VERSIONS`]).
    pub protocol: String,
    /// `clientCapabilities`, raw.
    pub capabilities: Box<RawValue>,
    /// `clientInfo`, raw, when sent.
    pub client_info: Option<Box<RawValue>>,
}

// === impl RoutingHeaders ===

impl<'a> RoutingHeaders<'a> {
    /// Picks the routing headers out of raw header lines (names case-insensitive). A routing header sent twice is a
    /// mismatch (first-copy and last-copy readers would disagree); a value that is not visible ASCII can never match
    /// a body and is kept as an empty string so the comparison fails.
    pub fn collect<I>(lines: I) -> Result<Self, Rejection>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let mut out = Self::default();
        for (name, value) in lines {
            let slot = if name.eq_ignore_ascii_case("mcp-protocol-version") {
                &mut out.protocol
            } else if name.eq_ignore_ascii_case("mcp-method") {
                &mut out.method
            } else if name.eq_ignore_ascii_case("mcp-name") {
                &mut out.name
            } else {
                continue;
            };
            if slot.is_some() {
                return Err(mismatch(&format!(
                    "{} header appears more than once",
                    name.to_ascii_lowercase()
                )));
            }
            *slot = Some(std::str::from_utf8(value).unwrap_or(""));
        }
        Ok(out)
    }
}

// === the ladder ===

/// Validates a modern request against its headers, in the spec's order: the envelope (`params._meta` with the
/// protocol version and client capabilities) → `-32602`; the headers mirroring version, method and name → `-32020`;
/// the version served → `-32022` with `data.supported` (all of `served`, so a dual-era client can fall back).
pub fn classify(
    method: &str,
    params: Option<&RawValue>,
    headers: &RoutingHeaders<'_>,
    served: &[&str],
) -> Result<Envelope, Rejection> {
    let meta = params.map(read_meta).transpose().ok().flatten().flatten();
    let Some(meta) = meta else {
        return Err(invalid_params(format!(
            "params._meta must be an object carrying the required `{PROTOCOL_VERSION_KEY}` and \
             `{CLIENT_CAPABILITIES_KEY}` envelope keys"
        )));
    };
    let missing: Vec<&str> = [PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY]
        .into_iter()
        .filter(|k| !meta.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(invalid_params(format!(
            "params._meta is missing the required envelope key(s): {}",
            missing.join(", ")
        )));
    }
    let version: Option<String> = meta
        .get(PROTOCOL_VERSION_KEY)
        .and_then(|v| serde_json::from_str::<String>(v.get()).ok());
    if headers.protocol.is_none() || headers.protocol != version.as_deref() {
        return Err(mismatch(
            "mcp-protocol-version header does not match the request envelope's protocol version",
        ));
    }
    if headers.method != Some(method) {
        return Err(mismatch("mcp-method header does not match the request body's method"));
    }
    if let Some(field) = name_field(method) {
        let body: Option<String> = params.and_then(|p| read_field(p, field));
        if let Some(body) = body
            && headers.name.and_then(decode_header_value).as_deref() != Some(body.as_str())
        {
            return Err(mismatch(&format!(
                "mcp-name header does not match the request body's `{field}` parameter"
            )));
        }
    }
    // The header matched, so the version is a string.
    let version = version.unwrap_or_default();
    if !MODERN_VERSIONS.contains(&version.as_str()) {
        return Err(unsupported(&version, served));
    }
    let capabilities = meta
        .get(CLIENT_CAPABILITIES_KEY)
        .map(|c| (*c).to_owned())
        .ok_or_else(|| invalid_params("clientCapabilities missing".into()))?;
    if !capabilities.get().trim_start().starts_with('{') {
        return Err(invalid_params(format!("`{CLIENT_CAPABILITIES_KEY}` must be an object")));
    }
    Ok(Envelope {
        protocol: version,
        capabilities,
        client_info: meta.get(CLIENT_INFO_KEY).map(|c| (*c).to_owned()),
    })
}

/// The `-32022` rejection for a version this gateway does not serve.
#[must_use]
pub fn unsupported(requested: &str, served: &[&str]) -> Rejection {
    let data = serde_json::json!({ "supported": served, "requested": requested });
    Rejection {
        code: errors::UNSUPPORTED_PROTOCOL_VERSION,
        message: "Unsupported protocol version".into(),
        data: Some(data.to_string()),
    }
}

/// Inverse of the spec's header encoding: a value is taken verbatim unless it is `=?base64?<payload>?=`, whose
/// payload is canonical standard base64 of UTF-8. A malformed sentinel is `None`, so it never matches a body value.
#[must_use]
pub fn decode_header_value(v: &str) -> Option<String> {
    let Some(payload) = v.strip_prefix("=?base64?").and_then(|r| r.strip_suffix("?=")) else {
        return Some(v.to_string());
    };
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(payload).ok()?;
    // Canonical only (no stray trailing bits), as the encoder emits.
    if engine.encode(&bytes) != payload {
        return None;
    }
    String::from_utf8(bytes).ok()
}

// === towards session-era upstreams ===

/// The `initialize` params the gateway opens upstream sessions with for a modern client: `protocol` (a session-era
/// version), the envelope's capabilities without [`BACK_CHANNEL_CAPABILITIES`], and its `clientInfo` (or a
/// placeholder naming the gateway when the client sent none). Serialized with sorted keys, so equal envelopes give
/// equal bytes.
pub fn upstream_init(envelope: &Envelope, protocol: &str) -> Result<Box<RawValue>, McpError> {
    let mut caps: BTreeMap<String, Value> = serde_json::from_str(envelope.capabilities.get())
        .map_err(|_| McpError::InvalidParams("client capabilities must be an object".into()))?;
    caps.retain(|k, _| !BACK_CHANNEL_CAPABILITIES.contains(&k.as_str()));
    let info: Value = match &envelope.client_info {
        Some(i) => serde_json::from_str(i.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?,
        None => serde_json::json!({ "name": "gatehouse-stateless-client", "version": "0" }),
    };
    let mut init = BTreeMap::new();
    init.insert("protocolVersion", Value::String(protocol.to_string()));
    init.insert("capabilities", serde_json::to_value(caps).unwrap_or_default());
    init.insert("clientInfo", info);
    to_raw(&init)
}

/// The params as a session-era upstream should see them: the envelope keys removed from `_meta` (and `_meta`
/// dropped when nothing else is in it); every other field keeps its raw bytes.
pub fn strip_envelope(params: &RawValue) -> Result<Box<RawValue>, McpError> {
    let mut map: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_str(params.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    let Some(meta) = map.get("_meta") else {
        return Ok(params.to_owned());
    };
    let mut meta: BTreeMap<Cow<'_, str>, &RawValue> =
        serde_json::from_str(meta.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    meta.retain(|k, _| !ENVELOPE_KEYS.contains(&k.as_ref()));
    let meta_raw;
    if meta.is_empty() {
        map.remove("_meta");
    } else {
        meta_raw = to_raw(&meta)?;
        map.insert(Cow::Borrowed("_meta"), &meta_raw);
    }
    to_raw(&map)
}

// === towards the modern client ===

/// A result as the modern wire requires it: `resultType` (`"complete"` when the upstream, being session-era, sent
/// none) and, for cacheable results (lists), `ttlMs: 0` and `cacheScope: "private"` when absent — merged, per-caller
/// filtered lists must never be shared or cached. Other fields keep their raw bytes. A non-object result is returned
/// unchanged.
pub fn stamp_result(result: &RawValue, cacheable: bool) -> Result<Box<RawValue>, McpError> {
    let Ok(mut map) = serde_json::from_str::<BTreeMap<Cow<'_, str>, &RawValue>>(result.get()) else {
        return Ok(result.to_owned());
    };
    let complete = to_raw("complete")?;
    let zero = to_raw(&0)?;
    let private = to_raw("private")?;
    map.entry(Cow::Borrowed("resultType")).or_insert(&complete);
    if cacheable {
        map.entry(Cow::Borrowed("ttlMs")).or_insert(&zero);
        map.entry(Cow::Borrowed("cacheScope")).or_insert(&private);
    }
    to_raw(&map)
}

/// The `server/discover` result: the versions served, the merged capabilities and instructions, and the server's
/// info under `_meta`; never cached or shared (the capabilities are per caller's upstream sessions).
pub fn discover_result(
    served: &[&str],
    capabilities: &Map<String, Value>,
    instructions: Option<&str>,
    server_info: &Value,
) -> Result<Box<RawValue>, McpError> {
    let mut r = Map::new();
    r.insert("resultType".into(), Value::String("complete".into()));
    r.insert(
        "supportedVersions".into(),
        serde_json::to_value(served).unwrap_or_default(),
    );
    r.insert("capabilities".into(), Value::Object(capabilities.clone()));
    if let Some(i) = instructions {
        r.insert("instructions".into(), Value::String(i.to_string()));
    }
    r.insert("_meta".into(), serde_json::json!({ SERVER_INFO_KEY: server_info }));
    r.insert("ttlMs".into(), Value::from(0));
    r.insert("cacheScope".into(), Value::String("private".into()));
    to_raw(&r)
}

// === helpers ===

/// `params._meta` as a map of raw values: `Ok(None)` when params has no `_meta` or it is not an object.
fn read_meta(params: &RawValue) -> Result<Option<BTreeMap<String, &RawValue>>, McpError> {
    #[derive(Deserialize)]
    struct P<'a> {
        #[serde(default, borrow, rename = "_meta")]
        meta: Option<&'a RawValue>,
    }
    let p: P<'_> = serde_json::from_str(params.get()).map_err(|e| McpError::InvalidParams(e.to_string()))?;
    Ok(p.meta.and_then(|m| serde_json::from_str(m.get()).ok()))
}

/// A top-level string field of params.
fn read_field(params: &RawValue, field: &str) -> Option<String> {
    let map: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(params.get()).ok()?;
    serde_json::from_str(map.get(field)?.get()).ok()
}

fn mismatch(message: &str) -> Rejection {
    Rejection {
        code: errors::HEADER_MISMATCH,
        message: message.to_string(),
        data: None,
    }
}

fn invalid_params(message: String) -> Rejection {
    Rejection {
        code: codes::INVALID_PARAMS,
        message,
        data: None,
    }
}

#[cfg(test)]
mod tests;
