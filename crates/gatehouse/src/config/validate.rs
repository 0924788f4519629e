//! Spec → runtime: every semantic check, all errors collected, each located through the node tree.
//!
//! Checks here are the ones serde cannot express: addresses and URLs that parse, fields that only make
//! sense for some provider kinds, unique model names, targets that name an existing provider, limits
//! that are not zero, and required models whose credentials must resolve.

mod kinds;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

mod auth;
mod failover;
mod governance;
mod health;
mod mcp;
mod metering;
mod responses;
mod routing;
mod traces;

use super::node::Node;
use gatehouse_llm::anthropic::{ModelRules, Sampling};

use super::spec::{AccessLogTarget, ConfigSpec, ProviderKind, ProviderSpec, SamplingSpec, SecretSpec, TargetSpec};
use super::{ConfigError, ConfigErrors, EnvLookup, format_path, suggest};
use crate::secret::{Secret, SecretSource};
use crate::snapshot::{AnthropicSettings, Model, Provider, ServerSettings, Snapshot, Target, TargetState};
use crate::upstream::{Timeouts, UpstreamClient};

/// Collects errors with their field path; locations are resolved at the end.
struct Errors<'a> {
    root: &'a Node,
    file: &'a Path,
    list: Vec<ConfigError>,
}

impl Errors<'_> {
    fn push(&mut self, path: &[&str], message: impl Into<String>) {
        let segs: Vec<String> = path.iter().map(|s| (*s).to_string()).collect();
        let loc = self.root.locate(&segs);
        self.list.push(ConfigError {
            file: self.file.to_path_buf(),
            line: loc.line,
            col: loc.col,
            path: format_path(&segs),
            message: message.into(),
        });
    }
}

/// Builds the runtime snapshot or returns every problem.
pub fn build(mut spec: ConfigSpec, root: &Node, file: &Path, env: EnvLookup<'_>) -> Result<Snapshot, ConfigErrors> {
    // `redis: { url: "${REDIS_URL:-}" }` with the variable unset or empty means no Redis: one config file serves a
    // single binary (in-process limits) and a deployment that sets the variable.
    if spec.redis.as_ref().is_some_and(|r| r.url.trim().is_empty()) {
        spec.redis = None;
    }
    let mut errs = Errors {
        root,
        file,
        list: Vec::new(),
    };

    let listen = addr(&mut errs, "listen", spec.listen.as_deref().unwrap_or("0.0.0.0:8080"));
    let admin = addr(&mut errs, "admin", spec.admin.as_deref().unwrap_or("127.0.0.1:9090"));
    let server = server_settings(&mut errs, &spec);

    let mut providers = BTreeMap::new();
    for (name, p) in &spec.providers {
        if let Some(provider) = provider(&mut errs, name, p, env) {
            providers.insert(name.clone(), Arc::new(provider));
        }
    }

    let mut models = Vec::new();
    let mut by_name: HashMap<String, Arc<Model>> = HashMap::new();
    for (i, m) in spec.models.iter().enumerate() {
        let idx = i.to_string();
        if m.name.trim().is_empty() {
            errs.push(&["models", &idx, "name"], "model name must not be empty");
        }
        if m.targets.is_empty() {
            errs.push(&["models", &idx, "targets"], "a model needs at least one target");
        }
        let mut targets = Vec::new();
        let groups = health::target_groups(&mut errs, &idx, m);
        for (j, t) in m.targets.iter().enumerate() {
            let jdx = j.to_string();
            let Some(provider) = providers.get(&t.provider) else {
                if spec.providers.contains_key(&t.provider) {
                    continue; // the provider itself is invalid and already reported
                }
                let mut msg = format!("target points at provider `{}`, which does not exist", t.provider);
                if let Some(s) = suggest::closest(&t.provider, spec.providers.keys().map(String::as_str)) {
                    msg.push_str(&format!(", did you mean `{s}`?"));
                }
                errs.push(&["models", &idx, "targets", &jdx, "provider"], msg);
                continue;
            };
            if let (true, TargetState::Disabled(reason)) = (m.required, provider.state()) {
                errs.push(
                    &["models", &idx, "targets", &jdx, "provider"],
                    format!(
                        "model is `required` but provider `{}` is disabled: {reason}",
                        t.provider
                    ),
                );
            }
            let rules = target_rules(&mut errs, &["models", &idx, "targets", &jdx], provider.kind, t);
            kinds::check_target(
                &mut errs,
                &["models", &idx, "targets", &jdx],
                provider.kind,
                t.model.as_deref().unwrap_or(&m.name),
            );
            let split = routing::target_split(&mut errs, &["models", &idx, "targets", &jdx], provider.kind, t);
            targets.push(Target {
                provider: provider.clone(),
                upstream_model: t.model.clone().unwrap_or_else(|| m.name.clone()),
                split,
                rules,
                priority: groups[j].0,
                weight: groups[j].1,
            });
        }
        let model = Arc::new(Model {
            name: m.name.clone(),
            aliases: m.aliases.clone(),
            targets,
        });
        for (k, name) in std::iter::once(&m.name).chain(m.aliases.iter()).enumerate() {
            let path: Vec<String> = if k == 0 {
                vec!["models".into(), idx.clone(), "name".into()]
            } else {
                vec!["models".into(), idx.clone(), "aliases".into(), (k - 1).to_string()]
            };
            if by_name.insert(name.clone(), model.clone()).is_some() {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                errs.push(
                    &p,
                    format!("the model name `{name}` is already used by another model or alias"),
                );
            }
        }
        models.push(model);
    }

    let mcp = spec
        .mcp
        .as_ref()
        .and_then(|m| mcp::build(&mut errs, m, env))
        .map(Arc::new);
    let pricing = Arc::new(metering::build(&mut errs, spec.pricing.as_ref()));
    let policy = Arc::new(governance::build(&mut errs, &spec));

    let failover = failover::build(&mut errs, &spec.failover);
    let response_store = responses::build(&mut errs, spec.responses.as_ref(), spec.redis.is_some());
    let traces = traces::build(&mut errs, spec.telemetry.traces.as_ref(), env).map(Arc::new);

    if !errs.list.is_empty() {
        return Err(ConfigErrors(errs.list));
    }
    let redacted = serde_json::to_value(&spec).unwrap_or_default();
    Ok(Snapshot {
        source: file.to_path_buf(),
        listen,
        admin,
        providers,
        models,
        by_name,
        server,
        access_log: spec.telemetry.access_log.unwrap_or(AccessLogTarget::Stdout),
        redacted,
        mcp,
        policy,
        pricing,
        failover,
        retry_budget: crate::health::RetryBudget::default(),
        response_store,
        traces,
    })
}

fn addr(errs: &mut Errors<'_>, field: &str, value: &str) -> SocketAddr {
    value.parse().unwrap_or_else(|_| {
        errs.push(
            &[field],
            format!("invalid address `{value}`: expected host:port such as `127.0.0.1:8080`"),
        );
        SocketAddr::from(([127, 0, 0, 1], 0))
    })
}

fn server_settings(errs: &mut Errors<'_>, spec: &ConfigSpec) -> ServerSettings {
    let s = &spec.server;
    let mut nonzero = |field: &str, v: u64| {
        if v == 0 {
            errs.push(&["server", field], "must be greater than zero");
        }
        usize::try_from(v).unwrap_or(usize::MAX)
    };
    let max_body_bytes = nonzero("max_body_bytes", s.max_body_bytes.map_or(32 << 20, |b| b.0));
    let max_header_bytes = nonzero("max_header_bytes", s.max_header_bytes.map_or(64 << 10, |b| b.0));
    let max_headers = nonzero("max_headers", s.max_headers.map_or(100, |v| v as u64));
    let max_connections = nonzero("max_connections", s.max_connections.map_or(10_000, |v| v as u64));
    if max_header_bytes < 8192 {
        errs.push(&["server", "max_header_bytes"], "must be at least 8KiB (8192)");
    }
    let dur = |d: Option<super::units::HumanDuration>, default: u64| {
        d.map_or(std::time::Duration::from_secs(default), |d| d.0)
    };
    let header_read_timeout = dur(s.header_read_timeout, 10);
    let body_read_timeout = dur(s.body_read_timeout, 60);
    let drain_timeout = dur(s.drain_timeout, 30);
    let shutdown_delay = dur(s.shutdown_delay, 0);
    for (field, d) in [
        ("header_read_timeout", header_read_timeout),
        ("body_read_timeout", body_read_timeout),
    ] {
        if d.is_zero() {
            errs.push(&["server", field], "must be greater than zero");
        }
    }
    ServerSettings {
        max_body_bytes,
        max_header_bytes,
        max_headers,
        header_read_timeout,
        body_read_timeout,
        max_connections,
        drain_timeout,
        shutdown_delay,
    }
}

fn provider(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec, env: EnvLookup<'_>) -> Option<Provider> {
    let before = errs.list.len();
    let endpoints = match p.kind {
        ProviderKind::OpenaiCompatible => {
            let urls = match (&p.base_url, p.preset.as_deref().and_then(super::presets::find)) {
                (Some(u), _) => vec![check_url(errs, name, "base_url", None, u)],
                (None, Some(preset)) => vec![preset.base_url.to_string()],
                (None, None) if p.preset.is_some() => Vec::new(), // unknown preset: reported by `kinds::wire`
                (None, None) => {
                    errs.push(
                        &["providers", name, "kind"],
                        "an `openai_compatible` provider needs `base_url`",
                    );
                    Vec::new()
                }
            };
            if p.endpoints.is_some() {
                errs.push(
                    &["providers", name, "endpoints"],
                    "`endpoints` is only valid for `kind: vllm_pool`; use `base_url`",
                );
            }
            if p.picker.is_some() {
                errs.push(
                    &["providers", name, "picker"],
                    "`picker` is only valid for `kind: vllm_pool`",
                );
            }
            urls
        }
        ProviderKind::Openai | ProviderKind::AzureOpenai | ProviderKind::Gemini | ProviderKind::Bedrock => {
            kinds::hosted_url(errs, name, p)
        }
        ProviderKind::Anthropic => {
            let url = p.base_url.as_deref().unwrap_or(ANTHROPIC_BASE_URL);
            let urls = vec![check_url(errs, name, "base_url", None, url)];
            for (field, set) in [("endpoints", p.endpoints.is_some()), ("picker", p.picker.is_some())] {
                if set {
                    errs.push(
                        &["providers", name, field],
                        format!("`{field}` is only valid for `kind: vllm_pool`"),
                    );
                }
            }
            urls
        }
        ProviderKind::VllmPool => {
            if p.base_url.is_some() {
                errs.push(
                    &["providers", name, "base_url"],
                    "`base_url` is not valid for `kind: vllm_pool`; list replicas in `endpoints`",
                );
            }
            routing::pool_endpoints(errs, name, p)
        }
    };
    let d = Timeouts::default();
    let t = &p.timeouts;
    let timeouts = Timeouts {
        connect: t.connect.map_or(d.connect, |v| v.0),
        first_byte: t.first_byte.map_or(d.first_byte, |v| v.0),
        idle: t.idle.map_or(d.idle, |v| v.0),
        total: t.total.map_or(d.total, |v| v.0),
    };
    for (field, v) in [
        ("connect", timeouts.connect),
        ("first_byte", timeouts.first_byte),
        ("idle", timeouts.idle),
        ("total", timeouts.total),
    ] {
        if v.is_zero() {
            errs.push(&["providers", name, "timeouts", field], "must be greater than zero");
        }
    }
    let api_key = p.api_key.as_ref().map(|s| Arc::new(resolve_secret(s, env)));
    let client = match UpstreamClient::new(timeouts.connect) {
        Ok(c) => c,
        Err(e) => {
            errs.push(&["providers", name], format!("cannot build an HTTP client: {e}"));
            return None;
        }
    };
    let anthropic = anthropic_settings(errs, name, p);
    let pool = routing::pool_settings(errs, name, p);
    let membership = pool
        .as_ref()
        .map(|s| routing::membership(errs, name, p, &endpoints, &s.metrics_path));
    let wire = kinds::wire(errs, name, p);
    let bedrock = kinds::bedrock(errs, name, p, env);
    let probe = health::probe_settings(errs, name, p.health.as_ref());
    if errs.list.len() > before {
        return None;
    }
    let mut provider = Provider::new(name.to_string(), p.kind, endpoints, api_key, timeouts, client)
        .with_wire(wire)
        .with_probe(probe);
    if let (Some(settings), Some(membership)) = (pool, membership) {
        provider = crate::pool::attach(provider, settings, membership);
    }
    if let Some(a) = anthropic {
        provider = provider.with_anthropic(a);
    }
    if let Some(b) = bedrock {
        provider = provider.with_bedrock(b);
    }
    Some(provider)
}

/// A secret from its spec (resolution failures disable the provider later, they are not config errors).
fn resolve_secret(s: &SecretSpec, env: EnvLookup<'_>) -> Secret {
    match s {
        SecretSpec::Env(var) => Secret::resolve(SecretSource::Env(var.clone()), None, env),
        SecretSpec::File(path) => Secret::resolve(SecretSource::File(path.clone()), None, env),
        SecretSpec::Value(v) => Secret::resolve(SecretSource::Inline, Some(v.clone()), env),
    }
}

/// The public Anthropic API, used when an `anthropic` provider sets no `base_url`.
const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` sent when the provider sets none (the only version the API has published).
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Anthropic header settings, checked as header values now so a bad one never reaches the data path.
fn anthropic_settings(errs: &mut Errors<'_>, name: &str, p: &ProviderSpec) -> Option<AnthropicSettings> {
    if p.kind != ProviderKind::Anthropic {
        for (field, set) in [
            ("anthropic_version", p.anthropic_version.is_some()),
            ("allowed_betas", !p.allowed_betas.is_empty()),
        ] {
            if set {
                errs.push(
                    &["providers", name, field],
                    format!("`{field}` is only valid for `kind: anthropic`"),
                );
            }
        }
        return None;
    }
    let raw = p.anthropic_version.as_deref().unwrap_or(ANTHROPIC_VERSION);
    let version = match http::HeaderValue::from_str(raw) {
        Ok(v) if !raw.trim().is_empty() => v,
        _ => {
            errs.push(
                &["providers", name, "anthropic_version"],
                format!("`{raw}` is not a valid header value"),
            );
            http::HeaderValue::from_static(ANTHROPIC_VERSION)
        }
    };
    for (i, beta) in p.allowed_betas.iter().enumerate() {
        let ok = !beta.is_empty()
            && beta
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            errs.push(
                &["providers", name, "allowed_betas", &i.to_string()],
                format!("`{beta}` is not a beta name (letters, digits, `-` and `_`)"),
            );
        }
    }
    Some(AnthropicSettings {
        version,
        allowed_betas: p.allowed_betas.clone(),
    })
}

/// A target's translation rules; the knobs only mean something on translated providers, so they are refused on
/// passthrough ones rather than silently ignored.
fn target_rules(errs: &mut Errors<'_>, path: &[&str], kind: ProviderKind, t: &TargetSpec) -> ModelRules {
    let d = ModelRules::default();
    if matches!(kind, ProviderKind::Gemini | ProviderKind::Bedrock) {
        return kinds::gemini_rules(errs, path, t);
    }
    if kind != ProviderKind::Anthropic {
        for (field, set) in [
            ("max_tokens_default", t.max_tokens_default.is_some()),
            ("sampling", t.sampling.is_some()),
            ("drop_unsupported", t.drop_unsupported.is_some()),
        ] {
            if set {
                let mut p = path.to_vec();
                p.push(field);
                errs.push(
                    &p,
                    format!("`{field}` only applies to translated providers (`kind: anthropic`, `gemini`)"),
                );
            }
        }
        return d;
    }
    if t.max_tokens_default == Some(0) {
        let mut p = path.to_vec();
        p.push("max_tokens_default");
        errs.push(&p, "must be greater than zero");
    }
    ModelRules {
        max_tokens_default: t.max_tokens_default.filter(|v| *v > 0).unwrap_or(d.max_tokens_default),
        sampling: match t.sampling {
            None => d.sampling,
            Some(SamplingSpec::Both) => Sampling::Both,
            Some(SamplingSpec::Exclusive) => Sampling::Exclusive,
            Some(SamplingSpec::None) => Sampling::None,
        },
        drop_unsupported: t.drop_unsupported.unwrap_or(d.drop_unsupported),
    }
}

/// Checks one upstream URL and returns it without a trailing slash.
fn check_url(errs: &mut Errors<'_>, name: &str, field: &str, idx: Option<usize>, url: &str) -> String {
    let i = idx.map(|i| i.to_string());
    let mut path = vec!["providers", name, field];
    if let Some(i) = &i {
        path.push(i);
    }
    match url.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() && u.query().is_none() => {}
        _ => errs.push(
            &path,
            format!("invalid URL `{url}`: expected http(s)://host[:port][/path]"),
        ),
    }
    // `/v1` is appended per route, so a base URL written the SDK way (`https://api.openai.com/v1`) is accepted too.
    let base = url.trim_end_matches('/');
    base.strip_suffix("/v1").unwrap_or(base).to_string()
}
