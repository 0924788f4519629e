//! OpenAI-compatible targets (`openai_compatible` and its presets, `vllm_pool`, `openai`, `azure_openai`): the
//! body is spliced, not re-serialised — only `model` (and `stream_options.include_usage`, so usage is always
//! recorded) change — and the reply is relayed as the upstream sent it.
//!
//! What differs between these kinds is only the URL and the credential header ([`upstream_uri`], [`auth_header`]):
//! `{base}{prefix}/chat/completions` with `Authorization: Bearer` for OpenAI-style hosts, and
//! `{base}/openai/deployments/{deployment}/chat/completions?api-version=…` with `api-key` for Azure OpenAI.

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::Rewrite;
use http::{HeaderName, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::{ClientRequest, Mode, Prepared, collect_upstream, credential, is_event_stream, json_response};
use crate::body::Passthrough;
use crate::config::spec::ProviderKind;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;
use crate::respond::openai_error;
use crate::snapshot::Provider;

/// Builds the upstream request: spliced body, the provider's bearer token (never the client's).
pub(super) fn prepare(req: &ClientRequest<'_>, endpoint: &str, ctx: &RequestContext) -> Result<Prepared, GatewayError> {
    let stream = ctx.stream;
    // Usage is always recorded: a stream that did not ask for usage gets it anyway (see docs/usage.md).
    let force_include_usage = stream && req.route != Route::Embeddings && !req.parsed.include_usage()?;
    let out = req.parsed.rewrite(&Rewrite {
        model: Some(req.upstream_model),
        force_include_usage,
    });
    let provider = &req.target.provider;
    let uri = upstream_uri(provider, endpoint, req.route, req.upstream_model);
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .header(crate::request_id::HEADER, ctx.id.as_str());
    let (name, prefix) = auth_header(provider.kind);
    if let Some(v) = credential(provider, req.model, prefix)? {
        // The client's own Authorization is never copied; only the provider's credential is sent.
        builder = builder.header(name, v);
    }
    let upstream = builder
        .body(Full::new(Bytes::from(out)))
        .map_err(|e| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: format!("cannot build the upstream request: {e}"),
        })?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::Passthrough,
    })
}

/// The upstream URL for `route`. Azure addresses a deployment (the target's model, checked at load time to be a
/// plain path segment) and pins the API version in the query; everyone else is `{base}{prefix}{route}`.
pub(super) fn upstream_uri(provider: &Provider, endpoint: &str, route: Route, upstream_model: &str) -> String {
    let suffix = route
        .upstream_path()
        .strip_prefix("/v1")
        .unwrap_or(route.upstream_path());
    let wire = &provider.wire;
    match (provider.kind, &wire.api_version) {
        (ProviderKind::AzureOpenai, Some(version)) => {
            format!("{endpoint}/openai/deployments/{upstream_model}{suffix}?api-version={version}")
        }
        _ => format!("{endpoint}{}{suffix}", wire.api_prefix),
    }
}

/// The credential header and its value prefix: Azure OpenAI takes its resource key in `api-key`.
pub(super) fn auth_header(kind: ProviderKind) -> (HeaderName, &'static str) {
    match kind {
        ProviderKind::AzureOpenai => (HeaderName::from_static("api-key"), ""),
        _ => (header::AUTHORIZATION, "Bearer "),
    }
}

/// Relays the reply: a stream frame by frame, a JSON body whole (to read its usage), an error with its status.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: std::time::Duration,
    target: String,
    mut ctx: RequestContext,
) -> Response {
    let status = resp.status();
    if status.is_success() && is_event_stream(&resp) {
        return super::stream_response(resp, Passthrough::new(), ctx, idle, deadline);
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let bytes = match collect_upstream(resp.into_body(), deadline, &target).await {
        Ok(b) => b,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), true);
            return openai_error(&e);
        }
    };
    if status.is_success() {
        ctx.usage = gatehouse_llm::usage::from_openai_response(&bytes);
        ctx.completed = true;
    } else {
        // The upstream's own error (OpenAI-shaped for these targets) is relayed with its status.
        ctx.fail(status.as_u16(), "upstream_error_status", true);
    }
    let mut out = json_response(status, bytes);
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}
