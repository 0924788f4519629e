//! The data-plane router: which path goes to which handler, and OpenAI-shaped answers for the rest.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http::{HeaderValue, Request, header};
use serde::Serialize;

use crate::context::{Dialect, RequestContext, Route};
use crate::error::GatewayError;
use crate::proxy;
use crate::respond::error_response;
use crate::snapshot::TargetState;
use crate::state::AppState;

/// Builds the data-plane router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::ChatCompletions, r)),
        )
        .route(
            "/v1/completions",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::Completions, r)),
        )
        .route(
            "/v1/embeddings",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::Embeddings, r)),
        )
        .route(
            "/v1/messages",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::Messages, r)),
        )
        .route(
            "/v1/messages/count_tokens",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::CountTokens, r)),
        )
        .route(
            "/v1/responses",
            post(|s: State<Arc<AppState>>, r: Request<Body>| proxy::handle(s.0, Route::Responses, r)),
        )
        .route("/v1/models", get(models))
        .route(
            "/mcp",
            any(|s: State<Arc<AppState>>, r: Request<Body>| crate::mcp::handle(s.0, r)),
        )
        // RFC 9728 protected-resource metadata of `/mcp`, at the path-inserted and the root well-known URLs.
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(|s: State<Arc<AppState>>| crate::mcp::metadata(s.0)),
        )
        .route(
            "/.well-known/oauth-protected-resource",
            get(|s: State<Arc<AppState>>| crate::mcp::metadata(s.0)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelEntry<'a>>,
}

#[derive(Serialize)]
struct ModelEntry<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
    /// gatehouse's own view: aliases and whether each target can serve.
    gatehouse: ModelInfo<'a>,
}

#[derive(Serialize)]
struct ModelInfo<'a> {
    aliases: &'a [String],
    available: bool,
    targets: Vec<TargetInfo<'a>>,
}

#[derive(Serialize)]
struct TargetInfo<'a> {
    provider: &'a str,
    model: &'a str,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// `GET /v1/models`: every configured model the caller may use, in the OpenAI list shape, with target states.
async fn models(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response {
    let id = crate::request_id::from_headers(req.headers());
    let mut ctx = RequestContext::new(state.telemetry.clone(), Route::Models, id.clone());
    ctx.start_trace(req.method(), req.headers());
    let snap = state.snapshot();
    let identity = match crate::policy::authenticate(&snap.policy, req.headers()).await {
        Ok(i) => i,
        Err(e) => {
            ctx.fail(e.status().as_u16(), e.code(), false);
            return error_response(Dialect::OpenAi, &e);
        }
    };
    ctx.identity.clone_from(&identity);
    let data = snap
        .models
        .iter()
        .filter(|m| identity.as_deref().is_none_or(|i| i.allows(m)))
        .map(|m| {
            let targets: Vec<TargetInfo<'_>> = m
                .targets
                .iter()
                .map(|t| {
                    let (st, reason) = match t.provider.state() {
                        TargetState::Enabled => ("enabled", None),
                        TargetState::Disabled(r) => ("disabled", Some(r)),
                    };
                    TargetInfo {
                        provider: &t.provider.name,
                        model: &t.upstream_model,
                        state: st,
                        reason,
                    }
                })
                .collect();
            ModelEntry {
                id: &m.name,
                object: "model",
                created: 0,
                owned_by: "gatehouse",
                gatehouse: ModelInfo {
                    aliases: &m.aliases,
                    available: targets.iter().any(|t| t.reason.is_none()),
                    targets,
                },
            }
        })
        .collect();
    let body = serde_json::to_string(&ModelList { object: "list", data }).unwrap_or_default();
    ctx.completed = true;
    let mut resp = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(crate::request_id::HEADER, v);
    }
    resp
}

async fn not_found(req: Request<Body>) -> Response {
    let err = GatewayError::RouteNotFound(format!("{} {}", req.method(), req.uri().path()));
    error_response(path_dialect(req.uri().path()), &err)
}

async fn method_not_allowed(req: Request<Body>) -> Response {
    let err = GatewayError::MethodNotAllowed(format!("{} {}", req.method(), req.uri().path()));
    error_response(path_dialect(req.uri().path()), &err)
}

/// Anthropic clients get Anthropic errors even on paths that do not exist under their prefix.
fn path_dialect(path: &str) -> Dialect {
    if path.starts_with("/v1/messages") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    }
}
