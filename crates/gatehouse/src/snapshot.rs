//! The runtime configuration: what the data path reads, built from the spec at load time.
//!
//! A [`Snapshot`] is immutable and swapped as a whole through `ArcSwap`; a request takes one `Arc` at its
//! start and finishes on it even if a reload happens meanwhile. Everything here is already validated:
//! addresses parsed, models indexed by name and alias, providers with their client and credential.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gatehouse_llm::anthropic::ModelRules;
use http::HeaderValue;

use crate::config::spec::{AccessLogTarget, ProviderKind};
use crate::secret::Secret;
use crate::upstream::{Timeouts, UpstreamClient};

/// One loaded, validated configuration.
#[derive(Debug)]
pub struct Snapshot {
    /// The file it came from.
    pub source: PathBuf,
    /// Data-plane address.
    pub listen: SocketAddr,
    /// Admin address.
    pub admin: SocketAddr,
    /// Providers by name.
    pub providers: BTreeMap<String, Arc<Provider>>,
    /// Models in config order.
    pub models: Vec<Arc<Model>>,
    /// Models by name and by alias.
    pub by_name: HashMap<String, Arc<Model>>,
    /// Listener limits.
    pub server: ServerSettings,
    /// Access log destination.
    pub access_log: AccessLogTarget,
    /// The effective config with secrets redacted, for `/config`.
    pub redacted: serde_json::Value,
    /// The MCP gateway, when `mcp:` is configured.
    pub mcp: Option<Arc<crate::mcp::McpSettings>>,
    /// Governance of the LLM routes (identities); empty when `auth:` is absent.
    pub policy: Arc<crate::policy::Policy>,
    /// The price table (empty when `pricing:` is absent: no cost is computed).
    pub pricing: Arc<crate::metering::Pricing>,
    /// Retry and ejection rules (`failover:`).
    pub failover: FailoverSettings,
    /// Retries left for this config's lifetime window (docs/failover.md).
    pub retry_budget: crate::health::RetryBudget,
    /// Bounds of the response store behind `previous_response_id` (`responses.store`).
    pub response_store: crate::response_store::ResponseStoreSettings,
    /// Trace export (`telemetry.traces` + `OTEL_*`); `None` when off. Read once at start (docs/observability.md).
    pub traces: Option<Arc<crate::trace::TraceSettings>>,
}

/// Retry, backoff and ejection rules for the failover loop (docs/failover.md).
#[derive(Debug, Clone)]
pub struct FailoverSettings {
    /// Most attempts per request, the first included.
    pub max_attempts: u32,
    /// Retries allowed as a fraction of recent requests.
    pub retry_budget_ratio: f64,
    /// Retries always allowed per second, whatever the traffic.
    pub retry_budget_min_per_sec: u32,
    /// First backoff between attempts to the same target.
    pub backoff_base: Duration,
    /// Largest backoff.
    pub backoff_max: Duration,
    /// Longest upstream `Retry-After` honoured (a longer one makes the attempt fail over instead of waiting).
    pub retry_after_cap: Duration,
    /// Consecutive failures that eject a target.
    pub ejection_threshold: u32,
    /// First ejection time.
    pub ejection_base: Duration,
    /// Longest ejection time.
    pub ejection_max: Duration,
    /// How long a stream's first event is awaited before the head is relayed, to catch a "200 then error".
    pub first_event_wait: Duration,
}

impl Default for FailoverSettings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_budget_ratio: 0.2,
            retry_budget_min_per_sec: 5,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            retry_after_cap: Duration::from_secs(2),
            ejection_threshold: 3,
            ejection_base: Duration::from_secs(5),
            ejection_max: Duration::from_secs(300),
            first_event_wait: Duration::from_secs(1),
        }
    }
}

/// Listener limits and shutdown settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Largest request head.
    pub max_header_bytes: usize,
    /// Most headers.
    pub max_headers: usize,
    /// Time to receive the head.
    pub header_read_timeout: Duration,
    /// Time to receive the body.
    pub body_read_timeout: Duration,
    /// Connection cap.
    pub max_connections: usize,
    /// Drain deadline on shutdown.
    pub drain_timeout: Duration,
    /// Unready-but-serving time between SIGTERM and closing the listener.
    pub shutdown_delay: Duration,
}

/// A model clients can ask for.
#[derive(Debug)]
pub struct Model {
    /// Canonical name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// Targets in priority order.
    pub targets: Vec<Target>,
}

/// One way of serving a model.
#[derive(Debug)]
pub struct Target {
    /// The provider.
    pub provider: Arc<Provider>,
    /// Model name sent upstream.
    pub upstream_model: String,
    /// Weighted upstream models chosen per request instead of `upstream_model` (`vllm_pool` only; empty = none).
    pub split: Vec<(String, u32)>,
    /// What a translated target's model accepts (`max_tokens` default, sampling, unsupported parameters);
    /// unused on the passthrough path.
    pub rules: ModelRules,
    /// Priority group: lower is preferred (the list position when the config sets none).
    pub priority: u32,
    /// Share of the group's traffic.
    pub weight: u32,
}

/// A configured upstream.
#[derive(Debug)]
pub struct Provider {
    /// Its name in the config.
    pub name: String,
    /// Its kind.
    pub kind: ProviderKind,
    /// Base URLs without a trailing slash (one for `openai_compatible`, the replicas for `vllm_pool`).
    pub endpoints: Vec<String>,
    /// Round-robin cursor.
    cursor: AtomicUsize,
    /// Credential, when configured.
    pub api_key: Option<Arc<Secret>>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Pooled client.
    pub client: UpstreamClient,
    /// Anthropic-only settings (present exactly when `kind` is `anthropic`).
    pub anthropic: Option<AnthropicSettings>,
    /// The replica picker and its live signals (present exactly when `kind` is `vllm_pool`).
    pub pool: Option<Arc<crate::pool::Pool>>,
    /// How request URLs are shaped (path prefix, Azure `api-version`), fixed at load time.
    pub wire: WireSettings,
    /// Bedrock-only settings (present exactly when `kind` is `bedrock`).
    pub bedrock: Option<BedrockSettings>,
    /// Passive health from real traffic (ejection, cool-down) and active probe results.
    pub health: crate::health::TargetHealth,
    /// Active health probes (`health:`), when enabled.
    pub probe: Option<crate::probe::ProbeSettings>,
}

/// What SigV4 signing needs for a Bedrock provider.
#[derive(Debug, Clone)]
pub struct BedrockSettings {
    /// The AWS region, part of the credential scope.
    pub region: String,
    /// Access key id.
    pub access_key_id: Arc<Secret>,
    /// Secret access key.
    pub secret_access_key: Arc<Secret>,
    /// Session token of temporary credentials, when there is one.
    pub session_token: Option<Arc<Secret>>,
}

/// The URL shape of a provider's API: what goes between the base URL and the route (`/chat/completions`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireSettings {
    /// Path prefix before the route suffix: `/v1` for OpenAI-style hosts, `/v1/openai` for DeepInfra, `/v1beta`
    /// for Gemini, ...
    pub api_prefix: String,
    /// `azure_openai`: the `api-version` query value (already checked to be URL-safe).
    pub api_version: Option<String>,
}

/// Headers an Anthropic provider sends, fixed at load time.
#[derive(Debug, Clone)]
pub struct AnthropicSettings {
    /// The `anthropic-version` header value.
    pub version: HeaderValue,
    /// `anthropic-beta` values clients may pass through; everything else is dropped.
    pub allowed_betas: Vec<String>,
}

/// Whether a target can take traffic, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetState {
    /// Usable.
    Enabled,
    /// Not usable, with the reason shown on `/status` and `/v1/models`.
    Disabled(String),
}

// === impl WireSettings ===

impl Default for WireSettings {
    /// The OpenAI convention: `{base}/v1/chat/completions`.
    fn default() -> Self {
        Self {
            api_prefix: "/v1".to_string(),
            api_version: None,
        }
    }
}

// === impl Snapshot ===

impl Snapshot {
    /// Finds a model by name or alias.
    #[must_use]
    pub fn model(&self, name: &str) -> Option<&Arc<Model>> {
        self.by_name.get(name)
    }
}

// === impl Provider ===

impl Provider {
    /// Builds a provider.
    #[must_use]
    pub fn new(
        name: String,
        kind: ProviderKind,
        endpoints: Vec<String>,
        api_key: Option<Arc<Secret>>,
        timeouts: Timeouts,
        client: UpstreamClient,
    ) -> Self {
        Self {
            name,
            kind,
            endpoints,
            cursor: AtomicUsize::new(0),
            api_key,
            timeouts,
            client,
            anthropic: None,
            pool: None,
            wire: WireSettings::default(),
            bedrock: None,
            health: crate::health::TargetHealth::default(),
            probe: None,
        }
    }

    /// Enables active health probes (for a provider with a `health:` block).
    #[must_use]
    pub fn with_probe(mut self, settings: Option<crate::probe::ProbeSettings>) -> Self {
        self.probe = settings;
        self
    }

    /// Adds the Bedrock settings (for `kind: bedrock`).
    #[must_use]
    pub fn with_bedrock(mut self, settings: BedrockSettings) -> Self {
        self.bedrock = Some(settings);
        self
    }

    /// Sets the URL shape (for presets, `azure_openai` and `gemini`).
    #[must_use]
    pub fn with_wire(mut self, wire: WireSettings) -> Self {
        self.wire = wire;
        self
    }

    /// Adds the Anthropic settings (for `kind: anthropic`).
    #[must_use]
    pub fn with_anthropic(mut self, settings: AnthropicSettings) -> Self {
        self.anthropic = Some(settings);
        self
    }

    /// Whether this provider can be used now (a credential can disappear when its file is removed).
    #[must_use]
    pub fn state(&self) -> TargetState {
        if let Some(b) = &self.bedrock {
            let secrets = [
                Some(&b.access_key_id),
                Some(&b.secret_access_key),
                b.session_token.as_ref(),
            ];
            for secret in secrets.into_iter().flatten() {
                if let Err(reason) = secret.get() {
                    return TargetState::Disabled(format!("AWS credential unavailable: {reason}"));
                }
            }
        }
        match &self.api_key {
            Some(secret) => match secret.get() {
                Ok(_) => TargetState::Enabled,
                Err(reason) => TargetState::Disabled(format!("credential unavailable: {reason}")),
            },
            None => TargetState::Enabled,
        }
    }

    /// The next endpoint, round-robin.
    #[must_use]
    pub fn next_endpoint(&self) -> &str {
        let i = self.cursor.fetch_add(1, Ordering::Relaxed);
        self.endpoints
            .get(i % self.endpoints.len().max(1))
            .map_or("", String::as_str)
    }
}
