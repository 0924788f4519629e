//! Operational metrics: build info, config generation, errors by stable code, upstream attempts by result, limit
//! and budget rejections, MCP sessions held by this replica. Every label comes from the config or a fixed code list,
//! never from raw client input, so cardinality stays bounded.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `gatehouse_build_info` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// Crate version.
    pub version: &'static str,
}

/// Labels of an error counted by its stable code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Route (`chat_completions`, `messages`, `mcp`, ...).
    pub route: &'static str,
    /// The error code clients see in the body (`rate_limit_exceeded`, `upstream_timeout`, ...).
    pub error_code: &'static str,
}

/// Labels of one upstream attempt's result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// Provider (configured name).
    pub provider: String,
    /// `ok`, a failover reason (`status_503`, `upstream_timeout`, `stream_error_event`) or an error code.
    pub result: String,
}

/// Labels naming one configured limit or budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NamedLabels {
    /// The limit's or budget's configured name.
    pub name: String,
}

/// Labels naming one MCP upstream.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    /// The MCP upstream's configured name.
    pub upstream: String,
}

/// The operational metrics.
pub struct OpsMetrics {
    /// Always 1, labelled with the version.
    pub build_info: Family<BuildLabels, Gauge>,
    /// Config generation (bumped by every reload attempt, applied or rejected).
    pub config_generation: Gauge,
    /// Errors answered, by route and stable error code.
    pub errors: Family<ErrorLabels, Counter>,
    /// Upstream attempts by provider and result.
    pub attempts: Family<AttemptLabels, Counter>,
    /// Requests refused by a limit, by limit name.
    pub limit_rejections: Family<NamedLabels, Counter>,
    /// Requests refused by a budget, by budget name.
    pub budget_rejections: Family<NamedLabels, Counter>,
    /// MCP upstream sessions whose state lives on this replica (stdio children, re-created HTTP sessions).
    pub mcp_local_sessions: Family<UpstreamLabels, Gauge>,
}

// === impl OpsMetrics ===

impl OpsMetrics {
    /// Registers them all.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            build_info: Family::default(),
            config_generation: Gauge::default(),
            errors: Family::default(),
            attempts: Family::default(),
            limit_rejections: Family::default(),
            budget_rejections: Family::default(),
            mcp_local_sessions: Family::default(),
        };
        registry.register(
            "gatehouse_build_info",
            "Always 1; the running version",
            m.build_info.clone(),
        );
        registry.register(
            "gatehouse_config_generation",
            "Config generation: starts at 0, bumped by every reload attempt (applied or rejected)",
            m.config_generation.clone(),
        );
        registry.register(
            "gatehouse_request_errors",
            "Requests answered with an error, by route and stable error_code (the code in the error body)",
            m.errors.clone(),
        );
        registry.register(
            "gatehouse_upstream_attempts",
            "Upstream attempts by provider and result (ok, or why the attempt failed)",
            m.attempts.clone(),
        );
        registry.register(
            "gatehouse_limit_rejections",
            "Requests refused (429) by a limit, by its name",
            m.limit_rejections.clone(),
        );
        registry.register(
            "gatehouse_budget_rejections",
            "Requests refused by a spend budget, by its name",
            m.budget_rejections.clone(),
        );
        registry.register(
            "gatehouse_mcp_local_sessions",
            "MCP upstream sessions held by this replica (stdio children and re-created HTTP sessions), by upstream",
            m.mcp_local_sessions.clone(),
        );
        m.build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        m
    }

    /// Counts an error answer by its stable code.
    pub fn error(&self, route: &'static str, error_code: &'static str) {
        self.errors.get_or_create(&ErrorLabels { route, error_code }).inc();
    }

    /// Counts the limit or budget that refused a request, if that is why it failed.
    pub fn rejected(&self, e: &crate::error::GatewayError) {
        use crate::error::GatewayError;
        match e {
            GatewayError::RateLimited { limit, .. } => {
                self.limit_rejections
                    .get_or_create(&NamedLabels { name: limit.clone() })
                    .inc();
            }
            GatewayError::BudgetExceeded { budget, .. } => {
                self.budget_rejections
                    .get_or_create(&NamedLabels { name: budget.clone() })
                    .inc();
            }
            _ => {}
        }
    }

    /// Counts one upstream attempt's result.
    pub fn attempt(&self, provider: &str, result: &str) {
        self.attempts
            .get_or_create(&AttemptLabels {
                provider: provider.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    /// Refreshes the gauges read from state (called on each scrape).
    pub fn refresh(&self, state: &crate::state::AppState) {
        #[allow(clippy::cast_possible_wrap)]
        self.config_generation.set(*state.generation.borrow() as i64);
        if let Some(mcp) = &state.snapshot().mcp {
            for (name, n) in mcp.local_sessions() {
                #[allow(clippy::cast_possible_wrap)]
                self.mcp_local_sessions
                    .get_or_create(&UpstreamLabels { upstream: name })
                    .set(n as i64);
            }
        }
    }
}
