//! [`Module`]: a loaded artifact (checked compatibility record, decoded [`ModuleInfo`], code
//! published read+execute), and the [`EmbeddedModule`]/[`EmbeddedComponent`] wrappers that
//! `include_module!`/`include_component!` expand to.
//!
//! Loading checks, in this order: the ELF container and compatibility record (format version,
//! producer version, target, kind), the CPU features the code needs, the metadata; only then is
//! `.text` copied into fresh pages that become read+execute (`vm::CodeMemory`). The function,
//! trap and address tables and the data segments are read in place from the artifact bytes (the
//! `&'static` bytes of an embedded module, or an owned aligned copy for [`Module::deserialize`]).

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
/// This version of the runtime cannot run components yet: [`Module::from_embedded_component`]
/// refuses them with an error saying so.
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
    bytes: ArtifactBytes,
    code: CodeMemory,
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
enum ArtifactBytes {
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
    fn copy_aligned(bytes: &[u8]) -> Self {
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

    fn get(&self) -> &[u8] {
        match self {
            ArtifactBytes::Static(b) => b,
            ArtifactBytes::Owned { buf, start, len } => &buf[*start..*start + *len],
        }
    }
}

/// The position of `part` inside `whole` (a sub-slice of it).
/// An empty section may be any empty slice (not necessarily inside `whole`).
fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    if part.is_empty() {
        return 0..0;
    }
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

fn malformed(section: &'static str, reason: impl Into<String>) -> LoadError {
    LoadError::Malformed {
        section,
        reason: reason.into(),
    }
}

/// What this runtime is, for the compatibility check.
fn host_info() -> HostInfo<'static> {
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
fn check_cpu_features(list: &str) -> Result<(), LoadError> {
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
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

    /// Refuses a component: this version of the runtime runs core modules only.
    ///
    /// # Errors
    /// Always; the error says components are not supported (or why the bytes are not a valid
    /// component artifact at all).
    pub fn from_embedded_component(embedded: &'static EmbeddedComponent) -> Result<Module> {
        ArtifactRef::parse(embedded.bytes, Kind::Component, &host_info())?;
        Err(crate::Error::msg(
            "components are not supported by this version of aot-runtime; compile a core module instead",
        ))
    }

    /// Loads artifact bytes that are not `'static` (see [`Module::deserialize`], the `unsafe`
    /// entry point, in `vm`).
    pub(crate) fn load_copy(bytes: &[u8]) -> Result<Module> {
        Module::load(ArtifactBytes::copy_aligned(bytes))
    }

    fn load(bytes: ArtifactBytes) -> Result<Module> {
        let whole = bytes.get();
        let art = ArtifactRef::parse(whole, Kind::Module, &host_info())?;
        check_cpu_features(&art.compat.cpu_features)?;
        let info: ModuleInfo = postcard::from_bytes(art.info)
            .map_err(|e| malformed(SECTION_INFO, format!("cannot decode module info: {e}")))?;
        validate_info(&info, &art)?;
        let code = CodeMemory::new(art.text)?;
        let type_ids = info.types.iter().map(type_registry::register).collect();
        let funcs = range_in(whole, section_bytes(whole, SECTION_FUNCS)?);
        let traps = range_in(whole, section_bytes(whole, SECTION_TRAPS)?);
        let addrmap = range_in(whole, section_bytes(whole, SECTION_ADDRMAP)?);
        let data = range_in(whole, art.data);
        drop(art);
        Ok(Module {
            inner: Arc::new(ModuleInner {
                info,
                bytes,
                code,
                funcs,
                traps,
                addrmap,
                data,
                type_ids,
                images: std::sync::OnceLock::new(),
            }),
        })
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

/// The raw bytes of section `name`. `ArtifactRef` exposes the tables as parsed views; the module
/// keeps byte ranges instead (so an owned copy needs no self-reference) and re-reads the tables
/// from them on demand.
fn section_bytes<'a>(whole: &'a [u8], name: &'static str) -> Result<&'a [u8], LoadError> {
    use object::{Object, ObjectSection};
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(whole)
        .map_err(|e| LoadError::NotElf(e.to_string()))?;
    file.section_by_name(name)
        .ok_or(LoadError::MissingSection(name))?
        .data()
        .map_err(|e| LoadError::NotElf(e.to_string()))
}

/// Checks the metadata against the sections and its own index spaces, so that no later step can
/// index out of bounds on a malformed artifact.
fn validate_info(info: &ModuleInfo, art: &ArtifactRef<'_>) -> Result<(), LoadError> {
    let bad = |reason: String| Err(malformed(SECTION_INFO, reason));
    if info.num_imported.funcs as usize > info.funcs.len()
        || info.num_imported.tables as usize > info.tables.len()
        || info.num_imported.memories as usize > info.memories.len()
        || info.num_imported.globals as usize > info.globals.len()
    {
        return bad("more imports than entities".into());
    }
    if art.funcs.len() != info.num_defined_funcs() {
        return Err(malformed(
            SECTION_FUNCS,
            format!(
                "{} entries for {} defined functions",
                art.funcs.len(),
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
    Ok(())
}
