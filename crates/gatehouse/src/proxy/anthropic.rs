//! Anthropic targets: the OpenAI chat-completions body is translated to `POST /v1/messages` (in
//! `gatehouse-llm`), sent with the provider's `x-api-key`, and the reply — JSON, event stream or error — is
//! translated back to OpenAI's shape. This module only moves bytes and headers; every mapping is in the pure crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::anthropic::{
    RequestOptions, ResponseContext, StreamContext, translate_error, translate_request, translate_response_full,
};
use http::{HeaderName, HeaderValue, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::translated;
use super::{ClientRequest, Mode, Prepared, credential};
use crate::body::AnthropicToOpenAi;
use crate::context::Dialect;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    /// The client asked for a stream.
    stream: bool,
    /// Reported as the response's `model`: the name the client asked for.
    model: String,
    /// Unix seconds for `created`.
    created: u64,
}

pub(super) const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
pub(super) const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
pub(super) const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Translates the request and builds the upstream call. Parameters the target did not receive are logged and
/// listed for the client in [`DROPPED_HEADER`](super::DROPPED_HEADER).
pub(super) fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    if req.route != Route::ChatCompletions {
        return Err(GatewayError::RouteNotSupported {
            route: req.route.upstream_path(),
            target: provider.name.clone(),
        });
    }
    let translated = translate_request(
        req.bytes,
        &RequestOptions {
            upstream_model: req.upstream_model,
            rules: &req.target.rules,
        },
    )?;
    super::report_dropped(
        &translated.dropped,
        &translated.dropped_unknown,
        &provider.name,
        ctx,
        extra,
    );
    let upstream = messages_request(req, endpoint, ctx, translated.body, translated.stream)?;
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(Prepared {
        req: upstream,
        mode: Mode::Anthropic(Reply {
            stream: translated.stream,
            model: req.asked.to_string(),
            created,
        }),
    })
}

/// `POST {endpoint}/v1/messages` with a translated `body`: the provider's configured `anthropic-version`, the
/// client's allowed `anthropic-beta` values, and the provider's key (never the client's credential).
pub(super) fn messages_request(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    body: Vec<u8>,
    stream: bool,
) -> Result<http::Request<crate::upstream::UpstreamBody>, GatewayError> {
    let provider = &req.target.provider;
    let settings = provider
        .anthropic
        .as_ref()
        .ok_or_else(|| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: "provider has no Anthropic settings".into(),
        })?;
    let uri = format!("{endpoint}/v1/messages");
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
        .header(ANTHROPIC_VERSION, settings.version.clone());
    if let Some(betas) = allowed_betas(req.parts.headers.get_all(&ANTHROPIC_BETA), &settings.allowed_betas, ctx) {
        builder = builder.header(ANTHROPIC_BETA, betas);
    }
    if let Some(v) = credential(provider, req.model, "")? {
        // The client's own Authorization / x-api-key is never copied; only the provider's key is sent.
        builder = builder.header(X_API_KEY, v);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: format!("cannot build the upstream request: {e}"),
        })
}

/// The client's `anthropic-beta` values that the provider allows, joined; the rest are dropped and logged.
pub(super) fn allowed_betas(
    values: http::header::GetAll<'_, HeaderValue>,
    allowed: &[String],
    ctx: &RequestContext,
) -> Option<HeaderValue> {
    let mut keep: Vec<&str> = Vec::new();
    for value in values {
        let Ok(s) = value.to_str() else { continue };
        for beta in s.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            if allowed.iter().any(|a| a == beta) {
                if !keep.contains(&beta) {
                    keep.push(beta);
                }
            } else {
                tracing::info!(request_id = %ctx.id, beta = %beta.chars().take(64).collect::<String>(), "anthropic-beta value not in the provider's allowed_betas; dropped");
            }
        }
    }
    if keep.is_empty() {
        return None;
    }
    HeaderValue::from_str(&keep.join(",")).ok()
}

/// Translates the reply back: the event stream incrementally, a message whole, an error into OpenAI error JSON.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    let dialect = Dialect::OpenAi;
    let (status, retry_after, bytes) = match translated::read(
        resp,
        reply.stream,
        translated::SSE,
        deadline,
        &target,
        dialect,
        &mut ctx,
    )
    .await
    {
        Err(out) => return out,
        Ok(translated::Reply::Stream(resp)) => {
            let handler = AnthropicToOpenAi::new(StreamContext {
                created: reply.created,
                model: reply.model,
                // Usage is always returned (docs/usage.md): the client sees the stream it would have had with
                // `stream_options.include_usage`, whether it asked or not — the same rule as passthrough.
                include_usage: true,
            });
            return super::stream_response(resp, handler, ctx, idle, deadline);
        }
        Ok(translated::Reply::Body {
            status,
            retry_after,
            bytes,
            ..
        }) => (status, retry_after, bytes),
    };
    if !status.is_success() {
        let te = translate_error(status.as_u16(), &bytes);
        if te.code == "upstream_billing_failed" {
            tracing::error!(request_id = %ctx.id, target = %target, status = status.as_u16(), "the upstream refused to bill the gateway's account");
        }
        return translated::error(te, retry_after, &mut ctx);
    }
    let ctx_resp = ResponseContext {
        created: reply.created,
        model: &reply.model,
    };
    let result = translate_response_full(&bytes, &ctx_resp).map(|t| {
        if let Some(reason) = &t.unknown_stop_reason {
            tracing::warn!(request_id = %ctx.id, stop_reason = %reason, "unknown Anthropic stop_reason reported as `stop`");
        }
        (t.body, t.usage)
    });
    translated::success(result, target, dialect, &mut ctx)
}
