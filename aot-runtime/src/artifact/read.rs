//! Zero-copy reading of an artifact: [`ArtifactRef`] validates the ELF container, the
//! compatibility record and the section list, and exposes each section as a slice of the input.
//!
//! Nothing here executes or maps code; that is `vm::code_memory`'s job.

use super::format::*;
use super::header::{CompatRecord, DecodeError, Kind};
use super::trap::TrapTable;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
use object::{Endianness, Object, ObjectSection};

/// Why artifact bytes could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a 64-bit ELF file.
    NotElf(String),
    /// The bytes are not aligned to [`ARTIFACT_ALIGN`].
    Misaligned,
    /// A required section is missing.
    MissingSection(&'static str),
    /// The artifact has a section the loader does not know.
    UnknownSection(String),
    /// The artifact has relocations; its code would need linking.
    Relocations(String),
    /// The compatibility record is malformed.
    BadCompatRecord(String),
    /// The artifact's format version is not this runtime's.
    FormatVersion {
        /// The artifact's version.
        artifact: u32,
        /// This runtime's version.
        runtime: u32,
    },
    /// The artifact was built for another target or by another version of aot-build.
    Incompatible {
        /// What the artifact says about itself.
        artifact: String,
        /// What this runtime is.
        runtime: String,
    },
    /// A module was expected and a component found, or the reverse.
    WrongKind {
        /// What the caller asked for.
        expected: Kind,
        /// What the artifact holds.
        found: Kind,
    },
    /// The code uses a CPU feature this machine lacks.
    MissingCpuFeature(String),
    /// A section's contents are malformed.
    Malformed {
        /// The section.
        section: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf(e) => write!(f, "not an aot artifact: invalid ELF file: {e}"),
            LoadError::Misaligned => write!(
                f,
                "artifact bytes are not aligned to {ARTIFACT_ALIGN} bytes"
            ),
            LoadError::MissingSection(s) => write!(f, "artifact has no `{s}` section"),
            LoadError::UnknownSection(s) => write!(f, "artifact has unknown section `{s}`"),
            LoadError::Relocations(s) => write!(
                f,
                "artifact has relocations in `{s}`; aot artifacts must need no linking"
            ),
            LoadError::BadCompatRecord(e) => write!(f, "malformed compatibility record: {e}"),
            LoadError::FormatVersion { artifact, runtime } => write!(
                f,
                "artifact format version {artifact} is not supported; this runtime reads format version {runtime}"
            ),
            LoadError::Incompatible { artifact, runtime } => {
                write!(
                    f,
                    "artifact built for {artifact}; this runtime is {runtime}"
                )
            }
            LoadError::WrongKind { expected, found } => write!(
                f,
                "expected a {expected} artifact but this artifact holds a {found}"
            ),
            LoadError::MissingCpuFeature(feat) => write!(
                f,
                "artifact code uses CPU feature `{feat}`, which this machine does not have"
            ),
            LoadError::Malformed { section, reason } => {
                write!(f, "malformed `{section}` section: {reason}")
            }
        }
    }
}

impl core::error::Error for LoadError {}

/// What the loading runtime is, for compatibility checks.
#[derive(Copy, Clone, Debug)]
pub struct HostInfo<'a> {
    /// The runtime's crate version (must equal the artifact's producer version).
    pub version: &'a str,
    /// Architecture, as in a target triple (`x86_64`, `aarch64`).
    pub arch: &'a str,
    /// Operating system, as in a target triple (`linux`, `macos`, ...).
    pub os: &'a str,
    /// Pointer width in bytes.
    pub pointer_width: u8,
}

impl fmt::Display for HostInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} aot-runtime {}", self.arch, self.os, self.version)
    }
}

/// A validated artifact, borrowing its bytes.
#[derive(Clone, Debug)]
pub struct ArtifactRef<'a> {
    /// The compatibility record.
    pub compat: CompatRecord,
    /// `.text`.
    pub text: &'a [u8],
    /// `.aot.info` (postcard).
    pub info: &'a [u8],
    /// `.aot.funcs`.
    pub funcs: FuncTable<'a>,
    /// `.aot.traps`.
    pub traps: TrapTable<'a>,
    /// `.aot.addrmap`.
    pub addrmap: AddressMap<'a>,
    /// `.aot.data`.
    pub data: &'a [u8],
}

fn triple_arch(triple: &str) -> &str {
    match triple.split('-').next().unwrap_or("") {
        "arm64" => "aarch64",
        a => a,
    }
}

fn elf_machine_arch(machine: u16) -> &'static str {
    match machine {
        object::elf::EM_X86_64 => "x86_64",
        object::elf::EM_AARCH64 => "aarch64",
        object::elf::EM_RISCV => "riscv64",
        object::elf::EM_S390 => "s390x",
        _ => "unknown",
    }
}

impl<'a> ArtifactRef<'a> {
    /// Validates `bytes` as an artifact of `kind` for `host`, in this order: ELF container,
    /// compatibility record (format version, producer version, target), kind, sections.
    ///
    /// # Errors
    /// The first [`LoadError`] found.
    pub fn parse(bytes: &'a [u8], kind: Kind, host: &HostInfo<'_>) -> Result<Self, LoadError> {
        if !(bytes.as_ptr() as usize).is_multiple_of(ARTIFACT_ALIGN) {
            return Err(LoadError::Misaligned);
        }
        let file =
            ElfFile64::<Endianness>::parse(bytes).map_err(|e| LoadError::NotElf(e.to_string()))?;
        let endian = file.endian();
        let compat_bytes = file
            .section_by_name(SECTION_COMPAT)
            .ok_or(LoadError::MissingSection(SECTION_COMPAT))?
            .data()
            .map_err(|e| LoadError::NotElf(e.to_string()))?;
        let compat = CompatRecord::decode(compat_bytes).map_err(|e| match e {
            DecodeError::Version(v) => LoadError::FormatVersion {
                artifact: v,
                runtime: FORMAT_VERSION,
            },
            DecodeError::BadMagic => LoadError::BadCompatRecord("bad magic".into()),
            DecodeError::Truncated(w) => LoadError::BadCompatRecord(format!("truncated {w}")),
            DecodeError::Invalid(w) => LoadError::BadCompatRecord(format!("invalid {w}")),
        })?;
        let machine = elf_machine_arch(file.elf_header().e_machine(endian));
        let arch = triple_arch(&compat.target);
        if compat.producer != host.version
            || arch != host.arch
            || machine != arch
            || !compat.target.contains(host.os)
            || compat.pointer_width != host.pointer_width
        {
            return Err(LoadError::Incompatible {
                artifact: format!("{} by aot-build {}", compat.target, compat.producer),
                runtime: host.to_string(),
            });
        }
        let e_flags = file.elf_header().e_flags(endian);
        let found = if e_flags & EF_AOT_COMPONENT != 0 {
            Kind::Component
        } else if e_flags & EF_AOT_MODULE != 0 {
            Kind::Module
        } else {
            return Err(LoadError::BadCompatRecord(format!(
                "e_flags {e_flags:#x} marks neither a module nor a component"
            )));
        };
        if found != compat.kind {
            return Err(LoadError::BadCompatRecord(format!(
                "e_flags say {found} but the record says {}",
                compat.kind
            )));
        }
        if found != kind {
            return Err(LoadError::WrongKind {
                expected: kind,
                found,
            });
        }
        for header in file.elf_section_table().iter() {
            let ty = header.sh_type(endian);
            let name = file
                .elf_section_table()
                .section_name(endian, header)
                .map_err(|e| LoadError::NotElf(e.to_string()))?;
            let name = String::from_utf8_lossy(name);
            if ty == object::elf::SHT_REL || ty == object::elf::SHT_RELA {
                return Err(LoadError::Relocations(name.into_owned()));
            }
            if !KNOWN_SECTIONS.contains(&&*name) {
                return Err(LoadError::UnknownSection(name.into_owned()));
            }
        }
        let section = |name: &'static str| -> Result<&'a [u8], LoadError> {
            file.section_by_name(name)
                .ok_or(LoadError::MissingSection(name))?
                .data()
                .map_err(|e| LoadError::NotElf(e.to_string()))
        };
        let text = section(SECTION_TEXT)?;
        let funcs = FuncTable::parse(section(SECTION_FUNCS)?)
            .ok_or_else(|| malformed(SECTION_FUNCS, "size is not a multiple of the entry size"))?;
        let traps = TrapTable::parse(section(SECTION_TRAPS)?)
            .ok_or_else(|| malformed(SECTION_TRAPS, "size does not match its count"))?;
        let addrmap = AddressMap::parse(section(SECTION_ADDRMAP)?)
            .ok_or_else(|| malformed(SECTION_ADDRMAP, "size does not match its count"))?;
        for i in 0..funcs.len() {
            let f = funcs.get(i);
            let end = f.text_offset as u64 + f.text_len as u64;
            if end > text.len() as u64
                || (f.array_trampoline != u32::MAX && f.array_trampoline as usize >= text.len())
            {
                return Err(malformed(SECTION_FUNCS, "function outside `.text`"));
            }
        }
        Ok(Self {
            compat,
            text,
            info: section(SECTION_INFO)?,
            funcs,
            traps,
            addrmap,
            data: section(SECTION_DATA)?,
        })
    }
}

fn malformed(section: &'static str, reason: &str) -> LoadError {
    LoadError::Malformed {
        section,
        reason: reason.into(),
    }
}

/// One entry of the function table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FuncLoc {
    /// Offset of the function's code in `.text`.
    pub text_offset: u32,
    /// Length of its code.
    pub text_len: u32,
    /// Offset of its host-to-wasm (array call) trampoline, or `u32::MAX` if it does not escape.
    pub array_trampoline: u32,
    /// Byte offset of the function body in the original Wasm binary.
    pub wasm_offset: u32,
}

/// Size of one [`FuncLoc`] in the `.aot.funcs` section.
pub const FUNC_LOC_SIZE: usize = 16;

/// The function table (section `.aot.funcs`), read in place: one 16-byte little-endian entry per
/// defined function, `text_offset, text_len, array_trampoline, wasm_offset`, in function order
/// (so text offsets ascend). Written by `write::FuncTableBuilder`.
#[derive(Copy, Clone, Debug)]
pub struct FuncTable<'a> {
    bytes: &'a [u8],
}

impl<'a> FuncTable<'a> {
    /// Parses the section.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        bytes
            .len()
            .is_multiple_of(FUNC_LOC_SIZE)
            .then_some(Self { bytes })
    }

    /// Number of functions.
    pub fn len(&self) -> usize {
        self.bytes.len() / FUNC_LOC_SIZE
    }

    /// Whether there are no functions.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Entry `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn get(&self, i: usize) -> FuncLoc {
        let e = &self.bytes[i * FUNC_LOC_SIZE..(i + 1) * FUNC_LOC_SIZE];
        let w = |k: usize| u32::from_le_bytes(e[k * 4..k * 4 + 4].try_into().unwrap());
        FuncLoc {
            text_offset: w(0),
            text_len: w(1),
            array_trampoline: w(2),
            wasm_offset: w(3),
        }
    }

    /// The defined function whose code contains `text_offset`.
    pub fn lookup(&self, text_offset: u32) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let f = self.get(mid);
            if text_offset < f.text_offset {
                hi = mid;
            } else if text_offset >= f.text_offset + f.text_len {
                lo = mid + 1;
            } else {
                return Some(mid);
            }
        }
        None
    }
}

/// The address map (section `.aot.addrmap`), read in place: `count: u32`, then `count` text
/// offsets (`u32`, ascending), then `count` Wasm byte offsets (`u32`). An entry says that code
/// from its text offset up to the next entry came from the instruction at its Wasm offset.
/// Written by `write::AddressMapBuilder`.
#[derive(Copy, Clone, Debug)]
pub struct AddressMap<'a> {
    text: &'a [u8],
    wasm: &'a [u8],
}

impl<'a> AddressMap<'a> {
    /// Parses the section.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let count = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let mid = 4usize.checked_add(count.checked_mul(4)?)?;
        let end = mid.checked_add(count.checked_mul(4)?)?;
        (end == bytes.len()).then(|| Self {
            text: &bytes[4..mid],
            wasm: &bytes[mid..end],
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.text.len() / 4
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn text_at(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.text[i * 4..i * 4 + 4].try_into().unwrap())
    }

    /// The Wasm offset of the instruction that produced the code at `text_offset`.
    pub fn lookup(&self, text_offset: u32) -> Option<u32> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.text_at(mid) <= text_offset {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = lo.checked_sub(1)?;
        let w = u32::from_le_bytes(self.wasm[i * 4..i * 4 + 4].try_into().unwrap());
        (w != u32::MAX).then_some(w)
    }
}
