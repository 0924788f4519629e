use proptest::prelude::*;

use super::*;

fn cfg() -> PrefixConfig {
    PrefixConfig {
        block_chars: 4,
        max_blocks: 8,
        lru_blocks_per_replica: 100,
        auto_tune: true,
    }
}

#[test]
fn chain_depends_on_model_and_whole_prefix() {
    let c = cfg();
    let a = hash_prompt("m", b"aaaabbbbcccc", &c);
    let b = hash_prompt("m", b"aaaabbbbdddd", &c);
    let other_model = hash_prompt("lora", b"aaaabbbbcccc", &c);
    let other_start = hash_prompt("m", b"xaaabbbbcccc", &c);
    assert_eq!(a.len(), 3);
    assert_eq!(a[..2], b[..2], "shared leading blocks hash equal");
    assert_ne!(a[2], b[2]);
    assert!(a.iter().all(|h| !other_model.contains(h)), "models never share blocks");
    assert_ne!(a[1], other_start[1], "a block's hash names everything before it");
}

#[test]
fn partial_block_is_hashed_and_max_blocks_caps() {
    let c = cfg();
    assert_eq!(hash_prompt("m", b"aaaab", &c).len(), 2);
    assert_eq!(hash_prompt("m", &[b'x'; 100], &c).len(), 8);
    assert!(hash_prompt("m", b"", &c).is_empty());
}

#[test]
fn score_is_fraction_of_leading_blocks_held() {
    let c = cfg();
    let mut t = PrefixTable::new(2, 100);
    let sys = hash_prompt("m", b"systemprompt-user1", &c);
    t.record(0, &sys);
    let other_user = hash_prompt("m", b"systemprompt-user2", &c);
    // "syst" "empr" "ompt" "-use" shared, "r2" differs: 4 of 5 blocks.
    assert!((t.score(0, &other_user) - 0.8).abs() < 1e-9);
    assert_eq!(t.score(1, &other_user), 0.0);
    assert_eq!(t.score(0, &[]), 0.0);
    // Only a *leading* run counts.
    let mut t2 = PrefixTable::new(1, 100);
    t2.record(0, &other_user[1..]);
    assert_eq!(t2.match_len(0, &other_user), 0);
}

#[test]
fn lru_evicts_least_recently_routed() {
    let mut t = PrefixTable::new(1, 3);
    t.record(0, &[1, 2, 3]);
    t.record(0, &[1]); // touch 1
    t.record(0, &[4]); // evicts 2
    assert_eq!(t.len(0), 3);
    assert_eq!(t.match_len(0, &[1]), 1);
    assert_eq!(t.match_len(0, &[2]), 0);
    assert_eq!(t.match_len(0, &[3, 4]), 2);
    t.clear(0);
    assert!(t.is_empty());
}

proptest! {
    /// Whatever is routed, no replica ever holds more than its capacity, the two LRU indexes agree, and the most
    /// recently routed blocks (up to the capacity) are still there.
    #[test]
    fn memory_is_bounded(
        cap in 1usize..40,
        ops in proptest::collection::vec((0usize..4, proptest::collection::vec(0u64..200, 0..30)), 0..60),
    ) {
        let mut t = PrefixTable::new(3, cap);
        for (r, hashes) in &ops {
            t.record(*r, hashes); // r == 3 is out of range and ignored
            for i in 0..3 {
                prop_assert!(t.len(i) <= cap);
            }
            prop_assert!(t.total_entries() <= 3 * cap);
            prop_assert!(t.total_entries() * ENTRY_BYTES <= t.max_bytes());
            prop_assert!(t.is_consistent());
            if *r < 3 {
                let mut recent: Vec<u64> = Vec::new();
                for h in hashes.iter().rev() {
                    if !recent.contains(h) {
                        recent.push(*h);
                    }
                }
                for h in recent.iter().take(cap) {
                    prop_assert_eq!(t.match_len(*r, &[*h]), 1);
                }
            }
        }
    }
}

#[test]
fn replicas_join_leave_and_are_copied_within_the_bound() {
    let c = cfg();
    let h = hash_prompt("m", b"aaaabbbbcccc", &c);
    let mut t = PrefixTable::new(2, 100);
    t.record(0, &h);
    t.record(1, &h[..1]);
    let r = t.add_replica();
    assert_eq!((r, t.replicas()), (2, 3));
    assert_eq!(t.len(2), 0, "a new member holds nothing");
    t.remove_replica(0);
    assert_eq!(t.replicas(), 2);
    assert_eq!(t.match_len(0, &h), 1, "the replica after the removed one moved down");
    let mut small = PrefixTable::new(1, 2);
    let mut big = PrefixTable::new(1, 100);
    big.record(0, &h);
    small.copy_replica(0, &big, 0);
    assert_eq!(small.len(0), 2, "a copy respects the receiving table's bound");
    assert!(small.is_consistent() && t.is_consistent());
    t.remove_replica(9); // out of range: no effect
    assert_eq!(t.replicas(), 2);
}

#[test]
fn auto_tune_sizes_a_replica_to_its_kv_cache_within_the_bound() {
    let c = PrefixConfig::default();
    // 2400 vLLM blocks of 16 tokens = 38 400 tokens ≈ 153 600 characters = 2400 blocks of 64 characters.
    assert_eq!(c.capacity_for(Some(2400), Some(16)), Some(2400));
    assert_eq!(
        c.capacity_for(Some(2400), None),
        Some(2400),
        "block size 16 when unknown"
    );
    assert_eq!(c.capacity_for(Some(100), Some(32)), Some(200));
    assert_eq!(
        c.capacity_for(Some(10_000_000), Some(16)),
        Some(31_250),
        "bounded by lru_blocks_per_replica"
    );
    assert_eq!(c.capacity_for(Some(0), Some(16)), Some(1));
    assert_eq!(c.capacity_for(None, Some(16)), None, "unknown size: the bound stays");
    let off = PrefixConfig { auto_tune: false, ..c };
    assert_eq!(off.capacity_for(Some(2400), Some(16)), None);
    let mut t = PrefixTable::new(2, 10);
    let h = hash_prompt("m", b"aaaabbbbccccddddeeee", &cfg());
    t.record(0, &h);
    assert_eq!(t.len(0), 5);
    t.set_capacity(0, 2);
    assert_eq!(
        (t.len(0), t.capacity_of(0)),
        (2, 2),
        "shrinking evicts the oldest blocks"
    );
    assert_eq!(t.match_len(0, &h), 0, "the leading blocks were the oldest");
    t.set_capacity(1, 1_000);
    assert_eq!(t.capacity_of(1), 10, "never above the table's bound");
    assert!(t.is_consistent());
}
