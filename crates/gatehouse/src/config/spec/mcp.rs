//! The `mcp:` section: the MCP gateway at `/mcp` (a fixed path, like the LLM routes) in front of several upstream
//! MCP servers.
//!
//! Kept in its own file so the LLM sections and this one evolve independently. Validation (names, URLs, commands,
//! key) is in `validate/mcp.rs`; the runtime form is `crate::mcp::McpSettings`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretSpec;
use crate::config::units::{ByteSize, HumanDuration};

/// The MCP gateway.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpSpec {
    /// Where the endpoint is served. The route is mounted once at start, so the only value is `/mcp` (the default);
    /// the field exists so configs that spell it out are accepted, and anything else is refused rather than ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Key sealing session tokens (AES-256-GCM): 32 bytes written as 64 hex characters. Replicas sharing it serve each
    /// other's sessions. Unset: a random key per process (sessions then do not survive a restart or another replica).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<SecretSpec>,
    /// How tool and prompt names and resource URIs are exposed (default `prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<NamesSpec>,
    /// Largest accepted client message (default 4MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<ByteSize>,
    /// Browser `Origin` values allowed besides loopback ones (`http://localhost:*`, `http://127.0.0.1:*`). A request
    /// with any other `Origin` is refused with 403 (DNS-rebinding protection). Requests without `Origin` are allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// When set, the `Host` header must be one of these (`host` or `host:port`); otherwise any host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
    /// Most stdio children / legacy SSE connections per upstream on one replica (default 64). At the cap the least
    /// recently used idle one is stopped (its session re-creates it when next used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pipes_per_upstream: Option<usize>,
    /// Longest wait for one upstream answer (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<HumanDuration>,
    /// Most sets of upstream sessions held for stateless (2026-07-28) clients on one replica (default 1024). At the
    /// cap the least recently used idle set is ended upstream (DELETE, stdio children stopped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stateless_sessions: Option<usize>,
    /// How long upstream sessions held for a stateless client may stay unused before they are ended upstream
    /// (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateless_idle_ttl: Option<HumanDuration>,
    /// How long a stateless client's call that answered `input_required` waits for the client's retry (default 60s;
    /// at most `request_timeout`, the parked upstream stream's idle limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateless_input_timeout: Option<HumanDuration>,
    /// Most stateless clients' calls waiting for an `input_required` retry on one replica (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stateless_parked_calls: Option<usize>,
    /// Caller authentication (absent: no authentication, every caller is `anonymous`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<McpAuthSpec>,
    /// Who may see and use which tools, prompts and resources, from token claims. Denied items are left out of lists
    /// and calls to them get a JSON-RPC error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization: Vec<AuthzRuleSpec>,
    /// Access to items no rule names (default `allow`; `deny` makes the rules a strict allow-list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_default: Option<AccessSpec>,
    /// Per-caller rate limit (caller = JWT `sub`, else the client address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<McpRateLimitSpec>,
    /// The upstream MCP servers, by name (`[a-zA-Z0-9-]{1,32}`: the name is the prefix of their tools).
    #[serde(default)]
    pub upstreams: BTreeMap<String, McpUpstreamSpec>,
}

/// The HTTP transport of an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpTransportSpec {
    /// Streamable HTTP (2025-03-26 and later).
    StreamableHttp,
    /// HTTP+SSE (2024-11-05, deprecated).
    Sse,
}

/// Name exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NamesSpec {
    /// `{upstream}_{name}` for tools and prompts, `{upstream}+{uri}` for resources.
    Prefix,
    /// Unchanged; only with exactly one upstream.
    Passthrough,
}

/// One upstream MCP server: exactly one of `url` (Streamable HTTP) or `command` (stdio child process).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpUpstreamSpec {
    /// Streamable HTTP endpoint, e.g. `http://127.0.0.1:3001/mcp` (or, with `transport: sse`, the legacy SSE URL such
    /// as `http://127.0.0.1:3001/sse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// How `url` is spoken: `streamable_http` (default) or `sse` (the deprecated HTTP+SSE transport of 2024-11-05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<HttpTransportSpec>,
    /// Static headers sent to an HTTP upstream (e.g. its own `Authorization`); values are secrets. The client's own
    /// credential is never forwarded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, SecretSpec>,
    /// stdio child process: program and arguments. Only the config chooses what runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Environment of the child (the gateway's own environment is not inherited, except `PATH` and `HOME`). Values
    /// are shown redacted on `/config`, as they often carry the child's credentials.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "redacted_values"
    )]
    pub env: BTreeMap<String, String>,
}

/// How `/mcp` authenticates callers, and the OAuth protected-resource metadata (RFC 9728) it publishes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpAuthSpec {
    /// JWT bearer validation.
    pub jwt: super::auth::JwtSpec,
    /// This endpoint's public URL as clients reach it, e.g. `https://gateway.example/mcp`: the `resource` of the
    /// metadata, and the base of the metadata URL in `WWW-Authenticate`.
    pub resource: String,
    /// Authorization servers listed in the metadata (default: the JWT issuer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Scopes listed in the metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
}

/// One authorization rule: the items it covers are allowed when its condition holds.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthzRuleSpec {
    /// The items, by the names clients see (`everything_echo`, `everything_*`, `everything+demo://*`).
    pub allow: AuthzItemsSpec,
    /// The condition on the caller's claims (absent: always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<ClaimConditionSpec>,
}

/// Items a rule covers; `*` at the end (or start) of a pattern matches any suffix (or prefix).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthzItemsSpec {
    /// Tool names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Prompt names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<String>,
    /// Resource URIs (and URI templates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// A test on one claim (dotted path for nested claims, e.g. `realm_access.roles`). Exactly one of `equals` or
/// `contains`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimConditionSpec {
    /// The claim.
    pub claim: String,
    /// The claim is this string (or number written as a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The claim is an array holding this string, or a space-separated string (like `scope`) holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessSpec {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
}

/// A GCRA (token bucket) limit on `/mcp` requests.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpRateLimitSpec {
    /// What one bucket counts (default `caller`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<RateKeySpec>,
    /// Sustained rate.
    pub requests_per_second: f64,
    /// Requests allowed at once.
    pub burst: u32,
}

/// The bucket key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateKeySpec {
    /// One bucket per caller.
    Caller,
    /// One bucket per caller and tool (`tools/call`; other methods count per caller).
    CallerAndTool,
}

/// Serializes a map's keys with every value replaced by `<redacted>`.
fn redacted_values<S: serde::Serializer>(map: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(map.len()))?;
    for k in map.keys() {
        m.serialize_entry(k, "<redacted>")?;
    }
    m.end()
}
