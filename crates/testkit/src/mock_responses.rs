//! [`MockResponses`]: a strict OpenAI Responses API upstream (`POST /v1/responses`) on `127.0.0.1:0` that records
//! everything it receives, for the gateway's passthrough tests.
//!
//! Strict like the real API, in this order (first failure wins): route (404) → API key (401) → `content-type`
//! (400) → body is a JSON object (400) → every top-level key is one the API documents (400 `unknown_parameter`,
//! as OpenAI refuses unknown keys) → field types → `model` present → `stream_options` only with `stream: true` →
//! `max_output_tokens` at least 16 → a `previous_response_id` this mock issued and stored (else 400
//! `previous_response_not_found`). Accepted requests are answered with a [`ResponsesReply`] from the queue, then
//! the default; answers (JSON or the typed event stream) follow the published Responses shapes, with usage.
//!
//! Invariants: every request is recorded (refused ones too) before it is answered; a response is kept for
//! `previous_response_id` only when the request did not say `store: false`.

mod render;
mod validate;

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

use crate::journal::{Journal, Recorded};
use crate::reply::Pacing;
use crate::sse_body::MockBody;
pub use validate::ResponsesRejection;

/// A running strict Responses API mock. Point a gateway provider at [`base_url`](Self::base_url).
#[derive(Debug)]
pub struct MockResponses {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
}

/// Configures a [`MockResponses`].
#[derive(Debug)]
pub struct MockResponsesBuilder {
    api_key: Option<String>,
    azure_api_version: Option<String>,
    reply: ResponsesReply,
    queue: VecDeque<ResponsesReply>,
}

/// How the mock answers one accepted request (streamed when the request asked for `stream: true`).
#[derive(Clone, Debug)]
pub enum ResponsesReply {
    /// An assistant message with this text (one `output_text.delta` per word when streamed).
    Text(String),
    /// A `function_call` output item (arguments streamed in two halves).
    FunctionCall {
        /// Function name.
        name: String,
        /// Arguments JSON text.
        arguments: String,
    },
    /// An error status with OpenAI's error JSON.
    Status {
        /// HTTP status.
        status: u16,
        /// `error.message`.
        message: String,
    },
}

#[derive(Debug)]
struct State {
    api_key: Option<String>,
    azure_api_version: Option<String>,
    journal: Arc<Journal<ResponsesRejection>>,
    default_reply: Mutex<ResponsesReply>,
    queue: Mutex<VecDeque<ResponsesReply>>,
    /// Ids of stored responses, valid as `previous_response_id`.
    stored: Mutex<HashSet<String>>,
}

// === impl MockResponses ===

impl MockResponses {
    /// Starts configuring; by default it answers `ResponsesReply::Text("ok")` and requires no key.
    pub fn builder() -> MockResponsesBuilder {
        MockResponsesBuilder {
            api_key: None,
            azure_api_version: None,
            reply: ResponsesReply::Text("ok".into()),
            queue: VecDeque::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, refused ones included.
    pub fn requests(&self) -> Vec<Recorded<ResponsesRejection>> {
        self.state.journal.requests()
    }

    /// Waits until at least `n` requests were recorded; no timeout of its own.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<Recorded<ResponsesRejection>> {
        self.state.journal.wait_received(n).await;
        self.requests()
    }
}

impl Drop for MockResponses {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// === impl MockResponsesBuilder ===

impl MockResponsesBuilder {
    /// Requires `Authorization: Bearer <key>` (Azure mode: `api-key: <key>` and no `Authorization`).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Imitates Azure OpenAI's Responses route instead: `POST /openai/responses?api-version=<version>`.
    #[must_use]
    pub fn azure(mut self, api_version: impl Into<String>) -> Self {
        self.azure_api_version = Some(api_version.into());
        self
    }

    /// The default reply, used when the queue is empty.
    #[must_use]
    pub fn reply(mut self, reply: ResponsesReply) -> Self {
        self.reply = reply;
        self
    }

    /// Queues a one-shot reply, used before the default, in order.
    #[must_use]
    pub fn push_reply(mut self, reply: ResponsesReply) -> Self {
        self.queue.push_back(reply);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> MockResponses {
        let listener = crate::free_port_listener().await;
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("mock listener has no address: {e}"));
        let state = Arc::new(State {
            api_key: self.api_key,
            azure_api_version: self.azure_api_version,
            journal: Arc::new(Journal::new()),
            default_reply: Mutex::new(self.reply),
            queue: Mutex::new(self.queue),
            stored: Mutex::new(HashSet::new()),
        });
        let shutdown = CancellationToken::new();
        let serving = state.clone();
        crate::listener::spawn_serve(listener, &shutdown, move |req| handle(serving.clone(), req));
        MockResponses { addr, state, shutdown }
    }
}

// === serving ===

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let (body, verdict) = match body.collect().await {
        Ok(collected) => {
            let body = collected.to_bytes();
            let stored = lock(&state.stored).clone();
            let rules = validate::Rules {
                api_key: state.api_key.as_deref(),
                azure_api_version: state.azure_api_version.as_deref(),
                stored: &stored,
            };
            let verdict = validate::check(&parts.method, &parts.uri, &parts.headers, &body, &rules);
            (body, verdict)
        }
        Err(_) => (Bytes::new(), Err(ResponsesRejection::IncompleteBody)),
    };
    let seq = state.journal.record(Recorded {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        received_at: Instant::now(),
        rejection: verdict.as_ref().err().cloned(),
    });
    let accepted = match verdict {
        Err(rejection) => {
            return crate::render::full(
                rejection.status(),
                HeaderValue::from_static("application/json"),
                rejection.body(),
            );
        }
        Ok(a) => a,
    };
    let reply = lock(&state.queue)
        .pop_front()
        .unwrap_or_else(|| lock(&state.default_reply).clone());
    let id = format!("resp_mock{seq:04}");
    if let ResponsesReply::Status { status, message } = &reply {
        let status = http::StatusCode::from_u16(*status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            serde_json::json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}});
        return crate::render::json(status, &body);
    }
    if accepted.store {
        lock(&state.stored).insert(id.clone());
    }
    let out = render::Output::new(&id, seq, &accepted, &reply);
    if accepted.stream {
        crate::render::sse(out.events(), Pacing::Immediate, &state.journal)
    } else {
        crate::render::json(http::StatusCode::OK, &out.response("completed"))
    }
}

/// Locks `m`, ignoring poisoning (a panicking test thread must not cascade).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
