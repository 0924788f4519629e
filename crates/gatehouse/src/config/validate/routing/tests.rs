use std::path::Path;

use crate::config::{ConfigErrors, parse, validate};
use crate::snapshot::Snapshot;

fn load(text: &str) -> Result<Snapshot, ConfigErrors> {
    let env = |_: &str| None;
    let (spec, root) = parse(text, Path::new("gw.yaml"), &env)?;
    validate::build(spec, &root, Path::new("gw.yaml"), &env)
}

#[test]
fn pool_defaults_are_gie_and_inference() {
    let snap = load("providers:\n  p: { kind: vllm_pool, endpoints: [\"http://127.0.0.1:1\"] }\n").expect("valid");
    let pool = snap.providers["p"].pool.as_ref().expect("pool");
    let s = &pool.settings;
    assert_eq!(s.picker.strategy, gatehouse_picker::Strategy::Inference);
    assert_eq!(
        (
            s.picker.weights.queue,
            s.picker.weights.kv_cache,
            s.picker.weights.prefix
        ),
        (2.0, 2.0, 3.0)
    );
    assert_eq!((s.picker.thresholds.queue, s.picker.thresholds.kv), (5.0, 0.8));
    assert_eq!(s.scrape_interval.as_millis(), 50);
    assert_eq!(s.picker.staleness.as_millis(), 200);
    assert_eq!(s.metrics_path, "/metrics");
    assert!(s.replica_header.is_none(), "the replica header is off by default");
    assert_eq!(s.picker.queue_signal, gatehouse_picker::QueueSignal::AwaitingFirstToken);
    assert_eq!(
        pool.membership,
        crate::pool::Membership::Static(vec![crate::pool::ReplicaAddr {
            url: "http://127.0.0.1:1".into(),
            metrics_url: "http://127.0.0.1:1/metrics".into(),
        }])
    );
}

#[test]
fn a_replica_may_name_its_own_metrics_url() {
    let text = r#"providers:
  p:
    kind: vllm_pool
    endpoints:
      - http://127.0.0.1:1
      - { url: "http://127.0.0.1:2", metrics_url: "http://127.0.0.1:9400/stats" }
      - { url: "http://127.0.0.1:3" }
    routing: { metrics_path: /m }
"#;
    let snap = load(text).expect("valid");
    let pool = snap.providers["p"].pool.as_ref().expect("pool");
    let crate::pool::Membership::Static(list) = &pool.membership else {
        panic!("listed pool");
    };
    let metrics: Vec<&str> = list.iter().map(|a| a.metrics_url.as_str()).collect();
    assert_eq!(
        metrics,
        [
            "http://127.0.0.1:1/m",
            "http://127.0.0.1:9400/stats",
            "http://127.0.0.1:3/m"
        ]
    );
    let bad = r#"providers:
  p:
    kind: vllm_pool
    endpoints:
      - http://127.0.0.1:1
      - { url: "http://127.0.0.1:2", metrics_url: "/stats" }
      - { url: "http://127.0.0.1:3", metrics_url: "ftp://x/m" }
"#;
    let errs = load(bad).expect_err("invalid").to_string();
    for needle in [
        "gw.yaml:6:51: providers.p.endpoints[1].metrics_url: invalid URL `/stats`",
        "gw.yaml:7:51: providers.p.endpoints[2].metrics_url: invalid URL `ftp://x/m`",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
}

#[test]
fn a_pool_may_follow_a_dns_name() {
    let short = load("providers:\n  p: { kind: vllm_pool, dns: \"vllm.ns.svc.cluster.local:8000\" }\n").expect("valid");
    let pool = short.providers["p"].pool.as_ref().expect("pool");
    let crate::pool::Membership::Dns(d) = &pool.membership else {
        panic!("dns pool");
    };
    assert_eq!((d.host.as_str(), d.port), ("vllm.ns.svc.cluster.local", 8000));
    assert_eq!(d.refresh_interval.as_secs(), 5);
    assert_eq!(d.nameserver, None);
    let full = load(
        "providers:\n  p:\n    kind: vllm_pool\n    dns: { name: vllm, port: 8000, refresh_interval: 250ms, nameserver: \"127.0.0.1:5353\" }\n",
    )
    .expect("valid");
    let crate::pool::Membership::Dns(d) = &full.providers["p"].pool.as_ref().expect("pool").membership else {
        panic!("dns pool");
    };
    assert_eq!(d.refresh_interval.as_millis(), 250);
    assert_eq!(d.nameserver, Some("127.0.0.1:5353".parse().expect("addr")));
    let bad = r#"providers:
  a: { kind: vllm_pool, dns: "no-port" }
  b: { kind: vllm_pool, dns: "x:8000", endpoints: ["http://127.0.0.1:1"] }
  c:
    kind: vllm_pool
    dns: { name: "a..b", port: 0, refresh_interval: 0s, nameserver: "dns.local" }
  d: { kind: vllm_pool }
  e: { kind: openai_compatible, base_url: "http://127.0.0.1:2", dns: "x:1" }
"#;
    let errs = load(bad).expect_err("invalid").to_string();
    for needle in [
        "providers.a.dns: `no-port` is not `host:port`",
        "providers.b.dns: set either `endpoints` or `dns`, not both",
        "providers.c.dns.port: must be between 1 and 65535",
        "providers.c.dns.refresh_interval: must be greater than zero",
        "providers.c.dns.nameserver: `dns.local` is not `ip:port`",
        "providers.d.kind: a `vllm_pool` provider needs at least one entry in `endpoints`, or a `dns` name",
        "providers.e.dns: `dns` is only valid for `kind: vllm_pool`",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
    let name = load("providers:\n  p: { kind: vllm_pool, dns: { name: \"a..b\", port: 1 } }\n")
        .expect_err("invalid")
        .to_string();
    assert!(
        name.contains("providers.p.dns.name: `a..b` is not a valid DNS name"),
        "{name}"
    );
}

#[test]
fn every_bad_routing_value_is_reported_with_its_location() {
    let text = r#"providers:
  p:
    kind: vllm_pool
    endpoints: ["http://127.0.0.1:1"]
    picker: least_request
    routing:
      scrape_interval: 500ms
      staleness: 100ms
      unhealthy_after: 0
      metrics_path: metrics
      weights: { queue: -1 }
      saturation: { kv_threshold: 1.5, queue_threshold: 0 }
      prefix: { block_chars: 0 }
      replica_header: "bad header"
  o:
    kind: openai_compatible
    base_url: http://127.0.0.1:2
    routing: { staleness: 1s }
"#;
    let errs = load(text).expect_err("invalid").to_string();
    for needle in [
        "gw.yaml:8:18: providers.p.routing.staleness: must be at least `scrape_interval` (500ms)",
        "gw.yaml:9:24: providers.p.routing.unhealthy_after: must be at least 1",
        "providers.p.routing.metrics_path: `metrics` is not an absolute path",
        "providers.p.routing.weights.queue: must be a finite number >= 0",
        "providers.p.routing.saturation.kv_threshold: must be in (0, 1]",
        "providers.p.routing.saturation.queue_threshold: must be a number > 0",
        "providers.p.routing.prefix.block_chars: must be between 1 and",
        "providers.p.routing.replica_header: `bad header` is not a valid header name",
        "providers.o.routing: `routing` is only valid for `kind: vllm_pool`",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
    let unknown = load("providers:\n  p: { kind: vllm_pool, endpoints: [\"http://h:1\"], picker: fastest }\n")
        .expect_err("unknown picker")
        .to_string();
    assert!(unknown.contains("picker"), "{unknown}");
}

#[test]
fn weighted_split_is_checked() {
    let text = r#"providers:
  p: { kind: vllm_pool, endpoints: ["http://127.0.0.1:1"] }
  o: { kind: openai_compatible, base_url: "http://127.0.0.1:2" }
models:
  - name: a
    targets:
      - { provider: p, model: x, split: [{ model: v1, weight: 1 }] }
      - { provider: o, split: [{ model: "", weight: 1 }] }
"#;
    let errs = load(text).expect_err("invalid").to_string();
    for needle in [
        "models[0].targets[0].split: set either `model` or `split`, not both",
        "models[0].targets[1].split: `split` is only valid on `vllm_pool` targets",
        "models[0].targets[1].split[0].model: must not be empty",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
    let ok = load(
        "providers:\n  p: { kind: vllm_pool, endpoints: [\"http://h:1\"] }\nmodels:\n  - { name: a, targets: [{ provider: p, split: [{ model: v1, weight: 0 }, { model: v2, weight: 0 }] }] }\n",
    )
    .expect("valid");
    let t = &ok.model("a").expect("model").targets[0];
    assert_eq!(t.split, [("v1".to_string(), 0), ("v2".to_string(), 0)]);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(t.pick_model().to_string());
    }
    assert_eq!(seen.len(), 2, "all weights 0 → uniform over both");
}

#[test]
fn queue_signal_waiting_selects_gies_scorer() {
    let snap = load(
        "providers:\n  p: { kind: vllm_pool, endpoints: [\"http://127.0.0.1:1\"], routing: { queue_signal: waiting } }\n",
    )
    .expect("valid");
    let pool = snap.providers["p"].pool.as_ref().expect("pool");
    assert_eq!(
        pool.settings.picker.queue_signal,
        gatehouse_picker::QueueSignal::Waiting
    );
    for (spelled, signal) in [
        ("in_flight_when_idle", gatehouse_picker::QueueSignal::InFlightWhenIdle),
        (
            "awaiting_first_token",
            gatehouse_picker::QueueSignal::AwaitingFirstToken,
        ),
    ] {
        let yaml = format!(
            "providers:\n  p: {{ kind: vllm_pool, endpoints: [\"http://127.0.0.1:1\"], routing: {{ queue_signal: {spelled} }} }}\n"
        );
        let snap = load(&yaml).expect("valid");
        assert_eq!(
            snap.providers["p"]
                .pool
                .as_ref()
                .expect("pool")
                .settings
                .picker
                .queue_signal,
            signal
        );
    }
    assert!(
        load("providers:\n  p: { kind: vllm_pool, endpoints: [\"http://127.0.0.1:1\"], routing: { queue_signal: running } }\n")
            .is_err(),
        "unknown signal rejected"
    );
}
