//! OpenTelemetry traces through the real gateway into an in-test OTLP/HTTP receiver that decodes the protobuf:
//! span names and kinds, the server → attempt tree (two attempts on failover), GenAI attributes, the client's trace
//! continued and propagated upstream in `traceparent`, content off by default, `OTEL_*` configuration and the flush
//! on graceful shutdown.

use serde_json::{Value, json};
use testkit::{MockOpenAi, OtlpReceiver, ReceivedSpan, Reply};

use crate::support::{ChildGateway, TestGateway, with_defaults};

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";
const PROMPT: &str = "the secret recipe is 42 cloves";

fn traceparent() -> String {
    format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01")
}

fn config(primary: &str, secondary: &str, traces: &str) -> String {
    format!(
        r#"
providers:
  primary:
    kind: openai_compatible
    base_url: {primary}
  secondary:
    kind: openai_compatible
    base_url: {secondary}
    api_key: {{ value: sk-upstream-secret }}
models:
  - name: m
    targets: [{{ provider: primary, model: up-1 }}, {{ provider: secondary, model: up-2 }}]
telemetry:
  access_log: off
  traces: {traces}
"#
    )
}

fn chat() -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": PROMPT}]})
}

/// `(trace id, parent span id)` of a `traceparent` header.
fn parse_traceparent(v: &str) -> (String, String) {
    let parts: Vec<&str> = v.split('-').collect();
    assert_eq!(parts.len(), 4, "traceparent {v}");
    assert_eq!(parts[0], "00");
    (parts[1].to_string(), parts[2].to_string())
}

fn in_trace(spans: &[ReceivedSpan], trace: &str) -> Vec<ReceivedSpan> {
    spans.iter().filter(|s| s.trace_id == trace).cloned().collect()
}

#[tokio::test]
async fn failover_exports_a_server_span_with_two_attempt_spans_continuing_the_client_trace() {
    let receiver = OtlpReceiver::require_header("x-collector-key", "ck-1").await;
    let primary = MockOpenAi::builder()
        .reply(Reply::status(
            503,
            json!({"error": {"message": "down", "type": "server_error", "code": null}}),
        ))
        .start()
        .await;
    let secondary = MockOpenAi::builder()
        .api_key("sk-upstream-secret")
        .reply(Reply::chat("hello there"))
        .start()
        .await;
    let traces = format!(
        "{{ endpoint: \"{}\", export_interval: 50ms, headers: {{ x-collector-key: {{ value: ck-1 }} }}, \
         resource_attributes: {{ deployment.environment.name: test }} }}",
        receiver.url()
    );
    let gw = TestGateway::start(&config(&primary.base_url(), &secondary.base_url(), &traces)).await;
    let r = gw
        .chat(chat())
        .header("traceparent", traceparent())
        .header("tracestate", "vendor=abc")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-gatehouse-attempts"], "2");

    // Both upstream requests carry the client's trace id with a fresh parent (our attempt span), and its tracestate.
    let first = primary.requests();
    let second = secondary.requests();
    let (t1, p1) = parse_traceparent(first[0].header("traceparent").expect("traceparent to primary"));
    let (t2, p2) = parse_traceparent(second[0].header("traceparent").expect("traceparent to secondary"));
    assert_eq!(t1, CLIENT_TRACE);
    assert_eq!(t2, CLIENT_TRACE);
    assert_ne!(p1, CLIENT_SPAN);
    assert_ne!(p1, p2, "each attempt has its own span");
    assert_eq!(second[0].header("tracestate"), Some("vendor=abc"));

    let spans = receiver.wait_for(|s| in_trace(s, CLIENT_TRACE).len() >= 3).await;
    let spans = in_trace(&spans, CLIENT_TRACE);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server span");
    assert_eq!(server.name, "POST /v1/chat/completions");
    assert_eq!(server.parent_span_id, CLIENT_SPAN, "the client's span is the parent");
    assert_eq!(server.str("gen_ai.operation.name"), Some("chat"));
    assert_eq!(server.str("gen_ai.request.model"), Some("m"));
    assert_eq!(server.str("gen_ai.provider.name"), Some("openai_compatible"));
    assert_eq!(server.int("gatehouse.attempts"), Some(2));
    assert_eq!(server.int("http.response.status_code"), Some(200));
    assert!(
        server.int("gen_ai.usage.input_tokens").is_some_and(|n| n > 0),
        "{server:#?}"
    );
    assert_eq!(server.int("gen_ai.usage.output_tokens"), Some(2));
    assert!(!server.error);
    assert!(!server.attributes.contains_key("error.type"));
    assert_eq!(server.resource["service.name"], "gatehouse");
    assert_eq!(server.resource["deployment.environment.name"], "test");

    let mut attempts: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.kind == "CLIENT").collect();
    attempts.sort_by_key(|s| s.int("gatehouse.attempt"));
    assert_eq!(attempts.len(), 2);
    for a in &attempts {
        assert_eq!(
            a.parent_span_id, server.span_id,
            "attempts are children of the server span"
        );
        assert_eq!(a.str("server.address"), Some("127.0.0.1"));
        assert_eq!(a.str("gen_ai.operation.name"), Some("chat"));
    }
    let (a1, a2) = (attempts[0], attempts[1]);
    assert_eq!(a1.name, "chat up-1");
    assert_eq!(a1.span_id, p1, "the primary saw the first attempt's span as its parent");
    assert_eq!(a1.str("gatehouse.target"), Some("primary"));
    assert_eq!(a1.str("error.type"), Some("status_503"));
    assert_eq!(a1.int("http.response.status_code"), Some(503));
    assert!(a1.error);
    assert_eq!(a2.name, "chat up-2");
    assert_eq!(a2.span_id, p2);
    assert_eq!(a2.str("gatehouse.target"), Some("secondary"));
    assert!(!a2.error);
    assert_eq!(a2.str("gen_ai.response.model"), Some("up-2"));
    assert_eq!(a2.attributes["gen_ai.response.finish_reasons"], json!(["stop"]));
    assert_eq!(a2.int("gen_ai.usage.output_tokens"), Some(2));

    // Nothing secret or personal in any span by default: no prompt, no provider key, no collector header.
    let all = format!("{:?}", receiver.spans());
    for needle in [PROMPT, "sk-upstream-secret", "ck-1"] {
        assert!(!all.contains(needle), "`{needle}` leaked into a span");
    }
    // A full export queue would be counted; none was dropped here, all three were accepted.
    gw.gw.state.telemetry.traces.flush().await;
    let metrics = gw.metrics().await;
    assert!(metrics.contains("gatehouse_trace_spans_dropped_total 0"), "{metrics}");
    assert!(metrics.contains("gatehouse_trace_spans_exported_total 3"), "{metrics}");
}

#[tokio::test]
async fn a_request_without_traceparent_starts_a_trace_that_reaches_the_upstream() {
    let receiver = OtlpReceiver::start().await;
    let up = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let traces = format!("{{ endpoint: \"{}\", export_interval: 50ms }}", receiver.url());
    let gw = TestGateway::start(&config(&up.base_url(), &up.base_url(), &traces)).await;
    let r = gw.chat(chat()).send().await.expect("send");
    assert_eq!(r.status(), 200);
    let (trace, parent) = parse_traceparent(up.requests()[0].header("traceparent").expect("traceparent"));
    let spans = receiver.wait_for(|s| in_trace(s, &trace).len() >= 2).await;
    let spans = in_trace(&spans, &trace);
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server span");
    assert_eq!(server.parent_span_id, "", "a new root");
    let attempt = spans.iter().find(|s| s.kind == "CLIENT").expect("attempt span");
    assert_eq!(attempt.span_id, parent);
    assert_eq!(attempt.parent_span_id, server.span_id);
    let log = gw.next_log().await;
    assert_eq!(log["trace_id"], trace.as_str(), "the access log names the trace");
}

#[tokio::test]
async fn with_export_off_the_client_traceparent_still_reaches_the_upstream_unchanged() {
    let up = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let gw = TestGateway::start(&config(&up.base_url(), &up.base_url(), "{ enabled: false }")).await;
    let r = gw
        .chat(chat())
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests()[0].header("traceparent"), Some(traceparent().as_str()));
}

#[tokio::test]
async fn prompt_and_completion_are_recorded_only_with_record_content() {
    let receiver = OtlpReceiver::start().await;
    let up = MockOpenAi::builder()
        .reply(Reply::chat("the completion text"))
        .start()
        .await;
    let traces = format!(
        "{{ endpoint: \"{}\", export_interval: 50ms, record_content: true }}",
        receiver.url()
    );
    let gw = TestGateway::start(&config(&up.base_url(), &up.base_url(), &traces)).await;
    let r = gw
        .chat(chat())
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let spans = receiver
        .wait_for(|s| s.iter().any(|s| s.trace_id == CLIENT_TRACE && s.kind == "SERVER"))
        .await;
    let server = spans
        .iter()
        .find(|s| s.trace_id == CLIENT_TRACE && s.kind == "SERVER")
        .expect("server span");
    assert!(
        server.str("gen_ai.input.messages").is_some_and(|m| m.contains(PROMPT)),
        "{server:#?}"
    );
    assert!(
        server
            .str("gen_ai.output.messages")
            .is_some_and(|m| m.contains("the completion text"))
    );
}

/// The binary configured only through `OTEL_*` variables (endpoint, headers, service name, resource attributes);
/// the span of the one request is exported by the flush on SIGTERM (the batch interval is the default 5 s). Logs
/// at `trace` level hold neither the provider key, the collector header nor the prompt.
#[tokio::test]
async fn otel_env_vars_configure_export_and_sigterm_flushes_without_logging_secrets_or_prompts() {
    let receiver = OtlpReceiver::require_header("x-honeycomb-team", "otel-hdr-secret").await;
    let up = MockOpenAi::builder()
        .api_key("sk-upstream-secret")
        .reply(Reply::chat("ok"))
        .start()
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    let yaml = with_defaults(&format!(
        "providers:\n  p: {{ kind: openai_compatible, base_url: \"{}\", api_key: {{ value: sk-upstream-secret }} }}\n\
         models:\n  - {{ name: m, targets: [{{ provider: p }}] }}\n",
        up.base_url()
    ))
    .replace("access_log: off", "access_log: stdout");
    std::fs::write(&path, yaml).expect("write config");
    let mut child = ChildGateway::spawn_with_env(
        &path,
        "trace",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url()),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=otel-hdr-secret"),
            ("OTEL_SERVICE_NAME", "gw-east"),
            ("OTEL_RESOURCE_ATTRIBUTES", "k8s.pod.name=gw-0,service.namespace=ai"),
        ],
    )
    .await;
    let r = reqwest::Client::new()
        .post(format!("http://{}/v1/chat/completions", child.data))
        .header("traceparent", traceparent())
        .json(&chat())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    child.signal("TERM");
    assert!(child.wait_exit().await.success());
    let spans = receiver.spans();
    let server = spans
        .iter()
        .find(|s| s.trace_id == CLIENT_TRACE && s.kind == "SERVER")
        .unwrap_or_else(|| {
            panic!(
                "the span was flushed at shutdown; got {spans:#?} / {:?}",
                receiver.rejections()
            )
        });
    assert_eq!(server.resource["service.name"], "gw-east");
    assert_eq!(server.resource["k8s.pod.name"], "gw-0");
    assert_eq!(server.resource["service.namespace"], "ai");
    assert!(!server.attributes.contains_key("gen_ai.input.messages"));
    let logs = [
        child.stdout.lock().expect("lock").join("\n"),
        child.stderr.lock().expect("lock").join("\n"),
    ]
    .join("\n");
    assert!(logs.contains(CLIENT_TRACE), "the access log line carries the trace id");
    for needle in ["sk-upstream-secret", "otel-hdr-secret", PROMPT] {
        assert!(!logs.contains(needle), "`{needle}` reached a log line");
    }
}

/// A collector that accepts connections and never answers: the one export in flight waits for its timeout, the
/// queue (one span) fills, and every further span is dropped and counted — while requests are served at full speed.
#[tokio::test]
async fn a_stuck_collector_never_blocks_requests_and_dropped_spans_are_counted() {
    let stuck = testkit::free_port_listener().await;
    let addr = stuck.local_addr().expect("addr");
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = stuck.accept().await {
            conns.push(c);
        }
    });
    let up = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let traces = format!(
        "{{ endpoint: \"http://{addr}\", export_interval: 10ms, max_queue_size: 1, max_batch_size: 1, export_timeout: 30s }}"
    );
    let gw = TestGateway::start(&config(&up.base_url(), &up.base_url(), &traces)).await;
    for _ in 0..10 {
        let r = tokio::time::timeout(std::time::Duration::from_secs(5), gw.chat(chat()).send())
            .await
            .expect("a request never waits for the exporter")
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    let metrics = gw.metrics().await;
    let dropped: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gatehouse_trace_spans_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("dropped counter");
    // 20 spans ended; at most one is being exported and one waits in the queue.
    assert!(dropped >= 18, "dropped {dropped}\n{metrics}");
    held.abort();
}

/// The JWKS fetch the first JWT caller triggers is a CLIENT span under that request's span.
#[tokio::test]
async fn the_jwks_fetch_is_a_child_span_of_the_request_that_needed_it() {
    use crate::jwt_support::{Idp, SigningKey, claims};
    let receiver = OtlpReceiver::start().await;
    let up = MockOpenAi::builder().reply(Reply::chat("ok")).start().await;
    let key = SigningKey::generate("k1");
    let idp = Idp::start(vec![key.jwk.clone()]).await;
    let traces = format!("{{ endpoint: \"{}\", export_interval: 50ms }}", receiver.url());
    let yaml = format!(
        "{}auth:\n  jwt: {{ issuer: \"{}\", audiences: [gatehouse] }}\n",
        config(&up.base_url(), &up.base_url(), &traces),
        idp.issuer
    );
    let gw = TestGateway::start(&yaml).await;
    let token = key.sign(&claims(&idp.issuer, "gatehouse", "user-1"));
    let r = gw
        .chat(chat())
        .bearer_auth(token)
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let spans = receiver
        .wait_for(|s| {
            in_trace(s, CLIENT_TRACE)
                .iter()
                .any(|s| s.str("gatehouse.purpose") == Some("jwks"))
        })
        .await;
    let spans = in_trace(&spans, CLIENT_TRACE);
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server span");
    let fetches: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.str("gatehouse.purpose") == Some("jwks"))
        .collect();
    assert!(!fetches.is_empty());
    for f in fetches {
        assert_eq!(f.kind, "CLIENT");
        assert_eq!(f.name, "GET");
        assert_eq!(f.parent_span_id, server.span_id);
        assert_eq!(f.str("server.address"), Some("127.0.0.1"));
    }
}

/// A streamed answer: the serving attempt's span carries the response model, id and finish reason read from the
/// client-bound chunks, the usage from the final chunk, and the time to the first chunk.
#[tokio::test]
async fn a_streamed_answer_records_response_model_finish_reason_and_usage() {
    let receiver = OtlpReceiver::start().await;
    let up = MockOpenAi::builder()
        .reply(Reply::chat("streamed words here"))
        .start()
        .await;
    let traces = format!("{{ endpoint: \"{}\", export_interval: 50ms }}", receiver.url());
    let gw = TestGateway::start(&config(&up.base_url(), &up.base_url(), &traces)).await;
    let r = gw
        .chat(
            json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
                     "messages": [{"role": "user", "content": "hi"}]}),
        )
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let _ = r.text().await.expect("body");
    let spans = receiver.wait_for(|s| in_trace(s, CLIENT_TRACE).len() >= 2).await;
    let spans = in_trace(&spans, CLIENT_TRACE);
    let attempt = spans.iter().find(|s| s.kind == "CLIENT").expect("attempt");
    assert_eq!(attempt.str("gen_ai.response.model"), Some("up-1"));
    assert!(attempt.str("gen_ai.response.id").is_some());
    assert_eq!(attempt.attributes["gen_ai.response.finish_reasons"], json!(["stop"]));
    assert_eq!(attempt.int("gen_ai.usage.output_tokens"), Some(3));
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server");
    assert_eq!(server.attributes["gen_ai.request.stream"], json!(true));
    assert!(
        server.attributes["gen_ai.response.time_to_first_chunk"]
            .as_f64()
            .is_some_and(|t| t > 0.0)
    );
}

/// A translated target (OpenAI client → Anthropic provider): the attempt span names the Anthropic model and
/// provider, and the response attributes come from the translated reply; the Anthropic mock got the trace too.
#[tokio::test]
async fn an_anthropic_target_is_traced_with_its_provider_name_and_the_translated_reply() {
    use testkit::{AnthropicReply, MockAnthropic};
    let receiver = OtlpReceiver::start().await;
    let mock = MockAnthropic::builder()
        .api_key(crate::anthropic::KEY)
        .reply(AnthropicReply::message("bonjour"))
        .start()
        .await;
    let yaml = format!(
        "{}telemetry: {{ access_log: off, traces: {{ endpoint: \"{}\", export_interval: 50ms }} }}\n",
        crate::anthropic::config(&mock, "", ""),
        receiver.url()
    );
    let gw = TestGateway::start(&yaml).await;
    let r = gw
        .chat(json!({"model": "claude-haiku", "messages": [{"role": "user", "content": "hi"}]}))
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let sent = mock.requests();
    let tp = sent[0].header("traceparent").expect("traceparent to Anthropic");
    assert!(tp.starts_with(&format!("00-{CLIENT_TRACE}-")), "{tp}");
    let spans = receiver.wait_for(|s| in_trace(s, CLIENT_TRACE).len() >= 2).await;
    let spans = in_trace(&spans, CLIENT_TRACE);
    let attempt = spans.iter().find(|s| s.kind == "CLIENT").expect("attempt");
    assert_eq!(attempt.name, "chat claude-haiku-4-5");
    assert_eq!(attempt.str("gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(attempt.str("gen_ai.request.model"), Some("claude-haiku-4-5"));
    assert!(attempt.str("gen_ai.response.model").is_some(), "{attempt:#?}");
    assert!(attempt.attributes.contains_key("gen_ai.response.finish_reasons"));
    assert!(attempt.int("gen_ai.usage.input_tokens").is_some_and(|n| n > 0));
    let server = spans.iter().find(|s| s.kind == "SERVER").expect("server");
    assert_eq!(server.str("gen_ai.request.model"), Some("claude-haiku"));
    assert_eq!(server.str("gen_ai.provider.name"), Some("anthropic"));
}

/// SigV4-signed Bedrock requests carry `traceparent` too, and the strict mock still verifies the signature (the
/// trace header is added outside the signed header set).
#[tokio::test]
async fn a_bedrock_request_carries_traceparent_and_its_signature_still_verifies() {
    use testkit::{BedrockReply, MockBedrock};
    let receiver = OtlpReceiver::start().await;
    let mock = MockBedrock::builder(
        "us-west-2",
        "AKIDGATEHOUSETEST",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYgatehouse",
    )
    .session_token("session-token-for-temporary-credentials")
    .models(&["anthropic.claude-3-5-haiku-20241022-v1:0"])
    .reply(BedrockReply::text("hi"))
    .start()
    .await;
    let yaml = format!(
        "{}telemetry: {{ access_log: off, traces: {{ endpoint: \"{}\", export_interval: 50ms }} }}\n",
        crate::bedrock::config(&mock, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYgatehouse"),
        receiver.url()
    );
    let gw = TestGateway::start(&yaml).await;
    let r = gw
        .chat(json!({"model": "haiku", "messages": [{"role": "user", "content": "hi"}]}))
        .header("traceparent", traceparent())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let req = &mock.requests()[0];
    assert!(req.rejection.is_none(), "signature verified: {:?}", req.rejection);
    assert!(req.header("traceparent").is_some_and(|t| t.contains(CLIENT_TRACE)));
    let spans = receiver.wait_for(|s| in_trace(s, CLIENT_TRACE).len() >= 2).await;
    let attempt = in_trace(&spans, CLIENT_TRACE)
        .into_iter()
        .find(|s| s.kind == "CLIENT")
        .expect("attempt");
    assert_eq!(attempt.str("gen_ai.provider.name"), Some("aws.bedrock"));
}
