//! What a mock received, and what became of the responses it started.
//!
//! Invariants: a request is appended *before* it is answered, so a test that saw a reply can always see the
//! request; counters live in `watch` channels, so waiting for "n requests" or "n cancelled streams" is waiting on
//! an event, never a polling sleep.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};
use tokio::sync::watch;

use crate::validate::Rejection;

/// One request as the mock received it, kept so tests can assert what the gateway actually sent upstream.
///
/// `R` is the mock's refusal type: [`Rejection`] for [`crate::MockOpenAi`], [`crate::AnthropicRejection`] for
/// [`crate::MockAnthropic`], so each mock reports refusals in its own API's terms.
#[derive(Clone, Debug)]
pub struct Recorded<R = Rejection> {
    /// The request method.
    pub method: Method,
    /// The URI path, without the query string.
    pub path: String,
    /// The raw query string, if the URI had one.
    pub query: Option<String>,
    /// Every header exactly as received, so tests can prove what was (and was not) forwarded.
    pub headers: HeaderMap,
    /// The full request body, byte for byte, so passthrough fidelity can be asserted.
    pub body: Bytes,
    /// When the body had been read completely.
    pub received_at: Instant,
    /// Why the mock refused the request, or `None` if it was accepted and answered with a reply.
    pub rejection: Option<R>,
}

/// Which journal counter a [`DropGuard`] bumps when it is dropped before completion.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    /// A streamed response body dropped before its last frame was taken.
    CancelledStream,
    /// An accepted request whose response was never produced (the handler was dropped, e.g. during a hang).
    AbandonedRequest,
}

/// The shared record of one mock: requests plus outcome counters.
#[derive(Debug)]
pub(crate) struct Journal<R = Rejection> {
    requests: Mutex<Vec<Recorded<R>>>,
    received: watch::Sender<usize>,
    outcomes: Arc<Outcomes>,
}

/// The outcome counters, shared with the [`DropGuard`]s of responses still in flight.
#[derive(Debug)]
pub(crate) struct Outcomes {
    cancelled: watch::Sender<usize>,
    abandoned: watch::Sender<usize>,
}

/// Bumps a [`Counter`] on drop unless [`DropGuard::complete`] was called first.
///
/// Hyper drops a response body (or the handler future) when the peer goes away; a guard owned by that body is the
/// only reliable way to observe it.
#[derive(Debug)]
pub(crate) struct DropGuard {
    outcomes: Arc<Outcomes>,
    counter: Counter,
    completed: bool,
}

// === impl Recorded ===

impl<R> Recorded<R> {
    /// The body parsed as JSON, for asserting on the translated request.
    ///
    /// # Panics
    ///
    /// If the body is not JSON: in a test that is the failure to report.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {} body is not JSON ({e}): {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body parsed as JSON, or `None` when it is not JSON: for asserting on requests the mock refused.
    pub fn try_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The first value of header `name` as text, or `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the mock refused this request (see [`Recorded::rejection`]).
    pub fn is_rejected(&self) -> bool {
        self.rejection.is_some()
    }
}

// === impl Journal ===

impl<R: Clone> Journal<R> {
    pub(crate) fn new() -> Self {
        Self {
            requests: Mutex::new(Vec::new()),
            received: watch::Sender::new(0),
            outcomes: Arc::new(Outcomes {
                cancelled: watch::Sender::new(0),
                abandoned: watch::Sender::new(0),
            }),
        }
    }

    /// Appends `request` and wakes waiters; returns its 0-based position, used to make response ids unique.
    pub(crate) fn record(&self, request: Recorded<R>) -> usize {
        let index = {
            let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            requests.push(request);
            requests.len() - 1
        };
        self.received.send_modify(|n| *n += 1);
        index
    }

    pub(crate) fn requests(&self) -> Vec<Recorded<R>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn count(&self, counter: Counter) -> usize {
        *self.outcomes.sender(counter).borrow()
    }

    /// Waits until at least `n` requests were recorded.
    pub(crate) async fn wait_received(&self, n: usize) {
        wait_at_least(&self.received, n).await;
    }

    /// Waits until `counter` reached at least `n`.
    pub(crate) async fn wait_count(&self, counter: Counter, n: usize) {
        wait_at_least(self.outcomes.sender(counter), n).await;
    }
}

// === impl Outcomes ===

impl Outcomes {
    fn sender(&self, counter: Counter) -> &watch::Sender<usize> {
        match counter {
            Counter::CancelledStream => &self.cancelled,
            Counter::AbandonedRequest => &self.abandoned,
        }
    }
}

async fn wait_at_least(sender: &watch::Sender<usize>, n: usize) {
    let mut rx = sender.subscribe();
    // `wait_for` fails only when the sender is gone, and `sender` is borrowed for this whole call.
    let _ = rx.wait_for(|count| *count >= n).await;
}

// === impl DropGuard ===

impl DropGuard {
    pub(crate) fn new<R>(journal: &Journal<R>, counter: Counter) -> Self {
        Self {
            outcomes: journal.outcomes.clone(),
            counter,
            completed: false,
        }
    }

    /// Marks the guarded work as finished, so dropping the guard counts nothing.
    pub(crate) fn complete(&mut self) {
        self.completed = true;
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.completed {
            self.outcomes.sender(self.counter).send_modify(|n| *n += 1);
        }
    }
}
