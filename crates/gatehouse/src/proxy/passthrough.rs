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

use gatehouse_llm::Usage;

use super::{ClientRequest, Mode, Prepared, SSE, collect_upstream, credential, has_content_type, json_response};
use crate::body::{Passthrough, StreamHandler};
use crate::config::spec::ProviderKind;
use crate::context::{Dialect, RequestContext, Route};
use crate::error::GatewayError;
use crate::respond::error_response;
use crate::snapshot::Provider;

/// Builds the upstream request: spliced body, the provider's bearer token (never the client's).
pub(super) fn prepare(req: &ClientRequest<'_>, endpoint: &str, ctx: &RequestContext) -> Result<Prepared, GatewayError> {
    let stream = ctx.stream;
    // Usage is always recorded: a stream that did not ask for usage gets it anyway (see docs/usage.md).
    // Not on the Responses API: it has no `include_usage` (and refuses unknown keys); its stream always ends with
    // usage on `response.completed`.
    let force_include_usage =
        stream && !matches!(req.route, Route::Embeddings | Route::Responses) && !req.parsed.include_usage()?;
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
    let mode = if req.route == Route::Responses {
        Mode::ResponsesPassthrough
    } else {
        Mode::Passthrough
    };
    Ok(Prepared { req: upstream, mode })
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
        // Azure serves the Responses API per resource, not per deployment: the deployment goes in the body's
        // `model` (rewritten like every passthrough model).
        (ProviderKind::AzureOpenai, Some(version)) if route == Route::Responses => {
            format!("{endpoint}/openai/responses?api-version={version}")
        }
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
    ctx: RequestContext,
) -> Response {
    let unchanged = Unchanged {
        handler: Passthrough::new(),
        usage_of: gatehouse_llm::usage::from_openai_response,
        dialect: Dialect::OpenAi,
    };
    relay_unchanged(resp, deadline, idle, target, unchanged, ctx).await
}

/// How a reply that reaches the client unchanged is metered and how the gateway's own errors are worded.
pub(super) struct Unchanged<H> {
    /// Observes a streamed reply on its way through.
    pub(super) handler: H,
    /// Reads the usage of a whole (non-streamed) reply.
    pub(super) usage_of: fn(&[u8]) -> Option<Usage>,
    /// The client's dialect, for errors the gateway itself raises (an unreadable or late body).
    pub(super) dialect: Dialect,
}

/// The relay shared by every path that does not translate (OpenAI-style passthrough, Anthropic native): the
/// upstream's bytes, status and `Retry-After` reach the client as they are; only usage is read on the side.
pub(super) async fn relay_unchanged<H: StreamHandler>(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: std::time::Duration,
    target: String,
    unchanged: Unchanged<H>,
    mut ctx: RequestContext,
) -> Response {
    let status = resp.status();
    if status.is_success() && has_content_type(resp.headers(), SSE) {
        return super::stream_response(resp, unchanged.handler, ctx, idle, deadline);
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let bytes = match collect_upstream(resp.into_body(), deadline, &target).await {
        Ok(b) => b,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), true);
            return error_response(unchanged.dialect, &e);
        }
    };
    if status.is_success() {
        ctx.usage = (unchanged.usage_of)(&bytes);
        ctx.observe_reply(&bytes);
        ctx.completed = true;
    } else {
        // The upstream's own error, already in the client's dialect, relayed with its status.
        ctx.fail(status.as_u16(), "upstream_error_status", true);
    }
    let mut out = json_response(status, bytes);
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}
