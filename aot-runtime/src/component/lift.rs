//! Reading values out of a guest, shared by the typed traits (`typed.rs`) and [`Val`]
//! (`values.rs`): [`FlatSource`] over the core values of a call, the checked views of guest
//! memory a [`LiftContext`] hands out, and the scalar, discriminant and flags rules of the
//! canonical ABI (`CanonicalABI.md`, "Loading" and "Flat Lifting").
//!
//! Every guest pointer is checked once, in `u64` arithmetic, by [`LiftContext::slice`]: its
//! alignment (`UnalignedPointer`), `len * size` fitting 32 bits (`LengthOverflow`) and the range
//! fitting the memory (`PointerOutOfBounds`). Values are then read from the checked slice with
//! `get`, so no guest input can make this code panic.
//!
//! [`Val`]: super::Val

use super::context::LiftContext;
use crate::Result;
use crate::artifact::Trap;
use crate::artifact::component::{CanonicalAbiInfo, DiscriminantSize, VariantInfo};
use crate::error::Error;
use crate::prelude::*;
use crate::values::ValRaw;

/// The core values of a call read in order, as the spec's `ValueIter`. Each value is read at
/// the width its consumer wants: reading an `i32` out of a slot the variant `join` widened to
/// `i64` is the spec's `wrap_i64_to_i32`, an `f32` out of an `i32` slot its reinterpretation, so
/// lifting variants needs no coercion code (slots are little-endian at offset 0).
#[doc(hidden)]
pub struct FlatSource<'a> {
    slots: &'a [ValRaw],
    next: usize,
}

impl<'a> FlatSource<'a> {
    /// Reads `slots` from the first.
    pub(crate) fn new(slots: &'a [ValRaw]) -> Self {
        Self { slots, next: 0 }
    }

    fn next_slot(&mut self) -> Result<&'a ValRaw> {
        let slot = self.slots.get(self.next).ok_or_else(|| {
            Error::bug(format!(
                "lifting reads core value {} of {}",
                self.next,
                self.slots.len()
            ))
        })?;
        self.next += 1;
        Ok(slot)
    }

    /// The next value as an `i32` (or the low half of an `i64`).
    pub(crate) fn next_u32(&mut self) -> Result<u32> {
        Ok(self.next_slot()?.get_u32())
    }

    /// The next value as an `i64`.
    pub(crate) fn next_u64(&mut self) -> Result<u64> {
        Ok(self.next_slot()?.get_u64())
    }

    /// The next value as an `f32`, NaNs canonicalized.
    pub(crate) fn next_f32(&mut self) -> Result<f32> {
        Ok(canonical_f32(f32::from_bits(self.next_u32()?)))
    }

    /// The next value as an `f64`, NaNs canonicalized.
    pub(crate) fn next_f64(&mut self) -> Result<f64> {
        Ok(canonical_f64(f64::from_bits(self.next_u64()?)))
    }

    /// Index of the next value.
    pub(crate) fn position(&self) -> usize {
        self.next
    }

    /// Skips to `position` (the end of a variant whose case used fewer slots than the joined
    /// flattening has).
    pub(crate) fn skip_to(&mut self, position: usize) -> Result<()> {
        if position < self.next || position > self.slots.len() {
            return Err(Error::bug(format!(
                "lifting skips from core value {} to {position} of {}",
                self.next,
                self.slots.len()
            )));
        }
        self.next = position;
        Ok(())
    }

    /// Checks that every value was read.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.next == self.slots.len() {
            Ok(())
        } else {
            Err(Error::bug(format!(
                "lifting read {} of {} core values",
                self.next,
                self.slots.len()
            )))
        }
    }
}

impl<'a> LiftContext<'a> {
    /// The options' memory.
    pub(crate) fn memory(&self) -> Result<&'a [u8]> {
        self.memory
            .ok_or_else(|| Error::msg("canonical options name no memory to lift values from"))
    }

    /// The bytes of `count` values of `abi` at guest pointer `ptr`, checked as the spec's
    /// `load_list_from_range` (alignment, then bounds); `what` names the values in the trap's
    /// detail (`list<u64>`, `string`, `return area`).
    pub(crate) fn slice(
        &self,
        ptr: u32,
        count: u32,
        abi: CanonicalAbiInfo,
        what: impl FnOnce() -> String,
    ) -> Result<&'a [u8]> {
        let memory = self.memory()?;
        let len = check_region(ptr, count, abi, memory.len(), what)?;
        let start = ptr as usize;
        memory
            .get(start..start + len)
            .ok_or_else(|| Error::bug("checked guest range out of bounds"))
    }
}

/// Checks a guest region of `count` values of `abi` at `ptr` in a memory of `memory_len`
/// bytes, returning its length in bytes. The traps and their details:
/// `UnalignedPointer` (`list<u64> at 0x1004, alignment 8`), `LengthOverflow` (`list<u64> of
/// 0x20000000 x 8 bytes`) and `PointerOutOfBounds` (`list<u64> at 0xfff0 of 4 x 8 bytes, memory
/// is 0x10000 bytes`).
pub(crate) fn check_region(
    ptr: u32,
    count: u32,
    abi: CanonicalAbiInfo,
    memory_len: usize,
    what: impl FnOnce() -> String,
) -> Result<usize> {
    let (size, align) = (abi.size32, abi.align32.max(1));
    if !ptr.is_multiple_of(align) {
        let detail = format!("{} at {ptr:#x}, alignment {align}", what());
        return Err(Error::trap_with_detail(Trap::UnalignedPointer, detail));
    }
    let bytes = u64::from(count) * u64::from(size);
    // Only formatted on the (cold) trap paths.
    let of = || {
        if count == 1 {
            format!("{size} bytes")
        } else if size == 1 {
            format!("{count} bytes")
        } else {
            format!("{count} x {size} bytes")
        }
    };
    if bytes > u64::from(u32::MAX) {
        let detail = format!("{} of {}", what(), of());
        return Err(Error::trap_with_detail(Trap::LengthOverflow, detail));
    }
    if u64::from(ptr) + bytes > memory_len as u64 {
        let detail = format!(
            "{} at {ptr:#x} of {}, memory is {memory_len:#x} bytes",
            what(),
            of()
        );
        return Err(Error::trap_with_detail(Trap::PointerOutOfBounds, detail));
    }
    Ok(bytes as usize)
}

/// `N` bytes of `bytes` at `offset`, as an array.
pub(crate) fn read<const N: usize>(bytes: &[u8], offset: usize) -> Result<[u8; N]> {
    bytes
        .get(offset..)
        .and_then(|rest| rest.get(..N))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::bug(format!("reading {N} bytes at {offset} of {}", bytes.len())))
}

/// The little-endian `u32` at `offset` of `bytes`.
pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> Result<u32> {
    read(bytes, offset).map(u32::from_le_bytes)
}

/// The little-endian `u64` at `offset` of `bytes`.
pub(crate) fn read_u64(bytes: &[u8], offset: usize) -> Result<u64> {
    read(bytes, offset).map(u64::from_le_bytes)
}

/// The `size` bytes of a field at `offset` of a value's `bytes`.
pub(crate) fn field(bytes: &[u8], offset: u32, size: u32) -> Result<&[u8]> {
    let (start, end) = (offset as usize, offset as usize + size as usize);
    bytes
        .get(start..end)
        .ok_or_else(|| Error::bug(format!("field at {start}..{end} of {} bytes", bytes.len())))
}

/// `bool`: any non-zero value is `true` (spec `convert_int_to_bool`).
pub(crate) fn lift_bool(i: u32) -> bool {
    i != 0
}

/// `char` from its `i32` (spec `convert_i32_to_char`): traps `InvalidChar` on surrogates and
/// values above `0x10ffff`.
pub(crate) fn lift_char(i: u32) -> Result<char> {
    char::from_u32(i).ok_or_else(|| Error::trap_with_detail(Trap::InvalidChar, format!("{i:#x}")))
}

/// `f32` with every NaN replaced by the canonical one (spec `canonicalize_nan32`).
pub(crate) fn canonical_f32(f: f32) -> f32 {
    if f.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        f
    }
}

/// `f64` with every NaN replaced by the canonical one (spec `canonicalize_nan64`).
pub(crate) fn canonical_f64(f: f64) -> f64 {
    if f.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        f
    }
}

/// The discriminant of a variant in memory (at offset 0 of its bytes).
pub(crate) fn load_discriminant(bytes: &[u8], info: &VariantInfo) -> Result<u32> {
    Ok(match info.size {
        DiscriminantSize::Size1 => u32::from(read::<1>(bytes, 0)?[0]),
        DiscriminantSize::Size2 => u32::from(u16::from_le_bytes(read(bytes, 0)?)),
        DiscriminantSize::Size4 => read_u32(bytes, 0)?,
    })
}

/// Checks a case index against the number of cases (`InvalidDiscriminant`, detail `5 for
/// variant with 3 cases`).
pub(crate) fn check_case(case: u32, count: usize, kind: &str) -> Result<usize> {
    let case_index = case as usize;
    if case_index < count {
        Ok(case_index)
    } else {
        let detail = format!("{case} for {kind} with {count} cases");
        Err(Error::trap_with_detail(Trap::InvalidDiscriminant, detail))
    }
}

/// The payload bytes of a variant laid out by `info` and `abi`.
pub(crate) fn payload<'b>(
    bytes: &'b [u8],
    info: &VariantInfo,
    abi: &CanonicalAbiInfo,
) -> Result<&'b [u8]> {
    let start = info.payload_offset32 as usize;
    bytes
        .get(start..abi.size32 as usize)
        .ok_or_else(|| Error::bug("variant payload out of its value"))
}

/// The flat count of a type lifted or lowered flat (at most `MAX_FLAT_PARAMS`).
pub(crate) fn flat_count(abi: &CanonicalAbiInfo) -> Result<usize> {
    abi.flat_count
        .map(usize::from)
        .ok_or_else(|| Error::bug("a value with more than 16 core values passed flat"))
}

/// Flags of `n_labels` labels from their flat `i32`s, as words of 32 labels; bits beyond the
/// labels are ignored (spec `lift_flat_flags`).
pub(crate) fn lift_flags_flat(src: &mut FlatSource<'_>, n_labels: usize) -> Result<Vec<u32>> {
    let mut words = Vec::with_capacity(n_labels.div_ceil(32));
    for _ in 0..n_labels.div_ceil(32) {
        words.push(src.next_u32()?);
    }
    mask_flags(&mut words, n_labels);
    Ok(words)
}

/// Flags of `n_labels` labels from memory: 0, 1, 2 or `4 * words` bytes (spec `load_flags`);
/// bits beyond the labels are ignored.
pub(crate) fn load_flags(bytes: &[u8], n_labels: usize) -> Result<Vec<u32>> {
    let mut words = match n_labels {
        0 => Vec::new(),
        1..=8 => vec![u32::from(read::<1>(bytes, 0)?[0])],
        9..=16 => vec![u32::from(u16::from_le_bytes(read(bytes, 0)?))],
        _ => (0..n_labels.div_ceil(32))
            .map(|i| read_u32(bytes, i * 4))
            .collect::<Result<_>>()?,
    };
    mask_flags(&mut words, n_labels);
    Ok(words)
}

/// Clears the bits beyond the labels.
fn mask_flags(words: &mut [u32], n_labels: usize) {
    for (i, word) in words.iter_mut().enumerate() {
        let first = i * 32;
        if n_labels < first + 32 {
            *word &= (1u32 << (n_labels - first)) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_checks() {
        let u64_abi = CanonicalAbiInfo {
            size32: 8,
            align32: 8,
            flat_count: Some(1),
        };
        let what = || "list<u64>".to_string();
        assert_eq!(check_region(0xfff0, 2, u64_abi, 0x10000, what).unwrap(), 16);
        let err = check_region(0x1004, 1, u64_abi, 0x10000, what).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        assert_eq!(err.detail(), Some("list<u64> at 0x1004, alignment 8"));
        let err = check_region(0xfff0, 4, u64_abi, 0x10000, what).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("list<u64> at 0xfff0 of 4 x 8 bytes, memory is 0x10000 bytes")
        );
        let err = check_region(0, 0x2000_0000, u64_abi, 0x10000, what).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::LengthOverflow));
        // The largest pointer and length never overflow the check itself.
        let err = check_region(u32::MAX - 7, 0x1fff_ffff, u64_abi, 0x10000, what).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
    }

    #[test]
    fn flags_ignore_bits_beyond_labels() {
        assert_eq!(load_flags(&[0xff], 3).unwrap(), [0b111]);
        assert_eq!(load_flags(&[0xff, 0xff], 9).unwrap(), [0x1ff]);
        let bytes = [0xff; 8];
        assert_eq!(load_flags(&bytes, 33).unwrap(), [u32::MAX, 1]);
        assert_eq!(load_flags(&bytes, 64).unwrap(), [u32::MAX, u32::MAX]);
        assert!(load_flags(&[], 0).unwrap().is_empty());
        let slots = [ValRaw::from_u32(u32::MAX), ValRaw::from_u32(u32::MAX)];
        let mut src = FlatSource::new(&slots);
        assert_eq!(lift_flags_flat(&mut src, 40).unwrap(), [u32::MAX, 0xff]);
    }

    #[test]
    fn chars_and_discriminants() {
        assert_eq!(lift_char(0x41).unwrap(), 'A');
        for bad in [0xd800, 0xdfff, 0x11_0000, u32::MAX] {
            let err = lift_char(bad).unwrap_err();
            assert_eq!(err.trap(), Some(Trap::InvalidChar));
        }
        assert_eq!(lift_char(0xd800).unwrap_err().detail(), Some("0xd800"));
        let err = check_case(5, 3, "variant").unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidDiscriminant));
        assert_eq!(err.detail(), Some("5 for variant with 3 cases"));
    }
}
