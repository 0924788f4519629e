//! The Generic Cell Rate Algorithm: a token bucket kept as one number per key, the theoretical arrival time (TAT).
//!
//! With emission interval `T = 1/rate` and burst `b`, a request at time `now` is allowed when
//! `TAT - now <= (b - 1)·T`, and then `TAT = max(TAT, now) + T`. A denied request leaves the state untouched and is
//! told when it would be allowed: `retry_after = TAT - now - (b - 1)·T`. Times are plain nanoseconds from any epoch
//! chosen by the caller, so the same arithmetic runs against `tokio::time` in process, a test's fake clock, or
//! Redis's `TIME` in a Lua script. Pure: no clock, no I/O, no locking.

use std::time::Duration;

/// A rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Nanoseconds between two requests at the sustained rate (`T`).
    pub emission_ns: u64,
    /// How far ahead of `now` the TAT may run (`(b - 1)·T`).
    pub tolerance_ns: u64,
}

/// The verdict for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; `remaining` more requests would be allowed right now.
    Allow {
        /// Requests left in the burst.
        remaining: u64,
    },
    /// Refused; retry after this long.
    Deny {
        /// When the next request would be allowed.
        retry_after: Duration,
    },
}

// === impl Gcra ===

impl Gcra {
    /// `requests_per_second` sustained (> 0), up to `burst` (≥ 1) at once. `None` for a rate that is not positive and
    /// finite.
    #[must_use]
    pub fn new(requests_per_second: f64, burst: u32) -> Option<Self> {
        if !(requests_per_second.is_finite() && requests_per_second > 0.0) || burst == 0 {
            return None;
        }
        let emission = 1e9 / requests_per_second;
        if !(1.0..=1e18).contains(&emission) {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked range above
        let emission_ns = emission.round() as u64;
        Some(Self {
            emission_ns,
            tolerance_ns: emission_ns.saturating_mul(u64::from(burst) - 1),
        })
    }

    /// Decides one request at `now_ns`, updating `tat` (the key's state; `None` = never seen) only when allowed.
    pub fn check(&self, tat: &mut Option<u64>, now_ns: u64) -> Decision {
        let current = tat.unwrap_or(now_ns).max(now_ns);
        let ahead = current - now_ns;
        if ahead > self.tolerance_ns {
            return Decision::Deny {
                retry_after: Duration::from_nanos(ahead - self.tolerance_ns),
            };
        }
        let new_tat = current.saturating_add(self.emission_ns);
        *tat = Some(new_tat);
        let used = new_tat - now_ns;
        let capacity = self.tolerance_ns + self.emission_ns;
        Decision::Allow {
            remaining: capacity.saturating_sub(used) / self.emission_ns,
        }
    }

    /// Decides a request costing `n` cells (e.g. tokens) at `now_ns`. Allowed when the whole cost fits in the
    /// bucket; a cost larger than the bucket is allowed only when the bucket is full (so it can never starve). For
    /// `n == 1` this is exactly [`Gcra::check`].
    pub fn check_n(&self, tat: &mut Option<u64>, now_ns: u64, n: u64) -> Decision {
        let current = tat.unwrap_or(now_ns).max(now_ns);
        let ahead = current - now_ns;
        let capacity = self.tolerance_ns.saturating_add(self.emission_ns);
        let cost = self.emission_ns.saturating_mul(n);
        let need = cost.min(capacity);
        if ahead.saturating_add(need) > capacity {
            return Decision::Deny {
                retry_after: Duration::from_nanos(ahead + need - capacity),
            };
        }
        let new_tat = current.saturating_add(cost);
        *tat = Some(new_tat);
        Decision::Allow {
            remaining: capacity.saturating_sub(new_tat - now_ns) / self.emission_ns,
        }
    }

    /// Charges (`delta > 0`, debt allowed) or refunds (`delta < 0`, never below an empty debt) `delta` cells after
    /// the fact: how a token estimate is settled with the real usage.
    pub fn adjust(&self, tat: &mut Option<u64>, now_ns: u64, delta: i64) {
        let current = tat.unwrap_or(now_ns).max(now_ns);
        let shift = self.emission_ns.saturating_mul(delta.unsigned_abs());
        *tat = Some(if delta >= 0 {
            current.saturating_add(shift)
        } else {
            current.saturating_sub(shift).max(now_ns)
        });
    }

    /// Cells the bucket holds when full.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.tolerance_ns / self.emission_ns + 1
    }

    /// Whether a key's state can be forgotten at `now_ns` (its bucket is full again).
    #[must_use]
    pub fn is_idle(&self, tat: u64, now_ns: u64) -> bool {
        tat <= now_ns
    }
}

#[cfg(test)]
mod tests;
