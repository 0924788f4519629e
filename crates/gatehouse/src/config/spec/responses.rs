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

/// Bounds of the in-process response store. Every field is optional; defaults in docs/configuration.md.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseStoreSpec {
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
