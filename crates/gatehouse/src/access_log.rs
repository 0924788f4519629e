//! The access log: one JSON line per request, written once when the request's context is dropped.
//!
//! The sink can be changed by a config reload. Tests capture lines through a channel to assert on them.

use std::io::Write;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::spec::AccessLogTarget;

/// Where access log lines go.
#[derive(Clone, Default)]
pub struct AccessLog {
    target: Arc<ArcSwap<AccessLogTarget>>,
    capture: Option<UnboundedSender<String>>,
}

// === impl AccessLog ===

impl AccessLog {
    /// Logs to the configured target.
    #[must_use]
    pub fn new(target: AccessLogTarget) -> Self {
        Self {
            target: Arc::new(ArcSwap::from_pointee(target)),
            capture: None,
        }
    }

    /// Also sends every line to a channel (tests wait on it instead of polling).
    #[must_use]
    pub fn with_capture(mut self, lines: UnboundedSender<String>) -> Self {
        self.capture = Some(lines);
        self
    }

    /// Changes the target after a reload.
    pub fn set_target(&self, target: AccessLogTarget) {
        self.target.store(Arc::new(target));
    }

    /// Writes one line.
    pub fn write(&self, line: &str) {
        if let Some(c) = &self.capture {
            let _ = c.send(line.to_string());
        }
        // A failed write (closed stdout) must not take the data path down; the line is lost.
        let _ = match **self.target.load() {
            AccessLogTarget::Stdout => writeln!(std::io::stdout().lock(), "{line}"),
            AccessLogTarget::Stderr => writeln!(std::io::stderr().lock(), "{line}"),
            AccessLogTarget::Off => Ok(()),
        };
    }
}
