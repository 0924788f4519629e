//! The store's bounds (count, bytes, TTL), its LRU order and its principal scoping, on an injected clock.

use super::*;

fn limits(max_entries: usize, max_bytes: usize, ttl_secs: u64) -> ResponseStoreSettings {
    ResponseStoreSettings {
        redis: false,
        max_entries,
        max_bytes,
        ttl: Duration::from_secs(ttl_secs),
    }
}

fn items(n: usize) -> Bytes {
    Bytes::from(format!("[\"{}\"]", "x".repeat(n.saturating_sub(4))))
}

#[test]
fn scoped_to_the_owner() {
    let s = ResponseStore::new();
    let now = Instant::now();
    let l = limits(10, 1000, 60);
    s.put("resp_1", "alice", items(10), now, &l);
    assert_eq!(s.get("resp_1", "alice", now, &l), Some(items(10)));
    assert_eq!(s.get("resp_1", "bob", now, &l), None);
    assert_eq!(s.get("resp_2", "alice", now, &l), None);
}

#[test]
fn evicts_least_recently_used_by_count_and_bytes() {
    let s = ResponseStore::new();
    let now = Instant::now();
    let l = limits(2, 1000, 60);
    s.put("a", "o", items(10), now, &l);
    s.put("b", "o", items(10), now, &l);
    // Using `a` makes `b` the least recently used.
    assert!(s.get("a", "o", now, &l).is_some());
    s.put("c", "o", items(10), now, &l);
    assert!(s.get("b", "o", now, &l).is_none());
    assert!(s.get("a", "o", now, &l).is_some() && s.get("c", "o", now, &l).is_some());

    let l = limits(100, 25, 60);
    let s = ResponseStore::new();
    s.put("a", "o", items(10), now, &l);
    s.put("b", "o", items(10), now, &l);
    s.put("c", "o", items(10), now, &l);
    assert_eq!(s.size(), (2, 20));
    assert!(s.get("a", "o", now, &l).is_none());
    // One conversation over the whole budget is not stored at all.
    s.put("big", "o", items(26), now, &l);
    assert!(s.get("big", "o", now, &l).is_none());
    assert_eq!(s.size(), (2, 20));
}

#[test]
fn expires_after_the_ttl_and_replaces_in_place() {
    let s = ResponseStore::new();
    let t0 = Instant::now();
    let l = limits(10, 1000, 60);
    s.put("a", "o", items(10), t0, &l);
    assert!(s.get("a", "o", t0 + Duration::from_secs(59), &l).is_some());
    assert!(s.get("a", "o", t0 + Duration::from_secs(60), &l).is_none());
    assert_eq!(s.size(), (0, 0));
    s.put("a", "o", items(10), t0, &l);
    s.put("a", "o", items(12), t0, &l);
    assert_eq!(s.size(), (1, 12));
    // A disabled store keeps nothing.
    let off = limits(0, 1000, 60);
    s.put("z", "o", items(10), t0, &off);
    assert!(s.get("z", "o", t0, &l).is_none());
}
