//! Relaying one upstream's answer to the client as SSE: messages mapped into the client's namespace, keep-alive
//! comments while quiet, an idle deadline, and a JSON-RPC error for the request if the upstream stream ends without
//! an answer. The exchange's log record rides along and is finished when the stream ends or the client goes away.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use gatehouse_mcp::envelope::{self, Message};
use http::{HeaderValue, header};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::error::McpFailure;
use super::log::McpLog;
use super::methods::Mapper;
use super::settings::McpSettings;

/// SSE comment sent while a relayed answer is quiet, so proxies keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Relays an upstream's messages as SSE, mapped into the client's namespace, with keep-alives; ends after the
/// response. If the upstream stream ends without one, the client gets a JSON-RPC error for its id.
pub fn sse(
    settings: Arc<McpSettings>,
    rx: mpsc::Receiver<Bytes>,
    mapper: Mapper,
    id: Box<RawValue>,
    log: McpLog,
) -> Response {
    struct St {
        rx: mpsc::Receiver<Bytes>,
        settings: Arc<McpSettings>,
        mapper: Mapper,
        id: Box<RawValue>,
        log: McpLog,
        done: bool,
        last: tokio::time::Instant,
    }
    let st = St {
        rx,
        settings,
        mapper,
        id,
        log,
        done: false,
        last: tokio::time::Instant::now(),
    };
    let body = stream::unfold(st, |mut st| async move {
        if st.done {
            return None;
        }
        let idle = st.settings.request_timeout;
        let left = idle.saturating_sub(st.last.elapsed());
        let tick = tokio::time::sleep(KEEP_ALIVE.min(left));
        tokio::select! {
                msg = st.rx.recv() => {
                    let Some(msg) = msg else {
                        let e = McpFailure::Upstream { target: st.log.target.clone().unwrap_or_default(), detail: "the upstream ended the stream without an answer".into() };
                        st.log.error_code = Some(e.code());
                        st.done = true;
                        let body = envelope::error(Some(&st.id), e.jsonrpc_code(), &e.to_string(), None);
                        return Some((Ok::<_, std::convert::Infallible>(event(&body)), st));
                    };
                    st.last = tokio::time::Instant::now();
                    let (mapped, last) = st.mapper.map(&st.settings, msg);
                    if last {
                        st.done = true;
                        st.log.completed = true;
                        if is_error(&mapped) {
                            st.log.error_code = Some("mcp_upstream_error");
                        } else if is_tool_error(&mapped) {
                            st.log.tool_error = true;
                        }
                    }
                    Some((Ok(event(&String::from_utf8_lossy(&mapped))), st))
                }
                () = tick => {
                    if st.last.elapsed() >= idle {
                        let e = McpFailure::UpstreamTimeout(st.log.target.clone().unwrap_or_default());
                        st.log.error_code = Some(e.code());
                        st.done = true;
                        let body = envelope::error(Some(&st.id), e.jsonrpc_code(), &e.to_string(), None);
                        return Some((Ok(event(&body)), st));
                    }
                    Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st))
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

fn event(data: &str) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 24);
    gatehouse_llm::sse::encode_event(Some("message"), data, &mut out);
    Bytes::from(out)
}

fn is_tool_error(msg: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct R {
        #[serde(default, rename = "isError")]
        is_error: bool,
    }
    match envelope::parse_one(msg) {
        Ok(Message::Response { outcome: Ok(r), .. }) => serde_json::from_str::<R>(r.get()).is_ok_and(|r| r.is_error),
        _ => false,
    }
}

fn is_error(msg: &[u8]) -> bool {
    matches!(envelope::parse_one(msg), Ok(Message::Response { outcome: Err(_), .. }))
}

/// Stops the upstream readers of a notification stream when the client's stream is dropped.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// The standalone notification stream (`GET /mcp`): every upstream's messages outside calls, merged, mapped into the
/// client's namespace (server→client request ids rewritten, resource URIs namespaced), with keep-alives. It ends when
/// every upstream's stream has ended, or when the client goes away (which stops the upstream readers).
pub async fn notification_stream(
    settings: Arc<McpSettings>,
    claims: &gatehouse_mcp::session::SessionClaims,
    log: McpLog,
) -> Response {
    let (tx, rx) = mpsc::channel::<(usize, Bytes)>(64);
    let mut tasks = Vec::new();
    for idx in 0..settings.upstreams.len() {
        let Some((mut urx, reader)) = super::upstream::notifications(&settings, claims, idx).await else {
            continue;
        };
        tasks.extend(reader);
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(m) = urx.recv().await {
                if tx.send((idx, m)).await.is_err() {
                    return;
                }
            }
        }));
    }
    drop(tx);
    struct St {
        rx: mpsc::Receiver<(usize, Bytes)>,
        settings: Arc<McpSettings>,
        _tasks: AbortOnDrop,
        log: McpLog,
    }
    let st = St {
        rx,
        settings,
        _tasks: AbortOnDrop(tasks),
        log,
    };
    let body = stream::unfold(st, |mut st| async move {
        tokio::select! {
            msg = st.rx.recv() => {
                let (idx, msg) = msg?;
                let mapper = Mapper { target: idx, method: String::new(), client_id: None };
                let (mapped, _) = mapper.map(&st.settings, msg);
                st.log.completed = true;
                Some((Ok::<_, std::convert::Infallible>(event(&String::from_utf8_lossy(&mapped))), st))
            }
            () = tokio::time::sleep(KEEP_ALIVE) => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st)),
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
