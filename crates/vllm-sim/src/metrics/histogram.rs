//! Fixed-bucket histograms with vLLM's bucket boundaries.

use super::exposition;

/// `vllm:time_to_first_token_seconds` buckets.
pub(crate) const TTFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    160.0, 640.0, 2560.0,
];
/// `vllm:inter_token_latency_seconds` buckets.
pub(crate) const ITL_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
/// Request-level latency buckets (`e2e_request_latency`, `request_queue_time`).
pub(crate) const REQUEST_LATENCY_BUCKETS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
    1920.0, 7680.0,
];

/// A cumulative-on-render histogram.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Per-bucket (non-cumulative) counts; the last slot is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

// === impl Histogram ===

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Records one observation in seconds.
    pub(crate) fn observe(&mut self, value: f64) {
        let i = self.bounds.partition_point(|b| *b < value);
        if let Some(slot) = self.counts.get_mut(i) {
            *slot += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// Number of observations.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Sum of observations, in seconds.
    #[cfg(test)]
    pub(crate) fn sum(&self) -> f64 {
        self.sum
    }

    /// Writes `_bucket` (cumulative, `le` sorted between `engine` and `model_name`), `_count` and `_sum`.
    pub(crate) fn render(&self, out: &mut String, name: &str, engine: &str, model: &str) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0;
        for (i, n) in self.counts.iter().enumerate() {
            cumulative += n;
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| exposition::go_float(*b));
            let labels = [("engine", engine), ("le", le.as_str()), ("model_name", model)];
            exposition::sample(out, &bucket, &labels, cumulative as f64);
        }
        let labels = [("engine", engine), ("model_name", model)];
        exposition::sample(out, &format!("{name}_count"), &labels, self.count as f64);
        exposition::sample(out, &format!("{name}_sum"), &labels, self.sum);
    }
}
