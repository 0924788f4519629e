//! Process-wide telemetry handles shared by every request: metrics, the access log and the tracer.

use crate::access_log::AccessLog;
use crate::metrics::Metrics;

/// Metrics registry and access log, created once and kept across reloads.
pub struct Telemetry {
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Access log sink.
    pub access_log: AccessLog,
    /// OpenTelemetry trace export (off without `telemetry.traces` / `OTEL_*` endpoint).
    pub traces: crate::trace::Traces,
}
