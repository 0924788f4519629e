//! Real MCP upstreams for the MCP tests: `@modelcontextprotocol/server-everything` (installed by `scripts/test.sh`
//! from `tests/mcp/package-lock.json`) run with node over Streamable HTTP or stdio, and a small raw MCP client that
//! speaks the wire protocol directly (JSON or SSE answers), so tests can assert on exact statuses and headers.
//!
//! Without GATEHOUSE_MCP_EVERYTHING / GATEHOUSE_TEST_NODE the tests say so and pass, unless
//! GATEHOUSE_REQUIRE_INTEROP is set (as it is in `scripts/test.sh`), in which case they fail.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

/// node and the server-everything entry point.
pub struct Everything {
    pub node: String,
    pub script: String,
}

pub fn everything() -> Option<Everything> {
    match (
        std::env::var("GATEHOUSE_TEST_NODE"),
        std::env::var("GATEHOUSE_MCP_EVERYTHING"),
    ) {
        (Ok(node), Ok(script)) if !node.is_empty() && !script.is_empty() => Some(Everything { node, script }),
        _ => {
            assert!(
                std::env::var("GATEHOUSE_REQUIRE_INTEROP").is_err(),
                "GATEHOUSE_REQUIRE_INTEROP is set but GATEHOUSE_TEST_NODE / GATEHOUSE_MCP_EVERYTHING are not"
            );
            eprintln!("SKIPPED: MCP tests need server-everything from scripts/test.sh (GATEHOUSE_MCP_EVERYTHING)");
            None
        }
    }
}

/// A server-everything child in Streamable HTTP mode.
pub struct HttpEverything {
    pub child: tokio::process::Child,
    pub port: u16,
}

impl Everything {
    /// The YAML `command:` list running it over stdio.
    pub fn stdio_command(&self) -> String {
        format!("[\"{}\", \"{}\", \"stdio\"]", self.node, self.script)
    }

    /// Starts it over Streamable HTTP on a free port (or the given one) and waits until it listens.
    pub async fn start_http(&self, port: Option<u16>) -> HttpEverything {
        let port = match port {
            Some(p) => p,
            None => {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                l.local_addr().expect("addr").port()
            }
        };
        let mut child = tokio::process::Command::new(&self.node)
            .arg(&self.script)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn server-everything");
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if l.contains("listening on port")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("server-everything did not listen within 30s")
            .expect("server-everything exited");
        HttpEverything { child, port }
    }
}

impl Everything {
    /// Starts it in legacy HTTP+SSE mode (`/sse` + `/message`) on a free port and waits until it listens.
    pub async fn start_sse(&self) -> HttpEverything {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let mut child = tokio::process::Command::new(&self.node)
            .arg(&self.script)
            .arg("sse")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn server-everything");
        let out = child.stderr.take().expect("stderr");
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if l.contains("running on port")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("server-everything (sse) did not listen within 30s")
            .expect("server-everything exited");
        HttpEverything { child, port }
    }
}

impl HttpEverything {
    pub fn sse_url(&self) -> String {
        format!("http://127.0.0.1:{}/sse", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }
}

/// What one POST got back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// Every JSON-RPC message (one for a JSON answer, all events for SSE).
    pub messages: Vec<Value>,
    pub sse: bool,
}

impl Reply {
    /// The last message (the response).
    pub fn last(&self) -> &Value {
        self.messages.last().expect("a message")
    }

    pub fn result(&self) -> &Value {
        let last = self.last();
        assert!(last.get("error").is_none(), "unexpected error: {last}");
        &last["result"]
    }
}

/// A raw MCP client session against a gateway URL.
pub struct RawClient {
    pub http: reqwest::Client,
    pub url: String,
    pub session: Option<String>,
    pub bearer: Option<String>,
    next: u64,
}

impl RawClient {
    pub fn new(url: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            url,
            session: None,
            bearer: None,
            next: 1,
        }
    }

    pub fn request_builder(&self) -> reqwest::RequestBuilder {
        let mut b = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(s) = &self.session {
            b = b
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        if let Some(t) = &self.bearer {
            b = b.bearer_auth(t);
        }
        b
    }

    pub async fn send_raw(&self, body: String) -> Reply {
        let resp = self.request_builder().body(body).send().await.expect("send");
        read_reply(resp).await
    }

    /// Sends a request with a fresh id.
    pub async fn call(&mut self, method: &str, params: Value) -> Reply {
        let id = self.next;
        self.next += 1;
        self.send_raw(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
            .await
    }

    /// `initialize` + `notifications/initialized`; keeps the session token.
    pub async fn initialize(&mut self, capabilities: Value) -> Reply {
        let r = self
            .call(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": capabilities, "clientInfo": {"name": "gatehouse-it", "version": "1"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        let sid = r
            .headers
            .get("mcp-session-id")
            .expect("session header")
            .to_str()
            .expect("ascii");
        self.session = Some(sid.to_string());
        let n = self
            .send_raw(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
            .await;
        assert_eq!(n.status, 202);
        r
    }

    pub async fn tool_names(&mut self) -> Vec<String> {
        let r = self.call("tools/list", json!({})).await;
        r.result()["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().expect("name").to_string())
            .collect()
    }
}

pub async fn read_reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let sse = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = resp.text().await.expect("body");
    let messages = if sse {
        text.split("\n\n")
            .filter_map(|ev| {
                let data: Vec<&str> = ev
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                (!data.is_empty() && !data.concat().is_empty())
                    .then(|| serde_json::from_str(&data.join("\n")).expect("event JSON"))
            })
            .collect()
    } else if text.is_empty() {
        Vec::new()
    } else {
        vec![serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"))]
    };
    Reply {
        status,
        headers,
        messages,
        sse,
    }
}
