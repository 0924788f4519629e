use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::request::{build, default_path, passes};
use crate::config::spec::ProviderKind;
use crate::health::{Failure, Hysteresis, ProbeOutcome};
use crate::metrics::Metrics;
use crate::secret::{Secret, SecretSource};
use crate::snapshot::{AnthropicSettings, FailoverSettings, Provider, WireSettings};
use crate::upstream::{Timeouts, UpstreamClient};

fn provider(kind: ProviderKind, key: Option<&str>) -> Provider {
    let client = UpstreamClient::new(Duration::from_secs(1)).expect("client");
    let env = |_: &str| None;
    let key = key.map(|k| Arc::new(Secret::resolve(SecretSource::Inline, Some(k.to_string()), &env)));
    Provider::new(
        "p".into(),
        kind,
        vec!["https://up.example".into()],
        key,
        Timeouts::default(),
        client,
    )
}

/// The credential header (name, value) a probe must carry, if any.
type Credential = Option<(&'static str, &'static str)>;

fn outcome(ok: bool) -> ProbeOutcome {
    ProbeOutcome {
        ok,
        detail: if ok { "HTTP 200" } else { "HTTP 503" }.into(),
        at_unix_ms: 1,
        latency_ms: 1,
    }
}

#[test]
fn each_kind_probes_a_non_billed_get_with_its_own_credential_header() {
    let cases: Vec<(Provider, &str, Credential)> = vec![
        (
            provider(ProviderKind::OpenaiCompatible, Some("sk-1")),
            "https://up.example/v1/models",
            Some(("authorization", "Bearer sk-1")),
        ),
        (
            provider(ProviderKind::Openai, Some("sk-2")),
            "https://up.example/v1/models",
            Some(("authorization", "Bearer sk-2")),
        ),
        (
            provider(ProviderKind::AzureOpenai, Some("az")).with_wire(WireSettings {
                api_prefix: "/openai".into(),
                api_version: Some("2024-10-21".into()),
            }),
            "https://up.example/openai/models?api-version=2024-10-21",
            Some(("api-key", "az")),
        ),
        (
            provider(ProviderKind::Anthropic, Some("sk-ant")).with_anthropic(AnthropicSettings {
                version: http::HeaderValue::from_static("2023-06-01"),
                allowed_betas: Vec::new(),
            }),
            "https://up.example/v1/models",
            Some(("x-api-key", "sk-ant")),
        ),
        (
            provider(ProviderKind::Gemini, Some("g")).with_wire(WireSettings {
                api_prefix: "/v1beta".into(),
                api_version: None,
            }),
            "https://up.example/v1beta/models",
            Some(("x-goog-api-key", "g")),
        ),
        (provider(ProviderKind::Bedrock, None), "https://up.example/", None),
        (
            provider(ProviderKind::VllmPool, None),
            "https://up.example/health",
            None,
        ),
    ];
    for (p, url, cred) in cases {
        let req = build(&p, &p.endpoints[0], None).expect("request");
        assert_eq!(req.method(), http::Method::GET, "{:?}", p.kind);
        assert_eq!(req.uri().to_string(), url, "{:?}", p.kind);
        if let Some((name, value)) = cred {
            let v = &req.headers()[name];
            assert_eq!(v, value, "{:?}", p.kind);
            assert!(v.is_sensitive(), "credentials are never logged");
        }
        for name in ["authorization", "api-key", "x-api-key", "x-goog-api-key"] {
            if cred.is_none_or(|(n, _)| n != name) {
                assert!(!req.headers().contains_key(name), "{:?} sent {name}", p.kind);
            }
        }
        assert!(!default_path(&p).contains("completions"));
    }
    let anthropic = provider(ProviderKind::Anthropic, Some("k")).with_anthropic(AnthropicSettings {
        version: http::HeaderValue::from_static("2023-06-01"),
        allowed_betas: Vec::new(),
    });
    let req = build(&anthropic, "https://up.example", Some("/v1/models?limit=1")).expect("request");
    assert_eq!(req.uri().to_string(), "https://up.example/v1/models?limit=1");
    assert_eq!(req.headers()["anthropic-version"], "2023-06-01");
}

#[test]
fn bedrock_reachability_passes_below_500_and_the_rest_need_2xx() {
    use http::StatusCode;
    assert!(passes(ProviderKind::Bedrock, false, StatusCode::FORBIDDEN));
    assert!(!passes(ProviderKind::Bedrock, false, StatusCode::SERVICE_UNAVAILABLE));
    assert!(!passes(ProviderKind::Bedrock, true, StatusCode::FORBIDDEN));
    assert!(passes(ProviderKind::Openai, false, StatusCode::OK));
    assert!(!passes(ProviderKind::Openai, false, StatusCode::UNAUTHORIZED));
    assert!(!passes(
        ProviderKind::VllmPool,
        false,
        StatusCode::INTERNAL_SERVER_ERROR
    ));
}

#[tokio::test(start_paused = true)]
async fn probes_have_hysteresis_and_a_recovery_ends_the_ejection() {
    let m = Metrics::new();
    let p = provider(ProviderKind::OpenaiCompatible, None);
    let h = Hysteresis {
        healthy_threshold: 2,
        unhealthy_threshold: 3,
    };
    // Two failures are not enough; a success in between resets the streak.
    for ok in [false, false, true, false, false] {
        p.health.record_probe("p", outcome(ok), h, &m);
    }
    assert!(p.health.available(Instant::now()).is_ok());
    p.health.record_probe("p", outcome(false), h, &m);
    let why = p.health.available(Instant::now()).expect_err("down after 3 in a row");
    assert!(why.contains("active probes failing (HTTP 503)"), "{why}");
    assert_eq!(p.health.view(Instant::now()).state, "unhealthy");

    // Real traffic ejects it too (long backoff), while the probes keep failing.
    let settings = FailoverSettings {
        ejection_threshold: 1,
        ejection_base: Duration::from_secs(300),
        ..FailoverSettings::default()
    };
    p.health.record_failure("p", Failure::Server, &settings, &m);
    assert_eq!(p.health.view(Instant::now()).state, "ejected");

    // Restored: one pass is not enough, two bring it back and end the ejection.
    p.health.record_probe("p", outcome(true), h, &m);
    assert!(p.health.available(Instant::now()).is_err());
    p.health.record_probe("p", outcome(true), h, &m);
    assert!(p.health.available(Instant::now()).is_ok());
    let view = p.health.view(Instant::now());
    assert_eq!(view.state, "healthy");
    let probe = view.probe.expect("probe view");
    assert_eq!(probe.consecutive_successes, 2);
    assert!(probe.last.expect("last").outcome.ok);
    let text = m.encode();
    for needle in [
        "gatehouse_target_health_transitions_total{provider=\"p\",to=\"unhealthy\",source=\"probe\"} 1",
        "gatehouse_target_health_transitions_total{provider=\"p\",to=\"healthy\",source=\"probe\"} 1",
        "gatehouse_health_probes_total{provider=\"p\",result=\"failure\"} 5",
        "gatehouse_health_probes_total{provider=\"p\",result=\"success\"} 3",
        "gatehouse_target_health{provider=\"p\"} 1",
        "gatehouse_target_ejections_total{provider=\"p\",reason=\"probe_failures\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn passing_probes_do_not_end_an_ejection_they_never_saw_or_a_cool_down() {
    let m = Metrics::new();
    let p = provider(ProviderKind::OpenaiCompatible, None);
    let h = Hysteresis {
        healthy_threshold: 1,
        unhealthy_threshold: 1,
    };
    let settings = FailoverSettings {
        ejection_threshold: 1,
        ..FailoverSettings::default()
    };
    // Completions fail while the models list answers: the passive ejection stands.
    p.health.record_failure("p", Failure::Server, &settings, &m);
    for _ in 0..3 {
        p.health.record_probe("p", outcome(true), h, &m);
    }
    assert_eq!(p.health.view(Instant::now()).state, "ejected");

    // A cool-down from a Retry-After is kept even across a probe recovery.
    let q = provider(ProviderKind::OpenaiCompatible, None);
    q.health.record_probe("q", outcome(false), h, &m);
    q.health
        .record_failure("q", Failure::Throttled(Duration::from_secs(30)), &settings, &m);
    q.health.record_probe("q", outcome(true), h, &m);
    assert_eq!(q.health.view(Instant::now()).state, "cooling");
    tokio::time::advance(Duration::from_secs(31)).await;
    assert!(q.health.available(Instant::now()).is_ok());
}
