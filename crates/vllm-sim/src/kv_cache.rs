//! Paged KV-cache block pool with an automatic prefix cache, modelled on vLLM V1's `BlockPool`.
//!
//! - Memory is `num_blocks` blocks of `block_size` tokens. Block 0 is the *null block* vLLM reserves, so at most
//!   `num_blocks − 1` blocks are ever usable and usage is `1 − free / (num_blocks − 1)`.
//! - A block is *free* when no sequence references it (`ref_count == 0`). Free blocks sit in one LRU queue:
//!   allocation takes from the front, release appends at the back (a sequence's blocks in reverse order, so its
//!   tail is evicted before its shared prefix).
//! - A full block that has been computed is registered under its *chain hash* (parent hash + its token ids, see
//!   [`extend_chain_hashes`]). Freed blocks keep their hash and stay findable until allocation evicts them, so a
//!   free block may still be a cache hit; *free includes cached-but-unreferenced blocks*.
//! - Invariants: a block is in the free queue iff its `ref_count` is 0; `cached[h] == b` implies `blocks[b].hash
//!   == Some(h)`; the null block is never in the queue, never allocated, never cached.

use std::collections::HashMap;

use crate::hash;

/// Index of a block in the pool.
pub(crate) type BlockId = u32;
/// Chain hash of a full block.
pub(crate) type BlockHash = u64;

/// End-of-list marker for the intrusive free queue.
const NIL: BlockId = BlockId::MAX;
/// The reserved block (vLLM's `null_block`).
const NULL_BLOCK: BlockId = 0;

/// The block pool and prefix-cache index of one replica.
#[derive(Debug)]
pub(crate) struct KvCache {
    block_size: usize,
    prefix_caching: bool,
    blocks: Vec<Block>,
    free_head: BlockId,
    free_tail: BlockId,
    num_free: usize,
    cached: HashMap<BlockHash, BlockId>,
}

/// Not enough free blocks for an allocation; nothing was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NoSpace;

#[derive(Clone, Debug)]
struct Block {
    ref_count: u32,
    hash: Option<BlockHash>,
    prev: BlockId,
    next: BlockId,
}

/// Appends to `hashes` the chain hash of every full block of `tokens` not hashed yet.
///
/// `seed` starts the chain; it stands for vLLM's extra keys (model or LoRA name), so equal tokens under different
/// adapters never share blocks.
pub(crate) fn extend_chain_hashes(seed: u64, tokens: &[u32], block_size: usize, hashes: &mut Vec<BlockHash>) {
    let full = tokens.len() / block_size.max(1);
    while hashes.len() < full {
        let i = hashes.len();
        let parent = hashes.last().copied().unwrap_or(seed);
        let start = i * block_size;
        hashes.push(hash::tokens(parent, &tokens[start..start + block_size]));
    }
}

// === impl KvCache ===

impl KvCache {
    /// A pool of `num_blocks` blocks (including the null block), all free.
    pub(crate) fn new(num_blocks: usize, block_size: usize, prefix_caching: bool) -> Self {
        let num_blocks = num_blocks.clamp(2, NIL as usize);
        let mut cache = Self {
            block_size: block_size.max(1),
            prefix_caching,
            blocks: vec![
                Block {
                    ref_count: 0,
                    hash: None,
                    prev: NIL,
                    next: NIL
                };
                num_blocks
            ],
            free_head: NIL,
            free_tail: NIL,
            num_free: 0,
            cached: HashMap::new(),
        };
        for id in 1..num_blocks as BlockId {
            cache.push_back(id);
        }
        cache
    }

    /// Tokens per block.
    pub(crate) fn block_size(&self) -> usize {
        self.block_size
    }

    /// Whether full blocks are cached and looked up.
    pub(crate) fn prefix_caching(&self) -> bool {
        self.prefix_caching
    }

    /// Blocks usable by sequences (all but the null block).
    pub(crate) fn capacity(&self) -> usize {
        self.blocks.len() - 1
    }

    /// Unreferenced blocks, cached or not.
    #[cfg(test)]
    pub(crate) fn num_free(&self) -> usize {
        self.num_free
    }

    /// Blocks currently registered in the prefix cache (referenced or not).
    #[cfg(test)]
    pub(crate) fn num_cached(&self) -> usize {
        self.cached.len()
    }

    /// `vllm:kv_cache_usage_perc`: `1 − free / (num_blocks − 1)`.
    pub(crate) fn usage(&self) -> f64 {
        1.0 - self.num_free as f64 / self.capacity() as f64
    }

    /// Blocks needed to hold `tokens` tokens.
    pub(crate) fn blocks_for(&self, tokens: usize) -> usize {
        tokens.div_ceil(self.block_size)
    }

    /// The longest run of cached blocks matching `hashes` from the start, for a sequence of `num_tokens` tokens.
    ///
    /// Like vLLM, at most `num_tokens − 1` tokens can hit, so the last token is always computed (its logits are
    /// needed to sample).
    pub(crate) fn lookup_prefix(&self, hashes: &[BlockHash], num_tokens: usize) -> Vec<BlockId> {
        if !self.prefix_caching {
            return Vec::new();
        }
        let max_blocks = num_tokens.saturating_sub(1) / self.block_size;
        hashes
            .iter()
            .take(max_blocks)
            .map_while(|h| self.cached.get(h).copied())
            .collect()
    }

    /// References the cache hits `hits` and allocates `need` fresh blocks, evicting cached free blocks LRU-first.
    ///
    /// Fails without side effects when fewer than `need` blocks would remain free after taking the hits.
    pub(crate) fn allocate(&mut self, hits: &[BlockId], need: usize) -> Result<Vec<BlockId>, NoSpace> {
        let hits_free = hits
            .iter()
            .filter(|b| self.block(**b).is_some_and(|b| b.ref_count == 0))
            .count();
        if self.num_free - hits_free < need {
            return Err(NoSpace);
        }
        for &id in hits {
            self.touch(id);
        }
        let mut fresh = Vec::with_capacity(need);
        for _ in 0..need {
            let Some(id) = self.pop_front() else { break };
            if let Some(h) = self.blocks[id as usize].hash.take()
                && self.cached.get(&h) == Some(&id)
            {
                self.cached.remove(&h);
            }
            self.blocks[id as usize].ref_count = 1;
            fresh.push(id);
        }
        Ok(fresh)
    }

    /// Drops one reference to each block; blocks reaching zero join the back of the free queue, tail first.
    pub(crate) fn free(&mut self, blocks: &[BlockId]) {
        for &id in blocks.iter().rev() {
            let Some(block) = self.block_mut(id) else {
                continue;
            };
            if block.ref_count == 0 {
                continue;
            }
            block.ref_count -= 1;
            if block.ref_count == 0 {
                self.push_back(id);
            }
        }
    }

    /// Registers a computed full block under `hash`; a block with the same content already cached wins.
    pub(crate) fn cache_block(&mut self, id: BlockId, hash: BlockHash) {
        if !self.prefix_caching || id == NULL_BLOCK || self.cached.contains_key(&hash) {
            return;
        }
        let Some(block) = self.block_mut(id) else {
            return;
        };
        if block.hash.is_some() {
            return;
        }
        block.hash = Some(hash);
        self.cached.insert(hash, id);
    }

    /// Whether `hash` is currently in the prefix cache.
    #[cfg(test)]
    pub(crate) fn is_cached(&self, hash: BlockHash) -> bool {
        self.cached.contains_key(&hash)
    }

    fn block(&self, id: BlockId) -> Option<&Block> {
        if id == NULL_BLOCK {
            return None;
        }
        self.blocks.get(id as usize)
    }

    fn block_mut(&mut self, id: BlockId) -> Option<&mut Block> {
        if id == NULL_BLOCK {
            return None;
        }
        self.blocks.get_mut(id as usize)
    }

    /// Takes one more reference, removing the block from the free queue if it was free.
    fn touch(&mut self, id: BlockId) {
        let Some(block) = self.block(id) else { return };
        if block.ref_count == 0 {
            self.unlink(id);
        }
        self.blocks[id as usize].ref_count += 1;
    }

    fn push_back(&mut self, id: BlockId) {
        let tail = self.free_tail;
        self.blocks[id as usize].prev = tail;
        self.blocks[id as usize].next = NIL;
        if tail == NIL {
            self.free_head = id;
        } else {
            self.blocks[tail as usize].next = id;
        }
        self.free_tail = id;
        self.num_free += 1;
    }

    fn pop_front(&mut self) -> Option<BlockId> {
        let head = self.free_head;
        if head == NIL {
            return None;
        }
        self.unlink(head);
        Some(head)
    }

    fn unlink(&mut self, id: BlockId) {
        let Block { prev, next, .. } = self.blocks[id as usize];
        if prev == NIL {
            self.free_head = next;
        } else {
            self.blocks[prev as usize].next = next;
        }
        if next == NIL {
            self.free_tail = prev;
        } else {
            self.blocks[next as usize].prev = prev;
        }
        self.blocks[id as usize].prev = NIL;
        self.blocks[id as usize].next = NIL;
        self.num_free -= 1;
    }
}

#[cfg(test)]
mod tests;
