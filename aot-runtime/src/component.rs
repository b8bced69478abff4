//! The component model at run time: [`Component`] loading, [`Linker`], [`Instance`], typed and
//! dynamic calls through the canonical ABI. All of it is safe Rust over the core runtime; nothing
//! here is compiled code or touches `vm` directly.
//!
//! A component artifact holds one `.text` with the code of all its static core modules and a
//! [`ComponentInfo`]: the flat instantiation plan `aot-build` decided. Loading checks the plan
//! ([`ComponentInfo::validate`], then every module's metadata against its sub-range of the
//! function table), publishes the code once, and makes one core [`Module`] per static module over
//! the shared bytes and code. Instantiation (`instantiate.rs`) only runs the plan.
//!
//! (Being built in steps, see docs/components.md §7.)

mod context;
mod derive;
mod func;
mod host;
mod instantiate;
mod lift;
mod linker;
mod lower;
mod params;
mod resource_table;
mod resources;
mod string;
mod typed;
mod types;
mod values;
#[cfg(feature = "wave")]
mod wave;

pub use context::{LiftContext, LowerContext};
pub use typed::{ComponentNamedList, ComponentType, Lift, Lower, TypeMismatch};
pub use types::{ComponentFunc, Type, TypeKind};
pub use values::Val;

/// Derives for records, variants and enums, and the `flags!` macro (see `aot-macros`).
pub use aot_macros::{ComponentType, Lift, Lower, flags};
#[doc(hidden)]
pub use derive::__internal;

pub use func::{Func, TypedFunc};
pub use host::Resource;
pub use instantiate::Instance;
pub use linker::{Linker, LinkerInstance};
pub use resource_table::{ResourceTable, ResourceTableError};
pub use resources::{ResourceAny, ResourceType};

pub(crate) use instantiate::ComponentStore;

use crate::artifact::component::{ComponentInfo, ComponentTypes, Export, ItemType, ResourceDef};
use crate::artifact::format::{SECTION_FUNCS, SECTION_INFO};
use crate::artifact::read::FUNC_LOC_SIZE;
use crate::artifact::{Kind, LoadError};
use crate::error::Result;
use crate::module::{
    ArtifactBytes, EmbeddedComponent, Module, SharedSections, malformed, parse_artifact,
    validate_info,
};
use crate::prelude::*;
use crate::vm::CodeMemory;
use core::fmt;

/// A compiled component, ready to be instantiated in any number of stores.
///
/// Cloning is cheap (a reference count). `Component` is `Send + Sync`.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    /// The plan. Its `modules` list is emptied at load: each `ModuleInfo` moved into its
    /// [`Module`].
    info: ComponentInfo,
    /// The component's types, shared with reflection ([`types::Type`]) and the call paths.
    types: Arc<ComponentTypes>,
    /// One core module per static module, all over the same bytes and code.
    modules: Box<[Module]>,
}

impl Component {
    /// Loads a component embedded by `include_component!`. The bytes are read in place; only
    /// `.text` is copied (into fresh executable pages, once for all its core modules).
    ///
    /// # Errors
    /// A [`LoadError`] if the artifact was built for another target, by another version of
    /// `aot-build`, needs CPU features this machine lacks, holds a core module, or is malformed.
    pub fn from_embedded(embedded: &'static EmbeddedComponent) -> Result<Component> {
        Component::load(ArtifactBytes::Static(embedded.bytes()))
    }

    /// Loads artifact bytes that are not `'static` (see [`Component::deserialize`], the
    /// `unsafe` entry point, in `vm`).
    pub(crate) fn load_copy(bytes: &[u8]) -> Result<Component> {
        Component::load(ArtifactBytes::copy_aligned(bytes))
    }

    fn load(bytes: ArtifactBytes) -> Result<Component> {
        let whole = bytes.get();
        let art = parse_artifact(whole, Kind::Component)?;
        if matches!(bytes, ArtifactBytes::Owned { .. }) {
            // As for modules: an embedded artifact comes from this very build.
            crate::artifact::verify_checksum(whole)?;
        }
        let mut info: ComponentInfo = postcard::from_bytes(art.info)
            .map_err(|e| malformed(SECTION_INFO, format!("cannot decode component info: {e}")))?;
        info.validate()?;
        if info.num_funcs() != Some(art.funcs.len()) {
            return Err(malformed(
                SECTION_FUNCS,
                format!(
                    "{} entries for the defined functions of {} modules",
                    art.funcs.len(),
                    info.modules.len()
                ),
            )
            .into());
        }
        for (i, module) in info.modules.iter().enumerate() {
            let n_funcs = module.info.num_defined_funcs();
            validate_info(&module.info, n_funcs, &art).map_err(|e| match e {
                LoadError::Malformed { section, reason } => {
                    malformed(section, format!("module {i}: {reason}"))
                }
                e => e,
            })?;
        }
        let code = Arc::new(CodeMemory::new(art.text)?);
        let sections = SharedSections::find(whole, &art)?;
        drop(art);
        let bytes = Arc::new(bytes);
        let modules = core::mem::take(&mut info.modules)
            .into_iter()
            .enumerate()
            .map(|(i, module)| {
                let mut module_info = module.info;
                module_info.name = module_name(&info.name, &module_info.name, i);
                let first = sections.funcs.start + module.first_func as usize * FUNC_LOC_SIZE;
                let len = module_info.num_defined_funcs() * FUNC_LOC_SIZE;
                Module::from_shared(
                    module_info,
                    bytes.clone(),
                    code.clone(),
                    first..first + len,
                    &sections,
                )
            })
            .collect();
        let types = Arc::new(info.types.clone());
        Ok(Component {
            inner: Arc::new(ComponentInner {
                info,
                types,
                modules,
            }),
        })
    }

    /// The component's name (the name section's name, or the source file stem).
    pub fn name(&self) -> &str {
        &self.inner.info.name
    }

    /// The root imports, in binary order, with their types.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = (&str, ComponentItem)> + '_ {
        self.inner.info.imports.iter().map(|import| {
            let item = ComponentItem::from_item_type(self, import.ty);
            (import.name.as_str(), item)
        })
    }

    /// The root exports, in binary order, with their types.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = (&str, ComponentItem)> + '_ {
        self.inner
            .info
            .exports
            .iter()
            .map(|(name, export)| (name.as_str(), ComponentItem::from_export(self, export)))
    }

    pub(crate) fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    pub(crate) fn types(&self) -> &Arc<ComponentTypes> {
        &self.inner.types
    }

    /// The core module of each static module.
    pub(crate) fn modules(&self) -> &[Module] {
        &self.inner.modules
    }

    /// A name for diagnostics of resource `index`: its definition's name, or the import path.
    pub(crate) fn resource_name(&self, index: crate::artifact::component::ResourceIndex) -> String {
        let info = &self.inner.info;
        match &info.resources[index.index()] {
            ResourceDef::Defined { name, .. } => name.clone(),
            ResourceDef::Imported(leaf) => runtime_import_name(info, *leaf),
        }
    }
}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.name())
            .field("modules", &self.inner.modules.len())
            .field("imports", &self.inner.info.imports.len())
            .field("exports", &self.inner.info.exports.len())
            .finish_non_exhaustive()
    }
}

/// The name of a component's static module `index` for symbols and backtraces:
/// `<component>/<module>`, the module being named by its name section or `module<index>`.
fn module_name(component: &str, module: &str, index: usize) -> String {
    let module = if module.is_empty() {
        format!("module{index}")
    } else {
        module.to_string()
    };
    if component.is_empty() || module.starts_with(&format!("{component}/")) {
        module
    } else {
        format!("{component}/{module}")
    }
}

/// `import#leaf#..` for a runtime import: the root import's name and the export path to the leaf.
pub(crate) fn runtime_import_name(
    info: &ComponentInfo,
    leaf: crate::artifact::component::RuntimeImportIndex,
) -> String {
    let leaf = &info.runtime_imports[leaf.index()];
    let mut name = info.imports[leaf.import.index()].name.clone();
    for part in leaf.path.iter() {
        name.push('#');
        name.push_str(part);
    }
    name
}

/// The type of a component's import or export, for reflection (`aot inspect`). Its `Display` is
/// WIT-like: `func(name: string) -> string`, `instance { greet: func(..) }`, `resource`, `type`.
#[derive(Clone)]
pub struct ComponentItem {
    component: Component,
    kind: ItemKind,
}

#[derive(Clone)]
enum ItemKind {
    /// From an import (or an import's instance type).
    Item(ItemType),
    /// From an export.
    Export(Export),
}

/// What a [`ComponentItem`] is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ComponentItemKind {
    /// A function.
    Func,
    /// An instance (an interface).
    Instance,
    /// A resource type.
    Resource,
    /// Any other type.
    Type,
}

impl ComponentItem {
    fn from_item_type(component: &Component, ty: ItemType) -> Self {
        Self {
            component: component.clone(),
            kind: ItemKind::Item(ty),
        }
    }

    fn from_export(component: &Component, export: &Export) -> Self {
        Self {
            component: component.clone(),
            kind: ItemKind::Export(export.clone()),
        }
    }

    /// What the item is.
    pub fn kind(&self) -> ComponentItemKind {
        match &self.kind {
            ItemKind::Item(ItemType::Func(_)) | ItemKind::Export(Export::LiftedFunc { .. }) => {
                ComponentItemKind::Func
            }
            ItemKind::Item(ItemType::Instance(_)) | ItemKind::Export(Export::Instance(_)) => {
                ComponentItemKind::Instance
            }
            ItemKind::Item(ItemType::Resource(_)) | ItemKind::Export(Export::Resource(_)) => {
                ComponentItemKind::Resource
            }
            ItemKind::Item(ItemType::Type) | ItemKind::Export(Export::Type) => {
                ComponentItemKind::Type
            }
        }
    }

    /// The function type, if the item is a function.
    pub fn func(&self) -> Option<types::ComponentFunc> {
        let ty = match &self.kind {
            ItemKind::Item(ItemType::Func(ty))
            | ItemKind::Export(Export::LiftedFunc { ty, .. }) => *ty,
            _ => return None,
        };
        Some(types::ComponentFunc::new(
            self.component.types().clone(),
            ty,
        ))
    }

    /// The items of an instance, in order (empty for any other item).
    pub fn exports(&self) -> Vec<(String, ComponentItem)> {
        let component = &self.component;
        match &self.kind {
            ItemKind::Item(ItemType::Instance(ty)) => component.types().instances[ty.index()]
                .exports
                .iter()
                .map(|(name, ty)| (name.clone(), ComponentItem::from_item_type(component, *ty)))
                .collect(),
            ItemKind::Export(Export::Instance(exports)) => exports
                .iter()
                .map(|(name, e)| (name.clone(), ComponentItem::from_export(component, e)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ComponentItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let types = self.component.types();
        match &self.kind {
            ItemKind::Item(ItemType::Func(ty))
            | ItemKind::Export(Export::LiftedFunc { ty, .. }) => {
                write!(f, "{}", types.display_func(*ty))
            }
            ItemKind::Item(ItemType::Instance(_)) | ItemKind::Export(Export::Instance(_)) => {
                f.write_str("instance {")?;
                for (i, (name, item)) in self.exports().iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}{name}: {item}")?;
                }
                f.write_str(" }")
            }
            ItemKind::Item(ItemType::Resource(r)) | ItemKind::Export(Export::Resource(r)) => {
                write!(f, "resource {}", self.component.resource_name(*r))
            }
            ItemKind::Item(ItemType::Type) | ItemKind::Export(Export::Type) => f.write_str("type"),
        }
    }
}

impl fmt::Debug for ComponentItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComponentItem({self})")
    }
}
