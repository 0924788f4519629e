//! What gatehouse sends to an HTTP MCP upstream, seen by a strict recording mock: its own configured credential,
//! never the client's bearer token; the upstream's session id and protocol version on every message after
//! `initialize`; Accept/Content-Type as the Streamable HTTP spec requires. Also: paging through an upstream's pages.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::jwt_support::{Idp, SigningKey, claims};
use crate::mcp_support::RawClient;
use crate::support::TestGateway;

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Value)>>>);

/// A strict Streamable HTTP MCP server: refuses what the spec says a server refuses.
async fn mock(seen: Seen, headers: HeaderMap, body: Bytes) -> Response {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return (StatusCode::NOT_ACCEPTABLE, "accept").into_response();
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "content-type").into_response();
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "json").into_response();
    };
    seen.0.lock().expect("lock").push((headers.clone(), msg.clone()));
    let method = msg["method"].as_str().unwrap_or_default();
    if method != "initialize" {
        if headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) != Some("mock-session-1") {
            return (StatusCode::BAD_REQUEST, "no session").into_response();
        }
        if headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok()) != Some("2025-06-18") {
            return (StatusCode::BAD_REQUEST, "version").into_response();
        }
    }
    if msg.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    let result = match method {
        "initialize" => {
            json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "mock", "version": "1"}})
        }
        "tools/list" => match msg["params"]["cursor"].as_str() {
            None => json!({"tools": [{"name": "one", "inputSchema": {"type": "object"}}], "nextCursor": "p2"}),
            Some("p2") => json!({"tools": [{"name": "two", "inputSchema": {"type": "object"}}]}),
            Some(_) => return json_rpc_error(&msg, -32602, "bad cursor"),
        },
        "tools/call" => json!({"content": [{"type": "text", "text": format!("called {}", msg["params"]["name"])}]}),
        _ => return json_rpc_error(&msg, -32601, "nope"),
    };
    let mut r = axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result})).into_response();
    if method == "initialize" {
        r.headers_mut()
            .insert("mcp-session-id", "mock-session-1".parse().expect("header"));
    }
    r
}

fn json_rpc_error(msg: &Value, code: i64, message: &str) -> Response {
    axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": code, "message": message}})).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_upstream_gets_its_own_credential_never_the_clients_token() {
    let seen = Seen::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route("/mcp", post(move |h: HeaderMap, b: Bytes| mock(s2.clone(), h, b)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let resource = "https://gw.test/mcp";
    let gw = TestGateway::start(&format!(
        "telemetry: {{ access_log: stdout }}\nmcp:\n  auth:\n    resource: \"{resource}\"\n    jwt: {{ issuer: \"{}\", audiences: [\"{resource}\"] }}\n  upstreams:\n    mock:\n      url: \"http://{addr}/mcp\"\n      headers: {{ Authorization: {{ value: \"Bearer upstream-secret\" }}, X-Team: {{ value: \"blue\" }} }}\n",
        idp.issuer
    ))
    .await;
    let jwt = key.sign(&claims(&idp.issuer, resource, "alice"));
    let mut c = RawClient::new(gw.url("/mcp"));
    c.bearer = Some(jwt.clone());
    c.initialize(json!({})).await;
    // Paging: the gateway's cursor carries the upstream's own cursor and the next page comes from it.
    let page1 = c.call("tools/list", json!({})).await;
    assert_eq!(page1.result()["tools"][0]["name"], "mock_one");
    let cursor = page1.result()["nextCursor"].as_str().expect("cursor").to_string();
    assert_ne!(cursor, "p2", "the upstream cursor is wrapped");
    let page2 = c.call("tools/list", json!({"cursor": cursor})).await;
    assert_eq!(page2.result()["tools"][0]["name"], "mock_two");
    assert!(page2.result().get("nextCursor").is_none());
    let bad = c.call("tools/list", json!({"cursor": "p2"})).await;
    assert_eq!(bad.last()["error"]["code"], -32602);
    let r = c.call("tools/call", json!({"name": "mock_one", "arguments": {}})).await;
    assert_eq!(r.result()["content"][0]["text"], "called \"one\"");

    let seen = seen.0.lock().expect("lock").clone();
    let methods: Vec<&str> = seen.iter().filter_map(|(_, m)| m["method"].as_str()).collect();
    assert_eq!(
        methods,
        [
            "initialize",
            "notifications/initialized",
            "tools/list",
            "tools/list",
            "tools/call"
        ]
    );
    for (headers, msg) in &seen {
        assert_eq!(
            headers.get("authorization").expect("auth").to_str().expect("ascii"),
            "Bearer upstream-secret",
            "{msg}"
        );
        assert_eq!(headers.get("x-team").expect("x-team").to_str().expect("ascii"), "blue");
        assert!(!format!("{headers:?}").contains(&jwt), "client token leaked upstream");
    }
    // Access log: one line per exchange, with the principal and never the token.
    for _ in 0..6 {
        let line = gw.next_log().await;
        assert_eq!(line["principal"], "alice");
        assert!(!line.to_string().contains(&jwt));
    }
    // The MCP duration histogram (semantic-convention buckets) by method and upstream.
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains(
            r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",target="mock",error_type=""} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list",target="",error_type="mcp_invalid_cursor"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"le="300.0""#));
    // The upstream saw the client's own initialize params (clientInfo) and its own name for the tool.
    assert_eq!(seen[0].1["params"]["clientInfo"]["name"], "gatehouse-it");
    assert_eq!(seen[4].1["params"]["name"], "one");
    assert_eq!(seen[3].1["params"]["cursor"], "p2");
}

/// Each MCP exchange is exported over OTLP as a SERVER span with the MCP semantic-convention attributes, with one
/// CLIENT span per upstream hop under it; the client's trace continues and reaches the upstream in `traceparent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_span_carries_semantic_convention_attributes() {
    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    let seen = Seen::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route("/mcp", post(move |h: HeaderMap, b: Bytes| mock(s2.clone(), h, b)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let receiver = testkit::OtlpReceiver::start().await;
    let gw = TestGateway::start(&format!(
        "telemetry: {{ access_log: off, traces: {{ endpoint: \"{}\", export_interval: 50ms }} }}\nmcp:\n  upstreams:\n    mock: {{ url: \"http://{addr}/mcp\" }}\n",
        receiver.url()
    ))
    .await;
    let mut c = RawClient::new(gw.url("/mcp"));
    c.initialize(json!({})).await;
    let resp = c
        .request_builder()
        .header("traceparent", format!("00-{TRACE}-b7ad6b7169203331-01"))
        .body(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "mock_one", "arguments": {}}})
                .to_string(),
        )
        .send()
        .await
        .expect("send");
    let r = crate::mcp_support::read_reply(resp).await;
    assert_eq!(r.result()["content"][0]["text"], "called \"one\"");

    // The upstream's tools/call carried the client's trace id, its parent being our hop span.
    let seen = seen.0.lock().expect("lock").clone();
    let (headers, msg) = seen
        .iter()
        .find(|(_, m)| m["method"] == "tools/call")
        .expect("tools/call upstream");
    let tp = headers
        .get("traceparent")
        .expect("traceparent upstream")
        .to_str()
        .expect("ascii");
    assert!(tp.starts_with(&format!("00-{TRACE}-")), "{tp}");
    // The same context in the MCP carrier, `params._meta`, with the call's own params intact.
    assert_eq!(msg["params"]["_meta"]["traceparent"], tp);
    assert_eq!(msg["params"]["name"], "one");
    assert_eq!(msg["params"]["arguments"], json!({}));
    let hop_id = tp.split('-').nth(2).expect("parent").to_string();

    let spans = receiver
        .wait_for(|s| s.iter().filter(|s| s.trace_id == TRACE).count() >= 2)
        .await;
    let server = spans
        .iter()
        .find(|s| s.trace_id == TRACE && s.kind == "SERVER")
        .expect("server span");
    assert_eq!(server.name, "tools/call mock_one");
    assert_eq!(server.parent_span_id, "b7ad6b7169203331");
    for (k, v) in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "mock_one"),
        ("gen_ai.operation.name", "execute_tool"),
        ("jsonrpc.request.id", "2"),
        ("mcp.protocol.version", "2025-11-25"),
        ("gatehouse.target", "mock"),
        ("network.transport", "tcp"),
    ] {
        assert_eq!(server.str(k), Some(v), "{k} in {server:#?}");
    }
    assert!(server.str("mcp.session.id").is_some());
    assert!(!server.error);
    let hop = spans
        .iter()
        .find(|s| s.trace_id == TRACE && s.kind == "CLIENT")
        .expect("hop span");
    assert_eq!(hop.name, "tools/call");
    assert_eq!(hop.parent_span_id, server.span_id);
    assert_eq!(hop.span_id, hop_id);
    assert_eq!(hop.str("server.address"), Some("127.0.0.1"));
    assert_eq!(hop.int("server.port"), Some(i64::from(addr.port())));
    assert_eq!(hop.str("mcp.method.name"), Some("tools/call"));
}
