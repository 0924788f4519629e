//! Upstream sessions held for stateless (2026-07-28) clients on this replica, bounded: at most
//! [`StatelessBounds::max`] keys, each ended upstream (DELETE on HTTP upstreams, stdio children stopped) once unused
//! for [`StatelessBounds::idle_ttl`] or when it is the least recently used idle key and room is needed. Without this a
//! stream of distinct callers would leave sessions open on every upstream.
//!
//! Eviction is lazy: the sweep runs on every stateless request, so idle keys are ended by the next request after
//! their TTL. A key in use by a running request (its [`Held`] still shared) is never evicted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::future::join_all;
use gatehouse_mcp::session::SessionClaims;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::super::error::McpFailure;
use super::super::methods;
use super::super::settings::{McpSettings, Transport};
use super::super::upstream;
use super::upstream_failure;

/// Upstream sessions held for stateless clients on this replica, by derived session id: opened once (concurrent
/// first requests wait for the same opening), then reused until evicted.
#[derive(Debug, Default)]
pub struct ModernSessions {
    slots: Mutex<HashMap<String, (Arc<Held>, Instant)>>,
}

/// One key's upstream sessions: the claims that name them and, once opened, what the upstreams said.
#[derive(Debug)]
pub struct Held {
    claims: SessionClaims,
    opened: tokio::sync::OnceCell<Arc<Discovered>>,
    /// Input schemas of the tools this key was listed, by exposed name (for `Mcp-Param-*` checks).
    schemas: Mutex<HashMap<String, Arc<Value>>>,
    /// The upstream notification streams of this key, shared by its `subscriptions/listen` streams while any is open.
    pub(super) hub: tokio::sync::Mutex<std::sync::Weak<super::listen::Hub>>,
}

/// What the upstreams said when their sessions were opened: the merged answer to `server/discover`.
#[derive(Debug)]
pub struct Discovered {
    /// Merged capabilities (what the gateway routes for a stateless client).
    pub capabilities: Map<String, Value>,
    /// Upstream instructions under `[name]` headings.
    pub instructions: Option<String>,
}

// === impl ModernSessions ===

impl ModernSessions {
    /// The upstream sessions of `claims`, opening them on every upstream on first use. Upstreams that fail are left
    /// out (and retried by the request that needs them); when every upstream fails nothing is remembered. The
    /// returned [`Held`] marks the key busy (not evictable) while the caller keeps it. Keys evicted to make room or
    /// for idleness are ended upstream before this returns.
    pub async fn ensure(
        &self,
        settings: &McpSettings,
        claims: &SessionClaims,
    ) -> Result<(Arc<Held>, Arc<Discovered>), McpFailure> {
        let (held, evicted) = self.slot(settings, claims, Instant::now())?;
        if !evicted.is_empty() {
            join_all(evicted.iter().map(|h| end(settings, h))).await;
        }
        let discovered = held
            .opened
            .get_or_try_init(|| open_all(settings, claims))
            .await?
            .clone();
        Ok((held, discovered))
    }

    /// Finds or makes the slot of `claims`, touching it, and takes out the keys to end: idle past the TTL, and the
    /// least recently used idle one when a new key needs room. Refused when the cap is reached and every key is busy.
    fn slot(
        &self,
        settings: &McpSettings,
        claims: &SessionClaims,
        now: Instant,
    ) -> Result<(Arc<Held>, Vec<Arc<Held>>), McpFailure> {
        let bounds = settings.stateless;
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| upstream_failure("the stateless session cache is unavailable"))?;
        let mut evicted = Vec::new();
        let expired: Vec<String> = slots
            .iter()
            .filter(|(sid, (held, used))| {
                **sid != claims.sid && Arc::strong_count(held) == 1 && now.duration_since(*used) >= bounds.idle_ttl
            })
            .map(|(sid, _)| sid.clone())
            .collect();
        for sid in expired {
            if let Some((held, _)) = slots.remove(&sid) {
                evicted.push(held);
            }
        }
        if !slots.contains_key(&claims.sid) && slots.len() >= bounds.max {
            let victim = slots
                .iter()
                .filter(|(_, (held, _))| Arc::strong_count(held) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sid, _)| sid.clone());
            match victim.and_then(|sid| slots.remove(&sid)) {
                Some((held, _)) => evicted.push(held),
                None => {
                    return Err(upstream_failure(
                        "every upstream session held for stateless clients is in use; try again shortly",
                    ));
                }
            }
        }
        let entry = slots.entry(claims.sid.clone()).or_insert_with(|| {
            (
                Arc::new(Held {
                    claims: claims.clone(),
                    opened: tokio::sync::OnceCell::new(),
                    schemas: Mutex::new(HashMap::new()),
                    hub: tokio::sync::Mutex::new(std::sync::Weak::new()),
                }),
                now,
            )
        });
        entry.1 = now;
        Ok((entry.0.clone(), evicted))
    }
}

// === impl Held ===

impl Held {
    /// The claims naming this key's upstream sessions.
    #[must_use]
    pub fn claims(&self) -> &SessionClaims {
        &self.claims
    }

    /// The input schema of an exposed tool, when this key's tools were listed with it.
    #[must_use]
    pub fn tool_schema(&self, name: &str) -> Option<Arc<Value>> {
        self.schemas.lock().ok()?.get(name).cloned()
    }

    /// Replaces the remembered input schemas with a fresh listing.
    pub fn remember_schemas(&self, schemas: HashMap<String, Arc<Value>>) {
        if let Ok(mut s) = self.schemas.lock() {
            *s = schemas;
        }
    }
}

/// Ends an evicted key's upstream sessions (only if they were opened).
async fn end(settings: &McpSettings, held: &Held) {
    if held.opened.get().is_some() {
        tracing::info!(session = %held.claims.sid, "upstream sessions of an idle stateless MCP client ended");
        upstream::close(settings, &held.claims).await;
    }
}

async fn open_all(settings: &McpSettings, claims: &SessionClaims) -> Result<Arc<Discovered>, McpFailure> {
    let opened =
        join_all((0..settings.upstreams.len()).map(|i| upstream::open(settings, i, &claims.sid, &claims.init))).await;
    let mut caps = Map::new();
    let mut instructions = Vec::new();
    let mut any = false;
    for (up, res) in settings.upstreams.iter().zip(opened) {
        match res {
            Ok(o) => {
                any = true;
                if let Transport::Http { .. } = up.transport {
                    settings
                        .runtime
                        .set_overlay(&claims.sid, &up.name, o.session.clone(), o.protocol.clone());
                }
                merge_capabilities(&mut caps, &o.result);
                if let Some(text) = methods::instructions_of(&o.result) {
                    instructions.push(format!("[{}]\n{text}", up.name));
                }
            }
            Err(e) => {
                tracing::warn!(upstream = %up.name, error = %e, "MCP upstream failed to open a session for a stateless client");
            }
        }
    }
    if !any && !settings.upstreams.is_empty() {
        return Err(upstream_failure("no upstream answered"));
    }
    Ok(Arc::new(Discovered {
        capabilities: caps,
        instructions: (!instructions.is_empty()).then(|| instructions.join("\n\n")),
    }))
}

/// What a stateless client is offered: tools, prompts, resources and completions where an upstream has them, with
/// `listChanged` where an upstream has it and `resources.subscribe` where one supports subscriptions (both carried by
/// `subscriptions/listen`); no `logging` (`logging/setLevel` is gone from this era).
fn merge_capabilities(caps: &mut Map<String, Value>, result: &RawValue) {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(default)]
        capabilities: Map<String, Value>,
    }
    let Ok(r) = serde_json::from_str::<R>(result.get()) else {
        return;
    };
    for key in ["tools", "prompts", "resources", "completions"] {
        let Some(up) = r.capabilities.get(key) else { continue };
        let entry = caps.entry(key).or_insert_with(|| Value::Object(Map::new()));
        for flag in ["listChanged", "subscribe"] {
            let served = key != "completions" && (flag == "listChanged" || key == "resources");
            if served
                && up.get(flag).and_then(Value::as_bool) == Some(true)
                && let Value::Object(m) = entry
            {
                m.insert(flag.into(), Value::Bool(true));
            }
        }
    }
}
