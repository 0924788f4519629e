//! The `routing` block of a `vllm_pool` provider: how replicas are scraped, scored, and when traffic is shed.
//!
//! Every field is optional; the defaults are GIE's (`docs/routing.md`). Checked in `validate/routing.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::HumanDuration;

/// Inference-aware routing settings of a vLLM pool.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingSpec {
    /// Path of each replica's Prometheus metrics, appended to its endpoint URL (default `/metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_path: Option<String>,
    /// How often each replica's metrics are scraped (default 50ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<HumanDuration>,
    /// Time allowed for one scrape (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<HumanDuration>,
    /// Metrics older than this are unknown, never zero (default 200ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staleness: Option<HumanDuration>,
    /// Consecutive failed scrapes after which a replica is unhealthy (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_after: Option<u32>,
    /// How long a replica stays unhealthy after a request to it failed to connect or timed out (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejection_time: Option<HumanDuration>,
    /// Scorer weights (`picker: inference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsSpec>,
    /// Drop replicas at or above the saturation thresholds (or with stale metrics) before scoring, unless that
    /// drops all of them (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overload_filter: Option<bool>,
    /// What the queue scorer reads: `awaiting_first_token` (default: waiting requests, raised to the requests this
    /// gateway sent that have no first token yet; when equal everywhere, the in-flight count per replica),
    /// `in_flight_when_idle` (the same without the first-token count) or `waiting` (GIE's scorer as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_signal: Option<QueueSignalSpec>,
    /// Thresholds of the overload filter and of saturation detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturation: Option<SaturationSpec>,
    /// Prefix-affinity table settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<PrefixSpec>,
    /// Objective name (header `x-gateway-inference-objective`) → priority. Negative priorities are shed with 429
    /// when the pool is saturated; unknown or absent objectives have priority 0.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objectives: BTreeMap<String, i32>,
    /// `Retry-After` sent with a shed request (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_retry_after: Option<HumanDuration>,
    /// Response header naming the replica that served the request (`host:port`); off when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_header: Option<String>,
}

/// What the queue scorer reads (`bench/ROUTING.md` has the measurement behind the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueSignalSpec {
    /// `vllm:num_requests_waiting` only (GIE's `queue-scorer`).
    Waiting,
    /// Waiting requests; when they are equal everywhere (low load), the gateway's in-flight count per replica.
    InFlightWhenIdle,
    /// As `in_flight_when_idle`, with the requests that have not returned a first token yet (queued or
    /// prefilling) counted as queued (the default).
    AwaitingFirstToken,
}

/// One replica of a `vllm_pool`: its base URL, or the URL with where its metrics live.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum EndpointSpec {
    /// Base URL; metrics are scraped at this URL + `routing.metrics_path`.
    Url(String),
    /// Base URL and a metrics URL of its own (another port or path, e.g. a sidecar exporter).
    Full(EndpointFullSpec),
}

/// A replica with its own metrics URL.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointFullSpec {
    /// Base URL of the replica's OpenAI-compatible API.
    pub url: String,
    /// Full URL of its Prometheus metrics (default: `url` + `routing.metrics_path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_url: Option<String>,
}

/// Replicas from DNS: every A/AAAA record of a name (a Kubernetes headless Service) is a replica on `port`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DnsSpec {
    /// `host:port`, other settings at their defaults.
    Short(String),
    /// Every setting.
    Full(DnsFullSpec),
}

/// DNS membership settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsFullSpec {
    /// The name to resolve, e.g. `vllm.inference.svc.cluster.local`.
    pub name: String,
    /// The port every replica serves on.
    pub port: u16,
    /// How often the name is resolved again (default 5s, the TTL of Kubernetes' DNS records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<HumanDuration>,
    /// Time allowed for one resolution (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// `ip:port` of a nameserver to query directly (UDP, TCP when truncated) instead of the system resolver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nameserver: Option<String>,
}

/// One upstream model of a weighted split (GIE's `InferenceModelRewrite` target): a base model or a LoRA adapter.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedModelSpec {
    /// Model name sent upstream.
    pub model: String,
    /// Relative share of requests (0 = none; when every weight is 0 the split is uniform).
    pub weight: u32,
}

/// Scorer weights; the total score is `Σ weight × score`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsSpec {
    /// Queue depth (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<f64>,
    /// KV-cache utilisation (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache: Option<f64>,
    /// Prefix-cache affinity (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<f64>,
    /// LoRA adapter affinity (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora: Option<f64>,
}

/// When a replica counts as full.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaturationSpec {
    /// Waiting requests (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_threshold: Option<f64>,
    /// KV-cache utilisation, 0–1 (default 0.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_threshold: Option<f64>,
}

/// How prompts are hashed into blocks and how many blocks are remembered per replica.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrefixSpec {
    /// Characters per block (default 64 = 16 tokens × 4 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_chars: Option<usize>,
    /// Most blocks hashed per prompt (default 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_blocks: Option<usize>,
    /// Blocks remembered per replica, least recently routed evicted first (default 31250, about 2 MB per replica);
    /// with `auto_tune`, the upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lru_blocks_per_replica: Option<usize>,
    /// Size each replica's table to its KV cache as reported by `vllm:cache_config_info` (GIE's `autoTune`;
    /// default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_tune: Option<bool>,
}
