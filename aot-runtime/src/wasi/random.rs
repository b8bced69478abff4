//! Random sources for WASI guests: [`RandomSource`], the operating system's generator
//! ([`OsRandom`], the default secure source) and a small seeded generator ([`InsecureRandom`],
//! the default insecure source, which is not cryptographic).
//!
//! The embedder can replace either (deterministic tests use a fixed sequence). The secure source
//! answers preview 1 `random_get` and `wasi:random/random`; the insecure one answers
//! `wasi:random/insecure`.

/// A source of random bytes.
pub trait RandomSource: Send {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);

    /// A random `u64` (little-endian bytes from [`RandomSource::fill_bytes`]).
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
}

/// The operating system's cryptographically secure generator (`getrandom(2)` on Linux, through
/// the `getrandom` crate).
#[derive(Copy, Clone, Debug, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    /// # Panics
    /// If the operating system's generator fails, which `getrandom(2)` does not do once the
    /// kernel's pool is initialized; a guest cannot cause it.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if let Err(e) = getrandom::fill(dest) {
            panic!("the operating system's random number generator failed: {e}");
        }
    }
}

/// A fast seeded pseudo-random generator (xoshiro256++ seeded through SplitMix64).
///
/// **Not cryptographic**: its output is predictable from a few values. It is the default
/// insecure source (`wasi:random/insecure`), seeded from the operating system; seed it with
/// [`InsecureRandom::from_seed`] for a reproducible sequence.
#[derive(Clone, Debug)]
pub struct InsecureRandom {
    state: [u64; 4],
}

impl InsecureRandom {
    /// A generator seeded from the operating system's generator.
    pub fn new() -> Self {
        Self::from_seed(OsRandom.next_u64())
    }

    /// A generator whose sequence is fully determined by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut sm = seed;
        let mut state = [0; 4];
        for s in &mut state {
            *s = splitmix64(&mut sm);
        }
        Self { state }
    }
}

impl Default for InsecureRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomSource for InsecureRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xoshiro256++ (Blackman and Vigna, 2019).
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

/// One step of SplitMix64, which spreads a 64-bit seed over the generator's state.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_random_fills() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        OsRandom.fill_bytes(&mut a);
        OsRandom.fill_bytes(&mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn insecure_random_is_reproducible() {
        let mut a = InsecureRandom::from_seed(42);
        let mut b = InsecureRandom::from_seed(42);
        let mut x = [0u8; 13];
        let mut y = [0u8; 13];
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0; 13]);
        assert_ne!(
            InsecureRandom::from_seed(1).next_u64(),
            InsecureRandom::from_seed(2).next_u64()
        );
        // The first SplitMix64 output for seed 0 is a published test vector.
        assert_eq!(splitmix64(&mut 0), 0xe220_a839_7b1d_cdaf);
    }
}
