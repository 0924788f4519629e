//! `mock-upstream`: a fast, canned OpenAI-compatible and Anthropic Messages upstream for gateway load benchmarks.
//!
//! Prints `mock-upstream listening on http://HOST:PORT` once bound (so scripts can use `--port 0` and read the
//! port), then serves until killed. See `testkit::bench_upstream` for what it answers.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use testkit::bench_upstream::{Canned, serve};
use tokio::net::TcpListener;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "A fast canned OpenAI-compatible (/v1/chat/completions) and Anthropic (/v1/messages) upstream for benchmarks"
)]
struct Args {
    /// Port to listen on; 0 lets the OS pick (the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Content chunks (OpenAI) or `text_delta` events (Anthropic) in a streamed reply.
    #[arg(long, default_value_t = 100)]
    chunks: usize,
    /// Runtime worker threads; few, so the upstream leaves the cores to the gateway under test.
    #[arg(long, default_value = "1")]
    threads: NonZeroUsize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.get())
        .enable_all()
        .build()
        .context("building the runtime")?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let canned = Arc::new(Canned::new(args.chunks));
    // println! flushes at the newline only on a terminal; scripts read this line through a pipe.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "mock-upstream listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    serve(listener, canned).await;
    Ok(())
}
