//! What the picker knows about one replica: its last scraped [`Signals`], when they were taken, its health and
//! the requests this gateway has in flight on it.
//!
//! Invariant: metrics older than the staleness bound are **unknown**, never zero. A replica whose scrape is late
//! must not look idle, or a broken metrics endpoint would attract all the traffic. The in-flight count is kept by
//! the gateway itself and is never stale.

use std::time::Duration;

/// The signals read from one scrape of a replica's `/metrics` (vLLM names, see `metrics_text`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// `vllm:num_requests_waiting` (summed over engines), if present.
    pub waiting: Option<f64>,
    /// `vllm:num_requests_running` (summed over engines), if present.
    pub running: Option<f64>,
    /// `vllm:kv_cache_usage_perc` (or the legacy `vllm:gpu_cache_usage_perc`), 0–1, highest engine, if present.
    pub kv_usage: Option<f64>,
    /// `vllm:lora_requests_info`, when the replica serves LoRA adapters.
    pub lora: Option<LoraInfo>,
    /// The served base model (`model_name` label), if any sample carried it.
    pub model_name: Option<String>,
    /// `vllm:cache_config_info` `block_size` label (tokens per KV block).
    pub block_size: Option<u32>,
    /// `vllm:cache_config_info` `num_gpu_blocks` label.
    pub num_gpu_blocks: Option<u64>,
}

/// The LoRA adapters a replica has loaded (`running`) or queued (`waiting`), and how many fit at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoraInfo {
    /// Adapters with running requests.
    pub running: Vec<String>,
    /// Adapters with waiting requests.
    pub waiting: Vec<String>,
    /// `max_lora`: most adapters in one batch.
    pub max: u32,
}

/// One replica as the picker sees it at decision time.
#[derive(Debug, Clone, Default)]
pub struct ReplicaState {
    /// The last successful scrape, if any.
    pub signals: Option<Signals>,
    /// When that scrape completed (time since the caller's origin).
    pub scraped_at: Option<Duration>,
    /// False when scrapes or requests failed recently; unhealthy replicas are filtered out.
    pub healthy: bool,
    /// Requests this gateway has sent to the replica and not finished.
    pub in_flight: u32,
    /// Of those, the ones that have not returned a first byte yet: queued or prefilling there. A new request
    /// sent to a replica with one of these waits for that prefill (its TTFT roughly doubles), which a count of
    /// requests in progress cannot tell from decoding ones. Kept by the gateway, never stale.
    pub awaiting_first_token: u32,
}

// === impl Signals ===

impl Signals {
    /// Whether `model` is the replica's base model (LoRA affinity does not apply to it).
    #[must_use]
    pub fn is_base_model(&self, model: &str) -> bool {
        self.model_name.as_deref() == Some(model)
    }
}

// === impl LoraInfo ===

impl LoraInfo {
    /// GIE's `lora-affinity-scorer`: loaded → 1.0, room to load it → 0.8, only queued → 0.6, otherwise 0.
    #[must_use]
    pub fn affinity(&self, adapter: &str) -> f64 {
        let running = self.running.iter().any(|a| a == adapter);
        let waiting = self.waiting.iter().any(|a| a == adapter);
        if running {
            1.0
        } else if self.running.len() + self.waiting.len() < self.max as usize {
            0.8
        } else if waiting {
            0.6
        } else {
            0.0
        }
    }
}

// === impl ReplicaState ===

impl ReplicaState {
    /// The signals if they are younger than `staleness` at `now`; `None` means unknown.
    #[must_use]
    pub fn fresh(&self, now: Duration, staleness: Duration) -> Option<&Signals> {
        let at = self.scraped_at?;
        if now.saturating_sub(at) > staleness {
            return None;
        }
        self.signals.as_ref()
    }

    /// Age of the last scrape at `now`, if there was one.
    #[must_use]
    pub fn age(&self, now: Duration) -> Option<Duration> {
        self.scraped_at.map(|at| now.saturating_sub(at))
    }

    /// The waiting-queue depth the picker uses: the scraped `waiting`, raised to what this gateway alone has
    /// queued there (`in_flight − running`) so requests sent since the last scrape count at once. `None` when the
    /// metrics are stale or lack both gauges.
    #[must_use]
    pub fn queue(&self, now: Duration, staleness: Duration) -> Option<f64> {
        let s = self.fresh(now, staleness)?;
        if s.waiting.is_none() && s.running.is_none() {
            return None;
        }
        let waiting = s.waiting.unwrap_or(0.0);
        let running = s.running.unwrap_or(0.0);
        let ours = (f64::from(self.in_flight) - running).max(0.0);
        Some(waiting.max(ours))
    }

    /// The queue depth [`crate::QueueSignal::AwaitingFirstToken`] scores: [`Self::queue`] raised to the requests
    /// still waiting for their first token here (queued or prefilling). `None` when [`Self::queue`] is unknown, so
    /// a replica with stale metrics still scores worst.
    #[must_use]
    pub fn queue_before_first_token(&self, now: Duration, staleness: Duration) -> Option<f64> {
        self.queue(now, staleness)
            .map(|q| q.max(f64::from(self.awaiting_first_token)))
    }

    /// KV-cache utilisation (0–1) if fresh.
    #[must_use]
    pub fn kv(&self, now: Duration, staleness: Duration) -> Option<f64> {
        self.fresh(now, staleness)?.kv_usage.map(|v| v.clamp(0.0, 1.0))
    }
}
