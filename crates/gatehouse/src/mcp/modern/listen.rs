//! `subscriptions/listen` for stateless (2026-07-28) clients over session-era upstreams.
//!
//! A listen opens a long-lived SSE answer: first `notifications/subscriptions/acknowledged` with the honoured filter,
//! then the list-changed and resource-updated notifications the client asked for, mapped into its namespace and
//! tagged with the listen request's id, with keep-alive comments while quiet. Upstreams deliver these notifications
//! on their session's standalone stream (HTTP GET stream, or a stdio/legacy pipe's messages outside calls), for the
//! upstream sessions held for this client's key ([`super::held`]). One [`Hub`] per key opens those streams once and
//! fans them out to every listen of the key (server-everything allows one GET stream per session); it closes them
//! when the key's last listen ends. Resource subscriptions are `resources/subscribe` on the owning upstream,
//! reference-counted per key, and `resources/unsubscribe`d when the last listen wanting the URI ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use gatehouse_mcp::envelope::{self, Message, Params};
use gatehouse_mcp::listen::{self, Filter};
use http::{HeaderValue, header};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::broadcast;

use super::super::error::McpFailure;
use super::super::log::McpLog;
use super::super::methods::{Allow, Mapper};
use super::super::settings::McpSettings;
use super::super::upstream;
use super::held::{Discovered, Held};

/// SSE comment sent while a listen stream is quiet.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Notifications buffered per hub for slow listeners; a listener that falls further behind has its stream ended
/// (no replay: the client re-listens and refetches).
const HUB_BUFFER: usize = 256;

/// One key's upstream notification streams, shared by its open listens.
pub struct Hub {
    tx: broadcast::Sender<(usize, Bytes)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Upstream resource subscriptions, by (upstream, its own URI): how many listens hold each.
    subs: Mutex<HashMap<(usize, String), usize>>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("listeners", &self.tx.receiver_count())
            .finish()
    }
}

// === impl Hub ===

impl Hub {
    /// Counts one more listen holding `(idx, uri)`; true when it is the first (the upstream must be subscribed).
    fn acquire(&self, idx: usize, uri: &str) -> bool {
        let Ok(mut s) = self.subs.lock() else { return false };
        let n = s.entry((idx, uri.to_string())).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts one listen less holding `(idx, uri)`; true when none is left (the upstream may be unsubscribed).
    fn release(&self, idx: usize, uri: &str) -> bool {
        let Ok(mut s) = self.subs.lock() else { return false };
        let key = (idx, uri.to_string());
        match s.get_mut(&key) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                s.remove(&key);
                true
            }
            None => false,
        }
    }
}

/// The key's hub, opening the upstream notification streams when no listen of the key has them open.
async fn hub(settings: &McpSettings, held: &Held) -> Arc<Hub> {
    let mut slot = held.hub.lock().await;
    if let Some(h) = slot.upgrade() {
        return h;
    }
    let (tx, _) = broadcast::channel(HUB_BUFFER);
    let mut tasks = Vec::new();
    for idx in 0..settings.upstreams.len() {
        let Some((mut urx, reader)) = upstream::notifications(settings, held.claims(), idx).await else {
            continue;
        };
        tasks.extend(reader);
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(m) = urx.recv().await {
                // No receiver right now is not an error: the hub lives while a listen holds it.
                let _ = tx.send((idx, m));
            }
        }));
    }
    let h = Arc::new(Hub {
        tx,
        tasks,
        subs: Mutex::new(HashMap::new()),
    });
    *slot = Arc::downgrade(&h);
    h
}

/// A listen ready to stream: acknowledged filter, its receiver on the hub, and what it subscribed upstream.
pub struct Listening {
    hub: Arc<Hub>,
    rx: broadcast::Receiver<(usize, Bytes)>,
    honoured: Filter,
    id: Box<RawValue>,
    held: Arc<Held>,
    subscribed: Vec<(usize, String)>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening").field("honoured", &self.honoured).finish()
    }
}

/// Sets up a listen: reads the filter, attaches to the key's hub (before subscribing upstream, so no update is
/// missed), and subscribes each requested resource the caller may read on its upstream. Honoured: list-changed kinds
/// some upstream announces `listChanged` for, and resources that resolve to an upstream, are allowed, and were
/// subscribed there; the rest is left out of the acknowledgement.
pub async fn prepare(
    settings: &McpSettings,
    held: &Arc<Held>,
    discovered: &Discovered,
    id: &RawValue,
    params: Option<&RawValue>,
    allow: Allow<'_>,
) -> Result<Listening, McpFailure> {
    let asked = Filter::read(params)?;
    let list_changed = |k: &str| {
        discovered
            .capabilities
            .get(k)
            .and_then(|c| c.get("listChanged"))
            .and_then(Value::as_bool)
            == Some(true)
    };
    let hub = hub(settings, held).await;
    let rx = hub.tx.subscribe();
    let mut honoured = Filter {
        tools: asked.tools && list_changed("tools"),
        prompts: asked.prompts && list_changed("prompts"),
        resources: asked.resources && list_changed("resources"),
        uris: Vec::new(),
    };
    let mut subscribed = Vec::new();
    for uri in asked.uris {
        let Some((idx, original)) = gatehouse_mcp::uri::resolve(&settings.ns, &uri) else {
            continue;
        };
        let target = settings.upstreams.get(idx).map_or("", |u| u.name.as_str());
        if !allow("resource", target, original) {
            continue;
        }
        if hub.acquire(idx, original) && !subscribe(settings, held, idx, "resources/subscribe", original).await {
            hub.release(idx, original);
            continue;
        }
        subscribed.push((idx, original.to_string()));
        honoured.uris.push(uri);
    }
    Ok(Listening {
        hub,
        rx,
        honoured,
        id: id.to_owned(),
        held: held.clone(),
        subscribed,
    })
}

/// `resources/subscribe` / `resources/unsubscribe` of `uri` on upstream `idx`; true when it answered a result.
async fn subscribe(settings: &McpSettings, held: &Held, idx: usize, method: &str, uri: &str) -> bool {
    let Ok(params) = envelope::to_raw(&serde_json::json!({ "uri": uri })) else {
        return false;
    };
    let Ok(id) = super::gateway_id() else { return false };
    let name = settings.upstreams.get(idx).map_or("?", |u| u.name.as_str());
    let answer = match upstream::request(settings, held.claims(), idx, &id, method, Some(&params)).await {
        Ok(rx) => upstream::final_response(name, rx, settings.request_timeout).await,
        Err(e) => Err(e),
    };
    match answer.as_deref().map(envelope::parse_one) {
        Ok(Ok(Message::Response { outcome: Ok(_), .. })) => true,
        other => {
            tracing::warn!(
                upstream = name,
                method,
                uri,
                ok = other.is_ok(),
                "MCP upstream refused a resource subscription"
            );
            false
        }
    }
}

/// Gives the listen's resource subscriptions back when its stream ends; the last holder of a URI unsubscribes it
/// upstream (in a task: this runs in `Drop`).
struct Release {
    settings: Arc<McpSettings>,
    hub: Arc<Hub>,
    held: Arc<Held>,
    subscribed: Vec<(usize, String)>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let last: Vec<(usize, String)> = self
            .subscribed
            .drain(..)
            .filter(|(idx, uri)| self.hub.release(*idx, uri))
            .collect();
        if last.is_empty() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (settings, held) = (self.settings.clone(), self.held.clone());
        rt.spawn(async move {
            for (idx, uri) in last {
                subscribe(&settings, &held, idx, "resources/unsubscribe", &uri).await;
            }
        });
    }
}

/// The listen's SSE answer: the acknowledgement, then the wanted notifications (mapped, tagged), keep-alives while
/// quiet. It ends when the client goes away (which releases the hub and the subscriptions) or falls too far behind.
pub fn sse(settings: Arc<McpSettings>, l: Listening, mut log: McpLog) -> Response {
    struct St {
        rx: broadcast::Receiver<(usize, Bytes)>,
        honoured: Filter,
        id: Box<RawValue>,
        settings: Arc<McpSettings>,
        ack: Option<String>,
        log: McpLog,
        _release: Release,
    }
    let ack = listen::acknowledged(&l.honoured, &l.id).ok();
    log.completed = true;
    let st = St {
        rx: l.rx,
        honoured: l.honoured,
        id: l.id,
        ack,
        _release: Release {
            settings: settings.clone(),
            hub: l.hub,
            held: l.held,
            subscribed: l.subscribed,
        },
        settings,
        log,
    };
    let body = stream::unfold(st, |mut st| async move {
        if let Some(ack) = st.ack.take() {
            return Some((Ok::<_, std::convert::Infallible>(event(&ack)), st));
        }
        loop {
            tokio::select! {
                m = st.rx.recv() => match m {
                    Ok((idx, msg)) => {
                        if let Some(out) = wanted(&st.settings, &st.honoured, &st.id, idx, msg) {
                            return Some((Ok(event(&out)), st));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "MCP listen stream fell behind; ending it (the client re-listens)");
                        st.log.error_code = Some("mcp_listen_lagged");
                        drop(st); // the access-log line is written with the code
                        return None;
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(KEEP_ALIVE) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st)),
            }
        }
    });
    let mut r = Response::new(Body::from_stream(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// An upstream message as this listen relays it, or `None` when the filter does not want it.
fn wanted(settings: &McpSettings, honoured: &Filter, id: &RawValue, idx: usize, msg: Bytes) -> Option<String> {
    let mapper = Mapper {
        target: idx,
        method: String::new(),
        client_id: None,
    };
    let (mapped, _) = mapper.map(settings, msg);
    let Ok(Message::Notification { method, params }) = envelope::parse_one(&mapped) else {
        return None;
    };
    let uri = (method == "notifications/resources/updated")
        .then(|| Params::read(params).ok().and_then(|p| p.uri.map(|u| u.into_owned())))
        .flatten();
    if !honoured.wants(method, uri.as_deref()) {
        return None;
    }
    listen::tag(method, params, id).ok()
}

fn event(data: &str) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 24);
    gatehouse_llm::sse::encode_event(Some("message"), data, &mut out);
    Bytes::from(out)
}
