//! Rotating a secret the way the kubelet rotates a mounted Kubernetes Secret volume.
//!
//! Layout after the first call, for `swap_k8s_secret_dir(dir, "api-key", ..)`:
//!
//! ```text
//! dir/..2025_01_02_03_04_05.123456789/api-key   the data, in a timestamped directory
//! dir/..data -> ..2025_01_02_03_04_05.123456789  the current version
//! dir/api-key -> ..data/api-key                  what the application opens
//! ```
//!
//! A rotation writes a new timestamped directory (carrying over the secret's other keys), points a fresh symlink
//! `..data_tmp` at it, renames that over `..data` (the one atomic step), then deletes the old directory. The
//! visible `api-key` path never changes, so a watcher on the file itself sees nothing: it must watch the directory.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DATA: &str = "..data";
const DATA_TMP: &str = "..data_tmp";

/// Sets key `name` of the secret mounted at `dir` to `contents`, creating the layout on first use.
///
/// # Panics
///
/// On any I/O error, or if `dir/<name>` exists but is not a symlink (not a secret volume).
pub fn swap_k8s_secret_dir(dir: impl AsRef<Path>, name: &str, contents: impl AsRef<[u8]>) {
    let dir = dir.as_ref();
    if let Err(e) = swap(dir, name, contents.as_ref()) {
        panic!("cannot rotate secret {name} in {}: {e}", dir.display());
    }
}

fn swap(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let old = fs::read_link(dir.join(DATA)).ok();

    let mut stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let version = loop {
        let candidate = version_dir_name(stamp);
        match fs::create_dir(dir.join(&candidate)) {
            Ok(()) => break candidate,
            // Two rotations within one clock tick: the kubelet would have waited, we take the next nanosecond.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                stamp += Duration::from_nanos(1);
            }
            Err(e) => return Err(e),
        }
    };
    let new_dir = dir.join(&version);
    if let Some(old) = &old {
        for entry in fs::read_dir(dir.join(old))? {
            let entry = entry?;
            if entry.file_name() != name {
                fs::copy(entry.path(), new_dir.join(entry.file_name()))?;
            }
        }
    }
    fs::write(new_dir.join(name), contents)?;

    let tmp = dir.join(DATA_TMP);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    symlink(&version, &tmp)?;
    fs::rename(&tmp, dir.join(DATA))?;

    let visible = dir.join(name);
    match fs::symlink_metadata(&visible) {
        Ok(meta) if meta.file_type().is_symlink() => {}
        Ok(_) => {
            return Err(io::Error::other(format!(
                "{} exists and is not a symlink",
                visible.display()
            )));
        }
        Err(_) => symlink(Path::new(DATA).join(name), &visible)?,
    }
    if let Some(old) = old {
        fs::remove_dir_all(dir.join(old))?;
    }
    Ok(())
}

/// `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN` in UTC, the kubelet's format.
fn version_dir_name(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "..{year:04}_{month:02}_{day:02}_{:02}_{:02}_{:02}.{:09}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_nanos()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's `civil_from_days` for non-negative days.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
