//! Probe and health-transition counters, registered with the process registry by [`crate::metrics::Metrics`].

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of one probe.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProbeLabels {
    /// The probed provider.
    pub provider: String,
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Labels of a health state change.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransitionLabels {
    /// The provider.
    pub provider: String,
    /// `healthy` or `unhealthy`.
    pub to: &'static str,
    /// `probe` (active) or `passive` (real traffic).
    pub source: &'static str,
}

/// The probe metrics.
#[derive(Debug, Clone)]
pub struct ProbeMetrics {
    /// `gatehouse_health_probes_total{provider,result}`.
    pub probes: Family<ProbeLabels, Counter>,
    /// `gatehouse_target_health_transitions_total{provider,to,source}`.
    pub transitions: Family<TransitionLabels, Counter>,
}

// === impl ProbeMetrics ===

impl ProbeMetrics {
    /// Creates and registers the families.
    pub fn register(registry: &mut Registry) -> Self {
        let probes = Family::<ProbeLabels, Counter>::default();
        let transitions = Family::<TransitionLabels, Counter>::default();
        registry.register(
            "gatehouse_health_probes",
            "Active health probes sent, by provider and result",
            probes.clone(),
        );
        registry.register(
            "gatehouse_target_health_transitions",
            "Health state changes of a target, by provider, new state and source (probe or passive)",
            transitions.clone(),
        );
        Self { probes, transitions }
    }

    /// Counts one probe.
    pub fn probe(&self, provider: &str, ok: bool) {
        self.probes
            .get_or_create(&ProbeLabels {
                provider: provider.to_string(),
                result: if ok { "success" } else { "failure" },
            })
            .inc();
    }

    /// Counts one state change.
    pub fn transition(&self, provider: &str, to: &'static str, source: &'static str) {
        self.transitions
            .get_or_create(&TransitionLabels {
                provider: provider.to_string(),
                to,
                source,
            })
            .inc();
    }
}
