use super::*;

fn hashes(tokens: &[u32], bs: usize) -> Vec<BlockHash> {
    let mut out = Vec::new();
    extend_chain_hashes(7, tokens, bs, &mut out);
    out
}

/// Allocates and computes a sequence of `tokens`, registering its full blocks, like the scheduler does.
fn run_seq(kv: &mut KvCache, tokens: &[u32]) -> Vec<BlockId> {
    let hs = hashes(tokens, kv.block_size());
    let hits = kv.lookup_prefix(&hs, tokens.len());
    let need = kv.blocks_for(tokens.len()) - hits.len();
    let mut blocks = hits.clone();
    blocks.extend(kv.allocate(&hits, need).unwrap_or_default());
    for (b, h) in blocks.iter().zip(&hs) {
        kv.cache_block(*b, *h);
    }
    blocks
}

#[test]
fn chain_hashes_cover_full_blocks_and_depend_on_prefix() {
    let a: Vec<u32> = (0..40).collect();
    assert_eq!(hashes(&a, 16).len(), 2);
    let mut b = a.clone();
    b[0] = 999;
    // Block 1 has the same tokens in a and b but a different parent, so a different hash.
    assert_ne!(hashes(&a, 16)[1], hashes(&b, 16)[1]);
    // Incremental extension gives the same result as hashing at once.
    let mut inc = Vec::new();
    extend_chain_hashes(7, &a[..20], 16, &mut inc);
    extend_chain_hashes(7, &a, 16, &mut inc);
    assert_eq!(inc, hashes(&a, 16));
}

#[test]
fn usage_excludes_null_block_and_counts_cached_free_as_free() {
    let mut kv = KvCache::new(11, 4, true);
    assert_eq!(kv.capacity(), 10);
    assert_eq!(kv.usage(), 0.0);
    let blocks = run_seq(&mut kv, &(0..16).collect::<Vec<_>>());
    assert_eq!(blocks.len(), 4);
    assert!((kv.usage() - 0.4).abs() < 1e-9);
    kv.free(&blocks);
    assert_eq!(kv.usage(), 0.0);
    assert_eq!(kv.num_cached(), 4);
}

#[test]
fn prefix_hit_and_miss() {
    let mut kv = KvCache::new(64, 4, true);
    let prompt: Vec<u32> = (0..18).collect();
    let first = run_seq(&mut kv, &prompt);
    kv.free(&first);

    let hs = hashes(&prompt, 4);
    assert_eq!(kv.lookup_prefix(&hs, prompt.len()).len(), 4, "4 full blocks cached");

    let mut other = prompt.clone();
    other[5] = 1000; // second block differs: only the first block hits
    assert_eq!(kv.lookup_prefix(&hashes(&other, 4), other.len()).len(), 1);

    other[0] = 1000; // nothing hits
    assert!(kv.lookup_prefix(&hashes(&other, 4), other.len()).is_empty());
}

#[test]
fn hit_is_capped_one_token_short_of_the_prompt() {
    let mut kv = KvCache::new(64, 4, true);
    let prompt: Vec<u32> = (0..16).collect(); // exactly 4 blocks
    let blocks = run_seq(&mut kv, &prompt);
    kv.free(&blocks);
    let hits = kv.lookup_prefix(&hashes(&prompt, 4), prompt.len());
    assert_eq!(
        hits.len(),
        3,
        "the last token must be recomputed, so its block cannot hit"
    );
}

#[test]
fn disabled_prefix_caching_never_hits() {
    let mut kv = KvCache::new(64, 4, false);
    let prompt: Vec<u32> = (0..18).collect();
    let blocks = run_seq(&mut kv, &prompt);
    kv.free(&blocks);
    assert!(kv.lookup_prefix(&hashes(&prompt, 4), prompt.len()).is_empty());
    assert_eq!(kv.num_cached(), 0);
}

#[test]
fn shared_blocks_are_ref_counted() {
    let mut kv = KvCache::new(64, 4, true);
    let prompt: Vec<u32> = (0..17).collect();
    let a = run_seq(&mut kv, &prompt);
    let b = run_seq(&mut kv, &prompt);
    assert_eq!(a[..4], b[..4], "the second sequence reuses the first's full blocks");
    assert_ne!(a[4], b[4]);
    assert_eq!(kv.num_free(), 63 - 6);
    kv.free(&a);
    // Shared blocks are still referenced by b.
    assert_eq!(kv.num_free(), 63 - 5);
    kv.free(&b);
    assert_eq!(kv.num_free(), 63);
}

#[test]
fn lru_eviction_evicts_least_recently_freed_first() {
    // 6 usable blocks of 4 tokens.
    let mut kv = KvCache::new(7, 4, true);
    let old: Vec<u32> = (0..8).collect();
    let new: Vec<u32> = (100..108).collect();
    let a = run_seq(&mut kv, &old);
    kv.free(&a);
    let b = run_seq(&mut kv, &new);
    kv.free(&b);
    // 4 free blocks hold cached content, 2 are empty; the empty ones go first.
    let filler = kv.allocate(&[], 3).unwrap_or_default();
    assert_eq!(filler.len(), 3);
    let old_h = hashes(&old, 4);
    let new_h = hashes(&new, 4);
    // One eviction was needed: it hit `old`'s tail block (freed before `new`, tail first).
    assert!(kv.is_cached(old_h[0]));
    assert!(!kv.is_cached(old_h[1]));
    assert!(new_h.iter().all(|h| kv.is_cached(*h)));
    // A hit on a cached free block protects it from eviction.
    let hit = kv.lookup_prefix(&new_h, 9);
    assert_eq!(hit.len(), 2);
    let more = kv.allocate(&hit, 1).unwrap_or_default();
    assert_eq!(more.len(), 1);
    assert!(
        !kv.is_cached(old_h[0]),
        "old's head block was the only evictable cached block"
    );
    assert!(new_h.iter().all(|h| kv.is_cached(*h)));
}

#[test]
fn allocation_failure_changes_nothing() {
    let mut kv = KvCache::new(5, 4, true);
    let prompt: Vec<u32> = (0..8).collect();
    let a = run_seq(&mut kv, &prompt);
    kv.free(&a);
    let hits = kv.lookup_prefix(&hashes(&prompt, 4), 9);
    assert_eq!(hits.len(), 2);
    // 4 free blocks, 2 of them are the hits: only 2 remain for new blocks.
    assert_eq!(kv.allocate(&hits, 3), Err(NoSpace));
    assert_eq!(kv.num_free(), 4);
    assert_eq!(kv.allocate(&hits, 2).map(|v| v.len()), Ok(2));
    assert_eq!(kv.num_free(), 0);
    assert_eq!(kv.allocate(&[], 1), Err(NoSpace));
}
