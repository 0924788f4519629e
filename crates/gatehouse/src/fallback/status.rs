//! The warm-fallback section of `/status`: per model, the target serving now and why, and per target its
//! priority, weight, health (passive and probes), last probe and ejection time left. Kept apart from the rest of
//! the status page so the page's layout can change without touching this.

use std::fmt::Write;

use serde::Serialize;
use tokio::time::Instant;

use crate::health::HealthView;
use crate::snapshot::Snapshot;

/// One model's fallback state.
#[derive(Debug, Clone, Serialize)]
pub struct FallbackStatus {
    /// The model.
    pub model: String,
    /// The target a request would try first.
    pub serving: Option<String>,
    /// The targets sharing first attempts (the preferred group in rotation).
    pub group: Vec<String>,
    /// Why.
    pub why: String,
    /// Every target, in config order.
    pub targets: Vec<TargetFallback>,
}

/// One target's fallback state.
#[derive(Debug, Clone, Serialize)]
pub struct TargetFallback {
    /// Its provider.
    pub provider: String,
    /// Priority group (lower first).
    pub priority: u32,
    /// Weight inside the group.
    pub weight: u32,
    /// Whether it takes traffic now (enabled and in rotation).
    pub in_rotation: bool,
    /// Passive and probe health.
    pub health: HealthView,
}

/// The section for every model of `snap`.
#[must_use]
pub fn status(snap: &Snapshot) -> Vec<FallbackStatus> {
    let now = Instant::now();
    snap.models
        .iter()
        .map(|m| {
            let serving = super::serving(m, now);
            FallbackStatus {
                model: m.name.clone(),
                serving: serving.target,
                group: serving.group,
                why: serving.why,
                targets: m
                    .targets
                    .iter()
                    .map(|t| TargetFallback {
                        provider: t.provider.name.clone(),
                        priority: t.priority,
                        weight: t.weight,
                        in_rotation: t.provider.state() == crate::snapshot::TargetState::Enabled
                            && t.provider.health.available(now).is_ok(),
                        health: t.provider.health.view(now),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Appends the section as an HTML table to `h`.
pub fn render_html(h: &mut String, models: &[FallbackStatus]) {
    if models.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Fallback</h2><table><tr><th>model</th><th>target</th><th>priority</th><th>weight</th>\
         <th>health</th><th>last probe</th><th>ejection left</th><th>serving</th></tr>",
    );
    for m in models {
        for t in &m.targets {
            let probe = match t.health.probe.as_ref().and_then(|p| p.last.as_ref()) {
                Some(l) => format!(
                    "{} {} ({} ms, {} s ago)",
                    if l.outcome.ok { "pass" } else { "fail" },
                    esc(&l.outcome.detail),
                    l.outcome.latency_ms,
                    l.age_ms / 1000
                ),
                None => "not probed".to_string(),
            };
            let left = t.health.remaining_ms.map_or_else(String::new, |ms| format!("{ms} ms"));
            let serving = if m.serving.as_deref() == Some(t.provider.as_str()) {
                format!("&#10003; {}", esc(&m.why))
            } else {
                String::new()
            };
            let class = if t.in_rotation { "enabled" } else { "disabled" };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class={class}>{}{}</td><td>{probe}</td>\
                 <td>{left}</td><td>{serving}</td></tr>",
                esc(&m.model),
                esc(&t.provider),
                t.priority,
                t.weight,
                t.health.state,
                t.health
                    .reason
                    .as_deref()
                    .map_or_else(String::new, |r| format!(": {}", esc(r))),
            );
        }
    }
    h.push_str("</table>");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
