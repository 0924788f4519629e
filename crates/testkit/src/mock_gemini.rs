//! [`MockGemini`]: a strict Gemini API upstream (`/v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent`, and the models list `GET /v1beta/models`) on `127.0.0.1:0` that records everything it
//! receives.
//!
//! Invariants: every request is recorded (refused ones too, with their [`GeminiRejection`]) before it is
//! answered; replies come from the FIFO queue first, then the default; refusals never consume a reply; dropping
//! the mock closes the listener and every open connection.
//!
//! Layout: [`validate`] (route, credential, model, the body's rules — each documented with the real API's
//! behaviour; function declarations and schemas in [`tools`]) → [`render`] (the answer), [`reply`] (what a test chooses), [`rejection`] (Google's error JSON).

mod rejection;
mod render;
mod reply;
mod tools;
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

pub use self::rejection::GeminiRejection;
pub use self::reply::GeminiReply;
use self::validate::Policy;
use crate::journal::{Counter, Journal, Recorded};
use crate::sse_body::MockBody;

/// A request as [`MockGemini`] received it, with its refusal (if any) in Google's terms.
pub type GeminiRecorded = Recorded<GeminiRejection>;

/// A running mock of the Gemini API. Point a `kind: gemini` provider's `base_url` at
/// [`base_url`](MockGemini::base_url), then assert on [`requests`](MockGemini::requests): the path (model and
/// method), `?alt=sse`, `x-goog-api-key`, no client credential, and the translated body.
#[derive(Debug)]
pub struct MockGemini {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
}

/// Configures a [`MockGemini`] before it starts.
#[derive(Debug)]
pub struct MockGeminiBuilder {
    policy: Policy,
    reply: GeminiReply,
    queue: VecDeque<GeminiReply>,
}

#[derive(Debug)]
struct State {
    policy: Policy,
    journal: Arc<Journal<GeminiRejection>>,
    default_reply: Mutex<GeminiReply>,
    queue: Mutex<VecDeque<GeminiReply>>,
}

// === impl MockGemini ===

impl MockGemini {
    /// Starts configuring a mock. Defaults: answers `GeminiReply::text("ok")`, requires no key, serves the models
    /// `gemini-2.5-flash` and `gemini-2.5-pro`.
    pub fn builder() -> MockGeminiBuilder {
        MockGeminiBuilder {
            policy: Policy {
                api_key: None,
                models: vec!["gemini-2.5-flash".into(), "gemini-2.5-pro".into()],
            },
            reply: GeminiReply::text("ok"),
            queue: VecDeque::new(),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order, refused ones included.
    pub fn requests(&self) -> Vec<GeminiRecorded> {
        self.state.journal.requests()
    }

    /// Waits until at least `n` requests were recorded and returns them all. Has no timeout of its own: wrap it in
    /// `tokio::time::timeout` if the request might never come.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<GeminiRecorded> {
        self.state.journal.wait_received(n).await;
        self.requests()
    }

    /// Queues a one-shot reply: queued replies are used first, in order, then the default.
    pub fn enqueue(&self, reply: GeminiReply) {
        lock(&self.state.queue).push_back(reply);
    }

    /// How many streamed responses were dropped before their last frame.
    pub fn cancelled_streams(&self) -> usize {
        self.state.journal.count(Counter::CancelledStream)
    }
}

impl Drop for MockGemini {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// === impl MockGeminiBuilder ===

impl MockGeminiBuilder {
    /// Requires `x-goog-api-key: <key>` exactly (403 without one, 400 `API_KEY_INVALID` for another).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.policy.api_key = Some(key.into());
        self
    }

    /// The model ids served; any other is a 404 `NOT_FOUND`.
    #[must_use]
    pub fn models(mut self, ids: &[&str]) -> Self {
        self.policy.models = ids.iter().map(|id| (*id).to_string()).collect();
        self
    }

    /// The default reply, used whenever the queue is empty.
    #[must_use]
    pub fn reply(mut self, reply: GeminiReply) -> Self {
        self.reply = reply;
        self
    }

    /// Queues a one-shot reply (see [`MockGemini::enqueue`]).
    #[must_use]
    pub fn enqueue(mut self, reply: GeminiReply) -> Self {
        self.queue.push_back(reply);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving; returns once the listener is bound.
    pub async fn start(self) -> MockGemini {
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
        MockGemini { addr, state, shutdown }
    }
}

// === serving ===

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let (body, verdict) = match body.collect().await {
        Ok(collected) => {
            let body = collected.to_bytes();
            let verdict = if parts.method == http::Method::GET && parts.uri.path() == "/v1beta/models" {
                validate::check_key(&parts.headers, &state.policy).map(|()| None)
            } else {
                validate::check(&parts.method, &parts.uri, &parts.headers, &body, &state.policy).map(Some)
            };
            (body, verdict)
        }
        Err(_) => (Bytes::new(), Err(GeminiRejection::IncompleteBody)),
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
        Err(rejection) => crate::render::full(
            rejection.status(),
            HeaderValue::from_static("application/json"),
            rejection.body(),
        ),
        Ok(None) => {
            // The models list, as `GET /v1beta/models` answers it (no reply consumed).
            let models: Vec<_> = state
                .policy
                .models
                .iter()
                .map(|m| {
                    serde_json::json!({"name": format!("models/{m}"), "displayName": m,
                    "supportedGenerationMethods": ["generateContent", "countTokens"]})
                })
                .collect();
            crate::render::full(
                http::StatusCode::OK,
                HeaderValue::from_static("application/json"),
                serde_json::json!({ "models": models }).to_string().into(),
            )
        }
        Ok(Some(accepted)) => {
            let reply = lock(&state.queue)
                .pop_front()
                .unwrap_or_else(|| lock(&state.default_reply).clone());
            render::render(reply, &accepted, seq, &state.journal)
        }
    }
}

/// Locks `m`, ignoring poisoning.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
