//! OpenTelemetry traces: one SERVER span per request, CLIENT spans per upstream attempt, MCP hop and slow policy
//! step, exported over OTLP/HTTP (docs/observability.md).
//!
//! Spans are made with the OpenTelemetry API directly, from the per-request context, rather than through a
//! process-global `tracing` subscriber: the tracer comes from this gateway's YAML (`telemetry.traces`), several
//! gateways can run in one process (the integration tests do), and the span is finished in the same `Drop` that
//! writes the access log and the metrics, so a client that goes away mid-stream still gets its span.
//!
//! Invariants: exporting never blocks the data path (a bounded queue; a full queue drops the span and counts it in
//! `gatehouse_trace_spans_dropped_total`); W3C `traceparent`/`tracestate` from the client are continued, and the
//! current span is injected into every upstream request, also when export is off (then the client's context is
//! passed on unchanged); prompt and completion content is recorded only with `record_content: true`.

mod export;
mod names;

use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};

pub use export::{ExportMetrics, Exporting};
pub use names::provider_name;

/// How new traces are sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The client's sampled flag when it sent a `traceparent`, else this fraction of trace ids.
    ParentBasedRatio(f64),
    /// This fraction of trace ids, whatever the client says.
    Ratio(f64),
}

/// Resolved `telemetry.traces` (YAML over `OTEL_*` over defaults), built in `config/validate/traces.rs`.
#[derive(Debug)]
pub struct TraceSettings {
    /// The full OTLP/HTTP traces URL (`…/v1/traces`).
    pub endpoint: http::Uri,
    /// Headers sent with each export; values are secrets (never logged, file secrets re-read before each export).
    pub headers: Vec<(http::HeaderName, std::sync::Arc<crate::secret::Secret>)>,
    /// Sampler.
    pub sampling: Sampling,
    /// `service.name`.
    pub service_name: String,
    /// Other resource attributes.
    pub resource: Vec<(String, String)>,
    /// Whether prompt and completion content may be recorded.
    pub record_content: bool,
    /// Bound of the export queue.
    pub max_queue_size: usize,
    /// Spans per export request.
    pub max_batch_size: usize,
    /// Longest wait before a partial batch goes out.
    pub export_interval: Duration,
    /// Time allowed for one export.
    pub export_timeout: Duration,
}

/// The process's tracer for one gateway: absent when export is off.
pub struct Traces {
    inner: Option<Inner>,
}

struct Inner {
    tracer: SdkTracer,
    provider: SdkTracerProvider,
    exporting: Exporting,
    record_content: bool,
    /// Bounds the flush at shutdown (a stuck collector must not hold the exit).
    export_timeout: Duration,
    /// Where spans go (for `/status`; the settings in force at start, whatever a reload says since).
    endpoint: http::Uri,
}

/// The tracer, carried inside a request's [`Context`] so code deep in the policies can open a child span without a
/// handle being threaded through every call.
#[derive(Clone)]
struct TracerHandle {
    tracer: SdkTracer,
    record_content: bool,
}

/// A child span that ends when dropped.
pub struct ChildSpan {
    cx: Option<Context>,
}

// === impl Traces ===

impl Traces {
    /// No export (propagation still works).
    #[must_use]
    pub fn off() -> Self {
        Self { inner: None }
    }

    /// Starts the exporter task for `settings`; must run inside the tokio runtime.
    #[must_use]
    pub fn start(settings: &TraceSettings, metrics: ExportMetrics) -> Self {
        let exporting = match Exporting::start(settings, metrics) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the OTLP trace exporter; traces are off");
                return Self::off();
            }
        };
        let sampler = match settings.sampling {
            Sampling::ParentBasedRatio(r) => Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r))),
            Sampling::Ratio(r) => Sampler::TraceIdRatioBased(r),
        };
        let provider = SdkTracerProvider::builder()
            .with_span_processor(exporting.processor())
            .with_sampler(sampler)
            .with_resource(exporting.resource().clone())
            .build();
        let tracer = provider.tracer("gatehouse");
        tracing::info!(endpoint = %settings.endpoint, "exporting traces over OTLP/HTTP");
        Self {
            inner: Some(Inner {
                tracer,
                provider,
                exporting,
                record_content: settings.record_content,
                export_timeout: settings.export_timeout,
                endpoint: settings.endpoint.clone(),
            }),
        }
    }

    /// Whether spans are exported.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The collector URL spans go to, and whether content is recorded (`None` when export is off).
    #[must_use]
    pub fn exporting_to(&self) -> Option<(&http::Uri, bool)> {
        self.inner.as_ref().map(|i| (&i.endpoint, i.record_content))
    }

    /// Starts the SERVER span of a request, continuing the client's W3C trace context. The returned context holds
    /// the span (when export is on) or just the client's context (when off), ready to be injected upstream.
    pub fn server_span(&self, name: String, headers: &http::HeaderMap, attrs: Vec<KeyValue>) -> Context {
        let parent = extract(headers);
        let Some(inner) = &self.inner else {
            return parent;
        };
        let span = inner
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attrs)
            .start_with_context(&inner.tracer, &parent);
        parent
            .with_value(TracerHandle {
                tracer: inner.tracer.clone(),
                record_content: inner.record_content,
            })
            .with_span(span)
    }

    /// Exports everything queued so far and waits for it (tests, shutdown).
    pub async fn flush(&self) {
        if let Some(inner) = &self.inner {
            inner.exporting.flush().await;
        }
    }

    /// Flushes and stops the exporter (waiting at most twice the export timeout); later spans are dropped. Called
    /// once, after the drain.
    pub async fn shutdown(&self) {
        if let Some(inner) = &self.inner {
            if tokio::time::timeout(inner.export_timeout * 2, inner.exporting.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("trace export did not finish at shutdown; queued spans are lost");
            }
            // The processor's own shutdown only marks it closed (the queue was drained above).
            let provider = inner.provider.clone();
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

// === impl ChildSpan ===

impl ChildSpan {
    /// A span under `parent` (or under the current context when `parent` is `None`), when `parent` belongs to an
    /// exported trace. Policy steps use `ChildSpan::start(None, ..)`: the request's context is current while its
    /// pipeline runs (`FutureExt::with_context` in `proxy.rs`).
    #[must_use]
    pub fn start(
        parent: Option<&Context>,
        name: impl Into<std::borrow::Cow<'static, str>>,
        kind: SpanKind,
        attrs: Vec<KeyValue>,
    ) -> Self {
        let current;
        let parent = match parent {
            Some(p) => p,
            None => {
                current = Context::current();
                &current
            }
        };
        let Some(handle) = parent.get::<TracerHandle>() else {
            return Self { cx: None };
        };
        if !parent.has_active_span() {
            return Self { cx: None };
        }
        let span = handle
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes(attrs)
            .start_with_context(&handle.tracer, parent);
        Self {
            cx: Some(parent.with_span(span)),
        }
    }

    /// A span that records nothing.
    #[must_use]
    pub fn none() -> Self {
        Self { cx: None }
    }

    /// Adds attributes.
    pub fn set(&self, attrs: impl IntoIterator<Item = KeyValue>) {
        if let Some(cx) = &self.cx {
            cx.span().set_attributes(attrs);
        }
    }

    /// Marks the span failed with a stable `error.type`.
    pub fn fail(&self, error_type: impl Into<String>) {
        if let Some(cx) = &self.cx {
            fail(cx, error_type.into());
        }
    }

    /// The span's context (for injection into an upstream request), if it records.
    #[must_use]
    pub fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }
}

impl Drop for ChildSpan {
    fn drop(&mut self) {
        if let Some(cx) = &self.cx {
            cx.span().end();
        }
    }
}

/// A CLIENT span for one Redis script call made by a limiter or budget (`db.system.name = redis`), under the
/// request being served; records nothing outside a request (settlement after the response).
#[must_use]
pub fn redis_span(purpose: &'static str) -> ChildSpan {
    ChildSpan::start(
        None,
        "EVALSHA",
        SpanKind::Client,
        vec![
            KeyValue::new("db.system.name", "redis"),
            KeyValue::new("db.operation.name", "EVALSHA"),
            KeyValue::new("gatehouse.purpose", purpose),
        ],
    )
}

/// Ends `span` failed with `error_type` when `result` is an error; passes `result` on.
pub fn record_result<T, E>(span: &ChildSpan, result: Result<T, E>, error_type: &'static str) -> Result<T, E> {
    if result.is_err() {
        span.fail(error_type);
    }
    result
}

/// Marks the context's span failed: `error.type` and status ERROR.
pub fn fail(cx: &Context, error_type: String) {
    let span = cx.span();
    span.set_status(Status::error(error_type.clone()));
    span.set_attribute(KeyValue::new("error.type", error_type));
}

/// Whether prompt and completion content may be recorded on this context's spans.
#[must_use]
pub fn records_content(cx: &Context) -> bool {
    cx.get::<TracerHandle>().is_some_and(|h| h.record_content) && cx.span().is_recording()
}

/// The client's W3C trace context (`traceparent`, `tracestate`), or an empty context.
#[must_use]
pub fn extract(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers))
}

/// Writes `traceparent` (and `tracestate`) for `cx` into an upstream request's headers, replacing any the client
/// sent; nothing when `cx` carries no valid span context.
pub fn inject(cx: &Context, headers: &mut http::HeaderMap) {
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(cx, &mut opentelemetry_http::HeaderInjector(headers));
    }
}

/// `params` with `_meta.traceparent` (and `_meta.tracestate`) set to `cx`, the MCP trace-context carrier; other
/// `_meta` keys and every other field are kept. `None` (send `params` unchanged) when `cx` has no valid span
/// context or `params` is not an object.
#[must_use]
pub fn with_mcp_meta(
    params: Option<&serde_json::value::RawValue>,
    cx: &Context,
) -> Option<Box<serde_json::value::RawValue>> {
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    let mut obj: serde_json::Map<String, serde_json::Value> = match params {
        None => serde_json::Map::new(),
        Some(p) => match serde_json::from_str(p.get()) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return None,
        },
    };
    let meta = obj
        .entry("_meta")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    let serde_json::Value::Object(meta) = meta else {
        return None;
    };
    for (k, v) in carrier {
        meta.insert(k, serde_json::Value::String(v));
    }
    serde_json::value::to_raw_value(&obj).ok()
}

/// The trace id of `cx` in hex, for the access log (`None` without a valid span context).
#[must_use]
pub fn trace_id(cx: &Context) -> Option<String> {
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// Longest content recorded in one attribute (`record_content: true`); longer content is cut at a char boundary.
pub const MAX_CONTENT_BYTES: usize = 16 * 1024;

/// `s` cut to [`MAX_CONTENT_BYTES`].
#[must_use]
pub fn bounded_content(s: &str) -> String {
    if s.len() <= MAX_CONTENT_BYTES {
        return s.to_string();
    }
    let mut end = MAX_CONTENT_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// An attribute set shared by the MCP and LLM code: `server.address` and `server.port` of an upstream URL.
#[must_use]
pub fn server_attrs(url: &str) -> Vec<KeyValue> {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(2);
    if let Some(h) = uri.host() {
        out.push(KeyValue::new("server.address", h.to_string()));
    }
    let port = uri.port_u16().or_else(|| match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    if let Some(p) = port {
        out.push(KeyValue::new("server.port", i64::from(p)));
    }
    out
}

#[cfg(test)]
mod tests;
