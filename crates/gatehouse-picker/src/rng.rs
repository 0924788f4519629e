//! SplitMix64: a tiny deterministic generator so tie-breaks and the `random` strategy are reproducible from the
//! caller's seed (the crate reads no entropy source itself).

/// A SplitMix64 state.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

// === impl SplitMix64 ===

impl SplitMix64 {
    /// Starts from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift; the bias is < n / 2^64, irrelevant here.
        let n64 = n as u64;
        ((u128::from(self.next_u64()) * u128::from(n64)) >> 64) as usize
    }
}
