//! [`MockOpenAi`]: a strict OpenAI-compatible upstream on `127.0.0.1:0` that records everything it receives.
//!
//! Invariants: every request is recorded (refused ones too, with their [`Rejection`]) before it is answered;
//! replies come from the FIFO queue first, then the default; dropping the mock closes the listener and every open
//! connection, including hung ones and HTTP/2 streams.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::journal::{Counter, DropGuard, Journal, Recorded};
use crate::render::{self, render};
use crate::reply::Reply;
use crate::sse_body::MockBody;
use crate::validate::{self, Dialect, Rejection, Route};

/// A running mock OpenAI-compatible upstream. Point the gateway at [`base_url`](MockOpenAi::base_url), then
/// assert on [`requests`](MockOpenAi::requests).
///
/// Strict like the real API: see [`Rejection`] for what it refuses and the order of the checks. `GET /v1/models`
/// always lists the configured models and never consumes a reply.
#[derive(Debug)]
pub struct MockOpenAi {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
    connections: Arc<AtomicUsize>,
}

/// Configures a [`MockOpenAi`] before it starts.
#[derive(Debug)]
pub struct MockOpenAiBuilder {
    api_key: Option<String>,
    azure: Option<(String, Vec<String>)>,
    reply: Reply,
    queue: VecDeque<Reply>,
    models: Vec<String>,
    bind: Option<SocketAddr>,
}

#[derive(Debug)]
struct State {
    dialect: Dialect,
    models: Vec<String>,
    journal: Arc<Journal>,
    default_reply: Mutex<Reply>,
    queue: Mutex<VecDeque<Reply>>,
}

// === impl MockOpenAi ===

impl MockOpenAi {
    /// Starts configuring a mock; without further calls it answers `Reply::chat("ok")` and requires no key.
    pub fn builder() -> MockOpenAiBuilder {
        MockOpenAiBuilder {
            api_key: None,
            azure: None,
            reply: Reply::chat("ok"),
            queue: VecDeque::new(),
            models: vec!["mock-model".to_string()],
            bind: None,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: gateway configs append `/v1/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TCP connections accepted so far: a client that reuses a pooled connection adds none.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every request received so far, in arrival order, refused ones included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.journal.requests()
    }

    /// Waits until at least `n` requests were recorded and returns them all. Has no timeout of its own: wrap it in
    /// `tokio::time::timeout` if the request might never come.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<Recorded> {
        self.state.journal.wait_received(n).await;
        self.requests()
    }

    /// Replaces the default reply; applies to requests that arrive from now on (and to none already in flight).
    pub fn set_reply(&self, reply: Reply) {
        *lock(&self.state.default_reply) = reply;
    }

    /// Queues a one-shot reply: queued replies are used first, in order, then the default.
    pub fn push_reply(&self, reply: Reply) {
        lock(&self.state.queue).push_back(reply);
    }

    /// How many streamed responses were dropped before their last frame: the peer went away mid-stream.
    pub fn cancelled_streams(&self) -> usize {
        self.state.journal.count(Counter::CancelledStream)
    }

    /// Waits until at least `n` streamed responses were cancelled; no timeout of its own.
    pub async fn wait_cancelled(&self, n: usize) {
        self.state.journal.wait_count(Counter::CancelledStream, n).await;
    }

    /// How many accepted requests were dropped before any response was produced (e.g. the gateway timed out a
    /// [`Reply::hang`] or [`Reply::delay`] and closed the connection).
    pub fn abandoned_requests(&self) -> usize {
        self.state.journal.count(Counter::AbandonedRequest)
    }

    /// Waits until at least `n` requests were abandoned; no timeout of its own.
    pub async fn wait_abandoned(&self, n: usize) {
        self.state.journal.wait_count(Counter::AbandonedRequest, n).await;
    }
}

impl Drop for MockOpenAi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// === impl MockOpenAiBuilder ===

impl MockOpenAiBuilder {
    /// Requires `Authorization: Bearer <key>` exactly (in [`azure`](Self::azure) mode: `api-key: <key>`), so tests
    /// prove the gateway sends the upstream credential.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Imitates Azure OpenAI instead: requests must go to `/openai/deployments/{deployment}/...` for one of
    /// `deployments`, with exactly `?api-version=<api_version>`, and the key (if set) in an `api-key` header with
    /// no `Authorization` header (Azure would take that as an Entra ID token). `model` in the body is optional; the
    /// deployment name is echoed when it is absent. `GET /v1/models` is not served; Azure's own list,
    /// `GET /openai/models?api-version=…`, is (with the same version and key checks).
    #[must_use]
    pub fn azure(mut self, api_version: &str, deployments: &[&str]) -> Self {
        self.azure = Some((
            api_version.to_string(),
            deployments.iter().map(|d| (*d).to_string()).collect(),
        ));
        self
    }

    /// The default reply, used whenever the queue is empty.
    #[must_use]
    pub fn reply(mut self, reply: Reply) -> Self {
        self.reply = reply;
        self
    }

    /// Queues a one-shot reply (see [`MockOpenAi::push_reply`]).
    #[must_use]
    pub fn push_reply(mut self, reply: Reply) -> Self {
        self.queue.push_back(reply);
        self
    }

    /// The model ids `GET /v1/models` lists (default: `mock-model`).
    #[must_use]
    pub fn models(mut self, ids: &[&str]) -> Self {
        self.models = ids.iter().map(|id| (*id).to_string()).collect();
        self
    }

    /// Serves on `addr` instead of a free port: to restart an upstream on the port of a mock that was dropped (a
    /// killed and restored primary). Binding waits up to 5 s for the old listener to close.
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Some(addr);
        self
    }

    /// Binds `127.0.0.1:0` (or the [`bind`](Self::bind) address) and starts serving; returns once the listener is
    /// bound, so the URL is usable at once.
    pub async fn start(self) -> MockOpenAi {
        let listener = match self.bind {
            Some(addr) => crate::listener_on(addr).await,
            None => crate::free_port_listener().await,
        };
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("mock listener has no address: {e}"));
        let dialect = match self.azure {
            None => Dialect::OpenAi { api_key: self.api_key },
            Some((api_version, deployments)) => Dialect::Azure {
                api_key: self.api_key,
                api_version,
                deployments,
            },
        };
        let state = Arc::new(State {
            dialect,
            models: self.models,
            journal: Arc::new(Journal::new()),
            default_reply: Mutex::new(self.reply),
            queue: Mutex::new(self.queue),
        });
        let shutdown = CancellationToken::new();
        let serving = state.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        crate::listener::spawn_serve_counting(listener, &shutdown, connections.clone(), move |req| {
            handle(serving.clone(), req)
        });
        MockOpenAi {
            addr,
            state,
            shutdown,
            connections,
        }
    }
}

// === serving ===

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let (body, verdict) = match body.collect().await {
        Ok(collected) => {
            let body = collected.to_bytes();
            let verdict = validate::check(&parts.method, &parts.uri, &parts.headers, &body, &state.dialect);
            (body, verdict)
        }
        Err(_) => (Bytes::new(), Err(Rejection::IncompleteBody)),
    };
    let path = parts.uri.path().to_string();
    let seq = state.journal.record(Recorded {
        method: parts.method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        received_at: Instant::now(),
        rejection: verdict.as_ref().err().cloned(),
    });
    match verdict {
        Err(rejection) => render::full(
            rejection.status(),
            http::HeaderValue::from_static("application/json"),
            rejection.body(&parts.method, &path),
        ),
        Ok(Route::Models) => {
            let data: Vec<_> = state
                .models
                .iter()
                .map(|id| json!({"id": id, "object": "model", "created": crate::openai_json::CREATED, "owned_by": "testkit"}))
                .collect();
            render::json(StatusCode::OK, &json!({"object": "list", "data": data}))
        }
        Ok(Route::Generate(accepted)) => {
            let reply = state.next_reply();
            let mut guard = DropGuard::new(&state.journal, Counter::AbandonedRequest);
            let response = render(reply, &accepted, seq, &state.journal).await;
            guard.complete();
            response
        }
    }
}

// === impl State ===

impl State {
    fn next_reply(&self) -> Reply {
        lock(&self.queue)
            .pop_front()
            .unwrap_or_else(|| lock(&self.default_reply).clone())
    }
}

/// Locks `m`, ignoring poisoning: a panicking test thread must not turn every later assertion into a second panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
