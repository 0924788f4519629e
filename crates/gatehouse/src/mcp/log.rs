//! The access-log line and the duration metric (`mcp_server_operation_duration_seconds`) of one `/mcp` exchange:
//! principal, method, target, tool, outcome.
//!
//! Written once, when the record is dropped — for a relayed stream that is when the stream ends or the client goes
//! away — so every exchange is logged exactly once. Never contains a token, a session id's plaintext or arguments.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::telemetry::Telemetry;

/// One exchange being served.
pub struct McpLog {
    telemetry: Arc<Telemetry>,
    start: Instant,
    /// Request id.
    pub request_id: String,
    /// Authenticated principal (`anonymous` without auth).
    pub principal: Option<String>,
    /// JSON-RPC method (or the HTTP method for GET/DELETE).
    pub method: Option<String>,
    /// Upstream it went to.
    pub target: Option<String>,
    /// Tool, prompt or resource (the client's name).
    pub item: Option<String>,
    /// The session's id (the random one inside the token, not the token).
    pub session: Option<String>,
    /// HTTP status.
    pub status: u16,
    /// Error code, if any.
    pub error_code: Option<&'static str>,
    /// Whether the exchange completed.
    pub completed: bool,
    /// Whether a tool answered with `isError: true` (a tool failure, not a protocol error).
    pub tool_error: bool,
}

#[derive(Serialize)]
struct Line<'a> {
    ts: f64,
    request_id: &'a str,
    route: &'static str,
    principal: Option<&'a str>,
    mcp_method: Option<&'a str>,
    target: Option<&'a str>,
    item: Option<&'a str>,
    mcp_session: Option<&'a str>,
    status: u16,
    outcome: &'static str,
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tool_error: bool,
    latency_ms: f64,
}

// === impl McpLog ===

impl McpLog {
    /// Starts a record.
    #[must_use]
    pub fn new(telemetry: Arc<Telemetry>, request_id: String) -> Self {
        Self {
            telemetry,
            start: Instant::now(),
            request_id,
            principal: None,
            method: None,
            target: None,
            item: None,
            session: None,
            status: 200,
            error_code: None,
            completed: false,
            tool_error: false,
        }
    }
}

impl Drop for McpLog {
    fn drop(&mut self) {
        let outcome = match (self.error_code, self.completed) {
            (Some(_), _) => "error",
            (None, true) => "complete",
            (None, false) => "client_disconnected",
        };
        let line = Line {
            ts: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            request_id: &self.request_id,
            route: "mcp",
            principal: self.principal.as_deref(),
            mcp_method: self.method.as_deref(),
            target: self.target.as_deref(),
            item: self.item.as_deref(),
            mcp_session: self.session.as_deref(),
            status: self.status,
            outcome,
            error_code: self.error_code,
            tool_error: self.tool_error,
            latency_ms: self.start.elapsed().as_secs_f64() * 1000.0,
        };
        let error_type = match (self.error_code, self.tool_error) {
            (Some(code), _) => code.to_string(),
            (None, true) => "tool_error".to_string(),
            (None, false) => String::new(),
        };
        self.telemetry
            .metrics
            .mcp_duration
            .get_or_create(&crate::metrics::McpLabels {
                mcp_method_name: self.method.clone().unwrap_or_default(),
                target: self.target.clone().unwrap_or_default(),
                error_type,
            })
            .observe(self.start.elapsed().as_secs_f64());
        if let Ok(s) = serde_json::to_string(&line) {
            self.telemetry.access_log.write(&s);
        }
    }
}
