//! An in-process keyed limiter: one GCRA state per key (caller, or caller + tool), on an injected clock.
//!
//! The clock is a trait so tests decide time; [`TokioClock`] follows `tokio::time`, which `tokio::time::pause`
//! controls. Memory is bounded: when the table reaches its cap, keys whose bucket is full again are dropped, and if
//! none are, the new key is still decided (with a fresh state) but not stored — a flood of distinct keys cannot grow
//! memory, at worst it makes those keys' limits forgetful.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::gcra::{Decision, Gcra};

/// A monotonic clock in nanoseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Nanoseconds since the clock's own epoch.
    fn now_ns(&self) -> u64;
}

/// `tokio::time::Instant` since construction.
#[derive(Debug)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

/// A limiter over many keys.
#[derive(Debug)]
pub struct KeyedLimiter {
    gcra: Gcra,
    clock: Arc<dyn Clock>,
    states: Mutex<HashMap<String, u64>>,
    max_keys: usize,
}

/// Default cap on tracked keys.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

// === impl TokioClock ===

impl TokioClock {
    /// A clock starting now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

// === impl KeyedLimiter ===

impl KeyedLimiter {
    /// A limiter with `gcra` per key.
    #[must_use]
    pub fn new(gcra: Gcra, clock: Arc<dyn Clock>, max_keys: usize) -> Self {
        Self {
            gcra,
            clock,
            states: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// Decides one request for `key`.
    pub fn check(&self, key: &str) -> Decision {
        self.check_n(key, 1)
    }

    /// The GCRA parameters.
    #[must_use]
    pub fn gcra(&self) -> Gcra {
        self.gcra
    }

    /// Settles `delta` cells for `key` after the fact (see [`Gcra::adjust`]).
    pub fn adjust(&self, key: &str, delta: i64) {
        let now = self.clock.now_ns();
        let Ok(mut states) = self.states.lock() else {
            return;
        };
        if let Some(tat) = states.get_mut(key) {
            let mut t = Some(*tat);
            self.gcra.adjust(&mut t, now, delta);
            if let Some(t) = t {
                *tat = t;
            }
        } else if delta > 0 && states.len() < self.max_keys {
            let mut t = None;
            self.gcra.adjust(&mut t, now, delta);
            if let Some(t) = t {
                states.insert(key.to_string(), t);
            }
        }
    }

    /// Decides a request costing `n` cells for `key` (see [`Gcra::check_n`]).
    pub fn check_n(&self, key: &str, n: u64) -> Decision {
        let now = self.clock.now_ns();
        let Ok(mut states) = self.states.lock() else {
            return Decision::Allow { remaining: 0 }; // a poisoned lock must not take the data plane down
        };
        if let Some(tat) = states.get_mut(key) {
            let mut t = Some(*tat);
            let d = self.gcra.check_n(&mut t, now, n);
            if let Some(t) = t {
                *tat = t;
            }
            return d;
        }
        if states.len() >= self.max_keys {
            states.retain(|_, tat| !self.gcra.is_idle(*tat, now));
        }
        let mut t = None;
        let d = self.gcra.check_n(&mut t, now, n);
        if let (Some(t), true) = (t, states.len() < self.max_keys) {
            states.insert(key.to_string(), t);
        }
        d
    }

    /// How many keys are tracked.
    #[must_use]
    pub fn tracked(&self) -> usize {
        self.states.lock().map(|s| s.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    #[derive(Debug, Default)]
    struct Manual(AtomicU64);
    impl Clock for Manual {
        fn now_ns(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn keys_are_independent_and_bounded() {
        let clock = Arc::new(Manual::default());
        let l = KeyedLimiter::new(Gcra::new(1.0, 2).expect("gcra"), clock.clone(), 3);
        assert!(matches!(l.check("a"), Decision::Allow { remaining: 1 }));
        assert!(matches!(l.check("a"), Decision::Allow { remaining: 0 }));
        assert_eq!(
            l.check("a"),
            Decision::Deny {
                retry_after: Duration::from_secs(1)
            }
        );
        assert!(matches!(l.check("b"), Decision::Allow { .. }));
        assert!(matches!(l.check("c"), Decision::Allow { .. }));
        // Full table, nothing idle: "d" is decided but not stored.
        assert!(matches!(l.check("d"), Decision::Allow { .. }));
        assert_eq!(l.tracked(), 3);
        // Later every bucket is full again and gets evicted to make room.
        clock.0.store(10_000_000_000, Ordering::SeqCst);
        assert!(matches!(l.check("e"), Decision::Allow { .. }));
        assert_eq!(l.tracked(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let l = KeyedLimiter::new(Gcra::new(5.0, 10).expect("gcra"), Arc::new(TokioClock::new()), 10);
        for _ in 0..10 {
            assert!(matches!(l.check("k"), Decision::Allow { .. }));
        }
        assert_eq!(
            l.check("k"),
            Decision::Deny {
                retry_after: Duration::from_millis(200)
            }
        );
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(matches!(l.check("k"), Decision::Allow { remaining: 0 }));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(matches!(l.check("k"), Decision::Allow { remaining: 9 }));
    }
}
