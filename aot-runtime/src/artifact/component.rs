//! [`ComponentInfo`]: everything the runtime needs to instantiate and call a component, decided at
//! build time and stored (postcard-encoded) in the `.aot.info` section of a component artifact.
//!
//! The build side resolves the component's whole instance graph (nested components, aliases,
//! core instances made of exports) into a flat plan: a list of [`Initializer`]s that instantiate
//! the static core modules in order, with every import argument already resolved to a
//! [`CoreDef`]. The runtime only executes the plan; the only names it still looks up are those of
//! the root imports, which the host provides. Lowerings, intrinsics, canonical options and
//! lifted exports are resolved lazily on first use, which is sound because of the invariant
//! [`ComponentInfo::validate`] checks: a step only refers to core instances created before it.
//!
//! Types live in [`types`] and the canonical ABI math in [`abi`]. Nothing here depends on a
//! parser or on `std`.

pub mod abi;
pub mod types;

pub use self::abi::{
    CanonicalAbiInfo, Context, DiscriminantSize, FlatType, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
    MAX_TYPE_SIZE, VariantInfo,
};
pub use self::types::*;

use super::format::SECTION_INFO;
use super::index::{EntityIndex, MemoryIndex, index_types};
use super::module::ModuleInfo;
use super::read::LoadError;
use super::types::{FuncType, ValType};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

index_types! {
    /// A static core module of the component, in [`ComponentInfo::modules`] (binary order,
    /// which is also their order in `.text`).
    StaticModuleIndex;
    /// A core instance created at run time: the n-th [`Initializer::InstantiateModule`] creates
    /// instance n.
    RuntimeInstanceIndex;
    /// A component instance created at run time (0 is the root), in
    /// [`ComponentInfo::component_instances`].
    RuntimeComponentInstanceIndex;
    /// A root import, in [`ComponentInfo::imports`].
    ImportIndex;
    /// A leaf of a root import the plan uses, in [`ComponentInfo::runtime_imports`].
    RuntimeImportIndex;
    /// A resource type, in [`ComponentInfo::resources`].
    ResourceIndex;
    /// A set of canonical options, in [`ComponentInfo::options`].
    OptionsIndex;
    /// A lowered function, in [`ComponentInfo::lowerings`].
    LoweringIndex;
    /// A canonical builtin, in [`ComponentInfo::intrinsics`].
    IntrinsicIndex;
}

/// The instantiation plan and type information of a component artifact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Name used for symbols and backtraces (the name section's name, or the file stem).
    pub name: String,
    /// Every static core module, by [`StaticModuleIndex`], in `.text` order.
    pub modules: Vec<StaticModule>,
    /// Every type the plan refers to.
    pub types: ComponentTypes,
    /// Root imports in binary order (for import checks and reflection).
    pub imports: Vec<ComponentImport>,
    /// The leaves of root imports the plan uses, by [`RuntimeImportIndex`].
    pub runtime_imports: Vec<RuntimeImport>,
    /// Component instances, by [`RuntimeComponentInstanceIndex`]; entry 0 is the root.
    pub component_instances: Vec<ComponentInstanceInfo>,
    /// Resource types by [`ResourceIndex`]: imported ones first, then defined ones.
    pub resources: Vec<ResourceDef>,
    /// Canonical options, by [`OptionsIndex`].
    pub options: Vec<CanonicalOptions>,
    /// Lowered functions, by [`LoweringIndex`].
    pub lowerings: Vec<Lowering>,
    /// Canonical builtins, by [`IntrinsicIndex`].
    pub intrinsics: Vec<Intrinsic>,
    /// The plan, executed in order.
    pub initializers: Vec<Initializer>,
    /// Root exports in binary order.
    pub exports: Vec<(String, Export)>,
}

/// One static core module of a component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StaticModule {
    /// Its metadata, as for a module artifact.
    pub info: ModuleInfo,
    /// Its functions are entries `first_func..first_func + n` of `.aot.funcs`, `n` being its
    /// number of defined functions.
    pub first_func: u32,
}

/// A root import of the component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentImport {
    /// The import name (`ns:pkg/iface@1.0.0`, or a plain name).
    pub name: String,
    /// What it must be.
    pub ty: ItemType,
}

/// A leaf of a root import: the import itself, or an item reached through instance exports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeImport {
    /// The root import.
    pub import: ImportIndex,
    /// Export names from the import to the leaf (`["greet"]` for `ns:pkg/iface#greet`).
    pub path: Box<[String]>,
}

/// A component instance created while running the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentInstanceInfo {
    /// The instance whose component instantiated this one; `None` for the root.
    pub parent: Option<RuntimeComponentInstanceIndex>,
    /// Name for diagnostics (`root`, `root/$c1`).
    pub name: String,
}

/// Where a resource type comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceDef {
    /// A root import (a `(sub resource)` leaf) the host binds.
    Imported(RuntimeImportIndex),
    /// A `(type (resource ..))` executed in a component instance: a fresh type per instantiation.
    Defined {
        /// The component instance that defined it (its representations are that instance's).
        instance: RuntimeComponentInstanceIndex,
        /// The destructor, a core function `(param i32)`.
        dtor: Option<CoreDef>,
        /// Name for diagnostics.
        name: String,
    },
}

/// The `string-encoding` canonical option.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StringEncoding {
    /// `utf8` (the default).
    #[default]
    Utf8,
    /// `utf16`.
    Utf16,
    /// `latin1+utf16`.
    CompactUtf16,
}

/// The canonical options of one `canon lift` or `canon lower`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalOptions {
    /// The component instance the core code runs in (whose handles and flags apply).
    pub instance: RuntimeComponentInstanceIndex,
    /// How strings are encoded in `memory`.
    pub string_encoding: StringEncoding,
    /// The memory strings, lists and spilled values live in.
    pub memory: Option<CoreExport<MemoryIndex>>,
    /// The allocator, `(func (param i32 i32 i32 i32) (result i32))`.
    pub realloc: Option<CoreDef>,
    /// Called after the results of a lifted function are read; takes its flat results.
    pub post_return: Option<CoreDef>,
}

/// An item exported by a core instance created by the plan.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CoreExport<I> {
    /// The core instance.
    pub instance: RuntimeInstanceIndex,
    /// The item, in its module's index space; always one of the module's exports.
    pub index: I,
}

/// A core item the plan passes around: an export of a core instance, or a function the runtime
/// provides.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CoreDef {
    /// An export of a core instance.
    Export(CoreExport<EntityIndex>),
    /// A lowered component function (a host function of its core type).
    Lowered(LoweringIndex),
    /// A canonical builtin.
    Intrinsic(IntrinsicIndex),
}

/// A `canon lower`: a component function made callable by core code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lowering {
    /// The component function type.
    pub ty: TypeFuncIndex,
    /// The options (never a `post-return`).
    pub options: OptionsIndex,
    /// The core type, `flatten_func(ty, Lower)`.
    pub core_type: FuncType,
    /// What is called.
    pub callee: Callee,
}

/// The function a lowering calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Callee {
    /// A host function: a root import leaf.
    Import(RuntimeImportIndex),
    /// A function lifted by another (or the same) component instance.
    Lifted {
        /// The core function.
        func: CoreDef,
        /// The options it was lifted with.
        options: OptionsIndex,
    },
}

/// A canonical builtin for one resource type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intrinsic {
    /// Which builtin.
    pub kind: IntrinsicKind,
    /// The resource type it acts on.
    pub resource: ResourceIndex,
    /// The component instance whose handle table it uses.
    pub instance: RuntimeComponentInstanceIndex,
}

/// The canonical builtins this runtime supports.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntrinsicKind {
    /// `resource.new`: `(func (param i32) (result i32))`, representation to new own handle.
    ResourceNew,
    /// `resource.rep`: `(func (param i32) (result i32))`, handle to representation.
    ResourceRep,
    /// `resource.drop`: `(func (param i32))`.
    ResourceDrop,
}

impl IntrinsicKind {
    /// The core function type of the builtin.
    pub fn core_type(self) -> FuncType {
        match self {
            IntrinsicKind::ResourceNew | IntrinsicKind::ResourceRep => {
                FuncType::new([ValType::I32], [ValType::I32])
            }
            IntrinsicKind::ResourceDrop => FuncType::new([ValType::I32], []),
        }
    }
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Initializer {
    /// Creates `RuntimeInstanceIndex(n)` for the n-th such step.
    InstantiateModule {
        /// The module.
        module: StaticModuleIndex,
        /// One argument per import of the module, in import order.
        args: Box<[CoreDef]>,
        /// The component instance the core instance belongs to.
        instance: RuntimeComponentInstanceIndex,
    },
}

/// A root export (or an export of an exported instance).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Export {
    /// A `canon lift`ed function.
    LiftedFunc {
        /// The component function type.
        ty: TypeFuncIndex,
        /// The core function, of type `flatten_func(ty, Lift)`.
        func: CoreDef,
        /// The options.
        options: OptionsIndex,
    },
    /// An instance: its exports, in order.
    Instance(Vec<(String, Export)>),
    /// A resource type.
    Resource(ResourceIndex),
    /// Any other type (carries no run-time meaning).
    Type,
}

/// The type of an import or of an instance type's export.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ItemType {
    /// A function.
    Func(TypeFuncIndex),
    /// An instance.
    Instance(TypeInstanceIndex),
    /// A resource type.
    Resource(ResourceIndex),
    /// Any other type.
    Type,
}

impl ComponentInfo {
    /// The static module each runtime core instance is created from, by
    /// [`RuntimeInstanceIndex`].
    pub fn runtime_instance_modules(&self) -> Vec<StaticModuleIndex> {
        self.initializers
            .iter()
            .map(|init| match init {
                Initializer::InstantiateModule { module, .. } => *module,
            })
            .collect()
    }

    /// The type of a runtime import leaf: the root import's type, followed through instance
    /// exports along its path. `None` if an index or a name does not resolve.
    pub fn runtime_import_type(&self, import: RuntimeImportIndex) -> Option<ItemType> {
        let leaf = self.runtime_imports.get(import.index())?;
        let mut ty = self.imports.get(leaf.import.index())?.ty;
        for name in leaf.path.iter() {
            let ItemType::Instance(instance) = ty else {
                return None;
            };
            let instance = self.types.instances.get(instance.index())?;
            ty = instance.exports.iter().find(|(n, _)| n == name)?.1;
        }
        Some(ty)
    }

    /// Checks the plan for consistency, so that executing it can neither index out of bounds
    /// nor use a core instance before it exists:
    ///
    /// - the modules' function ranges are contiguous from 0 (the loader compares the total,
    ///   [`Self::num_funcs`], with `.aot.funcs`; each `ModuleInfo` is checked as for a module);
    /// - types pass [`ComponentTypes::validate`];
    /// - every index is in range, every core export names an item its module exports, of the
    ///   kind the use needs (a function, a memory);
    /// - **each step only refers to core instances created earlier**: every [`CoreDef`] an
    ///   [`Initializer`] passes, directly or through a lowering's options and callee or a
    ///   resource builtin's destructor, names instances below its own;
    /// - every core function has the core type its use needs: a module import's type,
    ///   `flatten_func` of the lifted or lowered type, `realloc`, `post-return`, destructor and
    ///   builtin signatures;
    /// - import leaves resolve to a function of the lowering's type or to the resource itself;
    /// - exported instances nest at most [`MAX_TYPE_DEPTH`] levels.
    ///
    /// # Errors
    /// [`LoadError::Malformed`] on `.aot.info`, naming the first problem found.
    pub fn validate(&self) -> Result<(), LoadError> {
        Validator::new(self)
            .and_then(|v| v.run())
            .map_err(|reason| LoadError::Malformed {
                section: SECTION_INFO,
                reason,
            })
    }

    /// Number of `.aot.funcs` entries the modules cover (their defined functions), or `None` if
    /// a module's counts are inconsistent.
    pub fn num_funcs(&self) -> Option<usize> {
        self.modules.iter().try_fold(0usize, |total, module| {
            let info = &module.info;
            let defined = info
                .funcs
                .len()
                .checked_sub(info.num_imported.funcs as usize)?;
            total.checked_add(defined)
        })
    }
}

/// What a [`CoreDef`] is, as far as kinds and core types go.
enum DefKind<'a> {
    Func(&'a FuncType),
    Owned(FuncType),
    Other(&'static str),
}

/// The checks of [`ComponentInfo::validate`].
struct Validator<'a> {
    info: &'a ComponentInfo,
    /// The module of each runtime instance.
    instance_modules: Vec<StaticModuleIndex>,
}

impl<'a> Validator<'a> {
    fn new(info: &'a ComponentInfo) -> Result<Self, String> {
        let instance_modules = info.runtime_instance_modules();
        if let Some(m) = instance_modules
            .iter()
            .find(|m| m.index() >= info.modules.len())
        {
            return Err(format!("static module {} out of range", m.0));
        }
        Ok(Self {
            info,
            instance_modules,
        })
    }

    fn run(&self) -> Result<(), String> {
        let info = self.info;
        self.check_modules()?;
        info.types.validate(info.resources.len())?;
        self.check_imports()?;
        self.check_component_instances()?;
        if !info
            .resources
            .is_sorted_by_key(|r| matches!(r, ResourceDef::Defined { .. }))
        {
            return Err("imported resources must come before defined ones".into());
        }
        for (i, resource) in info.resources.iter().enumerate() {
            self.check_resource(ResourceIndex::new(i), resource)?;
        }
        for (i, options) in info.options.iter().enumerate() {
            self.check_options(i, options)?;
        }
        for (i, lowering) in info.lowerings.iter().enumerate() {
            self.check_lowering(i, lowering)?;
        }
        for (i, intrinsic) in info.intrinsics.iter().enumerate() {
            self.check_intrinsic(i, intrinsic)?;
        }
        for (n, init) in info.initializers.iter().enumerate() {
            self.check_initializer(n, init)?;
        }
        for (name, export) in &info.exports {
            self.check_export(name, export, 0)?;
        }
        Ok(())
    }

    fn check_modules(&self) -> Result<(), String> {
        let mut next = 0usize;
        for (i, module) in self.info.modules.iter().enumerate() {
            let info = &module.info;
            if module.first_func as usize != next {
                return Err(format!(
                    "module {i} starts at function entry {} instead of {next}",
                    module.first_func
                ));
            }
            let defined = info
                .funcs
                .len()
                .checked_sub(info.num_imported.funcs as usize)
                .ok_or_else(|| format!("module {i} imports more functions than it has"))?;
            next = next
                .checked_add(defined)
                .filter(|&n| u32::try_from(n).is_ok())
                .ok_or("too many functions")?;
        }
        Ok(())
    }

    fn check_imports(&self) -> Result<(), String> {
        let info = self.info;
        for import in &info.imports {
            if !self.item_type_ok(import.ty) {
                return Err(format!("type of import `{}` out of range", import.name));
            }
        }
        for (i, leaf) in info.runtime_imports.iter().enumerate() {
            if leaf.import.index() >= info.imports.len() {
                return Err(format!(
                    "runtime import {i} names import {} out of range",
                    leaf.import.0
                ));
            }
            if info
                .runtime_import_type(RuntimeImportIndex::new(i))
                .is_none()
            {
                return Err(format!(
                    "runtime import {i} has a path that does not resolve"
                ));
            }
        }
        Ok(())
    }

    fn check_component_instances(&self) -> Result<(), String> {
        let instances = &self.info.component_instances;
        if instances.first().is_none_or(|root| root.parent.is_some()) {
            return Err("the first component instance must be the root".into());
        }
        for (i, instance) in instances.iter().enumerate().skip(1) {
            if instance.parent.is_none_or(|p| p.index() >= i) {
                return Err(format!(
                    "component instance {i} has no parent created before it"
                ));
            }
        }
        Ok(())
    }

    fn check_resource(&self, index: ResourceIndex, resource: &ResourceDef) -> Result<(), String> {
        let i = index.0;
        match resource {
            ResourceDef::Imported(leaf) => {
                if self.info.runtime_import_type(*leaf) != Some(ItemType::Resource(index)) {
                    return Err(format!(
                        "imported resource {i} does not name its own resource import"
                    ));
                }
            }
            ResourceDef::Defined { instance, dtor, .. } => {
                self.component_instance(*instance)?;
                if let Some(dtor) = dtor {
                    let dtor_type = FuncType::new([ValType::I32], []);
                    self.expect_func(dtor, &dtor_type, "resource destructor")?;
                }
            }
        }
        Ok(())
    }

    fn check_options(&self, i: usize, options: &CanonicalOptions) -> Result<(), String> {
        self.component_instance(options.instance)?;
        if let Some(memory) = &options.memory {
            let export = CoreExport {
                instance: memory.instance,
                index: EntityIndex::Memory(memory.index),
            };
            self.core_export(&export)
                .map_err(|e| format!("memory of options {i}: {e}"))?;
        }
        if let Some(realloc) = &options.realloc {
            let ty = FuncType::new([ValType::I32; 4], [ValType::I32]);
            self.expect_func(realloc, &ty, "realloc")?;
        }
        if let Some(post_return) = &options.post_return {
            // Its exact type depends on the lifted function; checked where the options are used.
            self.func_type(post_return)?;
        }
        Ok(())
    }

    fn check_lowering(&self, i: usize, lowering: &Lowering) -> Result<(), String> {
        let info = self.info;
        let ty = self.func_type_def(lowering.ty)?;
        let options = self.options(lowering.options)?;
        if options.post_return.is_some() {
            return Err(format!("lowering {i} has a post-return function"));
        }
        if lowering.core_type != abi::flatten_func(ty, &info.types, Context::Lower) {
            return Err(format!("lowering {i} has the wrong core type"));
        }
        match &lowering.callee {
            Callee::Import(leaf) => {
                if info.runtime_import_type(*leaf) != Some(ItemType::Func(lowering.ty)) {
                    return Err(format!(
                        "lowering {i} calls an import that is not a function of its type"
                    ));
                }
            }
            Callee::Lifted { func, options } => {
                self.check_lifted(lowering.ty, func, *options)
                    .map_err(|e| format!("lowering {i}: {e}"))?;
            }
        }
        Ok(())
    }

    fn check_intrinsic(&self, i: usize, intrinsic: &Intrinsic) -> Result<(), String> {
        self.component_instance(intrinsic.instance)?;
        let resource = self
            .info
            .resources
            .get(intrinsic.resource.index())
            .ok_or_else(|| {
                format!(
                    "intrinsic {i} names resource {} out of range",
                    intrinsic.resource.0
                )
            })?;
        let defined_here = matches!(resource, ResourceDef::Defined { instance, .. } if *instance == intrinsic.instance);
        if intrinsic.kind != IntrinsicKind::ResourceDrop && !defined_here {
            return Err(format!(
                "intrinsic {i} uses a resource its component instance does not define"
            ));
        }
        Ok(())
    }

    fn check_initializer(&self, n: usize, init: &Initializer) -> Result<(), String> {
        let Initializer::InstantiateModule {
            module,
            args,
            instance,
        } = init;
        self.component_instance(*instance)?;
        let module = &self.info.modules[module.index()].info;
        if args.len() != module.imports.len() {
            return Err(format!(
                "step {n} passes {} arguments for {} imports",
                args.len(),
                module.imports.len()
            ));
        }
        for (arg, import) in args.iter().zip(&module.imports) {
            let what =
                |e: String| format!("step {n}, import `{}::{}`: {e}", import.module, import.name);
            let kind = self.def_kind(arg).map_err(what)?;
            match (import.index, kind) {
                (EntityIndex::Func(f), DefKind::Func(_) | DefKind::Owned(_)) => {
                    let expected = func_type_of(module, f)
                        .ok_or_else(|| what("import index out of range".into()))?;
                    self.expect_func(arg, expected, "argument").map_err(what)?;
                }
                (EntityIndex::Table(_), DefKind::Other("table"))
                | (EntityIndex::Memory(_), DefKind::Other("memory"))
                | (EntityIndex::Global(_), DefKind::Other("global")) => {}
                _ => return Err(what("argument of the wrong kind".into())),
            }
            self.check_order(arg, n).map_err(what)?;
        }
        Ok(())
    }

    fn check_export(&self, name: &str, export: &Export, depth: u32) -> Result<(), String> {
        if depth > MAX_TYPE_DEPTH {
            return Err(format!("export `{name}` is nested too deeply"));
        }
        match export {
            Export::LiftedFunc { ty, func, options } => self
                .check_lifted(*ty, func, *options)
                .map_err(|e| format!("export `{name}`: {e}")),
            Export::Instance(exports) => exports
                .iter()
                .try_for_each(|(inner, export)| self.check_export(inner, export, depth + 1))
                .map_err(|e| format!("instance export `{name}`: {e}")),
            Export::Resource(r) if r.index() >= self.info.resources.len() => Err(format!(
                "export `{name}` names resource {} out of range",
                r.0
            )),
            Export::Resource(_) | Export::Type => Ok(()),
        }
    }

    /// A lifted function: `func` has type `flatten_func(ty, Lift)` and the post-return, if any,
    /// takes its results.
    fn check_lifted(
        &self,
        ty: TypeFuncIndex,
        func: &CoreDef,
        options: OptionsIndex,
    ) -> Result<(), String> {
        let ty = self.func_type_def(ty)?;
        let core = abi::flatten_func(ty, &self.info.types, Context::Lift);
        self.expect_func(func, &core, "lifted function")?;
        if let Some(post_return) = &self.options(options)?.post_return {
            let expected = FuncType::new(core.results.iter().copied(), []);
            self.expect_func(post_return, &expected, "post-return")?;
        }
        Ok(())
    }

    /// Every core instance `def` reaches (through lowerings, their options and callees, and
    /// builtins' destructors) is below `limit`. Walks with an explicit stack and visited sets,
    /// so cycles between lowerings terminate.
    fn check_order(&self, def: &CoreDef, limit: usize) -> Result<(), String> {
        let info = self.info;
        let mut lowerings = vec![false; info.lowerings.len()];
        let mut intrinsics = vec![false; info.intrinsics.len()];
        let mut stack = vec![*def];
        let push_options = |stack: &mut Vec<CoreDef>, options: OptionsIndex| {
            let options = &info.options[options.index()];
            if let Some(memory) = &options.memory {
                stack.push(CoreDef::Export(CoreExport {
                    instance: memory.instance,
                    index: EntityIndex::Memory(memory.index),
                }));
            }
            stack.extend(options.realloc.iter().chain(&options.post_return).copied());
        };
        while let Some(def) = stack.pop() {
            match def {
                CoreDef::Export(export) => {
                    if export.instance.index() >= limit {
                        return Err(format!(
                            "refers to core instance {}, which is not created yet",
                            export.instance.0
                        ));
                    }
                }
                CoreDef::Lowered(l) => {
                    if !core::mem::replace(&mut lowerings[l.index()], true) {
                        let lowering = &info.lowerings[l.index()];
                        push_options(&mut stack, lowering.options);
                        if let Callee::Lifted { func, options } = &lowering.callee {
                            stack.push(*func);
                            push_options(&mut stack, *options);
                        }
                    }
                }
                CoreDef::Intrinsic(i) => {
                    if !core::mem::replace(&mut intrinsics[i.index()], true) {
                        let resource = info.intrinsics[i.index()].resource;
                        if let ResourceDef::Defined {
                            dtor: Some(dtor), ..
                        } = &info.resources[resource.index()]
                        {
                            stack.push(*dtor);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn expect_func(&self, def: &CoreDef, expected: &FuncType, what: &str) -> Result<(), String> {
        let found = self.func_type(def)?;
        if found != *expected {
            return Err(format!("{what} has type {found}, expected {expected}"));
        }
        Ok(())
    }

    /// The core type of a function `def`; an error if it is not a function.
    fn func_type(&self, def: &CoreDef) -> Result<FuncType, String> {
        match self.def_kind(def)? {
            DefKind::Func(ty) => Ok(ty.clone()),
            DefKind::Owned(ty) => Ok(ty),
            DefKind::Other(kind) => Err(format!("expected a function, found a {kind}")),
        }
    }

    /// What `def` is; an error if any index is out of range.
    fn def_kind(&self, def: &CoreDef) -> Result<DefKind<'a>, String> {
        let info = self.info;
        match def {
            CoreDef::Export(export) => self.core_export(export),
            CoreDef::Lowered(l) => info
                .lowerings
                .get(l.index())
                .map(|l| DefKind::Func(&l.core_type))
                .ok_or_else(|| format!("lowering {} out of range", l.0)),
            CoreDef::Intrinsic(i) => info
                .intrinsics
                .get(i.index())
                .map(|i| DefKind::Owned(i.kind.core_type()))
                .ok_or_else(|| format!("intrinsic {} out of range", i.0)),
        }
    }

    /// Checks that a core export exists and is exported by its module.
    fn core_export(&self, export: &CoreExport<EntityIndex>) -> Result<DefKind<'a>, String> {
        let module = self
            .instance_modules
            .get(export.instance.index())
            .ok_or_else(|| format!("core instance {} out of range", export.instance.0))?;
        let module = &self.info.modules[module.index()].info;
        if !module.exports.iter().any(|e| e.index == export.index) {
            return Err(format!(
                "core instance {} does not export {:?}",
                export.instance.0, export.index
            ));
        }
        Ok(match export.index {
            EntityIndex::Func(f) => {
                DefKind::Func(func_type_of(module, f).ok_or("exported function out of range")?)
            }
            EntityIndex::Table(t) if t.index() < module.tables.len() => DefKind::Other("table"),
            EntityIndex::Memory(m) if m.index() < module.memories.len() => DefKind::Other("memory"),
            EntityIndex::Global(g) if g.index() < module.globals.len() => DefKind::Other("global"),
            _ => return Err("exported item out of range".into()),
        })
    }

    fn func_type_def(&self, ty: TypeFuncIndex) -> Result<&'a TypeFunc, String> {
        self.info
            .types
            .funcs
            .get(ty.index())
            .ok_or_else(|| format!("function type {} out of range", ty.0))
    }

    fn options(&self, options: OptionsIndex) -> Result<&'a CanonicalOptions, String> {
        self.info
            .options
            .get(options.index())
            .ok_or_else(|| format!("options {} out of range", options.0))
    }

    fn component_instance(&self, instance: RuntimeComponentInstanceIndex) -> Result<(), String> {
        if instance.index() < self.info.component_instances.len() {
            Ok(())
        } else {
            Err(format!("component instance {} out of range", instance.0))
        }
    }

    fn item_type_ok(&self, ty: ItemType) -> bool {
        let types = &self.info.types;
        match ty {
            ItemType::Func(f) => f.index() < types.funcs.len(),
            ItemType::Instance(i) => i.index() < types.instances.len(),
            ItemType::Resource(r) => r.index() < self.info.resources.len(),
            ItemType::Type => true,
        }
    }
}

/// The core type of function `func` of `module`, if the indices are in range.
fn func_type_of(module: &ModuleInfo, func: super::index::FuncIndex) -> Option<&FuncType> {
    let ty = module.funcs.get(func.index())?;
    module.types.get(ty.index())
}

#[cfg(test)]
mod tests;
