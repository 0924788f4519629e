//! The stateless 2026-07-28 era on `/mcp`, driven by hand-built HTTP requests (every header and envelope visible):
//! against real server-everything upstreams (HTTP + stdio), with the header/body checks the spec requires, and
//! against a strict recording mock to see the upstream sessions gatehouse holds per principal.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::jwt_support::{Idp, SigningKey, claims};
use crate::mcp_support::{Reply, everything, read_reply};
use crate::support::TestGateway;

pub const MODERN: &str = "2026-07-28";

/// A stateless client: no session, every request carries its envelope and routing headers.
pub struct Stateless {
    pub http: reqwest::Client,
    pub url: String,
    pub bearer: Option<String>,
    pub capabilities: Value,
}

impl Stateless {
    pub fn new(url: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            url,
            bearer: None,
            capabilities: json!({}),
        }
    }

    /// The request body with the envelope in `params._meta`.
    pub fn body(&self, id: Value, method: &str, mut params: Value) -> Value {
        params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(MODERN);
        params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = self.capabilities.clone();
        params["_meta"]["io.modelcontextprotocol/clientInfo"] = json!({"name": "gatehouse-it", "version": "1"});
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    /// POSTs `body` with exactly `headers` (besides Content-Type/Accept/Authorization).
    pub async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut b = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if let Some(t) = &self.bearer {
            b = b.bearer_auth(t);
        }
        read_reply(b.body(body.to_string()).send().await.expect("send")).await
    }

    /// A well-formed request: headers mirror the body.
    pub async fn call(&self, id: Value, method: &str, params: Value) -> Reply {
        let body = self.body(id, method, params.clone());
        let name = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
        if let Some(n) = name.as_deref() {
            headers.push(("mcp-name", n));
        }
        self.post(&body, &headers).await
    }
}

fn texts(r: &Reply) -> String {
    r.result()["content"][0]["text"].as_str().expect("text").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_era_serves_discover_and_calls() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&crate::mcp::config(&up.url(), &ev.stdio_command())).await;
    let c = Stateless::new(gw.url("/mcp"));

    let d = c.call(json!(1), "server/discover", json!({})).await;
    assert_eq!(d.status, 200, "{d:?}");
    assert!(
        d.headers.get("mcp-session-id").is_none(),
        "no session in the stateless era"
    );
    let r = d.result();
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["supportedVersions"][0], MODERN);
    assert!(
        r["supportedVersions"]
            .as_array()
            .expect("versions")
            .contains(&json!("2025-11-25"))
    );
    assert!(r["capabilities"]["tools"].is_object() && r["capabilities"]["prompts"].is_object());
    assert!(
        r["capabilities"].get("logging").is_none(),
        "logging/setLevel is gone from this era"
    );
    assert_eq!(r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "gatehouse");
    let instructions = r["instructions"].as_str().expect("instructions");
    assert!(instructions.contains("[everything]") && instructions.contains("[local]"));

    let tools = c.call(json!("list"), "tools/list", json!({})).await;
    assert_eq!(tools.last()["id"], "list");
    let t = tools.result();
    assert_eq!(
        (t["resultType"].as_str(), t["ttlMs"].as_i64(), t["cacheScope"].as_str()),
        (Some("complete"), Some(0), Some("private"))
    );
    let names: Vec<&str> = t["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"everything_echo") && names.contains(&"local_get-sum"),
        "{names:?}"
    );
    // Back-channel capabilities are never offered upstream (no server→client requests in this era).
    assert!(
        !names.iter().any(|n| n.ends_with("trigger-sampling-request")),
        "{names:?}"
    );

    let echo = c
        .call(
            json!(7),
            "tools/call",
            json!({"name": "everything_echo", "arguments": {"message": "hi"}}),
        )
        .await;
    assert_eq!(echo.status, 200);
    assert!(echo.headers.get("mcp-session-id").is_none());
    assert_eq!(texts(&echo), "Echo: hi");
    assert_eq!(echo.last()["id"], 7, "the client's id comes back");
    assert_eq!(echo.result()["resultType"], "complete");
    let sum = c
        .call(
            json!(8),
            "tools/call",
            json!({"name": "local_get-sum", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert!(texts(&sum).contains('5'), "{sum:?}");

    // Self-contained requests reusing one id concurrently: each gets its own answer (gatehouse numbers them apart
    // inside the upstream session it holds for this caller).
    let calls = (0..6).map(|i| {
        let c = &c;
        async move {
            let target = if i % 2 == 0 { "everything_echo" } else { "local_echo" };
            let r = c
                .call(
                    json!(1),
                    "tools/call",
                    json!({"name": target, "arguments": {"message": format!("m{i}")}}),
                )
                .await;
            (i, r)
        }
    });
    for (i, r) in futures_util::future::join_all(calls).await {
        assert_eq!(r.last()["id"], 1);
        assert_eq!(texts(&r), format!("Echo: m{i}"));
    }

    let p = c
        .call(
            json!(9),
            "prompts/get",
            json!({"name": "local_args-prompt", "arguments": {"city": "Paris"}}),
        )
        .await;
    assert!(
        p.result()["messages"][0]["content"]["text"]
            .as_str()
            .expect("text")
            .contains("Paris")
    );
    let uri = "everything+demo://resource/static/document/architecture.md";
    let read = c.call(json!(10), "resources/read", json!({"uri": uri})).await;
    assert_eq!(read.result()["contents"][0]["uri"], uri);

    // Progress rides the call's SSE answer.
    let long = c
        .call(
            json!(11),
            "tools/call",
            json!({"name": "everything_trigger-long-running-operation", "arguments": {"duration": 0.3, "steps": 3}, "_meta": {"progressToken": "tok"}}),
        )
        .await;
    assert!(long.sse);
    let progress = long
        .messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .count();
    assert_eq!(progress, 3, "{:?}", long.messages);
    assert_eq!(long.last()["id"], 11);

    // Errors carry the status the modern table gives their code.
    let unknown = c
        .call(json!(12), "tools/call", json!({"name": "nope_x", "arguments": {}}))
        .await;
    assert_eq!(
        (unknown.status, unknown.last()["error"]["code"].as_i64()),
        (400, Some(-32602))
    );
    let gone = c.call(json!(13), "initialize", json!({})).await;
    assert_eq!(
        (gone.status, gone.last()["error"]["code"].as_i64()),
        (404, Some(-32601))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_era_checks_headers_against_the_body() {
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let gw = TestGateway::start(&format!(
        "mcp:\n  session_key: {{ value: \"{}\" }}\n  upstreams:\n    everything: {{ url: \"{}\" }}\n",
        crate::mcp::KEY,
        up.url()
    ))
    .await;
    let c = Stateless::new(gw.url("/mcp"));
    let call = c.body(
        json!(1),
        "tools/call",
        json!({"name": "everything_echo", "arguments": {"message": "x"}}),
    );
    let mismatch = |r: &Reply| {
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.last()["error"]["code"], -32020, "{r:?}");
        assert_eq!(r.last()["id"], 1);
    };
    // Mcp-Method differs, is missing; Mcp-Name missing, differs, sent twice; version header differs.
    mismatch(
        &c.post(
            &call,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/list"),
                ("mcp-name", "everything_echo"),
            ],
        )
        .await,
    );
    mismatch(
        &c.post(
            &call,
            &[("mcp-protocol-version", MODERN), ("mcp-name", "everything_echo")],
        )
        .await,
    );
    mismatch(
        &c.post(&call, &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call")])
            .await,
    );
    mismatch(
        &c.post(
            &call,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "everything_get-env"),
            ],
        )
        .await,
    );
    mismatch(
        &c.post(
            &call,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "everything_echo"),
                ("mcp-name", "everything_echo"),
            ],
        )
        .await,
    );
    // An envelope without the version header is still checked (and refused), never served as session era.
    mismatch(
        &c.post(&call, &[("mcp-method", "tools/call"), ("mcp-name", "everything_echo")])
            .await,
    );
    // The spec's base64 form of the name matches.
    let ok = c
        .post(
            &call,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?ZXZlcnl0aGluZ19lY2hv?="),
            ],
        )
        .await;
    assert_eq!(texts(&ok), "Echo: x");
    // A session header is ignored in this era (nothing is handed out, nothing is required).
    let ok = c
        .post(
            &call,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "tools/call"),
                ("mcp-name", "everything_echo"),
                ("mcp-session-id", "whatever"),
            ],
        )
        .await;
    assert_eq!(texts(&ok), "Echo: x");
    // No envelope → -32602.
    let bare = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let r = c
        .post(&bare, &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/list")])
        .await;
    assert_eq!((r.status, r.last()["error"]["code"].as_i64()), (400, Some(-32602)));
    // A version we do not serve in the envelope → -32022 listing what we do serve.
    let mut future = c.body(json!(3), "tools/list", json!({}));
    future["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2027-01-01");
    let r = c
        .post(
            &future,
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/list")],
        )
        .await;
    assert_eq!(r.last()["error"]["code"], -32020, "header and envelope disagree first");
    let r = c.post(&future, &[("mcp-method", "tools/list")]).await;
    assert_eq!(r.last()["error"]["code"], -32020);
    // Notifications are acknowledged; responses refused; GET and DELETE are not part of this era.
    let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}});
    assert_eq!(
        c.post(
            &note,
            &[
                ("mcp-protocol-version", MODERN),
                ("mcp-method", "notifications/cancelled")
            ]
        )
        .await
        .status,
        202
    );
    let resp = json!({"jsonrpc": "2.0", "id": 5, "result": {}});
    assert_eq!(c.post(&resp, &[("mcp-protocol-version", MODERN)]).await.status, 400);
    for m in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = c
            .http
            .request(m.clone(), &c.url)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 405, "{m}");
        assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    }
}

// === a recording upstream ===

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Value>>>);

/// A strict session-era server: sessions it issued only, ids unique among requests in flight per session.
async fn mock(seen: Seen, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "json").into_response();
    };
    let method = msg["method"].as_str().unwrap_or_default().to_string();
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut log = seen.0.lock().expect("lock");
    let issued = log.iter().filter(|m| m["method"] == "initialize").count();
    if method != "initialize" {
        let known = session
            .as_deref()
            .and_then(|s| s.strip_prefix("s-"))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 1 && n <= issued);
        if !known || headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok()) != Some("2025-11-25") {
            return (StatusCode::NOT_FOUND, "session").into_response();
        }
    }
    log.push(json!({"method": method, "session": session, "id": msg["id"], "params": msg["params"]}));
    drop(log);
    if msg.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    let result = match method.as_str() {
        "initialize" => {
            json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "mock", "version": "1"}})
        }
        "tools/list" => json!({"tools": [{"name": "one", "inputSchema": {"type": "object"}}]}),
        "tools/call" => json!({"content": [{"type": "text", "text": "called"}]}),
        _ => {
            return axum::Json(
                json!({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "nope"}}),
            )
            .into_response();
        }
    };
    let mut r = axum::Json(json!({"jsonrpc": "2.0", "id": msg["id"], "result": result})).into_response();
    if method == "initialize" {
        let n = issued + 1;
        r.headers_mut()
            .insert("mcp-session-id", format!("s-{n}").parse().expect("header"));
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stateless_era_holds_upstream_sessions_per_principal() {
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
        "mcp:\n  auth:\n    resource: \"{resource}\"\n    jwt: {{ issuer: \"{}\", audiences: [\"{resource}\"] }}\n  upstreams:\n    mock: {{ url: \"http://{addr}/mcp\" }}\n",
        idp.issuer
    ))
    .await;
    let mut alice = Stateless::new(gw.url("/mcp"));
    alice.bearer = Some(key.sign(&claims(&idp.issuer, resource, "alice")));
    alice.capabilities = json!({"sampling": {}, "roots": {"listChanged": true}, "experimental": {"x": {}}});
    let mut bob = Stateless::new(gw.url("/mcp"));
    bob.bearer = Some(key.sign(&claims(&idp.issuer, resource, "bob")));

    for _ in 0..3 {
        let r = alice
            .call(
                json!(1),
                "tools/call",
                json!({"name": "mock_one", "arguments": {}, "_meta": {"progressToken": 5}}),
            )
            .await;
        assert_eq!(texts(&r), "called");
        assert_eq!(r.last()["id"], 1);
    }
    let r = bob.call(json!(1), "tools/list", json!({})).await;
    assert_eq!(r.result()["tools"][0]["name"], "mock_one");
    // Without a token: 401 like the session era.
    let anon = Stateless::new(gw.url("/mcp"));
    assert_eq!(anon.call(json!(1), "tools/list", json!({})).await.status, 401);

    let seen = seen.0.lock().expect("lock").clone();
    let inits: Vec<&Value> = seen.iter().filter(|m| m["method"] == "initialize").collect();
    assert_eq!(inits.len(), 2, "one upstream session per principal, reused: {seen:#?}");
    // Alice's upstream session was opened with her capabilities minus those no stateless request can carry (roots;
    // sampling stays: it comes back as `input_required`), and her client info.
    let alice_init = &inits[0]["params"];
    assert_eq!(
        alice_init["capabilities"],
        json!({"sampling": {}, "experimental": {"x": {}}})
    );
    assert_eq!(alice_init["clientInfo"]["name"], "gatehouse-it");
    assert_eq!(alice_init["protocolVersion"], "2025-11-25");
    let calls: Vec<&Value> = seen.iter().filter(|m| m["method"] == "tools/call").collect();
    assert_eq!(calls.len(), 3);
    assert!(
        calls.iter().all(|c| c["session"] == inits_session(&seen, 0)),
        "alice's calls share her session"
    );
    // The envelope stays at the gateway; the rest of `_meta` goes on. Ids are the gateway's, distinct per request.
    for c in &calls {
        assert_eq!(c["params"]["_meta"], json!({"progressToken": 5}));
        assert_eq!(c["params"]["name"], "one");
    }
    let mut ids: Vec<String> = calls.iter().map(|c| c["id"].to_string()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{ids:?}");
    // (Alice's first call listed her tools for the `Mcp-Param-*` check; Bob's list is the last one.)
    let bob_list = seen
        .iter()
        .rev()
        .find(|m| m["method"] == "tools/list")
        .expect("bob's list");
    assert_ne!(
        bob_list["session"],
        inits_session(&seen, 0),
        "principals never share an upstream session"
    );
}

/// The session id the `n`-th initialize was given (the mock numbers them from 1).
fn inits_session(_seen: &[Value], n: usize) -> Value {
    json!(format!("s-{}", n + 1))
}

/// The official MCP Python SDK (2.3) speaking 2026-07-28 to two gatehouse replicas in front of server-everything over
/// Streamable HTTP and stdio, alternating replicas on every request (tests/interop/mcp_sdk_stateless.py): pinned to
/// the era, and in its default `auto` mode, which probes `server/discover` and must settle on the stateless era.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_stateless_era() {
    let Some(python) = crate::interop::python() else { return };
    let Some(ev) = everything() else { return };
    let up = ev.start_http(None).await;
    let cfg = crate::mcp::config(&up.url(), &ev.stdio_command());
    let a = TestGateway::start(&cfg).await;
    let b = TestGateway::start(&cfg).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop/mcp_sdk_stateless.py");
    for mode in [MODERN, "auto"] {
        let (ua, ub, py) = (a.url("/mcp"), b.url("/mcp"), python.clone());
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(py)
                .arg(script)
                .arg(ua)
                .arg(ub)
                .arg(mode)
                .output()
        })
        .await
        .expect("join")
        .expect("run python");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "MCP SDK stateless interop ({mode}) failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("ok"), "{mode}");
    }
}
