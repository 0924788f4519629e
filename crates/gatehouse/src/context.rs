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

mod measure;
mod trace;

pub use trace::ReplyFacts;

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
    /// `POST /v1/responses` (OpenAI Responses API; docs/responses.md).
    Responses,
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
    /// The authenticated caller (`None` when `auth:` is not configured or authentication failed).
    pub identity: Option<Arc<crate::policy::Identity>>,
    /// What the request holds from the limits: token charges settled with the real usage, and concurrency slots
    /// released, when the context finishes.
    pub limits: Option<crate::policy::limits::Guard>,
    /// The model id sent upstream, for pricing.
    pub upstream_model: Option<String>,
    /// The price table in force when the request started.
    pub pricing: Option<Arc<crate::metering::Pricing>>,
    /// Filled with the request's cost when the context finishes (read for `x-gatehouse-cost-usd`).
    pub cost_cell: Option<Arc<std::sync::OnceLock<f64>>>,
    /// Budget reservations, replaced by the real cost when the context finishes.
    pub budget: Option<crate::policy::budget::Reservation>,
    /// The request's trace context: its SERVER span when exported, else the client's W3C context (`context/trace.rs`).
    pub trace: opentelemetry::Context,
    /// The current upstream attempt's CLIENT span.
    attempt: Option<crate::trace::ChildSpan>,
    /// `gen_ai.provider.name` of the target serving the request.
    provider_name: Option<&'static str>,
    /// What a non-streamed reply said about itself (read only while its span is exported).
    reply: Option<ReplyFacts>,
    /// The provider of the attempt in progress (its result is counted once: failed, or at the end).
    attempt_provider: Option<String>,
    /// When the first upstream attempt started (`gen_ai_client_operation_duration`).
    upstream_start: Option<Instant>,
}

#[derive(Serialize)]
struct LogLine<'a> {
    ts: f64,
    request_id: &'a str,
    route: &'static str,
    key: Option<&'a str>,
    team: Option<&'a str>,
    user: Option<&'a str>,
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
    cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
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
            Self::Responses => "responses",
        }
    }

    /// The dialect of the route's clients.
    #[must_use]
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Messages | Self::CountTokens => Dialect::Anthropic,
            Self::ChatCompletions | Self::Completions | Self::Embeddings | Self::Models | Self::Responses => {
                Dialect::OpenAi
            }
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
            Self::Responses => "/v1/responses",
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
            Self::Responses => "chat",
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
            identity: None,
            limits: None,
            upstream_model: None,
            pricing: None,
            cost_cell: None,
            budget: None,
            attempts: 0,
            trace: opentelemetry::Context::new(),
            attempt: None,
            provider_name: None,
            reply: None,
            attempt_provider: None,
            upstream_start: None,
        }
    }

    /// The gateway's metrics.
    #[must_use]
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.telemetry.metrics
    }

    /// Records an error outcome (the first error wins).
    pub fn fail(&mut self, status: u16, code: &'static str, upstream: bool) {
        self.status = status;
        if self.error_code.is_none() {
            self.error_code = Some(code);
            self.upstream_error = upstream;
        }
    }

    /// Marks the first upstream byte (and tells the pool the replica has started producing tokens for it).
    pub fn first_byte(&mut self) {
        if self.ttfb.is_none() {
            self.ttfb = Some(self.start.elapsed());
            if let Some(lease) = self.pool_lease.as_mut() {
                lease.first_token();
            }
        }
    }

    /// Prices the usage (when there is usage and a price) and counts spend and billed tokens; the cost, if any.
    fn meter(&self, model: &str, provider: &str) -> Option<f64> {
        let usage = self.usage?;
        let m = &self.telemetry.metrics.metering;
        let key = match self.identity.as_deref() {
            Some(i) if i.name.starts_with("jwt:") => "jwt".to_string(),
            Some(i) => i.name.clone(),
            None => String::new(),
        };
        let labels = crate::metering::metrics::SpendLabels {
            key,
            team: self
                .identity
                .as_deref()
                .and_then(|i| i.team.clone())
                .unwrap_or_default(),
            model: model.to_string(),
            provider: provider.to_string(),
        };
        let plain = usage
            .input_tokens
            .saturating_sub(usage.cached_input_tokens)
            .saturating_sub(usage.cache_write_input_tokens);
        for (kind, n) in [
            ("input", plain),
            ("cache_read", usage.cached_input_tokens),
            ("cache_write", usage.cache_write_input_tokens),
            ("output", usage.output_tokens),
        ] {
            if n > 0 {
                m.tokens
                    .get_or_create(&crate::metering::metrics::BilledTokenLabels {
                        key: labels.key.clone(),
                        team: labels.team.clone(),
                        model: labels.model.clone(),
                        provider: labels.provider.clone(),
                        r#type: kind,
                    })
                    .inc_by(n);
            }
        }
        let price = self
            .pricing
            .as_deref()
            .and_then(|p| p.price(self.upstream_model.as_deref(), self.model.as_deref()));
        let Some(price) = price else {
            if self.pricing.as_deref().is_some_and(|p| !p.prices.is_empty()) {
                m.unpriced.get_or_create(&labels).inc();
            }
            return None;
        };
        let cost = price.cost(&usage);
        m.spend.get_or_create(&labels).inc_by(cost);
        if let Some(cell) = &self.cost_cell {
            let _ = cell.set(cost);
        }
        Some(cost)
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
        if let Some(mut guard) = self.limits.take() {
            // Real usage when seen; no usage after an error means nothing was generated; otherwise (a stream cut
            // before its usage) the estimate stands.
            let actual = match (self.usage, self.error_code) {
                (Some(u), _) => Some(u.input_tokens.saturating_add(u.output_tokens)),
                (None, Some(_)) => Some(0),
                (None, None) => None,
            };
            guard.settle(actual);
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
        self.measure(outcome, elapsed, &model, &target);
        let cost_usd = self.meter(&model, &target);
        if let Some(mut r) = self.budget.take() {
            r.settle(cost_usd, &m.metering.budget_soft);
        }
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let line = LogLine {
            ts: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            request_id: &self.id,
            route: self.route.as_str(),
            key: self.identity.as_deref().map(|i| i.name.as_str()),
            team: self.identity.as_deref().and_then(|i| i.team.as_deref()),
            user: self.identity.as_deref().and_then(|i| i.user.as_deref()),
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
            cost_usd,
            trace_id: crate::trace::trace_id(&self.trace),
        };
        if let Ok(s) = serde_json::to_string(&line) {
            self.telemetry.access_log.write(&s);
        }
        self.finish_trace(outcome);
    }
}
