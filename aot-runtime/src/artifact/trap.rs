//! [`Trap`] codes, shared by the compiler (which records one per trapping instruction) and the
//! runtime (which reports them), and the reader of the trap table.
//!
//! Codes 1 to 11 are core Wasm traps, recorded in trap tables by the compiler. Codes 12 to 25 are
//! canonical ABI and component traps: the runtime raises them from safe Rust while lifting,
//! lowering or managing handles, so they never appear in a trap table. Codes 26 and 27 are the
//! traps of fuel metering and epoch interruption, recorded in trap tables of code compiled with
//! those options. Codes are part of the artifact format: an existing code never changes its
//! number.

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
    /// A component instance called an import or a canonical builtin while it may not leave
    /// (inside its `realloc` or `post-return`).
    CannotLeaveComponent = 12,
    /// A component instance was entered while already on the call stack, or after it trapped.
    CannotEnterComponent = 13,
    /// A guest pointer and length (string, list, return area, spilled arguments, `realloc`
    /// result) reach outside the linear memory.
    PointerOutOfBounds = 14,
    /// A guest pointer is not aligned to the alignment of what it points to.
    UnalignedPointer = 15,
    /// A length times an element size overflows 32 bits, or a string is longer than
    /// `2^31 - 1` bytes.
    LengthOverflow = 16,
    /// A variant, enum, option or result case index is not a case of its type.
    InvalidDiscriminant = 17,
    /// An `i32` is not a Unicode scalar value (a surrogate or above `0x10ffff`).
    InvalidChar = 18,
    /// A string in guest memory is not valid UTF-8.
    InvalidUtf8 = 19,
    /// A string in guest memory is not valid UTF-16 (an unpaired surrogate).
    InvalidUtf16 = 20,
    /// A resource handle index is zero, out of range or a free slot.
    UnknownHandle = 21,
    /// A handle is of another resource type, or own where borrow is expected (or the reverse).
    HandleTypeMismatch = 22,
    /// An own handle was dropped or moved while it is lent to a call.
    ResourceBorrowed = 23,
    /// A call returned without dropping every borrow handle it received.
    BorrowsRemain = 24,
    /// A component instance has more than `2^28 - 1` handles.
    HandleTableFull = 25,
    /// The store ran out of fuel (code compiled with `aot_build::Config::consume_fuel`).
    OutOfFuel = 26,
    /// The store's epoch deadline was reached (code compiled with
    /// `aot_build::Config::epoch_interruption`).
    Interrupt = 27,
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
        Trap::CannotLeaveComponent,
        Trap::CannotEnterComponent,
        Trap::PointerOutOfBounds,
        Trap::UnalignedPointer,
        Trap::LengthOverflow,
        Trap::InvalidDiscriminant,
        Trap::InvalidChar,
        Trap::InvalidUtf8,
        Trap::InvalidUtf16,
        Trap::UnknownHandle,
        Trap::HandleTypeMismatch,
        Trap::ResourceBorrowed,
        Trap::BorrowsRemain,
        Trap::HandleTableFull,
        Trap::OutOfFuel,
        Trap::Interrupt,
    ];

    /// The byte stored in the trap table.
    pub fn to_u8(self) -> u8 {
        self as u8
    }

    /// Decodes a trap table byte.
    pub fn from_u8(byte: u8) -> Option<Trap> {
        Trap::ALL.iter().copied().find(|t| *t as u8 == byte)
    }

    /// The message the spec test suite uses for this trap (core traps); a fixed message for the
    /// component traps, which the runtime may follow with a detail.
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
            Trap::CannotLeaveComponent => "cannot leave component instance",
            Trap::CannotEnterComponent => "cannot enter component instance",
            Trap::PointerOutOfBounds => "pointer out of bounds",
            Trap::UnalignedPointer => "unaligned pointer",
            Trap::LengthOverflow => "length too large",
            Trap::InvalidDiscriminant => "invalid discriminant",
            Trap::InvalidChar => "invalid char",
            Trap::InvalidUtf8 => "invalid utf-8 string",
            Trap::InvalidUtf16 => "invalid utf-16 string",
            Trap::UnknownHandle => "unknown handle index",
            Trap::HandleTypeMismatch => "handle of another resource type",
            Trap::ResourceBorrowed => "resource is borrowed",
            Trap::BorrowsRemain => "borrow handles remain at the end of the call",
            Trap::HandleTableFull => "handle table full",
            Trap::OutOfFuel => "all fuel consumed by webassembly",
            Trap::Interrupt => "interrupt",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_stable() {
        assert_eq!(Trap::ALL.len(), 27);
        for (i, &trap) in Trap::ALL.iter().enumerate() {
            assert_eq!(usize::from(trap.to_u8()), i + 1, "{trap:?}");
            assert_eq!(Trap::from_u8(trap.to_u8()), Some(trap));
        }
        assert_eq!(Trap::from_u8(0), None);
        assert_eq!(Trap::from_u8(28), None);
        // Core codes are part of the format: they never move.
        assert_eq!(Trap::HostError.to_u8(), 11);
        assert_eq!(Trap::CannotLeaveComponent.to_u8(), 12);
        assert_eq!(Trap::HandleTableFull.to_u8(), 25);
        assert_eq!(Trap::OutOfFuel.to_u8(), 26);
        assert_eq!(Trap::Interrupt.to_u8(), 27);
    }

    #[test]
    fn messages_are_distinct_and_lowercase() {
        for (i, a) in Trap::ALL.iter().enumerate() {
            let msg = a.message();
            assert!(!msg.is_empty() && !msg.ends_with('.'), "{a:?}");
            assert_eq!(msg, msg.to_lowercase(), "{a:?}");
            assert!(
                Trap::ALL[i + 1..].iter().all(|b| b.message() != msg),
                "{a:?}"
            );
        }
        assert_eq!(
            alloc::format!("{}", Trap::InvalidUtf16),
            "invalid utf-16 string"
        );
    }
}
