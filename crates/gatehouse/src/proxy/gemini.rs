//! Gemini targets: the OpenAI chat-completions body is translated to a `GenerateContentRequest` (in
//! `gatehouse-llm`), sent to `{base}/v1beta/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`)
//! with the provider's `x-goog-api-key`, and the reply — JSON, event stream or error — is translated back to
//! OpenAI's shape. `/v1/embeddings` goes to `:batchEmbedContents`. This module only moves bytes and headers;
//! every mapping is in the pure crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::gemini::{
    EmbedRequest, RequestOptions, ResponseContext, translate_embeddings_request, translate_embeddings_response,
    translate_error, translate_request, translate_response,
};
use http::{HeaderName, HeaderValue, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::translated;
use super::{ClientRequest, Mode, Prepared, credential};
use crate::body::GeminiToOpenAi;
use crate::context::Dialect;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    stream: bool,
    ctx: ResponseContext,
    /// Set for `/v1/embeddings` (a `batchEmbedContents` call).
    embed: Option<EmbedRequest>,
}

const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");

/// Translates the request and builds the upstream call.
pub(super) fn prepare(
    req: &ClientRequest<'_>,
    endpoint: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    if req.route == Route::Embeddings {
        return prepare_embeddings(req, endpoint, ctx);
    }
    if req.route != Route::ChatCompletions {
        return Err(GatewayError::RouteNotSupported {
            route: req.route.upstream_path(),
            target: provider.name.clone(),
        });
    }
    let translated = translate_request(
        req.bytes,
        &RequestOptions {
            drop_unsupported: req.target.rules.drop_unsupported,
        },
    )?;
    super::report_dropped(
        &translated.dropped,
        &translated.dropped_unknown,
        &provider.name,
        ctx,
        extra,
    );
    // The model was checked at load time to be a plain path segment (optionally `models/`-prefixed).
    let model = req.upstream_model.trim_start_matches("models/");
    let prefix = &provider.wire.api_prefix;
    let uri = if translated.stream {
        format!("{endpoint}{prefix}/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{endpoint}{prefix}/models/{model}:generateContent")
    };
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::ACCEPT,
            if translated.stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        );
    if let Some(v) = credential(provider, req.model, "")? {
        // The client's own credential is never copied; only the provider's key is sent.
        builder = builder.header(X_GOOG_API_KEY, v);
    }
    let upstream =
        builder
            .body(Full::new(Bytes::from(translated.body)))
            .map_err(|e| GatewayError::UpstreamInvalid {
                target: provider.name.clone(),
                detail: format!("cannot build the upstream request: {e}"),
            })?;
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let include_usage = true; // usage is always returned (docs/usage.md), as on every other target
    Ok(Prepared {
        req: upstream,
        mode: Mode::Gemini(Reply {
            stream: translated.stream,
            ctx: ResponseContext {
                created,
                model: req.asked.to_string(),
                fallback_id: format!("chatcmpl-{}", ctx.id),
                include_usage,
            },
            embed: None,
        }),
    })
}

/// `/v1/embeddings` → `{base}/v1beta/models/{model}:batchEmbedContents`.
fn prepare_embeddings(req: &ClientRequest<'_>, endpoint: &str, ctx: &RequestContext) -> Result<Prepared, GatewayError> {
    let provider = &req.target.provider;
    let model = req.target.upstream_model.trim_start_matches("models/");
    let embed = translate_embeddings_request(req.bytes, model)?;
    let uri = format!(
        "{endpoint}{}/models/{model}:batchEmbedContents",
        provider.wire.api_prefix
    );
    let mut builder = http::Request::post(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    if let Some(v) = credential(provider, req.model, "")? {
        builder = builder.header(X_GOOG_API_KEY, v);
    }
    let upstream =
        builder
            .body(Full::new(Bytes::from(embed.body.clone())))
            .map_err(|e| GatewayError::UpstreamInvalid {
                target: provider.name.clone(),
                detail: format!("cannot build the upstream request: {e}"),
            })?;
    Ok(Prepared {
        req: upstream,
        mode: Mode::Gemini(Reply {
            stream: false,
            ctx: ResponseContext {
                created: 0,
                model: req.asked.to_string(),
                fallback_id: ctx.id.to_string(),
                include_usage: false,
            },
            embed: Some(embed),
        }),
    })
}

/// Translates the reply back: the event stream incrementally, a response or embeddings whole, an error into OpenAI
/// error JSON.
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
            return super::stream_response(resp, GeminiToOpenAi::new(reply.ctx), ctx, idle, deadline);
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
        if te.code == "upstream_auth_failed" {
            // Gemini answers a bad key with 400 API_KEY_INVALID, which the generic 401/403 check cannot see.
            tracing::error!(request_id = %ctx.id, target = %target, status = status.as_u16(), "the upstream rejected the gateway's credential for this provider; check its api_key");
        }
        return translated::error(te, retry_after, &mut ctx);
    }
    if let Some(embed) = &reply.embed {
        let result = translate_embeddings_response(&bytes, &reply.ctx.model, embed);
        return translated::success(result, target, dialect, &mut ctx);
    }
    let result = translate_response(&bytes, &reply.ctx).map(|t| {
        if let Some(reason) = &t.unknown_stop_reason {
            tracing::warn!(request_id = %ctx.id, finish_reason = %reason, "unknown Gemini finishReason reported as `stop`");
        }
        (t.body, t.usage)
    });
    translated::success(result, target, dialect, &mut ctx)
}
