//! Gemini targets: the OpenAI chat-completions body is translated to a `GenerateContentRequest` (in
//! `gatehouse-llm`), sent to `{base}/v1beta/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`)
//! with the provider's `x-goog-api-key`, and the reply — JSON, event stream or error — is translated back to
//! OpenAI's shape. This module only moves bytes and headers; every mapping is in the pure crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::gemini::{RequestOptions, ResponseContext, translate_error, translate_request, translate_response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use http_body_util::Full;
use tokio::time::Instant;

use super::{ClientRequest, Mode, Prepared, collect_upstream, credential, is_event_stream, json_response};
use crate::body::GeminiToOpenAi;
use crate::context::{RequestContext, Route};
use crate::error::GatewayError;
use crate::respond::openai_error;

/// The client-visible facts a translated reply needs.
pub(super) struct Reply {
    stream: bool,
    ctx: ResponseContext,
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
    let model = req.target.upstream_model.trim_start_matches("models/");
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
        }),
    })
}

/// Translates the reply back: the event stream incrementally, a response whole, an error into OpenAI error JSON.
pub(super) async fn relay(
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    target: String,
    reply: Reply,
    mut ctx: RequestContext,
) -> Response {
    let status = resp.status();
    if status.is_success() {
        if is_event_stream(&resp) != reply.stream {
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: if reply.stream {
                    "expected an event stream".into()
                } else {
                    "expected a JSON response, got an event stream".into()
                },
            };
            ctx.fail(e.status().as_u16(), e.code(), true);
            return openai_error(&e);
        }
        if reply.stream {
            let handler = GeminiToOpenAi::new(reply.ctx);
            return super::stream_response(resp, handler, ctx, idle, deadline);
        }
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let bytes = match collect_upstream(resp.into_body(), deadline, &target).await {
        Ok(b) => b,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), true);
            return openai_error(&e);
        }
    };
    if !status.is_success() {
        let te = translate_error(status.as_u16(), &bytes);
        if te.code == "upstream_auth_failed" {
            // Gemini answers a bad key with 400 API_KEY_INVALID, which the generic 401/403 check cannot see.
            tracing::error!(request_id = %ctx.id, target = %target, status = status.as_u16(), "the upstream rejected the gateway's credential for this provider; check its api_key");
        }
        ctx.fail(te.status, te.code, true);
        let out_status = StatusCode::from_u16(te.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut out = json_response(out_status, te.body);
        if let (Some(v), 429 | 503) = (retry_after, status.as_u16()) {
            out.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return out;
    }
    match translate_response(&bytes, &reply.ctx) {
        Ok(t) => {
            if let Some(reason) = &t.unknown_stop_reason {
                tracing::warn!(request_id = %ctx.id, finish_reason = %reason, "unknown Gemini finishReason reported as `stop`");
            }
            ctx.usage = Some(t.usage);
            ctx.completed = true;
            json_response(StatusCode::OK, t.body)
        }
        Err(e) => {
            let e = GatewayError::UpstreamInvalid {
                target,
                detail: e.to_string(),
            };
            ctx.fail(e.status().as_u16(), e.code(), true);
            openai_error(&e)
        }
    }
}
