//! The artifact checksum: a fast 64-bit hash of every byte of the artifact, stored in the
//! compatibility record (see [`super::header`]) and computed with that field reading as zero.
//!
//! It guards against accidental damage (a truncated download, a flipped bit on disk), not against
//! an adversary: it is not a cryptographic hash. It is designed so that **any change confined to
//! one aligned 8-byte word is always detected**, which covers every single-byte change:
//!
//! - the input is read as little-endian 64-bit words (a short last word is zero-padded), dealt
//!   round-robin to four independent lanes so that the multiplications overlap;
//! - each lane absorbs a word with `lane = rotl((lane ^ word) * K, 31)`. For a fixed lane value
//!   this is a bijection of the word (xor, multiplication by an odd constant modulo 2^64 and
//!   rotation are all invertible), so a different word gives a different lane value; for a fixed
//!   word it is a bijection of the lane, so the difference survives every later word;
//! - the lanes are folded one after the other into a state seeded with the length, each step
//!   again a bijection of both the state and the folded lane, then the state is avalanched (also
//!   a bijection). A lane that differs therefore gives a different checksum.
//!
//! Changes spread over several words are detected with probability about `1 - 2^-64`.

/// Odd multiplier (the 64-bit golden ratio).
const K: u64 = 0x9e37_79b9_7f4a_7c15;
/// Initial values of the four lanes (distinct, so that equal words in different lanes differ).
const LANE_SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

#[inline(always)]
fn absorb(lane: u64, word: u64) -> u64 {
    (lane ^ word).wrapping_mul(K).rotate_left(31)
}

/// The hash state: four lanes and the index of the next word.
struct State {
    lanes: [u64; 4],
    words: u64,
}

impl State {
    fn new() -> Self {
        Self {
            lanes: LANE_SEEDS,
            words: 0,
        }
    }

    #[inline(always)]
    fn word(&mut self, w: u64) {
        let lane = (self.words % 4) as usize;
        self.lanes[lane] = absorb(self.lanes[lane], w);
        self.words += 1;
    }

    /// Absorbs `bytes`, whose length must be a multiple of 8 unless it is the last call.
    fn bytes(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        // Single words until the next word goes to lane 0...
        while !self.words.is_multiple_of(4) && rest.len() >= 8 {
            let (w, tail) = rest.split_at(8);
            self.word(u64::from_le_bytes(w.try_into().unwrap()));
            rest = tail;
        }
        // ...then 32 bytes at a time, one word per lane...
        let mut chunks = rest.chunks_exact(32);
        let [mut a, mut b, mut c, mut d] = self.lanes;
        for chunk in &mut chunks {
            let w = |i: usize| u64::from_le_bytes(chunk[i * 8..i * 8 + 8].try_into().unwrap());
            a = absorb(a, w(0));
            b = absorb(b, w(1));
            c = absorb(c, w(2));
            d = absorb(d, w(3));
        }
        self.lanes = [a, b, c, d];
        self.words += (rest.len() / 32 * 4) as u64;
        // ...then the remaining words, and a zero-padded partial word.
        let mut words = chunks.remainder().chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().unwrap()));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut last = [0u8; 8];
            last[..tail.len()].copy_from_slice(tail);
            self.word(u64::from_le_bytes(last));
        }
    }

    fn finish(self, len: usize) -> u64 {
        let mut h = (len as u64).wrapping_mul(K);
        for lane in self.lanes {
            h = absorb(h, avalanche(lane));
        }
        avalanche(h)
    }
}

/// The murmur3 64-bit finaliser: a bijection whose every output bit depends on every input bit.
fn avalanche(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut state = State::new();
    state.bytes(bytes);
    state.finish(bytes.len())
}

/// The checksum of `bytes` as if the 8 bytes at `field` read as zero: how an artifact's checksum
/// is computed, `field` being the file offset of the checksum field itself. Nothing is copied.
///
/// Returns `None` if `field` is not a multiple of 8 or the field does not fit in `bytes`.
pub fn checksum_with_zeroed_field(bytes: &[u8], field: usize) -> Option<u64> {
    if !field.is_multiple_of(8) || field.checked_add(8)? > bytes.len() {
        return None;
    }
    let mut state = State::new();
    state.bytes(&bytes[..field]);
    state.word(0);
    state.bytes(&bytes[field + 8..]);
    Some(state.finish(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
            .collect()
    }

    #[test]
    fn zeroed_field_equals_hash_of_zeroed_copy() {
        for len in [8, 16, 40, 64, 100, 257, 1024] {
            let bytes = sample(len);
            for field in (0..=len - 8).step_by(8) {
                let mut copy = bytes.clone();
                copy[field..field + 8].fill(0);
                assert_eq!(
                    checksum_with_zeroed_field(&bytes, field),
                    Some(checksum(&copy)),
                    "len {len} field {field}"
                );
            }
        }
        assert_eq!(checksum_with_zeroed_field(&sample(64), 4), None);
        assert_eq!(checksum_with_zeroed_field(&sample(64), 64), None);
    }

    #[test]
    fn every_single_byte_change_is_detected() {
        for len in [1, 7, 8, 31, 32, 33, 200] {
            let bytes = sample(len);
            let base = checksum(&bytes);
            for i in 0..len {
                for flip in [0x01u8, 0x80, 0xff, 0x5a] {
                    let mut damaged = bytes.clone();
                    damaged[i] ^= flip;
                    assert_ne!(checksum(&damaged), base, "len {len} byte {i} ^ {flip:#x}");
                }
            }
        }
    }

    #[test]
    fn length_matters() {
        // Zero padding of the last word must not hide a truncation or an extension by zeros.
        let bytes = [1u8, 2, 3, 0, 0];
        assert_ne!(checksum(&bytes[..3]), checksum(&bytes[..4]));
        assert_ne!(checksum(&bytes[..4]), checksum(&bytes[..5]));
        assert_ne!(checksum(&[]), checksum(&[0]));
    }
}
