//! A legacy HTTP+SSE upstream (protocol 2024-11-05): `GET` the SSE URL, wait for the `endpoint` event naming the
//! message URL, then POST each message there (the server acknowledges with 202) and read every answer from the SSE
//! stream. One connection per client session, carried by the same pipe as stdio children (`stdio.rs`).
//!
//! The announced endpoint must be on the same scheme and authority as the SSE URL, so an upstream cannot make the
//! gateway POST elsewhere. The upstream's static headers go on both the GET and every POST.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_llm::sse::{SseDecoder, SseLimits};
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};

use super::error::McpFailure;
use super::http::MAX_UPSTREAM_MESSAGE;
use super::settings::Transport;
use super::stdio::StdioSession;
use crate::secret::Secret;
use crate::upstream::UpstreamClient;

/// Where a legacy session's messages are POSTed.
pub struct Endpoint {
    url: http::Uri,
    headers: Vec<(http::HeaderName, Arc<Secret>)>,
    client: UpstreamClient,
    timeout: Duration,
}

// === impl Endpoint ===

impl Endpoint {
    /// POSTs one message; the answer comes on the SSE stream.
    pub async fn post(&self, target: &str, body: String) -> Result<(), McpFailure> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unavailable(target, &e.to_string()))?;
        add_headers(target, &self.headers, req.headers_mut())?;
        let resp = tokio::time::timeout(self.timeout, self.client.send(req))
            .await
            .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
            .map_err(|e| unavailable(target, &e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(unavailable(
                target,
                &format!("message endpoint answered HTTP {}", resp.status().as_u16()),
            ))
        }
    }
}

/// Opens the SSE stream, learns the message endpoint, and returns a pipe fed by the stream.
pub async fn connect(target: &str, transport: &Transport, timeout: Duration) -> Result<Arc<StdioSession>, McpFailure> {
    let Transport::LegacySse { url, headers, client } = transport else {
        return Err(unavailable(target, "not a legacy SSE upstream"));
    };
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(url.clone())
        .header(header::ACCEPT, "text/event-stream")
        .body(Full::new(Bytes::new()))
        .map_err(|e| unavailable(target, &e.to_string()))?;
    add_headers(target, headers, req.headers_mut())?;
    let resp = tokio::time::timeout(timeout, client.send(req))
        .await
        .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
        .map_err(|e| unavailable(target, &e.to_string()))?;
    if resp.status() != StatusCode::OK {
        return Err(unavailable(
            target,
            &format!("SSE stream answered HTTP {}", resp.status().as_u16()),
        ));
    }
    let mut body = resp.into_body();
    let mut dec = SseDecoder::new(SseLimits {
        max_line_bytes: MAX_UPSTREAM_MESSAGE,
        max_event_bytes: MAX_UPSTREAM_MESSAGE,
    });
    let endpoint = loop {
        if let Some(ev) = dec.next_event() {
            if ev.event.as_deref() == Some("endpoint") {
                break ev.data;
            }
            continue;
        }
        let frame = tokio::time::timeout(timeout, body.frame())
            .await
            .map_err(|_| McpFailure::UpstreamTimeout(target.into()))?
            .ok_or_else(|| unavailable(target, "SSE stream ended before the endpoint event"))?
            .map_err(|e| unavailable(target, &e.to_string()))?;
        if let Ok(data) = frame.into_data()
            && dec.push(&data).is_err()
        {
            return Err(unavailable(target, "SSE event too large"));
        }
    };
    let post_url =
        resolve(url, endpoint.trim()).ok_or_else(|| unavailable(target, "the endpoint event names another origin"))?;
    let pipe = StdioSession::for_sse(
        target,
        Endpoint {
            url: post_url,
            headers: headers.clone(),
            client: (**client).clone(),
            timeout,
        },
    );
    let weak = Arc::downgrade(&pipe);
    let name = target.to_string();
    let task = tokio::spawn(async move {
        loop {
            while let Some(ev) = dec.next_event() {
                if matches!(ev.event.as_deref(), None | Some("message")) && !ev.data.is_empty() {
                    let Some(p) = weak.upgrade() else { return };
                    p.feed(ev.data.as_bytes()).await;
                }
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && dec.push(&data).is_err()
                    {
                        tracing::warn!(upstream = %name, "legacy SSE event too large; closing");
                        break;
                    }
                }
                _ => break,
            }
        }
        if let Some(p) = weak.upgrade() {
            p.closed();
        }
    });
    pipe.set_reader(task);
    Ok(pipe)
}

/// The endpoint as an absolute URL on the SSE URL's origin; `None` for another origin.
fn resolve(base: &http::Uri, endpoint: &str) -> Option<http::Uri> {
    if endpoint.starts_with('/') {
        let mut parts = base.clone().into_parts();
        parts.path_and_query = Some(endpoint.parse().ok()?);
        return http::Uri::from_parts(parts).ok();
    }
    let abs: http::Uri = endpoint.parse().ok()?;
    (abs.scheme() == base.scheme() && abs.authority() == base.authority()).then_some(abs)
}

fn add_headers(
    target: &str,
    headers: &[(http::HeaderName, Arc<Secret>)],
    out: &mut http::HeaderMap,
) -> Result<(), McpFailure> {
    for (name, secret) in headers {
        let value = secret
            .get()
            .map_err(|reason| unavailable(target, &format!("credential unavailable: {reason}")))?;
        let mut v = HeaderValue::from_str(&value).map_err(|_| unavailable(target, "header value is invalid"))?;
        v.set_sensitive(true);
        out.insert(name.clone(), v);
    }
    Ok(())
}

fn unavailable(target: &str, detail: &str) -> McpFailure {
    McpFailure::Upstream {
        target: target.into(),
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_must_stay_on_the_sse_origin() {
        let base: http::Uri = "http://127.0.0.1:3001/sse".parse().expect("uri");
        assert_eq!(
            resolve(&base, "/message?sessionId=abc")
                .map(|u| u.to_string())
                .as_deref(),
            Some("http://127.0.0.1:3001/message?sessionId=abc")
        );
        assert!(resolve(&base, "http://127.0.0.1:3001/m").is_some());
        assert!(resolve(&base, "http://169.254.169.254/m").is_none());
        assert!(resolve(&base, "https://127.0.0.1:3001/m").is_none());
    }
}
