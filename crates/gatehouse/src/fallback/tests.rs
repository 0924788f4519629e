use std::sync::Arc;

use gatehouse_llm::anthropic::ModelRules;
use tokio::time::Instant;

use super::{order, serving, weighted_order};
use crate::config::spec::ProviderKind;
use crate::health::{Hysteresis, ProbeOutcome};
use crate::metrics::Metrics;
use crate::snapshot::{Model, Provider, Target};
use crate::upstream::{Timeouts, UpstreamClient};

fn target(name: &str, priority: u32, weight: u32) -> Target {
    let client = UpstreamClient::new(std::time::Duration::from_secs(1)).expect("client");
    Target {
        provider: Arc::new(Provider::new(
            name.to_string(),
            ProviderKind::OpenaiCompatible,
            vec!["http://127.0.0.1:1".into()],
            None,
            Timeouts::default(),
            client,
        )),
        upstream_model: "m".into(),
        split: Vec::new(),
        rules: ModelRules::default(),
        priority,
        weight,
    }
}

fn names(ts: &[&Target]) -> Vec<String> {
    ts.iter().map(|t| t.provider.name.clone()).collect()
}

#[test]
fn weighted_order_is_a_permutation_and_follows_the_weights() {
    let mut first = [0u32; 3];
    for seed in 0..10_000u64 {
        let o = weighted_order(&[6, 3, 1], seed);
        let mut sorted = o.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2], "a permutation");
        first[o[0]] += 1;
    }
    // Expected 6000 / 3000 / 1000; generous bounds, the sequence is deterministic anyway.
    assert!((5600..=6400).contains(&first[0]), "{first:?}");
    assert!((2600..=3400).contains(&first[1]), "{first:?}");
    assert!((700..=1300).contains(&first[2]), "{first:?}");
}

#[test]
fn groups_come_in_priority_order_and_a_plain_list_is_unchanged() {
    let (a, b, c) = (target("a", 0, 1), target("b", 1, 1), target("c", 2, 1));
    for seed in 0..50 {
        assert_eq!(names(&order(&[&a, &b, &c], seed)), ["a", "b", "c"]);
    }
    let (x, y, z) = (target("x", 5, 1), target("y", 0, 3), target("z", 0, 1));
    let mut y_first = 0;
    for seed in 0..1000 {
        let o = names(&order(&[&x, &y, &z], seed));
        assert_eq!(o[2], "x", "the lower-priority group comes last: {o:?}");
        if o[0] == "y" {
            y_first += 1;
        }
    }
    assert!((650..=850).contains(&y_first), "weight 3 of 4: {y_first}");
}

#[tokio::test]
async fn serving_is_the_preferred_group_in_rotation_and_says_why() {
    let metrics = Metrics::new();
    let model = Model {
        name: "m".into(),
        aliases: Vec::new(),
        targets: vec![target("a", 0, 1), target("b", 0, 4), target("c", 1, 1)],
    };
    let s = serving(&model, Instant::now());
    assert_eq!(s.target.as_deref(), Some("b"), "the heaviest of the group");
    assert_eq!(s.group, ["a", "b"]);
    assert_eq!(s.why, "highest-priority group in rotation");

    let h = Hysteresis {
        healthy_threshold: 1,
        unhealthy_threshold: 1,
    };
    let fail = || ProbeOutcome {
        ok: false,
        detail: "connect failed".into(),
        at_unix_ms: 0,
        latency_ms: 1,
    };
    for t in &model.targets[..2] {
        t.provider.health.record_probe(&t.provider.name, fail(), h, &metrics);
    }
    let s = serving(&model, Instant::now());
    assert_eq!(s.target.as_deref(), Some("c"));
    assert!(
        s.why
            .starts_with("preferred targets out of rotation: a: active probes failing"),
        "{}",
        s.why
    );
    model.targets[2].provider.health.record_probe("c", fail(), h, &metrics);
    let s = serving(&model, Instant::now());
    assert_eq!(s.target.as_deref(), Some("a"), "fail open: first by priority");
    assert!(s.why.contains("fail open"), "{}", s.why);
}
