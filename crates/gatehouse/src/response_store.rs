//! The response store behind `previous_response_id` on translated targets (a provider without a Responses API
//! of its own keeps no conversation, so the gateway does).
//!
//! An entry is the whole conversation a response ended with — the items it was given (its own stored history
//! included) followed by the items it produced — as one JSON array, so continuing it is one lookup. Entries are
//! scoped to the principal that created them: another caller asking for the id gets the same "not found" as for
//! an id that never existed, so ids cannot be probed across keys.
//!
//! Bounds (config `responses.store`): entry count and total bytes, evicting the least recently used first, and a
//! TTL after which an entry is gone. The clock is the caller's (`now`), so tests drive time. The store lives in
//! the process state, not the config snapshot: a reload changes its bounds, not its contents. With
//! `responses.store.backend: redis` the conversations go to Redis instead (`proxy/responses/store.rs`), keyed by
//! id and owner, expiring after the TTL.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// Bounds of the store, from `responses.store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseStoreSettings {
    /// Keep conversations in the shared Redis (`redis:`) instead of this process.
    pub redis: bool,
    /// Most entries (0: nothing is stored).
    pub max_entries: usize,
    /// Most bytes of conversations in total.
    pub max_bytes: usize,
    /// How long an entry lives after it was stored.
    pub ttl: Duration,
}

/// An in-process, bounded, principal-scoped store of conversations by response id.
#[derive(Debug, Default)]
pub struct ResponseStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Use order: tick → id; the smallest tick is the least recently used.
    lru: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    owner: String,
    items: Bytes,
    stored_at: Instant,
    tick: u64,
}

/// A new response id (`resp_` + 32 hex digits): unpredictable (keyed SipHash over a process counter), never taken
/// from the client, so nobody can aim a stored conversation at an id someone else will use.
#[must_use]
pub fn new_response_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.finish()
    };
    format!("resp_{:016x}{:016x}", half(1), half(2))
}

// === impl ResponseStoreSettings ===

impl Default for ResponseStoreSettings {
    fn default() -> Self {
        Self {
            redis: false,
            max_entries: 10_000,
            max_bytes: 64 << 20,
            ttl: Duration::from_secs(3600),
        }
    }
}

// === impl ResponseStore ===

impl ResponseStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `items` (a JSON array) under `id` for `owner`, evicting least recently used entries to stay within
    /// `limits`. A conversation larger than `max_bytes` on its own is not stored (continuing it gives 404).
    pub fn put(&self, id: &str, owner: &str, items: Bytes, now: Instant, limits: &ResponseStoreSettings) {
        if limits.max_entries == 0 || items.len() > limits.max_bytes {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.remove(id);
        inner.tick += 1;
        let tick = inner.tick;
        inner.bytes += items.len();
        inner.lru.insert(tick, id.to_string());
        inner.entries.insert(
            id.to_string(),
            Entry {
                owner: owner.to_string(),
                items,
                stored_at: now,
                tick,
            },
        );
        while inner.entries.len() > limits.max_entries || inner.bytes > limits.max_bytes {
            let Some((_, oldest)) = inner.lru.pop_first() else {
                break;
            };
            inner.remove(&oldest);
        }
    }

    /// The conversation stored under `id` for `owner`, marking it recently used; `None` when absent, expired or
    /// created by someone else.
    pub fn get(&self, id: &str, owner: &str, now: Instant, limits: &ResponseStoreSettings) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (expired, mine, old_tick) = {
            let e = inner.entries.get(id)?;
            (
                now.saturating_duration_since(e.stored_at) >= limits.ttl,
                e.owner == owner,
                e.tick,
            )
        };
        if expired {
            inner.remove(id);
            return None;
        }
        if !mine {
            return None;
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.lru.remove(&old_tick);
        inner.lru.insert(tick, id.to_string());
        let e = inner.entries.get_mut(id)?;
        e.tick = tick;
        Some(e.items.clone())
    }

    /// Entries and bytes held, for tests and `/status`.
    #[must_use]
    pub fn size(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (inner.entries.len(), inner.bytes)
    }
}

// === impl Inner ===

impl Inner {
    fn remove(&mut self, id: &str) {
        if let Some(e) = self.entries.remove(id) {
            self.bytes -= e.items.len();
            self.lru.remove(&e.tick);
        }
    }
}

#[cfg(test)]
mod tests;
