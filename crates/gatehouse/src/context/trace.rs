//! The request's spans: the SERVER span started when the request is accepted, one CLIENT span per upstream attempt,
//! and their GenAI attributes, set once when the context is dropped (with the access log and the metrics).

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use super::{Outcome, RequestContext};
use crate::trace::ChildSpan;

/// Most finish reasons kept per reply (one per choice; `n` is small in practice).
const MAX_FINISH_REASONS: usize = 16;

/// What the reply said about itself, for `gen_ai.response.*`.
#[derive(Debug, Default)]
pub struct ReplyFacts {
    /// `gen_ai.response.model`.
    pub model: Option<String>,
    /// `gen_ai.response.finish_reasons`.
    pub finish_reasons: Vec<String>,
    /// `gen_ai.response.id`.
    pub id: Option<String>,
}

// === impl RequestContext ===

impl RequestContext {
    /// Starts the request's SERVER span, continuing the client's `traceparent`.
    pub fn start_trace(&mut self, method: &http::Method, headers: &http::HeaderMap) {
        let path = self.route.upstream_path();
        let attrs = vec![
            KeyValue::new("http.request.method", method.as_str().to_string()),
            KeyValue::new("http.route", path),
            KeyValue::new("url.path", path),
            KeyValue::new("gen_ai.operation.name", self.route.operation()),
            KeyValue::new("gatehouse.request_id", self.id.clone()),
        ];
        self.trace = self
            .telemetry
            .traces
            .server_span(format!("{} {path}", method.as_str()), headers, attrs);
    }

    /// Whether this request's spans are exported (attributes worth computing).
    #[must_use]
    pub fn tracing(&self) -> bool {
        self.trace.span().is_recording()
    }

    /// Opens the CLIENT span of the next upstream attempt and returns the context to inject into its request: the
    /// attempt's span when exported, else the client's own context (passed through unchanged).
    pub fn start_attempt(
        &mut self,
        kind: crate::config::spec::ProviderKind,
        upstream_model: &str,
        endpoint: &str,
    ) -> Context {
        self.attempt = None;
        self.attempt_provider.clone_from(&self.target);
        self.upstream_start.get_or_insert_with(std::time::Instant::now);
        let provider = crate::trace::provider_name(kind);
        self.provider_name = Some(provider);
        if !self.tracing() {
            return self.trace.clone();
        }
        let op = self.route.operation();
        let mut attrs = vec![
            KeyValue::new("gen_ai.operation.name", op),
            KeyValue::new("gen_ai.provider.name", provider),
            KeyValue::new("gen_ai.request.model", upstream_model.to_string()),
            KeyValue::new("gatehouse.attempt", i64::from(self.attempts + 1)),
        ];
        if let Some(t) = &self.target {
            attrs.push(KeyValue::new("gatehouse.target", t.clone()));
        }
        attrs.extend(crate::trace::server_attrs(endpoint));
        let span = ChildSpan::start(
            Some(&self.trace),
            format!("{op} {upstream_model}"),
            SpanKind::Client,
            attrs,
        );
        let cx = span.context().cloned().unwrap_or_else(|| self.trace.clone());
        self.attempt = Some(span);
        cx
    }

    /// Ends the current attempt's span as failed (`error.type` = the failover reason: `status_503`,
    /// `upstream_timeout`, ...); the request may go on with another attempt.
    pub fn attempt_failed(&mut self, reason: &str, status: Option<u16>) {
        if let Some(p) = self.attempt_provider.take() {
            self.telemetry.metrics.ops.attempt(&p, reason);
        }
        if let Some(span) = self.attempt.take() {
            if let Some(s) = status {
                span.set([KeyValue::new("http.response.status_code", i64::from(s))]);
            }
            span.fail(reason.to_string());
        }
    }

    /// Records the request's content on its span when `record_content` is on.
    pub fn record_input(&self, messages: Option<&str>) {
        if let Some(m) = messages
            && crate::trace::records_content(&self.trace)
        {
            self.trace
                .span()
                .set_attribute(KeyValue::new("gen_ai.input.messages", crate::trace::bounded_content(m)));
        }
    }

    /// Reads `gen_ai.response.*` (and the output content, when recorded) from a whole reply in the OpenAI or
    /// Anthropic shape. Only when the span is exported: the parse costs a pass over the body.
    pub fn observe_reply(&mut self, body: &[u8]) {
        if !self.tracing() {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Choice<'a> {
            #[serde(borrow, default)]
            finish_reason: Option<std::borrow::Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Reply<'a> {
            #[serde(borrow, default)]
            id: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            model: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            choices: Option<Vec<Choice<'a>>>,
            #[serde(borrow, default)]
            stop_reason: Option<std::borrow::Cow<'a, str>>,
        }
        let Ok(r) = serde_json::from_slice::<Reply<'_>>(body) else {
            return;
        };
        let mut facts = ReplyFacts {
            model: r.model.map(std::borrow::Cow::into_owned),
            id: r.id.map(std::borrow::Cow::into_owned),
            finish_reasons: Vec::new(),
        };
        for c in r.choices.unwrap_or_default() {
            if let Some(f) = c.finish_reason {
                facts.finish_reasons.push(f.into_owned());
            }
        }
        if let Some(s) = r.stop_reason {
            facts.finish_reasons.push(s.into_owned());
        }
        if crate::trace::records_content(&self.trace)
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
        {
            let out = v.get("choices").or_else(|| v.get("content")).map(ToString::to_string);
            if let Some(out) = out {
                self.trace.span().set_attribute(KeyValue::new(
                    "gen_ai.output.messages",
                    crate::trace::bounded_content(&out),
                ));
            }
        }
        self.reply = Some(facts);
    }

    /// Reads `gen_ai.response.*` from the client-bound SSE bytes of a stream (OpenAI chunks: `id`, `model`,
    /// `choices[].finish_reason`; Anthropic events: `message_start.message`, `message_delta.delta.stop_reason`).
    /// Only while the span is exported; an event split across frames is skipped (best effort).
    pub fn observe_stream(&mut self, sent: &[u8]) {
        if sent.is_empty() || !self.tracing() {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Choice<'a> {
            #[serde(borrow, default)]
            finish_reason: Option<std::borrow::Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Message<'a> {
            #[serde(borrow, default)]
            id: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            model: Option<std::borrow::Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Delta<'a> {
            #[serde(borrow, default)]
            stop_reason: Option<std::borrow::Cow<'a, str>>,
        }
        #[derive(serde::Deserialize)]
        struct Event<'a> {
            #[serde(borrow, default)]
            id: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            model: Option<std::borrow::Cow<'a, str>>,
            #[serde(borrow, default)]
            choices: Option<Vec<Choice<'a>>>,
            #[serde(borrow, default)]
            message: Option<Message<'a>>,
            #[serde(borrow, default)]
            delta: Option<Delta<'a>>,
        }
        let facts = self.reply.get_or_insert_with(ReplyFacts::default);
        for line in sent.split(|b| *b == b'\n') {
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let Ok(ev) = serde_json::from_slice::<Event<'_>>(data.trim_ascii()) else {
                continue;
            };
            let (id, model) = match ev.message {
                Some(m) => (m.id, m.model),
                None => (ev.id, ev.model),
            };
            if facts.model.is_none() {
                facts.model = model.map(std::borrow::Cow::into_owned);
            }
            if facts.id.is_none() {
                facts.id = id.map(std::borrow::Cow::into_owned);
            }
            // Bounded: an upstream repeating finish_reason on every chunk cannot grow the list.
            for c in ev.choices.unwrap_or_default() {
                if let Some(f) = c
                    .finish_reason
                    .filter(|_| facts.finish_reasons.len() < MAX_FINISH_REASONS)
                {
                    facts.finish_reasons.push(f.into_owned());
                }
            }
            if let Some(s) = ev.delta.and_then(|d| d.stop_reason)
                && facts.finish_reasons.len() < MAX_FINISH_REASONS
            {
                facts.finish_reasons.push(s.into_owned());
            }
        }
    }

    /// Sets the final attributes on the SERVER span and the serving attempt's span, and ends both.
    pub(super) fn finish_trace(&mut self, outcome: Outcome) {
        if let Some(p) = self.attempt_provider.take() {
            let result = self.error_code.filter(|_| self.upstream_error).unwrap_or("ok");
            self.telemetry.metrics.ops.attempt(&p, result);
        }
        let attempt = self.attempt.take();
        if !self.tracing() {
            return;
        }
        // Shared by the server span and the serving attempt's (which keeps its own `gen_ai.request.model`: the
        // upstream model id, where the server span has the gatehouse model name).
        let mut common = Vec::with_capacity(12);
        if let Some(p) = self.provider_name {
            common.push(KeyValue::new("gen_ai.provider.name", p));
        }
        if let Some(u) = self.usage {
            common.push(KeyValue::new("gen_ai.usage.input_tokens", u.input_tokens as i64));
            if self.route != super::Route::Embeddings {
                common.push(KeyValue::new("gen_ai.usage.output_tokens", u.output_tokens as i64));
            }
            if u.cached_input_tokens > 0 {
                common.push(KeyValue::new(
                    "gen_ai.usage.cache_read.input_tokens",
                    u.cached_input_tokens as i64,
                ));
            }
            if u.cache_write_input_tokens > 0 {
                common.push(KeyValue::new(
                    "gen_ai.usage.cache_creation.input_tokens",
                    u.cache_write_input_tokens as i64,
                ));
            }
        }
        if let Some(r) = &self.reply {
            if let Some(m) = &r.model {
                common.push(KeyValue::new("gen_ai.response.model", m.clone()));
            }
            if let Some(id) = &r.id {
                common.push(KeyValue::new("gen_ai.response.id", id.clone()));
            }
            if !r.finish_reasons.is_empty() {
                let list: Vec<opentelemetry::StringValue> = r.finish_reasons.iter().map(|f| f.clone().into()).collect();
                common.push(KeyValue::new(
                    "gen_ai.response.finish_reasons",
                    opentelemetry::Value::Array(list.into()),
                ));
            }
        }
        if self.stream {
            common.push(KeyValue::new("gen_ai.request.stream", true));
            if let Some(t) = self.ttfb {
                common.push(KeyValue::new("gen_ai.response.time_to_first_chunk", t.as_secs_f64()));
            }
        }
        let error_type = match outcome {
            Outcome::ClientDisconnected => Some("client_disconnected"),
            _ => self.error_code,
        };
        if let Some(span) = attempt {
            span.set(common.iter().cloned());
            if let Some(e) = self.error_code.filter(|_| self.upstream_error) {
                span.fail(e);
            }
        }
        let span = self.trace.span();
        if let Some(m) = &self.model {
            span.set_attribute(KeyValue::new("gen_ai.request.model", m.clone()));
        }
        span.set_attributes(common);
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(self.status)));
        span.set_attribute(KeyValue::new("gatehouse.attempts", i64::from(self.attempts)));
        if let Some(t) = &self.target {
            span.set_attribute(KeyValue::new("gatehouse.target", t.clone()));
        }
        if let Some(e) = error_type {
            crate::trace::fail(&self.trace, e.to_string());
        }
        span.end();
    }
}
