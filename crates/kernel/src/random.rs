//! The `RandomSource` port: where ids, secrets and tokens get their randomness.

use rand::RngCore;

/// Where randomness comes from (ids, secrets, tokens). Injectable so tests can be deterministic;
/// production uses the operating system's CSPRNG.
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with random bytes (unpredictable ones, outside tests: they become secrets).
    fn fill(&self, buf: &mut [u8]);

    /// 128 random bits.
    fn u128(&self) -> u128 {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        u128::from_le_bytes(bytes)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(buf);
    }
}
