//! The retry budget: retries limited to a fraction of recent requests, so an outage does not multiply the load.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::time::Instant;

/// Retries allowed as a fraction of recent requests over a sliding window of one-second buckets, with a floor
/// so a quiet gateway can still retry: an outage does not multiply the load on the remaining targets.
#[derive(Debug)]
pub struct RetryBudget {
    window: Mutex<VecDeque<Bucket>>,
    start: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    second: u64,
    requests: u64,
    retries: u64,
}

/// How long the budget looks back.
const BUDGET_WINDOW_SECS: u64 = 10;

// === impl RetryBudget ===

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            window: Mutex::new(VecDeque::new()),
            start: Instant::now(),
        }
    }
}

impl RetryBudget {
    /// Counts one client request.
    pub fn record_request(&self) {
        self.with_bucket(|b| b.requests += 1);
    }

    /// Takes one retry from the budget if there is one left.
    pub fn try_retry(&self, ratio: f64, min_per_sec: u32) -> bool {
        let second = self.start.elapsed().as_secs();
        let mut w = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::trim(&mut w, second);
        let (requests, retries) = w.iter().fold((0u64, 0u64), |(q, r), b| (q + b.requests, r + b.retries));
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let allowed = ((requests as f64) * ratio) as u64 + u64::from(min_per_sec) * BUDGET_WINDOW_SECS;
        if retries >= allowed {
            return false;
        }
        Self::bucket(&mut w, second).retries += 1;
        true
    }

    fn with_bucket(&self, f: impl FnOnce(&mut Bucket)) {
        let second = self.start.elapsed().as_secs();
        let mut w = self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::trim(&mut w, second);
        f(Self::bucket(&mut w, second));
    }

    fn trim(w: &mut VecDeque<Bucket>, second: u64) {
        while w.front().is_some_and(|b| b.second + BUDGET_WINDOW_SECS <= second) {
            w.pop_front();
        }
    }

    fn bucket(w: &mut VecDeque<Bucket>, second: u64) -> &mut Bucket {
        if w.back().is_none_or(|b| b.second != second) {
            w.push_back(Bucket {
                second,
                requests: 0,
                retries: 0,
            });
        }
        let last = w.len() - 1;
        &mut w[last]
    }
}
