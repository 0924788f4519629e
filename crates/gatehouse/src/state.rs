//! State shared by every request: the current config snapshot, telemetry, and lifecycle flags.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;

use crate::snapshot::Snapshot;
use crate::telemetry::Telemetry;

/// The gateway's shared state.
pub struct AppState {
    /// The running config; swapped whole on reload.
    pub config: ArcSwap<Snapshot>,
    /// Metrics and access log.
    pub telemetry: Arc<Telemetry>,
    /// Bumped after every reload attempt and every secret file change, so tests and tooling can wait on it.
    pub generation: tokio::sync::watch::Sender<u64>,
    /// The outcome of the last reload attempt, for `/status`.
    pub last_reload: std::sync::Mutex<Option<ReloadReport>>,
    /// Stored Responses API conversations (`previous_response_id` on translated targets); survives reloads.
    pub responses: Arc<crate::response_store::ResponseStore>,
    ready: AtomicBool,
    draining: AtomicBool,
}

/// What happened at the last reload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadReport {
    /// `success` or `error`.
    pub result: &'static str,
    /// Unix time in seconds.
    pub at: u64,
    /// Every problem, when it failed.
    pub errors: Vec<String>,
}

// === impl AppState ===

impl AppState {
    /// New state, not yet ready.
    #[must_use]
    pub fn new(snapshot: Arc<Snapshot>, telemetry: Arc<Telemetry>) -> Self {
        Self {
            config: ArcSwap::new(snapshot),
            telemetry,
            generation: tokio::sync::watch::Sender::new(0),
            last_reload: std::sync::Mutex::new(None),
            responses: Arc::new(crate::response_store::ResponseStore::new()),
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }
    }

    /// The snapshot a request runs on from start to end.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.config.load_full()
    }

    /// Marks the listeners bound.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Marks the start of a drain: `/readyz` turns unready.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether `/readyz` should answer 200.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && !self.draining.load(Ordering::SeqCst)
    }

    /// Signals that the config or a secret changed (or a reload failed).
    pub fn bump_generation(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Whether a drain has started.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
