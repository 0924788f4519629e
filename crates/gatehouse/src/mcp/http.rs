//! Talking Streamable HTTP to one upstream: POST a message, read the answer as JSON or SSE, DELETE a session.
//!
//! The answer is turned into a channel of complete JSON-RPC messages so callers treat HTTP and stdio alike. SSE is
//! decoded with the bounded decoder of `gatehouse-llm`; priming events (empty `data`) are skipped. An upstream that
//! answers 404 — or 400, as server-everything does — to a request carrying a session id has forgotten the session:
//! that is [`Sent::SessionGone`], which the caller answers by re-initialising. The client's own credential is never
//! sent: only the configured static headers.

use std::time::Duration;

use bytes::Bytes;
use gatehouse_llm::sse::{SseDecoder, SseLimits};
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;

use super::error::McpFailure;
use super::settings::Transport;

/// What an upstream did with a POST.
pub enum Sent {
    /// 202: a notification or response was accepted.
    Accepted,
    /// Messages follow (the response to a request, maybe after notifications).
    Messages {
        /// `Mcp-Session-Id` of the answer (set on `initialize`).
        session: Option<String>,
        /// Complete JSON-RPC messages.
        rx: mpsc::Receiver<Bytes>,
    },
    /// The upstream no longer knows the session.
    SessionGone,
}

/// Bounds on an upstream's answers.
const MAX_LINE: usize = 1 << 20;
/// The largest single message accepted from an upstream.
pub const MAX_UPSTREAM_MESSAGE: usize = 16 << 20;

/// POSTs one message.
pub async fn post(
    target: &str,
    transport: &Transport,
    session: Option<&str>,
    protocol: Option<&str>,
    body: String,
    timeout: Duration,
) -> Result<Sent, McpFailure> {
    let Transport::Http { url, headers, client } = transport else {
        return Err(McpFailure::Upstream {
            target: target.into(),
            detail: "not an HTTP upstream".into(),
        });
    };
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(url.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream");
    if let Some(s) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        req = req.header("mcp-session-id", s);
    }
    if let Some(p) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        req = req.header("mcp-protocol-version", p);
    }
    let mut req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| unavailable(target, e))?;
    add_static_headers(target, headers, req.headers_mut())?;
    // The hop's span (or the client's own context) continues the trace upstream.
    crate::trace::inject(&opentelemetry::Context::current(), req.headers_mut());
    let resp = tokio::time::timeout(timeout, client.send(req))
        .await
        .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
        .map_err(|e| unavailable(target, e))?;
    let status = resp.status();
    if session.is_some() && matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST) {
        return Ok(Sent::SessionGone);
    }
    if status == StatusCode::ACCEPTED {
        return Ok(Sent::Accepted);
    }
    if !status.is_success() {
        let detail = format!("HTTP {}", status.as_u16());
        tracing::warn!(
            upstream = target,
            status = status.as_u16(),
            "MCP upstream refused a message"
        );
        return Err(McpFailure::Upstream {
            target: target.into(),
            detail,
        });
    }
    let new_session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let (tx, rx) = mpsc::channel(64);
    let body = resp.into_body();
    let name = target.to_string();
    if is_sse {
        drop(spawn_sse_reader(name, body, Some(timeout), tx));
    } else {
        let collected = tokio::time::timeout(
            timeout,
            http_body_util::Limited::new(body, MAX_UPSTREAM_MESSAGE).collect(),
        )
        .await
        .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
        .map_err(|e| unavailable(target, e))?;
        let _ = tx.try_send(collected.to_bytes());
    }
    Ok(Sent::Messages {
        session: new_session,
        rx,
    })
}

/// Opens the upstream's standalone notification stream (GET) for a session; `None` when it offers none (405) or
/// fails. The reader task is returned so the caller can stop it when its client goes away.
pub async fn open_stream(
    target: &str,
    transport: &Transport,
    session: Option<&str>,
    protocol: &str,
    timeout: Duration,
) -> Option<(mpsc::Receiver<Bytes>, tokio::task::JoinHandle<()>)> {
    let Transport::Http { url, headers, client } = transport else {
        return None;
    };
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(url.clone())
        .header(header::ACCEPT, "text/event-stream")
        .header("mcp-protocol-version", protocol);
    if let Some(s) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        req = req.header("mcp-session-id", s);
    }
    let mut req = req.body(Full::new(Bytes::new())).ok()?;
    add_static_headers(target, headers, req.headers_mut()).ok()?;
    let resp = tokio::time::timeout(timeout, client.send(req)).await.ok()?.ok()?;
    let sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if resp.status() != StatusCode::OK || !sse {
        tracing::debug!(
            upstream = target,
            status = resp.status().as_u16(),
            "MCP upstream offers no notification stream"
        );
        return None;
    }
    let (tx, rx) = mpsc::channel(64);
    let task = spawn_sse_reader(target.to_string(), resp.into_body(), None, tx);
    Some((rx, task))
}

/// Decodes an upstream SSE body into complete messages until it ends, the client goes away, or (with `idle`) it is
/// silent for too long. Priming events (empty `data`) are skipped.
fn spawn_sse_reader(
    name: String,
    mut body: hyper::body::Incoming,
    idle: Option<Duration>,
    tx: mpsc::Sender<Bytes>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut dec = SseDecoder::new(SseLimits {
            max_line_bytes: MAX_LINE,
            max_event_bytes: MAX_UPSTREAM_MESSAGE,
        });
        loop {
            let next = match idle {
                Some(d) => match tokio::time::timeout(d, body.frame()).await {
                    Ok(f) => f,
                    Err(_) => {
                        tracing::warn!(upstream = %name, "MCP upstream stream idle for too long");
                        return;
                    }
                },
                None => body.frame().await,
            };
            let frame = match next {
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    tracing::debug!(upstream = %name, error = %e, "MCP upstream stream failed");
                    return;
                }
                None => return,
            };
            let Ok(data) = frame.into_data() else { continue };
            if dec.push(&data).is_err() {
                tracing::warn!(upstream = %name, "MCP upstream SSE event exceeds the size limit");
                return;
            }
            while let Some(ev) = dec.next_event() {
                if ev.data.is_empty() {
                    continue; // priming event
                }
                if tx.send(Bytes::from(ev.data)).await.is_err() {
                    return; // the client went away; dropping the body closes the upstream stream
                }
            }
        }
    })
}

/// Ends an upstream session (best effort).
pub async fn delete(target: &str, transport: &Transport, session: &str, protocol: &str, timeout: Duration) {
    let Transport::Http { url, headers, client } = transport else {
        return;
    };
    let Ok(mut req) = Request::builder()
        .method(Method::DELETE)
        .uri(url.clone())
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", protocol)
        .body(Full::new(Bytes::new()))
    else {
        return;
    };
    if add_static_headers(target, headers, req.headers_mut()).is_err() {
        return;
    }
    match tokio::time::timeout(timeout, client.send(req)).await {
        Ok(Ok(resp)) => tracing::debug!(
            upstream = target,
            status = resp.status().as_u16(),
            "MCP upstream session deleted"
        ),
        _ => tracing::debug!(upstream = target, "MCP upstream session delete failed"),
    }
}

fn add_static_headers(
    target: &str,
    headers: &[(http::HeaderName, std::sync::Arc<crate::secret::Secret>)],
    out: &mut http::HeaderMap,
) -> Result<(), McpFailure> {
    for (name, secret) in headers {
        let value = secret.get().map_err(|reason| McpFailure::Upstream {
            target: target.into(),
            detail: format!("credential unavailable: {reason}"),
        })?;
        let mut v = HeaderValue::from_str(&value).map_err(|_| McpFailure::Upstream {
            target: target.into(),
            detail: format!("header `{name}` is not a valid header value"),
        })?;
        v.set_sensitive(true);
        out.insert(name.clone(), v);
    }
    Ok(())
}

fn unavailable(target: &str, e: impl std::fmt::Display) -> McpFailure {
    McpFailure::Upstream {
        target: target.into(),
        detail: e.to_string(),
    }
}
