//! Anthropic in, Anthropic out: a `/v1/messages` (or `count_tokens`) client served by an `anthropic` target.
//!
//! Nothing is translated. The body is spliced (only `model` changes), the client's credential is replaced by the
//! provider's `x-api-key`, `anthropic-version` is the client's own (it describes the wire format the client
//! expects; the provider's configured version when the client sends none) and `anthropic-beta` values pass only
//! when the provider allows them. Replies — JSON, event streams and errors, already in the client's dialect — are
//! relayed byte for byte, with usage read on the side for the meter.

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::Rewrite;
use gatehouse_llm::anthropic::usage_from_message;
use http::header;
use http_body_util::Full;
use tokio::time::Instant;

use super::anthropic::{ANTHROPIC_BETA, ANTHROPIC_VERSION, X_API_KEY, allowed_betas};
use super::passthrough::{Unchanged, relay_unchanged};
use super::{ClientRequest, Mode, Prepared, credential};
use crate::body::AnthropicNative;
use crate::context::{Dialect, RequestContext};
use crate::error::GatewayError;

/// Builds the upstream request: same body but `model`, the provider's key, the client's version.
pub(super) fn prepare(req: &ClientRequest<'_>, endpoint: &str, ctx: &RequestContext) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    let settings = provider
        .anthropic
        .as_ref()
        .ok_or_else(|| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: "provider has no Anthropic settings".into(),
        })?;
    let out = req.parsed.rewrite(&Rewrite {
        model: Some(req.upstream_model),
        force_include_usage: false,
    });
    let version = req
        .parts
        .headers
        .get(&ANTHROPIC_VERSION)
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| settings.version.clone());
    let uri = format!("{endpoint}{}", req.route.upstream_path());
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if ctx.stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .header(ANTHROPIC_VERSION, version);
    if let Some(betas) = allowed_betas(req.parts.headers.get_all(&ANTHROPIC_BETA), &settings.allowed_betas, ctx) {
        builder = builder.header(ANTHROPIC_BETA, betas);
    }
    if let Some(v) = credential(provider, req.model, "")? {
        // The client's Authorization / x-api-key are never copied; only the provider's key is sent.
        builder = builder.header(X_API_KEY, v);
    }
    let upstream = builder
        .body(Full::new(Bytes::from(out)))
        .map_err(|e| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: format!("cannot build the upstream request: {e}"),
        })?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::AnthropicNative,
    })
}

/// Relays the reply as it is; meters a message or a stream; keeps `Retry-After` on errors.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: std::time::Duration,
    target: String,
    ctx: RequestContext,
) -> Response {
    let unchanged = Unchanged {
        handler: AnthropicNative::new(),
        usage_of: usage_from_message,
        dialect: Dialect::Anthropic,
    };
    relay_unchanged(resp, deadline, idle, target, unchanged, ctx).await
}
