//! Prometheus metrics, registered once per process and kept across config reloads.
//!
//! Names follow the OpenTelemetry GenAI semantic conventions where one exists
//! (`gen_ai_client_token_usage`, `gen_ai_server_time_to_first_token`) and `gatehouse_*` elsewhere.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub mod genai;
pub mod ops;

/// Labels of a finished request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route, e.g. `chat_completions`.
    pub route: &'static str,
    /// Model asked for (canonical name), or empty.
    pub model: String,
    /// Provider that served it, or empty.
    pub target: String,
    /// HTTP status sent to the client.
    pub status: u16,
    /// Error code, or empty on success.
    pub code: &'static str,
}

/// Labels for duration histograms (no error code: it would multiply series for little gain).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    /// Route.
    pub route: &'static str,
    /// Model.
    pub model: String,
    /// Provider.
    pub target: String,
    /// HTTP status.
    pub status: u16,
}

/// GenAI token usage labels (OpenTelemetry attribute names with `.` as `_`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    /// `chat`, `text_completion` or `embeddings`.
    pub gen_ai_operation_name: &'static str,
    /// Provider name from the config.
    pub gen_ai_provider_name: String,
    /// Model asked for.
    pub gen_ai_request_model: String,
    /// `input` or `output`.
    pub gen_ai_token_type: &'static str,
}

/// GenAI time-to-first-token labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TtftLabels {
    /// Operation.
    pub gen_ai_operation_name: &'static str,
    /// Provider.
    pub gen_ai_provider_name: String,
    /// Model.
    pub gen_ai_request_model: String,
}

/// Upstream failure labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamErrorLabels {
    /// Provider.
    pub target: String,
    /// Error code.
    pub code: &'static str,
}

/// MCP operation labels (OpenTelemetry MCP attribute names with `.` as `_`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct McpLabels {
    /// JSON-RPC method (`tools/call`, `initialize`, …; the HTTP method for GET/DELETE).
    pub mcp_method_name: String,
    /// Upstream that served it, or empty.
    pub target: String,
    /// Empty on success; the gateway error code, or `tool_error` for a tool result with `isError: true`.
    pub error_type: String,
}

/// Failover labels: the request moved from one target to the next.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailoverLabels {
    /// Model asked for.
    pub model: String,
    /// Provider that failed.
    pub from: String,
    /// Provider tried next.
    pub to: String,
    /// Why (`status_503`, `upstream_timeout`, ...).
    pub reason: String,
}

/// Labels naming one provider.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    /// Provider.
    pub provider: String,
}

/// Ejection labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EjectionLabels {
    /// Provider.
    pub provider: String,
    /// `consecutive_failures` or `throttled`.
    pub reason: &'static str,
}

/// Reload outcome labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `success` or `error`.
    pub result: &'static str,
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    /// Requests finished.
    pub requests: Family<RequestLabels, Counter>,
    /// Request duration in seconds.
    pub duration: Family<DurationLabels, Histogram, fn() -> Histogram>,
    /// Tokens per request.
    pub tokens: Family<TokenLabels, Histogram, fn() -> Histogram>,
    /// Time to first token in seconds.
    pub ttft: Family<TtftLabels, Histogram, fn() -> Histogram>,
    /// Upstream failures.
    pub upstream_errors: Family<UpstreamErrorLabels, Counter>,
    /// Config reloads.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Requests in flight.
    pub in_flight: Gauge,
    /// vLLM pool routing (`gatehouse_pool_*`).
    pub pool: crate::pool::PoolMetrics,
    /// MCP operation duration in seconds (semantic convention `mcp.server.operation.duration`).
    pub mcp_duration: Family<McpLabels, Histogram, fn() -> Histogram>,
    /// Spend and billed tokens (`gatehouse_spend_usd_total`, ...).
    pub metering: crate::metering::MeteringMetrics,
    /// Requests moved to another target.
    pub failovers: Family<FailoverLabels, Counter>,
    /// Attempts after the first (same or another target).
    pub retries: Family<ProviderLabels, Counter>,
    /// Targets taken out of rotation.
    pub ejections: Family<EjectionLabels, Counter>,
    /// 1 while a target is in rotation, 0 while ejected or cooling.
    pub health: Family<ProviderLabels, Gauge>,
    /// Active health probes and health state changes (`crate::probe`).
    pub probes: crate::probe::ProbeMetrics,
    /// Span export counters (`gatehouse_trace_spans_*`).
    pub traces: crate::trace::ExportMetrics,
    /// GenAI operation duration and time per output token (`metrics/genai.rs`).
    pub genai: genai::GenAiMetrics,
    /// Build info, config generation, errors by code, attempts, limit/budget rejections, MCP sessions (`metrics/ops.rs`).
    pub ops: ops::OpsMetrics,
}

fn mcp_histogram() -> Histogram {
    // The MCP semantic-convention boundaries, in seconds.
    Histogram::new([
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    ])
}

fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 18))
}

fn token_histogram() -> Histogram {
    // The OpenTelemetry GenAI recommended boundaries: powers of 4 from 1 to 4^13.
    Histogram::new(exponential_buckets(1.0, 4.0, 14))
}

// === impl Metrics ===

impl Metrics {
    /// Registers every metric.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<DurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            seconds_histogram as fn() -> Histogram,
        );
        let tokens = Family::<TokenLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            token_histogram as fn() -> Histogram,
        );
        let ttft = Family::<TtftLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            seconds_histogram as fn() -> Histogram,
        );
        let upstream_errors = Family::<UpstreamErrorLabels, Counter>::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        let in_flight = Gauge::default();
        let mcp_duration =
            Family::<McpLabels, Histogram, fn() -> Histogram>::new_with_constructor(mcp_histogram as fn() -> Histogram);
        registry.register(
            "mcp_server_operation_duration_seconds",
            "MCP operations served on /mcp, by method, upstream and error type, in seconds",
            mcp_duration.clone(),
        );
        registry.register(
            "gatehouse_requests",
            "Requests finished, by route, model, target, status and error code",
            requests.clone(),
        );
        registry.register(
            "gatehouse_request_duration_seconds",
            "Request duration from accept to last byte, in seconds",
            duration.clone(),
        );
        registry.register(
            "gen_ai_client_token_usage",
            "Tokens used per request ({token}), by input/output",
            tokens.clone(),
        );
        registry.register(
            "gen_ai_server_time_to_first_token",
            "Time to the first response byte from the upstream, in seconds",
            ttft.clone(),
        );
        registry.register(
            "gatehouse_upstream_errors",
            "Upstream failures by target and code",
            upstream_errors.clone(),
        );
        registry.register("gatehouse_config_reloads", "Config reloads by result", reloads.clone());
        registry.register(
            "gatehouse_requests_in_flight",
            "Requests being served",
            in_flight.clone(),
        );
        // Make both reload series visible from the start, so alerts can use rate() on them.
        drop(reloads.get_or_create(&ReloadLabels { result: "success" }));
        drop(reloads.get_or_create(&ReloadLabels { result: "error" }));
        let pool = crate::pool::PoolMetrics::register(&mut registry);
        let metering = crate::metering::MeteringMetrics::register(&mut registry);
        let probes = crate::probe::ProbeMetrics::register(&mut registry);
        let traces = crate::trace::ExportMetrics::register(&mut registry);
        let genai = genai::GenAiMetrics::register(&mut registry);
        let ops = ops::OpsMetrics::register(&mut registry);
        let failovers = Family::<FailoverLabels, Counter>::default();
        let retries = Family::<ProviderLabels, Counter>::default();
        let ejections = Family::<EjectionLabels, Counter>::default();
        let health = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "gatehouse_failovers",
            "Requests moved from one target to another before the first byte, by model, from, to and reason",
            failovers.clone(),
        );
        registry.register(
            "gatehouse_retries",
            "Upstream attempts after a request's first, by the provider retried",
            retries.clone(),
        );
        registry.register(
            "gatehouse_target_ejections",
            "Targets taken out of rotation by passive health, by reason",
            ejections.clone(),
        );
        registry.register(
            "gatehouse_target_health",
            "1 while a target is in rotation, 0 while it is ejected, cooling down or down by its health probes",
            health.clone(),
        );
        Self {
            probes,
            traces,
            genai,
            ops,
            failovers,
            retries,
            ejections,
            health,
            pool,
            metering,
            registry,
            requests,
            duration,
            tokens,
            ttft,
            upstream_errors,
            reloads,
            in_flight,
            mcp_duration,
        }
    }

    /// Renders the OpenMetrics text exposition.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Sets a target's health gauge.
    pub fn target_health(&self, provider: &str, healthy: bool) {
        self.health
            .get_or_create(&ProviderLabels {
                provider: provider.to_string(),
            })
            .set(i64::from(healthy));
    }

    /// Counts a target leaving rotation.
    pub fn target_ejection(&self, provider: &str, reason: &'static str) {
        self.ejections
            .get_or_create(&EjectionLabels {
                provider: provider.to_string(),
                reason,
            })
            .inc();
    }

    /// Counts a reload attempt.
    pub fn reload(&self, ok: bool) {
        self.reloads
            .get_or_create(&ReloadLabels {
                result: if ok { "success" } else { "error" },
            })
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
