//! A message pipe to one upstream session, for upstreams without per-message HTTP exchanges: a stdio child process
//! (newline-delimited JSON-RPC on stdin/stdout), or a legacy HTTP+SSE server (`legacy_sse.rs`: messages POSTed to
//! the endpoint it announced, answers read from its SSE stream). One pipe per client session.
//!
//! The program, arguments and environment come from the config only; request data never chooses what runs. The
//! child's environment is cleared except `PATH`, `HOME` and the configured variables, so the gateway's own secrets
//! do not leak into it. stderr lines are logged (bounded). Ids on the pipe are the gateway's own (a counter), so the
//! gateway's internal `initialize` can never collide with a client id; each response is given back the id the client
//! used. Progress notifications go to the request that asked for them (matched by progress token); server→client
//! requests (sampling, elicitation) go to the most recent call in progress (stdio cannot say which call they belong
//! to) — `roots/list`, which belongs to no call, and requests with no call in progress go to the client's GET stream
//! when one is open —, `ping` is answered by the gateway, and a request with nowhere to go gets method-not-found. A
//! child that exits drops every pending request, and the next request of the session starts a new child (with
//! restart backoff, see `McpRuntime`).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use gatehouse_mcp::envelope::{self, Message, Params, codes};
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::error::McpFailure;

/// Longest line read from a child.
const MAX_LINE: u64 = 16 << 20;
/// Longest stderr line logged.
const MAX_LOG_LINE: usize = 2048;

/// One running pipe (a child, or a legacy SSE connection).
pub struct StdioSession {
    target: String,
    out: Outbound,
    reader: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pending: Mutex<HashMap<u64, Pending>>,
    next_id: AtomicU64,
    alive: AtomicBool,
    child: Mutex<Option<Child>>,
    last_used: Mutex<std::time::Instant>,
    unsolicited: Mutex<Option<mpsc::Sender<Bytes>>>,
}

/// Where messages to the upstream go.
enum Outbound {
    /// The child's stdin.
    Stdin(tokio::sync::Mutex<ChildStdin>),
    /// POSTed to a legacy SSE server's message endpoint.
    Post(Box<super::legacy_sse::Endpoint>),
}

struct Pending {
    client_id: Box<RawValue>,
    progress: Option<String>,
    tx: mpsc::Sender<Bytes>,
}

impl std::fmt::Debug for StdioSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioSession")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

// === impl StdioSession ===

impl StdioSession {
    /// Starts the child and its reader tasks.
    pub fn spawn(
        target: &str,
        program: &str,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<std::sync::Arc<Self>, McpFailure> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for var in ["PATH", "HOME"] {
            if let Ok(v) = std::env::var(var) {
                cmd.env(var, v);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut child = cmd.spawn().map_err(|e| McpFailure::Upstream {
            target: target.into(),
            detail: format!("cannot start `{program}`: {}", e.kind()),
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(McpFailure::Upstream {
                target: target.into(),
                detail: "child has no stdio pipes".into(),
            });
        };
        tracing::info!(
            upstream = target,
            program,
            pid = child.id(),
            "MCP stdio upstream started"
        );
        let session = std::sync::Arc::new(Self {
            target: target.to_string(),
            out: Outbound::Stdin(tokio::sync::Mutex::new(stdin)),
            reader: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            alive: AtomicBool::new(true),
            child: Mutex::new(Some(child)),
            last_used: Mutex::new(std::time::Instant::now()),
            unsolicited: Mutex::new(None),
        });
        let name = target.to_string();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line: String = line.chars().take(MAX_LOG_LINE).collect();
                tracing::info!(upstream = %name, stderr = %line, "MCP stdio upstream stderr");
            }
        });
        let reader = std::sync::Arc::downgrade(&session);
        tokio::spawn(async move {
            let mut out = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = match (&mut out).take(MAX_LINE).read_until(b'\n', &mut buf).await {
                    Ok(n) => n,
                    Err(_) => break,
                };
                if n == 0 || (buf.last() != Some(&b'\n') && n as u64 >= MAX_LINE) {
                    break;
                }
                let Some(s) = reader.upgrade() else { break };
                s.on_line(&buf).await;
            }
            if let Some(s) = reader.upgrade() {
                s.died();
            }
        });
        Ok(session)
    }

    /// A pipe whose messages are POSTed to a legacy SSE endpoint; the caller feeds it the SSE stream's messages.
    pub fn for_sse(target: &str, endpoint: super::legacy_sse::Endpoint) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            target: target.to_string(),
            out: Outbound::Post(Box::new(endpoint)),
            reader: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            alive: AtomicBool::new(true),
            child: Mutex::new(None),
            last_used: Mutex::new(std::time::Instant::now()),
            unsolicited: Mutex::new(None),
        })
    }

    /// Hands over the task reading the upstream's messages, stopped with the pipe.
    pub fn set_reader(&self, task: tokio::task::JoinHandle<()>) {
        if let Ok(mut r) = self.reader.lock() {
            *r = Some(task);
        }
    }

    /// One message from the upstream (a line of stdout, or an SSE `message` event).
    pub async fn feed(&self, msg: &[u8]) {
        self.on_line(msg).await;
    }

    /// The upstream end closed.
    pub fn closed(&self) {
        self.died();
    }

    /// Where notifications unrelated to a call go (the client's GET stream); replaces an earlier one.
    pub fn attach(&self, sink: mpsc::Sender<Bytes>) {
        if let Ok(mut u) = self.unsolicited.lock() {
            *u = Some(sink);
        }
    }

    /// Calls in progress.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// When a call was last sent.
    #[must_use]
    pub fn last_used(&self) -> std::time::Instant {
        self.last_used
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|_| std::time::Instant::now())
    }

    /// Whether the child is still running.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Sends a request; the answer (and progress notifications for it) arrive on the returned channel with the
    /// client's id restored.
    pub async fn request(
        &self,
        client_id: &RawValue,
        method: &str,
        params: Option<&RawValue>,
    ) -> Result<mpsc::Receiver<Bytes>, McpFailure> {
        let progress = Params::read(params)
            .ok()
            .and_then(|p| p.progress_token())
            .map(|t| t.get().to_string());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut t) = self.last_used.lock() {
            *t = std::time::Instant::now();
        }
        let (tx, rx) = mpsc::channel(64);
        if let Ok(mut p) = self.pending.lock() {
            p.insert(
                id,
                Pending {
                    client_id: client_id.to_owned(),
                    progress,
                    tx,
                },
            );
        }
        let raw_id = envelope::to_raw(&id)?;
        let line = envelope::request(&raw_id, method, params);
        if let Err(e) = self.write(line).await {
            if let Ok(mut p) = self.pending.lock() {
                p.remove(&id);
            }
            return Err(e);
        }
        Ok(rx)
    }

    /// Sends a notification. A `notifications/cancelled` naming a client id is mapped to the pipe id.
    pub async fn notify(&self, method: &str, params: Option<&RawValue>) -> Result<(), McpFailure> {
        if method == "notifications/cancelled" {
            let mapped = params.and_then(|p| self.map_cancel(p));
            return match mapped {
                Some(p) => self.write(envelope::notification(method, Some(&p))).await,
                None => Ok(()), // unknown or finished request: nothing to cancel
            };
        }
        self.write(envelope::notification(method, params)).await
    }

    /// Writes one complete message (a response to the child's own request).
    pub async fn send_line(&self, line: String) -> Result<(), McpFailure> {
        self.write(line).await
    }

    /// Closes stdin and stops the child.
    pub fn stop(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Ok(mut r) = self.reader.lock()
            && let Some(task) = r.take()
        {
            task.abort();
        }
        if let Ok(mut c) = self.child.lock()
            && let Some(mut child) = c.take()
        {
            let _ = child.start_kill();
            tracing::info!(upstream = %self.target, "MCP stdio upstream stopped");
        }
    }

    fn map_cancel(&self, params: &RawValue) -> Option<Box<RawValue>> {
        #[derive(serde::Deserialize)]
        struct Cancel<'a> {
            #[serde(rename = "requestId", borrow)]
            request_id: &'a RawValue,
        }
        let c: Cancel<'_> = serde_json::from_str(params.get()).ok()?;
        let pending = self.pending.lock().ok()?;
        let (pipe_id, _) = pending.iter().find(|(_, p)| p.client_id.get() == c.request_id.get())?;
        let raw = envelope::to_raw(pipe_id).ok()?;
        let mut map: std::collections::BTreeMap<&str, &RawValue> = serde_json::from_str(params.get()).ok()?;
        map.insert("requestId", &raw);
        serde_json::value::to_raw_value(&map).ok()
    }

    async fn write(&self, mut line: String) -> Result<(), McpFailure> {
        if !self.is_alive() {
            return Err(self.gone());
        }
        match &self.out {
            Outbound::Stdin(stdin) => {
                line.push('\n');
                let mut stdin = stdin.lock().await;
                stdin.write_all(line.as_bytes()).await.map_err(|_| self.gone())?;
                stdin.flush().await.map_err(|_| self.gone())
            }
            Outbound::Post(endpoint) => endpoint.post(&self.target, line).await,
        }
    }

    fn gone(&self) -> McpFailure {
        McpFailure::Upstream {
            target: self.target.clone(),
            detail: "the upstream pipe closed (child exited or SSE stream ended)".into(),
        }
    }

    async fn on_line(&self, line: &[u8]) {
        let msg = match envelope::parse_one(line) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(upstream = %self.target, error = %e, "MCP stdio upstream wrote an invalid message");
                return;
            }
        };
        match msg {
            Message::Response { id, outcome } => {
                let pipe_id = id.and_then(|i| i.get().parse::<u64>().ok());
                let entry = pipe_id.and_then(|i| self.pending.lock().ok()?.remove(&i));
                let Some(p) = entry else { return };
                let out = match outcome {
                    Ok(r) => envelope::result(&p.client_id, r),
                    Err(e) => format!(r#"{{"jsonrpc":"2.0","id":{},"error":{}}}"#, p.client_id.get(), e.get()),
                };
                let _ = p.tx.send(Bytes::from(out)).await;
            }
            Message::Notification { method, params } => {
                let token = (method == "notifications/progress")
                    .then(|| params.and_then(progress_token))
                    .flatten();
                let tx = token.and_then(|t| {
                    let pending = self.pending.lock().ok()?;
                    pending
                        .values()
                        .find(|p| p.progress.as_deref() == Some(t.as_str()))
                        .map(|p| p.tx.clone())
                });
                match tx {
                    Some(tx) => {
                        let _ = tx.send(Bytes::copy_from_slice(line.trim_ascii_end())).await;
                    }
                    None => {
                        let sink = self.unsolicited.lock().ok().and_then(|u| u.clone());
                        let delivered =
                            sink.is_some_and(|tx| tx.try_send(Bytes::copy_from_slice(line.trim_ascii_end())).is_ok());
                        if !delivered {
                            tracing::debug!(upstream = %self.target, method, "MCP notification with no call and no open GET stream; dropped");
                        }
                    }
                }
            }
            Message::Request { id, method, .. } => {
                if method == "ping" {
                    let _ = self.write(envelope::result(id, &empty())).await;
                    return;
                }
                let bytes = Bytes::copy_from_slice(line.trim_ascii_end());
                let sink = self.unsolicited.lock().ok().and_then(|u| u.clone());
                // `roots/list` is about the session, never a call: it goes to the client's GET stream when one is open.
                if method == "roots/list"
                    && let Some(sink) = &sink
                    && sink.try_send(bytes.clone()).is_ok()
                {
                    return;
                }
                // A server→client request (sampling, elicitation) belongs to a call in progress; stdio cannot say
                // which, so it goes to the most recent one (the only one, for a client that calls one tool at a time).
                // With no call in progress it goes to the GET stream, if the client opened one.
                let tx = self
                    .pending
                    .lock()
                    .ok()
                    .and_then(|p| p.iter().max_by_key(|(k, _)| **k).map(|(_, v)| v.tx.clone()));
                match tx.or(sink) {
                    Some(tx) => {
                        let _ = tx.send(bytes).await;
                    }
                    None => {
                        let answer = envelope::error(
                            Some(id),
                            codes::METHOD_NOT_FOUND,
                            "no call in progress to relate it to",
                            None,
                        );
                        let _ = self.write(answer).await;
                    }
                }
            }
        }
    }

    fn died(&self) {
        self.alive.store(false, Ordering::SeqCst);
        if let Ok(mut p) = self.pending.lock() {
            p.clear();
        }
        tracing::warn!(upstream = %self.target, "MCP stdio upstream exited");
    }
}

impl Drop for StdioSession {
    fn drop(&mut self) {
        self.stop();
    }
}

fn progress_token(params: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct P<'a> {
        #[serde(rename = "progressToken", borrow)]
        token: &'a RawValue,
    }
    serde_json::from_str::<P<'_>>(params.get())
        .ok()
        .map(|p| p.token.get().to_string())
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".into()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}
