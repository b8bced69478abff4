//! Strings across the boundary in the three encodings of the canonical options: `utf8`,
//! `utf16` and `latin1+utf16` (`CanonicalABI.md`, `load_string_from_range` and
//! `store_string`).
//!
//! Decoding validates (`InvalidUtf8`, `InvalidUtf16` with the offending offset) after the usual
//! pointer checks. Encoding starts from a Rust `&str` and makes exactly one `realloc` per string,
//! of the exact final size, instead of the spec's optimistic allocate-then-shrink sequences: the
//! guest receives the same bytes and length, only the number of `realloc` calls differs, which
//! no conforming guest may depend on (docs/components.md §4.4). Guest-to-guest transcoding is a
//! decode followed by an encode.

use super::context::{LiftContext, LowerContext};
use crate::Result;
use crate::artifact::Trap;
use crate::artifact::component::{CanonicalAbiInfo, StringEncoding};
use crate::error::Error;
use crate::prelude::*;

/// The tag bit of a `latin1+utf16` length saying the string is UTF-16 (spec `UTF16_TAG`).
pub(crate) const UTF16_TAG: u32 = 1 << 31;

/// Longest string in bytes, so that the tag bit stays clear (spec `MAX_STRING_BYTE_LENGTH`).
pub(crate) const MAX_STRING_BYTE_LENGTH: usize = (1 << 31) - 1;

/// Code units of one byte (UTF-8, Latin-1).
const UNITS_1: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR1;

/// Code units of two bytes (UTF-16), aligned to 2.
const UNITS_2: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR2;

/// Units of two bytes aligned to 2 but counted in bytes: the Latin-1 half of `latin1+utf16`.
const LATIN1: CanonicalAbiInfo = CanonicalAbiInfo {
    size32: 1,
    align32: 2,
    flat_count: Some(1),
};

/// Reads the string at `ptr` of `tagged_len` code units (spec `load_string_from_range`).
pub(crate) fn lift_string(cx: &LiftContext<'_>, ptr: u32, tagged_len: u32) -> Result<String> {
    let what = || "string".to_string();
    match cx.encoding {
        StringEncoding::Utf8 => decode_utf8(cx.slice(ptr, tagged_len, UNITS_1, what)?, ptr),
        StringEncoding::Utf16 => decode_utf16(cx.slice(ptr, tagged_len, UNITS_2, what)?, ptr),
        StringEncoding::CompactUtf16 if tagged_len & UTF16_TAG != 0 => {
            let units = tagged_len ^ UTF16_TAG;
            decode_utf16(cx.slice(ptr, units, UNITS_2, what)?, ptr)
        }
        StringEncoding::CompactUtf16 => {
            let bytes = cx.slice(ptr, tagged_len, LATIN1, what)?;
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
    }
}

/// Writes `s` into freshly allocated guest memory, returning the pointer and the (tagged) length
/// in code units (spec `store_string_into_range`, from a UTF-8 source).
pub(crate) fn lower_string(cx: &mut LowerContext<'_>, s: &str) -> Result<(u32, u32)> {
    match cx.encoding {
        StringEncoding::Utf8 => {
            let ptr = alloc_string(cx, s.len(), UNITS_1)?;
            cx.write(ptr as usize, s.as_bytes())?;
            Ok((ptr, s.len() as u32))
        }
        StringEncoding::Utf16 => {
            let units = s.encode_utf16().count();
            let ptr = lower_utf16(cx, s, units)?;
            Ok((ptr, units as u32))
        }
        StringEncoding::CompactUtf16 => {
            if s.chars().all(|c| u32::from(c) <= 0xff) {
                let len = s.chars().count();
                let ptr = alloc_string(cx, len, LATIN1)?;
                let dst = cx.bytes_mut(ptr as usize, len)?;
                for (d, c) in dst.iter_mut().zip(s.chars()) {
                    *d = u32::from(c) as u8;
                }
                Ok((ptr, len as u32))
            } else {
                let units = s.encode_utf16().count();
                let ptr = lower_utf16(cx, s, units)?;
                Ok((ptr, units as u32 | UTF16_TAG))
            }
        }
    }
}

fn lower_utf16(cx: &mut LowerContext<'_>, s: &str, units: usize) -> Result<u32> {
    let ptr = alloc_string(cx, units, UNITS_2)?;
    let dst = cx.bytes_mut(ptr as usize, units * 2)?;
    for (d, unit) in dst.chunks_exact_mut(2).zip(s.encode_utf16()) {
        d.copy_from_slice(&unit.to_le_bytes());
    }
    Ok(ptr)
}

/// One exact-size `realloc(0, 0, align, units * size)` for a string, checked; strings over
/// [`MAX_STRING_BYTE_LENGTH`] bytes trap `LengthOverflow`.
fn alloc_string(cx: &mut LowerContext<'_>, units: usize, abi: CanonicalAbiInfo) -> Result<u32> {
    let bytes = units.saturating_mul(abi.size32 as usize);
    if bytes > MAX_STRING_BYTE_LENGTH {
        return Err(Error::trap_with_detail(
            Trap::LengthOverflow,
            format!("string of {bytes} bytes"),
        ));
    }
    cx.alloc(units, abi, || "string".to_string())
}

fn decode_utf8(bytes: &[u8], ptr: u32) -> Result<String> {
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(Error::trap_with_detail(
            Trap::InvalidUtf8,
            format!(
                "invalid byte at offset {} of the string at {ptr:#x}",
                e.valid_up_to()
            ),
        )),
    }
}

fn decode_utf16(bytes: &[u8], ptr: u32) -> Result<String> {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let mut s = String::with_capacity(bytes.len() / 2);
    let mut offset = 0;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                s.push(c);
                offset += c.len_utf16();
            }
            Err(e) => {
                return Err(Error::trap_with_detail(
                    Trap::InvalidUtf16,
                    format!(
                        "unpaired surrogate {:#x} at code unit {offset} of the string at {ptr:#x}",
                        e.unpaired_surrogate()
                    ),
                ));
            }
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::super::context::test_memory::{Realloc, TestMemory};
    use super::*;
    use crate::artifact::component::ComponentTypes;

    /// Lowers `s` with `encoding`, returning the pointer, the length and the bytes written, and
    /// checks that it lifts back.
    fn lower(encoding: StringEncoding, s: &str) -> (u32, u32, Vec<u8>) {
        let types = ComponentTypes::default();
        let mut mem = TestMemory::new();
        let mut cx = LowerContext::new(&mut mem, encoding, &types);
        let (ptr, len) = lower_string(&mut cx, s).unwrap();
        assert_eq!(mem.calls.len(), 1, "one realloc per string");
        let (_, _, _, size) = mem.calls[0];
        let bytes = mem.bytes[ptr as usize..(ptr + size) as usize].to_vec();
        let cx = LiftContext::new(Some(&mem.bytes), encoding, &types);
        assert_eq!(lift_string(&cx, ptr, len).unwrap(), s);
        (ptr, len, bytes)
    }

    #[test]
    fn utf8() {
        let (ptr, len, bytes) = lower(StringEncoding::Utf8, "héllo");
        assert_eq!((ptr, len), (8, 6));
        assert_eq!(bytes, "héllo".as_bytes());
        assert_eq!(lower(StringEncoding::Utf8, "").1, 0);
    }

    #[test]
    fn utf16_exact_bytes() {
        let (_, len, bytes) = lower(StringEncoding::Utf16, "hello");
        assert_eq!(len, 5);
        assert_eq!(bytes, b"h\0e\0l\0l\0o\0");
        let (_, len, bytes) = lower(StringEncoding::Utf16, "héllo");
        assert_eq!(len, 5);
        assert_eq!(bytes, b"h\0\xe9\0l\0l\0o\0");
        let (_, len, bytes) = lower(StringEncoding::Utf16, "h€llo");
        assert_eq!(len, 5);
        assert_eq!(bytes, b"h\0\xac\x20l\0l\0o\0");
        // A character outside the BMP takes a surrogate pair.
        let (_, len, bytes) = lower(StringEncoding::Utf16, "👋");
        assert_eq!(len, 2);
        assert_eq!(bytes, [0x3d, 0xd8, 0x4b, 0xdc]);
    }

    #[test]
    fn latin1_utf16_exact_bytes() {
        let (_, len, bytes) = lower(StringEncoding::CompactUtf16, "hello");
        assert_eq!(len, 5);
        assert_eq!(bytes, b"hello");
        let (_, len, bytes) = lower(StringEncoding::CompactUtf16, "héllo");
        assert_eq!(len, 5);
        assert_eq!(bytes, b"h\xe9llo");
        let (_, len, bytes) = lower(StringEncoding::CompactUtf16, "h€llo");
        assert_eq!(len, 5 | UTF16_TAG);
        assert_eq!(bytes, b"h\0\xac\x20l\0l\0o\0");
    }

    #[test]
    fn realloc_alignment_per_encoding() {
        let types = ComponentTypes::default();
        for (encoding, s, expected) in [
            (StringEncoding::Utf8, "héllo", (0, 0, 1, 6)),
            (StringEncoding::Utf16, "héllo", (0, 0, 2, 10)),
            (StringEncoding::CompactUtf16, "héllo", (0, 0, 2, 5)),
            (StringEncoding::CompactUtf16, "h€llo", (0, 0, 2, 10)),
        ] {
            let mut mem = TestMemory::new();
            let mut cx = LowerContext::new(&mut mem, encoding, &types);
            lower_string(&mut cx, s).unwrap();
            assert_eq!(mem.calls, [expected], "{encoding:?} {s}");
        }
    }

    fn lift(encoding: StringEncoding, memory: &[u8], ptr: u32, len: u32) -> Result<String> {
        let types = ComponentTypes::default();
        lift_string(&LiftContext::new(Some(memory), encoding, &types), ptr, len)
    }

    #[test]
    fn decode_traps() {
        let mut memory = vec![0; 0x10000];
        memory[16..20].copy_from_slice(b"ab\xffc");
        let err = lift(StringEncoding::Utf8, &memory, 16, 4).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidUtf8));
        assert_eq!(
            err.detail(),
            Some("invalid byte at offset 2 of the string at 0x10")
        );
        // An unpaired high surrogate after one unit.
        memory[32..36].copy_from_slice(&[b'a', 0, 0x00, 0xd8]);
        let err = lift(StringEncoding::Utf16, &memory, 32, 2).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidUtf16));
        assert_eq!(
            err.detail(),
            Some("unpaired surrogate 0xd800 at code unit 1 of the string at 0x20")
        );
        let err = lift(StringEncoding::CompactUtf16, &memory, 32, 2 | UTF16_TAG).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::InvalidUtf16));
        // Latin-1 is always valid: every byte is a character.
        assert_eq!(
            lift(StringEncoding::CompactUtf16, &memory, 16, 4).unwrap(),
            "ab\u{ff}c"
        );
    }

    #[test]
    fn pointer_traps() {
        let memory = vec![0; 0x10000];
        let err = lift(StringEncoding::Utf8, &memory, 0xfffe, 4).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("string at 0xfffe of 4 bytes, memory is 0x10000 bytes")
        );
        let err = lift(StringEncoding::Utf16, &memory, 0xfffc, 4).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        for encoding in [StringEncoding::Utf16, StringEncoding::CompactUtf16] {
            let err = lift(encoding, &memory, 3, 1).unwrap_err();
            assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
            assert_eq!(err.detail(), Some("string at 0x3, alignment 2"));
        }
        // A UTF-16 length of 2^31 units is 2^32 bytes: too large for any memory.
        let err = lift(StringEncoding::Utf16, &memory, 0, u32::MAX).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::LengthOverflow));
        let err = lift(StringEncoding::Utf8, &memory, u32::MAX, u32::MAX).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
    }

    #[test]
    fn realloc_result_traps() {
        let types = ComponentTypes::default();
        let mut mem = TestMemory::new();
        mem.realloc = Realloc::Fixed(0xfffe);
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        let err = lower_string(&mut cx, "hello").unwrap_err();
        assert_eq!(err.trap(), Some(Trap::PointerOutOfBounds));
        assert_eq!(
            err.detail(),
            Some("string from realloc at 0xfffe of 5 bytes, memory is 0x10000 bytes")
        );
        mem.realloc = Realloc::Fixed(7);
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf16, &types);
        let err = lower_string(&mut cx, "hello").unwrap_err();
        assert_eq!(err.trap(), Some(Trap::UnalignedPointer));
        mem.realloc = Realloc::Missing;
        let mut cx = LowerContext::new(&mut mem, StringEncoding::Utf8, &types);
        assert_eq!(
            lower_string(&mut cx, "x").unwrap_err().to_string(),
            "no realloc"
        );
    }
}
