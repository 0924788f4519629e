//! `vllm-sim`: a simulated vLLM replica that behaves enough like vLLM's OpenAI server to route against.
//!
//! It serves `/v1/chat/completions`, `/v1/completions` (JSON and SSE), `/v1/models`, `/health` and `/metrics`
//! with vLLM's shapes and metric names, backed by a simulated engine: continuous batching with chunked prefill,
//! paged KV blocks with an LRU prefix cache, preemption, and sleep-based step timing. See the crate README for the
//! engine model and what it leaves out.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let opts = vllm_sim::SimOptions { time_scale: 0.01, ..Default::default() };
//! vllm_sim::serve(listener, opts).await
//! # }
//! ```
//!
//! Several replicas can run in one process: each `serve` call owns its engine and shares nothing.

mod api;
mod engine;
mod error;
mod hash;
mod kv_cache;
mod metrics;
mod options;
mod prng;
mod reply;
mod tokenizer;

use std::future::{Future, IntoFuture};
use std::io;

use tokio::net::TcpListener;

pub use options::SimOptions;

/// Serves one replica on `listener` until the returned future is dropped.
///
/// Fails at once with [`io::ErrorKind::InvalidInput`] if `opts` do not [validate](SimOptions::validate).
pub async fn serve(listener: TcpListener, opts: SimOptions) -> io::Result<()> {
    serve_with_shutdown(listener, opts, std::future::pending()).await
}

/// Serves one replica until `shutdown` completes, then stops accepting and lets in-flight requests finish.
///
/// The engine keeps stepping while connections drain; dropping the future instead stops everything at once and
/// ends open streams.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    opts: SimOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    opts.validate()
        .map_err(|errors| io::Error::new(io::ErrorKind::InvalidInput, errors.join("; ")))?;
    let engine = engine::Engine::new(&opts);
    let _stop_engine = StopOnDrop(engine.clone());
    let app = api::router(engine.clone(), opts);
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .into_future();
    tokio::select! {
        result = server => result,
        never = engine.run() => match never {},
    }
}

/// Ends every request of an engine whose server future went away, so their streams close.
struct StopOnDrop(engine::Engine);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}
