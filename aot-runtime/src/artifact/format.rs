//! Names and numbers of the artifact format: ELF flags and one constant per section.
//!
//! Each section has exactly one writer (in [`super::write`]) and one reader (in [`super::read`]).
//! Changing the bytes of any section means bumping [`FORMAT_VERSION`].

/// Version of the artifact format. Bumped whenever the bytes of any section change meaning.
pub const FORMAT_VERSION: u32 = 3;

/// `e_flags` bit set in an artifact compiled from a core Wasm module.
pub const EF_AOT_MODULE: u32 = 0x1;
/// `e_flags` bit set in an artifact compiled from a Wasm component.
pub const EF_AOT_COMPONENT: u32 = 0x2;

/// Compiled code of every function and trampoline. PC-relative calls inside it are already
/// resolved; the artifact has no relocations.
pub const SECTION_TEXT: &str = ".text";
/// The compatibility record, read first. Written by [`super::header::CompatRecord::encode`],
/// read by [`super::header::CompatRecord::decode`].
pub const SECTION_COMPAT: &str = ".aot.compat";
/// Structured metadata ([`super::module::ModuleInfo`]) encoded with postcard.
pub const SECTION_INFO: &str = ".aot.info";
/// Raw little-endian function table, see [`super::read::FuncTable`] and
/// [`super::write::FuncTableBuilder`].
pub const SECTION_FUNCS: &str = ".aot.funcs";
/// Raw little-endian trap table, see [`super::trap::TrapTable`] and
/// [`super::write::TrapTableBuilder`].
pub const SECTION_TRAPS: &str = ".aot.traps";
/// Raw little-endian map from text offsets to Wasm byte offsets, see
/// [`super::read::AddressMap`] and [`super::write::AddressMapBuilder`].
pub const SECTION_ADDRMAP: &str = ".aot.addrmap";
/// Bytes of all data segments, concatenated; segments refer to ranges of it.
pub const SECTION_DATA: &str = ".aot.data";

/// Every section the loader accepts. Any other section (notably a relocation section) makes the
/// artifact invalid.
pub const KNOWN_SECTIONS: &[&str] = &[
    "",
    SECTION_TEXT,
    SECTION_COMPAT,
    SECTION_INFO,
    SECTION_FUNCS,
    SECTION_TRAPS,
    SECTION_ADDRMAP,
    SECTION_DATA,
    ".symtab",
    ".strtab",
    ".shstrtab",
    ".note.GNU-stack",
];

/// Alignment the loader needs for the artifact bytes (ELF64 headers are read in place).
pub const ARTIFACT_ALIGN: usize = 16;

/// Size in bytes of a Wasm page.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// Largest number of pages of a 32-bit memory.
pub const WASM32_MAX_PAGES: u64 = 65536;

/// Size of the address space reserved for each linear memory when bounds checks are elided by
/// guard pages: any 32-bit index plus any 32-bit static offset plus an access of up to 16 bytes
/// lands inside this reservation.
pub const GUARD_RESERVATION: u64 = (1 << 33) + WASM_PAGE_SIZE;
