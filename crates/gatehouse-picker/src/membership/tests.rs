use proptest::prelude::*;

use super::*;

#[test]
fn added_and_removed_keep_their_order() {
    let d = diff(&["a", "b", "c"], &["d", "c", "a", "e"]);
    assert_eq!(d.added, vec!["d", "e"]);
    assert_eq!(d.removed, vec!["b"]);
    assert!(!d.is_empty());
}

#[test]
fn same_set_in_another_order_changes_nothing() {
    let d = diff(&["a", "b"], &["b", "a", "a"]);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn duplicates_are_added_once_and_empty_sets_work() {
    assert_eq!(diff(&[], &["x", "x"]).added, vec!["x"]);
    assert_eq!(diff(&["x", "y"], &[]).removed, vec!["x", "y"]);
    assert!(diff::<&str>(&[], &[]).is_empty());
}

proptest! {
    /// Applying the diff to `current` gives exactly the resolved set, and members that stay are never touched.
    #[test]
    fn applying_the_diff_yields_the_resolved_set(
        current in proptest::collection::btree_set(0u8..20, 0..10),
        resolved in proptest::collection::vec(0u8..20, 0..15),
    ) {
        let current: Vec<u8> = current.into_iter().collect();
        let d = diff(&current, &resolved);
        let mut after: Vec<u8> = current.iter().copied().filter(|c| !d.removed.contains(c)).collect();
        for c in &current {
            if resolved.contains(c) {
                prop_assert!(!d.removed.contains(c));
            }
        }
        after.extend(&d.added);
        let mut want: Vec<u8> = resolved.clone();
        want.sort_unstable();
        want.dedup();
        let mut got = after.clone();
        got.sort_unstable();
        prop_assert_eq!(got.len(), after.len(), "no duplicates");
        prop_assert_eq!(got, want);
    }
}
