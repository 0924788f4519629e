//! The per-request context: identity, routing decisions, timings, usage and outcome.
//!
//! One context is created when a request is accepted and finished exactly once, when it is dropped:
//! that is when the access log line is written and the metrics are recorded. Because a streamed
//! response body owns the context, a client that disconnects mid-stream drops the body, which drops the
//! context, so the request is still logged and metered with the usage seen so far.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gatehouse_llm::Usage;
use serde::Serialize;

use crate::metrics::{DurationLabels, RequestLabels, TokenLabels, TtftLabels, UpstreamErrorLabels};
use crate::telemetry::Telemetry;

/// The route a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/completions`.
    Completions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `GET /v1/models`.
    Models,
    /// `POST /v1/messages` (Anthropic dialect).
    Messages,
    /// `POST /v1/messages/count_tokens` (Anthropic dialect).
    CountTokens,
}

/// The API dialect a client speaks, which decides the shape of every error it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI error JSON.
    OpenAi,
    /// Anthropic error JSON.
    Anthropic,
}

/// How the request ended, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fully answered.
    Complete,
    /// Answered with an error.
    Error,
    /// The client went away before the end.
    ClientDisconnected,
}

/// Everything known about one request.
pub struct RequestContext {
    telemetry: Arc<Telemetry>,
    /// Request id (honoured from `X-Request-Id` or generated).
    pub id: String,
    /// The route.
    pub route: Route,
    start: Instant,
    /// Model asked for (canonical name once resolved).
    pub model: Option<String>,
    /// Provider chosen.
    pub target: Option<String>,
    /// Upstream endpoint used.
    pub endpoint: Option<String>,
    /// Whether the response is streamed.
    pub stream: bool,
    /// HTTP status sent.
    pub status: u16,
    /// Error code, if any.
    pub error_code: Option<&'static str>,
    /// Time from accept to the first upstream byte.
    pub ttfb: Option<Duration>,
    /// Token usage.
    pub usage: Option<Usage>,
    /// Set when the response was delivered to the end.
    pub completed: bool,
    upstream_error: bool,
    /// Upstream attempts made (0 when none was needed; more than 1 after retries or failover).
    pub attempts: u32,
    /// The vLLM pool replica this request holds (released, with its outcome, when the context drops).
    pub pool_lease: Option<crate::pool::Lease>,
}

#[derive(Serialize)]
struct LogLine<'a> {
    ts: f64,
    request_id: &'a str,
    route: &'static str,
    model: Option<&'a str>,
    target: Option<&'a str>,
    endpoint: Option<&'a str>,
    attempts: u32,
    stream: bool,
    status: u16,
    outcome: Outcome,
    error_code: Option<&'static str>,
    latency_ms: f64,
    ttfb_ms: Option<f64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cached_input_tokens: Option<u64>,
    cache_write_input_tokens: Option<u64>,
}

// === impl Route ===

impl Route {
    /// Label used in logs and metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatCompletions => "chat_completions",
            Self::Completions => "completions",
            Self::Embeddings => "embeddings",
            Self::Models => "models",
            Self::Messages => "messages",
            Self::CountTokens => "count_tokens",
        }
    }

    /// The dialect of the route's clients.
    #[must_use]
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Messages | Self::CountTokens => Dialect::Anthropic,
            Self::ChatCompletions | Self::Completions | Self::Embeddings | Self::Models => Dialect::OpenAi,
        }
    }

    /// Upstream path for targets that speak the route's own dialect.
    #[must_use]
    pub fn upstream_path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "/v1/chat/completions",
            Self::Completions => "/v1/completions",
            Self::Embeddings => "/v1/embeddings",
            Self::Models => "/v1/models",
            Self::Messages => "/v1/messages",
            Self::CountTokens => "/v1/messages/count_tokens",
        }
    }

    /// The GenAI operation name.
    #[must_use]
    pub fn operation(self) -> &'static str {
        match self {
            Self::ChatCompletions => "chat",
            Self::Completions => "text_completion",
            Self::Embeddings => "embeddings",
            Self::Models => "models",
            Self::Messages => "chat",
            Self::CountTokens => "count_tokens",
        }
    }
}

// === impl RequestContext ===

impl RequestContext {
    /// Starts a context.
    #[must_use]
    pub fn new(telemetry: Arc<Telemetry>, route: Route, id: String) -> Self {
        telemetry.metrics.in_flight.inc();
        Self {
            telemetry,
            id,
            route,
            start: Instant::now(),
            model: None,
            target: None,
            endpoint: None,
            stream: false,
            status: 200,
            error_code: None,
            ttfb: None,
            usage: None,
            completed: false,
            upstream_error: false,
            pool_lease: None,
            attempts: 0,
        }
    }

    /// Records an error outcome (the first error wins).
    pub fn fail(&mut self, status: u16, code: &'static str, upstream: bool) {
        self.status = status;
        if self.error_code.is_none() {
            self.error_code = Some(code);
            self.upstream_error = upstream;
        }
    }

    /// The process's metrics (failover and health counters are recorded while the request runs).
    #[must_use]
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.telemetry.metrics
    }

    /// Marks the first upstream byte.
    pub fn first_byte(&mut self) {
        if self.ttfb.is_none() {
            self.ttfb = Some(self.start.elapsed());
        }
    }

    fn outcome(&self) -> Outcome {
        if self.error_code.is_some() {
            Outcome::Error
        } else if self.completed {
            Outcome::Complete
        } else {
            Outcome::ClientDisconnected
        }
    }
}

impl Drop for RequestContext {
    fn drop(&mut self) {
        if let Some(lease) = self.pool_lease.take() {
            lease.finish(self.error_code);
        }
        let elapsed = self.start.elapsed();
        let outcome = self.outcome();
        let m = &self.telemetry.metrics;
        m.in_flight.dec();
        let model = self.model.clone().unwrap_or_default();
        let target = self.target.clone().unwrap_or_default();
        let code = match outcome {
            Outcome::ClientDisconnected => "client_disconnected",
            _ => self.error_code.unwrap_or(""),
        };
        m.requests
            .get_or_create(&RequestLabels {
                route: self.route.as_str(),
                model: model.clone(),
                target: target.clone(),
                status: self.status,
                code,
            })
            .inc();
        m.duration
            .get_or_create(&DurationLabels {
                route: self.route.as_str(),
                model: model.clone(),
                target: target.clone(),
                status: self.status,
            })
            .observe(elapsed.as_secs_f64());
        if let (true, Some(code)) = (self.upstream_error, self.error_code) {
            m.upstream_errors
                .get_or_create(&UpstreamErrorLabels {
                    target: target.clone(),
                    code,
                })
                .inc();
        }
        let op = self.route.operation();
        if let Some(ttfb) = self.ttfb
            && self.error_code.is_none()
        {
            m.ttft
                .get_or_create(&TtftLabels {
                    gen_ai_operation_name: op,
                    gen_ai_provider_name: target.clone(),
                    gen_ai_request_model: model.clone(),
                })
                .observe(ttfb.as_secs_f64());
        }
        if let Some(u) = self.usage {
            for (kind, n) in [("input", u.input_tokens), ("output", u.output_tokens)] {
                if kind == "output" && self.route == Route::Embeddings {
                    continue;
                }
                m.tokens
                    .get_or_create(&TokenLabels {
                        gen_ai_operation_name: op,
                        gen_ai_provider_name: target.clone(),
                        gen_ai_request_model: model.clone(),
                        gen_ai_token_type: kind,
                    })
                    .observe(n as f64);
            }
        }
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let line = LogLine {
            ts: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            request_id: &self.id,
            route: self.route.as_str(),
            model: self.model.as_deref(),
            target: self.target.as_deref(),
            endpoint: self.endpoint.as_deref(),
            attempts: self.attempts,
            stream: self.stream,
            status: self.status,
            outcome,
            error_code: self.error_code,
            latency_ms: ms(elapsed),
            ttfb_ms: self.ttfb.map(ms),
            input_tokens: self.usage.map(|u| u.input_tokens),
            output_tokens: self.usage.map(|u| u.output_tokens),
            cached_input_tokens: self.usage.map(|u| u.cached_input_tokens),
            cache_write_input_tokens: self.usage.map(|u| u.cache_write_input_tokens),
        };
        if let Ok(s) = serde_json::to_string(&line) {
            self.telemetry.access_log.write(&s);
        }
    }
}
