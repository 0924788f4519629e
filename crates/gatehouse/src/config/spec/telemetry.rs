//! `telemetry.traces:` — where OpenTelemetry traces go and what they may contain (docs/observability.md).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretSpec;
use crate::config::units::HumanDuration;

/// OTLP/HTTP trace export. Unset fields fall back to the standard `OTEL_*` environment variables, then to defaults;
/// without an endpoint here or in `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` no span is exported (W3C trace context is
/// still passed from the client to the upstreams).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TracesSpec {
    /// Export switch (default true when an endpoint is known); `false` turns export off whatever the environment says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The collector's OTLP/HTTP base URL (`http://otel-collector:4318`); `/v1/traces` is appended when the URL has
    /// no path. Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Headers sent with every export (a collector's API key, a tenant id); values are secrets like provider keys
    /// (`{ env: NAME }`, `{ file: PATH }` re-read on change, or `{ value: ... }`). Added to `OTEL_EXPORTER_OTLP_HEADERS`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, SecretSpec>,
    /// Fraction of new traces sampled, 0 to 1 (default 1, or `OTEL_TRACES_SAMPLER[_ARG]`). A client's sampled
    /// `traceparent` flag is always honoured (parent-based sampling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_ratio: Option<f64>,
    /// `service.name` (default `OTEL_SERVICE_NAME`, else `gatehouse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// More resource attributes (`deployment.environment.name: prod`), added to `OTEL_RESOURCE_ATTRIBUTES`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_attributes: BTreeMap<String, String>,
    /// Record prompt and completion content (`gen_ai.input.messages`, `gen_ai.output.messages`) on spans (default
    /// false: content is personal data and often secret; only sizes and metadata are recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_content: Option<bool>,
    /// Most finished spans waiting for export (default 2048); beyond it spans are dropped and counted in
    /// `gatehouse_trace_spans_dropped_total`, never waited for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue_size: Option<usize>,
    /// Most spans per export request (default 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_size: Option<usize>,
    /// Longest wait before a partial batch is exported (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_interval: Option<HumanDuration>,
    /// Time allowed for one export request (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_timeout: Option<HumanDuration>,
}
