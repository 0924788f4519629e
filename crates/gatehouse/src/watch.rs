//! File-system watching for hot reload and secret rotation.
//!
//! Directories are watched, not files: Kubernetes updates a mounted ConfigMap or Secret by swapping a
//! `..data` symlink inside the directory, which a watch on the file itself would miss.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// A live watch; dropping it stops the notifications.
pub struct DirWatch {
    _watcher: Option<RecommendedWatcher>,
    /// Receives one message per file-system event in any watched directory.
    pub events: mpsc::UnboundedReceiver<()>,
}

/// The directory holding `path` (or `.` for a bare file name).
#[must_use]
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Watches the given directories; missing ones are skipped with a warning.
#[must_use]
pub fn watch_dirs(dirs: &BTreeSet<PathBuf>) -> DirWatch {
    let (tx, events) = mpsc::unbounded_channel();
    if dirs.is_empty() {
        return DirWatch { _watcher: None, events };
    }
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok() {
            let _ = tx.send(());
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot start a file watcher; hot reload needs SIGHUP");
            return DirWatch { _watcher: None, events };
        }
    };
    for dir in dirs {
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch directory");
        }
    }
    DirWatch {
        _watcher: Some(watcher),
        events,
    }
}
