//! Starting and stopping a whole gateway: load config, bind both listeners, run the reloader, drain.
//!
//! The binary and the integration tests use the same entry point, so tests run the real server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::access_log::AccessLog;
use crate::config::ConfigErrors;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::telemetry::Telemetry;

/// How to start.
#[derive(Default)]
pub struct StartOptions {
    /// The config file.
    pub config: PathBuf,
    /// Also send access-log lines to this channel (tests).
    pub capture_access_log: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config is invalid.
    #[error("{0}")]
    Config(ConfigErrors),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A running gateway.
pub struct Gateway {
    /// Bound data-plane address.
    pub data_addr: SocketAddr,
    /// Bound admin address.
    pub admin_addr: SocketAddr,
    /// Shared state (config, telemetry, lifecycle).
    pub state: Arc<AppState>,
    stop: CancellationToken,
    task: JoinHandle<bool>,
}

// === impl Gateway ===

impl Gateway {
    /// Loads the config, binds, and starts serving.
    pub async fn start(opts: StartOptions) -> Result<Self, StartError> {
        let path = opts.config.clone();
        let snap = tokio::task::spawn_blocking(move || crate::config::load(&path))
            .await
            .map_err(|e| {
                StartError::Config(ConfigErrors(vec![crate::config::ConfigError {
                    file: opts.config.clone(),
                    line: 0,
                    col: 0,
                    path: String::new(),
                    message: e.to_string(),
                }]))
            })?
            .map_err(StartError::Config)?;
        let data = TcpListener::bind(snap.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: snap.listen,
                source,
            })?;
        let admin = TcpListener::bind(snap.admin).await.map_err(|source| StartError::Bind {
            addr: snap.admin,
            source,
        })?;
        let data_addr = data.local_addr().map_err(|source| StartError::Bind {
            addr: snap.listen,
            source,
        })?;
        let admin_addr = admin.local_addr().map_err(|source| StartError::Bind {
            addr: snap.admin,
            source,
        })?;

        let mut access_log = AccessLog::new(snap.access_log);
        if let Some(c) = opts.capture_access_log {
            access_log = access_log.with_capture(c);
        }
        let metrics = Metrics::new();
        let traces = match snap.traces.as_deref() {
            Some(t) => crate::trace::Traces::start(t, metrics.traces.clone()),
            None => crate::trace::Traces::off(),
        };
        let telemetry = Arc::new(Telemetry {
            metrics,
            access_log,
            traces,
        });
        let settings = snap.server.clone();
        let state = Arc::new(AppState::new(Arc::new(snap), telemetry));
        crate::pool::activate(&state.snapshot(), None, &state.telemetry);
        crate::probe::activate(&state.snapshot(), None, &state.telemetry);

        let stop = CancellationToken::new();
        let admin_stop = CancellationToken::new();
        let data_router = crate::routes::router(state.clone());
        let admin_router = crate::admin::router(state.clone());
        let reloader = crate::reload::Reloader::new(state.clone(), opts.config.clone());
        let reloader = tokio::spawn(reloader.run(stop.clone()));
        let admin_task = tokio::spawn(crate::server::serve(
            admin,
            admin_router,
            settings.clone(),
            admin_stop.clone(),
        ));
        let data_stop = stop.clone();
        let telemetry_at_exit = state.telemetry.clone();
        let task = tokio::spawn(async move {
            // `/readyz` turns unready the moment the drain starts; the listener keeps accepting for
            // `shutdown_delay` so a load balancer has time to notice before connections are refused.
            let listen_stop = CancellationToken::new();
            let delay = settings.shutdown_delay;
            let close_listener = {
                let listen_stop = listen_stop.clone();
                async move {
                    data_stop.cancelled().await;
                    if !delay.is_zero() {
                        tracing::info!(delay = ?delay, "unready; still accepting until the shutdown delay ends");
                        tokio::time::sleep(delay).await;
                    }
                    listen_stop.cancel();
                }
            };
            let (drained, ()) = tokio::join!(
                crate::server::serve(data, data_router, settings, listen_stop),
                close_listener
            );
            // The admin listener outlives the drain so /readyz can report it.
            admin_stop.cancel();
            let _ = admin_task.await;
            let _ = reloader.await;
            // Spans of the drained requests go out before the process exits.
            telemetry_at_exit.traces.shutdown().await;
            drained
        });
        state.set_ready();
        tracing::info!(data = %data_addr, admin = %admin_addr, "listening");
        Ok(Self {
            data_addr,
            admin_addr,
            state,
            stop,
            task,
        })
    }

    /// Starts a graceful shutdown: `/readyz` turns unready, no new connections, in-flight work drains.
    pub fn shutdown(&self) {
        self.state.set_draining();
        self.stop.cancel();
    }

    /// Waits for the gateway to stop; true when the drain finished within its deadline.
    pub async fn wait(self) -> bool {
        self.task.await.unwrap_or(false)
    }
}
