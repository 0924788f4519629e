//! Request ids: honour a sane client-supplied `X-Request-Id`, otherwise generate one.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderMap;

/// The header carrying the id both ways.
pub const HEADER: &str = "x-request-id";

/// Longest client-supplied id we keep; longer ones are replaced, not truncated.
const MAX_LEN: usize = 128;

/// The client's id if it is short printable ASCII, else a new one.
#[must_use]
pub fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(generate, str::to_string)
}

/// A process-unique id: a random per-process prefix and a counter (no global RNG needed).
#[must_use]
pub fn generate() -> String {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{n:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_sane_ids_and_replaces_bad_ones() {
        let mut h = HeaderMap::new();
        h.insert(HEADER, "abc-123".parse().expect("header"));
        assert_eq!(from_headers(&h), "abc-123");
        h.insert(HEADER, "has space".parse().expect("header"));
        assert_ne!(from_headers(&h), "has space");
        h.insert(HEADER, "x".repeat(200).parse().expect("header"));
        assert_eq!(from_headers(&h).len(), 24);
        assert_ne!(generate(), generate());
    }
}
