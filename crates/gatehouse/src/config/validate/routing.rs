//! `vllm_pool` routing settings: spec → [`PoolSettings`], every bad value reported with its location.

use std::collections::HashMap;
use std::time::Duration;

use gatehouse_picker::{Picker, PrefixConfig, Strategy, Thresholds, Weights};

use super::Errors;
use crate::config::spec::{PickerKind, ProviderKind, ProviderSpec};
use crate::pool::PoolSettings;

/// The pool settings of a `vllm_pool` provider, or `None` for other kinds (where `picker`/`routing` are errors).
pub(super) fn pool_settings(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> Option<PoolSettings> {
    if p.kind != ProviderKind::VllmPool {
        if p.routing.is_some() {
            errs.push(
                &["providers", name, "routing"],
                "`routing` is only valid for `kind: vllm_pool`",
            );
        }
        return None;
    }
    let r = p.routing.clone().unwrap_or_default();
    let path = |field: &'static str| ["providers", name, "routing", field];
    let dur = |d: Option<crate::config::units::HumanDuration>, default_ms: u64| {
        d.map_or(Duration::from_millis(default_ms), |d| d.0)
    };
    let scrape_interval = dur(r.scrape_interval, 50);
    let scrape_timeout = dur(r.scrape_timeout, 1000);
    let staleness = dur(r.staleness, 200);
    let ejection_time = dur(r.ejection_time, 1000);
    let shed_retry_after = dur(r.shed_retry_after, 1000);
    for (field, d) in [
        ("scrape_interval", scrape_interval),
        ("scrape_timeout", scrape_timeout),
        ("staleness", staleness),
        ("shed_retry_after", shed_retry_after),
    ] {
        if d.is_zero() {
            errs.push(&path(field), "must be greater than zero");
        }
    }
    if staleness < scrape_interval {
        errs.push(
            &path("staleness"),
            format!(
                "must be at least `scrape_interval` ({}ms), or every scrape would be stale before the next",
                scrape_interval.as_millis()
            ),
        );
    }
    let unhealthy_after = r.unhealthy_after.unwrap_or(3);
    if unhealthy_after == 0 {
        errs.push(&path("unhealthy_after"), "must be at least 1");
    }
    let metrics_path = r.metrics_path.clone().unwrap_or_else(|| "/metrics".into());
    if !metrics_path.starts_with('/') || metrics_path.parse::<http::uri::PathAndQuery>().is_err() {
        errs.push(
            &path("metrics_path"),
            format!("`{metrics_path}` is not an absolute path such as `/metrics`"),
        );
    }
    let d = Weights::default();
    let w = r.weights.clone().unwrap_or_default();
    let weights = Weights {
        queue: w.queue.unwrap_or(d.queue),
        kv_cache: w.kv_cache.unwrap_or(d.kv_cache),
        prefix: w.prefix.unwrap_or(d.prefix),
        lora: w.lora.unwrap_or(d.lora),
    };
    for (field, v) in [
        ("queue", weights.queue),
        ("kv_cache", weights.kv_cache),
        ("prefix", weights.prefix),
        ("lora", weights.lora),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            errs.push(
                &["providers", name, "routing", "weights", field],
                "must be a finite number >= 0",
            );
        }
    }
    let dt = Thresholds::default();
    let s = r.saturation.clone().unwrap_or_default();
    let thresholds = Thresholds {
        queue: s.queue_threshold.unwrap_or(dt.queue),
        kv: s.kv_threshold.unwrap_or(dt.kv),
    };
    if !(thresholds.queue.is_finite() && thresholds.queue > 0.0) {
        errs.push(
            &["providers", name, "routing", "saturation", "queue_threshold"],
            "must be a number > 0",
        );
    }
    if !(thresholds.kv > 0.0 && thresholds.kv <= 1.0) {
        errs.push(
            &["providers", name, "routing", "saturation", "kv_threshold"],
            "must be in (0, 1]",
        );
    }
    let dp = PrefixConfig::default();
    let ps = r.prefix.clone().unwrap_or_default();
    let prefix = PrefixConfig {
        block_chars: ps.block_chars.unwrap_or(dp.block_chars),
        max_blocks: ps.max_blocks.unwrap_or(dp.max_blocks),
        lru_blocks_per_replica: ps.lru_blocks_per_replica.unwrap_or(dp.lru_blocks_per_replica),
    };
    for (field, v, max) in [
        ("block_chars", prefix.block_chars, 1 << 20),
        ("max_blocks", prefix.max_blocks, 1 << 16),
        ("lru_blocks_per_replica", prefix.lru_blocks_per_replica, 1 << 24),
    ] {
        if v == 0 || v > max {
            errs.push(
                &["providers", name, "routing", "prefix", field],
                format!("must be between 1 and {max}"),
            );
        }
    }
    let replica_header = r
        .replica_header
        .as_deref()
        .and_then(|h| match http::HeaderName::try_from(h) {
            Ok(v) => Some(v),
            Err(_) => {
                errs.push(&path("replica_header"), format!("`{h}` is not a valid header name"));
                None
            }
        });
    for objective in r.objectives.keys() {
        if objective.is_empty() || http::HeaderValue::from_str(objective).is_err() {
            errs.push(
                &["providers", name, "routing", "objectives", objective],
                "an objective name must be a non-empty header value",
            );
        }
    }
    let strategy = match p.picker.unwrap_or_default() {
        PickerKind::RoundRobin => Strategy::RoundRobin,
        PickerKind::Random => Strategy::Random,
        PickerKind::LeastRequest => Strategy::LeastRequest,
        PickerKind::Inference => Strategy::Inference,
    };
    Some(PoolSettings {
        picker: Picker {
            strategy,
            weights,
            thresholds,
            staleness,
            overload_filter: r.overload_filter.unwrap_or(true),
        },
        prefix,
        metrics_path,
        scrape_interval,
        scrape_timeout,
        unhealthy_after: unhealthy_after.max(1),
        ejection_time,
        objectives: r.objectives.into_iter().collect::<HashMap<_, _>>(),
        shed_retry_after,
        replica_header,
    })
}

/// A target's weighted model split: only on `vllm_pool` targets, not together with `model`, names non-empty.
pub(super) fn target_split(
    errs: &mut Errors<'_>,
    path: &[&str],
    kind: ProviderKind,
    t: &crate::config::spec::TargetSpec,
) -> Vec<(String, u32)> {
    if t.split.is_empty() {
        return Vec::new();
    }
    let mut at = path.to_vec();
    at.push("split");
    if kind != ProviderKind::VllmPool {
        errs.push(&at, "`split` is only valid on `vllm_pool` targets");
    }
    if t.model.is_some() {
        errs.push(&at, "set either `model` or `split`, not both");
    }
    for (i, w) in t.split.iter().enumerate() {
        if w.model.trim().is_empty() {
            let idx = i.to_string();
            let mut p = at.clone();
            p.extend([idx.as_str(), "model"]);
            errs.push(&p, "must not be empty");
        }
    }
    t.split.iter().map(|w| (w.model.clone(), w.weight)).collect()
}

#[cfg(test)]
mod tests;
