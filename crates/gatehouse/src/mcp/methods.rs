//! What each MCP method does at the gateway: `initialize` fans out, lists merge, calls route to their owner.
//!
//! Failures of one upstream degrade only that upstream: a list leaves its items out (and says so in the log), a call
//! to one of its tools gets a JSON-RPC error. Authorization is applied through the `allow` callback: denied items are
//! filtered out of lists, and a call to a denied item is refused with a JSON-RPC error.

use bytes::Bytes;
use futures_util::future::join_all;
use gatehouse_mcp::cursor::Cursor;
use gatehouse_mcp::envelope::{self, Message, Params};
use gatehouse_mcp::merge::{self, ListKind, Page};
use gatehouse_mcp::session::{SessionClaims, UpstreamSession, VERSION};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::SUPPORTED_VERSIONS;
use super::error::McpFailure;
use super::settings::McpSettings;
use super::upstream;

/// The policy: may this principal see/use item `name` (the upstream's own name or URI) of upstream `target`?
pub type Allow<'a> = &'a (dyn Fn(&'static str, &str, &str) -> bool + Sync);

/// How the gateway answers one POST.
pub enum Answer {
    /// One JSON message; `session` is set on `initialize`.
    Json {
        /// The message.
        body: String,
        /// A new session token.
        session: Option<String>,
    },
    /// Messages relayed from one upstream, ending with the response.
    Stream {
        /// The messages (client ids, upstream names).
        rx: mpsc::Receiver<Bytes>,
        /// How to map them into the client's namespace.
        mapper: Mapper,
    },
}

/// Rewrites relayed messages into the client's namespace.
#[derive(Debug, Clone)]
pub struct Mapper {
    /// The upstream's index.
    pub target: usize,
    /// The method being answered.
    pub method: String,
    /// A stateless (2026-07-28) client's own id: the final response gets it back, with the modern result fields.
    pub client_id: Option<Box<RawValue>>,
}

/// `initialize`: opens a session on every upstream with the client's params and answers with the merged result and
/// a new session token.
pub async fn initialize(
    settings: &McpSettings,
    principal: &str,
    id: &RawValue,
    params: Option<&RawValue>,
) -> Result<Answer, McpFailure> {
    let mut init: Map<String, Value> = match params {
        Some(p) => serde_json::from_str(p.get())
            .map_err(|_| gatehouse_mcp::McpError::InvalidParams("initialize params must be an object".into()))?,
        None => return Err(gatehouse_mcp::McpError::InvalidParams("initialize needs params".into()).into()),
    };
    let requested = init.get("protocolVersion").and_then(Value::as_str).unwrap_or_default();
    let protocol = SUPPORTED_VERSIONS
        .iter()
        .find(|v| **v == requested)
        .unwrap_or(&SUPPORTED_VERSIONS[0])
        .to_string();
    // The client's capabilities go upstream unchanged: requests tied to a call (`sampling`, `elicitation`, and with
    // `tasks` their task-augmented forms and the `tasks/*` polls about the client's tasks) are routed on the call's
    // stream, and `roots/list` (unrelated to any call) on the client's GET stream.
    init.insert("protocolVersion".into(), Value::String(protocol.clone()));
    let init = serde_json::value::to_raw_value(&init).map_err(|_| McpFailure::SessionTooLarge)?;
    // The params live in the session token (bounded); refuse oversize ones before any upstream session is opened.
    let max_init = gatehouse_mcp::session::MAX_CLAIMS_BYTES / 2;
    if init.get().len() > max_init {
        return Err(gatehouse_mcp::McpError::InvalidParams(format!(
            "initialize params exceed {max_init} bytes (they are kept in the session token)"
        ))
        .into());
    }
    let sid = random_id()?;
    let opened = join_all((0..settings.upstreams.len()).map(|i| upstream::open(settings, i, &sid, &init))).await;

    let mut upstreams = Vec::new();
    let mut caps = Map::new();
    let mut instructions = Vec::new();
    for (up, res) in settings.upstreams.iter().zip(opened) {
        match res {
            Ok(o) => {
                merge_capabilities(&mut caps, &o.result);
                if let Some(text) = instructions_of(&o.result) {
                    instructions.push(format!("[{}]\n{text}", up.name));
                }
                upstreams.push(UpstreamSession {
                    target: up.name.clone(),
                    session: o.session,
                    protocol: Some(o.protocol),
                });
            }
            Err(e) => {
                tracing::warn!(upstream = %up.name, error = %e, "MCP upstream failed to initialise; its items are unavailable");
                upstreams.push(UpstreamSession {
                    target: up.name.clone(),
                    session: None,
                    protocol: None,
                });
            }
        }
    }
    let claims = SessionClaims {
        v: VERSION,
        sid,
        principal: principal.to_string(),
        protocol: protocol.clone(),
        init,
        upstreams,
    };
    let token = settings.key.seal(&claims)?;
    let mut result = Map::new();
    result.insert("protocolVersion".into(), Value::String(protocol));
    result.insert("capabilities".into(), Value::Object(caps));
    result.insert("serverInfo".into(), server_info());
    if !instructions.is_empty() {
        result.insert("instructions".into(), Value::String(instructions.join("\n\n")));
    }
    let result = envelope::to_raw(&result)?;
    Ok(Answer::Json {
        body: envelope::result(id, &result),
        session: Some(token),
    })
}

/// The gateway's `serverInfo` (session era) / `_meta` server info (stateless era).
#[must_use]
pub fn server_info() -> Value {
    serde_json::json!({"name": "gatehouse", "title": "gatehouse MCP gateway", "version": env!("CARGO_PKG_VERSION")})
}

/// `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`: one merged page.
pub async fn list(
    settings: &McpSettings,
    claims: &SessionClaims,
    kind: ListKind,
    id: &RawValue,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<Answer, McpFailure> {
    let p = Params::read(params)?;
    let wanted: Vec<(usize, Option<String>)> = match p.cursor.as_deref() {
        Some(c) => Cursor::decode(c)?
            .0
            .into_iter()
            .map(|(t, c)| {
                settings
                    .ns
                    .target_index(&t)
                    .map(|i| (i, Some(c)))
                    .ok_or(gatehouse_mcp::McpError::InvalidCursor)
            })
            .collect::<Result<_, _>>()?,
        None => (0..settings.upstreams.len()).map(|i| (i, None)).collect(),
    };
    let method = match kind {
        ListKind::Tools => "tools/list",
        ListKind::Prompts => "prompts/list",
        ListKind::Resources => "resources/list",
        ListKind::ResourceTemplates => "resources/templates/list",
    };
    let calls = wanted.iter().map(|(idx, cursor)| async move {
        let params = match (cursor, params) {
            (Some(c), Some(p)) => Some(envelope::replace_param(p, "cursor", c)?),
            (Some(c), None) => Some(envelope::to_raw(&serde_json::json!({ "cursor": c }))?),
            (None, p) => p.map(ToOwned::to_owned),
        };
        let rx = upstream::request(settings, claims, *idx, id, method, params.as_deref()).await?;
        let msg = upstream::final_response(upstream_name(settings, *idx), rx, settings.request_timeout).await?;
        Ok::<_, McpFailure>((*idx, msg))
    });
    let answers = join_all(calls).await;
    let mut bodies = Vec::new();
    let mut failed = 0;
    for (res, (idx, _)) in answers.into_iter().zip(&wanted) {
        match res {
            Ok(b) => bodies.push(b),
            Err(e) => {
                failed += 1;
                tracing::warn!(upstream = %upstream_name(settings, *idx), method, error = %e, "MCP upstream left out of a list");
            }
        }
    }
    if failed > 0 && bodies.is_empty() {
        return Err(McpFailure::Upstream {
            target: "*".into(),
            detail: "no upstream answered".into(),
        });
    }
    let mut pages = Vec::new();
    for (idx, body) in &bodies {
        match envelope::parse_one(body)? {
            Message::Response {
                outcome: Ok(result), ..
            } => pages.push(Page { target: *idx, result }),
            Message::Response { outcome: Err(e), .. } => {
                tracing::warn!(upstream = %upstream_name(settings, *idx), method, error = %e.get(), "MCP upstream answered a list with an error");
            }
            _ => {}
        }
    }
    let noun = kind.noun();
    let merged = merge::merge(kind, &settings.ns, &pages, &|t, name| {
        allow(noun, upstream_name(settings, t), name)
    })?;
    for (t, name) in &merged.invalid {
        tracing::warn!(upstream = %upstream_name(settings, *t), name, "MCP item left out: its prefixed name would be invalid");
    }
    Ok(Answer::Json {
        body: envelope::result(id, &merged.result),
        session: None,
    })
}

/// `tools/call`, `prompts/get`, `resources/read` (and `resources/subscribe`/`unsubscribe`): routed to the owning
/// upstream with the upstream's own name or URI.
pub async fn routed(
    settings: &McpSettings,
    claims: &SessionClaims,
    method: &str,
    id: &RawValue,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<(Answer, String, String), McpFailure> {
    let (idx, target, original) = authorize(settings, method, params, allow)?;
    let field = if method.starts_with("resources/") {
        "uri"
    } else {
        "name"
    };
    let params = params.ok_or_else(|| gatehouse_mcp::McpError::InvalidParams(format!("`{field}` is required")))?;
    let rewritten = envelope::replace_param(params, field, &original)?;
    let rx = upstream::request(settings, claims, idx, id, method, Some(&rewritten)).await?;
    Ok((
        Answer::Stream {
            rx,
            mapper: Mapper {
                target: idx,
                method: method.to_string(),
                client_id: None,
            },
        },
        target,
        original,
    ))
}

/// The owner of the item a `tools/call`, `prompts/get` or `resources/*` request names, checked against the policy:
/// `(upstream index, upstream name, the upstream's own name or URI)`.
pub fn authorize(
    settings: &McpSettings,
    method: &str,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<(usize, String, String), McpFailure> {
    let p = Params::read(params)?;
    let (noun, field, exposed) = match method {
        "tools/call" => ("tool", "name", p.name.as_deref()),
        "prompts/get" => ("prompt", "name", p.name.as_deref()),
        _ => ("resource", "uri", p.uri.as_deref()),
    };
    let exposed = exposed.ok_or_else(|| gatehouse_mcp::McpError::InvalidParams(format!("`{field}` is required")))?;
    let unknown = || gatehouse_mcp::McpError::UnknownName {
        kind: noun,
        name: exposed.to_string(),
    };
    let (idx, original) = if noun == "resource" {
        gatehouse_mcp::uri::resolve(&settings.ns, exposed)
    } else {
        settings.ns.resolve(exposed)
    }
    .ok_or_else(unknown)?;
    let target = upstream_name(settings, idx).to_string();
    if !allow(noun, &target, original) {
        return Err(McpFailure::Denied {
            kind: noun,
            name: exposed.to_string(),
        });
    }
    Ok((idx, target, original.to_string()))
}

/// `completion/complete`: routed by its reference (`ref/prompt` name, or `ref/resource` URI template) to the owning
/// upstream, with the reference in the upstream's own names; authorized like the prompt or resource itself.
pub async fn complete(
    settings: &McpSettings,
    claims: &SessionClaims,
    id: &RawValue,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<(Answer, String, String), McpFailure> {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(rename = "ref")]
        reference: Map<String, Value>,
    }
    let bad = |m: &str| McpFailure::from(gatehouse_mcp::McpError::InvalidParams(m.to_string()));
    let params = params.ok_or_else(|| bad("`ref` is required"))?;
    let mut reference = serde_json::from_str::<P>(params.get())
        .map_err(|_| bad("`ref` must be an object"))?
        .reference;
    let (noun, field) = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => ("prompt", "name"),
        Some("ref/resource") => ("resource", "uri"),
        _ => return Err(bad("`ref.type` must be `ref/prompt` or `ref/resource`")),
    };
    let exposed = reference
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad("the reference has no name or uri"))?
        .to_string();
    let (idx, original) = if noun == "resource" {
        gatehouse_mcp::uri::resolve(&settings.ns, &exposed)
    } else {
        settings.ns.resolve(&exposed)
    }
    .ok_or_else(|| gatehouse_mcp::McpError::UnknownName {
        kind: noun,
        name: exposed.clone(),
    })?;
    let target = upstream_name(settings, idx).to_string();
    if !allow(noun, &target, original) {
        return Err(McpFailure::Denied {
            kind: noun,
            name: exposed,
        });
    }
    let original = original.to_string();
    reference.insert(field.into(), Value::String(original.clone()));
    let rewritten = envelope::replace_param_raw(params, "ref", &envelope::to_raw(&reference)?)?;
    let rx = upstream::request(settings, claims, idx, id, "completion/complete", Some(&rewritten)).await?;
    Ok((
        Answer::Stream {
            rx,
            mapper: Mapper {
                target: idx,
                method: "completion/complete".into(),
                client_id: None,
            },
        },
        target,
        original,
    ))
}

/// `logging/setLevel`: sent to every upstream; answered `{}`.
pub async fn fan_out_request(
    settings: &McpSettings,
    claims: &SessionClaims,
    id: &RawValue,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Answer, McpFailure> {
    let calls = (0..settings.upstreams.len()).map(|i| async move {
        let rx = upstream::request(settings, claims, i, id, method, params).await?;
        upstream::final_response(upstream_name(settings, i), rx, settings.request_timeout).await
    });
    for (res, up) in join_all(calls).await.into_iter().zip(&settings.upstreams) {
        if let Err(e) = res {
            tracing::warn!(upstream = %up.name, method, error = %e, "MCP upstream did not take a fanned-out request");
        }
    }
    Ok(Answer::Json {
        body: envelope::result(id, &envelope::to_raw(&Map::new())?),
        session: None,
    })
}

/// A client's response to a server→client request: sent to the upstream named in its (rewritten) id, with the
/// upstream's original id restored. Responses whose id we did not issue are dropped (logged).
pub async fn route_response(
    settings: &McpSettings,
    claims: &SessionClaims,
    id: Option<&RawValue>,
    outcome: Result<&RawValue, &RawValue>,
) {
    let Some((target, original)) = id.and_then(gatehouse_mcp::idmap::decode) else {
        tracing::debug!("MCP client response with an id the gateway did not issue; dropped");
        return;
    };
    let Some(idx) = settings.ns.target_index(&target) else {
        tracing::debug!(target, "MCP client response for an unknown upstream; dropped");
        return;
    };
    let body = match outcome {
        Ok(r) => envelope::result(&original, r),
        Err(e) => format!(r#"{{"jsonrpc":"2.0","id":{},"error":{}}}"#, original.get(), e.get()),
    };
    upstream::respond(settings, claims, idx, body).await;
}

// === impl Mapper ===

impl Mapper {
    /// Maps one relayed message; returns it and whether it is the final response.
    #[must_use]
    pub fn map(&self, settings: &McpSettings, msg: Bytes) -> (Bytes, bool) {
        let (mapped, last) = self.map_names(settings, msg);
        match &self.client_id {
            Some(id) if last => {
                let body = super::modern::restore(&String::from_utf8_lossy(&mapped), id, false);
                (Bytes::from(body), true)
            }
            _ => (mapped, last),
        }
    }

    fn map_names(&self, settings: &McpSettings, msg: Bytes) -> (Bytes, bool) {
        match envelope::parse_one(&msg) {
            Ok(Message::Response {
                id,
                outcome: Ok(result),
            }) if self.method == "resources/read" => {
                let mapped = self.map_read_result(settings, result);
                match (id, mapped) {
                    (Some(id), Some(r)) => (Bytes::from(envelope::result(id, &r)), true),
                    _ => (msg, true),
                }
            }
            Ok(Message::Response {
                id: Some(id),
                outcome: Ok(result),
            }) if matches!(
                self.method.as_str(),
                "tools/call" | "tasks/get" | "tasks/result" | "tasks/cancel"
            ) =>
            {
                // Task ids (a task-augmented call's `CreateTaskResult`, a task, a related-task reference) are
                // namespaced so the next `tasks/*` finds this upstream.
                match gatehouse_mcp::task::expose_in(&settings.ns, self.target, result) {
                    Ok(Some(r)) => (Bytes::from(envelope::result(id, &r)), true),
                    _ => (msg, true),
                }
            }
            Ok(Message::Response { .. }) => (msg, true),
            Ok(Message::Request { id, method, params }) => {
                // A server→client request (sampling, elicitation, `tasks/*` about the client's own tasks) on the
                // call's stream: its id is rewritten to name the upstream, so ids of different upstreams never collide
                // and the answer finds its way back. Task ids in it are the client's, except a related-task reference
                // (the upstream's task), which is namespaced.
                let target = settings.upstreams.get(self.target).map_or("", |u| u.name.as_str());
                let tasked = params.and_then(|p| {
                    gatehouse_mcp::task::expose_related_in(&settings.ns, self.target, p)
                        .ok()
                        .flatten()
                });
                match envelope::to_raw(&gatehouse_mcp::idmap::encode(target, id)) {
                    Ok(new_id) => (
                        Bytes::from(envelope::request(&new_id, method, tasked.as_deref().or(params))),
                        false,
                    ),
                    Err(_) => (msg, false),
                }
            }
            Ok(Message::Notification {
                method: method @ "notifications/tasks/status",
                params: Some(p),
            }) => match gatehouse_mcp::task::expose_in(&settings.ns, self.target, p) {
                Ok(Some(np)) => (Bytes::from(envelope::notification(method, Some(&np))), false),
                _ => (msg, false),
            },
            Ok(Message::Notification {
                method: "notifications/resources/updated",
                params: Some(p),
            }) => {
                let uri = Params::read(Some(p)).ok().and_then(|p| p.uri.map(|u| u.into_owned()));
                let exposed = uri.and_then(|u| gatehouse_mcp::uri::expose(&settings.ns, self.target, &u));
                match exposed.and_then(|e| envelope::replace_param(p, "uri", &e).ok()) {
                    Some(np) => (
                        Bytes::from(envelope::notification("notifications/resources/updated", Some(&np))),
                        false,
                    ),
                    None => (msg, false),
                }
            }
            _ => (msg, false),
        }
    }

    /// `contents[].uri` of a read result, in the client's namespace (so it matches what the client asked for).
    fn map_read_result(&self, settings: &McpSettings, result: &RawValue) -> Option<Box<RawValue>> {
        let mut v: Map<String, Value> = serde_json::from_str(result.get()).ok()?;
        if let Some(Value::Array(items)) = v.get_mut("contents") {
            for item in items {
                if let Some(Value::String(uri)) = item.get_mut("uri")
                    && let Some(e) = gatehouse_mcp::uri::expose(&settings.ns, self.target, uri)
                {
                    *uri = e;
                }
            }
        }
        serde_json::value::to_raw_value(&v).ok()
    }
}

/// An upstream's name by namespace index (indices come from the namespace built from the same list, so the fallback
/// is never used; it keeps a broken invariant from becoming a panic).
fn upstream_name(settings: &McpSettings, idx: usize) -> &str {
    settings.upstreams.get(idx).map_or("?", |u| u.name.as_str())
}

fn merge_capabilities(caps: &mut Map<String, Value>, result: &RawValue) {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(default)]
        capabilities: Map<String, Value>,
    }
    let Ok(r) = serde_json::from_str::<R>(result.get()) else {
        return;
    };
    // Only what the gateway routes: `listChanged` (relayed on the GET stream) where an upstream has it; `subscribe`
    // where an upstream has it (`resources/subscribe` is routed by URI, updates come on the GET stream).
    // Tasks: what any upstream supports (`tasks/*` are routed by task id, `tasks/list` merged).
    if let Some(Value::Object(up)) = r.capabilities.get("tasks")
        && let Value::Object(mine) = caps.entry("tasks").or_insert_with(|| Value::Object(Map::new()))
    {
        for (k, v) in up {
            mine.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    for key in ["tools", "prompts", "resources", "logging", "completions"] {
        let Some(up) = r.capabilities.get(key) else { continue };
        let entry = caps.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !matches!(key, "logging" | "completions")
            && up.get("listChanged").and_then(Value::as_bool) == Some(true)
            && let Value::Object(m) = entry
        {
            m.insert("listChanged".into(), Value::Bool(true));
        }
        if key == "resources"
            && up.get("subscribe").and_then(Value::as_bool) == Some(true)
            && let Value::Object(m) = caps.entry(key).or_insert_with(|| Value::Object(Map::new()))
        {
            m.insert("subscribe".into(), Value::Bool(true));
        }
    }
}

/// An upstream's `instructions`, when it gave non-blank ones.
pub fn instructions_of(result: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct R {
        instructions: Option<String>,
    }
    serde_json::from_str::<R>(result.get())
        .ok()?
        .instructions
        .filter(|s| !s.trim().is_empty())
}

fn random_id() -> Result<String, McpFailure> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| McpFailure::SessionTooLarge)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
