//! The admin listener: health, readiness, metrics, the redacted config and the status page.
//!
//! It runs on its own address so it can stay private while the data plane is public.

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

mod sections;

use sections::esc;

use crate::snapshot::TargetState;
use crate::state::{AppState, ReloadReport};

/// Builds the admin router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/config", get(config))
        .route("/status", get(status))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else if state.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state.telemetry.metrics.ops.refresh(&state);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.telemetry.metrics.encode(),
    )
        .into_response()
}

async fn config(State(state): State<Arc<AppState>>) -> Response {
    let snap = state.snapshot();
    let body = serde_json::to_string_pretty(&snap.redacted).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(Serialize)]
struct Status {
    /// Version and config generation.
    #[serde(flatten)]
    overview: sections::Overview,
    config_file: String,
    ready: bool,
    draining: bool,
    last_reload: Option<ReloadReport>,
    models: Vec<ModelStatus>,
    /// vLLM pools: replicas with their last signals, age and health.
    pools: Vec<crate::pool::PoolStatus>,
    /// Spend budgets: every account seen, with its spend this period.
    budgets: Vec<crate::policy::budget::AccountStatus>,
    /// Warm fallback: per model the serving target and why, per target health, last probe, ejection left.
    fallback: Vec<crate::fallback::FallbackStatus>,
    /// Limits in evaluation order, with their backend.
    limits: sections::LimitsStatus,
    /// MCP upstreams and the sessions this replica holds (absent when `/mcp` is not configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    mcp: Option<Vec<sections::McpUpstreamStatus>>,
    /// Trace export.
    traces: sections::TracesStatus,
}

#[derive(Serialize)]
struct ModelStatus {
    name: String,
    aliases: Vec<String>,
    /// The target that would serve the next request, if any.
    serving: Option<String>,
    targets: Vec<TargetStatus>,
}

#[derive(Serialize)]
struct TargetStatus {
    provider: String,
    kind: String,
    model: String,
    endpoints: Vec<String>,
    state: &'static str,
    reason: Option<String>,
    /// Passive health: in rotation, ejected or cooling, with the reason and time left (docs/failover.md).
    health: crate::health::HealthView,
}

#[derive(Deserialize)]
struct StatusQuery {
    format: Option<String>,
}

/// JSON when asked (`?format=json` or `Accept: application/json`), a small HTML page otherwise.
async fn status(State(state): State<Arc<AppState>>, headers: HeaderMap, Query(q): Query<StatusQuery>) -> Response {
    let snap = state.snapshot();
    let models = snap
        .models
        .iter()
        .map(|m| {
            let targets: Vec<TargetStatus> = m
                .targets
                .iter()
                .map(|t| {
                    let (st, reason) = match t.provider.state() {
                        TargetState::Enabled => ("enabled", None),
                        TargetState::Disabled(r) => ("disabled", Some(r)),
                    };
                    TargetStatus {
                        provider: t.provider.name.clone(),
                        kind: serde_json::to_value(t.provider.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        model: t.upstream_model.clone(),
                        endpoints: t.provider.endpoints.clone(),
                        state: st,
                        reason,
                        health: t.provider.health.view(tokio::time::Instant::now()),
                    }
                })
                .collect();
            ModelStatus {
                name: m.name.clone(),
                aliases: m.aliases.clone(),
                // The failover loop's choice (priority groups, health; fail open): crate::fallback.
                serving: crate::fallback::serving(m, tokio::time::Instant::now()).target,
                targets,
            }
        })
        .collect();
    let status = Status {
        config_file: snap.source.display().to_string(),
        ready: state.is_ready(),
        draining: state.is_draining(),
        last_reload: state.last_reload.lock().ok().and_then(|g| g.clone()),
        models,
        pools: crate::pool::status(&snap),
        budgets: snap.policy.budgets.iter().flat_map(|b| b.status()).collect(),
        fallback: crate::fallback::status(&snap),
        overview: sections::overview(&state),
        limits: sections::limits(&snap),
        mcp: sections::mcp(&snap),
        traces: sections::traces(&state.telemetry.traces),
    };
    let wants_json = q.format.as_deref() == Some("json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::to_string_pretty(&status).unwrap_or_default(),
        )
            .into_response();
    }
    Html(render_html(&status)).into_response()
}

/// The page: one section per part of the state (`admin/sections.rs`), in the order an operator reads them.
fn render_html(s: &Status) -> String {
    let mut h = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>gatehouse status</title><style>{}</style></head><body>",
        sections::CSS
    );
    sections::render_overview(
        &mut h,
        &s.overview,
        &s.config_file,
        s.ready,
        s.draining,
        s.last_reload.as_ref(),
    );
    render_models(&mut h, s);
    crate::pool::render_html(&mut h, &s.pools);
    crate::fallback::render_html(&mut h, &s.fallback);
    sections::render_limits(&mut h, &s.limits);
    sections::render_budgets(&mut h, &s.budgets);
    sections::render_mcp(&mut h, s.mcp.as_deref());
    sections::render_traces(&mut h, &s.traces);
    h.push_str("</body></html>");
    h
}

/// Models → targets in failover order, with the target serving now.
fn render_models(h: &mut String, s: &Status) {
    h.push_str(
        "<h2>Models</h2><p class=note>Targets in failover order; \"serving\" is the target the next request goes \
         to.</p>",
    );
    h.push_str("<table><tr><th>model</th><th>serving</th><th>target</th><th>kind</th><th>upstream model</th><th>state</th><th>reason</th></tr>");
    for m in &s.models {
        for (i, t) in m.targets.iter().enumerate() {
            // The model and its serving target once per model, not repeated on every target row.
            let (name, serving) = if i == 0 {
                let mut name = esc(&m.name);
                if !m.aliases.is_empty() {
                    let _ = write!(name, " <small>(alias {})</small>", esc(&m.aliases.join(", ")));
                }
                (name, esc(m.serving.as_deref().unwrap_or("none")))
            } else {
                (String::new(), String::new())
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class={}>{}</td><td>{}</td></tr>",
                name,
                serving,
                esc(&t.provider),
                esc(&t.kind),
                esc(&t.model),
                t.state,
                t.state,
                esc(t.reason.as_deref().unwrap_or(""))
            );
        }
    }
    h.push_str("</table>");
}
