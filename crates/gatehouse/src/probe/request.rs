//! What a probe sends to each provider kind — always a `GET`, never a generation call — and what counts as a pass.
//!
//! | kind | default probe | credential | passes on |
//! |---|---|---|---|
//! | `openai_compatible`, `openai` | `GET {base}{prefix}/models` (`/v1/models`) | `Authorization: Bearer` | 2xx |
//! | `azure_openai` | `GET {base}/openai/models?api-version=…` | `api-key` | 2xx |
//! | `anthropic` | `GET {base}/v1/models` | `x-api-key`, `anthropic-version` | 2xx |
//! | `gemini` | `GET {base}/v1beta/models` | `x-goog-api-key` | 2xx |
//! | `bedrock` | `GET {base}/` unsigned: a reachability check (TCP + TLS + an HTTP answer) | none | any status below 500 |
//! | `vllm_pool` | `GET {replica}/health` on every replica | `Authorization: Bearer` when set | 2xx |
//!
//! Bedrock Runtime has no list or ping operation (listing models is the control plane, another host and
//! connection): an unsigned request is refused by AWS without reaching a model, which proves the endpoint and the
//! pooled TLS connection are alive and bills nothing. A `path` override keeps the kind's credential headers and
//! passes on 2xx only.

use http::header::{ACCEPT, AUTHORIZATION};
use http::{HeaderName, HeaderValue, StatusCode};

use crate::config::spec::ProviderKind;
use crate::snapshot::Provider;
use crate::upstream::UpstreamBody;

/// The default path (and query) probed for `p`'s kind.
#[must_use]
pub fn default_path(p: &Provider) -> String {
    match p.kind {
        ProviderKind::OpenaiCompatible | ProviderKind::Openai | ProviderKind::Gemini => {
            format!("{}/models", p.wire.api_prefix)
        }
        ProviderKind::AzureOpenai => match &p.wire.api_version {
            Some(v) => format!("/openai/models?api-version={v}"),
            None => "/openai/models".to_string(),
        },
        ProviderKind::Anthropic => "/v1/models".to_string(),
        ProviderKind::Bedrock => "/".to_string(),
        ProviderKind::VllmPool => "/health".to_string(),
    }
}

/// The probe request for one endpoint of `p`.
///
/// # Errors
///
/// A short reason when the request cannot be built (credential unavailable or not a header value).
pub fn build(p: &Provider, endpoint: &str, path: Option<&str>) -> Result<http::Request<UpstreamBody>, String> {
    let path = path.map_or_else(|| default_path(p), str::to_string);
    let mut b = http::Request::get(format!("{endpoint}{path}")).header(ACCEPT, "application/json");
    if let Some((name, value)) = credential(p)? {
        b = b.header(name, value);
    }
    if p.kind == ProviderKind::Anthropic
        && let Some(a) = &p.anthropic
    {
        b = b.header(HeaderName::from_static("anthropic-version"), a.version.clone());
    }
    b.body(UpstreamBody::default())
        .map_err(|e| format!("cannot build the probe request: {e}"))
}

/// Whether a probe answered with `status` passed.
#[must_use]
pub fn passes(kind: ProviderKind, path_overridden: bool, status: StatusCode) -> bool {
    if kind == ProviderKind::Bedrock && !path_overridden {
        return !status.is_server_error();
    }
    status.is_success()
}

/// The provider's credential header, marked sensitive so it is never logged.
fn credential(p: &Provider) -> Result<Option<(HeaderName, HeaderValue)>, String> {
    let Some(secret) = &p.api_key else {
        return Ok(None);
    };
    if p.kind == ProviderKind::Bedrock {
        return Ok(None);
    }
    let key = secret.get().map_err(|r| format!("credential unavailable: {r}"))?;
    let (name, prefix) = match p.kind {
        ProviderKind::AzureOpenai => (HeaderName::from_static("api-key"), ""),
        ProviderKind::Anthropic => (HeaderName::from_static("x-api-key"), ""),
        ProviderKind::Gemini => (HeaderName::from_static("x-goog-api-key"), ""),
        _ => (AUTHORIZATION, "Bearer "),
    };
    let mut v = HeaderValue::from_str(&format!("{prefix}{key}"))
        .map_err(|_| "credential is not a valid header value".to_string())?;
    v.set_sensitive(true);
    Ok(Some((name, v)))
}
