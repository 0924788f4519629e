//! An OTLP/HTTP trace receiver: decodes `ExportTraceServiceRequest` protobuf bodies (as a collector does) and keeps
//! every span, flattened, so tests can assert names, kinds, parent/child links and attributes.
//!
//! Strict like a collector: only `POST /v1/traces` with `Content-Type: application/x-protobuf` and a body that
//! decodes is accepted (anything else gets 404/415/400 and is recorded as a rejection); the answer is an empty
//! `ExportTraceServiceResponse`. Required headers (an API key) can be demanded with [`OtlpReceiver::require_header`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use prost::Message;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::sse_body::MockBody;

/// One exported span, flattened from its resource and scope.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    /// Span name.
    pub name: String,
    /// `SERVER`, `CLIENT`, `INTERNAL`, ...
    pub kind: &'static str,
    /// Trace id, lower-case hex.
    pub trace_id: String,
    /// Span id, lower-case hex.
    pub span_id: String,
    /// Parent span id, lower-case hex (empty for a root span).
    pub parent_span_id: String,
    /// Attributes as JSON values (strings, numbers, booleans, arrays).
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// The resource's attributes.
    pub resource: BTreeMap<String, serde_json::Value>,
    /// `true` when the span's status is ERROR.
    pub error: bool,
}

/// What the receiver got: accepted spans and the headers of each export request.
#[derive(Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    requests: Vec<HeaderMap>,
    rejections: Vec<String>,
}

/// A running receiver; dropping it closes the listener.
pub struct OtlpReceiver {
    url: String,
    received: Arc<Mutex<Received>>,
    count: watch::Receiver<usize>,
    shutdown: CancellationToken,
}

// === impl ReceivedSpan ===

impl ReceivedSpan {
    /// A string attribute.
    #[must_use]
    pub fn str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(serde_json::Value::as_str)
    }

    /// An integer attribute.
    #[must_use]
    pub fn int(&self, key: &str) -> Option<i64> {
        self.attributes.get(key).and_then(serde_json::Value::as_i64)
    }
}

// === impl OtlpReceiver ===

impl OtlpReceiver {
    /// Starts a receiver that accepts every well-formed export.
    pub async fn start() -> Self {
        Self::start_requiring(None).await
    }

    /// Starts a receiver that refuses (401) exports without `name: value`.
    pub async fn require_header(name: &'static str, value: &'static str) -> Self {
        Self::start_requiring(Some((name, value))).await
    }

    async fn start_requiring(required: Option<(&'static str, &'static str)>) -> Self {
        let listener = crate::listener::free_port_listener().await;
        let url = format!(
            "http://{}",
            listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
        );
        let received = Arc::new(Mutex::new(Received::default()));
        let (tx, count) = watch::channel(0usize);
        let tx = Arc::new(tx);
        let shutdown = CancellationToken::new();
        let rec = received.clone();
        crate::listener::spawn_serve(listener, &shutdown, move |req| {
            let rec = rec.clone();
            let tx = tx.clone();
            async move { handle(req, &rec, &tx, required).await }
        });
        Self {
            url,
            received,
            count,
            shutdown,
        }
    }

    /// The collector base URL (`http://127.0.0.1:PORT`); exports go to `{url}/v1/traces`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every span received so far.
    #[must_use]
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .spans
            .clone()
    }

    /// The headers of every export request received so far.
    #[must_use]
    pub fn request_headers(&self) -> Vec<HeaderMap> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests
            .clone()
    }

    /// Why requests were refused, in order.
    #[must_use]
    pub fn rejections(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rejections
            .clone()
    }

    /// Waits (up to 10 s) until `pred` holds for the spans received, and returns them.
    ///
    /// # Panics
    ///
    /// When it does not hold in time, listing what arrived.
    pub async fn wait_for(&self, pred: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let mut count = self.count.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let spans = self.spans();
            if pred(&spans) {
                return spans;
            }
            match tokio::time::timeout_at(deadline, count.changed()).await {
                Ok(Ok(())) => {}
                _ => {
                    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
                    panic!(
                        "spans not received in 10s; got {names:?}; rejections {:?}",
                        self.rejections()
                    );
                }
            }
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn handle(
    req: Request<Incoming>,
    received: &Mutex<Received>,
    count: &watch::Sender<usize>,
    required: Option<(&'static str, &'static str)>,
) -> Response<MockBody> {
    let reject = |status: StatusCode, why: String| {
        received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rejections
            .push(why.clone());
        crate::render::full(status, HeaderValue::from_static("text/plain"), Bytes::from(why))
    };
    if req.method() != Method::POST || req.uri().path() != "/v1/traces" {
        return reject(
            StatusCode::NOT_FOUND,
            format!("{} {} is not an OTLP traces endpoint", req.method(), req.uri().path()),
        );
    }
    if req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/x-protobuf")
    {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type must be application/x-protobuf".into(),
        );
    }
    if let Some((name, value)) = required
        && req.headers().get(name).and_then(|v| v.to_str().ok()) != Some(value)
    {
        return reject(StatusCode::UNAUTHORIZED, format!("missing or wrong `{name}` header"));
    }
    let headers = req.headers().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return reject(StatusCode::BAD_REQUEST, format!("body: {e}")),
    };
    let export = match ExportTraceServiceRequest::decode(body) {
        Ok(e) => e,
        Err(e) => {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("not an ExportTraceServiceRequest: {e}"),
            );
        }
    };
    let mut spans = Vec::new();
    for rs in export.resource_spans {
        let resource = rs.resource.map(|r| attrs(&r.attributes)).unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                spans.push(ReceivedSpan {
                    kind: match s.kind {
                        1 => "INTERNAL",
                        2 => "SERVER",
                        3 => "CLIENT",
                        4 => "PRODUCER",
                        5 => "CONSUMER",
                        _ => "UNSPECIFIED",
                    },
                    name: s.name,
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    attributes: attrs(&s.attributes),
                    resource: resource.clone(),
                    error: s.status.is_some_and(|st| st.code == 2),
                });
            }
        }
    }
    let total = {
        let mut r = received.lock().unwrap_or_else(PoisonError::into_inner);
        r.requests.push(headers);
        r.spans.extend(spans);
        r.spans.len()
    };
    count.send_replace(total);
    crate::render::full(
        StatusCode::OK,
        HeaderValue::from_static("application/x-protobuf"),
        Bytes::from(ExportTraceServiceResponse::default().encode_to_vec()),
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn attrs(kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> BTreeMap<String, serde_json::Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(serde_json::Value::Null, value)))
        .collect()
}

fn value(v: &AnyValue) -> serde_json::Value {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone().into(),
        Some(any_value::Value::BoolValue(b)) => (*b).into(),
        Some(any_value::Value::IntValue(i)) => (*i).into(),
        Some(any_value::Value::DoubleValue(d)) => (*d).into(),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter().map(value).collect(),
        _ => serde_json::Value::Null,
    }
}
