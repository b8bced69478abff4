//! Writing values into a guest, shared by the typed traits (`typed.rs`) and [`Val`]
//! (`values.rs`): [`FlatSink`] over the core values of a call, `realloc` with its result
//! checked, checked writes into guest memory, and the flags and discriminant encodings
//! (`CanonicalABI.md`, "Storing" and "Flat Lowering").
//!
//! Memory is re-fetched from the [`GuestMemory`] at every write because `realloc` may grow (and
//! so move) it; offsets stay valid since memories never shrink. Every region written was checked
//! when it was allocated or received ([`LowerContext::alloc`], [`LowerContext::check`]); the
//! writes still go through `get_mut`, so a misbehaving memory can only produce an error.
//!
//! [`Val`]: super::Val
//! [`GuestMemory`]: super::context::GuestMemory

use super::context::LowerContext;
use super::lift::{canonical_f32, canonical_f64, check_region};
use crate::Result;
use crate::artifact::component::{CanonicalAbiInfo, DiscriminantSize, VariantInfo};
use crate::error::Error;
use crate::prelude::*;
use crate::values::ValRaw;

/// The core values of a call written in order into zeroed 16-byte slots. Writing an `i32` or
/// `f32` payload into a slot the variant `join` widened to `i64` zero-extends it, as the spec's
/// `lower_flat_variant` coercions do, because a slot is little-endian at offset 0 and
/// `ValRaw::from_u32` zeroes the rest.
#[doc(hidden)]
pub struct FlatSink<'a> {
    slots: &'a mut [ValRaw],
    next: usize,
}

impl<'a> FlatSink<'a> {
    /// Writes `slots` from the first.
    pub(crate) fn new(slots: &'a mut [ValRaw]) -> Self {
        Self { slots, next: 0 }
    }

    fn push(&mut self, value: ValRaw) -> Result<()> {
        let len = self.slots.len();
        let slot = self.slots.get_mut(self.next).ok_or_else(|| {
            Error::bug(format!("lowering writes core value {} of {len}", self.next))
        })?;
        *slot = value;
        self.next += 1;
        Ok(())
    }

    /// Writes an `i32`.
    pub(crate) fn push_u32(&mut self, v: u32) -> Result<()> {
        self.push(ValRaw::from_u32(v))
    }

    /// Writes an `i64`.
    pub(crate) fn push_u64(&mut self, v: u64) -> Result<()> {
        self.push(ValRaw::from_u64(v))
    }

    /// Writes an `f32`, NaNs canonicalized.
    pub(crate) fn push_f32(&mut self, v: f32) -> Result<()> {
        self.push_u32(canonical_f32(v).to_bits())
    }

    /// Writes an `f64`, NaNs canonicalized.
    pub(crate) fn push_f64(&mut self, v: f64) -> Result<()> {
        self.push_u64(canonical_f64(v).to_bits())
    }

    /// Index of the next value.
    pub(crate) fn position(&self) -> usize {
        self.next
    }

    /// Writes zeros up to `position`: the slots of a variant its case does not use.
    pub(crate) fn fill_to(&mut self, position: usize) -> Result<()> {
        while self.next < position {
            self.push(ValRaw::default())?;
        }
        Ok(())
    }

    /// Checks that every slot was written.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.next == self.slots.len() {
            Ok(())
        } else {
            Err(Error::bug(format!(
                "lowering wrote {} of {} core values",
                self.next,
                self.slots.len()
            )))
        }
    }
}

impl LowerContext<'_> {
    /// Allocates `count` values of `abi` with `realloc(0, 0, align, count * size)` and checks
    /// the pointer it returns (spec `store_list_into_range`): `LengthOverflow` if the size does
    /// not fit 32 bits, then `UnalignedPointer` or `PointerOutOfBounds`.
    pub(crate) fn alloc(
        &mut self,
        count: usize,
        abi: CanonicalAbiInfo,
        what: impl Fn() -> String,
    ) -> Result<u32> {
        let bytes = (count as u64).saturating_mul(u64::from(abi.size32));
        let (Ok(count), Ok(bytes)) = (u32::try_from(count), u32::try_from(bytes)) else {
            let detail = format!("{} of {count} x {} bytes", what(), abi.size32);
            return Err(Error::trap_with_detail(
                crate::artifact::Trap::LengthOverflow,
                detail,
            ));
        };
        let align = abi.align32.max(1);
        let ptr = self.mem.realloc(0, 0, align, bytes)?;
        self.check(ptr, count, abi, || format!("{} from realloc", what()))?;
        Ok(ptr)
    }

    /// Checks a guest region of `count` values of `abi` at `ptr` (a `realloc` result or a
    /// pointer the guest passed) against the current memory.
    pub(crate) fn check(
        &self,
        ptr: u32,
        count: u32,
        abi: CanonicalAbiInfo,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        let len = self.memory_len()?;
        check_region(ptr, count, abi, len, what).map(drop)
    }

    fn memory_len(&self) -> Result<usize> {
        self.mem.memory().map(<[u8]>::len).ok_or_else(no_memory)
    }

    /// The memory's bytes `offset..offset + len` (inside a checked region), mutable.
    pub(crate) fn bytes_mut(&mut self, offset: usize, len: usize) -> Result<&mut [u8]> {
        let memory = self.mem.memory_mut().ok_or_else(no_memory)?;
        let size = memory.len();
        offset
            .checked_add(len)
            .and_then(|end| memory.get_mut(offset..end))
            .ok_or_else(|| {
                Error::bug(format!(
                    "writing {len} bytes at {offset:#x} of a memory of {size:#x} bytes"
                ))
            })
    }

    /// Writes `bytes` at `offset` (inside a checked region).
    pub(crate) fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<()> {
        self.bytes_mut(offset, bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// Writes a pointer and a length (a string or list) at `offset`.
    pub(crate) fn write_pair(&mut self, offset: usize, ptr: u32, len: u32) -> Result<()> {
        let mut pair = [0; 8];
        pair[..4].copy_from_slice(&ptr.to_le_bytes());
        pair[4..].copy_from_slice(&len.to_le_bytes());
        self.write(offset, &pair)
    }

    /// Writes the discriminant of a variant laid out by `info` at `offset`.
    pub(crate) fn write_discriminant(
        &mut self,
        offset: usize,
        info: &VariantInfo,
        case: u32,
    ) -> Result<()> {
        match info.size {
            DiscriminantSize::Size1 => self.write(offset, &[case as u8]),
            DiscriminantSize::Size2 => self.write(offset, &(case as u16).to_le_bytes()),
            DiscriminantSize::Size4 => self.write(offset, &case.to_le_bytes()),
        }
    }

    /// Writes flags of `n_labels` labels given as words of 32 labels (spec `store_flags`).
    pub(crate) fn write_flags(
        &mut self,
        offset: usize,
        words: &[u32],
        n_labels: usize,
    ) -> Result<()> {
        let word = |i: usize| words.get(i).copied().unwrap_or(0);
        match n_labels {
            0 => Ok(()),
            1..=8 => self.write(offset, &[word(0) as u8]),
            9..=16 => self.write(offset, &(word(0) as u16).to_le_bytes()),
            _ => {
                for i in 0..n_labels.div_ceil(32) {
                    self.write(offset + i * 4, &word(i).to_le_bytes())?;
                }
                Ok(())
            }
        }
    }
}

/// Writes flags of `n_labels` labels flat: one `i32` per 32 labels (spec `lower_flat_flags`).
pub(crate) fn lower_flags_flat(
    dst: &mut FlatSink<'_>,
    words: &[u32],
    n_labels: usize,
) -> Result<()> {
    for i in 0..n_labels.div_ceil(32) {
        dst.push_u32(words.get(i).copied().unwrap_or(0))?;
    }
    Ok(())
}

#[cold]
fn no_memory() -> Error {
    Error::msg("canonical options name no memory to lower values into")
}

#[cfg(test)]
mod tests {
    use super::super::context::test_memory::{Realloc, TestMemory};
    use super::*;
    use crate::artifact::Trap;
    use crate::artifact::component::{ComponentTypes, StringEncoding};

    #[test]
    fn alloc_checks_realloc_results() {
        let types = ComponentTypes::default();
        let abi = CanonicalAbiInfo::SCALAR8;
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let ptr = cx.alloc(3, abi, || "list<u64>".into()).unwrap();
        assert_eq!(ptr, 8);
        assert_eq!(mem.calls, [(0, 0, 8, 24)]);

        mem.realloc = Realloc::Fixed(0x1004);
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let err = cx.alloc(1, abi, || "list<u64>".into()).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        assert_eq!(
            err.detail(),
            Some("list<u64> from realloc at 0x1004, alignment 8")
        );

        mem.realloc = Realloc::Fixed(0xfff0);
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let err = cx.alloc(4, abi, || "list<u64>".into()).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("list<u64> from realloc at 0xfff0 of 4 x 8 bytes, memory is 0x10000 bytes")
        );

        // `len * size` over 32 bits traps before realloc is called.
        mem.calls.clear();
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let err = cx
            .alloc(0x2000_0000, abi, || "list<u64>".into())
            .unwrap_err();
        assert_eq!(err.trap(), Some(Trap::LengthOverflow));
        assert!(mem.calls.is_empty());
    }

    #[test]
    fn sink_fills_and_checks() {
        let mut slots = [ValRaw::from_u64(u64::MAX); 3];
        let mut sink = FlatSink::new(&mut slots);
        sink.push_f32(f32::from_bits(0x7fc0_1234)).unwrap();
        sink.fill_to(3).unwrap();
        sink.finish().unwrap();
        assert!(sink.push_u32(1).is_err());
        assert_eq!(slots[0].get_u64(), 0x7fc0_0000);
        assert_eq!(slots[1], ValRaw::default());
    }
}
