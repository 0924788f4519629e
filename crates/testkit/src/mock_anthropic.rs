//! [`MockAnthropic`]: a strict Anthropic Messages API upstream on `127.0.0.1:0` that records everything it receives.
//!
//! Invariants: every request is recorded (refused ones too, with their [`AnthropicRejection`]) before it is
//! answered; replies come from the FIFO queue first, then the default; refusals never consume a reply; dropping
//! the mock closes the listener and every open connection, including hung ones and HTTP/2 streams.
//!
//! Layout: [`validate`] (route, headers, top-level fields) → [`messages`] and [`options`] (the body's rules) →
//! [`render`] / [`events`] (the answer) — each module documents the real-API facts it encodes.

mod events;
mod messages;
mod options;
mod rejection;
mod render;
mod reply;
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

pub use self::rejection::AnthropicRejection;
pub use self::reply::AnthropicReply;
use self::validate::Policy;
use crate::journal::{Counter, DropGuard, Journal, Recorded};
use crate::sse_body::MockBody;

/// A request as [`MockAnthropic`] received it, with its refusal (if any) in Anthropic's terms.
pub type AnthropicRecorded = Recorded<AnthropicRejection>;

/// A running mock of Anthropic's `POST /v1/messages`. Point the gateway at [`base_url`](MockAnthropic::base_url),
/// then assert on [`requests`](MockAnthropic::requests): the headers it sent (`x-api-key`, `anthropic-version`,
/// no client credential) and the translated body.
///
/// Strict like the real API: see [`AnthropicRejection`] for what it refuses and the `validate`, `messages` and
/// `options` modules for the rules and their order.
#[derive(Debug)]
pub struct MockAnthropic {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
}

/// Configures a [`MockAnthropic`] before it starts.
#[derive(Debug)]
pub struct MockAnthropicBuilder {
    policy: Policy,
    reply: AnthropicReply,
    queue: VecDeque<AnthropicReply>,
}

#[derive(Debug)]
struct State {
    policy: Policy,
    journal: Arc<Journal<AnthropicRejection>>,
    default_reply: Mutex<AnthropicReply>,
    queue: Mutex<VecDeque<AnthropicReply>>,
}

// === impl MockAnthropic ===

impl MockAnthropic {
    /// Starts configuring a mock. Defaults: answers `AnthropicReply::message("ok")`, requires no key (any or no
    /// `x-api-key` passes), accepts `anthropic-version` `2023-06-01`, `2023-01-01` and `2026-10-21` (the one the
    /// current Python SDK sends), and refuses `temperature` with `top_p` as current models do.
    pub fn builder() -> MockAnthropicBuilder {
        MockAnthropicBuilder {
            policy: Policy {
                api_key: None,
                versions: ["2023-06-01", "2023-01-01", "2026-10-21"].map(str::to_string).to_vec(),
                sampling_exclusive: true,
            },
            reply: AnthropicReply::message("ok"),
            queue: VecDeque::new(),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the gateway appends `/v1/messages`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order, refused ones included.
    pub fn requests(&self) -> Vec<AnthropicRecorded> {
        self.state.journal.requests()
    }

    /// Waits until at least `n` requests were recorded and returns them all. Has no timeout of its own: wrap it in
    /// `tokio::time::timeout` if the request might never come.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<AnthropicRecorded> {
        self.state.journal.wait_received(n).await;
        self.requests()
    }

    /// Replaces the default reply; applies to requests that arrive from now on (and to none already in flight).
    pub fn set_reply(&self, reply: AnthropicReply) {
        *lock(&self.state.default_reply) = reply;
    }

    /// Queues a one-shot reply: queued replies are used first, in order, then the default.
    pub fn enqueue(&self, reply: AnthropicReply) {
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
    /// [`AnthropicReply::hang`] and closed the connection).
    pub fn abandoned_requests(&self) -> usize {
        self.state.journal.count(Counter::AbandonedRequest)
    }

    /// Waits until at least `n` requests were abandoned; no timeout of its own.
    pub async fn wait_abandoned(&self, n: usize) {
        self.state.journal.wait_count(Counter::AbandonedRequest, n).await;
    }
}

impl Drop for MockAnthropic {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// === impl MockAnthropicBuilder ===

impl MockAnthropicBuilder {
    /// Requires `x-api-key: <key>` exactly (401 `authentication_error` otherwise), so tests prove the gateway sends
    /// the upstream credential in Anthropic's header.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.policy.api_key = Some(key.into());
        self
    }

    /// Whether `temperature` and `top_p` together are refused (default `true`, as Claude Opus 4.1 / Sonnet 4.5
    /// and later do); `false` plays an older model that accepts both.
    #[must_use]
    pub fn sampling_exclusive(mut self, exclusive: bool) -> Self {
        self.policy.sampling_exclusive = exclusive;
        self
    }

    /// Replaces the accepted `anthropic-version` values, e.g. to prove the gateway sends its configured one.
    #[must_use]
    pub fn anthropic_versions(mut self, versions: &[&str]) -> Self {
        self.policy.versions = versions.iter().map(|v| (*v).to_string()).collect();
        self
    }

    /// The default reply, used whenever the queue is empty.
    #[must_use]
    pub fn reply(mut self, reply: AnthropicReply) -> Self {
        self.reply = reply;
        self
    }

    /// Queues a one-shot reply (see [`MockAnthropic::enqueue`]).
    #[must_use]
    pub fn enqueue(mut self, reply: AnthropicReply) -> Self {
        self.queue.push_back(reply);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving; returns once the listener is bound, so the URL is usable at once.
    pub async fn start(self) -> MockAnthropic {
        let listener = crate::free_port_listener().await;
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("mock listener has no address: {e}"));
        let state = Arc::new(State {
            policy: self.policy,
            journal: Arc::new(Journal::new()),
            default_reply: Mutex::new(self.reply),
            queue: Mutex::new(self.queue),
        });
        let shutdown = CancellationToken::new();
        let serving = state.clone();
        crate::listener::spawn_serve(listener, &shutdown, move |req| handle(serving.clone(), req));
        MockAnthropic { addr, state, shutdown }
    }
}

// === serving ===

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let (body, verdict) = match body.collect().await {
        Ok(collected) => {
            let body = collected.to_bytes();
            let verdict = validate::check(&parts.method, parts.uri.path(), &parts.headers, &body, &state.policy);
            (body, verdict)
        }
        Err(_) => (Bytes::new(), Err(AnthropicRejection::IncompleteBody)),
    };
    let seq = state.journal.record(Recorded {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        received_at: Instant::now(),
        rejection: verdict.as_ref().err().cloned(),
    });
    match verdict {
        Err(rejection) => render::rejection(&rejection, seq),
        Ok(accepted) if accepted.list_models => {
            let body = serde_json::json!({
                "data": [{"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5",
                          "created_at": "2025-10-01T00:00:00Z"}],
                "has_more": false,
                "first_id": "claude-haiku-4-5",
                "last_id": "claude-haiku-4-5",
            })
            .to_string();
            let response = crate::render::full(
                StatusCode::OK,
                HeaderValue::from_static("application/json"),
                body.into(),
            );
            render::with_request_id(response, seq)
        }
        Ok(accepted) if accepted.count_only => {
            let body = serde_json::json!({ "input_tokens": accepted.input_tokens }).to_string();
            let response = crate::render::full(
                StatusCode::OK,
                HeaderValue::from_static("application/json"),
                body.into(),
            );
            render::with_request_id(response, seq)
        }
        Ok(accepted) => {
            let reply = state.next_reply();
            let mut guard = DropGuard::new(&state.journal, Counter::AbandonedRequest);
            let response = render::render(reply, &accepted, seq, &state.journal).await;
            guard.complete();
            response
        }
    }
}

// === impl State ===

impl State {
    fn next_reply(&self) -> AnthropicReply {
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
