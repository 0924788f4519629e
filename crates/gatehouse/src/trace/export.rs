//! The export side: a bounded span queue drained by one tokio task into the OTLP/HTTP protobuf exporter, which
//! sends over the gateway's own hyper-rustls client.
//!
//! `on_end` never waits: a full queue drops the span and counts it. The task exports a batch when it is full, when
//! `export_interval` passes, on [`Exporting::flush`] and on [`Exporting::shutdown`] (graceful shutdown).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, oneshot};

use super::TraceSettings;
use crate::secret::{Secret, SecretSource};

/// Span export counters (`gatehouse_trace_spans_*_total`).
#[derive(Clone, Debug, Default)]
pub struct ExportMetrics {
    /// Spans accepted by the collector.
    pub exported: Counter,
    /// Spans dropped because the queue was full (export is slower than traffic) or the exporter had stopped.
    pub dropped: Counter,
    /// Spans in batches the collector did not accept (unreachable, error status).
    pub failed: Counter,
}

/// The running export pipeline.
pub struct Exporting {
    spans: mpsc::Sender<SpanData>,
    control: mpsc::UnboundedSender<Control>,
    dropped: Counter,
    resource: Resource,
}

enum Control {
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// The SDK-facing end of the queue.
#[derive(Debug)]
struct QueueProcessor {
    spans: mpsc::Sender<SpanData>,
    dropped: Counter,
}

/// The OTLP exporter's HTTP client: the upstream client (HTTP/1.1 and h2, rustls) plus the configured headers.
struct ExportClient {
    client: crate::upstream::UpstreamClient,
    headers: Vec<(http::HeaderName, Arc<Secret>)>,
    timeout: Duration,
}

/// Largest collector response read (they are tiny: an `ExportTraceServiceResponse`).
const MAX_RESPONSE_BYTES: usize = 1 << 20;

// === impl ExportMetrics ===

impl ExportMetrics {
    /// Registers the counters.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "gatehouse_trace_spans_exported",
            "Spans accepted by the OTLP collector",
            m.exported.clone(),
        );
        registry.register(
            "gatehouse_trace_spans_dropped",
            "Spans dropped without export because the export queue was full",
            m.dropped.clone(),
        );
        registry.register(
            "gatehouse_trace_spans_failed",
            "Spans in export requests the OTLP collector did not accept",
            m.failed.clone(),
        );
        m
    }
}

// === impl Exporting ===

impl Exporting {
    /// Builds the exporter and spawns its task (inside the tokio runtime).
    pub fn start(settings: &TraceSettings, metrics: ExportMetrics) -> Result<Self, String> {
        let client = crate::upstream::UpstreamClient::new(settings.export_timeout)
            .map_err(|e| format!("no TLS roots for the exporter: {e}"))?;
        let headers = settings.headers.clone();
        let client = ExportClient {
            client,
            headers,
            timeout: settings.export_timeout,
        };
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.to_string())
            .with_timeout(settings.export_timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let resource = resource(settings);
        exporter.set_resource(&resource);
        let (spans, rx) = mpsc::channel(settings.max_queue_size);
        let (control, control_rx) = mpsc::unbounded_channel();
        tokio::spawn(run(
            exporter,
            rx,
            control_rx,
            settings.max_batch_size,
            settings.export_interval,
            metrics.clone(),
        ));
        Ok(Self {
            spans,
            control,
            dropped: metrics.dropped,
            resource,
        })
    }

    /// The span processor to register with the tracer provider.
    pub(super) fn processor(&self) -> impl SpanProcessor + 'static {
        QueueProcessor {
            spans: self.spans.clone(),
            dropped: self.dropped.clone(),
        }
    }

    /// The resource spans are exported with.
    pub(super) fn resource(&self) -> &Resource {
        &self.resource
    }

    /// Exports what is queued and waits for the collector's answer.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.control.send(Control::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Exports what is queued, then stops the task.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.control.send(Control::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// The export task.
async fn run(
    exporter: opentelemetry_otlp::SpanExporter,
    mut spans: mpsc::Receiver<SpanData>,
    mut control: mpsc::UnboundedReceiver<Control>,
    max_batch: usize,
    interval: Duration,
    metrics: ExportMetrics,
) {
    let mut batch: Vec<SpanData> = Vec::with_capacity(max_batch);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            Some(c) = control.recv() => {
                while let Ok(s) = spans.try_recv() {
                    batch.push(s);
                    if batch.len() >= max_batch {
                        export(&exporter, &mut batch, &metrics).await;
                    }
                }
                export(&exporter, &mut batch, &metrics).await;
                match c {
                    Control::Flush(done) => {
                        let _ = done.send(());
                    }
                    Control::Shutdown(done) => {
                        spans.close();
                        let _ = exporter.shutdown();
                        let _ = done.send(());
                        return;
                    }
                }
            }
            s = spans.recv() => match s {
                Some(s) => {
                    batch.push(s);
                    if batch.len() >= max_batch {
                        export(&exporter, &mut batch, &metrics).await;
                    }
                }
                None => {
                    export(&exporter, &mut batch, &metrics).await;
                    return;
                }
            },
            _ = tick.tick() => export(&exporter, &mut batch, &metrics).await,
        }
    }
}

async fn export(exporter: &opentelemetry_otlp::SpanExporter, batch: &mut Vec<SpanData>, metrics: &ExportMetrics) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len() as u64;
    match exporter.export(std::mem::take(batch)).await {
        Ok(()) => {
            metrics.exported.inc_by(n);
        }
        Err(e) => {
            metrics.failed.inc_by(n);
            tracing::warn!(spans = n, error = %e, "trace export failed; spans lost");
        }
    }
}

/// `service.name`, `service.version` and the configured resource attributes.
pub(super) fn resource(settings: &TraceSettings) -> Resource {
    Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .with_attributes(
            settings
                .resource
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build()
}

// === impl QueueProcessor ===

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if self.spans.try_send(span).is_err() {
            self.dropped.inc();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

// === impl ExportClient ===

impl std::fmt::Debug for ExportClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets: names only.
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExportClient")
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

impl ExportClient {
    async fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, HttpError> {
        let (mut parts, body) = request.into_parts();
        for (name, secret) in &self.headers {
            if matches!(secret.source(), SecretSource::File(_)) {
                secret.refresh();
            }
            let value = secret
                .get()
                .map_err(|reason| format!("export header `{name}` unavailable: {reason}"))?;
            let mut v = http::HeaderValue::from_str(&value)
                .map_err(|_| format!("export header `{name}` is not a valid header value"))?;
            v.set_sensitive(true);
            parts.headers.insert(name.clone(), v);
        }
        let req = http::Request::from_parts(parts, Full::new(body));
        let resp = tokio::time::timeout(self.timeout, self.client.send(req))
            .await
            .map_err(|_| "export timed out")??;
        let (parts, body) = resp.into_parts();
        let body = tokio::time::timeout(self.timeout, Limited::new(body, MAX_RESPONSE_BYTES).collect())
            .await
            .map_err(|_| "export response timed out")??
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

impl HttpClient for ExportClient {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.send(request))
    }
}
