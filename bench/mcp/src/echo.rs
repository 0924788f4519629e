//! `mcp-echo`: a minimal, fast MCP server (Streamable HTTP, session era) with one `echo` tool, so the benchmark can
//! measure gatehouse's own hop against an upstream that answers in microseconds. server-everything (node) answers an
//! echo in ~4 ms with a p99 that moves by several ms from run to run, which hides a sub-millisecond difference; this
//! server keeps the baseline still enough to resolve the "added p99 ≤ 1 ms" target.
//!
//! It answers like server-everything does (JSON for `initialize`, SSE `event: message` for calls, 202 for
//! notifications) and is strict where the transport is: `Accept` must list both JSON and SSE, every request after
//! `initialize` must carry a session id it issued (404 otherwise), unknown methods get `-32601`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Debug)]
struct Args {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

#[derive(Default)]
struct Sessions {
    issued: Mutex<HashSet<String>>,
    next: std::sync::atomic::AtomicU64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    // run.sh reads the port from this line.
    println!("mcp-echo listening on {}", listener.local_addr()?);
    let app = Router::new()
        .route("/mcp", post(handle).get(|| async { StatusCode::METHOD_NOT_ALLOWED }))
        .with_state(Arc::new(Sessions::default()));
    axum::serve(listener, app).await?;
    Ok(())
}

async fn handle(State(s): State<Arc<Sessions>>, headers: HeaderMap, body: Bytes) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list application/json and text/event-stream",
        )
            .into_response();
    }
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return rpc_error(StatusCode::BAD_REQUEST, &Value::Null, -32700, "parse error");
    };
    let method = msg["method"].as_str().unwrap_or("");
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    if method == "initialize" {
        let n = s.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sid = format!("echo-{n:016x}");
        if let Ok(mut issued) = s.issued.lock() {
            issued.insert(sid.clone());
        }
        let version = msg["params"]["protocolVersion"].as_str().unwrap_or("2025-11-25");
        let result = json!({"protocolVersion": version, "capabilities": {"tools": {}},
            "serverInfo": {"name": "mcp-echo", "version": "1"}});
        let mut r = axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response();
        if let Ok(v) = HeaderValue::from_str(&sid) {
            r.headers_mut().insert("mcp-session-id", v);
        }
        return r;
    }
    let known = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sid| s.issued.lock().is_ok_and(|i| i.contains(sid)));
    if !known {
        return rpc_error(StatusCode::NOT_FOUND, &id, -32001, "session not found");
    }
    if msg.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response(); // a notification (or a response to us: we never ask)
    }
    let result = match method {
        "tools/list" => json!({"tools": [{"name": "echo", "description": "Echoes back the input",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}}]}),
        "tools/call" if msg["params"]["name"] == "echo" => {
            let text = format!("Echo: {}", msg["params"]["arguments"]["message"].as_str().unwrap_or(""));
            json!({"content": [{"type": "text", "text": text}]})
        }
        "ping" => json!({}),
        _ => return rpc_error(StatusCode::OK, &id, -32601, "method not found"),
    };
    let data = json!({"jsonrpc": "2.0", "id": id, "result": result});
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        format!("event: message\ndata: {data}\n\n"),
    )
        .into_response()
}

fn rpc_error(status: StatusCode, id: &Value, code: i64, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})),
    )
        .into_response()
}
