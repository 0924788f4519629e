//! Upstream sessions gatehouse holds for stateless (2026-07-28) clients are bounded: at most
//! `max_stateless_sessions` keys per replica, each ended upstream (DELETE with its session id) when it is the least
//! recently used one and room is needed, or once unused for `stateless_idle_ttl`. Seen from a strict recording mock
//! upstream (which refuses unknown sessions like a real one), and end to end against server-everything. Also the
//! `Mcp-Param-*` headers of a stateless `tools/call`, checked against the tool's `x-mcp-header` annotations.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::mcp_stateless::Stateless;
use crate::mcp_support::everything;
use crate::support::TestGateway;

/// What the mock upstream saw, in order: `{method, session}`; DELETEs as method `DELETE`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

/// Session-era Streamable HTTP upstream: `initialize` issues `s-N`; other messages need a live session (404
/// otherwise); DELETE ends one (404 for an unknown or already ended session).
#[derive(Clone, Default)]
struct Mock {
    seen: Seen,
    live: Arc<Mutex<Vec<String>>>,
    issued: Arc<Mutex<usize>>,
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn on_post(m: Mock, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "json").into_response();
    };
    let method = msg["method"].as_str().unwrap_or_default().to_string();
    let session = session_of(&headers);
    if method == "initialize" {
        let n = {
            let mut i = m.issued.lock().expect("lock");
            *i += 1;
            *i
        };
        let sid = format!("s-{n}");
        m.live.lock().expect("lock").push(sid.clone());
        m.seen
            .0
            .lock()
            .expect("lock")
            .push(json!({"method": method, "session": sid}));
        let result = json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "mock", "version": "1"}});
        let mut r = axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result})).into_response();
        r.headers_mut().insert("mcp-session-id", sid.parse().expect("header"));
        return r;
    }
    let live = session
        .as_ref()
        .is_some_and(|s| m.live.lock().expect("lock").contains(s));
    if !live || headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok()) != Some("2025-11-25") {
        return (StatusCode::NOT_FOUND, "session").into_response();
    }
    m.seen
        .0
        .lock()
        .expect("lock")
        .push(json!({"method": method, "session": session}));
    if msg.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    match method.as_str() {
        "tools/list" => axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"],
            "result": {"tools": [{"name": "one", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}, "note": {"type": "string"}}}}]}}))
        .into_response(),
        "tools/call" => axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"],
            "result": {"content": [{"type": "text", "text": "called"}]}}))
        .into_response(),
        _ => axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "nope"}}))
            .into_response(),
    }
}

async fn on_delete(m: Mock, headers: HeaderMap) -> Response {
    let Some(session) = session_of(&headers) else {
        return (StatusCode::BAD_REQUEST, "no session").into_response();
    };
    let mut live = m.live.lock().expect("lock");
    let Some(pos) = live.iter().position(|s| *s == session) else {
        return (StatusCode::NOT_FOUND, "session").into_response();
    };
    live.remove(pos);
    m.seen
        .0
        .lock()
        .expect("lock")
        .push(json!({"method": "DELETE", "session": session}));
    StatusCode::OK.into_response()
}

async fn start_mock() -> (Mock, String) {
    let m = Mock::default();
    let (mp, md) = (m.clone(), m.clone());
    let app = axum::Router::new().route(
        "/mcp",
        post(move |h: HeaderMap, b: Bytes| on_post(mp.clone(), h, b))
            .delete(move |h: HeaderMap| on_delete(md.clone(), h)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (m, format!("http://{addr}/mcp"))
}

/// A stateless client whose capabilities make it a key of its own.
fn client(gw: &TestGateway, tag: &str) -> Stateless {
    let mut c = Stateless::new(gw.url("/mcp"));
    c.capabilities = json!({"experimental": {tag: {}}});
    c
}

async fn list_ok(c: &Stateless) {
    let r = c.call(json!(1), "tools/list", json!({})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.result()["tools"][0]["name"], "mock_one", "{r:?}");
}

fn events(m: &Mock) -> Vec<(String, String)> {
    m.seen
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_string(),
                e["session"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn deletes(m: &Mock) -> Vec<String> {
    events(m)
        .into_iter()
        .filter(|(k, _)| k == "DELETE")
        .map(|(_, s)| s)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_sessions_beyond_the_cap_are_ended_upstream() {
    let (m, url) = start_mock().await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  max_stateless_sessions: 2\n  upstreams:\n    mock: {{ url: \"{url}\" }}\n"
    ))
    .await;
    let (a, b, c) = (client(&gw, "a"), client(&gw, "b"), client(&gw, "c"));
    list_ok(&a).await; // s-1
    list_ok(&b).await; // s-2
    list_ok(&a).await; // a used again: b is now the least recently used
    assert!(deletes(&m).is_empty(), "nothing ended below the cap: {:?}", events(&m));
    list_ok(&c).await; // s-3, b's s-2 ended
    assert_eq!(deletes(&m), vec!["s-2"], "{:?}", events(&m));
    list_ok(&a).await; // still held: no new session
    list_ok(&b).await; // re-opened as s-4; c (least recently used) ended
    assert_eq!(deletes(&m), vec!["s-2", "s-3"], "{:?}", events(&m));
    let ev = events(&m);
    let inits = ev.iter().filter(|(k, _)| k == "initialize").count();
    assert_eq!(inits, 4, "{ev:?}");
    // The DELETE came before the new key's session was opened, and the ended session was never used again.
    let del = ev
        .iter()
        .position(|e| *e == ("DELETE".into(), "s-2".into()))
        .expect("delete");
    let init3 = ev
        .iter()
        .position(|e| *e == ("initialize".into(), "s-3".into()))
        .expect("init");
    assert!(del < init3, "{ev:?}");
    assert!(!ev[del + 1..].iter().any(|(_, s)| s == "s-2"), "{ev:?}");
    // a kept its first session throughout.
    let a_lists = ev.iter().filter(|(k, s)| k == "tools/list" && s == "s-1").count();
    assert_eq!(a_lists, 3, "{ev:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_sessions_idle_past_the_ttl_are_ended_upstream() {
    let (m, url) = start_mock().await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  stateless_idle_ttl: 1s\n  upstreams:\n    mock: {{ url: \"{url}\" }}\n"
    ))
    .await;
    let (a, b) = (client(&gw, "a"), client(&gw, "b"));
    list_ok(&a).await; // s-1
    list_ok(&b).await; // s-2
    assert!(deletes(&m).is_empty());
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // The next request sweeps: both idle keys are ended (except the one this request uses).
    list_ok(&b).await;
    assert_eq!(deletes(&m), vec!["s-1"], "{:?}", events(&m));
    list_ok(&a).await; // re-opened
    let ev = events(&m);
    assert_eq!(ev.iter().filter(|(k, _)| k == "initialize").count(), 3, "{ev:?}");
    assert_eq!(
        ev.last(),
        Some(&("tools/list".to_string(), "s-3".to_string())),
        "{ev:?}"
    );
}

#[test]
fn mcp_stateless_bounds_are_validated() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("g.yaml");
    std::fs::write(
        &path,
        "mcp:\n  max_stateless_sessions: 0\n  stateless_idle_ttl: 0s\n  upstreams:\n    mock: { url: \"http://127.0.0.1:9/mcp\" }\n",
    )
    .expect("write");
    let text = gatehouse::config::load_with_env(&path, &|_| None)
        .expect_err("zero is refused")
        .to_string();
    for needle in [
        "mcp.max_stateless_sessions: must be greater than zero",
        "mcp.stateless_idle_ttl: must be greater than zero",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_param_headers_are_checked_against_the_tool_schema() {
    let (m, url) = start_mock().await;
    let gw = TestGateway::start(&format!("mcp:\n  upstreams:\n    mock: {{ url: \"{url}\" }}\n")).await;
    let c = client(&gw, "p");
    let call = |region: Value, extra: Vec<(&'static str, &'static str)>| {
        let body = c.body(
            json!(9),
            "tools/call",
            json!({"name": "mock_one", "arguments": {"region": region, "note": "n"}}),
        );
        let mut headers = vec![
            ("mcp-protocol-version", crate::mcp_stateless::MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "mock_one"),
        ];
        headers.extend(extra);
        let c = &c;
        async move { c.post(&body, &headers).await }
    };
    let ok = call(json!("eu-west"), vec![("Mcp-Param-Region", "eu-west")]).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.result()["content"][0]["text"], "called");
    assert_eq!(ok.last()["id"], 9);
    // Missing, different, duplicated → 400 -32020 before the upstream sees anything.
    for (extra, needle) in [
        (vec![], "Mcp-Param-Region header is missing"),
        (vec![("Mcp-Param-Region", "us-east")], "does not match"),
        (
            vec![("Mcp-Param-Region", "eu-west"), ("mcp-param-region", "eu-west")],
            "more than once",
        ),
    ] {
        let r = call(json!("eu-west"), extra).await;
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.last()["error"]["code"], -32020, "{r:?}");
        assert_eq!(r.last()["id"], 9);
        let msg = r.last()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains(needle), "{msg}");
    }
    // A header whose argument is absent.
    let r = call(Value::Null, vec![("Mcp-Param-Region", "eu-west")]).await;
    assert_eq!(
        (r.status, r.last()["error"]["code"].clone()),
        (400, json!(-32020)),
        "{r:?}"
    );
    // The base64 form of a non-ASCII value, and headers no annotation names (ignored).
    let r = call(
        json!("zürich"),
        vec![
            ("Mcp-Param-Region", "=?base64?esO8cmljaA==?="),
            ("Mcp-Param-Other", "x"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let ev = events(&m);
    assert_eq!(
        ev.iter().filter(|(k, _)| k == "tools/call").count(),
        2,
        "only agreeing calls reach the upstream: {ev:?}"
    );
    assert_eq!(
        ev.iter().filter(|(k, _)| k == "tools/list").count(),
        1,
        "the schema is listed once per key: {ev:?}"
    );
}

/// End to end against server-everything over Streamable HTTP: with room for one key, two stateless clients take
/// turns calling `echo`; every turn ends the other's upstream session (DELETE) and opens a new one, and every call
/// still succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_eviction_against_server_everything() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  max_stateless_sessions: 1\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        up.url()
    ))
    .await;
    let (a, b) = (client(&gw, "a"), client(&gw, "b"));
    for round in 0..3 {
        for (who, c) in [("a", &a), ("b", &b)] {
            let msg = format!("{who}{round}");
            // echo declares no `x-mcp-header`: an `Mcp-Param-*` header names nothing and is ignored.
            let body = c.body(
                json!(round),
                "tools/call",
                json!({"name": "everything_echo", "arguments": {"message": msg}}),
            );
            let headers = [
                ("mcp-protocol-version", crate::mcp_stateless::MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "everything_echo"),
                ("mcp-param-message", "not checked"),
            ];
            let r = c.post(&body, &headers).await;
            assert_eq!(r.status, 200, "{r:?}");
            let text = r.result()["content"][0]["text"].as_str().expect("text").to_string();
            assert!(text.contains(&msg), "{text}");
        }
    }
}
