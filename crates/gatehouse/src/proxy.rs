//! The request pipeline for OpenAI-compatible routes, in one fixed order:
//!
//! read body (bounded) → parse the top level → resolve model (header, then body) → policies (authn →
//! rate limit → authz → budget; none configured yet) → pick target → rewrite body (splice `model` and
//! `stream_options` only) → send (first-byte timeout) → relay (stream frame by frame, or buffer a
//! non-streamed reply to read its usage) → meter and log (when the context drops).
//!
//! Input that fails any check is answered here and never reaches an upstream.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gatehouse_llm::{RequestBody, Rewrite};
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use tokio::time::Instant;

use crate::body::MeteredBody;
use crate::context::{RequestContext, Route};
use crate::error::{ErrorSource, GatewayError};
use crate::respond::openai_error;
use crate::snapshot::{Snapshot, Target, TargetState};
use crate::state::AppState;

/// Header that selects the model ahead of the body's `model`.
pub const MODEL_HEADER: &str = "x-gateway-base-model-name";

/// Largest upstream response body buffered for a non-streamed reply.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// An upstream response ready to relay.
struct Relay {
    resp: http::Response<hyper::body::Incoming>,
    deadline: Instant,
    idle: Duration,
    target: String,
}

/// Serves one OpenAI-compatible request end to end.
pub async fn handle(state: Arc<AppState>, route: Route, req: Request<Body>) -> Response {
    let id = crate::request_id::from_headers(req.headers());
    let mut ctx = RequestContext::new(state.telemetry.clone(), route, id.clone());
    let snap = state.snapshot();
    let mut resp = match forward(&snap, route, req, &mut ctx).await {
        Ok(relay) => relay_response(relay, ctx).await,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), e.source_kind() == ErrorSource::Upstream);
            openai_error(&e)
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(crate::request_id::HEADER, v);
    }
    resp
}

/// Everything up to and including the upstream response head.
async fn forward(
    snap: &Snapshot,
    route: Route,
    req: Request<Body>,
    ctx: &mut RequestContext,
) -> Result<Relay, GatewayError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body, snap.server.max_body_bytes, snap.server.body_read_timeout).await?;
    let parsed = RequestBody::parse(&bytes)?;

    // Model: the header wins over the body.
    let name = match parts.headers.get(MODEL_HEADER) {
        Some(v) => v
            .to_str()
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                GatewayError::InvalidRequest(format!("the {MODEL_HEADER} header must be a non-empty string"))
            })?,
        None => parsed
            .model()?
            .map(|m| m.into_owned())
            .ok_or(GatewayError::MissingModel)?,
    };
    let model = snap
        .model(&name)
        .ok_or_else(|| GatewayError::ModelNotFound(name.clone()))?;
    ctx.model = Some(model.name.clone());

    // Policies (authn → rate limit → authz → budget) plug in here, in that order.

    let target = pick_target(&model.targets).map_err(|reason| GatewayError::NoTargetAvailable {
        model: model.name.clone(),
        reason,
    })?;
    let provider = &target.provider;
    ctx.target = Some(provider.name.clone());
    let endpoint = provider.next_endpoint();
    ctx.endpoint = Some(endpoint.to_string());

    let stream = parsed.stream()?;
    ctx.stream = stream;
    // Usage is always recorded: a stream that did not ask for usage gets it anyway (see docs/usage.md).
    let force_include_usage = stream && route != Route::Embeddings && !parsed.include_usage()?;
    let out = parsed.rewrite(&Rewrite {
        model: Some(&target.upstream_model),
        force_include_usage,
    });

    let uri = format!("{endpoint}{}", route.upstream_path());
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
    if let Some(secret) = &provider.api_key {
        // The client's own Authorization is never copied; only the provider's credential is sent.
        let key = secret.get().map_err(|reason| GatewayError::NoTargetAvailable {
            model: model.name.clone(),
            reason,
        })?;
        let mut v = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| GatewayError::NoTargetAvailable {
            model: model.name.clone(),
            reason: "credential is not a valid header value".into(),
        })?;
        v.set_sensitive(true);
        builder = builder.header(header::AUTHORIZATION, v);
    }
    let upstream_req = builder
        .body(Full::new(Bytes::from(out)))
        .map_err(|e| GatewayError::UpstreamInvalid {
            target: provider.name.clone(),
            detail: format!("cannot build the upstream request: {e}"),
        })?;

    let t = provider.timeouts;
    let deadline = Instant::now() + t.total;
    let wait = t.first_byte.min(t.total);
    let resp = match tokio::time::timeout(wait, provider.client.send(upstream_req)).await {
        Err(_) => {
            return Err(GatewayError::UpstreamTimeout {
                target: provider.name.clone(),
                phase: "first_byte",
            });
        }
        Ok(Err(e)) => return Err(classify_send_error(&provider.name, &e)),
        Ok(Ok(r)) => r,
    };
    // A stream's first token is its first body frame (body.rs); a JSON reply's is its head.
    if !ctx.stream {
        ctx.first_byte();
    }
    Ok(Relay {
        resp,
        deadline,
        idle: t.idle,
        target: provider.name.clone(),
    })
}

/// The first enabled target, or the reasons none is.
fn pick_target(targets: &[Target]) -> Result<&Target, String> {
    let mut reasons = Vec::new();
    for t in targets {
        match t.provider.state() {
            TargetState::Enabled => return Ok(t),
            TargetState::Disabled(r) => reasons.push(format!("{}: {r}", t.provider.name)),
        }
    }
    Err(reasons.join("; "))
}

/// Reads the client body within the size and time limits.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, GatewayError> {
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(GatewayError::ClientTimeout),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(GatewayError::BodyTooLarge { limit }),
        Ok(Err(e)) => Err(GatewayError::ClientBody(e.to_string())),
    }
}

/// Connect timeouts become 504, every other send failure 502.
fn classify_send_error(target: &str, e: &hyper_util::client::legacy::Error) -> GatewayError {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return GatewayError::UpstreamTimeout {
                target: target.to_string(),
                phase: "connect",
            };
        }
        src = s.source();
    }
    let detail = if e.is_connect() {
        "connection failed".to_string()
    } else {
        "the connection failed before a response".to_string()
    };
    let mut chain = String::new();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        src = s.source();
    }
    GatewayError::UpstreamUnreachable {
        target: target.to_string(),
        detail: format!("{detail}{chain}"),
    }
}

/// Turns the upstream response into the client's, streaming or buffered.
async fn relay_response(relay: Relay, mut ctx: RequestContext) -> Response {
    let Relay {
        resp,
        deadline,
        idle,
        target,
    } = relay;
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let e = GatewayError::UpstreamAuth {
            target,
            status: status.as_u16(),
        };
        ctx.fail(e.status().as_u16(), e.code(), true);
        return openai_error(&e);
    }
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    ctx.status = status.as_u16();

    if status.is_success() && is_sse {
        let body = MeteredBody::new(resp.into_body(), ctx, idle, deadline);
        let mut out = Response::new(Body::new(body));
        *out.status_mut() = status;
        let h = out.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return out;
    }

    let collected =
        tokio::time::timeout_at(deadline, Limited::new(resp.into_body(), MAX_UPSTREAM_BODY).collect()).await;
    let bytes = match collected {
        Ok(Ok(c)) => c.to_bytes(),
        Ok(Err(e)) => {
            let err = GatewayError::UpstreamInvalid {
                target,
                detail: format!("reading the response body failed: {e}"),
            };
            ctx.fail(err.status().as_u16(), err.code(), true);
            return openai_error(&err);
        }
        Err(_) => {
            let err = GatewayError::UpstreamTimeout { target, phase: "total" };
            ctx.fail(err.status().as_u16(), err.code(), true);
            return openai_error(&err);
        }
    };
    if status.is_success() {
        ctx.usage = gatehouse_llm::usage::from_openai_response(&bytes);
        ctx.completed = true;
    } else {
        // The upstream's own error (OpenAI-shaped for these targets) is relayed with its status.
        ctx.fail(status.as_u16(), "upstream_error_status", true);
    }
    let mut out = (status, bytes).into_response();
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}
