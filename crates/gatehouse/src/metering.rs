//! Metering and pricing: the cost of every request from its normalised usage, exported as metrics and logged.
//!
//! The cost is computed once, when the request's context finishes (so streams, errors and client disconnects are
//! all counted with the usage seen), as
//! `(input − cache_read − cache_write)·in + cache_read·read + cache_write·write + output·out` per million tokens, where
//! `input` is [`Usage::input_tokens`] (which includes cached and cache-write tokens).

pub mod metrics;

use std::collections::HashMap;

use gatehouse_llm::Usage;

pub use metrics::MeteringMetrics;

/// USD per million tokens for one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Uncached input.
    pub input: f64,
    /// Output.
    pub output: f64,
    /// Cache reads.
    pub cache_read: f64,
    /// Cache writes.
    pub cache_write: f64,
}

/// The validated price table.
#[derive(Debug, Default)]
pub struct Pricing {
    /// Prices by upstream model id or gatehouse model name.
    pub prices: HashMap<String, Price>,
    /// Whether non-streamed responses carry `x-gatehouse-cost-usd`.
    pub cost_header: bool,
}

/// Response header with the request's cost in USD.
pub const COST_HEADER: &str = "x-gatehouse-cost-usd";

// === impl Price ===

impl Price {
    /// The cost of `usage` in USD.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // token counts far below 2^52
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_input_tokens;
        let written = usage.cache_write_input_tokens;
        let plain = usage.input_tokens.saturating_sub(cached).saturating_sub(written);
        (plain as f64 * self.input
            + cached as f64 * self.cache_read
            + written as f64 * self.cache_write
            + usage.output_tokens as f64 * self.output)
            / 1e6
    }
}

// === impl Pricing ===

impl Pricing {
    /// The price of a request: by the upstream model id first, then by the gatehouse model name.
    #[must_use]
    pub fn price(&self, upstream_model: Option<&str>, model: Option<&str>) -> Option<&Price> {
        upstream_model
            .and_then(|m| self.prices.get(m))
            .or_else(|| model.and_then(|m| self.prices.get(m)))
    }
}

#[cfg(test)]
mod tests;
