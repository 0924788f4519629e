//! One interface over both transports, within a client session: open (initialize), request, notify, close.
//!
//! Which upstream session to use comes from the token, unless this replica re-created it (the overlay). When an HTTP
//! upstream answers that it forgot the session, or a stdio child is gone, the upstream is initialised again with the
//! client's original `initialize` params and the message is sent once more — the client never sees it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gatehouse_mcp::envelope::{self, Message};
use gatehouse_mcp::session::SessionClaims;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::error::McpFailure;
use super::http::{self, Sent};
use super::settings::{McpSettings, Transport, UpstreamDef};
use super::stdio::StdioSession;

/// The id of the gateway's own `initialize` towards an upstream.
const INIT_ID: &str = "\"gatehouse-init\"";

/// An upstream session just opened.
pub struct Opened {
    /// Its `Mcp-Session-Id` (HTTP upstreams that issue one).
    pub session: Option<String>,
    /// The version it negotiated.
    pub protocol: String,
    /// Its `InitializeResult`, raw.
    pub result: Box<RawValue>,
}

/// Opens a session on upstream `idx` for client session `sid` with the client's `initialize` params.
pub async fn open(settings: &McpSettings, idx: usize, sid: &str, init: &RawValue) -> Result<Opened, McpFailure> {
    let up = def(settings, idx)?;
    let timeout = settings.request_timeout;
    let id =
        RawValue::from_string(INIT_ID.into()).map_err(|e| gatehouse_mcp::McpError::InvalidMessage(e.to_string()))?;
    match &up.transport {
        Transport::Http { .. } => {
            let body = envelope::request(&id, "initialize", Some(init));
            let Sent::Messages { session, rx } = http::post(&up.name, &up.transport, None, None, body, timeout).await?
            else {
                return Err(refused(&up.name, "initialize was not answered"));
            };
            let (protocol, result) = init_result(&up.name, &final_response(&up.name, rx, timeout).await?)?;
            let note = envelope::notification("notifications/initialized", None);
            match http::post(
                &up.name,
                &up.transport,
                session.as_deref(),
                Some(&protocol),
                note,
                timeout,
            )
            .await
            {
                Ok(_) => {}
                Err(e) => tracing::warn!(upstream = %up.name, error = %e, "notifications/initialized failed"),
            }
            Ok(Opened {
                session,
                protocol,
                result,
            })
        }
        Transport::Stdio { .. } | Transport::LegacySse { .. } => {
            let now = Instant::now();
            if !settings.runtime.may_spawn(&up.name, now) {
                return Err(refused(&up.name, "restarting after a failure (backoff)"));
            }
            if !settings.runtime.make_room(&up.name, settings.max_pipes_per_upstream) {
                return Err(refused(&up.name, "too many busy stdio/SSE sessions on this replica"));
            }
            let started = match &up.transport {
                Transport::Stdio { program, args, env } => StdioSession::spawn(&up.name, program, args, env),
                _ => super::legacy_sse::connect(&up.name, &up.transport, timeout).await,
            };
            let child = started.inspect_err(|_| {
                settings.runtime.spawn_failed(&up.name, now);
            })?;
            let handshake = async {
                let rx = child.request(&id, "initialize", Some(init)).await?;
                let opened = init_result(&up.name, &final_response(&up.name, rx, timeout).await?)?;
                child.notify("notifications/initialized", None).await?;
                Ok::<_, McpFailure>(opened)
            };
            match handshake.await {
                Ok((protocol, result)) => {
                    settings.runtime.spawn_succeeded(&up.name);
                    if let Ok(mut c) = settings.runtime.children.lock() {
                        c.insert((sid.to_string(), up.name.clone()), child);
                    }
                    Ok(Opened {
                        session: None,
                        protocol,
                        result,
                    })
                }
                Err(e) => {
                    child.stop();
                    settings.runtime.spawn_failed(&up.name, now);
                    Err(e)
                }
            }
        }
    }
}

/// Sends a request to upstream `idx` in the client's session; the channel yields its messages, ending with the
/// response (which carries the client's id). Traced as one CLIENT span (the hop), whose context goes upstream in
/// `traceparent` (HTTP transports).
pub async fn request(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
    id: &RawValue,
    method: &str,
    params: Option<&RawValue>,
) -> Result<mpsc::Receiver<Bytes>, McpFailure> {
    let span = hop_span(settings, idx, method);
    let cx = span.context().cloned().unwrap_or_else(opentelemetry::Context::current);
    let sent =
        opentelemetry::context::FutureExt::with_context(send_request(settings, claims, idx, id, method, params), cx)
            .await;
    if let Err(e) = &sent {
        span.fail(e.code());
    }
    sent
}

/// The CLIENT span of one hop to upstream `idx` (MCP semantic conventions: name = method, `mcp.method.name`,
/// `network.transport`, `server.address`).
fn hop_span(settings: &McpSettings, idx: usize, method: &str) -> crate::trace::ChildSpan {
    use opentelemetry::KeyValue;
    let Some(up) = settings.upstreams.get(idx) else {
        return crate::trace::ChildSpan::none();
    };
    let mut attrs = vec![
        KeyValue::new("mcp.method.name", method.to_string()),
        KeyValue::new("gatehouse.target", up.name.clone()),
    ];
    match &up.transport {
        Transport::Http { url, .. } => {
            attrs.push(KeyValue::new("network.transport", "tcp"));
            attrs.push(KeyValue::new("network.protocol.name", "http"));
            attrs.extend(crate::trace::server_attrs(&url.to_string()));
        }
        Transport::Stdio { .. } => attrs.push(KeyValue::new("network.transport", "pipe")),
        Transport::LegacySse { .. } => attrs.push(KeyValue::new("network.transport", "tcp")),
    }
    crate::trace::ChildSpan::start(None, method.to_string(), opentelemetry::trace::SpanKind::Client, attrs)
}

async fn send_request(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
    id: &RawValue,
    method: &str,
    params: Option<&RawValue>,
) -> Result<mpsc::Receiver<Bytes>, McpFailure> {
    let up = def(settings, idx)?;
    let timeout = settings.request_timeout;
    // The hop's trace context also travels in `params._meta` (the MCP carrier, for stdio upstreams too).
    let traced = crate::trace::with_mcp_meta(params, &opentelemetry::Context::current());
    let params = traced.as_deref().or(params);
    match &up.transport {
        Transport::Http { .. } => {
            let body = envelope::request(id, method, params);
            let (session, protocol) = http_session(settings, claims, idx).await?;
            match http::post(
                &up.name,
                &up.transport,
                session.as_deref(),
                Some(&protocol),
                body.clone(),
                timeout,
            )
            .await?
            {
                Sent::Messages { rx, .. } => Ok(rx),
                Sent::Accepted => Err(refused(&up.name, "a request was answered with 202")),
                Sent::SessionGone => {
                    tracing::info!(upstream = %up.name, session = %claims.sid, "MCP upstream lost the session; re-initialising");
                    let opened = open(settings, idx, &claims.sid, &claims.init).await?;
                    settings.runtime.set_overlay(
                        &claims.sid,
                        &up.name,
                        opened.session.clone(),
                        opened.protocol.clone(),
                    );
                    match http::post(
                        &up.name,
                        &up.transport,
                        opened.session.as_deref(),
                        Some(&opened.protocol),
                        body,
                        timeout,
                    )
                    .await?
                    {
                        Sent::Messages { rx, .. } => Ok(rx),
                        _ => Err(refused(&up.name, "the re-initialised session was refused")),
                    }
                }
            }
        }
        Transport::Stdio { .. } | Transport::LegacySse { .. } => {
            let child = stdio_session(settings, claims, idx).await?;
            child.request(id, method, params).await
        }
    }
}

/// Sends a notification to upstream `idx` (best effort: an upstream without a live session is skipped).
pub async fn notify(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
    method: &str,
    params: Option<&RawValue>,
) {
    let Ok(up) = def(settings, idx) else { return };
    let result = match &up.transport {
        Transport::Http { .. } => match http_session(settings, claims, idx).await {
            Ok((session, protocol)) => {
                let body = envelope::notification(method, params);
                http::post(
                    &up.name,
                    &up.transport,
                    session.as_deref(),
                    Some(&protocol),
                    body,
                    settings.request_timeout,
                )
                .await
                .map(|_| ())
            }
            Err(e) => Err(e),
        },
        Transport::Stdio { .. } | Transport::LegacySse { .. } => {
            let child = settings
                .runtime
                .children
                .lock()
                .ok()
                .and_then(|c| c.get(&(claims.sid.clone(), up.name.clone())).cloned());
            match child {
                Some(c) => c.notify(method, params).await,
                None => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(upstream = %up.name, method, error = %e, "notification not delivered");
    }
}

/// Delivers a client's response to a server→client request (best effort; the upstream's call fails on its own
/// timeout if this is lost).
pub async fn respond(settings: &McpSettings, claims: &SessionClaims, idx: usize, body: String) {
    let Ok(up) = def(settings, idx) else { return };
    let result = match &up.transport {
        Transport::Http { .. } => match http_session(settings, claims, idx).await {
            Ok((session, protocol)) => http::post(
                &up.name,
                &up.transport,
                session.as_deref(),
                Some(&protocol),
                body,
                settings.request_timeout,
            )
            .await
            .map(|_| ()),
            Err(e) => Err(e),
        },
        Transport::Stdio { .. } | Transport::LegacySse { .. } => {
            let child = settings
                .runtime
                .children
                .lock()
                .ok()
                .and_then(|c| c.get(&(claims.sid.clone(), up.name.clone())).cloned());
            match child {
                Some(c) => c.send_line(body).await,
                None => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        tracing::warn!(upstream = %up.name, error = %e, "response to a server request not delivered");
    }
}

/// Messages an upstream sends outside any call (list changes, log messages, resource updates): its GET stream
/// (HTTP), or the pipe's unrelated messages (stdio, legacy SSE). `None` when it has none. The task, when there is
/// one, must be stopped when the client's stream ends.
pub async fn notifications(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
) -> Option<(mpsc::Receiver<Bytes>, Option<tokio::task::JoinHandle<()>>)> {
    let up = def(settings, idx).ok()?;
    match &up.transport {
        Transport::Http { .. } => {
            let (session, protocol) = http_session(settings, claims, idx).await.ok()?;
            let (rx, task) = http::open_stream(
                &up.name,
                &up.transport,
                session.as_deref(),
                &protocol,
                settings.request_timeout,
            )
            .await?;
            Some((rx, Some(task)))
        }
        Transport::Stdio { .. } | Transport::LegacySse { .. } => {
            let child = stdio_session(settings, claims, idx).await.ok()?;
            let (tx, rx) = mpsc::channel(64);
            child.attach(tx);
            Some((rx, None))
        }
    }
}

/// Ends the client session upstream: DELETE on HTTP upstreams, stop stdio children.
pub async fn close(settings: &McpSettings, claims: &SessionClaims) {
    for (idx, up) in settings.upstreams.iter().enumerate() {
        if let Transport::Http { .. } = up.transport
            && let Ok((Some(session), protocol)) = http_session(settings, claims, idx).await
        {
            http::delete(&up.name, &up.transport, &session, &protocol, settings.request_timeout).await;
        }
    }
    for child in settings.runtime.forget(&claims.sid) {
        child.stop();
    }
}

/// Waits for the response among an upstream's messages, skipping notifications.
pub async fn final_response(
    target: &str,
    mut rx: mpsc::Receiver<Bytes>,
    timeout: Duration,
) -> Result<Bytes, McpFailure> {
    loop {
        let msg = tokio::time::timeout(timeout, rx.recv())
            .await
            .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
            .ok_or_else(|| refused(target, "the upstream ended the stream without an answer"))?;
        if matches!(envelope::parse_one(&msg), Ok(Message::Response { .. })) {
            return Ok(msg);
        }
    }
}

/// The upstream session of an HTTP upstream for this client session, opening one if it never had one.
async fn http_session(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
) -> Result<(Option<String>, String), McpFailure> {
    let up = def(settings, idx)?;
    if let Some(found) = settings.runtime.overlay(&claims.sid, &up.name) {
        return Ok(found);
    }
    if let Some(u) = claims.upstreams.iter().find(|u| u.target == up.name)
        && let Some(protocol) = &u.protocol
    {
        return Ok((u.session.clone(), protocol.clone()));
    }
    // It failed at `initialize`: try again now.
    let opened = open(settings, idx, &claims.sid, &claims.init).await?;
    settings
        .runtime
        .set_overlay(&claims.sid, &up.name, opened.session.clone(), opened.protocol.clone());
    Ok((opened.session, opened.protocol))
}

/// The live stdio child of this client session, starting one (and initialising it) when there is none.
async fn stdio_session(
    settings: &McpSettings,
    claims: &SessionClaims,
    idx: usize,
) -> Result<Arc<StdioSession>, McpFailure> {
    let up = def(settings, idx)?;
    let key = (claims.sid.clone(), up.name.clone());
    let existing = settings.runtime.children.lock().ok().and_then(|c| c.get(&key).cloned());
    if let Some(child) = existing {
        if child.is_alive() {
            return Ok(child);
        }
        settings.runtime.spawn_failed(&up.name, Instant::now());
        if let Ok(mut c) = settings.runtime.children.lock() {
            c.remove(&key);
        }
    }
    open(settings, idx, &claims.sid, &claims.init).await?;
    settings
        .runtime
        .children
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
        .ok_or_else(|| refused(&up.name, "the stdio child exited during start"))
}

fn init_result(target: &str, msg: &[u8]) -> Result<(String, Box<RawValue>), McpFailure> {
    #[derive(serde::Deserialize)]
    struct Init {
        #[serde(rename = "protocolVersion")]
        protocol: String,
    }
    match envelope::parse_one(msg)? {
        Message::Response {
            outcome: Ok(result), ..
        } => {
            let init: Init = serde_json::from_str(result.get())
                .map_err(|_| refused(target, "initialize result has no protocolVersion"))?;
            Ok((init.protocol, result.to_owned()))
        }
        Message::Response { outcome: Err(e), .. } => {
            tracing::warn!(upstream = target, error = %e.get(), "MCP upstream refused initialize");
            Err(refused(target, "initialize was refused"))
        }
        _ => Err(refused(target, "initialize was not answered")),
    }
}

fn def(settings: &McpSettings, idx: usize) -> Result<&Arc<UpstreamDef>, McpFailure> {
    settings
        .upstreams
        .get(idx)
        .ok_or_else(|| refused("?", "no such upstream"))
}

fn refused(target: &str, detail: &str) -> McpFailure {
    McpFailure::Upstream {
        target: target.into(),
        detail: detail.into(),
    }
}
