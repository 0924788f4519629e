//! `gatehouse_spend_usd_total` and `gatehouse_billed_tokens_total`, by key, team, model and provider.
//!
//! Cardinality is bounded by the config: key names and teams come from the key list (JWT callers are counted under
//! the key label `jwt`), models and providers are configured names — never raw client input.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of the spend and token counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SpendLabels {
    /// Key name (`jwt` for JWT callers, `anonymous`, or empty without `auth:`).
    pub key: String,
    /// Team, or empty.
    pub team: String,
    /// Gatehouse model name.
    pub model: String,
    /// Provider name.
    pub provider: String,
}

/// Labels of the token counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BilledTokenLabels {
    /// Key name.
    pub key: String,
    /// Team.
    pub team: String,
    /// Model.
    pub model: String,
    /// Provider.
    pub provider: String,
    /// `input` (uncached), `cache_read`, `cache_write`, `output`.
    #[allow(clippy::struct_field_names)]
    pub r#type: &'static str,
}

/// Labels of the budget counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    /// Budget name.
    pub budget: String,
    /// Key name or team (from the config).
    pub account: String,
}

/// The metering counters.
#[derive(Debug, Clone)]
pub struct MeteringMetrics {
    /// USD spent.
    pub spend: Family<SpendLabels, Counter<f64, AtomicU64>>,
    /// Tokens billed, by type.
    pub tokens: Family<BilledTokenLabels, Counter>,
    /// Requests that had usage but no price.
    pub unpriced: Family<SpendLabels, Counter>,
    /// Shared limiter (Redis) failures.
    pub limiter_backend_errors: Counter,
    /// Soft budget thresholds crossed (once per account and period).
    pub budget_soft: Family<BudgetLabels, Counter>,
}

// === impl MeteringMetrics ===

impl MeteringMetrics {
    /// Registers the counters.
    #[must_use]
    pub fn register(registry: &mut Registry) -> Self {
        let spend = Family::<SpendLabels, Counter<f64, AtomicU64>>::default();
        let tokens = Family::<BilledTokenLabels, Counter>::default();
        let unpriced = Family::<SpendLabels, Counter>::default();
        registry.register(
            "gatehouse_spend_usd",
            "Spend in USD computed from usage and the price table",
            spend.clone(),
        );
        registry.register(
            "gatehouse_billed_tokens",
            "Tokens by key, team, model, provider and type (input = uncached input)",
            tokens.clone(),
        );
        registry.register(
            "gatehouse_unpriced_requests",
            "Requests with usage but no price for their model",
            unpriced.clone(),
        );
        let budget_soft = Family::<BudgetLabels, Counter>::default();
        registry.register(
            "gatehouse_budget_soft_exceeded",
            "Soft budget thresholds crossed, once per account and period",
            budget_soft.clone(),
        );
        let limiter_backend_errors = Counter::default();
        registry.register(
            "gatehouse_limiter_backend_errors",
            "Shared limiter (Redis) calls that failed; the limit then fails open or closed per config",
            limiter_backend_errors.clone(),
        );
        Self {
            limiter_backend_errors,
            budget_soft,
            spend,
            tokens,
            unpriced,
        }
    }
}
