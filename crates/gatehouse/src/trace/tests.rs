use opentelemetry::trace::TraceContextExt;

use super::*;

/// Builds the trace settings of `yaml`'s `telemetry:` with a fake environment.
fn settings(yaml: &str, env: &[(&str, &str)]) -> Result<Option<std::sync::Arc<TraceSettings>>, String> {
    let text = format!("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n{yaml}");
    let lookup = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_string());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, text).expect("write");
    crate::config::load_with_env(&path, &lookup)
        .map(|s| s.traces)
        .map_err(|e| e.to_string())
}

#[test]
fn no_endpoint_anywhere_means_no_export() {
    assert!(settings("", &[]).expect("valid").is_none());
    assert!(
        settings("telemetry: { traces: { sampling_ratio: 0.5 } }", &[])
            .expect("valid")
            .is_none()
    );
}

#[test]
fn yaml_endpoint_gets_the_traces_path_and_wins_over_the_environment() {
    let s = settings(
        "telemetry: { traces: { endpoint: \"http://collector:4318\" } }",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318")],
    )
    .expect("valid")
    .expect("on");
    assert_eq!(s.endpoint.to_string(), "http://collector:4318/v1/traces");
    assert_eq!(s.service_name, "gatehouse");
    assert_eq!(s.sampling, Sampling::ParentBasedRatio(1.0));
    assert!(!s.record_content);
}

#[test]
fn otlp_is_another_name_for_traces() {
    // The design's example config spells the block `telemetry.otlp`.
    let s = settings(
        "telemetry:\n  otlp: { endpoint: \"http://otel-collector:4318\" }\n  access_log: stdout\n",
        &[],
    )
    .expect("valid")
    .expect("on");
    assert_eq!(s.endpoint.to_string(), "http://otel-collector:4318/v1/traces");
    let err = settings("telemetry: { otlp: { endpoint: \"ftp://x\" } }", &[]).expect_err("bad scheme");
    assert!(err.contains("endpoint"), "{err}");
}

#[test]
fn otel_environment_variables_configure_everything_the_yaml_leaves_out() {
    let s = settings(
        "",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%20ecret,x-tenant=t1"),
            ("OTEL_SERVICE_NAME", "gw"),
            ("OTEL_RESOURCE_ATTRIBUTES", "k8s.pod.name=gw-0, team=ai"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ],
    )
    .expect("valid")
    .expect("on");
    assert_eq!(s.endpoint.to_string(), "https://otel.example:4318/v1/traces");
    let headers: Vec<(String, String)> = s
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.get().expect("value").to_string()))
        .collect();
    assert_eq!(
        headers,
        [("api-key".into(), "s ecret".into()), ("x-tenant".into(), "t1".into())]
    );
    assert_eq!(s.service_name, "gw");
    assert_eq!(
        s.resource,
        [("k8s.pod.name".into(), "gw-0".into()), ("team".into(), "ai".into())]
    );
    assert_eq!(s.sampling, Sampling::ParentBasedRatio(0.25));

    let signal = settings(
        "",
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom/path"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
        ],
    )
    .expect("valid")
    .expect("on");
    assert_eq!(
        signal.endpoint.to_string(),
        "http://c:4318/custom/path",
        "the signal URL is used as is"
    );
}

#[test]
fn switches_and_bad_values() {
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
    assert!(
        settings("telemetry: { traces: { enabled: false } }", &env)
            .expect("valid")
            .is_none()
    );
    let off = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_SDK_DISABLED", "true"),
    ];
    assert!(settings("", &off).expect("valid").is_none());
    let err = settings(
        "telemetry: { traces: { endpoint: \"ftp://x\", sampling_ratio: 2 } }",
        &[],
    )
    .expect_err("invalid");
    assert!(err.contains("telemetry.traces.endpoint"), "{err}");
    let err = settings("telemetry: { traces: { enabled: true } }", &[]).expect_err("no endpoint");
    assert!(err.contains("no endpoint"), "{err}");
    let err = settings(
        "telemetry: { traces: { endpoint: \"http://c\", sampling_ratio: 1.5, max_queue_size: 0 } }",
        &[],
    )
    .expect_err("invalid");
    assert!(
        err.contains("sampling_ratio") && err.contains("max_queue_size"),
        "all errors reported: {err}"
    );
    let err = settings(
        "",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_TRACES_SAMPLER", "xray"),
        ],
    )
    .expect_err("unsupported sampler");
    assert!(err.contains("xray"), "{err}");
}

#[test]
fn traceparent_round_trips_and_garbage_is_ignored() {
    let mut h = http::HeaderMap::new();
    h.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("hv"),
    );
    let cx = extract(&h);
    assert_eq!(trace_id(&cx).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    let mut out = http::HeaderMap::new();
    inject(&cx, &mut out);
    assert_eq!(out["traceparent"], h["traceparent"]);

    let mut bad = http::HeaderMap::new();
    bad.insert("traceparent", "00-zz-00f067aa0ba902b7-01".parse().expect("hv"));
    let cx = extract(&bad);
    assert!(!cx.span().span_context().is_valid());
    let mut out = http::HeaderMap::new();
    inject(&cx, &mut out);
    assert!(out.is_empty(), "nothing invalid is passed on");
}

#[test]
fn content_is_bounded_at_a_char_boundary() {
    let long = "é".repeat(MAX_CONTENT_BYTES);
    let cut = bounded_content(&long);
    assert!(cut.len() <= MAX_CONTENT_BYTES && cut.len() >= MAX_CONTENT_BYTES - 1);
    assert_eq!(bounded_content("short"), "short");
}

#[test]
fn server_attributes_come_from_the_url() {
    let a = server_attrs("https://api.anthropic.com/v1/messages");
    assert_eq!(a[0], KeyValue::new("server.address", "api.anthropic.com"));
    assert_eq!(a[1], KeyValue::new("server.port", 443i64));
    assert_eq!(
        server_attrs("http://10.0.0.1:8000")[1],
        KeyValue::new("server.port", 8000i64)
    );
}

#[test]
fn mcp_meta_carries_the_context_and_keeps_everything_else() {
    use serde_json::value::RawValue;
    let mut h = http::HeaderMap::new();
    h.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("hv"),
    );
    let cx = extract(&h);
    let params =
        RawValue::from_string(r#"{"name":"t","arguments":{"a":1},"_meta":{"progressToken":7}}"#.into()).expect("raw");
    let out = with_mcp_meta(Some(&params), &cx).expect("rewritten");
    let v: serde_json::Value = serde_json::from_str(out.get()).expect("json");
    assert_eq!(
        v["_meta"]["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(v["_meta"]["progressToken"], 7);
    assert_eq!(v["arguments"]["a"], 1);
    let none = with_mcp_meta(None, &cx).expect("params made");
    assert!(none.get().contains("traceparent"));
    let array = RawValue::from_string("[1]".into()).expect("raw");
    assert!(
        with_mcp_meta(Some(&array), &cx).is_none(),
        "non-object params are left alone"
    );
    assert!(
        with_mcp_meta(Some(&params), &opentelemetry::Context::new()).is_none(),
        "no context, no change"
    );
}
