//! The vLLM metrics parser never panics, respects its bounds, and yields only finite, non-negative gauges.
#![no_main]

use gatehouse_picker::{ParseLimits, parse_metrics};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ParseLimits {
        max_bytes: 1 << 16,
        max_line_bytes: 4096,
    };
    if let Ok(s) = parse_metrics(data, &limits) {
        assert!(data.len() <= limits.max_bytes);
        for v in [s.waiting, s.running, s.kv_usage].into_iter().flatten() {
            assert!(v.is_finite() && v >= 0.0);
        }
    }
});
