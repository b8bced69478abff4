//! Component [`Instance`]s: running a component's plan in a store, the per-instance state the
//! call paths use, lazy resolution of lowerings, canonical options and core functions, and export
//! lookup by name.
//!
//! Instantiation executes the `Initializer::InstantiateModule` steps in order with the core
//! runtime's instantiation (one core instance per step); each argument is a [`CoreDef`]: a core
//! export of an earlier instance, or a lowered function, which becomes a core host function of
//! its lowered core type (called through the importing module's existing wasm-to-host
//! trampoline). Lowerings, canonical options and the functions they name are resolved on first
//! use and cached; the load-time validator guarantees that whatever a step refers to was created
//! by an earlier step, so resolution never meets a missing instance.
//!
//! State per runtime component instance (one per `RuntimeComponentInstanceIndex` of each
//! [`Instance`]): `may_leave` (cleared while its `realloc` or `post-return` runs) and `poisoned`
//! (set when a trap or host error unwinds through it). The store's call stack of entered
//! instances lives in [`ComponentStore`]; `func.rs` pushes and pops it.

use super::func::{self, Func, FuncData, HostFuncDef, TypedFunc};
use super::resources::{self, CallScope, HandleTable, HostTable, ResourceType};
use super::typed::{ComponentNamedList, Lift, Lower};
use super::{Component, runtime_import_name};
use crate::artifact::EntityIndex;
use crate::artifact::component::{
    CoreDef, Export, Initializer, IntrinsicIndex, LoweringIndex, OptionsIndex, ResourceDef,
    RuntimeComponentInstanceIndex, RuntimeInstanceIndex, StringEncoding,
};
use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::func::HostFunc;
use crate::memory::Memory;
use crate::prelude::*;
use crate::store::{AsContextMut, StoreId, StoreInner, StoreOpaque};
use crate::types::FuncType;
use core::any::Any;
use std::collections::HashMap;

/// An instantiated component.
///
/// A small handle into the store that created it; using it with another store panics.
#[derive(Copy, Clone, Debug)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// The component part of a store: every component instance, the handles of their lifted exports
/// and the stack of entered component instances.
pub(crate) struct ComponentStore {
    /// By [`Instance::index`].
    pub(crate) instances: Vec<InstanceData>,
    /// By [`Func::index`].
    pub(crate) funcs: Vec<FuncData>,
    /// The component instances entered and not left, innermost last.
    pub(crate) stack: Vec<CallFrame>,
    /// The borrow and lend scopes of the calls in progress, innermost last.
    pub(crate) scopes: Vec<CallScope>,
    /// Own handles of guest resources the host holds.
    pub(crate) host: HostTable,
    /// The store these belong to.
    pub(crate) id: StoreId,
    /// The destructor of each host resource type instantiated in this store (an
    /// `Arc<HostResourceDef<T>>`), for [`ResourceAny::resource_drop`].
    pub(crate) host_dtors: HashMap<core::any::TypeId, Arc<dyn Any + Send + Sync>>,
}

impl ComponentStore {
    /// The component state of the store `id`.
    pub(crate) fn new(id: StoreId) -> Self {
        Self {
            instances: Vec::new(),
            funcs: Vec::new(),
            stack: Vec::new(),
            scopes: Vec::new(),
            host: HostTable::default(),
            id,
            host_dtors: HashMap::new(),
        }
    }
}

/// One entered component instance on the store's call stack.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallFrame {
    /// The [`Instance`].
    pub(crate) instance: u32,
    /// The runtime component instance inside it.
    pub(crate) runtime: RuntimeComponentInstanceIndex,
}

/// The flags of one runtime component instance (canonical ABI "Component Instance State").
#[derive(Copy, Clone, Debug)]
pub(crate) struct RuntimeState {
    /// Cleared while the instance's `realloc` or `post-return` runs: it may not call out then.
    pub(crate) may_leave: bool,
    /// Set when a trap or host error unwound through the instance: it may not be entered again.
    pub(crate) poisoned: bool,
}

/// Canonical options resolved to the store's items.
#[derive(Copy, Clone, Debug)]
pub(crate) struct ResolvedOptions {
    /// The runtime component instance the core code runs in.
    pub(crate) runtime: RuntimeComponentInstanceIndex,
    /// The string encoding.
    pub(crate) encoding: StringEncoding,
    /// The memory, if the options name one.
    pub(crate) memory: Option<Memory>,
    /// `realloc`, if named.
    pub(crate) realloc: Option<crate::Func>,
    /// `post-return`, if named.
    pub(crate) post_return: Option<crate::Func>,
}

/// What the store knows about one component instance.
pub(crate) struct InstanceData {
    pub(crate) component: Component,
    /// The core instances (indices in the store's instance list), by `RuntimeInstanceIndex`.
    core: Vec<u32>,
    /// By `RuntimeComponentInstanceIndex`.
    pub(crate) states: Box<[RuntimeState]>,
    /// Cache, by `OptionsIndex`.
    options: Box<[Option<ResolvedOptions>]>,
    /// Cache of the host function made for each lowering, by `LoweringIndex`.
    lowerings: Box<[Option<crate::Func>]>,
    /// Cache of the host function made for each resource builtin, by `IntrinsicIndex`.
    intrinsics: Box<[Option<crate::Func>]>,
    /// The handle table of each runtime component instance, by `RuntimeComponentInstanceIndex`.
    pub(crate) tables: Box<[HandleTable]>,
    /// The run-time type of each resource of the component, by `ResourceIndex`.
    pub(crate) resource_types: Box<[ResourceType]>,
    /// The host definition of each runtime import (an `Arc<HostFuncDef<T>>` or an
    /// `Arc<HostResourceDef<T>>`), by `RuntimeImportIndex`.
    pub(crate) imports: Box<[Arc<dyn Any + Send + Sync>]>,
    /// Handles of lifted exports already looked up, by export name.
    funcs: HashMap<String, u32>,
}

impl InstanceData {
    /// The name of runtime component instance `runtime` for diagnostics (`root`, `root/$c1`).
    pub(crate) fn runtime_name(&self, runtime: RuntimeComponentInstanceIndex) -> &str {
        &self.component.info().component_instances[runtime.index()].name
    }
}

/// Runs `component`'s plan in `store` with `imports`, the host definitions of its runtime imports
/// (already checked against their types by the linker).
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    component: &Component,
    imports: Box<[Arc<dyn Any + Send + Sync>]>,
) -> Result<Instance> {
    let info = component.info();
    let index = u32::try_from(store.opaque.components.instances.len())
        .map_err(|_| Error::msg("too many component instances in one store"))?;
    let id = store.opaque.id;
    let components = &mut store.opaque.components;
    let resource_types = info
        .resources
        .iter()
        .enumerate()
        .map(|(i, def)| match def {
            ResourceDef::Defined { .. } => Ok(ResourceType::guest(
                id,
                index,
                crate::artifact::component::ResourceIndex::new(i),
            )),
            ResourceDef::Imported(leaf) => {
                super::host::import_resource_type::<T>(components, &imports, *leaf)
            }
        })
        .collect::<Result<_>>()?;
    components.instances.push(InstanceData {
        component: component.clone(),
        core: Vec::with_capacity(info.initializers.len()),
        states: vec![
            RuntimeState {
                may_leave: true,
                poisoned: false,
            };
            info.component_instances.len()
        ]
        .into_boxed_slice(),
        options: vec![None; info.options.len()].into_boxed_slice(),
        lowerings: vec![None; info.lowerings.len()].into_boxed_slice(),
        intrinsics: vec![None; info.intrinsics.len()].into_boxed_slice(),
        tables: (0..info.component_instances.len())
            .map(|_| HandleTable::default())
            .collect(),
        resource_types,
        imports,
        funcs: HashMap::new(),
    });
    for init in &info.initializers {
        let Initializer::InstantiateModule { module, args, .. } = init;
        let externs = args
            .iter()
            .map(|arg| core_def_extern(store, index, arg))
            .collect::<Result<Vec<_>>>()?;
        let module = &component.modules()[module.index()];
        let core = crate::instance::instantiate(store, module, &externs)?;
        store.opaque.components.instances[index as usize]
            .core
            .push(core.index);
    }
    Ok(Instance {
        store: store.opaque.id,
        index,
    })
}

/// The store item `def` designates, as a core import argument.
fn core_def_extern<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    def: &CoreDef,
) -> Result<Extern> {
    match def {
        CoreDef::Export(export) => {
            let core = core_instance(&store.opaque, instance, export.instance)?;
            Ok(crate::instance::export_extern(
                &mut store.opaque,
                core,
                export.index,
            ))
        }
        CoreDef::Lowered(lowering) => Ok(Extern::Func(lowering_func(store, instance, *lowering)?)),
        CoreDef::Intrinsic(intrinsic) => {
            Ok(Extern::Func(intrinsic_func(store, instance, *intrinsic)?))
        }
    }
}

/// The store index of core instance `core` of component instance `instance`.
fn core_instance(store: &StoreOpaque, instance: u32, core: RuntimeInstanceIndex) -> Result<u32> {
    store.components.instances[instance as usize]
        .core
        .get(core.index())
        .copied()
        .ok_or_else(|| Error::bug(format!("core instance {} used before it exists", core.0)))
}

/// The core function `def` designates.
pub(crate) fn resolve_func<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    def: &CoreDef,
) -> Result<crate::Func> {
    match core_def_extern(store, instance, def)? {
        Extern::Func(f) => Ok(f),
        _ => Err(Error::bug("a canonical function is not a core function")),
    }
}

/// The host function of lowering `lowering` (made on first use): a core host function of the
/// lowered core type whose body lifts the arguments, calls the callee and lowers the results.
fn lowering_func<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    lowering: LoweringIndex,
) -> Result<crate::Func> {
    let data = &store.opaque.components.instances[instance as usize];
    if let Some(f) = data.lowerings[lowering.index()] {
        return Ok(f);
    }
    let info = data.component.info();
    let def = &info.lowerings[lowering.index()];
    let host: Option<Arc<HostFuncDef<T>>> = match &def.callee {
        crate::artifact::component::Callee::Import(leaf) => {
            let host = data.imports[leaf.index()].clone();
            let host = host.downcast::<HostFuncDef<T>>().map_err(|_| {
                Error::bug(format!(
                    "import `{}` is not a host function of this store's data type",
                    runtime_import_name(info, *leaf)
                ))
            })?;
            Some(host)
        }
        crate::artifact::component::Callee::Lifted { .. } => None,
    };
    let ty = FuncType::from_artifact(def.core_type.clone());
    let call = move |caller: crate::Caller<'_, T>, values: &mut [crate::values::ValRaw]| {
        func::call_lowered(caller.store, instance, lowering, host.as_deref(), values)
    };
    let host = Arc::new(HostFunc::new(ty, Box::new(call)));
    let f = crate::Func::from_host(&mut store.opaque, host);
    store.opaque.components.instances[instance as usize].lowerings[lowering.index()] = Some(f);
    Ok(f)
}

/// The host function of resource builtin `intrinsic` (made on first use).
fn intrinsic_func<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    intrinsic: IntrinsicIndex,
) -> Result<crate::Func> {
    let data = &store.opaque.components.instances[instance as usize];
    if let Some(f) = data.intrinsics[intrinsic.index()] {
        return Ok(f);
    }
    let kind = data.component.info().intrinsics[intrinsic.index()].kind;
    let ty = FuncType::from_artifact(kind.core_type());
    let call = move |caller: crate::Caller<'_, T>, values: &mut [crate::values::ValRaw]| {
        resources::call_intrinsic(caller.store, instance, intrinsic, values)
    };
    let host = Arc::new(HostFunc::new(ty, Box::new(call)));
    let f = crate::Func::from_host(&mut store.opaque, host);
    store.opaque.components.instances[instance as usize].intrinsics[intrinsic.index()] = Some(f);
    Ok(f)
}

/// The canonical options `options` of `instance`, resolved (on first use) to the store's
/// memory and functions.
pub(crate) fn resolve_options<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    options: OptionsIndex,
) -> Result<ResolvedOptions> {
    let data = &store.opaque.components.instances[instance as usize];
    if let Some(resolved) = data.options[options.index()] {
        return Ok(resolved);
    }
    let component = data.component.clone();
    let def = &component.info().options[options.index()];
    let memory = match &def.memory {
        Some(export) => {
            let core = core_instance(&store.opaque, instance, export.instance)?;
            match crate::instance::export_extern(
                &mut store.opaque,
                core,
                EntityIndex::Memory(export.index),
            ) {
                Extern::Memory(m) => Some(m),
                _ => return Err(Error::bug("the memory option is not a memory")),
            }
        }
        None => None,
    };
    let realloc = def
        .realloc
        .as_ref()
        .map(|def| resolve_func(store, instance, def))
        .transpose()?;
    let post_return = def
        .post_return
        .as_ref()
        .map(|def| resolve_func(store, instance, def))
        .transpose()?;
    let resolved = ResolvedOptions {
        runtime: def.instance,
        encoding: def.string_encoding,
        memory,
        realloc,
        post_return,
    };
    store.opaque.components.instances[instance as usize].options[options.index()] = Some(resolved);
    Ok(resolved)
}

impl Instance {
    fn data<'s>(&self, store: &'s StoreOpaque) -> &'s InstanceData {
        store.check(self.store);
        &store.components.instances[self.index as usize]
    }

    /// The component this instance was created from.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn component(&self, store: impl crate::AsContext) -> Component {
        self.data(&store.as_context().0.opaque).component.clone()
    }

    /// The exported function `name`: a root export, or `<interface>#<function>` for a function
    /// of an exported instance (`"test:demo/greeter@0.1.0#greet"`). The exact name is tried
    /// first, then a semver-compatible one (`@0.2.1` finds `@0.2.0`), if only one matches.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_func(&self, mut store: impl AsContextMut, name: &str) -> Option<Func> {
        self.lookup_func(&mut store.as_context_mut().0.opaque, name)
            .ok()
    }

    /// The exported function `name` (see [`Instance::get_func`]) as a [`TypedFunc`], after
    /// checking its type against `P` and `R` (once, here).
    ///
    /// # Errors
    /// If there is no such function, or its parameters or result do not match `P` and `R`; the
    /// message names the function, the parameter and both types.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_typed_func<P, R>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let func = self
            .lookup_func(&mut store.as_context_mut().0.opaque, name)
            .map_err(Error::msg)?;
        func.typed_named(&store.as_context_mut().0.opaque, name)
    }

    /// The resource type exported as `name` (a root export, or `<interface>#<resource>`): the
    /// type this instantiation created for it.
    ///
    /// # Panics
    /// If `store` is not the store that created the instance.
    pub fn get_resource(&self, store: impl crate::AsContext, name: &str) -> Option<ResourceType> {
        let data = self.data(&store.as_context().0.opaque);
        let exports = &data.component.info().exports;
        let export = match name.split_once('#') {
            Some((interface, item)) => match find_export(exports, interface).ok()? {
                Export::Instance(items) => find_export(items, item).ok()?,
                _ => return None,
            },
            None => find_export(exports, name).ok()?,
        };
        match export {
            Export::Resource(r) => data.resource_types.get(r.index()).copied(),
            _ => None,
        }
    }

    /// Finds the lifted function `name` and returns its handle (made once per name).
    fn lookup_func(&self, store: &mut StoreOpaque, name: &str) -> Result<Func, String> {
        let data = self.data(store);
        if let Some(&index) = data.funcs.get(name) {
            return Ok(Func {
                store: store.id,
                index,
            });
        }
        let exports = &data.component.info().exports;
        let export = match name.split_once('#') {
            Some((interface, item)) => match find_export(exports, interface)? {
                Export::Instance(items) => find_export(items, item)?,
                _ => return Err(format!("export `{interface}` is not an instance")),
            },
            None => find_export(exports, name)?,
        };
        let Export::LiftedFunc { ty, func, options } = export else {
            return Err(format!("export `{name}` is not a function"));
        };
        let data = FuncData {
            instance: self.index,
            ty: *ty,
            func: *func,
            options: *options,
        };
        let components = &mut store.components;
        let index = components.funcs.len() as u32;
        components.funcs.push(data);
        components.instances[self.index as usize]
            .funcs
            .insert(name.to_string(), index);
        Ok(Func {
            store: store.id,
            index,
        })
    }
}

/// The export `name` of `exports`: the exact name, else the only export whose semver-compatible
/// key (docs/components.md §5) is that of `name`.
fn find_export<'a>(exports: &'a [(String, Export)], name: &str) -> Result<&'a Export, String> {
    if let Some((_, export)) = exports.iter().find(|(n, _)| n == name) {
        return Ok(export);
    }
    let not_found = || format!("no export named `{name}`");
    let key = super::linker::alternate_key(name).ok_or_else(not_found)?;
    let mut matches = exports
        .iter()
        .filter(|(n, _)| super::linker::alternate_key(n).as_deref() == Some(key.as_str()));
    let (first, export) = matches.next().ok_or_else(not_found)?;
    if let Some((second, _)) = matches.next() {
        return Err(format!(
            "`{name}` matches both `{first}` and `{second}`; use the exact name"
        ));
    }
    Ok(export)
}
