//! Pool membership changes: what a new resolution of a pool's DNS name means for its replica list.
//!
//! [`diff`] compares the replicas a pool has with the set a resolution returned and says which to add and which to
//! remove, keeping the order stable (members that stay keep their position; new ones are appended in the resolved
//! order), so per-replica state never moves to another replica. Duplicates in the resolved list count once.

/// What to change in a member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff<T> {
    /// New members, in the order the resolution listed them.
    pub added: Vec<T>,
    /// Members no longer resolved, in their current order.
    pub removed: Vec<T>,
}

// === impl Diff ===

impl<T> Diff<T> {
    /// Whether nothing changes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// The change from `current` members to the `resolved` set.
#[must_use]
pub fn diff<T: PartialEq + Clone>(current: &[T], resolved: &[T]) -> Diff<T> {
    let mut added: Vec<T> = Vec::new();
    for r in resolved {
        if !current.contains(r) && !added.contains(r) {
            added.push(r.clone());
        }
    }
    let removed = current.iter().filter(|c| !resolved.contains(c)).cloned().collect();
    Diff { added, removed }
}

#[cfg(test)]
mod tests;
