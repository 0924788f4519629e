//! The request pipeline for the LLM routes, in one fixed order:
//!
//! read body (bounded) → parse the top level → resolve model (header, then body) → policies (authn →
//! rate limit → authz → budget; `policy.rs`) → pick target → prepare the upstream request (splice
//! `model` and `stream_options` on the passthrough path, or translate for Anthropic) → send (first-byte
//! timeout) → relay (stream frame by frame, or buffer a non-streamed reply to read its usage; translate back
//! where needed) → meter and log (when the context drops).
//!
//! Input that fails any check is answered here and never reaches an upstream. What differs per client dialect and
//! provider kind lives in one module each — [`passthrough`] (OpenAI in, OpenAI-style out), [`anthropic`],
//! [`gemini`] and [`bedrock`] (OpenAI in, translated out), [`anthropic_native`] (Anthropic in and out),
//! [`messages`] (Anthropic in, OpenAI-style out) — and this module holds what every pair shares. Errors reach the
//! client in the dialect of its route.

mod anthropic;
mod anthropic_native;
mod bedrock;
mod chained;
mod failover;
mod gemini;
mod messages;
mod passthrough;
mod responses;
mod translated;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use gatehouse_llm::RequestBody;
use http::{HeaderValue, Request, header};
use http_body_util::{BodyExt, Limited};
use tokio::time::Instant;

use crate::body::{MeteredBody, StreamHandler};
use crate::config::spec::ProviderKind;
use crate::context::{Dialect, RequestContext, Route};
use crate::error::{ErrorSource, GatewayError};
use crate::respond::error_response;
use crate::snapshot::{Model, Provider, Snapshot, Target};
use crate::state::AppState;
use crate::upstream::UpstreamBody;

/// Header that selects the model ahead of the body's `model`.
pub const MODEL_HEADER: &str = "x-gateway-base-model-name";

/// Response header listing request parameters a translated target did not receive (comma-separated), so a
/// client can see what the gateway dropped instead of guessing.
pub const DROPPED_HEADER: &str = "x-gatehouse-dropped-params";

/// Largest upstream response body buffered for a non-streamed reply.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// An upstream response ready to relay.
struct Relay {
    resp: http::Response<crate::body::Upstream>,
    deadline: Instant,
    idle: Duration,
    /// The serving provider's first-byte timeout (bounds the wait for a stream's first event).
    first_byte: Duration,
    target: String,
    mode: Mode,
}

/// How the upstream reply becomes the client's.
enum Mode {
    /// Bytes relayed as they are (OpenAI-compatible targets).
    Passthrough,
    /// A Responses API answer relayed as it is, usage read from its own shape (proxy/responses.rs).
    ResponsesPassthrough,
    /// An Anthropic reply translated to a Responses API answer (and stored when asked to).
    Responses(Box<responses::Reply>),
    /// A Gemini or Bedrock reply through the Messages chain, translated on to a Responses API answer.
    ResponsesChained(Box<responses::Chained>),
    /// Anthropic reply translated back to OpenAI.
    Anthropic(anthropic::Reply),
    /// Gemini reply translated back to OpenAI.
    Gemini(gemini::Reply),
    /// Bedrock Converse reply translated back to OpenAI.
    Bedrock(bedrock::Reply),
    /// Anthropic bytes relayed to an Anthropic-dialect client, usage observed.
    AnthropicNative,
    /// OpenAI-style reply translated to Anthropic for an Anthropic-dialect client.
    Messages(messages::Reply),
    /// A Gemini or Bedrock reply translated back to OpenAI, then to Anthropic for an Anthropic-dialect client.
    Chained(Box<Mode>, messages::Reply),
}

/// What `forward` produced: an upstream response to relay, or an answer made here (no upstream call).
enum Forwarded {
    Relay(Box<Relay>, Vec<(http::HeaderName, HeaderValue)>),
    Local(Response),
}

/// Everything a provider-specific `prepare` needs to know about the request.
struct ClientRequest<'a> {
    route: Route,
    /// The whole client body.
    bytes: &'a Bytes,
    /// Its parsed top level.
    parsed: &'a RequestBody<'a>,
    /// The client's request head (for headers such as `anthropic-beta`).
    parts: &'a http::request::Parts,
    /// The name the client asked for (reported back as the response `model` by translated targets).
    asked: &'a str,
    model: &'a Model,
    target: &'a Target,
    /// The model name sent upstream (the target's, or this request's pick of its weighted split).
    upstream_model: &'a str,
    /// The response store behind `previous_response_id` (used by `/v1/responses` on translated targets).
    responses: &'a responses::Stores,
}

/// An upstream request ready to send, and how to relay its answer.
struct Prepared {
    req: http::Request<UpstreamBody>,
    mode: Mode,
}

/// Serves one request on an LLM route end to end.
pub async fn handle(state: Arc<AppState>, route: Route, req: Request<Body>) -> Response {
    let id = crate::request_id::from_headers(req.headers());
    let mut ctx = RequestContext::new(state.telemetry.clone(), route, id.clone());
    ctx.start_trace(req.method(), req.headers());
    let snap = state.snapshot();
    let cost = snap.pricing.cost_header.then(|| {
        let cell = Arc::new(std::sync::OnceLock::new());
        ctx.cost_cell = Some(cell.clone());
        cell
    });
    // The request's span is the current context while the pipeline runs, so policy steps can open child spans.
    let cx = ctx.trace.clone();
    let forwarded =
        opentelemetry::context::FutureExt::with_context(forward(&snap, &state.responses, route, req, &mut ctx), cx)
            .await;
    let mut resp = match forwarded {
        Ok(Forwarded::Relay(relay, extra)) => {
            let mut resp = relay_response(*relay, route.dialect(), ctx).await;
            for (name, value) in extra {
                resp.headers_mut().insert(name, value);
            }
            resp
        }
        Ok(Forwarded::Local(resp)) => {
            ctx.status = resp.status().as_u16();
            ctx.completed = true;
            resp
        }
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), e.source_kind() == ErrorSource::Upstream);
            ctx.metrics().ops.rejected(&e);
            let mut resp = error_response(route.dialect(), &e);
            if ctx.attempts > 0 {
                // Which target answered last and how many attempts were made, for failed requests too.
                let h = resp.headers_mut();
                if let Some(t) = ctx.target.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
                    h.insert(failover::TARGET_HEADER, t);
                }
                h.insert(failover::ATTEMPTS_HEADER, HeaderValue::from(ctx.attempts));
            }
            resp
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(crate::request_id::HEADER, v);
    }
    // A non-streamed reply was metered before its response was returned; a stream's cost is known only at its end.
    if let Some(c) = cost.as_ref().and_then(|c| c.get())
        && let Ok(v) = HeaderValue::from_str(&format!("{c:.6}"))
    {
        resp.headers_mut().insert(crate::metering::COST_HEADER, v);
    }
    resp
}

/// Everything up to and including the upstream response head, plus headers for the client's response.
async fn forward(
    snap: &Snapshot,
    responses: &Arc<crate::response_store::ResponseStore>,
    route: Route,
    req: Request<Body>,
    ctx: &mut RequestContext,
) -> Result<Forwarded, GatewayError> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(body, snap.server.max_body_bytes, snap.server.body_read_timeout).await?;
    let parsed = RequestBody::parse(&bytes)?;
    ctx.record_input(parsed.get("messages").map(|m| m.get()));

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
    ctx.identity = crate::policy::authenticate(&snap.policy, &parts.headers).await?;
    // count_tokens generates nothing and reports no usage: it counts as a request, never as tokens.
    let (counted_bytes, no_output) = match route {
        Route::CountTokens => (0, true),
        _ => (bytes.len(), route == Route::Embeddings),
    };
    let max_output = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| parsed.get(k))
        .and_then(|v| serde_json::from_str::<u64>(v.get()).ok());
    let backend_errors = ctx.metrics().metering.limiter_backend_errors.clone();
    let (guard, limit_headers) = crate::policy::limit(
        &snap.policy,
        &backend_errors,
        ctx.identity.as_deref(),
        model,
        counted_bytes,
        max_output,
        no_output,
    )
    .await?;
    ctx.limits = Some(guard);
    ctx.pricing = Some(snap.pricing.clone());
    crate::policy::authorize(ctx.identity.as_deref(), model)?;
    ctx.budget = crate::policy::budget(
        &snap.policy,
        &snap.pricing,
        ctx.identity.as_deref(),
        model,
        counted_bytes,
        max_output,
        no_output,
    )
    .await?;

    ctx.stream = parsed.stream()?;
    let request = Request0 {
        route,
        bytes: &bytes,
        parsed: &parsed,
        parts: &parts,
        asked: &name,
        model,
        limit_headers,
        responses: responses::Stores::new(responses.clone(), snap.policy.redis.clone(), snap.response_store),
    };
    // Targets in priority order, retried and failed over before the first byte (proxy/failover.rs).
    failover::run(snap, &request, ctx).await
}

/// The client request, read and resolved once, replayed on every attempt.
struct Request0<'a> {
    route: Route,
    bytes: &'a Bytes,
    parsed: &'a RequestBody<'a>,
    parts: &'a http::request::Parts,
    asked: &'a str,
    model: &'a Model,
    /// `x-ratelimit-*` headers from the limits, added to whatever answer the client gets.
    limit_headers: Vec<(http::HeaderName, HeaderValue)>,
    /// The response store, with this snapshot's backend and bounds.
    responses: responses::Stores,
}

/// What one attempt on one target produced.
enum Attempted {
    /// The upstream answered (any status); the head is here, the body not yet read.
    Sent {
        resp: http::Response<crate::body::Upstream>,
        mode: Mode,
        extra: Vec<(http::HeaderName, HeaderValue)>,
    },
    /// Answered here without an upstream call.
    Local(Response),
}

/// Why an attempt produced no upstream response.
enum AttemptError {
    /// The request could not be built for this target (client error, unsupported route, no pool replica).
    Prepare(GatewayError),
    /// Sending failed or timed out before the response head.
    Send(GatewayError),
}

/// One attempt on `target`: pick its endpoint, prepare the request for its (dialect, kind), send it with the
/// first-byte timeout (capped by the request's deadline).
async fn attempt(
    req: &Request0<'_>,
    target: &Target,
    deadline: Instant,
    ctx: &mut RequestContext,
) -> Result<Attempted, AttemptError> {
    let provider = &target.provider;
    let route = req.route;
    ctx.target = Some(provider.name.clone());
    let mut extra = req.limit_headers.clone();
    let upstream_model = target.pick_model();
    ctx.upstream_model = Some(upstream_model.to_string());
    let endpoint = provider
        .pick_endpoint(&req.parts.headers, req.parsed, upstream_model, ctx, &mut extra)
        .map_err(AttemptError::Prepare)?;
    let endpoint: &str = &endpoint;
    ctx.endpoint = Some(endpoint.to_string());

    let incoming = ClientRequest {
        route,
        bytes: req.bytes,
        parsed: req.parsed,
        parts: req.parts,
        asked: req.asked,
        model: req.model,
        target,
        upstream_model,
        responses: &req.responses,
    };
    let prepared = match (route.dialect(), provider.kind) {
        (
            Dialect::OpenAi,
            ProviderKind::OpenaiCompatible | ProviderKind::VllmPool | ProviderKind::Openai | ProviderKind::AzureOpenai,
        ) => passthrough::prepare(&incoming, endpoint, ctx),
        (Dialect::OpenAi, ProviderKind::Anthropic) if route == Route::Responses => {
            responses::prepare_anthropic(&incoming, endpoint, ctx, &mut extra).await
        }
        (Dialect::OpenAi, ProviderKind::Gemini | ProviderKind::Bedrock) if route == Route::Responses => {
            responses::prepare_chained(&incoming, endpoint, ctx, &mut extra).await
        }
        (Dialect::OpenAi, ProviderKind::Anthropic) => anthropic::prepare(&incoming, endpoint, ctx, &mut extra),
        (Dialect::OpenAi, ProviderKind::Gemini) => gemini::prepare(&incoming, endpoint, ctx, &mut extra),
        (Dialect::OpenAi, ProviderKind::Bedrock) => bedrock::prepare(&incoming, endpoint, ctx, &mut extra),
        (Dialect::Anthropic, ProviderKind::Anthropic) => anthropic_native::prepare(&incoming, endpoint, ctx),
        (
            Dialect::Anthropic,
            ProviderKind::OpenaiCompatible | ProviderKind::VllmPool | ProviderKind::Openai | ProviderKind::AzureOpenai,
        ) => {
            if route == Route::CountTokens {
                // No OpenAI-style API counts tokens: answered here with an estimate (docs/providers/anthropic.md).
                return messages::count_tokens(&incoming)
                    .map(Attempted::Local)
                    .map_err(AttemptError::Prepare);
            }
            messages::prepare(&incoming, endpoint, ctx, &mut extra)
        }
        (Dialect::Anthropic, ProviderKind::Gemini | ProviderKind::Bedrock) => {
            if route == Route::CountTokens {
                // Neither counts Anthropic-shaped tokens: the same local estimate as for OpenAI-style targets.
                return messages::count_tokens(&incoming)
                    .map(Attempted::Local)
                    .map_err(AttemptError::Prepare);
            }
            chained::prepare(&incoming, endpoint, ctx, &mut extra)
        }
    }
    .map_err(AttemptError::Prepare)?;
    let mut prepared = prepared;
    let trace_cx = ctx.start_attempt(provider.kind, upstream_model, endpoint);
    crate::trace::inject(&trace_cx, prepared.req.headers_mut());

    let wait = provider
        .timeouts
        .first_byte
        .min(deadline.saturating_duration_since(Instant::now()));
    ctx.attempts += 1;
    match tokio::time::timeout(wait, provider.client.send(prepared.req)).await {
        Err(_) => Err(AttemptError::Send(GatewayError::UpstreamTimeout {
            target: provider.name.clone(),
            phase: "first_byte",
        })),
        Ok(Err(e)) => Err(AttemptError::Send(classify_send_error(&provider.name, &e))),
        Ok(Ok(resp)) => Ok(Attempted::Sent {
            resp: resp.map(crate::body::Upstream::new),
            mode: prepared.mode,
            extra,
        }),
    }
}

/// Logs the parameters a translated target did not receive and lists them for the client in [`DROPPED_HEADER`].
fn report_dropped(
    dropped: &[&'static str],
    unknown: &[String],
    target: &str,
    ctx: &RequestContext,
    extra: &mut Vec<(http::HeaderName, HeaderValue)>,
) {
    if dropped.is_empty() && unknown.is_empty() {
        return;
    }
    let names: Vec<&str> = dropped
        .iter()
        .copied()
        .chain(unknown.iter().map(String::as_str))
        .collect();
    let list = names.join(",");
    tracing::info!(request_id = %ctx.id, target = %target, dropped = %list, "parameters not sent to the target");
    if let Ok(v) = HeaderValue::from_str(&list) {
        extra.push((http::HeaderName::from_static(DROPPED_HEADER), v));
    }
}

/// The provider's credential as a sensitive header value (never logged, never echoed), if it has one.
fn credential(provider: &Provider, model: &Model, prefix: &str) -> Result<Option<HeaderValue>, GatewayError> {
    let Some(secret) = &provider.api_key else {
        return Ok(None);
    };
    let disabled = |reason: String| GatewayError::NoTargetAvailable {
        model: model.name.clone(),
        reason,
    };
    let key = secret.get().map_err(disabled)?;
    let mut v = HeaderValue::from_str(&format!("{prefix}{key}"))
        .map_err(|_| disabled("credential is not a valid header value".into()))?;
    v.set_sensitive(true);
    Ok(Some(v))
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

/// Turns the upstream response into the client's, per mode.
async fn relay_response(relay: Relay, dialect: Dialect, mut ctx: RequestContext) -> Response {
    let status = relay.resp.status();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        // The upstream refused *our* key: an operator problem. The client gets our message, never the upstream's
        // (it could echo the key); the operator gets a loud log line.
        tracing::error!(
            request_id = %ctx.id,
            target = %relay.target,
            status = status.as_u16(),
            "the upstream rejected the gateway's credential for this provider; check its api_key"
        );
        let e = GatewayError::UpstreamAuth {
            target: relay.target,
            status: status.as_u16(),
        };
        ctx.fail(e.status().as_u16(), e.code(), true);
        return error_response(dialect, &e);
    }
    ctx.status = status.as_u16();
    match relay.mode {
        Mode::Passthrough => passthrough::relay(relay.resp, relay.deadline, relay.idle, relay.target, ctx).await,
        Mode::ResponsesPassthrough => {
            responses::relay_passthrough(relay.resp, relay.deadline, relay.idle, relay.target, ctx).await
        }
        Mode::Responses(reply) => {
            responses::relay_anthropic(relay.resp, relay.deadline, relay.idle, relay.target, *reply, ctx).await
        }
        Mode::ResponsesChained(chained) => {
            responses::relay_chained(relay.resp, relay.deadline, relay.idle, relay.target, *chained, ctx).await
        }
        Mode::Anthropic(reply) => {
            anthropic::relay(relay.resp, relay.deadline, relay.idle, relay.target, reply, ctx).await
        }
        Mode::Gemini(reply) => gemini::relay(relay.resp, relay.deadline, relay.idle, relay.target, reply, ctx).await,
        Mode::Bedrock(reply) => bedrock::relay(relay.resp, relay.deadline, relay.idle, relay.target, reply, ctx).await,
        Mode::Chained(inner, reply) => {
            let resp = match *inner {
                Mode::Gemini(r) => gemini::relay(relay.resp, relay.deadline, relay.idle, relay.target, r, ctx).await,
                Mode::Bedrock(r) => bedrock::relay(relay.resp, relay.deadline, relay.idle, relay.target, r, ctx).await,
                _ => {
                    let e = GatewayError::UpstreamInvalid {
                        target: relay.target,
                        detail: "no chained translation for this provider".into(),
                    };
                    ctx.fail(e.status().as_u16(), e.code(), false);
                    return error_response(dialect, &e);
                }
            };
            chained::to_anthropic(resp, reply).await
        }
        Mode::AnthropicNative => {
            anthropic_native::relay(relay.resp, relay.deadline, relay.idle, relay.target, ctx).await
        }
        Mode::Messages(reply) => {
            messages::relay(relay.resp, relay.deadline, relay.idle, relay.target, reply, ctx).await
        }
    }
}

/// The content type of an SSE answer (Bedrock streams `application/vnd.amazon.eventstream` instead).
const SSE: &str = "text/event-stream";

/// Whether a response's content type starts with `prefix`: how every relay tells a stream from a whole body, on
/// upstream answers and on the answers this gateway builds alike.
fn has_content_type(headers: &http::HeaderMap, prefix: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

/// A streamed client response driven by `handler`.
fn stream_response<H: StreamHandler>(
    resp: http::Response<crate::body::Upstream>,
    handler: H,
    ctx: RequestContext,
    idle: Duration,
    deadline: Instant,
) -> Response {
    let status = resp.status();
    let body = MeteredBody::new(resp.into_body(), handler, ctx, idle, deadline);
    let mut out = Response::new(Body::new(body));
    *out.status_mut() = status;
    let h = out.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out
}

/// Reads a whole (non-streamed) upstream body within the deadline and the size bound.
async fn collect_upstream(body: crate::body::Upstream, deadline: Instant, target: &str) -> Result<Bytes, GatewayError> {
    match tokio::time::timeout_at(deadline, Limited::new(body, MAX_UPSTREAM_BODY).collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) => Err(GatewayError::UpstreamInvalid {
            target: target.to_string(),
            detail: format!("reading the response body failed: {e}"),
        }),
        Err(_) => Err(GatewayError::UpstreamTimeout {
            target: target.to_string(),
            phase: "total",
        }),
    }
}

/// A JSON response with `status` and `body`.
fn json_response(status: http::StatusCode, body: impl Into<Body>) -> Response {
    let mut out = Response::new(body.into());
    *out.status_mut() = status;
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    out
}
