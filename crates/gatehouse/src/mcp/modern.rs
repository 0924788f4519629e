//! The stateless 2026-07-28 era on `/mcp`: every POST is self-contained (its envelope in `params._meta`, its method
//! and name mirrored in `Mcp-Method`/`Mcp-Name`), no `Mcp-Session-Id` is handed out, and `server/discover` replaces
//! `initialize`.
//!
//! Upstreams are still of the session era, so gatehouse holds upstream sessions on the client's behalf: one set per
//! (principal, client capabilities and info), named by a hash of those ([`claims_for`]), opened on first use on this
//! replica and reused by every later request with the same key ([`ModernSessions`]). Upstream sessions lost or
//! evicted are re-opened transparently by the same machinery as the session era (`upstream.rs`). Requests are
//! dispatched by the session era's `methods.rs` with a gateway-chosen id (a stateless client may reuse ids across
//! concurrent requests, which would collide inside one shared upstream session); the answer gets the client's id back
//! and the modern result fields (`resultType`, `ttlMs`/`cacheScope` on lists). An upstream's server→client request
//! for sampling or elicitation during a call becomes an `input_required` round (`mrtr.rs`); `subscriptions/listen`
//! is served by `listen.rs`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::{IntoResponse, Response};
use gatehouse_mcp::envelope::{self, Message};
use gatehouse_mcp::merge::ListKind;
use gatehouse_mcp::modern::{self, Envelope, Rejection, RoutingHeaders};
use gatehouse_mcp::session::{SessionClaims, VERSION};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::value::RawValue;

use super::SUPPORTED_VERSIONS;
use super::error::McpFailure;
use super::log::McpLog;
use super::methods::{self, Allow, Answer};
use super::settings::McpSettings;

mod held;
mod listen;
mod mrtr;
mod param_headers;

pub use held::ModernSessions;
pub use listen::{Listening, sse as listen_stream};
pub use mrtr::{Call, ParkedCalls, sse as relay};

/// The session-era version gatehouse speaks to upstreams on a stateless client's behalf.
const UPSTREAM_VERSION: &str = "2025-11-25";

/// What a modern POST became.
pub enum Served {
    /// A complete answer.
    Response(Response),
    /// An upstream's messages to relay as SSE ([`relay`]), ending with the response or an `input_required` result.
    Stream(Call),
    /// A `subscriptions/listen` stream ([`listen_stream`]).
    Listen(Box<Listening>),
}

/// Every version served at `/mcp`, newest first (what an unsupported-version answer lists).
#[must_use]
pub fn served_versions() -> Vec<&'static str> {
    modern::MODERN_VERSIONS
        .iter()
        .chain(SUPPORTED_VERSIONS)
        .copied()
        .collect()
}

/// Whether a GET/DELETE names a modern version (answered 405: the stateless era is POST only).
#[must_use]
pub fn header_is_modern(headers: &HeaderMap) -> bool {
    headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| modern::MODERN_VERSIONS.contains(&v))
}

/// The 405 a modern client gets for GET or DELETE.
#[must_use]
pub fn post_only() -> Response {
    let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// Serves one modern POST (already authenticated, parsed and rate limited).
pub async fn serve(
    settings: &McpSettings,
    headers: &HeaderMap,
    msg: Message<'_>,
    principal: &str,
    allow: Allow<'_>,
    log: &mut McpLog,
) -> Served {
    let served = served_versions();
    let (id, method, params) = match msg {
        Message::Request { id, method, params } => (id, method, params),
        Message::Notification { .. } => {
            // The stateless era defines no client→server notification over HTTP (closing the stream cancels):
            // acknowledged and dropped, once the version is one we serve.
            let v = headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok());
            return match v {
                Some(v) if modern::MODERN_VERSIONS.contains(&v) => {
                    Served::Response(StatusCode::ACCEPTED.into_response())
                }
                v => Served::Response(rejected(None, &modern::unsupported(v.unwrap_or(""), &served), log)),
            };
        }
        Message::Response { .. } => {
            let e = McpFailure::Protocol(gatehouse_mcp::McpError::InvalidMessage(
                "clients must not send responses in the 2026-07-28 era".into(),
            ));
            return Served::Response(failure(None, &e, log));
        }
    };
    let lines = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    let envelope = match RoutingHeaders::collect(lines).and_then(|h| modern::classify(method, params, &h, &served)) {
        Ok(e) => e,
        Err(r) => return Served::Response(rejected(Some(id), &r, log)),
    };
    log.protocol = Some(envelope.protocol.clone());
    match dispatch(settings, headers, &envelope, id, method, params, principal, allow, log).await {
        Ok(s) => s,
        Err(e) => Served::Response(failure(Some(id), &e, log)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    settings: &McpSettings,
    headers: &HeaderMap,
    envelope: &Envelope,
    id: &RawValue,
    method: &str,
    params: Option<&RawValue>,
    principal: &str,
    allow: Allow<'_>,
    log: &mut McpLog,
) -> Result<Served, McpFailure> {
    settings.runtime.parked.sweep(std::time::Instant::now());
    let claims = claims_for(principal, envelope)?;
    // `_held` keeps this key's upstream sessions from being evicted while the request runs.
    let (held, discovered) = settings.runtime.modern.ensure(settings, &claims).await?;
    let upstream_id = gateway_id()?;
    let params = params.map(modern::strip_envelope).transpose()?;
    let params = params.as_deref();
    let answer = match method {
        "server/discover" => {
            let result = modern::discover_result(
                &served_versions(),
                &discovered.capabilities,
                discovered.instructions.as_deref(),
                &super::methods::server_info(),
            )?;
            return Ok(json(envelope::result(id, &result)));
        }
        "tools/call" | "prompts/get" | "resources/read" => {
            // A multi-round-trip retry carries `inputResponses` and `requestState`; upstreams never see them.
            let (params, retry) = match params {
                Some(p) => {
                    let (p, r) = gatehouse_mcp::mrtr::split_retry(p)?;
                    (Some(p), r)
                }
                None => (None, gatehouse_mcp::mrtr::RetryFields::default()),
            };
            let params = params.as_deref();
            if let Ok(p) = envelope::Params::read(params) {
                log.item = p.name.or(p.uri).map(|s| s.into_owned());
            }
            if method == "tools/call"
                && let Err(r) = param_headers::check(settings, &claims, &held, headers, params, allow).await?
            {
                return Ok(Served::Response(rejected(Some(id), &r, log)));
            }
            // (A request whose binding cannot be computed — arguments serde cannot represent — is served, but cannot
            // park: an upstream's request for input during it is refused upstream.)
            let binding = mrtr::binding_digest(method, params);
            if let Some(state) = retry.request_state.as_deref() {
                // Authorized again: the caller's claims (and the rules) may have changed since the first round.
                log.target = Some(methods::authorize(settings, method, params, allow)?.1);
                let call = mrtr::resume(
                    settings,
                    principal,
                    method,
                    &binding?,
                    state,
                    &retry.input_responses,
                    id,
                )
                .await?;
                return Ok(Served::Stream(call));
            }
            let (answer, target, _) = methods::routed(settings, &claims, method, &upstream_id, params, allow).await?;
            log.target = Some(target);
            return Ok(stream_or_json(
                answer,
                method,
                id,
                origin(&claims, &held, principal, method, binding.ok()),
            ));
        }
        "subscriptions/listen" => {
            let l = listen::prepare(settings, &held, &discovered, id, params, allow).await?;
            return Ok(Served::Listen(Box::new(l)));
        }
        "completion/complete" => {
            let (answer, target, item) = methods::complete(settings, &claims, &upstream_id, params, allow).await?;
            log.target = Some(target);
            log.item = Some(item);
            answer
        }
        m => match ListKind::from_method(m) {
            Some(kind) => methods::list(settings, &claims, kind, &upstream_id, params, allow).await?,
            None => return Err(McpFailure::MethodNotFound(m.to_string())),
        },
    };
    Ok(stream_or_json(
        answer,
        method,
        id,
        origin(&claims, &held, principal, method, None),
    ))
}

fn origin(
    claims: &SessionClaims,
    held: &std::sync::Arc<held::Held>,
    principal: &str,
    method: &str,
    binding: Option<String>,
) -> mrtr::Origin {
    mrtr::Origin {
        claims: claims.clone(),
        held: held.clone(),
        principal: principal.to_string(),
        method: method.to_string(),
        binding,
    }
}

fn stream_or_json(answer: Answer, method: &str, id: &RawValue, origin: mrtr::Origin) -> Served {
    match answer {
        Answer::Stream { rx, mut mapper } => {
            mapper.client_id = Some(id.to_owned());
            Served::Stream(Call {
                rx,
                buffer: std::collections::VecDeque::new(),
                mapper,
                id: id.to_owned(),
                origin,
            })
        }
        Answer::Json { body, .. } => {
            let cacheable = ListKind::from_method(method).is_some();
            json(restore(&body, id, cacheable))
        }
    }
}

/// A response from an upstream or the merge, with the client's id and the modern result fields; errors keep their
/// body. Anything unreadable is passed on unchanged.
#[must_use]
pub fn restore(body: &str, client_id: &RawValue, cacheable: bool) -> String {
    match envelope::parse_one(body.as_bytes()) {
        Ok(Message::Response {
            outcome: Ok(result), ..
        }) => match modern::stamp_result(result, cacheable) {
            Ok(r) => envelope::result(client_id, &r),
            Err(_) => envelope::result(client_id, result),
        },
        Ok(Message::Response { outcome: Err(e), .. }) => {
            format!(r#"{{"jsonrpc":"2.0","id":{},"error":{}}}"#, client_id.get(), e.get())
        }
        _ => body.to_string(),
    }
}

/// The claims standing for a stateless client: a session id derived from the principal and the upstream
/// `initialize` params (so the same caller with the same capabilities always maps to the same upstream sessions, and
/// two principals never share one), and those params for (re-)opening upstream sessions.
pub fn claims_for(principal: &str, envelope: &Envelope) -> Result<SessionClaims, McpFailure> {
    let init = modern::upstream_init(envelope, UPSTREAM_VERSION)?;
    let max_init = gatehouse_mcp::session::MAX_CLAIMS_BYTES / 2;
    if init.get().len() > max_init {
        return Err(gatehouse_mcp::McpError::InvalidParams(format!(
            "client capabilities and info exceed {max_init} bytes"
        ))
        .into());
    }
    let mut material = Vec::with_capacity(principal.len() + init.get().len() + 1);
    material.extend_from_slice(principal.as_bytes());
    material.push(0);
    material.extend_from_slice(init.get().as_bytes());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &material);
    let sid: String = std::iter::once("m".to_string())
        .chain(digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")))
        .collect();
    Ok(SessionClaims {
        v: VERSION,
        sid,
        principal: principal.to_string(),
        protocol: modern::MODERN_VERSIONS[0].to_string(),
        init,
        upstreams: Vec::new(),
    })
}

/// A request id unique on this replica, used towards upstreams in place of the client's.
pub(super) fn gateway_id() -> Result<Box<RawValue>, McpFailure> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Ok(envelope::to_raw(&format!("gh-m-{n}"))?)
}

fn json(body: String) -> Served {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Served::Response(r)
}

/// A ladder rejection: its code, message and data, with the status the spec maps the code to.
fn rejected(id: Option<&RawValue>, r: &Rejection, log: &mut McpLog) -> Response {
    log.error_code = Some(match r.code {
        modern::errors::HEADER_MISMATCH => "mcp_header_mismatch",
        modern::errors::UNSUPPORTED_PROTOCOL_VERSION => "mcp_bad_protocol_version",
        _ => "mcp_invalid_params",
    });
    let data = r
        .data
        .as_deref()
        .and_then(|d| RawValue::from_string(d.to_string()).ok());
    let body = envelope::error(id, r.code, &r.message, data.as_deref());
    let status = modern::http_status(r.code).unwrap_or(400);
    let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A failure answered in the stateless era: the session era's JSON-RPC error, with the HTTP status the modern
/// status table gives its code (an unknown tool is 400, an unknown method 404; upstream failures stay 200).
fn failure(id: Option<&RawValue>, e: &McpFailure, log: &mut McpLog) -> Response {
    log.error_code = Some(e.code());
    let mut r = crate::respond::jsonrpc_error(id, e);
    if r.status() == StatusCode::OK
        && let Some(s) = modern::http_status(e.jsonrpc_code()).and_then(|s| StatusCode::from_u16(s).ok())
    {
        *r.status_mut() = s;
    }
    r
}

pub(super) fn upstream_failure(detail: &str) -> McpFailure {
    McpFailure::Upstream {
        target: "*".into(),
        detail: detail.into(),
    }
}
