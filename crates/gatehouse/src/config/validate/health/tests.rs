use std::path::Path;
use std::time::Duration;

use crate::config::{ConfigErrors, parse, validate};
use crate::snapshot::Snapshot;

fn load(text: &str) -> Result<Snapshot, ConfigErrors> {
    let env = |_: &str| None;
    let (spec, root) = parse(text, Path::new("gw.yaml"), &env)?;
    validate::build(spec, &root, Path::new("gw.yaml"), &env)
}

#[test]
fn health_block_enables_probes_with_defaults_and_no_block_means_no_probes() {
    let snap = load(
        "providers:\n  a: { kind: openai_compatible, base_url: \"http://127.0.0.1:1\", health: {} }\n  b: { kind: openai_compatible, base_url: \"http://127.0.0.1:2\" }\n  c: { kind: openai_compatible, base_url: \"http://127.0.0.1:3\", health: { enabled: false } }\n",
    )
    .expect("valid");
    let a = snap.providers["a"].probe.as_ref().expect("probed");
    assert_eq!(a.interval, Duration::from_secs(10));
    assert_eq!(a.timeout, Duration::from_secs(2));
    assert_eq!(
        (a.hysteresis.healthy_threshold, a.hysteresis.unhealthy_threshold),
        (2, 3)
    );
    assert_eq!(a.path, None);
    assert!(snap.providers["b"].probe.is_none(), "no block: not probed");
    assert!(snap.providers["c"].probe.is_none(), "enabled: false: not probed");
}

#[test]
fn every_bad_health_value_is_reported_with_its_location() {
    let text = r#"providers:
  a:
    kind: openai_compatible
    base_url: http://127.0.0.1:1
    health:
      interval: 5ms
      timeout: 1s
      healthy_threshold: 0
      unhealthy_threshold: 101
      path: /v1/chat/completions
  b:
    kind: anthropic
    health: { path: "/v1/messages" }
  c:
    kind: openai_compatible
    base_url: http://127.0.0.1:1
    health: { path: "v1/models", interval: 1s, timeout: 2s }
"#;
    let errs = load(text).expect_err("invalid").to_string();
    for needle in [
        "gw.yaml:6:17: providers.a.health.interval: must be at least 10ms",
        "providers.a.health.timeout: must not be longer than `interval`",
        "gw.yaml:8:26: providers.a.health.healthy_threshold: must be between 1 and 100",
        "providers.a.health.unhealthy_threshold: must be between 1 and 100",
        "providers.a.health.path: `/v1/chat/completions` looks like a billed generation endpoint",
        "providers.b.health.path: `/v1/messages` looks like a billed generation endpoint",
        "providers.c.health.path: `v1/models` is not a URL path",
        "providers.c.health.timeout: must not be longer than `interval`",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
    let unknown = load("providers:\n  a: { kind: openai, health: { intervall: 1s } }\n")
        .expect_err("typo")
        .to_string();
    assert!(unknown.contains("intervall"), "{unknown}");
}

#[test]
fn an_ordered_list_keeps_its_meaning_and_groups_need_every_priority() {
    let base = "providers:\n  a: { kind: openai_compatible, base_url: \"http://127.0.0.1:1\" }\n  b: { kind: openai_compatible, base_url: \"http://127.0.0.1:2\" }\n  c: { kind: openai_compatible, base_url: \"http://127.0.0.1:3\" }\n";
    let snap = load(&format!(
        "{base}models:\n  - name: m\n    targets: [{{ provider: a }}, {{ provider: b }}, {{ provider: c }}]\n"
    ))
    .expect("valid");
    let t = &snap.models[0].targets;
    assert_eq!(
        t.iter().map(|t| (t.priority, t.weight)).collect::<Vec<_>>(),
        [(0, 1), (1, 1), (2, 1)],
        "list position is the priority"
    );
    let snap = load(&format!(
        "{base}models:\n  - name: m\n    targets:\n      - {{ provider: a, priority: 0, weight: 3 }}\n      - {{ provider: b, priority: 0 }}\n      - {{ provider: c, priority: 1 }}\n"
    ))
    .expect("valid");
    let t = &snap.models[0].targets;
    assert_eq!(
        t.iter().map(|t| (t.priority, t.weight)).collect::<Vec<_>>(),
        [(0, 3), (0, 1), (1, 1)]
    );
    let errs = load(&format!(
        "{base}models:\n  - name: m\n    targets:\n      - {{ provider: a, priority: 0, weight: 0 }}\n      - {{ provider: b }}\n      - {{ provider: c, priority: 5000 }}\n"
    ))
    .expect_err("invalid")
    .to_string();
    for needle in [
        "models[0].targets[0].weight: must be between 1 and 10000",
        "models[0].targets[1].priority: when one target of a model sets `priority`, every target must",
        "models[0].targets[2].priority: must be at most 1000",
    ] {
        assert!(errs.contains(needle), "missing `{needle}` in:\n{errs}");
    }
}
