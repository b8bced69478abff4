//! Zero-copy reading of an artifact: [`ArtifactRef`] validates the ELF container, the
//! compatibility record and the section list, and exposes each section as a slice of the input.
//!
//! Nothing here executes or maps code; that is `vm::code_memory`'s job.

use super::checksum::checksum_with_zeroed_field;
use super::format::*;
use super::header::{CHECKSUM_OFFSET, COMPAT_MAGIC, CompatRecord, DecodeError, Kind};
use super::module::{ConstExpr, ConstOp, ElemItems, ElemKind, ModuleInfo};
use super::trap::TrapTable;
use super::types::ValType;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

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
    /// The artifact's checksum does not match its bytes: the file was damaged after it was
    /// written (truncated, corrupted on disk or in transit, or edited).
    ChecksumMismatch {
        /// The checksum stored in the compatibility record.
        stored: u64,
        /// The checksum of the bytes as loaded.
        computed: u64,
    },
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
            LoadError::ChecksumMismatch { stored, computed } => write!(
                f,
                "artifact checksum mismatch: the file was damaged after aot-build wrote it \
                 (stored checksum {stored:#018x}, bytes hash to {computed:#018x})"
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
        EM_X86_64 => "x86_64",
        EM_AARCH64 => "aarch64",
        EM_RISCV => "riscv64",
        EM_S390 => "s390x",
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
        let elf = Elf::parse(bytes)?;
        let compat = CompatRecord::decode(elf.section(SECTION_COMPAT)?).map_err(|e| match e {
            DecodeError::Version(v) => LoadError::FormatVersion {
                artifact: v,
                runtime: FORMAT_VERSION,
            },
            DecodeError::BadMagic => LoadError::BadCompatRecord("bad magic".into()),
            DecodeError::Truncated(w) => LoadError::BadCompatRecord(format!("truncated {w}")),
            DecodeError::Invalid(w) => LoadError::BadCompatRecord(format!("invalid {w}")),
        })?;
        let machine = elf_machine_arch(elf.e_machine);
        let arch = triple_arch(&compat.target);
        if compat.producer != host.version
            || arch != host.arch
            || machine != arch
            || !contains(&compat.target, host.os)
            || compat.pointer_width != host.pointer_width
        {
            return Err(LoadError::Incompatible {
                artifact: format!("{} by aot-build {}", compat.target, compat.producer),
                runtime: host.to_string(),
            });
        }
        let e_flags = elf.e_flags;
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
        for i in 0..elf.count {
            let header = elf.header(i)?;
            let name = || String::from_utf8_lossy(header.name).into_owned();
            if header.ty == SHT_REL || header.ty == SHT_RELA {
                return Err(LoadError::Relocations(name()));
            }
            if !KNOWN_SECTIONS.iter().any(|k| k.as_bytes() == header.name) {
                return Err(LoadError::UnknownSection(name()));
            }
        }
        let text = elf.section(SECTION_TEXT)?;
        let funcs = FuncTable::parse(elf.section(SECTION_FUNCS)?)
            .ok_or_else(|| malformed(SECTION_FUNCS, "size is not a multiple of the entry size"))?;
        let traps = TrapTable::parse(elf.section(SECTION_TRAPS)?)
            .ok_or_else(|| malformed(SECTION_TRAPS, "size does not match its count"))?;
        let addrmap = AddressMap::parse(elf.section(SECTION_ADDRMAP)?)
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
            info: elf.section(SECTION_INFO)?,
            funcs,
            traps,
            addrmap,
            data: elf.section(SECTION_DATA)?,
        })
    }
}

/// Whether `haystack` contains `needle` (as `str::contains`, without the two-way searcher's code
/// for the one short needle this module looks for).
fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// The contents of the first section named `name` of the little-endian ELF64 file `bytes`, every
/// offset and size checked (`bytes` need not be aligned).
///
/// # Errors
/// [`LoadError::NotElf`] if the section table cannot be read, [`LoadError::MissingSection`] if
/// there is no such section.
pub fn section_bytes<'a>(bytes: &'a [u8], name: &'static str) -> Result<&'a [u8], LoadError> {
    Elf::parse(bytes)?.section(name)
}

/// Checks the artifact checksum (see [`super::checksum`] and [`super::header`]): the bytes must
/// hash, with the checksum field reading as zero, to the value stored in that field.
///
/// Only the ELF section table is read to find the compatibility record, by hand and with every
/// offset checked, so `bytes` need not be aligned. The record's magic and format version are
/// checked before the checksum, so that an artifact of another format version (whose record may
/// be laid out differently) is reported as such rather than as damaged.
///
/// # Errors
/// [`LoadError::ChecksumMismatch`] if the bytes were damaged; [`LoadError::NotElf`],
/// [`LoadError::MissingSection`], [`LoadError::BadCompatRecord`] or
/// [`LoadError::FormatVersion`] if the record cannot be found or read.
pub fn verify_checksum(bytes: &[u8]) -> Result<(), LoadError> {
    let (field, stored) = checksum_field(bytes)?;
    let computed = checksum_with_zeroed_field(bytes, field).ok_or_else(|| {
        LoadError::BadCompatRecord("checksum field is not 8-byte aligned in the file".into())
    })?;
    if computed != stored {
        return Err(LoadError::ChecksumMismatch { stored, computed });
    }
    Ok(())
}

/// Computes the checksum of a finished artifact and stores it in its compatibility record (which
/// must hold zero there, as [`CompatRecord::encode`] writes it). Used by the artifact writer, and
/// by tests that patch an artifact on purpose and need it to pass the checksum.
///
/// # Errors
/// As [`verify_checksum`], when the record cannot be found.
pub fn seal_checksum(bytes: &mut [u8]) -> Result<(), LoadError> {
    let (field, _) = checksum_field(bytes)?;
    bytes[field..field + 8].fill(0);
    let sum = checksum_with_zeroed_field(bytes, field).ok_or_else(|| {
        LoadError::BadCompatRecord("checksum field is not 8-byte aligned in the file".into())
    })?;
    bytes[field..field + 8].copy_from_slice(&sum.to_le_bytes());
    Ok(())
}

/// The file offset of the checksum field and the value stored there, after checking the
/// record's magic and format version.
fn checksum_field(bytes: &[u8]) -> Result<(usize, u64), LoadError> {
    let rec = section_bytes(bytes, SECTION_COMPAT)?;
    let start = rec.as_ptr() as usize - bytes.as_ptr() as usize;
    if rec.get(..8) != Some(&COMPAT_MAGIC[..]) {
        return Err(LoadError::BadCompatRecord("bad magic".into()));
    }
    let version = rec
        .get(8..12)
        .map(|v| u32::from_le_bytes(v.try_into().unwrap()))
        .ok_or_else(|| LoadError::BadCompatRecord("truncated format version".into()))?;
    if version != FORMAT_VERSION {
        return Err(LoadError::FormatVersion {
            artifact: version,
            runtime: FORMAT_VERSION,
        });
    }
    let stored = rec
        .get(CHECKSUM_OFFSET..CHECKSUM_OFFSET + 8)
        .map(|v| u64::from_le_bytes(v.try_into().unwrap()))
        .ok_or_else(|| LoadError::BadCompatRecord("truncated checksum".into()))?;
    Ok((start + CHECKSUM_OFFSET, stored))
}

const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_RELA: u32 = 4;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_RISCV: u16 = 243;
const EM_S390: u16 = 22;

/// The section table of a little-endian ELF64 file (the artifact writer always emits that), read
/// by hand: the header table and the name table are checked to be inside the bytes, each
/// section's contents when they are asked for.
struct Elf<'a> {
    bytes: &'a [u8],
    /// File offset of the section header table (its `count` entries are inside `bytes`).
    headers: usize,
    count: u16,
    /// The section name string table.
    names: &'a [u8],
    e_machine: u16,
    e_flags: u32,
}

/// One section header.
struct SectionHeader<'a> {
    name: &'a [u8],
    ty: u32,
    offset: u64,
    size: u64,
}

/// The `width`-byte little-endian number at `at`, if inside `bytes`.
fn le(bytes: &[u8], at: usize, width: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(width)?)?;
    Some(b.iter().rev().fold(0, |n, &byte| n << 8 | u64::from(byte)))
}

#[cold]
fn not_elf(what: &str) -> LoadError {
    LoadError::NotElf(what.into())
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, LoadError> {
        // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT.
        if bytes.get(..7) != Some(&[0x7f, b'E', b'L', b'F', 2, 1, 1][..]) {
            return Err(not_elf("not a little-endian ELF64 file"));
        }
        if bytes.len() < 64 {
            return Err(not_elf("truncated ELF header"));
        }
        let field = |at, width| le(bytes, at, width).unwrap_or(0);
        if field(0x3a, 2) != 64 {
            return Err(not_elf("unexpected section header size"));
        }
        let count = field(0x3c, 2) as u16;
        let headers = usize::try_from(field(0x28, 8))
            .ok()
            .filter(|&at| {
                at.checked_add(usize::from(count) * 64)
                    .is_some_and(|end| end <= bytes.len())
            })
            .ok_or_else(|| not_elf("section header table out of bounds"))?;
        let mut elf = Elf {
            bytes,
            headers,
            count,
            names: &[],
            e_machine: field(0x12, 2) as u16,
            e_flags: field(0x30, 4) as u32,
        };
        let shstrndx = field(0x3e, 2) as u16;
        if count > 0 {
            if shstrndx >= count {
                return Err(not_elf("section name table out of bounds"));
            }
            let at = elf.at(shstrndx);
            elf.names = elf.contents(
                field(at + 4, 4) as u32,
                field(at + 0x18, 8),
                field(at + 0x20, 8),
            )?;
        }
        Ok(elf)
    }

    /// File offset of section header `i` (below `count`).
    fn at(&self, i: u16) -> usize {
        self.headers + usize::from(i) * 64
    }

    fn contents(&self, ty: u32, offset: u64, size: u64) -> Result<&'a [u8], LoadError> {
        if ty == SHT_NOBITS {
            // Empty, and inside `bytes` (at offset 0) so that callers can take its offset.
            return Ok(&self.bytes[..0]);
        }
        usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(start, size)| self.bytes.get(start..start.checked_add(size)?))
            .ok_or_else(|| not_elf("section contents out of bounds"))
    }

    /// Section header `i` (below `count`).
    fn header(&self, i: u16) -> Result<SectionHeader<'a>, LoadError> {
        let at = self.at(i);
        let field = |off, width| le(self.bytes, at + off, width).unwrap_or(0);
        let name = usize::try_from(field(0, 4))
            .ok()
            .and_then(|start| self.names.get(start..))
            .and_then(|rest| {
                rest.split(|&b| b == 0)
                    .next()
                    .filter(|n| n.len() < rest.len())
            })
            .ok_or_else(|| not_elf("section name out of bounds"))?;
        Ok(SectionHeader {
            name,
            ty: field(4, 4) as u32,
            offset: field(0x18, 8),
            size: field(0x20, 8),
        })
    }

    /// The contents of the first section named `name`.
    fn section(&self, name: &'static str) -> Result<&'a [u8], LoadError> {
        for i in 0..self.count {
            let header = self.header(i)?;
            if header.name == name.as_bytes() {
                return self.contents(header.ty, header.offset, header.size);
            }
        }
        Err(LoadError::MissingSection(name))
    }
}

/// Checks what the structural validation of the metadata (the runtime's `validate_info`: counts,
/// entity indices of imports and exports, section ranges) leaves out, so that instantiation can
/// index and evaluate without checking again: constant expressions (stack discipline, result
/// type, every index), element and data segments (target table or memory, offset, items), table
/// initializers, the start function, limits, and the function-name map.
///
/// Constant expressions may read imported globals and globals defined before the one being
/// initialised (WebAssembly 2.0 allows only imported ones; the extended-constant and GC proposals
/// allow earlier immutable ones), never a mutable one.
///
/// # Errors
/// [`LoadError::Malformed`] naming `.aot.info` and the first inconsistency.
pub fn check_module_info(info: &ModuleInfo) -> Result<(), LoadError> {
    let bad = |reason: String| Err(malformed(SECTION_INFO, &reason));
    for (i, m) in info.memories.iter().enumerate() {
        if m.limits.max.is_some_and(|max| max < m.limits.min) {
            return bad(format!("memory {i}: minimum above maximum"));
        }
    }
    for (i, t) in info.tables.iter().enumerate() {
        let too_big = |n: u64| n > u64::from(u32::MAX);
        if too_big(t.limits.min) || t.limits.max.is_some_and(too_big) {
            return bad(format!("table {i}: more than 2^32 - 1 elements"));
        }
        if t.limits.max.is_some_and(|max| max < t.limits.min) {
            return bad(format!("table {i}: minimum above maximum"));
        }
    }
    if let Some(start) = info.start {
        let ty = info
            .funcs
            .get(start.index())
            .and_then(|t| info.types.get(t.index()));
        if !ty.is_some_and(|ty| ty.params.is_empty() && ty.results.is_empty()) {
            return bad(format!(
                "start function {} out of range or not of type [] -> []",
                start.0
            ));
        }
    }
    let n_imported_globals = info.num_imported.globals as usize;
    for (i, init) in info.global_inits.iter().enumerate() {
        let global = n_imported_globals + i;
        let Some(ty) = info.globals.get(global) else {
            return bad("more global initializers than defined globals".into());
        };
        check_const(info, init, ty.content, global).map_err(|e| {
            malformed(
                SECTION_INFO,
                &format!("initializer of global {global}: {e}"),
            )
        })?;
    }
    let n_imported_tables = info.num_imported.tables as usize;
    if info.table_inits.len() != info.tables.len().saturating_sub(n_imported_tables) {
        return bad("one initializer slot per defined table expected".into());
    }
    for (i, init) in info.table_inits.iter().enumerate() {
        let table = n_imported_tables + i;
        if let Some(init) = init {
            check_const(info, init, info.tables[table].element, info.globals.len()).map_err(
                |e| malformed(SECTION_INFO, &format!("initializer of table {table}: {e}")),
            )?;
        }
    }
    if info.table_images.len() != info.table_inits.len() {
        return bad("one image per defined table expected".into());
    }
    for (i, image) in info.table_images.iter().enumerate() {
        let table = n_imported_tables + i;
        let fail = |e: &str| {
            Err(malformed(
                SECTION_INFO,
                &format!("image of table {table}: {e}"),
            ))
        };
        if image.0.is_empty() {
            continue;
        }
        let ty = &info.tables[table];
        if ty.element != ValType::FuncRef || info.table_inits[i].is_some() {
            return fail("only a funcref table of null elements may have one");
        }
        if image.0.len() as u64 > ty.limits.min {
            return fail("longer than the table");
        }
        if image
            .0
            .iter()
            .flatten()
            .any(|f| f.index() >= info.funcs.len())
        {
            return fail("function index out of range");
        }
    }
    for (i, seg) in info.elems.iter().enumerate() {
        let fail = |e: &str| {
            Err(malformed(
                SECTION_INFO,
                &format!("element segment {i}: {e}"),
            ))
        };
        if !seg.ty.is_ref() {
            return fail("not of a reference type");
        }
        if let ElemKind::Active { table, offset } = &seg.kind {
            let Some(t) = info.tables.get(table.index()) else {
                return fail("table out of range");
            };
            if t.element != seg.ty {
                return fail("element type differs from the table's");
            }
            if let Err(e) = check_const(info, offset, ValType::I32, info.globals.len()) {
                return fail(&format!("offset: {e}"));
            }
        }
        match &seg.items {
            ElemItems::Funcs(funcs) => {
                if seg.ty != ValType::FuncRef {
                    return fail("function indices in a segment that is not of funcref");
                }
                if funcs.iter().any(|f| f.index() >= info.funcs.len()) {
                    return fail("function index out of range");
                }
            }
            ElemItems::Exprs(exprs) => {
                for e in exprs {
                    if let Err(e) = check_const(info, e, seg.ty, info.globals.len()) {
                        return fail(&format!("item: {e}"));
                    }
                }
            }
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let Some((memory, offset)) = &seg.active {
            if memory.index() >= info.memories.len() {
                return bad(format!("data segment {i}: memory out of range"));
            }
            check_const(info, offset, ValType::I32, info.globals.len())
                .map_err(|e| malformed(SECTION_INFO, &format!("data segment {i} offset: {e}")))?;
        }
    }
    let names_ok = info.func_names.windows(2).all(|w| w[0].0 < w[1].0)
        && info
            .func_names
            .last()
            .is_none_or(|(f, _)| f.index() < info.funcs.len());
    if !names_ok {
        return bad("function names out of order or out of range".into());
    }
    Ok(())
}

/// Checks that `expr` is a valid constant expression of type `ty`, reading only immutable
/// globals below `globals_visible`.
fn check_const(
    info: &ModuleInfo,
    expr: &ConstExpr,
    ty: ValType,
    globals_visible: usize,
) -> Result<(), String> {
    let mut stack: Vec<ValType> = Vec::new();
    for op in expr.0.iter() {
        let pushed = match *op {
            ConstOp::I32Const(_) => ValType::I32,
            ConstOp::I64Const(_) => ValType::I64,
            ConstOp::F32Const(_) => ValType::F32,
            ConstOp::F64Const(_) => ValType::F64,
            ConstOp::V128Const(_) => ValType::V128,
            ConstOp::GlobalGet(g) => {
                let global = info
                    .globals
                    .get(g.index())
                    .filter(|_| g.index() < globals_visible)
                    .ok_or_else(|| format!("global.get {} out of range", g.0))?;
                if global.mutable {
                    return Err(format!("global.get {} of a mutable global", g.0));
                }
                global.content
            }
            ConstOp::RefNull(t) if t.is_ref() => t,
            ConstOp::RefNull(t) => return Err(format!("ref.null of non-reference type {t}")),
            ConstOp::RefFunc(f) if f.index() < info.funcs.len() => ValType::FuncRef,
            ConstOp::RefFunc(f) => return Err(format!("ref.func {} out of range", f.0)),
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                binary(&mut stack, ValType::I32)?
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                binary(&mut stack, ValType::I64)?
            }
        };
        stack.push(pushed);
    }
    match stack[..] {
        [t] if t == ty => Ok(()),
        _ => Err(format!("does not produce exactly one {ty}")),
    }
}

fn binary(stack: &mut Vec<ValType>, ty: ValType) -> Result<ValType, String> {
    for _ in 0..2 {
        if stack.pop() != Some(ty) {
            return Err(format!("{ty} arithmetic without two {ty} operands"));
        }
    }
    Ok(ty)
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
