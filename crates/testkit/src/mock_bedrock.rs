//! [`MockBedrock`]: a strict Bedrock Runtime upstream (`POST /model/{modelId}/converse` and `/converse-stream`)
//! on `127.0.0.1:0` that verifies every request's SigV4 signature and records everything it receives.
//!
//! Checks, in order (the first failure wins, answered as Bedrock does: the type in `x-amzn-ErrorType`, the
//! message in `{"message"}`): route (404 `UnknownOperationException`) → signature ([`sigv4`]: 403
//! `MissingAuthenticationTokenException`, `IncompleteSignatureException`, `UnrecognizedClientException`,
//! `InvalidSignatureException`) → model id (400 `ValidationException`, "The provided model identifier is
//! invalid.") → `content-type` → the Converse body ([`validate`]). Streams are real event-stream frames.

mod render;
mod reply;
mod sigv4;
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;

pub use self::reply::BedrockReply;
use self::sigv4::Expected;
use crate::journal::{Journal, Recorded};
use crate::sse_body::MockBody;

/// A request as [`MockBedrock`] received it; the refusal is `(AWS error type, message)`.
pub type BedrockRecorded = Recorded<(String, String)>;

/// A running mock of Bedrock Runtime's Converse API.
#[derive(Debug)]
pub struct MockBedrock {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: CancellationToken,
}

/// Configures a [`MockBedrock`].
#[derive(Debug)]
pub struct MockBedrockBuilder {
    expected: Expected,
    models: Vec<String>,
    reply: BedrockReply,
    queue: VecDeque<BedrockReply>,
}

#[derive(Debug)]
struct State {
    expected: Expected,
    models: Vec<String>,
    journal: Arc<Journal<(String, String)>>,
    default_reply: Mutex<BedrockReply>,
    queue: Mutex<VecDeque<BedrockReply>>,
}

// === impl MockBedrock ===

impl MockBedrock {
    /// Starts configuring a mock that expects requests signed for `region` with this key pair, and serves the
    /// model `anthropic.claude-3-5-haiku-20241022-v1:0` answering `BedrockReply::text("ok")`.
    pub fn builder(region: &str, access_key_id: &str, secret_access_key: &str) -> MockBedrockBuilder {
        MockBedrockBuilder {
            expected: Expected {
                access_key_id: access_key_id.into(),
                secret_access_key: secret_access_key.into(),
                session_token: None,
                region: region.into(),
            },
            models: vec!["anthropic.claude-3-5-haiku-20241022-v1:0".into()],
            reply: BedrockReply::text("ok"),
            queue: VecDeque::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, refused ones included.
    pub fn requests(&self) -> Vec<BedrockRecorded> {
        self.state.journal.requests()
    }

    /// Queues a one-shot reply.
    pub fn enqueue(&self, reply: BedrockReply) {
        lock(&self.state.queue).push_back(reply);
    }
}

impl Drop for MockBedrock {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// === impl MockBedrockBuilder ===

impl MockBedrockBuilder {
    /// Also requires this session token (`x-amz-security-token`, signed), as temporary credentials need.
    #[must_use]
    pub fn session_token(mut self, token: &str) -> Self {
        self.expected.session_token = Some(token.into());
        self
    }

    /// The model ids served.
    #[must_use]
    pub fn models(mut self, ids: &[&str]) -> Self {
        self.models = ids.iter().map(|m| (*m).to_string()).collect();
        self
    }

    /// The default reply.
    #[must_use]
    pub fn reply(mut self, reply: BedrockReply) -> Self {
        self.reply = reply;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> MockBedrock {
        let listener = crate::free_port_listener().await;
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("mock listener has no address: {e}"));
        let state = Arc::new(State {
            expected: self.expected,
            models: self.models,
            journal: Arc::new(Journal::new()),
            default_reply: Mutex::new(self.reply),
            queue: Mutex::new(self.queue),
        });
        let shutdown = CancellationToken::new();
        let serving = state.clone();
        crate::listener::spawn_serve(listener, &shutdown, move |req| handle(serving.clone(), req));
        MockBedrock { addr, state, shutdown }
    }
}

// === serving ===

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let verdict = check(&state, &parts, &body);
    state.journal.record(Recorded {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        received_at: Instant::now(),
        rejection: verdict.as_ref().err().map(|(t, m)| ((*t).to_string(), m.clone())),
    });
    match verdict {
        Err((kind, message)) => {
            let status = match kind {
                "UnknownOperationException" => 404,
                "ValidationException" => 400,
                _ => 403,
            };
            render::error(status, kind, &message)
        }
        Ok(accepted) => {
            let reply = lock(&state.queue)
                .pop_front()
                .unwrap_or_else(|| lock(&state.default_reply).clone());
            render::render(reply, &accepted, &state.journal)
        }
    }
}

fn check(
    state: &State,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<validate::Accepted, (&'static str, String)> {
    let path = parts.uri.path();
    let rest = path
        .strip_prefix("/model/")
        .filter(|_| parts.method == http::Method::POST)
        .ok_or(("UnknownOperationException", String::new()))?;
    let (model, op) = rest
        .rsplit_once('/')
        .ok_or(("UnknownOperationException", String::new()))?;
    let stream = match op {
        "converse" => false,
        "converse-stream" => true,
        _ => return Err(("UnknownOperationException", String::new())),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let uri = format!(
        "http://{host}{}",
        parts.uri.path_and_query().map_or(path, |p| p.as_str())
    );
    sigv4::verify(parts.method.as_str(), &uri, &parts.headers, body, &state.expected)?;
    let model = model.replace("%3A", ":").replace("%3a", ":");
    if !state.models.contains(&model) {
        return Err((
            "ValidationException",
            "The provided model identifier is invalid.".into(),
        ));
    }
    if !crate::validate::is_json_content_type(&parts.headers) {
        return Err(("ValidationException", "Content-Type must be application/json".into()));
    }
    validate::body(body, stream)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
