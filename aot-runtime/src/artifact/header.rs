//! The compatibility record (section `.aot.compat`): the first thing the loader reads, before it
//! trusts any other byte of the artifact.
//!
//! ```text
//! offset  size  field
//! 0       8     magic = b"\0aotwasm"
//! 8       4     format_version (u32 LE), see FORMAT_VERSION
//! 12      1     kind: 1 = core module, 2 = component
//! 13      1     flags: bit 0 = explicit bounds checks (no guard pages), bit 1 = fuel metering,
//!                     bit 2 = epoch interruption checks
//! 14      1     pointer width in bytes
//! 15      1     reserved, 0
//! 16      8     Wasm features the code was compiled with (u64 LE bit set)
//! 24      8     checksum of the whole artifact file (u64 LE), see below
//! 32      ...   four length-prefixed UTF-8 strings (u16 LE length, then bytes):
//!               producer version (aot-build's crate version), target triple,
//!               CPU features (comma separated), codegen settings (`key=value`, comma separated)
//! ```
//!
//! Decoding checks every length against the section size; a mismatch is reported with both
//! sides named (see [`super::read::LoadError`]).
//!
//! The checksum ([`super::checksum`]) covers every byte of the ELF file, headers, section table
//! and symbols included, computed with the checksum field itself reading as zero. The section is
//! 8-byte aligned, so the field is an aligned word of the file. [`CompatRecord::encode`] writes
//! zero there; `write::ArtifactBuilder::finish` fills it in once the whole file is laid out, and
//! `read::verify_checksum` checks it. [`CompatRecord`] does not carry it: it describes what the
//! code needs, and the checksum is a property of the finished file.

use alloc::string::String;
use alloc::vec::Vec;

/// Magic bytes at the start of the compatibility record.
pub const COMPAT_MAGIC: [u8; 8] = *b"\0aotwasm";

/// Offset of the checksum field (u64 LE) in the record.
pub const CHECKSUM_OFFSET: usize = 24;

/// Record flag: memories use explicit bounds checks instead of guard pages.
pub const FLAG_EXPLICIT_BOUNDS_CHECKS: u8 = 0x1;
/// Record flag: the code counts fuel in `VMStoreContext::fuel_consumed` and traps with
/// `OutOfFuel` when it runs out.
pub const FLAG_CONSUME_FUEL: u8 = 0x2;
/// Record flag: the code checks the store's epoch deadline at function entries and loop headers.
pub const FLAG_EPOCH_INTERRUPTION: u8 = 0x4;
/// Every flag bit this format defines.
pub const KNOWN_FLAGS: u8 =
    FLAG_EXPLICIT_BOUNDS_CHECKS | FLAG_CONSUME_FUEL | FLAG_EPOCH_INTERRUPTION;

/// What an artifact was compiled from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A core Wasm module.
    Module,
    /// A Wasm component.
    Component,
}

impl Kind {
    /// The byte stored in the record.
    pub fn to_u8(self) -> u8 {
        match self {
            Kind::Module => 1,
            Kind::Component => 2,
        }
    }

    /// Decodes the record byte.
    pub fn from_u8(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Module),
            2 => Some(Kind::Component),
            _ => None,
        }
    }

    /// The `e_flags` bit of this kind.
    pub fn e_flag(self) -> u32 {
        match self {
            Kind::Module => super::format::EF_AOT_MODULE,
            Kind::Component => super::format::EF_AOT_COMPONENT,
        }
    }
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Kind::Module => "core module",
            Kind::Component => "component",
        })
    }
}

/// Wasm feature bits recorded in the compatibility record.
pub mod features {
    /// SIMD (128-bit).
    pub const SIMD: u64 = 1 << 0;
    /// Tail calls.
    pub const TAIL_CALL: u64 = 1 << 1;
    /// Extended constant expressions.
    pub const EXTENDED_CONST: u64 = 1 << 2;
    /// Multiple memories.
    pub const MULTI_MEMORY: u64 = 1 << 3;
    /// Reference types.
    pub const REFERENCE_TYPES: u64 = 1 << 4;
    /// Bulk memory operations.
    pub const BULK_MEMORY: u64 = 1 << 5;
}

/// The decoded compatibility record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompatRecord {
    /// Format version of the artifact.
    pub format_version: u32,
    /// Module or component.
    pub kind: Kind,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Pointer width of the target, in bytes.
    pub pointer_width: u8,
    /// Wasm features (see [`features`]).
    pub wasm_features: u64,
    /// Version of the aot-build crate that produced the artifact.
    pub producer: String,
    /// Target triple the code was compiled for.
    pub target: String,
    /// CPU features the code may use (comma separated, e.g. `sse4.1,popcnt`).
    pub cpu_features: String,
    /// Codegen settings that change the code (comma separated `key=value`).
    pub settings: String,
}

/// Why a compatibility record could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The magic bytes are wrong: this is not an aot artifact.
    BadMagic,
    /// The record ends before field `.0`.
    Truncated(&'static str),
    /// Field `.0` is not valid.
    Invalid(&'static str),
    /// The format version differs; `.0` is the artifact's.
    Version(u32),
}

impl CompatRecord {
    /// Whether memories use explicit bounds checks rather than guard pages.
    pub fn explicit_bounds_checks(&self) -> bool {
        self.flags & FLAG_EXPLICIT_BOUNDS_CHECKS != 0
    }

    /// Whether the code meters fuel.
    pub fn consumes_fuel(&self) -> bool {
        self.flags & FLAG_CONSUME_FUEL != 0
    }

    /// Whether the code checks the epoch deadline.
    pub fn epoch_interruption(&self) -> bool {
        self.flags & FLAG_EPOCH_INTERRUPTION != 0
    }

    /// Encodes the record.
    ///
    /// # Panics
    /// If a string is longer than 65535 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&COMPAT_MAGIC);
        out.extend_from_slice(&self.format_version.to_le_bytes());
        out.extend_from_slice(&[self.kind.to_u8(), self.flags, self.pointer_width, 0]);
        out.extend_from_slice(&self.wasm_features.to_le_bytes());
        // The checksum, filled in when the whole artifact is written.
        out.extend_from_slice(&0u64.to_le_bytes());
        for s in [
            &self.producer,
            &self.target,
            &self.cpu_features,
            &self.settings,
        ] {
            let len = u16::try_from(s.len()).expect("compat string too long");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    /// Decodes and validates the record. The format version is checked before anything after it
    /// is interpreted.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the first bad field.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8, "magic")? != COMPAT_MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let format_version = u32::from_le_bytes(r.array("format version")?);
        if format_version != super::FORMAT_VERSION {
            return Err(DecodeError::Version(format_version));
        }
        let [kind, flags, pointer_width, _] = r.array("kind")?;
        let kind = Kind::from_u8(kind).ok_or(DecodeError::Invalid("kind"))?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(DecodeError::Invalid("flags"));
        }
        if !matches!(pointer_width, 4 | 8) {
            return Err(DecodeError::Invalid("pointer width"));
        }
        let wasm_features = u64::from_le_bytes(r.array("wasm features")?);
        // Checked against the whole file by `read::verify_checksum`, not here.
        let _checksum: [u8; 8] = r.array("checksum")?;
        let producer = r.string("producer")?;
        let target = r.string("target")?;
        let cpu_features = r.string("cpu features")?;
        let settings = r.string("settings")?;
        if r.pos != bytes.len() {
            return Err(DecodeError::Invalid("trailing bytes"));
        }
        Ok(Self {
            format_version,
            kind,
            flags,
            pointer_width,
            wasm_features,
            producer,
            target,
            cpu_features,
            settings,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DecodeError::Truncated(what))?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N, what)?.try_into().unwrap())
    }

    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let len = u16::from_le_bytes(self.array(what)?) as usize;
        let s = self.take(len, what)?;
        core::str::from_utf8(s)
            .map(String::from)
            .map_err(|_| DecodeError::Invalid(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CompatRecord {
        CompatRecord {
            format_version: super::super::FORMAT_VERSION,
            kind: Kind::Module,
            flags: 0,
            pointer_width: 8,
            wasm_features: features::SIMD | features::TAIL_CALL,
            producer: "0.1.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            cpu_features: "sse4.1,popcnt".into(),
            settings: "opt_level=speed".into(),
        }
    }

    #[test]
    fn round_trip() {
        let r = sample();
        assert_eq!(CompatRecord::decode(&r.encode()), Ok(r));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(CompatRecord::decode(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn checksum_field_is_at_its_offset_and_zero() {
        let bytes = sample().encode();
        assert_eq!(bytes[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8], [0; 8]);
        // The producer string's length follows it.
        assert_eq!(bytes[CHECKSUM_OFFSET + 8..CHECKSUM_OFFSET + 10], [5, 0]);
        let mut patched = bytes.clone();
        patched[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8].copy_from_slice(&[0xab; 8]);
        assert_eq!(CompatRecord::decode(&patched), Ok(sample()));
    }

    #[test]
    fn flags_round_trip_and_unknown_bits_are_refused() {
        let mut r = sample();
        r.flags = FLAG_CONSUME_FUEL | FLAG_EPOCH_INTERRUPTION;
        let decoded = CompatRecord::decode(&r.encode()).unwrap();
        assert!(decoded.consumes_fuel() && decoded.epoch_interruption());
        assert!(!decoded.explicit_bounds_checks());
        r.flags = 0x8;
        assert_eq!(
            CompatRecord::decode(&r.encode()),
            Err(DecodeError::Invalid("flags"))
        );
    }

    #[test]
    fn wrong_version_is_named() {
        let mut bytes = sample().encode();
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(CompatRecord::decode(&bytes), Err(DecodeError::Version(99)));
    }
}
