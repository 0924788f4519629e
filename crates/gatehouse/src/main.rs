//! The `gatehouse` binary: run the gateway, check a config, or print the config schema.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gatehouse — a governed data plane for AI traffic.
#[derive(Parser)]
#[command(name = "gatehouse", version, about)]
struct Cli {
    /// The config file to run with.
    #[arg(long, env = "GATEHOUSE_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a config file; print every problem with file:line:column and exit non-zero if any.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the config JSON Schema (for editors).
    Schema,
    /// Virtual API key helpers.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Read a key from stdin (first line) and print the SHA-256 hex that `auth.api_keys[].sha256` holds. The key is
    /// read from stdin, not the command line, so it stays out of shell history and `ps`.
    Hash,
}

fn main() -> ExitCode {
    // TLS: one crypto provider for every rustls user in the process, installed before anything else.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { file }) => match gatehouse::config::load(&file) {
            Ok(snap) => {
                println!(
                    "{}: ok ({} models, {} providers)",
                    file.display(),
                    snap.models.len(),
                    snap.providers.len()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                eprintln!("{}: {} problem(s) found", file.display(), errors.0.len());
                ExitCode::from(1)
            }
        },
        Some(Command::Keys {
            action: KeysCommand::Hash,
        }) => {
            let mut line = String::new();
            match std::io::stdin().read_line(&mut line) {
                Ok(_) if !line.trim().is_empty() => {
                    println!("{}", gatehouse::policy::keys::hash_key(line.trim()));
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("gatehouse keys hash: give the key on stdin");
                    ExitCode::from(2)
                }
            }
        }
        Some(Command::Schema) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&gatehouse::config::json_schema()).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        None => {
            let Some(config) = cli.config else {
                eprintln!("gatehouse: no config given; use --config FILE or set GATEHOUSE_CONFIG");
                return ExitCode::from(2);
            };
            init_tracing();
            match run(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("gatehouse: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GATEHOUSE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("GATEHOUSE_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colour only on a terminal: piped logs (files, collectors, tests) stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run(config: PathBuf) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        // Register the signal handlers before "listening" is logged: a SIGTERM right after start must drain, not kill.
        let signals = ShutdownSignals::install();
        let gw = gatehouse::Gateway::start(gatehouse::StartOptions {
            config,
            capture_access_log: None,
        })
        .await?;
        signals.wait().await;
        tracing::info!("shutting down: draining in-flight requests");
        gw.shutdown();
        if gw.wait().await {
            tracing::info!("drained; bye");
        } else {
            tracing::warn!("drain deadline reached; closing remaining connections");
        }
        Ok(())
    })
}

/// SIGTERM and SIGINT, registered when created (a signal arriving before [`ShutdownSignals::wait`] is not lost).
struct ShutdownSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(self.term.as_mut()) => {}
                () = recv(self.int.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
