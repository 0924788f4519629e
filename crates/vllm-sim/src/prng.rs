//! A tiny seeded pseudo-random generator (SplitMix64).
//!
//! The simulator must be reproducible: the same `--seed` and the same request give the same reply and the same
//! response id sequence. SplitMix64 is small, fast, passes BigCrush and needs no dependency; it is not
//! cryptographic and must never be used for anything secret.

/// SplitMix64 generator state.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

// === impl SplitMix64 ===

impl SplitMix64 {
    /// A generator whose whole output is determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.state)
    }

    /// A value in `0..n` (`n` must be non-zero; returns 0 when it is not).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: bias is < n / 2^64, irrelevant for a simulator.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// The SplitMix64 output function: a strong 64-bit bit mixer, also used by [`crate::hash`].
pub(crate) fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], SplitMix64::new(43).next_u64());
    }

    #[test]
    fn known_vector() {
        // Reference output of SplitMix64 seeded with 0 (from the original C implementation).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_stays_in_range() {
        let mut g = SplitMix64::new(7);
        assert!((0..1000).all(|_| g.below(10) < 10));
        assert_eq!(g.below(0), 0);
    }
}
