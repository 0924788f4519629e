//! `vllm_pool` routing settings: spec → [`PoolSettings`], every bad value reported with its location.

use std::collections::HashMap;
use std::time::Duration;

use gatehouse_picker::{Picker, PrefixConfig, QueueSignal, Strategy, Thresholds, Weights};

use super::Errors;
use crate::config::routing_spec::{DnsSpec, EndpointSpec, QueueSignalSpec};
use crate::config::spec::{PickerKind, ProviderKind, ProviderSpec};
use crate::pool::{DnsMembership, Membership, PoolSettings, ReplicaAddr};

/// The pool settings of a `vllm_pool` provider, or `None` for other kinds (where `picker`/`routing` are errors).
pub(super) fn pool_settings(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> Option<PoolSettings> {
    if p.kind != ProviderKind::VllmPool {
        if p.routing.is_some() {
            errs.push(
                &["providers", name, "routing"],
                "`routing` is only valid for `kind: vllm_pool`",
            );
        }
        if p.dns.is_some() {
            errs.push(&["providers", name, "dns"], "`dns` is only valid for `kind: vllm_pool`");
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
        auto_tune: ps.auto_tune.unwrap_or(dp.auto_tune),
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
            queue_signal: match r.queue_signal {
                Some(QueueSignalSpec::Waiting) => QueueSignal::Waiting,
                Some(QueueSignalSpec::InFlightWhenIdle) => QueueSignal::InFlightWhenIdle,
                Some(QueueSignalSpec::AwaitingFirstToken) => QueueSignal::AwaitingFirstToken,
                None => QueueSignal::default(),
            },
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

/// The replica base URLs of a `vllm_pool` (none for a DNS pool): exactly one of `endpoints` and `dns` is set.
pub(super) fn pool_endpoints(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> Vec<String> {
    match (&p.endpoints, &p.dns) {
        (Some(_), Some(_)) => {
            errs.push(&["providers", name, "dns"], "set either `endpoints` or `dns`, not both");
            Vec::new()
        }
        (None, Some(_)) => Vec::new(),
        (Some(list), None) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let url = match e {
                    EndpointSpec::Url(u) => u,
                    EndpointSpec::Full(f) => &f.url,
                };
                super::check_url(errs, name, "endpoints", Some(i), url)
            })
            .collect(),
        _ => {
            errs.push(
                &["providers", name, "kind"],
                "a `vllm_pool` provider needs at least one entry in `endpoints`, or a `dns` name",
            );
            Vec::new()
        }
    }
}

/// Where a pool's replicas come from: its listed `urls` (as checked by [`pool_endpoints`]) each with its metrics
/// URL, or its DNS name.
pub(super) fn membership(
    errs: &mut Errors<'_>,
    name: &str,
    p: &ProviderSpec,
    urls: &[String],
    metrics_path: &str,
) -> Membership {
    if let Some(dns) = &p.dns {
        return Membership::Dns(dns_membership(errs, name, dns));
    }
    let specs = p.endpoints.as_deref().unwrap_or_default();
    let list = urls
        .iter()
        .zip(specs)
        .enumerate()
        .map(|(i, (url, spec))| {
            let metrics_url = match spec {
                EndpointSpec::Full(f) if f.metrics_url.is_some() => {
                    let m = f.metrics_url.clone().unwrap_or_default();
                    let ok = m
                        .parse::<http::Uri>()
                        .is_ok_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
                    if !ok {
                        let idx = i.to_string();
                        errs.push(
                            &["providers", name, "endpoints", &idx, "metrics_url"],
                            format!("invalid URL `{m}`: expected http(s)://host[:port]/path"),
                        );
                    }
                    m
                }
                _ => format!("{url}{metrics_path}"),
            };
            ReplicaAddr {
                url: url.clone(),
                metrics_url,
            }
        })
        .collect();
    Membership::Static(list)
}

/// A DNS membership: `host:port` or the full form, with the defaults.
fn dns_membership(errs: &mut Errors<'_>, name: &str, dns: &DnsSpec) -> DnsMembership {
    let at = |field: &'static str| ["providers", name, "dns", field];
    let mut d = DnsMembership {
        host: String::new(),
        port: 0,
        refresh_interval: crate::pool::DNS_DEFAULT_REFRESH,
        nameserver: None,
        timeout: Duration::from_secs(2),
    };
    match dns {
        DnsSpec::Short(s) => match s.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((h, Ok(port))) if port > 0 => {
                d.host = h.to_string();
                d.port = port;
            }
            _ => errs.push(
                &["providers", name, "dns"],
                format!("`{s}` is not `host:port` (e.g. `vllm.inference.svc.cluster.local:8000`)"),
            ),
        },
        DnsSpec::Full(f) => {
            d.host.clone_from(&f.name);
            d.port = f.port;
            if f.port == 0 {
                errs.push(&at("port"), "must be between 1 and 65535");
            }
            if let Some(r) = f.refresh_interval {
                d.refresh_interval = r.0;
            }
            if let Some(t) = f.timeout {
                d.timeout = t.0;
            }
            for (field, v) in [("refresh_interval", d.refresh_interval), ("timeout", d.timeout)] {
                if v.is_zero() {
                    errs.push(&at(field), "must be greater than zero");
                }
            }
            if let Some(ns) = &f.nameserver {
                match ns.parse::<std::net::SocketAddr>() {
                    Ok(a) => d.nameserver = Some(a),
                    Err(_) => errs.push(
                        &at("nameserver"),
                        format!("`{ns}` is not `ip:port` (e.g. `10.96.0.10:53`)"),
                    ),
                }
            }
        }
    }
    let port_ok = d.port > 0;
    if port_ok && gatehouse_picker::dns::encode_query(0, &d.host, gatehouse_picker::dns::RecordType::A).is_err() {
        let field: &[&str] = match dns {
            DnsSpec::Short(_) => &["providers", name, "dns"],
            DnsSpec::Full(_) => &at("name"),
        };
        errs.push(field, format!("`{}` is not a valid DNS name", d.host));
    }
    d
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
