//! The `/mcp` endpoint over HTTP: the policy pipeline, session token, dispatch, and the JSON answer (SSE answers are
//! relayed by `relay.rs`).
//!
//! Order: Origin/Host (403, `checks.rs`) → authentication (401) → method (GET 405, DELETE ends the session) →
//! Content-Type (415) / Accept (406) → body size (413) → JSON-RPC parse (400; batches refused) →
//! `MCP-Protocol-Version` (400; a 2026-07-28 request goes to `modern.rs` after the rate limit) → rate limit
//! (429, `limit.rs`) → `initialize`, or the session token (400 missing, 404 unknown, 403 another principal's) →
//! method, with per-item authorization inside lists and calls.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gatehouse_mcp::envelope::{self, Message, Parsed};
use gatehouse_mcp::merge::ListKind;
use gatehouse_mcp::session::SessionClaims;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::error::McpFailure;
use super::log::McpLog;
use super::methods::{self, Allow, Answer, Mapper};
use super::settings::McpSettings;
use super::{checks, limit, modern, relay, tasks, upstream};
use crate::respond::jsonrpc_error;
use crate::state::AppState;

/// Serves `/mcp`.
pub async fn handle(state: Arc<AppState>, req: Request<Body>) -> Response {
    let snap = state.snapshot();
    let request_id = crate::request_id::from_headers(req.headers());
    let mut log = McpLog::new(state.telemetry.clone(), request_id);
    log.start_trace(req.headers());
    let Some(settings) = snap.mcp.clone() else {
        log.status = 404;
        log.error_code = Some("mcp_not_configured");
        let mut r = (
            StatusCode::NOT_FOUND,
            envelope::error(None, envelope::codes::METHOD_NOT_FOUND, "MCP is not configured", None),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return r;
    };
    let shared = limit::Shared {
        redis: snap.policy.redis.clone(),
        backend_errors: state.telemetry.metrics.metering.limiter_backend_errors.clone(),
    };
    // The exchange's span is current while it is served: upstream hops and the JWKS fetch open child spans under it.
    let cx = log.trace.clone();
    let served = opentelemetry::context::FutureExt::with_context(serve(&settings, &shared, req, &mut log), cx).await;
    let resp = match served {
        Ok(Reply::Response(r)) => r,
        Ok(Reply::Stream { rx, mapper, id }) => return relay::sse(settings, rx, mapper, id, log),
        Ok(Reply::Stateless(call)) => return modern::relay(settings, *call, log),
        Ok(Reply::Listen(l)) => return modern::listen_stream(settings, *l, log),
        Ok(Reply::Notifications(claims)) => return relay::notification_stream(settings, &claims, log).await,
        Err((id, e)) => {
            log.error_code = Some(e.code());
            let mut r = jsonrpc_error(id.as_deref(), &e);
            if let (McpFailure::Unauthenticated(a), Some(auth)) = (&e, &settings.auth) {
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge(&auth.metadata_url, a));
            }
            if let McpFailure::RateLimited { retry_after } = &e {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            r
        }
    };
    log.status = resp.status().as_u16();
    log.completed = true;
    resp
}

enum Reply {
    Response(Response),
    /// A stateless client's call, relayed with `input_required` rounds (`modern/mrtr.rs`).
    Stateless(Box<modern::Call>),
    /// A stateless client's `subscriptions/listen` stream (`modern/listen.rs`).
    Listen(Box<modern::Listening>),
    Notifications(SessionClaims),
    Stream {
        rx: mpsc::Receiver<Bytes>,
        mapper: Mapper,
        id: Box<RawValue>,
    },
}

type Failed = (Option<Box<RawValue>>, McpFailure);

async fn serve(
    settings: &Arc<McpSettings>,
    shared: &limit::Shared,
    req: Request<Body>,
    log: &mut McpLog,
) -> Result<Reply, Failed> {
    let no_id = |e: McpFailure| (None, e);
    checks::origin_and_host(settings, req.headers()).map_err(no_id)?;
    let peer = crate::peer::of(&req);
    // Policies in order: authenticate → (parse) → rate limit → authorize per item.
    let caller = match &settings.auth {
        None => crate::auth::Principal::anonymous(),
        Some(auth) => auth
            .jwt
            .authenticate(req.headers())
            .await
            .map_err(|e| no_id(McpFailure::Unauthenticated(e)))?,
    };
    log.principal = Some(caller.subject.clone());
    let principal = caller.subject.clone();
    log.method = Some(req.method().as_str().to_string());
    match *req.method() {
        Method::POST => {}
        // The stateless era is POST only.
        _ if modern::header_is_modern(req.headers()) => return Ok(Reply::Response(modern::post_only())),
        Method::DELETE => {
            let claims = session(settings, req.headers(), &principal).map_err(no_id)?;
            log.session = Some(claims.sid.clone());
            upstream::close(settings, &claims).await;
            return Ok(Reply::Response(StatusCode::OK.into_response()));
        }
        Method::GET => {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !accept.contains("text/event-stream") {
                return Err(no_id(McpFailure::BadHeaders("Accept must list text/event-stream")));
            }
            let claims = session(settings, req.headers(), &principal).map_err(no_id)?;
            log.session = Some(claims.sid.clone());
            return Ok(Reply::Notifications(claims));
        }
        _ => {
            let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            return Ok(Reply::Response(r));
        }
    }
    checks::post_headers(req.headers()).map_err(no_id)?;
    let headers = req.headers().clone();
    let limit = settings.max_message_bytes;
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| no_id(McpFailure::TooLarge { limit }))?;
    let msg = match envelope::parse(&body).map_err(|e| no_id(e.into()))? {
        Parsed::Single(m) => m,
        Parsed::Batch(_) => return Err(no_id(gatehouse_mcp::McpError::BatchNotAllowed.into())),
    };
    log.method = msg.method().map(str::to_string);
    log.jsonrpc_id = msg.id().map(|i| i.get().trim_matches('"').to_string());
    log.protocol = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let version = headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok());
    let stateless = gatehouse_mcp::modern::is_modern(version, msg.params());
    if !stateless {
        checks::version(&headers).map_err(no_id)?;
    }
    let id = msg.id().map(ToOwned::to_owned);
    let with_id = |e: McpFailure| (id.clone(), e);
    limit::check(settings, shared, &caller.subject, peer, &msg)
        .await
        .map_err(with_id)?;
    let allow_fn = |noun: &'static str, target: &str, name: &str| -> bool {
        let Some(idx) = settings.ns.target_index(target) else {
            return false;
        };
        let exposed = if noun == "resource" {
            gatehouse_mcp::uri::expose(&settings.ns, idx, name)
        } else {
            settings.ns.expose(idx, name)
        };
        exposed.is_some_and(|e| settings.policy.allows(&caller.claims, noun, &e))
    };
    let allow: Allow<'_> = &allow_fn;
    if stateless {
        return Ok(
            match modern::serve(settings, &headers, msg, &principal, allow, log).await {
                modern::Served::Response(r) => Reply::Response(r),
                modern::Served::Stream(call) => Reply::Stateless(Box::new(call)),
                modern::Served::Listen(l) => Reply::Listen(l),
            },
        );
    }

    if let Message::Request {
        id,
        method: "initialize",
        params,
    } = msg
    {
        let answer = methods::initialize(settings, &principal, id, params)
            .await
            .map_err(with_id)?;
        return Ok(Reply::Response(json_answer(answer)));
    }
    let claims = session(settings, &headers, &principal).map_err(with_id)?;
    log.session = Some(claims.sid.clone());
    match msg {
        Message::Request { id, method, params } => {
            let answer = match method {
                "ping" => Answer::Json {
                    body: envelope::result(
                        id,
                        &envelope::to_raw(&serde_json::Map::new()).map_err(|e| with_id(e.into()))?,
                    ),
                    session: None,
                },
                "tools/call" | "prompts/get" | "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                    if let Ok(p) = envelope::Params::read(params) {
                        log.item = p.name.or(p.uri).map(|s| s.into_owned());
                    }
                    let (answer, target, _) = methods::routed(settings, &claims, method, id, params, allow)
                        .await
                        .map_err(with_id)?;
                    log.target = Some(target);
                    answer
                }
                "completion/complete" => {
                    let (answer, target, item) = methods::complete(settings, &claims, id, params, allow)
                        .await
                        .map_err(with_id)?;
                    log.target = Some(target);
                    log.item = Some(item);
                    answer
                }
                "tasks/get" | "tasks/result" | "tasks/cancel" => {
                    let (answer, target) = tasks::routed(settings, &claims, method, id, params)
                        .await
                        .map_err(with_id)?;
                    log.target = Some(target);
                    answer
                }
                "tasks/list" => tasks::list(settings, &claims, id, params).await.map_err(with_id)?,
                "logging/setLevel" => methods::fan_out_request(settings, &claims, id, method, params)
                    .await
                    .map_err(with_id)?,
                m => match ListKind::from_method(m) {
                    Some(kind) => methods::list(settings, &claims, kind, id, params, allow)
                        .await
                        .map_err(with_id)?,
                    None => return Err(with_id(McpFailure::MethodNotFound(m.to_string()))),
                },
            };
            match answer {
                Answer::Stream { rx, mapper } => Ok(Reply::Stream {
                    rx,
                    mapper,
                    id: id.to_owned(),
                }),
                other => Ok(Reply::Response(json_answer(other))),
            }
        }
        Message::Notification { method, params } => {
            if method != "notifications/initialized" {
                // Upstreams were sent `initialized` when their sessions opened; others go to every upstream.
                for i in 0..settings.upstreams.len() {
                    upstream::notify(settings, &claims, i, method, params).await;
                }
            }
            Ok(Reply::Response(StatusCode::ACCEPTED.into_response()))
        }
        Message::Response { id, outcome } => {
            methods::route_response(settings, &claims, id, outcome).await;
            Ok(Reply::Response(StatusCode::ACCEPTED.into_response()))
        }
    }
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`: the RFC 9728 metadata, when `/mcp` authenticates.
pub async fn metadata(state: Arc<AppState>) -> Response {
    let snap = state.snapshot();
    match snap.mcp.as_ref().and_then(|m| m.auth.as_ref()) {
        Some(auth) => {
            let mut r = (StatusCode::OK, auth.metadata.clone()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `WWW-Authenticate` for a 401 (RFC 6750 + RFC 9728): where the metadata is, and why the token was refused.
fn challenge(metadata_url: &str, e: &crate::auth::AuthError) -> HeaderValue {
    let v = match e {
        crate::auth::AuthError::Missing => format!("Bearer resource_metadata=\"{metadata_url}\""),
        crate::auth::AuthError::Invalid(reason) => format!(
            "Bearer resource_metadata=\"{metadata_url}\", error=\"invalid_token\", error_description=\"{reason}\""
        ),
        crate::auth::AuthError::KeysUnavailable => format!("Bearer resource_metadata=\"{metadata_url}\""),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn json_answer(answer: Answer) -> Response {
    match answer {
        Answer::Json { body, session } => {
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Some(v) = session.and_then(|s| HeaderValue::from_str(&s).ok()) {
                r.headers_mut().insert("mcp-session-id", v);
            }
            r
        }
        Answer::Stream { .. } => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Opens the session token and checks it belongs to the caller.
fn session(settings: &McpSettings, headers: &HeaderMap, principal: &str) -> Result<SessionClaims, McpFailure> {
    let token = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .ok_or(McpFailure::NoSession)?;
    let claims = settings.key.open(token)?;
    if claims.principal != principal {
        return Err(McpFailure::ForeignSession);
    }
    Ok(claims)
}
