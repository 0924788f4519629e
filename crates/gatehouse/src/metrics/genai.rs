//! The GenAI client metrics that complete `gen_ai_client_token_usage` and `gen_ai_server_time_to_first_token`:
//! operation duration (upstream exchange, all attempts) and time per output token (semantic conventions v1.41
//! names, `.` as `_`). `gen_ai_provider_name` is the configured provider name, as on the other `gen_ai_*` metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of `gen_ai_client_operation_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `chat`, `text_completion`, `embeddings`.
    pub gen_ai_operation_name: &'static str,
    /// Provider (configured name).
    pub gen_ai_provider_name: String,
    /// Model asked for (canonical name).
    pub gen_ai_request_model: String,
    /// Empty on success, else the request's error code.
    pub error_type: &'static str,
}

/// Labels of `gen_ai_server_time_per_output_token_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TpotLabels {
    /// Operation.
    pub gen_ai_operation_name: &'static str,
    /// Provider (configured name).
    pub gen_ai_provider_name: String,
    /// Model asked for.
    pub gen_ai_request_model: String,
}

/// The two histograms.
pub struct GenAiMetrics {
    /// Upstream exchange duration, first attempt to last byte.
    pub operation_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    /// Time per output token after the first, on streamed answers.
    pub time_per_output_token: Family<TpotLabels, Histogram, fn() -> Histogram>,
}

/// The semantic-convention boundaries of `gen_ai.client.operation.duration`.
fn duration_histogram() -> Histogram {
    Histogram::new([
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ])
}

/// The semantic-convention boundaries of `gen_ai.server.time_per_output_token`.
fn tpot_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 12))
}

// === impl GenAiMetrics ===

impl GenAiMetrics {
    /// Registers both.
    pub fn register(registry: &mut Registry) -> Self {
        let operation_duration = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        let time_per_output_token = Family::<TpotLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            tpot_histogram as fn() -> Histogram,
        );
        registry.register(
            "gen_ai_client_operation_duration_seconds",
            "GenAI operation duration as the gateway sees it: first upstream attempt to the last byte, in seconds",
            operation_duration.clone(),
        );
        registry.register(
            "gen_ai_server_time_per_output_token_seconds",
            "Time per output token after the first (streamed answers), in seconds",
            time_per_output_token.clone(),
        );
        Self {
            operation_duration,
            time_per_output_token,
        }
    }
}
