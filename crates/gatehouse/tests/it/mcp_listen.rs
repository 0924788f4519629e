//! `subscriptions/listen` for stateless (2026-07-28) clients: the acknowledgement with the honoured filter, then only
//! the requested list-changed and resource-updated notifications, mapped into the client's namespace and tagged with
//! the listen's id. Against the real server-everything (resource updates for a subscribed URI) and a strict recording
//! mock upstream (every notification kind, one upstream GET stream shared by a key's listens, subscriptions
//! reference-counted and unsubscribed when the last listen ends).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::mcp_stateless::{MODERN, Stateless};
use crate::mcp_support::everything;
use crate::support::TestGateway;

const SUB: &str = "io.modelcontextprotocol/subscriptionId";

/// An open listen stream, read event by event.
struct Listen {
    resp: reqwest::Response,
    buf: String,
}

impl Listen {
    async fn open(c: &Stateless, id: Value, notifications: Value) -> Self {
        let body = c.body(id, "subscriptions/listen", json!({ "notifications": notifications }));
        let mut b = c
            .http
            .post(&c.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .header("mcp-method", "subscriptions/listen");
        if let Some(t) = &c.bearer {
            b = b.bearer_auth(t);
        }
        let resp = b.body(body.to_string()).send().await.expect("send");
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/event-stream")
        );
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next JSON-RPC message, or `None` if none arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let ev: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = ev
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data.join("\n")).expect("event JSON"));
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.buf.push_str(&String::from_utf8_lossy(&c)),
                _ => return None,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_listen_relays_resource_updates_from_server_everything() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let c = Stateless::new(gw.url("/mcp"));

    // Advertised now that listen carries them.
    let d = c.call(json!(1), "server/discover", json!({})).await;
    let caps = &d.result()["capabilities"];
    assert_eq!(caps["tools"]["listChanged"], true, "{caps}");
    assert_eq!(caps["resources"]["subscribe"], true, "{caps}");
    assert_eq!(caps["resources"]["listChanged"], true, "{caps}");

    let uri = "everything+demo://resource/static/document/architecture.md";
    let mut l = Listen::open(
        &c,
        json!("listen-1"),
        json!({"toolsListChanged": true, "promptsListChanged": false,
            "resourceSubscriptions": [uri, "nobody+x://y", "not-a-uri"]}),
    )
    .await;
    let ack = l.next(Duration::from_secs(5)).await.expect("ack");
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged", "{ack}");
    assert_eq!(ack["params"]["_meta"][SUB], "listen-1");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": [uri]}),
        "unknown resources are not honoured"
    );

    // server-everything sends updates for subscribed resources once the tool turns them on (in the same upstream
    // session: same principal and capabilities).
    let on = c
        .call(
            json!(2),
            "tools/call",
            json!({"name": "everything_toggle-subscriber-updates", "arguments": {}}),
        )
        .await;
    assert_eq!(on.status, 200, "{on:?}");
    // server-everything may also announce its late tool registration (tools/list_changed, requested here).
    let n = loop {
        let n = l.next(Duration::from_secs(10)).await.expect("an update");
        assert_eq!(n["params"]["_meta"][SUB], "listen-1", "{n}");
        match n["method"].as_str() {
            Some("notifications/tools/list_changed") => continue,
            _ => break n,
        }
    };
    assert_eq!(n["method"], "notifications/resources/updated", "{n}");
    assert_eq!(n["params"]["uri"], uri, "the URI in the client's namespace");
    assert_eq!(n["params"]["_meta"][SUB], "listen-1");
    assert!(n.get("id").is_none());
}

/// What the mock upstream saw: `{method, session, uri?}`; GET streams as method `GET`.
#[derive(Clone)]
struct Mock {
    seen: Arc<Mutex<Vec<Value>>>,
    push: tokio::sync::broadcast::Sender<String>,
}

async fn on_post(m: Mock, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "json").into_response();
    };
    let method = msg["method"].as_str().unwrap_or_default().to_string();
    if method == "initialize" {
        let result = json!({"protocolVersion": "2025-11-25", "serverInfo": {"name": "mock", "version": "1"},
            "capabilities": {"tools": {"listChanged": true}, "prompts": {"listChanged": true},
                "resources": {"subscribe": true, "listChanged": true}}});
        let mut r = axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result})).into_response();
        r.headers_mut().insert("mcp-session-id", "s-1".parse().expect("header"));
        return r;
    }
    if headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) != Some("s-1") {
        return (StatusCode::NOT_FOUND, "session").into_response();
    }
    m.seen
        .lock()
        .expect("lock")
        .push(json!({"method": method, "uri": msg["params"]["uri"]}));
    match method.as_str() {
        "resources/subscribe" | "resources/unsubscribe" => {
            if msg["params"]["uri"].as_str().is_none_or(|u| !u.starts_with("file:///")) {
                return axum::Json(
                    json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32602, "message": "bad uri"}}),
                )
                .into_response();
            }
            axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "result": {}})).into_response()
        }
        _ if msg.get("id").is_none() => StatusCode::ACCEPTED.into_response(),
        _ => axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "nope"}}))
            .into_response(),
    }
}

/// The standalone stream: every message the test pushes, as SSE, while the connection lasts.
async fn on_get(m: Mock, headers: HeaderMap) -> Response {
    if headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) != Some("s-1")
        || !headers["accept"].to_str().unwrap_or("").contains("text/event-stream")
    {
        return (StatusCode::BAD_REQUEST, "no").into_response();
    }
    m.seen.lock().expect("lock").push(json!({"method": "GET"}));
    let rx = m.push.subscribe();
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        let msg = rx.recv().await.ok()?;
        Some((
            Ok::<_, std::convert::Infallible>(format!("event: message\ndata: {msg}\n\n")),
            rx,
        ))
    });
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().expect("header"));
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_listen_filters_tags_shares_and_unsubscribes() {
    let (push, _) = tokio::sync::broadcast::channel(64);
    let m = Mock {
        seen: Arc::default(),
        push,
    };
    let (mp, mg) = (m.clone(), m.clone());
    let app = axum::Router::new().route(
        "/mcp",
        post(move |h: HeaderMap, b: Bytes| on_post(mp.clone(), h, b)).get(move |h: HeaderMap| on_get(mg.clone(), h)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let gw = TestGateway::start(&format!(
        "mcp:\n  upstreams:\n    mock: {{ url: \"http://{addr}/mcp\" }}\n"
    ))
    .await;
    let c = Stateless::new(gw.url("/mcp"));

    let mut a = Listen::open(
        &c,
        json!(7),
        json!({"toolsListChanged": true, "resourceSubscriptions": ["mock+file:///a", "mock+http://refused"]}),
    )
    .await;
    let ack = a.next(Duration::from_secs(5)).await.expect("ack");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["mock+file:///a"]}),
        "a resource the upstream refuses to subscribe is not honoured"
    );
    assert_eq!(ack["params"]["_meta"][SUB], 7);
    let mut b = Listen::open(
        &c,
        json!("b"),
        json!({"promptsListChanged": true, "resourceSubscriptions": ["mock+file:///a"]}),
    )
    .await;
    assert_eq!(
        b.next(Duration::from_secs(5)).await.expect("ack")["params"]["_meta"][SUB],
        "b"
    );

    for n in [
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "log"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/resources/list_changed"}),
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "file:///b"}}),
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
        json!({"jsonrpc": "2.0", "method": "notifications/prompts/list_changed", "params": {"_meta": {"x": 1}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "file:///a"}}),
    ] {
        m.push.send(n.to_string()).expect("the GET stream is open");
    }
    let t = a.next(Duration::from_secs(5)).await.expect("tools");
    assert_eq!(
        t,
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": {SUB: 7}}})
    );
    let u = a.next(Duration::from_secs(5)).await.expect("update");
    assert_eq!(u["params"], json!({"uri": "mock+file:///a", "_meta": {SUB: 7}}));
    assert!(a.next(Duration::from_millis(300)).await.is_none(), "nothing else for a");
    let p = b.next(Duration::from_secs(5)).await.expect("prompts");
    assert_eq!(p["method"], "notifications/prompts/list_changed");
    assert_eq!(p["params"]["_meta"], json!({"x": 1, SUB: "b"}));
    assert_eq!(
        b.next(Duration::from_secs(5)).await.expect("update")["params"]["_meta"][SUB],
        "b"
    );
    assert!(b.next(Duration::from_millis(300)).await.is_none(), "nothing else for b");

    let seen = |method: &str| -> Vec<Value> {
        m.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s["method"] == method)
            .cloned()
            .collect()
    };
    assert_eq!(seen("GET").len(), 1, "the key's listens share one upstream stream");
    assert_eq!(
        seen("resources/subscribe"),
        vec![
            json!({"method": "resources/subscribe", "uri": "file:///a"}),
            json!({"method": "resources/subscribe", "uri": "http://refused"})
        ],
        "subscribed once for two listens, in the upstream's own URI"
    );
    drop(a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(seen("resources/unsubscribe").is_empty(), "b still holds file:///a");
    drop(b);
    let mut waited = 0;
    while (seen("resources/unsubscribe").is_empty() || m.push.receiver_count() > 0) && waited < 50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(
        seen("resources/unsubscribe"),
        vec![json!({"method": "resources/unsubscribe", "uri": "file:///a"})]
    );
    assert_eq!(
        m.push.receiver_count(),
        0,
        "the upstream stream is closed with the last listen"
    );

    // A bad filter is the era's invalid-params answer.
    let bad = c
        .call(
            json!(9),
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": "yes"}}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.last()["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{bad:?}"
    );
}

/// The official MCP Python SDK (2.3) opening `subscriptions/listen` through gatehouse
/// (tests/interop/mcp_sdk_listen.py): its listen driver accepts the acknowledgement and receives server-everything's
/// resource update for the subscribed URI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_stateless_listen() {
    let Some(python) = crate::interop::python() else { return };
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        up.url()
    ))
    .await;
    crate::interop::run_script(python, "mcp_sdk_listen.py", vec![gw.url("/mcp")]).await;
}
