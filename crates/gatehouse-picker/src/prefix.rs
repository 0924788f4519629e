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
//! the traffic. With [`PrefixConfig::auto_tune`] (GIE's `autoTune`, on by default) a replica's LRU is sized to
//! what its KV cache can hold, from its scraped `vllm:cache_config_info` ([`PrefixConfig::capacity_for`]), so the
//! table forgets a prefix about when the replica does instead of predicting hits the replica evicted long ago. A replica's score for a prompt is the fraction of the prompt's blocks in the longest leading run
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
    /// LRU capacity per replica, in blocks (default 31 250, GIE's `lruCapacityPerServer`); with `auto_tune`, the
    /// upper bound of each replica's own capacity.
    pub lru_blocks_per_replica: usize,
    /// Size each replica's LRU from its reported KV cache (`num_gpu_blocks × block_size` tokens) once known.
    pub auto_tune: bool,
}

impl Default for PrefixConfig {
    fn default() -> Self {
        Self {
            block_chars: 64,
            max_blocks: 256,
            lru_blocks_per_replica: 31_250,
            auto_tune: true,
        }
    }
}

/// Characters per token assumed when converting a replica's KV capacity (in tokens) into blocks of characters
/// (GIE's `averageCharactersPerToken`).
pub const CHARS_PER_TOKEN: usize = 4;

/// Per-replica LRU tables of recently routed prefix blocks.
#[derive(Debug, Clone)]
pub struct PrefixTable {
    capacity: usize,
    replicas: Vec<Lru>,
}

/// One replica's LRU: hash → last-use tick, and tick → hash for eviction order; at most `cap` entries.
#[derive(Debug, Clone)]
struct Lru {
    by_hash: HashMap<u64, u64>,
    by_tick: BTreeMap<u64, u64>,
    tick: u64,
    cap: usize,
}

// === impl Lru ===

impl Lru {
    fn new(cap: usize) -> Self {
        Self {
            by_hash: HashMap::new(),
            by_tick: BTreeMap::new(),
            tick: 0,
            cap,
        }
    }

    /// Evicts the least recently used blocks beyond `cap`.
    fn shrink(&mut self) {
        while self.by_hash.len() > self.cap {
            let Some((_, evicted)) = self.by_tick.pop_first() else {
                break;
            };
            self.by_hash.remove(&evicted);
        }
    }
}

// === impl PrefixConfig ===

impl PrefixConfig {
    /// The LRU capacity, in this config's blocks, matching a replica that reports `num_gpu_blocks` KV blocks of
    /// `block_size` tokens (16 when unknown), bounded by `lru_blocks_per_replica`; `None` without `auto_tune` or
    /// without a reported size.
    #[must_use]
    pub fn capacity_for(&self, num_gpu_blocks: Option<u64>, block_size: Option<u32>) -> Option<usize> {
        if !self.auto_tune {
            return None;
        }
        let tokens = num_gpu_blocks?.saturating_mul(u64::from(block_size.unwrap_or(16).max(1)));
        let chars = tokens.saturating_mul(CHARS_PER_TOKEN as u64);
        let blocks = chars.div_ceil(self.block_chars.max(1) as u64);
        Some(
            usize::try_from(blocks)
                .unwrap_or(usize::MAX)
                .clamp(1, self.lru_blocks_per_replica.max(1)),
        )
    }
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
        let capacity = capacity.max(1);
        Self {
            capacity,
            replicas: vec![Lru::new(capacity); replicas],
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
        let Some(lru) = self.replicas.get_mut(r) else {
            return;
        };
        for h in hashes {
            lru.tick += 1;
            if let Some(old) = lru.by_hash.insert(*h, lru.tick) {
                lru.by_tick.remove(&old);
            }
            lru.by_tick.insert(lru.tick, *h);
            lru.shrink();
        }
    }

    /// Sets replica `r`'s capacity (at least 1, at most the table's bound), evicting what no longer fits.
    pub fn set_capacity(&mut self, r: usize, cap: usize) {
        let cap = cap.clamp(1, self.capacity);
        if let Some(lru) = self.replicas.get_mut(r) {
            lru.cap = cap;
            lru.shrink();
        }
    }

    /// Replica `r`'s capacity, in blocks.
    #[must_use]
    pub fn capacity_of(&self, r: usize) -> usize {
        self.replicas.get(r).map_or(0, |l| l.cap)
    }

    /// Adds an empty replica at the end (a pool member that joined); returns its index.
    pub fn add_replica(&mut self) -> usize {
        self.replicas.push(Lru::new(self.capacity));
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
        let bound = self.capacity;
        if let (Some(dst), Some(src)) = (self.replicas.get_mut(to), other.replicas.get(from)) {
            *dst = src.clone();
            dst.cap = dst.cap.min(bound);
            dst.shrink();
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
            *lru = Lru::new(lru.cap);
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

    /// The per-replica capacity bound, in blocks.
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
