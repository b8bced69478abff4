//! [`Trap`] codes, shared by the compiler (which records one per trapping instruction) and the
//! runtime (which reports them), and the reader of the trap table.

use core::fmt;

/// Why Wasm execution stopped abnormally.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Trap {
    /// The Wasm stack limit was reached (deep or infinite recursion).
    StackOverflow = 1,
    /// A load or store outside the bounds of a linear memory.
    MemoryOutOfBounds = 2,
    /// An access outside the bounds of a table.
    TableOutOfBounds = 3,
    /// `call_indirect` to a null table entry.
    IndirectCallToNull = 4,
    /// `call_indirect` to a function of another type.
    BadSignature = 5,
    /// Signed integer division overflow (`INT_MIN / -1`).
    IntegerOverflow = 6,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 7,
    /// A float-to-int conversion of NaN or an out-of-range value.
    BadConversionToInteger = 8,
    /// `unreachable` was executed.
    UnreachableCodeReached = 9,
    /// A null reference was dereferenced.
    NullReference = 10,
    /// A host function returned an error or panicked; the error itself is reported instead.
    HostError = 11,
}

impl Trap {
    /// Every trap code.
    pub const ALL: &'static [Trap] = &[
        Trap::StackOverflow,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::IntegerOverflow,
        Trap::IntegerDivisionByZero,
        Trap::BadConversionToInteger,
        Trap::UnreachableCodeReached,
        Trap::NullReference,
        Trap::HostError,
    ];

    /// The byte stored in the trap table.
    pub fn to_u8(self) -> u8 {
        self as u8
    }

    /// Decodes a trap table byte.
    pub fn from_u8(byte: u8) -> Option<Trap> {
        Trap::ALL.iter().copied().find(|t| *t as u8 == byte)
    }

    /// The message the spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::StackOverflow => "call stack exhausted",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::UnreachableCodeReached => "unreachable",
            Trap::NullReference => "null reference",
            Trap::HostError => "host function error",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for Trap {}

/// The trap table (section `.aot.traps`), read in place.
///
/// Layout (little-endian): `count: u32`, then `count` text offsets (`u32`, sorted ascending),
/// then `count` trap codes (`u8`). Written by `write::TrapTableBuilder`.
#[derive(Copy, Clone, Debug)]
pub struct TrapTable<'a> {
    offsets: &'a [u8],
    codes: &'a [u8],
}

impl<'a> TrapTable<'a> {
    /// Parses the section, checking its size.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let count = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let offsets_end = 4usize.checked_add(count.checked_mul(4)?)?;
        let end = offsets_end.checked_add(count)?;
        if end != bytes.len() {
            return None;
        }
        Some(Self {
            offsets: &bytes[4..offsets_end],
            codes: &bytes[offsets_end..end],
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The text offset of entry `i`.
    pub fn offset(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.offsets[i * 4..i * 4 + 4].try_into().unwrap())
    }

    /// The trap at exactly `text_offset`, if that instruction may trap.
    pub fn lookup(&self, text_offset: u32) -> Option<Trap> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.offset(mid).cmp(&text_offset) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Trap::from_u8(self.codes[mid]),
            }
        }
        None
    }
}
