//! Endpoint picking for self-hosted vLLM pools, the way the Gateway API Inference Extension's endpoint picker
//! (EPP) does it, as a pure library.
//!
//! This crate is **pure**: no I/O, no sockets, no clock, no randomness source, no configuration loading. Time
//! arrives as a [`Duration`](std::time::Duration) since an arbitrary origin chosen by the caller, and randomness
//! as a `u64` seed per decision, so every decision is reproducible in a test.
//!
//! - [`metrics_text`]: a bounded Prometheus text parser that extracts the vLLM signals ([`Signals`]).
//! - [`signals`]: a replica's last scrape with its age ([`ReplicaState`]); stale metrics are *unknown*, never zero.
//! - [`prefix`]: prompt → chained block hashes seeded by the model, and a per-replica LRU table bounded in memory.
//! - [`score`]: filters and the weighted scorers (queue, KV cache, prefix affinity, LoRA affinity).
//! - [`membership`]: which replicas a new DNS resolution adds and removes.
//! - [`dns`]: the DNS wire format for A/AAAA queries to one nameserver (bounded, fuzzed reply parser).
//! - [`strategy`]: the strategies (`round_robin`, `random`, `least_request`, `inference`) and saturation
//!   detection for load shedding.

pub mod dns;
pub mod error;
pub mod membership;
pub mod metrics_text;
pub mod prefix;
mod rng;
pub mod score;
pub mod signals;
pub mod strategy;

pub use error::PickerError;
pub use metrics_text::{ParseLimits, parse_metrics};
pub use prefix::{PrefixConfig, PrefixTable, hash_prompt};
pub use score::{QueueSignal, Scores, Thresholds, Weights};
pub use signals::{LoraInfo, ReplicaState, Signals};
pub use strategy::{Decision, PickRequest, Picker, Reason, Strategy, saturation};
