//! The config file's shape: serde + schemars types, exactly as written by a platform engineer.
//!
//! These types are never used on the data path. `validate.rs` turns them into the runtime snapshot,
//! reporting every problem with its location. `gatehouse schema` prints the JSON Schema derived here.
//! Every struct rejects unknown fields so a typo is an error, not a silently ignored setting.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};

use super::units::{ByteSize, HumanDuration};

pub mod auth;
pub mod governance;
pub mod health;
pub mod mcp;
pub mod metering;
pub mod responses;
pub mod telemetry;

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Data-plane listen address (default `0.0.0.0:8080`).
    #[serde(default)]
    pub listen: Option<String>,
    /// Admin listen address for /healthz, /readyz, /metrics, /config, /status (default `127.0.0.1:9090`).
    #[serde(default)]
    pub admin: Option<String>,
    /// Named upstreams that model targets point at.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSpec>,
    /// The models clients may ask for, each with targets in priority order.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// Listener limits and shutdown behaviour.
    #[serde(default)]
    pub server: ServerSpec,
    /// Logs and telemetry.
    #[serde(default)]
    pub telemetry: TelemetrySpec,
    /// The MCP gateway (absent: `/mcp` is not served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<mcp::McpSpec>,
    /// Caller identities on the LLM routes (absent: the LLM routes are open to anyone who can reach them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<governance::AuthSpec>,
    /// Request, token and concurrency limits on the LLM routes, evaluated in order (docs/limits.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<governance::LimitSpec>,
    /// The price table that turns usage into cost (docs/metering.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<metering::PricingSpec>,
    /// Spend budgets per key or team and calendar period (docs/metering.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<governance::BudgetSpec>,
    /// Shared Redis for request-rate limits across replicas (docs/limits.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<governance::RedisSpec>,
    /// Retries, backoff and ejection across a model's targets (docs/failover.md).
    #[serde(default)]
    pub failover: FailoverSpec,
    /// The OpenAI Responses API route: its response store (docs/responses.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<responses::ResponsesSpec>,
}

/// Failover rules: how often and when a request is tried again on another (or the same) target, and when a
/// failing target leaves rotation. Every field is optional; the defaults are in docs/configuration.md.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailoverSpec {
    /// Most attempts per request, the first included (default 3; 1 disables retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Retries allowed as a fraction of the requests of the last 10 seconds (default 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<f64>,
    /// Retries always allowed per second on top of the fraction (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_budget_min_per_sec: Option<u32>,
    /// First backoff between two attempts on the same target (default 50ms), doubled each time, with jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_base: Option<HumanDuration>,
    /// Longest backoff (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_max: Option<HumanDuration>,
    /// Longest upstream `Retry-After` honoured (default 2s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_cap: Option<HumanDuration>,
    /// Consecutive failures (5xx, connect errors, timeouts) that eject a target (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejection_threshold: Option<u32>,
    /// First ejection time (default 5s), doubled on each repeated ejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejection_base: Option<HumanDuration>,
    /// Longest ejection time (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejection_max: Option<HumanDuration>,
    /// How long a stream's first event is awaited (within the first-byte timeout) to catch a "200 then error"
    /// before the response head goes to the client (default 1s; 0 disables the check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_wait: Option<HumanDuration>,
}

/// Which protocol a provider speaks and how it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any host speaking the OpenAI API (vLLM behind one URL, Together, Groq, ...); `preset` names a known one.
    OpenaiCompatible,
    /// A set of self-hosted vLLM replicas balanced by gatehouse.
    VllmPool,
    /// Anthropic's Messages API: OpenAI chat completions are translated to `POST /v1/messages` and back.
    Anthropic,
    /// OpenAI itself: passthrough, `base_url` defaults to `https://api.openai.com`.
    Openai,
    /// Azure OpenAI: passthrough to `/openai/deployments/{target model}/...?api-version=...` with an `api-key`
    /// header.
    AzureOpenai,
    /// Google's Gemini API: OpenAI chat completions are translated to `generateContent` /
    /// `streamGenerateContent?alt=sse` and back, with an `x-goog-api-key` header.
    Gemini,
    /// AWS Bedrock Converse / ConverseStream, signed with SigV4.
    Bedrock,
}

/// How replicas of a vLLM pool are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PickerKind {
    /// In turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// Fewest requests in flight from this gateway.
    LeastRequest,
    /// Scraped queue depth, KV-cache use, prefix affinity and LoRA affinity (docs/routing.md).
    #[default]
    Inference,
}

/// A named upstream.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// The protocol and reachability kind.
    pub kind: ProviderKind,
    /// `openai_compatible`: base URL, e.g. `https://api.groq.com/openai` (the `/v1/...` path is appended).
    /// `anthropic`: defaults to `https://api.anthropic.com`; `openai`: `https://api.openai.com`; `gemini`:
    /// `https://generativelanguage.googleapis.com`; `azure_openai`: required (`https://{resource}.openai.azure.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `vllm_pool`: replica base URLs (each may be `{ url, metrics_url }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<super::routing_spec::EndpointSpec>>,
    /// `vllm_pool`: follow a DNS name instead of listing `endpoints` (`host:port` or `{ name, port, ... }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<super::routing_spec::DnsSpec>,
    /// `vllm_pool`: replica picking policy (default `inference`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picker: Option<PickerKind>,
    /// `vllm_pool`: metrics scraping, scorer weights, prefix table, objectives and shedding (docs/routing.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<super::routing_spec::RoutingSpec>,
    /// Credential sent as `Authorization: Bearer` (`x-api-key` for `anthropic`); missing credential disables
    /// the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<SecretSpec>,
    /// `anthropic`: the `anthropic-version` header sent upstream (default `2023-06-01`, the only current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic_version: Option<String>,
    /// `anthropic`: `anthropic-beta` values a client may pass through; any other value is dropped (and logged),
    /// because a beta can change billing or behaviour and is the operator's decision. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_betas: Vec<String>,
    /// `azure_openai`: the `api-version` query parameter sent on every request (default `2024-10-21`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `openai_compatible`: a known host's base URL and auth convention (`groq`, `together`, `fireworks`,
    /// `deepinfra`, `openrouter`, `mistral`, `ollama`, ...); `base_url` then overrides only the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// `bedrock`: the AWS region, e.g. `us-east-1` (required; also picks the default endpoint
    /// `https://bedrock-runtime.{region}.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `bedrock`: static AWS credentials; default: the `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (when set)
    /// `AWS_SESSION_TOKEN` environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsCredentialsSpec>,
    /// Upstream timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsSpec,
    /// Active health probes (absent: not probed; docs/failover.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<health::HealthSpec>,
}

/// AWS credentials for SigV4, each a secret (env, file or value).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsCredentialsSpec {
    /// The access key id (`AKIA…` / `ASIA…`).
    pub access_key_id: SecretSpec,
    /// The secret access key.
    pub secret_access_key: SecretSpec,
    /// The session token of temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<SecretSpec>,
}

/// Where a secret comes from. Files are re-read when they change (Kubernetes secret rotation).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSpec {
    /// An environment variable name.
    Env(String),
    /// A file path; the whole file (trimmed) is the secret.
    File(PathBuf),
    /// The secret itself (use with `${VAR}` interpolation; prefer `env` or `file`).
    Value(String),
}

/// Upstream timeouts; every phase has a default.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsSpec {
    /// TCP + TLS connect (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<HumanDuration>,
    /// Until the response headers arrive (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<HumanDuration>,
    /// Longest silence between two chunks of a streamed body (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<HumanDuration>,
    /// Whole exchange including the full response body (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<HumanDuration>,
}

/// A model clients can ask for.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The name clients use (`model` field or `X-Gateway-Base-Model-Name`).
    pub name: String,
    /// Other names for the same model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Targets in priority order.
    pub targets: Vec<TargetSpec>,
    /// When true, a target with a missing credential is a config error instead of a disabled target.
    #[serde(default)]
    pub required: bool,
}

/// One way of serving a model.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Name of a provider in `providers`.
    pub provider: String,
    /// Model name sent upstream (default: the model's own name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `vllm_pool` targets: instead of `model`, a weighted split over upstream models (base model or LoRA
    /// adapters), e.g. a canary of a new adapter version. Chosen per request, before the replica is picked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<super::routing_spec::WeightedModelSpec>,
    /// Translated targets (`anthropic`): `max_tokens` sent when the client gives none (Anthropic requires one;
    /// default 4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_default: Option<u32>,
    /// Translated targets: which sampling parameters the upstream model accepts (default `exclusive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingSpec>,
    /// Translated targets: drop parameters with no upstream meaning (`n` > 1, `logprobs`, `seed`, ...) instead of
    /// answering 400 naming them (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_unsupported: Option<bool>,
    /// Priority group (lower is preferred). When one target of a model sets it, all must; absent everywhere, the
    /// list order is the priority (docs/failover.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Share of its priority group's traffic (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// Which sampling parameters a translated target's model accepts; the gateway never sends a combination the
/// model rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SamplingSpec {
    /// `temperature`, `top_p` and `top_k` may be sent together (Claude models before Opus 4.1 / Sonnet 4.5).
    Both,
    /// `temperature` and `top_p` are mutually exclusive; when a client sends both, `temperature` is kept.
    Exclusive,
    /// The model takes no sampling parameters; they are never sent (non-default values reported as dropped).
    None,
}

/// Listener limits and shutdown.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Largest accepted request body (default 32MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<ByteSize>,
    /// Largest request head, request line plus headers (default 64KiB; minimum 8KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_header_bytes: Option<ByteSize>,
    /// Most request headers (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_headers: Option<usize>,
    /// Time allowed to receive the request head (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_read_timeout: Option<HumanDuration>,
    /// Time allowed to receive the request body (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_read_timeout: Option<HumanDuration>,
    /// Most concurrent client connections (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// How long in-flight requests may run after SIGTERM (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_timeout: Option<HumanDuration>,
    /// After SIGTERM, how long `/readyz` reports unready while new connections are still served, so a load balancer
    /// polling readiness stops sending before the listener closes (default 0s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_delay: Option<HumanDuration>,
}

/// Where logs go.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySpec {
    /// Access log destination (default `stdout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogTarget>,
    /// OpenTelemetry trace export (docs/observability.md). `otlp:` is accepted as another name for it, the spelling
    /// of the design's example config, so a config written from that example works as written.
    #[serde(default, alias = "otlp", skip_serializing_if = "Option::is_none")]
    pub traces: Option<telemetry::TracesSpec>,
}

/// Access log destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLogTarget {
    /// One JSON line per request on stdout.
    #[default]
    Stdout,
    /// One JSON line per request on stderr.
    Stderr,
    /// No access log.
    Off,
}

// === impl SecretSpec ===

/// Secrets serialize with their source but never their value, so `/config` cannot leak them.
impl Serialize for SecretSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::Env(name) => m.serialize_entry("env", name)?,
            Self::File(path) => m.serialize_entry("file", path)?,
            Self::Value(_) => m.serialize_entry("value", "<redacted>")?,
        }
        m.end()
    }
}

/// The top-level field names, for "did you mean" on unknown sections.
pub const TOP_LEVEL_FIELDS: &[&str] = &[
    "listen",
    "admin",
    "providers",
    "models",
    "server",
    "telemetry",
    "mcp",
    "auth",
    "limits",
    "pricing",
    "budgets",
    "redis",
    "failover",
    "responses",
];
