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

/// Runs until `stop` fires.
pub async fn run(state: Arc<AppState>, path: PathBuf, stop: CancellationToken) {
    let mut config_watch = watch_dirs(&BTreeSet::from([parent_dir(&path)]));
    let mut secret_watch = watch_secrets(&state.snapshot());
    let mut last_text = std::fs::read(&path).ok();
    let mut hup = hangup_signal();
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
                refresh_secrets(&state.snapshot());
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
        Ok(Ok(snap)) => {
            let old = state.snapshot();
            if snap.listen != old.listen || snap.admin != old.admin {
                tracing::warn!("listen/admin address changes take effect only after a restart");
            }
            state.telemetry.access_log.set_target(snap.access_log);
            state.config.store(Arc::new(snap));
            metrics.reload(true);
            set_report(state, ReloadReport { result: "success", at, errors: Vec::new() });
            tracing::info!(file = %path.display(), "config reloaded");
            true
        }
        Ok(Err(errors)) => {
            for e in &errors.0 {
                tracing::error!(error = %e, "config reload rejected; keeping the running config");
            }
            metrics.reload(false);
            set_report(state, ReloadReport { result: "error", at, errors: errors.0.iter().map(ToString::to_string).collect() });
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "config reload task failed; keeping the running config");
            metrics.reload(false);
            set_report(state, ReloadReport { result: "error", at, errors: vec![e.to_string()] });
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
        .collect();
    watch_dirs(&dirs)
}

fn refresh_secrets(snap: &Snapshot) {
    for p in snap.providers.values() {
        if let Some(s) = &p.api_key {
            s.refresh();
        }
    }
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
