//! `vllm-sim` binary: one simulated vLLM replica on one port.
//!
//! Prints exactly one line, `vllm-sim listening on http://HOST:PORT`, to stdout once the socket is bound (with the
//! real port when `--port 0`), logs to stderr, and on SIGTERM or Ctrl-C stops accepting and lets in-flight
//! requests finish for up to `--shutdown-grace-secs`.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use vllm_sim::SimOptions;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "vllm-sim",
    version,
    about = "A simulated vLLM replica (OpenAI API + vLLM metrics)."
)]
struct Cli {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// Port to bind; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 8000)]
    port: u16,

    /// After SIGTERM/Ctrl-C, how long in-flight requests may take before the process exits anyway.
    #[arg(long, default_value_t = 10)]
    shutdown_grace_secs: u64,

    #[command(flatten)]
    sim: SimOptions,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Err(errors) = cli.sim.validate() {
        for error in &errors {
            eprintln!("vllm-sim: invalid option: {error}");
        }
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listener = TcpListener::bind((cli.host.as_str(), cli.port))
        .await
        .with_context(|| format!("binding {}:{}", cli.host, cli.port))?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "vllm-sim listening on http://{addr}")?;
        stdout.flush()?;
    }
    tracing::info!(%addr, model = %cli.sim.model, loras = ?cli.sim.lora, "serving");

    let stop = CancellationToken::new();
    let signalled = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; draining in-flight requests");
        signalled.cancel();
    });
    let grace = Duration::from_secs(cli.shutdown_grace_secs);
    let deadline = async {
        stop.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = vllm_sim::serve_with_shutdown(listener, cli.sim, stop.clone().cancelled_owned()) => result?,
        () = deadline => tracing::warn!("grace period over; exiting with requests in flight"),
    }
    Ok(())
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
