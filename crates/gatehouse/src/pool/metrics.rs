//! Pool metrics: per-replica signals as last scraped, picks by replica and reason, shed requests, decision time.

use std::time::Duration;

use gatehouse_picker::ReplicaState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A replica of a pool.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplicaLabels {
    /// Provider name.
    pub pool: String,
    /// Replica `host:port`.
    pub replica: String,
}

/// A pick.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PickLabels {
    /// Provider name.
    pub pool: String,
    /// Replica `host:port`.
    pub replica: String,
    /// `prefix_hit`, `load`, `round_robin`, `random`, `least_request` or `fail_open`.
    pub reason: &'static str,
}

/// A shed request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShedLabels {
    /// Provider name.
    pub pool: String,
    /// The request's priority.
    pub priority: i32,
}

/// A pool.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// Provider name.
    pub pool: String,
}

/// A DNS resolution.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResolutionLabels {
    /// Provider name.
    pub pool: String,
    /// `ok` or `error`.
    pub result: &'static str,
}

/// Decision-time labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// Provider name.
    pub pool: String,
    /// Strategy.
    pub strategy: &'static str,
}

/// Every pool metric.
pub struct PoolMetrics {
    waiting: Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    running: Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    kv: Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    healthy: Family<ReplicaLabels, Gauge>,
    in_flight: Family<ReplicaLabels, Gauge>,
    picks: Family<PickLabels, Counter>,
    shed: Family<ShedLabels, Counter>,
    decision: Family<DecisionLabels, Histogram, fn() -> Histogram>,
    resolutions: Family<ResolutionLabels, Counter>,
    replicas: Family<PoolLabels, Gauge>,
}

fn decision_histogram() -> Histogram {
    // 1 µs .. ~16 ms.
    Histogram::new(exponential_buckets(1e-6, 2.0, 15))
}

// === impl PoolMetrics ===

impl PoolMetrics {
    /// Registers the pool metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            waiting: Family::default(),
            running: Family::default(),
            kv: Family::default(),
            healthy: Family::default(),
            in_flight: Family::default(),
            picks: Family::default(),
            shed: Family::default(),
            decision: Family::new_with_constructor(decision_histogram as fn() -> Histogram),
            resolutions: Family::default(),
            replicas: Family::default(),
        };
        registry.register(
            "gatehouse_pool_replica_waiting",
            "vllm:num_requests_waiting of each replica at its last scrape",
            m.waiting.clone(),
        );
        registry.register(
            "gatehouse_pool_replica_running",
            "vllm:num_requests_running of each replica at its last scrape",
            m.running.clone(),
        );
        registry.register(
            "gatehouse_pool_replica_kv_cache_usage",
            "KV-cache utilisation (0-1) of each replica at its last scrape",
            m.kv.clone(),
        );
        registry.register(
            "gatehouse_pool_replica_healthy",
            "1 when the replica takes traffic, 0 when its scrapes or requests fail",
            m.healthy.clone(),
        );
        registry.register(
            "gatehouse_pool_replica_in_flight",
            "Requests this gateway has in flight on each replica",
            m.in_flight.clone(),
        );
        registry.register(
            "gatehouse_pool_picks",
            "Replica picks by pool, replica and reason",
            m.picks.clone(),
        );
        registry.register(
            "gatehouse_pool_shed",
            "Requests shed (429) because the pool was saturated, by priority",
            m.shed.clone(),
        );
        registry.register(
            "gatehouse_pool_decision_seconds",
            "Time to pick a replica (hashing, scoring, table update), in seconds",
            m.decision.clone(),
        );
        registry.register(
            "gatehouse_pool_dns_resolutions",
            "DNS resolutions of pools that follow a name, by result (an error keeps the last replica set)",
            m.resolutions.clone(),
        );
        registry.register(
            "gatehouse_pool_replicas",
            "Replicas currently in a DNS-discovered pool",
            m.replicas.clone(),
        );
        m
    }

    fn labels(pool: &str, replica: &str) -> ReplicaLabels {
        ReplicaLabels {
            pool: pool.to_string(),
            replica: replica.to_string(),
        }
    }

    /// Records a replica's state after a scrape.
    pub fn signals(&self, pool: &str, replica: &str, s: &ReplicaState) {
        let l = Self::labels(pool, replica);
        if let Some(sig) = &s.signals {
            self.waiting.get_or_create(&l).set(sig.waiting.unwrap_or(0.0));
            self.running.get_or_create(&l).set(sig.running.unwrap_or(0.0));
            self.kv.get_or_create(&l).set(sig.kv_usage.unwrap_or(0.0));
        }
        self.healthy.get_or_create(&l).set(i64::from(s.healthy));
    }

    /// Drops every series of a replica that left its pool.
    pub fn forget_replica(&self, pool: &str, replica: &str) {
        let l = Self::labels(pool, replica);
        for f in [&self.waiting, &self.running, &self.kv] {
            f.remove(&l);
        }
        self.healthy.remove(&l);
        self.in_flight.remove(&l);
    }

    /// Counts a DNS resolution.
    pub fn resolution(&self, pool: &str, ok: bool) {
        self.resolutions
            .get_or_create(&ResolutionLabels {
                pool: pool.to_string(),
                result: if ok { "ok" } else { "error" },
            })
            .inc();
    }

    /// Sets a DNS pool's replica count.
    pub fn replicas(&self, pool: &str, n: usize) {
        self.replicas
            .get_or_create(&PoolLabels { pool: pool.to_string() })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Counts a pick.
    pub fn picked(&self, pool: &str, replica: &str, reason: &'static str) {
        self.picks
            .get_or_create(&PickLabels {
                pool: pool.to_string(),
                replica: replica.to_string(),
                reason,
            })
            .inc();
    }

    /// Moves a replica's in-flight gauge.
    pub fn in_flight(&self, pool: &str, replica: &str, delta: i64) {
        self.in_flight.get_or_create(&Self::labels(pool, replica)).inc_by(delta);
    }

    /// Counts a shed request.
    pub fn shed(&self, pool: &str, priority: i32) {
        self.shed
            .get_or_create(&ShedLabels {
                pool: pool.to_string(),
                priority,
            })
            .inc();
    }

    /// Observes one decision's duration.
    pub fn decision_time(&self, pool: &str, strategy: &'static str, d: Duration) {
        self.decision
            .get_or_create(&DecisionLabels {
                pool: pool.to_string(),
                strategy,
            })
            .observe(d.as_secs_f64());
    }
}
