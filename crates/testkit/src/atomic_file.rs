//! Replacing a file the way editors and config-management tools do: write a sibling, then rename over it.
//!
//! A watcher therefore never sees a half-written file, only a rename event; reload tests use this to exercise
//! exactly that path.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary names within this process.
static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// Atomically replaces (or creates) `path` with `contents`: writes `.<name>.testkit-<pid>-<n>.tmp` in the same
/// directory, syncs it, and renames it over `path`.
///
/// # Panics
///
/// On any I/O error, with the path in the message: the test cannot continue without its file.
pub fn write_file_atomically(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
    let path = path.as_ref();
    let name = path
        .file_name()
        .unwrap_or_else(|| panic!("{} does not name a file", path.display()));
    let tmp = path.with_file_name(format!(
        ".{}.testkit-{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT_TMP.fetch_add(1, Ordering::Relaxed)
    ));
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(contents.as_ref())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        panic!("cannot write {} atomically: {e}", path.display());
    }
}

#[cfg(test)]
mod tests;
