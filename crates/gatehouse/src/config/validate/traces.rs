//! `telemetry.traces:` → [`TraceSettings`]: the YAML first, then the standard `OTEL_*` environment variables, then
//! defaults; every bad value reported.

use std::sync::Arc;
use std::time::Duration;

use super::super::EnvLookup;
use super::super::spec::telemetry::TracesSpec;
use super::Errors;
use crate::trace::{Sampling, TraceSettings};

/// Builds the trace settings; `None` when export is off (no endpoint anywhere, `enabled: false`,
/// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`).
pub(super) fn build(errs: &mut Errors<'_>, spec: Option<&TracesSpec>, env: EnvLookup<'_>) -> Option<TraceSettings> {
    let empty = TracesSpec::default();
    let spec = spec.unwrap_or(&empty);
    let env_set = |k: &str| env(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if spec.enabled == Some(false)
        || env_set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || env_set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
    {
        return None;
    }
    let endpoint = match (&spec.endpoint, env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
        (Some(e), _) if !e.trim().is_empty() => Some((with_traces_path(e.trim()), "endpoint")),
        (_, Some(e)) => Some((e, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
        _ => env_set("OTEL_EXPORTER_OTLP_ENDPOINT").map(|e| (with_traces_path(&e), "OTEL_EXPORTER_OTLP_ENDPOINT")),
    };
    let Some((endpoint, from)) = endpoint else {
        if spec.enabled == Some(true) {
            errs.push(
                &["telemetry", "traces", "enabled"],
                "traces are enabled but no endpoint is set (telemetry.traces.endpoint or OTEL_EXPORTER_OTLP_ENDPOINT)",
            );
        }
        return None;
    };
    let uri = endpoint
        .parse::<http::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    let Some(uri) = uri else {
        errs.push(
            &["telemetry", "traces", "endpoint"],
            format!("invalid OTLP endpoint `{endpoint}` (from {from}): expected an http:// or https:// URL"),
        );
        return None;
    };

    let mut headers = Vec::new();
    // OTEL_EXPORTER_OTLP_HEADERS: `k1=v1,k2=v2`, values percent-encoded; the YAML's headers are added after it.
    for var in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
        for (k, v) in env_set(var).as_deref().map(parse_kv_list).unwrap_or_default() {
            match http::HeaderName::from_bytes(k.as_bytes()) {
                Ok(name) => headers.push((
                    name,
                    Arc::new(crate::secret::Secret::resolve(
                        crate::secret::SecretSource::Inline,
                        Some(v),
                        env,
                    )),
                )),
                Err(_) => errs.push(
                    &["telemetry", "traces", "headers"],
                    format!("{var}: `{k}` is not a header name"),
                ),
            }
        }
    }
    for (k, v) in &spec.headers {
        match http::HeaderName::from_bytes(k.as_bytes()) {
            Ok(name) => headers.push((name, Arc::new(super::resolve_secret(v, env)))),
            Err(_) => errs.push(&["telemetry", "traces", "headers", k], "not a valid header name"),
        }
    }

    let sampling = match spec.sampling_ratio {
        Some(r) if (0.0..=1.0).contains(&r) => Sampling::ParentBasedRatio(r),
        Some(_) => {
            errs.push(&["telemetry", "traces", "sampling_ratio"], "must be between 0 and 1");
            Sampling::ParentBasedRatio(1.0)
        }
        None => sampling_from_env(errs, env_set("OTEL_TRACES_SAMPLER"), env_set("OTEL_TRACES_SAMPLER_ARG")),
    };

    let mut resource = Vec::new();
    if let Some(attrs) = env_set("OTEL_RESOURCE_ATTRIBUTES") {
        resource.extend(parse_kv_list(&attrs));
    }
    resource.extend(spec.resource_attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
    let service_name = spec
        .service_name
        .clone()
        .or_else(|| env_set("OTEL_SERVICE_NAME"))
        .or_else(|| {
            resource
                .iter()
                .rev()
                .find(|(k, _)| k == "service.name")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| "gatehouse".to_string());
    resource.retain(|(k, _)| k != "service.name");

    let positive = |errs: &mut Errors<'_>, field: &str, v: Option<usize>, default: usize| {
        let v = v.unwrap_or(default);
        if v == 0 {
            errs.push(&["telemetry", "traces", field], "must be greater than zero");
        }
        v.max(1)
    };
    let max_queue_size = positive(errs, "max_queue_size", spec.max_queue_size, 2048);
    let max_batch_size = positive(errs, "max_batch_size", spec.max_batch_size, 512);
    let dur =
        |v: Option<super::super::units::HumanDuration>, default: u64| v.map_or(Duration::from_secs(default), |d| d.0);
    let export_interval = dur(spec.export_interval, 5);
    let export_timeout = dur(spec.export_timeout, 10);
    for (field, d) in [("export_interval", export_interval), ("export_timeout", export_timeout)] {
        if d.is_zero() {
            errs.push(&["telemetry", "traces", field], "must be greater than zero");
        }
    }
    Some(TraceSettings {
        endpoint: uri,
        headers,
        sampling,
        service_name,
        resource,
        record_content: spec.record_content.unwrap_or(false),
        max_queue_size,
        max_batch_size,
        export_interval,
        export_timeout,
    })
}

/// A collector base URL gets the traces path; a URL with a path of its own is used as written.
fn with_traces_path(base: &str) -> String {
    match base.parse::<http::Uri>() {
        Ok(u) if u.path() == "/" || u.path().is_empty() => format!("{}/v1/traces", base.trim_end_matches('/')),
        _ => base.to_string(),
    }
}

/// `k1=v1,k2=v2` (the W3C baggage-like format of `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`), with
/// `%XX` escapes decoded; malformed members are skipped.
pub(crate) fn parse_kv_list(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|member| {
            let (k, v) = member.split_once('=')?;
            let k = percent_decode(k.trim());
            (!k.is_empty()).then(|| (k, percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (the values the specification names).
fn sampling_from_env(errs: &mut Errors<'_>, sampler: Option<String>, arg: Option<String>) -> Sampling {
    let ratio = |errs: &mut Errors<'_>| match arg.as_deref().map(str::parse::<f64>) {
        None => 1.0,
        Some(Ok(r)) if (0.0..=1.0).contains(&r) => r,
        Some(_) => {
            errs.push(
                &["telemetry", "traces", "sampling_ratio"],
                "OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1",
            );
            1.0
        }
    };
    match sampler.as_deref() {
        None | Some("parentbased_always_on") => Sampling::ParentBasedRatio(1.0),
        Some("always_on") => Sampling::Ratio(1.0),
        Some("always_off") => Sampling::Ratio(0.0),
        Some("parentbased_always_off") => Sampling::ParentBasedRatio(0.0),
        Some("traceidratio") => Sampling::Ratio(ratio(errs)),
        Some("parentbased_traceidratio") => Sampling::ParentBasedRatio(ratio(errs)),
        Some(other) => {
            errs.push(
                &["telemetry", "traces", "sampling_ratio"],
                format!(
                    "OTEL_TRACES_SAMPLER `{other}` is not supported (always_on, always_off, traceidratio, \
                     parentbased_always_on, parentbased_always_off, parentbased_traceidratio)"
                ),
            );
            Sampling::ParentBasedRatio(1.0)
        }
    }
}
