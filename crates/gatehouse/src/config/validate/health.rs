//! `providers.<name>.health` → [`ProbeSettings`], and the targets' `priority` / `weight` (priority groups).
//!
//! Every problem is collected. A probe `path` naming a generation endpoint is refused: probes must never bill.

use std::time::Duration;

use super::super::spec::ModelSpec;
use super::super::spec::health::HealthSpec;
use super::Errors;
use crate::health::Hysteresis;
use crate::probe::ProbeSettings;

/// Highest threshold accepted: beyond it a dead target would stay in rotation for too long to be useful.
const MAX_THRESHOLD: u32 = 100;
/// Highest priority and weight accepted (keeps arithmetic and the status page sane).
const MAX_PRIORITY: u32 = 1000;
/// Highest weight accepted.
const MAX_WEIGHT: u32 = 10_000;
/// Shortest probe interval: a tighter one only loads the upstream.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Path fragments of billed (generation) endpoints; a probe path containing one is refused.
const BILLED: &[&str] = &[
    "completions",
    "/messages",
    "generatecontent",
    "streamgeneratecontent",
    "embed",
    "/converse",
    "/invoke",
    "/responses",
    "/generate",
];

/// The probe settings of provider `name`, or `None` when it is not probed.
pub(super) fn probe_settings(errs: &mut Errors<'_>, name: &str, spec: Option<&HealthSpec>) -> Option<ProbeSettings> {
    let h = spec?;
    let path = |field: &'static str| ["providers", name, "health", field];
    let interval = h.interval.map_or(Duration::from_secs(10), |d| d.0);
    let timeout = h.timeout.map_or(Duration::from_secs(2).min(interval), |d| d.0);
    let healthy_threshold = h.healthy_threshold.unwrap_or(2);
    let unhealthy_threshold = h.unhealthy_threshold.unwrap_or(3);
    if interval < MIN_INTERVAL {
        errs.push(&path("interval"), "must be at least 10ms");
    }
    if timeout.is_zero() {
        errs.push(&path("timeout"), "must be greater than zero");
    } else if timeout > interval {
        errs.push(&path("timeout"), "must not be longer than `interval`");
    }
    for (field, v) in [
        ("healthy_threshold", healthy_threshold),
        ("unhealthy_threshold", unhealthy_threshold),
    ] {
        if !(1..=MAX_THRESHOLD).contains(&v) {
            errs.push(&path(field), format!("must be between 1 and {MAX_THRESHOLD}"));
        }
    }
    if let Some(p) = &h.path {
        let lower = p.to_ascii_lowercase();
        if !p.starts_with('/') || p.parse::<http::uri::PathAndQuery>().is_err() {
            errs.push(&path("path"), format!("`{p}` is not a URL path such as `/v1/models`"));
        } else if let Some(billed) = BILLED.iter().find(|b| lower.contains(*b)) {
            errs.push(
                &path("path"),
                format!(
                    "`{p}` looks like a billed generation endpoint (`{billed}`); probes only call cheap GET endpoints \
                     such as `/v1/models` or `/health`"
                ),
            );
        }
    }
    if h.enabled == Some(false) {
        return None;
    }
    Some(ProbeSettings {
        interval,
        timeout,
        hysteresis: Hysteresis {
            healthy_threshold: healthy_threshold.clamp(1, MAX_THRESHOLD),
            unhealthy_threshold: unhealthy_threshold.clamp(1, MAX_THRESHOLD),
        },
        path: h.path.clone(),
    })
}

/// Each target's `(priority, weight)`. Priorities are all set or all absent (then the list position is the
/// priority, the meaning an ordered list always had); weights default to 1.
pub(super) fn target_groups(errs: &mut Errors<'_>, idx: &str, m: &ModelSpec) -> Vec<(u32, u32)> {
    let set = m.targets.iter().filter(|t| t.priority.is_some()).count();
    let partial = set > 0 && set < m.targets.len();
    m.targets
        .iter()
        .enumerate()
        .map(|(j, t)| {
            let jdx = j.to_string();
            let at = |field: &'static str| ["models", idx, "targets", jdx.as_str(), field];
            if partial && t.priority.is_none() {
                errs.push(
                    &at("priority"),
                    "when one target of a model sets `priority`, every target must (lower is preferred)",
                );
            }
            if t.priority.is_some_and(|p| p > MAX_PRIORITY) {
                errs.push(&at("priority"), format!("must be at most {MAX_PRIORITY}"));
            }
            if t.weight.is_some_and(|w| !(1..=MAX_WEIGHT).contains(&w)) {
                errs.push(&at("weight"), format!("must be between 1 and {MAX_WEIGHT}"));
            }
            let priority = t.priority.unwrap_or_else(|| u32::try_from(j).unwrap_or(u32::MAX));
            (priority, t.weight.unwrap_or(1).clamp(1, MAX_WEIGHT))
        })
        .collect()
}

#[cfg(test)]
mod tests;
