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
    span: tracing::Span,
    /// The JSON-RPC id of the request, raw.
    pub jsonrpc_id: Option<String>,
    /// The negotiated protocol version, when known.
    pub protocol: Option<String>,
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
        use tracing::field::Empty;
        // The MCP semantic-convention attributes (reference §8); an OpenTelemetry layer exports them as a SERVER span.
        let span = tracing::info_span!(
            "mcp",
            otel.name = Empty,
            otel.kind = "server",
            mcp.method.name = Empty,
            gen_ai.operation.name = Empty,
            gen_ai.tool.name = Empty,
            gen_ai.prompt.name = Empty,
            mcp.resource.uri = Empty,
            mcp.session.id = Empty,
            mcp.protocol.version = Empty,
            jsonrpc.request.id = Empty,
            error.type = Empty,
            network.transport = "tcp",
            gatehouse.target = Empty,
        );
        Self {
            telemetry,
            start: Instant::now(),
            span,
            jsonrpc_id: None,
            protocol: None,
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

impl McpLog {
    /// Fills the span's attributes and closes it with one event.
    fn finish_span(&self, error_type: &str) {
        use tracing::field::display;
        let span = &self.span;
        let method = self.method.as_deref().unwrap_or_default();
        match (method, self.item.as_deref()) {
            ("tools/call", Some(tool)) => {
                span.record("otel.name", display(format_args!("{method} {tool}")));
                span.record("gen_ai.tool.name", tool);
                span.record("gen_ai.operation.name", "execute_tool");
            }
            ("prompts/get", Some(prompt)) => {
                span.record("otel.name", display(format_args!("{method} {prompt}")));
                span.record("gen_ai.prompt.name", prompt);
            }
            ("resources/read", Some(uri)) => {
                span.record("otel.name", method);
                span.record("mcp.resource.uri", uri);
            }
            _ => {
                span.record("otel.name", method);
            }
        }
        span.record("mcp.method.name", method);
        if let Some(s) = &self.session {
            span.record("mcp.session.id", s.as_str());
        }
        if let Some(p) = &self.protocol {
            span.record("mcp.protocol.version", p.as_str());
        }
        if let Some(id) = &self.jsonrpc_id {
            span.record("jsonrpc.request.id", id.as_str());
        }
        if let Some(t) = &self.target {
            span.record("gatehouse.target", t.as_str());
        }
        if !error_type.is_empty() {
            span.record("error.type", error_type);
        }
        span.in_scope(|| tracing::debug!(status = self.status, "MCP exchange finished"));
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
        self.finish_span(&error_type);
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
