//! The HTTP surface of a replica: vLLM's OpenAI-compatible routes (chat, completions, embeddings, and the
//! Responses API in [`responses`]), `/health` and `/metrics`.
//!
//! Handlers parse and validate the body ([`request`]), decide on a tool call ([`tools`]), submit to the [`Engine`],
//! and answer either with one JSON body once the last token is out or with an SSE stream ([`stream`]). Errors
//! become vLLM's error JSON in one place ([`ApiError`]'s `IntoResponse`).

mod embeddings;
mod request;
mod response;
mod responses;
mod stream;
mod tools;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use crate::engine::{Engine, SubmitError};
use crate::error::ApiError;
use crate::hash;
use crate::options::SimOptions;
use crate::prng::SplitMix64;
use request::{ChatRequest, CompletionRequest, Prepared};
use response::{Kind, Meta, ToolCallRef};

/// Shared by all handlers of one replica.
#[derive(Debug)]
struct App {
    engine: Engine,
    opts: SimOptions,
    started: u64,
    /// Distinguishes this replica's ids from every other replica's.
    id_seed: u64,
    next_id: AtomicU64,
}

/// Replicas started by this process, so two replicas never share an id seed.
static REPLICAS: AtomicU64 = AtomicU64::new(0);

/// All routes of one replica.
pub(crate) fn router(engine: Engine, opts: SimOptions) -> Router {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let replica = REPLICAS.fetch_add(1, Ordering::Relaxed);
    let id_seed = hash::combine(hash::combine(nanos, u64::from(std::process::id())), replica);
    let app = App {
        engine,
        opts,
        started: unix_now(),
        id_seed,
        next_id: AtomicU64::new(0),
    };
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/responses", post(responses::responses))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(Arc::new(app))
}

async fn chat(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let prepared = request::parse::<ChatRequest>(&body)?.prepare(&app.opts)?;
    app.generate(Kind::Chat, prepared).await
}

async fn completions(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let prepared = request::parse::<CompletionRequest>(&body)?.prepare(&app.opts)?;
    app.generate(Kind::Completion, prepared).await
}

async fn embeddings(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let req: embeddings::EmbeddingRequest = request::parse(&body)?;
    Ok(axum::Json(req.respond(&app.opts)?).into_response())
}

async fn models(State(app): State<Arc<App>>) -> Response {
    let opts = &app.opts;
    let card = |id: &str, root: &str, parent: Option<&str>, max_model_len: Option<usize>| {
        json!({
            "id": id,
            "object": "model",
            "created": app.started,
            "owned_by": "vllm",
            "root": root,
            "parent": parent,
            "max_model_len": max_model_len,
            "permission": [{
                "id": format!("modelperm-{}", app.new_id_suffix()),
                "object": "model_permission",
                "created": app.started,
                "allow_create_engine": false,
                "allow_sampling": true,
                "allow_logprobs": true,
                "allow_search_indices": false,
                "allow_view": true,
                "allow_fine_tuning": false,
                "organization": "*",
                "group": null,
                "is_blocking": false,
            }],
        })
    };
    let mut data = vec![card(&opts.model, &opts.model, None, Some(opts.max_model_len))];
    data.extend(opts.lora.iter().map(|l| card(l, l, Some(&opts.model), None)));
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

async fn health() -> StatusCode {
    StatusCode::OK
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = app.engine.metrics_text();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

// === impl App ===

impl App {
    async fn generate(&self, kind: Kind, prepared: Prepared) -> Result<Response, ApiError> {
        let Prepared {
            model,
            submission,
            stream,
            include_usage,
            tool_call,
        } = prepared;
        let mut handle = self.engine.submit(submission).map_err(|e| match e {
            SubmitError::QueueFull => ApiError::QueueFull(self.opts.max_waiting),
            SubmitError::Unschedulable => ApiError::BadRequest("The request does not fit in the KV cache.".to_owned()),
        })?;
        let prefix = match kind {
            Kind::Chat => "chatcmpl",
            Kind::Completion => "cmpl",
        };
        let meta = Meta {
            kind,
            id: format!("{prefix}-{}", self.new_id_suffix()),
            created: unix_now(),
            model,
        };
        let tool_call = tool_call.map(|plan| (format!("chatcmpl-tool-{}", self.new_id_suffix()), plan));
        if stream {
            return Ok(stream::response(handle, meta, include_usage, tool_call));
        }
        // A tool call's leading name tokens are not part of the text: what follows them is the arguments.
        let mut skip = tool_call.as_ref().map_or(0, |(_, plan)| plan.name_tokens);
        let mut text = String::new();
        while let Some(event) = handle.recv().await {
            match skip.checked_sub(1) {
                Some(rest) => skip = rest,
                None => text.push_str(&event.text),
            }
            let Some(finish) = event.finish else {
                continue;
            };
            let body = match &tool_call {
                None => meta.full_response(&text, finish.reason, finish.usage),
                Some((id, plan)) => {
                    let call = ToolCallRef {
                        id,
                        name: &plan.name,
                        arguments: &text,
                    };
                    let reason = plan.kind.finish_reason(finish.reason);
                    meta.tool_call_response(&call, plan.kind.content(), reason, finish.usage)
                }
            };
            return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
        }
        Err(ApiError::EngineStopped)
    }

    /// 32 hex digits, unique per replica and request (like vLLM's random UUIDs; not reproducible).
    fn new_id_suffix(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut prng = SplitMix64::new(hash::combine(self.id_seed, n));
        format!("{:016x}{:016x}", prng.next_u64(), prng.next_u64())
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
