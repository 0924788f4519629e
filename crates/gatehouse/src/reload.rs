//! Hot reload: the config file and secret files are watched; SIGHUP forces a reload.
//!
//! A new config is loaded off the data path (on a blocking thread), validated completely and swapped in
//! atomically. A bad file keeps the old config running, logs every error and counts
//! `gatehouse_config_reloads_total{result="error"}`. Requests already running keep the snapshot they
//! started with. Secret files are re-read in place when their directory changes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use crate::secret::SecretSource;
use crate::snapshot::Snapshot;
use crate::state::{AppState, ReloadReport};
use crate::watch::{DirWatch, parent_dir, watch_dirs};

/// Quiet time after a file event before reloading, so an editor's multi-step save is read once.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// The watches and signal handler, set up before the gateway reports ready so that no change made
/// right after start is missed.
pub struct Reloader {
    state: Arc<AppState>,
    path: PathBuf,
    config_watch: DirWatch,
    secret_watch: DirWatch,
    last_text: Option<Vec<u8>>,
    hup: Hangup,
}

impl Reloader {
    /// Starts watching now; events are handled once [`Reloader::run`] is polled.
    #[must_use]
    pub fn new(state: Arc<AppState>, path: PathBuf) -> Self {
        let config_watch = watch_dirs(&BTreeSet::from([parent_dir(&path)]));
        let secret_watch = watch_secrets(&state.snapshot());
        let last_text = std::fs::read(&path).ok();
        Self {
            state,
            path,
            config_watch,
            secret_watch,
            last_text,
            hup: hangup_signal(),
        }
    }

    /// Handles events until `stop` fires.
    pub async fn run(self, stop: CancellationToken) {
        let Self {
            state,
            path,
            config_watch,
            secret_watch,
            last_text,
            hup,
        } = self;
        run(state, path, stop, config_watch, secret_watch, last_text, hup).await;
    }
}

async fn run(
    state: Arc<AppState>,
    path: PathBuf,
    stop: CancellationToken,
    mut config_watch: DirWatch,
    mut secret_watch: DirWatch,
    mut last_text: Option<Vec<u8>>,
    mut hup: Hangup,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            Some(()) = config_watch.events.recv() => {
                settle(&mut config_watch).await;
                let text = std::fs::read(&path).ok();
                if text.is_some() && text != last_text {
                    last_text = text;
                    if reload(&state, &path).await {
                        secret_watch = watch_secrets(&state.snapshot());
                    }
                }
            }
            Some(()) = secret_watch.events.recv() => {
                settle(&mut secret_watch).await;
                if refresh_secrets(&state.snapshot()) {
                    state.bump_generation();
                }
            }
            Some(()) = recv_hup(&mut hup) => {
                tracing::info!("SIGHUP: reloading config");
                last_text = std::fs::read(&path).ok();
                if reload(&state, &path).await {
                    secret_watch = watch_secrets(&state.snapshot());
                }
                refresh_secrets(&state.snapshot());
            }
        }
    }
}

/// Loads and swaps; returns whether the new config is now live.
pub async fn reload(state: &AppState, path: &std::path::Path) -> bool {
    let p = path.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || crate::config::load(&p)).await;
    let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let metrics = &state.telemetry.metrics;
    match loaded {
        Ok(Ok(mut snap)) => {
            let old = state.snapshot();
            if let Some(p) = Arc::get_mut(&mut snap.policy) {
                p.inherit(&old.policy);
            }
            if snap.listen != old.listen || snap.admin != old.admin {
                tracing::warn!("listen/admin address changes take effect only after a restart");
            }
            let endpoint = |s: &crate::snapshot::Snapshot| s.traces.as_deref().map(|t| t.endpoint.to_string());
            if endpoint(&snap) != endpoint(&old) || snap.traces.is_some() != old.traces.is_some() {
                tracing::warn!("telemetry.traces changes take effect only after a restart");
            }
            state.telemetry.access_log.set_target(snap.access_log);
            crate::pool::activate(&snap, Some(&old), &state.telemetry);
            crate::probe::activate(&snap, Some(&old), &state.telemetry);
            state.config.store(Arc::new(snap));
            metrics.reload(true);
            set_report(
                state,
                ReloadReport {
                    result: "success",
                    at,
                    errors: Vec::new(),
                },
            );
            tracing::info!(file = %path.display(), "config reloaded");
            state.bump_generation();
            true
        }
        Ok(Err(errors)) => {
            for e in &errors.0 {
                tracing::error!(error = %e, "config reload rejected; keeping the running config");
            }
            metrics.reload(false);
            set_report(
                state,
                ReloadReport {
                    result: "error",
                    at,
                    errors: errors.0.iter().map(ToString::to_string).collect(),
                },
            );
            state.bump_generation();
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "config reload task failed; keeping the running config");
            metrics.reload(false);
            set_report(
                state,
                ReloadReport {
                    result: "error",
                    at,
                    errors: vec![e.to_string()],
                },
            );
            state.bump_generation();
            false
        }
    }
}

fn set_report(state: &AppState, report: ReloadReport) {
    if let Ok(mut g) = state.last_reload.lock() {
        *g = Some(report);
    }
}

/// Waits until events stop arriving for a moment, then drops the backlog.
async fn settle(w: &mut DirWatch) {
    loop {
        match tokio::time::timeout(DEBOUNCE, w.events.recv()).await {
            Ok(Some(())) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

fn watch_secrets(snap: &Snapshot) -> DirWatch {
    let dirs: BTreeSet<PathBuf> = snap
        .providers
        .values()
        .filter_map(|p| p.api_key.as_ref())
        .filter_map(|s| match s.source() {
            SecretSource::File(path) => Some(parent_dir(path)),
            _ => None,
        })
        .chain(snap.policy.key_file().map(parent_dir))
        .collect();
    watch_dirs(&dirs)
}

/// Re-reads every file secret and the API key file; true when any changed.
fn refresh_secrets(snap: &Snapshot) -> bool {
    let mut changed = snap.policy.refresh();
    for p in snap.providers.values() {
        if let Some(s) = &p.api_key {
            changed |= s.refresh();
        }
    }
    changed
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

#[cfg(unix)]
async fn recv_hup(h: &mut Hangup) -> Option<()> {
    match h {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
#[cfg(not(unix))]
async fn recv_hup(_: &mut Hangup) -> Option<()> {
    std::future::pending().await
}
