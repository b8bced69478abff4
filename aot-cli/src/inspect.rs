//! `aot inspect`: what an artifact holds, for any target (the code is never loaded).
//!
//! The artifact is checked as the runtime would check it, except that the target is the
//! artifact's own: so a cross-compiled artifact can be inspected, and a damaged one is reported
//! as a load error, never a crash.

use crate::Failure;
use aot_runtime::artifact::component::{ComponentInfo, ComponentTypes, Export, ItemType};
use aot_runtime::artifact::{
    ArtifactRef, CompatRecord, EntityIndex, Kind, ModuleInfo, format::SECTION_COMPAT,
    read::HostInfo, verify_checksum,
};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::fmt::Write as _;
use std::path::Path;

/// Artifact bytes copied to 16-byte-aligned memory, as the loader requires.
pub(crate) struct AlignedBytes {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` to an aligned position of a fresh buffer.
    pub(crate) fn new(bytes: &[u8]) -> AlignedBytes {
        let mut buf = vec![0u8; bytes.len() + 16];
        let start = buf.as_ptr().align_offset(16);
        buf[start..start + bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            buf,
            start,
            len: bytes.len(),
        }
    }

    /// The bytes, 16-byte aligned.
    pub(crate) fn get(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

/// Validates `bytes` as an artifact for the target it names, returning it with its kind.
pub(crate) fn parse_any_target(bytes: &[u8]) -> Result<(ArtifactRef<'_>, Kind), Failure> {
    let file =
        object::File::parse(bytes).map_err(|e| Failure::new(format!("not an ELF file: {e}")))?;
    let compat_bytes = file
        .section_by_name(SECTION_COMPAT)
        .ok_or_else(|| {
            Failure::new(format!(
                "not an aot artifact: no `{SECTION_COMPAT}` section"
            ))
        })?
        .data()
        .map_err(|e| Failure::new(format!("malformed `{SECTION_COMPAT}` section: {e}")))?;
    let compat = CompatRecord::decode(compat_bytes)
        .map_err(|e| Failure::new(format!("invalid compatibility record: {e:?}")))?;
    let arch = match compat.target.split('-').next().unwrap_or("") {
        "arm64" => "aarch64",
        arch => arch,
    };
    let host = HostInfo {
        version: &compat.producer,
        arch,
        os: &compat.target,
        pointer_width: compat.pointer_width,
    };
    let artifact = ArtifactRef::parse(bytes, compat.kind, &host)
        .map_err(|e| Failure::new(format!("invalid artifact: {e}")))?;
    verify_checksum(bytes).map_err(|e| Failure::new(format!("invalid artifact: {e}")))?;
    Ok((artifact, compat.kind))
}

/// Runs `aot inspect`.
pub(crate) fn run(path: &Path) -> Result<(), Failure> {
    let raw = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", path.display())))?;
    let bytes = AlignedBytes::new(&raw);
    let text = describe(bytes.get())
        .map_err(|f| Failure::new(format!("`{}`: {}", path.display(), f.message)))?;
    print!("{text}");
    Ok(())
}

/// The whole description of an artifact, as printed by `aot inspect`.
pub(crate) fn describe(bytes: &[u8]) -> Result<String, Failure> {
    let (artifact, kind) = parse_any_target(bytes)?;
    let compat = &artifact.compat;
    let mut out = String::new();
    let kind_name = match kind {
        Kind::Module => "core module",
        Kind::Component => "component",
    };
    let _ = writeln!(out, "kind:           {kind_name}");
    let _ = writeln!(out, "target:         {}", compat.target);
    let _ = writeln!(out, "producer:       aot-build {}", compat.producer);
    let _ = writeln!(out, "format version: {}", compat.format_version);
    let _ = writeln!(out, "cpu features:   {}", or_none(&compat.cpu_features));
    let _ = writeln!(out, "settings:       {}", or_none(&compat.settings));
    let _ = writeln!(
        out,
        "bounds checks:  {}",
        if compat.explicit_bounds_checks() {
            "explicit"
        } else {
            "guard pages"
        }
    );

    let file =
        object::File::parse(bytes).map_err(|e| Failure::new(format!("not an ELF file: {e}")))?;
    let _ = writeln!(out, "\nsections:");
    for section in file.sections() {
        let name = section.name().unwrap_or("<invalid name>");
        if name.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {name:<14} {:>10} bytes", section.size());
    }

    let mut funcs: Vec<(u64, u64, &str)> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text)
        .map(|s| (s.address(), s.size(), s.name().unwrap_or("<invalid name>")))
        .collect();
    funcs.sort();
    let _ = writeln!(out, "\nfunctions ({}):", funcs.len());
    for (address, size, name) in &funcs {
        let _ = writeln!(out, "  {address:#010x} {size:>8} bytes  {name}");
    }

    match kind {
        Kind::Module => {
            let info: ModuleInfo = postcard::from_bytes(artifact.info)
                .map_err(|e| Failure::new(format!("cannot decode module metadata: {e}")))?;
            describe_module(&mut out, &info);
        }
        Kind::Component => {
            let info: ComponentInfo = postcard::from_bytes(artifact.info)
                .map_err(|e| Failure::new(format!("cannot decode component metadata: {e}")))?;
            info.validate()
                .map_err(|e| Failure::new(format!("invalid component metadata: {e}")))?;
            describe_component(&mut out, &info);
        }
    }
    Ok(out)
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

/// A core entity's type in text-format syntax, or `<invalid>` for an index out of range.
fn entity_type(info: &ModuleInfo, index: EntityIndex) -> String {
    match index {
        EntityIndex::Func(f) => info
            .funcs
            .get(f.index())
            .and_then(|t| info.types.get(t.index()))
            .map_or_else(|| "<invalid>".into(), |t| t.to_string()),
        EntityIndex::Table(t) => info.tables.get(t.index()).map_or_else(
            || "<invalid>".into(),
            |t| format!("(table {} {})", t.limits, t.element),
        ),
        EntityIndex::Memory(m) => info
            .memories
            .get(m.index())
            .map_or_else(|| "<invalid>".into(), |m| format!("(memory {})", m.limits)),
        EntityIndex::Global(g) => info.globals.get(g.index()).map_or_else(
            || "<invalid>".into(),
            |g| {
                if g.mutable {
                    format!("(global (mut {}))", g.content)
                } else {
                    format!("(global {})", g.content)
                }
            },
        ),
    }
}

fn describe_module(out: &mut String, info: &ModuleInfo) {
    let _ = writeln!(out, "\nimports ({}):", info.imports.len());
    for import in &info.imports {
        let ty = entity_type(info, import.index);
        let _ = writeln!(out, "  {}::{}: {ty}", import.module, import.name);
    }
    let _ = writeln!(out, "\nexports ({}):", info.exports.len());
    for export in &info.exports {
        let ty = entity_type(info, export.index);
        let _ = writeln!(out, "  {}: {ty}", export.name);
    }
}

/// An import's or instance export's type, WIT-like.
fn item_type(types: &ComponentTypes, ty: ItemType, indent: usize) -> String {
    match ty {
        ItemType::Func(f) => types.display_func(f).to_string(),
        ItemType::Instance(i) => {
            let Some(instance) = types.instances.get(i.index()) else {
                return "<invalid>".into();
            };
            let mut s = String::from("instance {\n");
            for (name, ty) in &instance.exports {
                let inner = item_type(types, *ty, indent + 2);
                let _ = writeln!(s, "{:indent$}  {name}: {inner}", "", indent = indent);
            }
            let _ = write!(s, "{:indent$}}}", "", indent = indent);
            s
        }
        ItemType::Resource(_) => "resource".into(),
        ItemType::Type => "type".into(),
    }
}

fn export_type(types: &ComponentTypes, export: &Export, indent: usize) -> String {
    match export {
        Export::LiftedFunc { ty, .. } => types.display_func(*ty).to_string(),
        Export::Instance(items) => {
            let mut s = String::from("instance {\n");
            for (name, item) in items {
                let inner = export_type(types, item, indent + 2);
                let _ = writeln!(s, "{:indent$}  {name}: {inner}", "", indent = indent);
            }
            let _ = write!(s, "{:indent$}}}", "", indent = indent);
            s
        }
        Export::Resource(_) => "resource".into(),
        Export::Type => "type".into(),
    }
}

fn describe_component(out: &mut String, info: &ComponentInfo) {
    let _ = writeln!(out, "\ncore modules ({}):", info.modules.len());
    for (i, module) in info.modules.iter().enumerate() {
        let _ = writeln!(
            out,
            "  module{i} `{}`: {} functions, {} imports, {} exports",
            module.info.name,
            module.info.funcs.len(),
            module.info.imports.len(),
            module.info.exports.len()
        );
    }
    let _ = writeln!(out, "\nimports ({}):", info.imports.len());
    for import in &info.imports {
        let ty = item_type(&info.types, import.ty, 2);
        let _ = writeln!(out, "  import {}: {ty}", import.name);
    }
    let _ = writeln!(out, "\nexports ({}):", info.exports.len());
    for (name, export) in &info.exports {
        let ty = export_type(&info.types, export, 2);
        let _ = writeln!(out, "  export {name}: {ty}");
    }
}
