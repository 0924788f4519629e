//! `mcp:` spec → [`McpSettings`]: upstream names usable as prefixes, exactly one transport each, URLs and headers
//! that parse, a session key that decodes, sizes and timeouts that are not zero.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_mcp::name::{Mode, Namespace, valid_target};

use super::Errors;
use crate::config::EnvLookup;
use crate::config::spec::SecretSpec;
use crate::config::spec::mcp::{
    AccessSpec, HttpTransportSpec, McpAuthSpec, McpRateLimitSpec, McpSpec, NamesSpec, RateKeySpec,
};
use crate::limit::keyed::DEFAULT_MAX_KEYS;
use crate::limit::{Gcra, KeyedLimiter, TokioClock};
use crate::mcp::policy::{Condition, Pattern, Policy, RateLimit, Rule, Test};
use crate::mcp::settings::{MAX_CHILDREN_PER_UPSTREAM, McpRuntime, StatelessBounds};
use crate::mcp::token::SessionKey;
use crate::mcp::{McpAuth, McpSettings, Transport, UpstreamDef};
use crate::secret::{Secret, SecretSource};
use crate::upstream::UpstreamClient;

/// Default `mcp.max_message_bytes`.
const DEFAULT_MAX_MESSAGE: u64 = 4 << 20;
/// Default `mcp.request_timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) fn build(errs: &mut Errors<'_>, spec: &McpSpec, env: EnvLookup<'_>) -> Option<McpSettings> {
    let before = errs.list.len();
    if spec.upstreams.is_empty() {
        errs.push(&["mcp", "upstreams"], "the MCP gateway needs at least one upstream");
    }
    let mut upstreams = Vec::new();
    for (name, u) in &spec.upstreams {
        if !valid_target(name) {
            errs.push(
                &["mcp", "upstreams", name],
                format!(
                    "upstream name `{name}` must be 1-32 letters, digits or `-` (it prefixes tool names; `_` separates)"
                ),
            );
        }
        let transport = match (&u.url, u.command.is_empty()) {
            (Some(url), true) => {
                if !u.env.is_empty() {
                    errs.push(&["mcp", "upstreams", name, "env"], "`env` is only valid with `command`");
                }
                http_transport(errs, name, url, u, env)
            }
            (None, false) => {
                if u.transport.is_some() {
                    errs.push(
                        &["mcp", "upstreams", name, "transport"],
                        "`transport` is only valid with `url`",
                    );
                }
                if !u.headers.is_empty() {
                    errs.push(
                        &["mcp", "upstreams", name, "headers"],
                        "`headers` is only valid with `url`",
                    );
                }
                let program = u.command[0].clone();
                if program.trim().is_empty() {
                    errs.push(&["mcp", "upstreams", name, "command"], "the program must not be empty");
                }
                Some(Transport::Stdio {
                    program,
                    args: u.command[1..].to_vec(),
                    env: u.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                })
            }
            (Some(_), false) => {
                errs.push(&["mcp", "upstreams", name], "set either `url` or `command`, not both");
                None
            }
            (None, true) => {
                errs.push(
                    &["mcp", "upstreams", name],
                    "an upstream needs `url` (Streamable HTTP) or `command` (stdio)",
                );
                None
            }
        };
        if let Some(transport) = transport {
            upstreams.push(Arc::new(UpstreamDef {
                name: name.clone(),
                transport,
            }));
        }
    }
    let mode = match spec.names.unwrap_or(NamesSpec::Prefix) {
        NamesSpec::Prefix => Mode::Prefix,
        NamesSpec::Passthrough => {
            if spec.upstreams.len() != 1 {
                errs.push(
                    &["mcp", "names"],
                    "`passthrough` needs exactly one upstream: names of several upstreams could collide",
                );
            }
            Mode::Passthrough
        }
    };
    let max_message_bytes = spec.max_message_bytes.map_or(DEFAULT_MAX_MESSAGE, |b| b.0);
    if let Some(path) = spec.path.as_deref().filter(|p| *p != "/mcp") {
        errs.push(
            &["mcp", "path"],
            format!("`{path}` is not served: the MCP endpoint is mounted at `/mcp` (the only value)"),
        );
    }
    if max_message_bytes == 0 {
        errs.push(&["mcp", "max_message_bytes"], "must be greater than zero");
    }
    let max_pipes_per_upstream = spec.max_pipes_per_upstream.unwrap_or(MAX_CHILDREN_PER_UPSTREAM);
    if max_pipes_per_upstream == 0 {
        errs.push(&["mcp", "max_pipes_per_upstream"], "must be greater than zero");
    }
    let request_timeout = spec.request_timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
    if request_timeout.is_zero() {
        errs.push(&["mcp", "request_timeout"], "must be greater than zero");
    }
    let stateless = stateless_bounds(errs, spec, request_timeout);
    let key = session_key(errs, spec.session_key.as_ref(), env);
    let auth = spec.auth.as_ref().and_then(|a| auth(errs, a));
    let policy = policy(errs, spec);
    let rate_limit = spec.rate_limit.as_ref().and_then(|r| rate_limit(errs, r));
    if errs.list.len() > before {
        return None;
    }
    let (key, key_configured) = key?;
    let ns = Namespace::new(upstreams.iter().map(|u| u.name.clone()).collect(), mode);
    Some(McpSettings {
        key,
        key_configured,
        ns,
        upstreams,
        max_message_bytes: usize::try_from(max_message_bytes).unwrap_or(usize::MAX),
        allowed_origins: spec.allowed_origins.clone(),
        allowed_hosts: spec.allowed_hosts.clone(),
        request_timeout,
        max_pipes_per_upstream,
        stateless,
        auth,
        policy,
        rate_limit,
        runtime: McpRuntime::default(),
    })
}

/// Bounds on upstream sessions and parked calls held for stateless clients: all positive, the input timeout at most
/// `request_timeout`.
fn stateless_bounds(errs: &mut Errors<'_>, spec: &McpSpec, request_timeout: std::time::Duration) -> StatelessBounds {
    let defaults = StatelessBounds::default();
    let max = spec.max_stateless_sessions.unwrap_or(defaults.max);
    if max == 0 {
        errs.push(&["mcp", "max_stateless_sessions"], "must be greater than zero");
    }
    let idle_ttl = spec.stateless_idle_ttl.map_or(defaults.idle_ttl, |d| d.0);
    if idle_ttl.is_zero() {
        errs.push(&["mcp", "stateless_idle_ttl"], "must be greater than zero");
    }
    let input_timeout = spec.stateless_input_timeout.map_or(defaults.input_timeout, |d| d.0);
    if input_timeout.is_zero() {
        errs.push(&["mcp", "stateless_input_timeout"], "must be greater than zero");
    } else if input_timeout > request_timeout {
        errs.push(
            &["mcp", "stateless_input_timeout"],
            format!(
                "must not exceed request_timeout ({}s): a parked call's upstream stream is closed after that long \
                 without a message",
                request_timeout.as_secs()
            ),
        );
    }
    let max_parked = spec.max_stateless_parked_calls.unwrap_or(defaults.max_parked);
    if max_parked == 0 {
        errs.push(&["mcp", "max_stateless_parked_calls"], "must be greater than zero");
    }
    StatelessBounds {
        max,
        idle_ttl,
        input_timeout,
        max_parked,
    }
}

fn http_transport(
    errs: &mut Errors<'_>,
    name: &str,
    url: &str,
    u: &crate::config::spec::mcp::McpUpstreamSpec,
    env: EnvLookup<'_>,
) -> Option<Transport> {
    let uri = match url.parse::<http::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => uri,
        _ => {
            errs.push(
                &["mcp", "upstreams", name, "url"],
                format!("invalid URL `{url}`: expected http(s)://host[:port]/path"),
            );
            return None;
        }
    };
    let mut headers = Vec::new();
    for (h, secret) in &u.headers {
        let Ok(hn) = http::HeaderName::from_bytes(h.as_bytes()) else {
            errs.push(
                &["mcp", "upstreams", name, "headers", h],
                format!("`{h}` is not a header name"),
            );
            continue;
        };
        headers.push((hn, Arc::new(resolve(secret, env))));
    }
    match UpstreamClient::new(Duration::from_secs(5)) {
        Ok(client) if u.transport == Some(HttpTransportSpec::Sse) => Some(Transport::LegacySse {
            url: uri,
            headers,
            client: Box::new(client),
        }),
        Ok(client) => Some(Transport::Http {
            url: uri,
            headers,
            client: Box::new(client),
        }),
        Err(e) => {
            errs.push(&["mcp", "upstreams", name], format!("cannot build an HTTP client: {e}"));
            None
        }
    }
}

fn resolve(s: &SecretSpec, env: EnvLookup<'_>) -> Secret {
    match s {
        SecretSpec::Env(var) => Secret::resolve(SecretSource::Env(var.clone()), None, env),
        SecretSpec::File(path) => Secret::resolve(SecretSource::File(path.clone()), None, env),
        SecretSpec::Value(v) => Secret::resolve(SecretSource::Inline, Some(v.clone()), env),
    }
}

/// A configured key must resolve and decode (replicas that silently fell back to random keys would refuse each
/// other's sessions); no key configured means a random one for this process.
fn session_key(errs: &mut Errors<'_>, spec: Option<&SecretSpec>, env: EnvLookup<'_>) -> Option<(SessionKey, bool)> {
    let Some(spec) = spec else {
        tracing::warn!(
            "mcp.session_key is not set: using a random key; MCP sessions will not survive a restart or move between replicas"
        );
        return match SessionKey::random() {
            Ok(k) => Some((k, false)),
            Err(e) => {
                errs.push(&["mcp", "session_key"], e.to_string());
                None
            }
        };
    };
    let secret = resolve(spec, env);
    match secret.get() {
        Ok(v) => match SessionKey::from_hex(&v) {
            Ok(k) => Some((k, true)),
            Err(e) => {
                errs.push(&["mcp", "session_key"], e.to_string());
                None
            }
        },
        Err(reason) => {
            errs.push(
                &["mcp", "session_key"],
                format!("the session key is unavailable: {reason}"),
            );
            None
        }
    }
}

fn auth(errs: &mut Errors<'_>, spec: &McpAuthSpec) -> Option<McpAuth> {
    let before = errs.list.len();
    let jwt = super::auth::jwt(errs, &["mcp", "auth", "jwt"], &spec.jwt);
    let resource = spec.resource.trim_end_matches('/');
    let metadata_url = match resource.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() && u.query().is_none() => {
            let path = u.path().trim_end_matches('/');
            format!(
                "{}://{}/.well-known/oauth-protected-resource{path}",
                u.scheme_str().unwrap_or("https"),
                u.authority().map(http::uri::Authority::as_str).unwrap_or_default()
            )
        }
        _ => {
            errs.push(
                &["mcp", "auth", "resource"],
                format!(
                    "`{}` is not this endpoint's public URL (e.g. https://gateway.example/mcp)",
                    spec.resource
                ),
            );
            String::new()
        }
    };
    let servers = if spec.authorization_servers.is_empty() {
        vec![spec.jwt.issuer.clone()]
    } else {
        spec.authorization_servers.clone()
    };
    let mut doc = serde_json::json!({
        "resource": resource,
        "authorization_servers": servers,
        "bearer_methods_supported": ["header"],
    });
    if !spec.scopes_supported.is_empty() {
        doc["scopes_supported"] = serde_json::json!(spec.scopes_supported);
    }
    if errs.list.len() > before {
        return None;
    }
    Some(McpAuth {
        jwt: jwt?,
        metadata_url,
        metadata: doc.to_string(),
    })
}

fn policy(errs: &mut Errors<'_>, spec: &McpSpec) -> Policy {
    let mut rules = Vec::new();
    for (i, r) in spec.authorization.iter().enumerate() {
        let idx = i.to_string();
        let pats = |v: &[String]| v.iter().map(|s| Pattern::new(s)).collect::<Vec<_>>();
        if r.allow.tools.is_empty() && r.allow.prompts.is_empty() && r.allow.resources.is_empty() {
            errs.push(
                &["mcp", "authorization", &idx, "allow"],
                "a rule must name at least one tool, prompt or resource",
            );
        }
        let when = r.when.as_ref().and_then(|c| {
            let test = match (&c.equals, &c.contains) {
                (Some(v), None) => Test::Equals(v.clone()),
                (None, Some(v)) => Test::Contains(v.clone()),
                _ => {
                    errs.push(
                        &["mcp", "authorization", &idx, "when"],
                        "set exactly one of `equals` or `contains`",
                    );
                    return None;
                }
            };
            if c.claim.trim().is_empty() {
                errs.push(
                    &["mcp", "authorization", &idx, "when", "claim"],
                    "the claim name must not be empty",
                );
            }
            Some(Condition {
                path: c.claim.split('.').map(str::to_string).collect(),
                test,
            })
        });
        rules.push(Rule {
            tools: pats(&r.allow.tools),
            prompts: pats(&r.allow.prompts),
            resources: pats(&r.allow.resources),
            when,
        });
    }
    Policy {
        rules,
        default_allow: spec.authorization_default != Some(AccessSpec::Deny),
    }
}

fn rate_limit(errs: &mut Errors<'_>, spec: &McpRateLimitSpec) -> Option<RateLimit> {
    let Some(gcra) = Gcra::new(spec.requests_per_second, spec.burst) else {
        errs.push(
            &["mcp", "rate_limit"],
            "`requests_per_second` must be a positive number (at most 1e9) and `burst` at least 1",
        );
        return None;
    };
    Some(RateLimit {
        limiter: KeyedLimiter::new(gcra, Arc::new(TokioClock::new()), DEFAULT_MAX_KEYS),
        per_tool: spec.per == Some(RateKeySpec::CallerAndTool),
    })
}
