//! Priority groups: which of a model's targets takes a request, in which order the rest are tried, and which one
//! is "serving now" on `/status`.
//!
//! A model's targets form groups by `priority` (lower first; the list position when the config sets none, which
//! keeps a plain ordered list meaning exactly what it always did). Inside a group the order is a weighted shuffle
//! drawn per request (`weight`, default 1), so a group of weights 3 and 1 sends about three quarters of its first
//! attempts to the first. Targets out of rotation (ejected, cooling, or marked down by the probes) are left out;
//! when that leaves none, every enabled target is tried anyway in the same order — fail open, because an attempt
//! beats a certain 503.

mod status;

use tokio::time::Instant;

pub use status::{FallbackStatus, TargetFallback, render_html, status};

use crate::snapshot::{Model, Target, TargetState};

/// The target serving a model now, and why, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The target a request would try first (the heaviest of the preferred group), if any is enabled.
    pub target: Option<String>,
    /// The targets sharing the first attempts (the preferred group's members in rotation).
    pub group: Vec<String>,
    /// Why these.
    pub why: String,
}

/// `targets` in attempt order: by priority, a weighted shuffle drawn from `seed` inside each group.
#[must_use]
pub fn order<'a>(targets: &[&'a Target], seed: u64) -> Vec<&'a Target> {
    let mut sorted: Vec<&Target> = targets.to_vec();
    sorted.sort_by_key(|t| t.priority); // stable: list order breaks ties before the shuffle
    let mut out = Vec::with_capacity(sorted.len());
    let mut rng = seed;
    for group in sorted.chunk_by(|a, b| a.priority == b.priority) {
        if group.len() == 1 {
            out.push(group[0]);
            continue;
        }
        let weights: Vec<u32> = group.iter().map(|t| t.weight).collect();
        rng = splitmix(rng);
        out.extend(weighted_order(&weights, rng).into_iter().map(|i| group[i]));
    }
    out
}

/// A weighted random permutation of `0..weights.len()`: each position is drawn from the remaining indices with
/// probability proportional to its weight (a zero weight counts as one). Pure: the randomness is `seed`.
#[must_use]
pub fn weighted_order(weights: &[u32], seed: u64) -> Vec<usize> {
    let mut left: Vec<usize> = (0..weights.len()).collect();
    let mut out = Vec::with_capacity(weights.len());
    let mut rng = seed;
    while !left.is_empty() {
        let total: u64 = left.iter().map(|&i| u64::from(weights[i].max(1))).sum();
        rng = splitmix(rng);
        let mut r = rng % total;
        let mut pick = left.len() - 1;
        for (k, &i) in left.iter().enumerate() {
            let w = u64::from(weights[i].max(1));
            if r < w {
                pick = k;
                break;
            }
            r -= w;
        }
        out.push(left.remove(pick));
    }
    out
}

/// The model's first choice now, with the reason, computed like the failover loop's candidate list.
#[must_use]
pub fn serving(model: &Model, now: Instant) -> Serving {
    let enabled: Vec<&Target> = model
        .targets
        .iter()
        .filter(|t| t.provider.state() == TargetState::Enabled)
        .collect();
    if enabled.is_empty() {
        return Serving {
            target: None,
            group: Vec::new(),
            why: "no target is enabled (missing credentials)".to_string(),
        };
    }
    let mut out_of_rotation = Vec::new();
    let healthy: Vec<&Target> = enabled
        .iter()
        .copied()
        .filter(|t| match t.provider.health.available(now) {
            Ok(()) => true,
            Err(reason) => {
                out_of_rotation.push((t.priority, format!("{}: {reason}", t.provider.name)));
                false
            }
        })
        .collect();
    let Some(best) = healthy.iter().map(|t| t.priority).min() else {
        let first = enabled
            .iter()
            .min_by_key(|t| t.priority)
            .map(|t| t.provider.name.clone());
        return Serving {
            target: first,
            group: Vec::new(),
            why: "every enabled target is out of rotation; requests still try them in priority order (fail open)"
                .to_string(),
        };
    };
    let members: Vec<&Target> = healthy.iter().copied().filter(|t| t.priority == best).collect();
    let heaviest = members
        .iter()
        .copied()
        .reduce(|a, b| if b.weight > a.weight { b } else { a })
        .map(|t| t.provider.name.clone());
    let top = enabled.iter().map(|t| t.priority).min().unwrap_or(best);
    let skipped: Vec<String> = out_of_rotation
        .into_iter()
        .filter(|(p, _)| *p <= best)
        .map(|(_, r)| r)
        .collect();
    let why = if best == top && skipped.is_empty() {
        "highest-priority group in rotation".to_string()
    } else if best == top {
        format!("highest-priority group; out of rotation: {}", skipped.join("; "))
    } else {
        format!("preferred targets out of rotation: {}", skipped.join("; "))
    };
    Serving {
        target: heaviest,
        group: members.iter().map(|t| t.provider.name.clone()).collect(),
        why,
    }
}

/// One step of splitmix64: a cheap, well-mixed sequence from any seed.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
