//! Approximate prefix-cache affinity: which replica most likely still holds a prompt's leading KV blocks.
//!
//! The prompt is cut into blocks of [`PrefixConfig::block_chars`] bytes (GIE: 16 tokens × 4 characters = 64) and
//! hashed as a chain seeded by the model: `h0 = H(model)`, `h_i = H(block_i ‖ h_{i−1})`, so a block's hash names
//! the whole prefix up to it, and two models (or a base model and its LoRA adapter) never share blocks. A trailing
//! partial block is hashed too; at most [`PrefixConfig::max_blocks`] blocks are considered (GIE: 256).
//!
//! The table remembers, per replica, the block hashes of prompts recently **routed** there — the gateway cannot
//! see vLLM's cache, it predicts it. Each replica has an LRU of at most [`PrefixConfig::lru_blocks_per_replica`]
//! entries, so the table's memory is bounded by `replicas × capacity` entries (≈ [`ENTRY_BYTES`] each), whatever
//! the traffic. A replica's score for a prompt is the fraction of the prompt's blocks in the longest leading run
//! it holds (vLLM only reuses a cached prefix from the first block on).
//!
//! The hash is SipHash-1-3 with fixed keys (`std`'s `DefaultHasher::new()`): stable within a process, which is all
//! an in-memory table needs.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;

/// Approximate heap bytes per table entry (hash map slot + LRU order node), used for the memory estimate.
pub const ENTRY_BYTES: usize = 64;

/// How prompts are cut into blocks and how much the table remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixConfig {
    /// Bytes per block (default 64: GIE's 16 tokens × 4 characters per token).
    pub block_chars: usize,
    /// Most blocks hashed per prompt (default 256).
    pub max_blocks: usize,
    /// LRU capacity per replica, in blocks (default 31 250, GIE's `lruCapacityPerServer`).
    pub lru_blocks_per_replica: usize,
}

impl Default for PrefixConfig {
    fn default() -> Self {
        Self {
            block_chars: 64,
            max_blocks: 256,
            lru_blocks_per_replica: 31_250,
        }
    }
}

/// Per-replica LRU tables of recently routed prefix blocks.
#[derive(Debug, Clone)]
pub struct PrefixTable {
    capacity: usize,
    replicas: Vec<Lru>,
}

/// One replica's LRU: hash → last-use tick, and tick → hash for eviction order.
#[derive(Debug, Clone, Default)]
struct Lru {
    by_hash: HashMap<u64, u64>,
    by_tick: BTreeMap<u64, u64>,
    tick: u64,
}

/// The chained block hashes of a prompt for `model` (empty when the prompt is empty).
#[must_use]
pub fn hash_prompt(model: &str, prompt: &[u8], cfg: &PrefixConfig) -> Vec<u64> {
    let block = cfg.block_chars.max(1);
    let mut h = {
        let mut s = std::hash::DefaultHasher::new();
        s.write(model.as_bytes());
        s.write_u8(0xff);
        s.finish()
    };
    prompt
        .chunks(block)
        .take(cfg.max_blocks)
        .map(|chunk| {
            let mut s = std::hash::DefaultHasher::new();
            s.write(chunk);
            s.write_u64(h);
            h = s.finish();
            h
        })
        .collect()
}

// === impl PrefixTable ===

impl PrefixTable {
    /// A table for `replicas` replicas, each remembering at most `capacity` blocks (at least 1).
    #[must_use]
    pub fn new(replicas: usize, capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            replicas: vec![Lru::default(); replicas],
        }
    }

    /// How many leading blocks of `hashes` replica `r` is expected to hold.
    #[must_use]
    pub fn match_len(&self, r: usize, hashes: &[u64]) -> usize {
        let Some(lru) = self.replicas.get(r) else {
            return 0;
        };
        hashes.iter().take_while(|h| lru.by_hash.contains_key(h)).count()
    }

    /// GIE's `prefix-cache-scorer` for replica `r`: matched leading blocks / prompt blocks (0 for an empty prompt).
    #[must_use]
    pub fn score(&self, r: usize, hashes: &[u64]) -> f64 {
        if hashes.is_empty() {
            return 0.0;
        }
        self.match_len(r, hashes) as f64 / hashes.len() as f64
    }

    /// Records that a prompt with `hashes` was routed to replica `r` (its blocks become most recently used),
    /// evicting the least recently used blocks beyond the capacity.
    pub fn record(&mut self, r: usize, hashes: &[u64]) {
        let cap = self.capacity;
        let Some(lru) = self.replicas.get_mut(r) else {
            return;
        };
        for h in hashes {
            lru.tick += 1;
            if let Some(old) = lru.by_hash.insert(*h, lru.tick) {
                lru.by_tick.remove(&old);
            }
            lru.by_tick.insert(lru.tick, *h);
            while lru.by_hash.len() > cap {
                let Some((_, evicted)) = lru.by_tick.pop_first() else {
                    break;
                };
                lru.by_hash.remove(&evicted);
            }
        }
    }

    /// Adds an empty replica at the end (a pool member that joined); returns its index.
    pub fn add_replica(&mut self) -> usize {
        self.replicas.push(Lru::default());
        self.replicas.len() - 1
    }

    /// Drops replica `r` and its blocks (a member that left); the replicas after it move down by one, as in the
    /// caller's own replica list.
    pub fn remove_replica(&mut self, r: usize) {
        if r < self.replicas.len() {
            self.replicas.remove(r);
        }
    }

    /// Replaces replica `to`'s blocks with a copy of replica `from`'s in `other` (a replacing pool keeping what
    /// the replica it still has is expected to cache).
    pub fn copy_replica(&mut self, to: usize, other: &PrefixTable, from: usize) {
        let cap = self.capacity;
        if let (Some(dst), Some(src)) = (self.replicas.get_mut(to), other.replicas.get(from)) {
            *dst = src.clone();
            while dst.by_hash.len() > cap {
                let Some((_, evicted)) = dst.by_tick.pop_first() else {
                    break;
                };
                dst.by_hash.remove(&evicted);
            }
        }
    }

    /// Replicas in the table.
    #[must_use]
    pub fn replicas(&self) -> usize {
        self.replicas.len()
    }

    /// Forgets everything about replica `r` (it restarted or left: its cache is gone).
    pub fn clear(&mut self, r: usize) {
        if let Some(lru) = self.replicas.get_mut(r) {
            *lru = Lru::default();
        }
    }

    /// Blocks remembered for replica `r`.
    #[must_use]
    pub fn len(&self, r: usize) -> usize {
        self.replicas.get(r).map_or(0, |l| l.by_hash.len())
    }

    /// Whether no replica holds any block.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.replicas.iter().all(|l| l.by_hash.is_empty())
    }

    /// The per-replica capacity, in blocks.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Blocks remembered across all replicas.
    #[must_use]
    pub fn total_entries(&self) -> usize {
        self.replicas.iter().map(|l| l.by_hash.len()).sum()
    }

    /// The memory bound: entries can never exceed `replicas × capacity`, about [`ENTRY_BYTES`] each.
    #[must_use]
    pub fn max_bytes(&self) -> usize {
        self.replicas.len() * self.capacity * ENTRY_BYTES
    }

    /// Whether both LRU indexes of every replica agree (for tests).
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        self.replicas
            .iter()
            .all(|l| l.by_hash.len() == l.by_tick.len() && l.by_tick.iter().all(|(t, h)| l.by_hash.get(h) == Some(t)))
    }
}

#[cfg(test)]
mod tests;
