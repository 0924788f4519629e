//! `responses:` — the OpenAI Responses API route's own settings (docs/responses.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::units::{ByteSize, HumanDuration};

/// Settings of `POST /v1/responses`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponsesSpec {
    /// The store that serves `previous_response_id` for translated targets (OpenAI-style targets keep their own).
    #[serde(default)]
    pub store: ResponseStoreSpec,
}

/// Where stored responses live and their bounds. Every field is optional; defaults in docs/configuration.md.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseStoreSpec {
    /// `memory` (default: this process, LRU-bounded) or `redis` (the top-level `redis:`, shared by replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<StoreBackendSpec>,
    /// Most stored responses (default 10000); the least recently used goes first. 0 disables the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<usize>,
    /// Most bytes of stored conversations in total (default 64MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<ByteSize>,
    /// How long a stored response can be continued (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<HumanDuration>,
}

/// The response store's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreBackendSpec {
    /// In this process: bounded by `max_entries` and `max_bytes` (LRU) and `ttl`; not shared across replicas.
    Memory,
    /// In the top-level `redis:`, so every replica can continue any stored response; `ttl` via key expiry,
    /// `max_bytes` per conversation (total memory is Redis's `maxmemory` policy).
    Redis,
}
