//! The access-log line and the duration metric (`mcp_server_operation_duration_seconds`) of one `/mcp` exchange:
//! principal, method, target, tool, outcome.
//!
//! Written once, when the record is dropped — for a relayed stream that is when the stream ends or the client goes
//! away — so every exchange is logged exactly once, and its SERVER span ends with it.
//! Never contains a token, a session id's plaintext or arguments.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;
use serde::Serialize;

use crate::telemetry::Telemetry;

/// One exchange being served.
pub struct McpLog {
    telemetry: Arc<Telemetry>,
    start: Instant,
    /// The exchange's SERVER span (MCP semantic conventions) when exported, else the client's W3C context.
    pub trace: opentelemetry::Context,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
}

// === impl McpLog ===

impl McpLog {
    /// Starts a record.
    #[must_use]
    pub fn new(telemetry: Arc<Telemetry>, request_id: String) -> Self {
        Self {
            telemetry,
            start: Instant::now(),
            trace: opentelemetry::Context::new(),
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
    /// Starts the exchange's SERVER span, continuing the client's `traceparent` (named and filled when it ends).
    pub fn start_trace(&mut self, headers: &http::HeaderMap) {
        let attrs = vec![
            KeyValue::new("network.transport", "tcp"),
            KeyValue::new("network.protocol.name", "http"),
            KeyValue::new("gatehouse.request_id", self.request_id.clone()),
        ];
        self.trace = self.telemetry.traces.server_span("mcp".to_string(), headers, attrs);
    }

    /// Names the span and fills its MCP attributes (reference §8), then ends it.
    fn finish_span(&self, error_type: &str) {
        let method = self.method.as_deref().unwrap_or_default();
        tracing::debug!(mcp.method = method, status = self.status, "MCP exchange finished");
        let span = self.trace.span();
        if !span.is_recording() {
            return;
        }
        let mut attrs = Vec::with_capacity(10);
        let name = match (method, self.item.as_deref()) {
            ("tools/call", Some(tool)) => {
                attrs.push(KeyValue::new("gen_ai.tool.name", tool.to_string()));
                attrs.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
                format!("{method} {tool}")
            }
            ("prompts/get", Some(prompt)) => {
                attrs.push(KeyValue::new("gen_ai.prompt.name", prompt.to_string()));
                format!("{method} {prompt}")
            }
            ("resources/read", Some(uri)) => {
                attrs.push(KeyValue::new("mcp.resource.uri", uri.to_string()));
                method.to_string()
            }
            _ => method.to_string(),
        };
        span.update_name(name);
        attrs.push(KeyValue::new("mcp.method.name", method.to_string()));
        if let Some(s) = &self.session {
            attrs.push(KeyValue::new("mcp.session.id", s.clone()));
        }
        if let Some(p) = &self.protocol {
            attrs.push(KeyValue::new("mcp.protocol.version", p.clone()));
        }
        if let Some(id) = &self.jsonrpc_id {
            attrs.push(KeyValue::new("jsonrpc.request.id", id.clone()));
        }
        if let Some(t) = &self.target {
            attrs.push(KeyValue::new("gatehouse.target", t.clone()));
        }
        attrs.push(KeyValue::new("http.response.status_code", i64::from(self.status)));
        span.set_attributes(attrs);
        if !error_type.is_empty() {
            crate::trace::fail(&self.trace, error_type.to_string());
        }
        span.end();
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
            trace_id: crate::trace::trace_id(&self.trace),
        };
        let error_type = match (self.error_code, self.tool_error) {
            (Some(code), _) => code.to_string(),
            (None, true) => "tool_error".to_string(),
            (None, false) => String::new(),
        };
        self.finish_span(&error_type);
        if let Some(code) = self.error_code {
            self.telemetry.metrics.ops.error("mcp", code);
        }
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
