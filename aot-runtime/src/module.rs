//! [`Module`]: a loaded core module (checked compatibility record, decoded [`ModuleInfo`], code
//! published read+execute), and the [`EmbeddedModule`]/[`EmbeddedComponent`] wrappers that
//! `include_module!`/`include_component!` expand to.
//!
//! Loading checks, in this order: the ELF container and compatibility record (format version,
//! producer version, target, kind), the CPU features the code needs, the metadata; only then is
//! `.text` copied into fresh pages that become read+execute (`vm::CodeMemory`). The function,
//! trap and address tables and the data segments are read in place from the artifact bytes (the
//! `&'static` bytes of an embedded module, or an owned aligned copy for [`Module::deserialize`]).
//!
//! A module shares its artifact bytes and its code memory (`Arc`s): a component artifact holds
//! several core modules in one `.text`, and `crate::component::Component` makes one `Module` per
//! static module over the same bytes and code, each with its own `ModuleInfo` and its own
//! sub-range of the function table (the trap table and address map are keyed by text offset, so
//! all of them share those).

use crate::artifact::format::{
    ARTIFACT_ALIGN, SECTION_ADDRMAP, SECTION_DATA, SECTION_FUNCS, SECTION_INFO, SECTION_TRAPS,
    WASM_PAGE_SIZE, WASM32_MAX_PAGES,
};
use crate::artifact::module::ConstOp;
use crate::artifact::read::{AddressMap, FuncTable, HostInfo};
use crate::artifact::{ArtifactRef, EntityIndex, Kind, LoadError, ModuleInfo};
use crate::error::Result;
use crate::prelude::*;
use crate::types::{ExportType, ImportType};
use crate::vm::{CodeMemory, MemoryImage, type_registry};
use core::fmt;
use core::ops::Range;

/// A core module artifact embedded in the program by `include_module!`.
///
/// Its only constructor is `unsafe` (the bytes must come from `aot-build`); the macro calls it so
/// user code does not have to. Load it with [`Module::from_embedded`].
#[derive(Debug)]
pub struct EmbeddedModule {
    pub(crate) bytes: &'static [u8],
}

impl EmbeddedModule {
    /// The artifact bytes.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }
}

/// A component artifact embedded in the program by `include_component!`.
///
/// Its only constructor is `unsafe` (the bytes must come from `aot-build`); the macro calls it so
/// user code does not have to. Load it with `component::Component::from_embedded`.
#[derive(Debug)]
pub struct EmbeddedComponent {
    pub(crate) bytes: &'static [u8],
}

impl EmbeddedComponent {
    /// The artifact bytes.
    pub fn bytes(&self) -> &'static [u8] {
        self.bytes
    }
}

/// A compiled core module, ready to be instantiated in any number of stores.
///
/// Cloning is cheap (a reference count). `Module` is `Send + Sync`.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    info: ModuleInfo,
    /// The whole artifact (shared by every module of a component).
    bytes: Arc<ArtifactBytes>,
    /// The artifact's published `.text` (shared likewise).
    code: Arc<CodeMemory>,
    /// This module's entries of `.aot.funcs` (a sub-range for a component's module).
    funcs: Range<usize>,
    traps: Range<usize>,
    addrmap: Range<usize>,
    data: Range<usize>,
    type_ids: Box<[u32]>,
    /// Copy-on-write initial contents of each defined memory, built on first instantiation.
    images: std::sync::OnceLock<Box<[Option<MemoryImage>]>>,
}

/// Smallest span of data segments worth a copy-on-write image: below it, copying the bytes at
/// instantiation is cheaper than mapping a file.
pub(crate) const MIN_IMAGE_BYTES: u64 = 64 * 1024;

/// Where the artifact bytes live.
pub(crate) enum ArtifactBytes {
    /// Embedded in the program: read in place.
    Static(&'static [u8]),
    /// Copied by [`Module::deserialize`] into a buffer whose `start..start + len` is aligned.
    Owned {
        buf: Vec<u8>,
        start: usize,
        len: usize,
    },
}

impl ArtifactBytes {
    pub(crate) fn copy_aligned(bytes: &[u8]) -> Self {
        let mut buf = vec![0u8; bytes.len() + ARTIFACT_ALIGN];
        let addr = buf.as_ptr() as usize;
        let start = (ARTIFACT_ALIGN - addr % ARTIFACT_ALIGN) % ARTIFACT_ALIGN;
        buf[start..start + bytes.len()].copy_from_slice(bytes);
        ArtifactBytes::Owned {
            buf,
            start,
            len: bytes.len(),
        }
    }

    pub(crate) fn get(&self) -> &[u8] {
        match self {
            ArtifactBytes::Static(b) => b,
            ArtifactBytes::Owned { buf, start, len } => &buf[*start..*start + *len],
        }
    }
}

/// The position of `part` inside `whole` (a sub-slice of it).
/// An empty section may be any empty slice (not necessarily inside `whole`).
pub(crate) fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    if part.is_empty() {
        return 0..0;
    }
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

pub(crate) fn malformed(section: &'static str, reason: impl Into<String>) -> LoadError {
    LoadError::Malformed {
        section,
        reason: reason.into(),
    }
}

/// What this runtime is, for the compatibility check.
pub(crate) fn host_info() -> HostInfo<'static> {
    HostInfo {
        version: env!("CARGO_PKG_VERSION"),
        arch: std::env::consts::ARCH,
        os: match std::env::consts::OS {
            "macos" => "darwin",
            os => os,
        },
        pointer_width: core::mem::size_of::<usize>() as u8,
    }
}

/// Whether this CPU has the Rust target feature `name`. Unknown names count as missing, so an
/// artifact needing a feature this runtime cannot check is refused rather than run.
fn cpu_has_feature(name: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        match name {
            "sse2" => has!("sse2"),
            "sse3" => has!("sse3"),
            "ssse3" => has!("ssse3"),
            "sse4.1" => has!("sse4.1"),
            "sse4.2" => has!("sse4.2"),
            "popcnt" => has!("popcnt"),
            "avx" => has!("avx"),
            "avx2" => has!("avx2"),
            "fma" => has!("fma"),
            "bmi1" => has!("bmi1"),
            "bmi2" => has!("bmi2"),
            "lzcnt" => has!("lzcnt"),
            "avx512f" => has!("avx512f"),
            "avx512vl" => has!("avx512vl"),
            "avx512dq" => has!("avx512dq"),
            "avx512bitalg" => has!("avx512bitalg"),
            "avx512vbmi" => has!("avx512vbmi"),
            "cmpxchg16b" => has!("cmpxchg16b"),
            _ => false,
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        use std::arch::is_aarch64_feature_detected as has;
        match name {
            "neon" => has!("neon"),
            "lse" => has!("lse"),
            "fp16" => has!("fp16"),
            "bti" => has!("bti"),
            "paca" => has!("paca"),
            "pacg" => has!("pacg"),
            _ => false,
        }
    }
}

/// Checks that this CPU has every feature in `list` (comma separated Rust target-feature names).
pub(crate) fn check_cpu_features(list: &str) -> Result<(), LoadError> {
    for name in list
        .split(',')
        .map(str::trim_ascii)
        .filter(|s| !s.is_empty())
    {
        if !cpu_has_feature(name) {
            return Err(LoadError::MissingCpuFeature(name.to_string()));
        }
    }
    Ok(())
}

impl Module {
    /// Loads a module embedded by `include_module!`. The bytes are read in place; only `.text` is
    /// copied (into fresh executable pages).
    ///
    /// # Errors
    /// A [`LoadError`] if the artifact was built for another target, by another version of
    /// `aot-build`, needs CPU features this machine lacks, or is malformed.
    pub fn from_embedded(embedded: &'static EmbeddedModule) -> Result<Module> {
        Module::load(ArtifactBytes::Static(embedded.bytes))
    }

    /// Loads artifact bytes that are not `'static` (see [`Module::deserialize`], the `unsafe`
    /// entry point, in `vm`).
    pub(crate) fn load_copy(bytes: &[u8]) -> Result<Module> {
        Module::load(ArtifactBytes::copy_aligned(bytes))
    }

    fn load(bytes: ArtifactBytes) -> Result<Module> {
        let whole = bytes.get();
        let art = parse_artifact(whole, Kind::Module)?;
        if matches!(bytes, ArtifactBytes::Owned { .. }) {
            crate::artifact::verify_checksum(whole)?; // `from_embedded` skips it (same build)
        }
        let info: ModuleInfo = postcard::from_bytes(art.info)
            .map_err(|e| malformed(SECTION_INFO, format!("cannot decode module info: {e}")))?;
        validate_info(&info, art.funcs.len(), &art)?;
        let code = Arc::new(CodeMemory::new(art.text)?);
        let sections = SharedSections::find(whole, &art)?;
        drop(art);
        Ok(Module::from_shared(
            info,
            Arc::new(bytes),
            code,
            sections.funcs.clone(),
            &sections,
        ))
    }

    /// A module over shared artifact bytes and code: `funcs` is its byte range of `.aot.funcs`,
    /// `sections` the ranges every module of the artifact shares. `info` must have passed
    /// [`validate_info`] against that function range.
    pub(crate) fn from_shared(
        info: ModuleInfo,
        bytes: Arc<ArtifactBytes>,
        code: Arc<CodeMemory>,
        funcs: Range<usize>,
        sections: &SharedSections,
    ) -> Module {
        let type_ids = info.types.iter().map(type_registry::register).collect();
        Module {
            inner: Arc::new(ModuleInner {
                info,
                bytes,
                code,
                funcs,
                traps: sections.traps.clone(),
                addrmap: sections.addrmap.clone(),
                data: sections.data.clone(),
                type_ids,
                images: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Whether both handles designate the same loaded module.
    pub(crate) fn ptr_eq(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The module's name (the name section's module name, or the source file stem).
    pub fn name(&self) -> &str {
        &self.inner.info.name
    }

    /// The imports, in the order of the import section.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        let info = &self.inner.info;
        info.imports
            .iter()
            .map(move |import| ImportType { info, import })
    }

    /// The exports, in the order of the export section.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> {
        let info = &self.inner.info;
        info.exports
            .iter()
            .map(move |export| ExportType { info, export })
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    pub(crate) fn code(&self) -> &CodeMemory {
        &self.inner.code
    }

    /// Process-wide type ids of the module's types, by type index.
    pub(crate) fn type_ids(&self) -> &[u32] {
        &self.inner.type_ids
    }

    pub(crate) fn funcs(&self) -> FuncTable<'_> {
        FuncTable::parse(&self.inner.bytes.get()[self.inner.funcs.clone()])
            .expect("function table was validated at load")
    }

    /// The raw trap section (for the code registry, which the signal handler reads).
    pub(crate) fn traps_bytes(&self) -> &[u8] {
        &self.inner.bytes.get()[self.inner.traps.clone()]
    }

    pub(crate) fn addrmap(&self) -> AddressMap<'_> {
        AddressMap::parse(&self.inner.bytes.get()[self.inner.addrmap.clone()])
            .expect("address map was validated at load")
    }

    /// The memory image of each defined memory (built on first use): `Some` when all of the
    /// memory's active data segments have constant offsets inside its initial size and span at
    /// least [`MIN_IMAGE_BYTES`]; `None` where the segments must be copied at instantiation.
    pub(crate) fn memory_images(&self) -> &[Option<MemoryImage>] {
        self.inner.images.get_or_init(|| {
            let info = &self.inner.info;
            let n_imported = info.num_imported.memories as usize;
            (n_imported..info.memories.len())
                .map(|memory| self.build_memory_image(memory))
                .collect()
        })
    }

    fn build_memory_image(&self, memory: usize) -> Option<MemoryImage> {
        let info = &self.inner.info;
        let initial = info.memories[memory]
            .limits
            .min
            .checked_mul(WASM_PAGE_SIZE)?;
        let mut segments = Vec::new();
        let mut end = 0u64;
        for (i, seg) in info.data.iter().enumerate() {
            let Some((target, offset)) = &seg.active else {
                continue;
            };
            if target.index() != memory {
                continue;
            }
            let [ConstOp::I32Const(offset)] = *offset.0 else {
                return None;
            };
            let offset = u64::from(offset as u32);
            let bytes = self.data_segment(i);
            end = end.max(offset + bytes.len() as u64);
            segments.push((offset as usize, bytes));
        }
        if end > initial || end < MIN_IMAGE_BYTES {
            return None;
        }
        MemoryImage::new(end as usize, segments).ok()
    }

    /// The bytes of data segment `index`.
    pub(crate) fn data_segment(&self, index: usize) -> &[u8] {
        let seg = &self.inner.info.data[index];
        let start = seg.data_offset as usize;
        &self.inner.bytes.get()[self.inner.data.clone()][start..start + seg.data_len as usize]
    }

    /// The address of the module's published `.text`.
    pub(crate) fn text_base(&self) -> usize {
        self.inner.code.text_base()
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name())
            .field("imports", &self.inner.info.imports.len())
            .field("exports", &self.inner.info.exports.len())
            .finish_non_exhaustive()
    }
}

impl Module {
    /// The `FLAG_*` bits of the artifact's compatibility record (checked at load), re-read from
    /// the bytes: only the fuel API asks, rarely.
    pub(crate) fn compat_flags(&self) -> u8 {
        let whole = self.inner.bytes.get();
        section_bytes(whole, crate::artifact::format::SECTION_COMPAT)
            .ok()
            .and_then(|b| crate::artifact::CompatRecord::decode(b).ok())
            .map_or(0, |c| c.flags)
    }
}

/// The raw bytes of section `name`. `ArtifactRef` exposes the tables as parsed views; the module
/// keeps byte ranges instead (so an owned copy needs no self-reference) and re-reads the tables
/// from them on demand.
pub(crate) fn section_bytes<'a>(
    whole: &'a [u8],
    name: &'static str,
) -> Result<&'a [u8], LoadError> {
    crate::artifact::read::section_bytes(whole, name)
}

/// Byte ranges, in the artifact, of the sections every module of an artifact shares.
pub(crate) struct SharedSections {
    /// `.aot.funcs` (a module artifact's module uses all of it).
    pub(crate) funcs: Range<usize>,
    /// `.aot.traps`.
    pub(crate) traps: Range<usize>,
    /// `.aot.addrmap`.
    pub(crate) addrmap: Range<usize>,
    /// `.aot.data`.
    pub(crate) data: Range<usize>,
}

impl SharedSections {
    /// Finds the sections of the (already parsed) artifact `whole`.
    pub(crate) fn find(whole: &[u8], art: &ArtifactRef<'_>) -> Result<Self, LoadError> {
        Ok(Self {
            funcs: range_in(whole, section_bytes(whole, SECTION_FUNCS)?),
            traps: range_in(whole, section_bytes(whole, SECTION_TRAPS)?),
            addrmap: range_in(whole, section_bytes(whole, SECTION_ADDRMAP)?),
            data: range_in(whole, art.data),
        })
    }
}

/// Parses `whole` as an artifact of `kind` for this host and checks the CPU features its code
/// needs. An artifact of the other kind is refused with the way to load it.
pub(crate) fn parse_artifact(whole: &[u8], kind: Kind) -> Result<ArtifactRef<'_>> {
    let art = ArtifactRef::parse(whole, kind, &host_info()).map_err(|e| {
        let fix = match &e {
            LoadError::WrongKind {
                found: Kind::Module,
                ..
            } => Some("load it with Module::deserialize or include_module!"),
            LoadError::WrongKind {
                found: Kind::Component,
                ..
            } => Some("load it with Component::deserialize or include_component!"),
            _ => None,
        };
        let err = crate::Error::from(e);
        match fix {
            Some(fix) => err.with_detail(fix),
            None => err,
        }
    })?;
    check_cpu_features(&art.compat.cpu_features)?;
    Ok(art)
}

/// Checks the metadata against the sections and its own index spaces, so that no later step can
/// index out of bounds on a malformed artifact. `n_funcs` is the number of `.aot.funcs` entries
/// that belong to the module (all of them for a module artifact, a sub-range for a component's
/// module).
pub(crate) fn validate_info(
    info: &ModuleInfo,
    n_funcs: usize,
    art: &ArtifactRef<'_>,
) -> Result<(), LoadError> {
    let bad = |reason: String| Err(malformed(SECTION_INFO, reason));
    if info.num_imported.funcs as usize > info.funcs.len()
        || info.num_imported.tables as usize > info.tables.len()
        || info.num_imported.memories as usize > info.memories.len()
        || info.num_imported.globals as usize > info.globals.len()
    {
        return bad("more imports than entities".into());
    }
    if n_funcs != info.num_defined_funcs() {
        return Err(malformed(
            SECTION_FUNCS,
            format!(
                "{} entries for {} defined functions",
                n_funcs,
                info.num_defined_funcs()
            ),
        ));
    }
    if let Some(t) = info.funcs.iter().find(|t| t.index() >= info.types.len()) {
        return bad(format!("function type index {} out of range", t.0));
    }
    if info.wasm_to_host_trampolines.len() != info.types.len()
        || info
            .wasm_to_host_trampolines
            .iter()
            .any(|&o| o != u32::MAX && o as usize >= art.text.len())
    {
        return bad("wasm-to-host trampoline table does not match the types".into());
    }
    if info.memories.iter().any(|m| {
        m.limits.min > WASM32_MAX_PAGES || m.limits.max.is_some_and(|max| max > WASM32_MAX_PAGES)
    }) {
        return bad("memory larger than 4 GiB (memory64 is not supported)".into());
    }
    if info.tables.iter().any(|t| !t.element.is_ref()) {
        return bad("table of a non-reference type".into());
    }
    for seg in &info.data {
        let end = u64::from(seg.data_offset) + u64::from(seg.data_len);
        if end > art.data.len() as u64 {
            return Err(malformed(SECTION_DATA, "data segment outside the section"));
        }
    }
    let entity_ok = |index: &EntityIndex| match *index {
        EntityIndex::Func(i) => i.index() < info.funcs.len(),
        EntityIndex::Table(i) => i.index() < info.tables.len(),
        EntityIndex::Memory(i) => i.index() < info.memories.len(),
        EntityIndex::Global(i) => i.index() < info.globals.len(),
    };
    if !info.imports.iter().all(|i| entity_ok(&i.index))
        || !info.exports.iter().all(|e| entity_ok(&e.index))
    {
        return bad("import or export index out of range".into());
    }
    // Imports fill their index spaces in order: the k-th imported function is function k.
    let mut counts = [0u32; 4];
    for import in &info.imports {
        let (kind, index) = match import.index {
            EntityIndex::Func(i) => (0, i.0),
            EntityIndex::Table(i) => (1, i.0),
            EntityIndex::Memory(i) => (2, i.0),
            EntityIndex::Global(i) => (3, i.0),
        };
        if index != counts[kind] {
            return bad(format!(
                "import `{}::{}` out of order",
                import.module, import.name
            ));
        }
        counts[kind] += 1;
    }
    let n = info.num_imported;
    if counts != [n.funcs, n.tables, n.memories, n.globals] {
        return bad("import counts do not match the imports".into());
    }
    if info.global_inits.len() != info.globals.len() - info.num_imported.globals as usize {
        return bad("one initializer per defined global expected".into());
    }
    // Segments, initializers, the start function, limits and names: every index they hold
    // must be in range, so that instantiation never indexes out of bounds.
    crate::artifact::read::check_module_info(info)
}
