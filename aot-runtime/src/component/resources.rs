//! Resource handles (docs/components.md §4.7): the handle table of each runtime component
//! instance (canonical ABI "Table State") and the canonical builtins `resource.new`,
//! `resource.rep` and `resource.drop`, which guest code calls as core host functions made on
//! first use (like lowerings, in `instantiate.rs`).
//!
//! A table has one index space for every resource type: slot 0 is reserved, freed slots are
//! reused through a free list, and it holds at most `2^28 - 1` slots. Dropping an own handle runs
//! the type's guest destructor; when the destructor belongs to another runtime component
//! instance, that instance is entered like any callee (re-entrance and poisoning checks).
//!
//! Handles cross the component boundary through [`HandleCx`] (spec `lift_own`, `lift_borrow`,
//! `lower_own`, `lower_borrow`): own handles the host holds live in the store's host table as
//! [`ResourceAny`]s (with a generation, so a stale one is `UnknownHandle`), borrows lowered into a
//! callee are counted in the callee's [`CallScope`] (`BorrowsRemain` when it returns with some
//! left), and own handles lent for an import call are released when the call ends. Imported
//! resource types are host types (`host.rs`): their handles live in the same tables, and
//! dropping an own one runs the host destructor the linker defined.

use super::context::{LiftContext, LowerContext};
use super::func;
use super::instantiate::{CallFrame, ComponentStore, resolve_func};
use super::lift::{FlatSource, read_u32};
use super::lower::FlatSink;
use super::typed::{ComponentType, Lift, Lower, TypeMismatch};
use super::values::lower_handle;
use crate::artifact::Trap;
use crate::artifact::component::{
    CanonicalAbiInfo, ComponentTypes, InterfaceType, IntrinsicIndex, IntrinsicKind, ResourceDef,
    ResourceIndex, RuntimeComponentInstanceIndex,
};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::StoreInner;
use crate::store::{AsContextMut, StoreId};
use crate::values::ValRaw;
use core::any::TypeId;

/// The largest number of slots a handle table holds (slot 0 included), as the spec's
/// `Table.MAX_LENGTH`.
const MAX_LENGTH: usize = (1 << 28) - 1;

/// A resource type at run time: a type a component instance defined (a fresh type for every
/// instantiation, found with [`Instance::get_resource`](super::Instance::get_resource) or
/// [`ResourceAny::ty`]), or a host type ([`ResourceType::host`]) the host defines with
/// [`LinkerInstance::resource`](super::LinkerInstance::resource).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType {
    pub(crate) kind: ResourceKind,
}

/// What a [`ResourceType`] is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ResourceKind {
    /// Defined by a guest.
    Guest {
        /// The store of the instance.
        store: StoreId,
        /// [`Instance::index`](super::Instance).
        instance: u32,
        /// The resource in the component's list.
        index: ResourceIndex,
    },
    /// Defined by the host as the Rust type `id` (named `name` for diagnostics).
    Host {
        /// `TypeId::of::<T>()`.
        id: TypeId,
        /// `type_name::<T>()`.
        name: &'static str,
    },
}

impl ResourceType {
    /// The resource type of host resources represented by the Rust type `T`: what
    /// [`Resource<T>`](super::Resource) handles have, and what a
    /// [`LinkerInstance::resource`](super::LinkerInstance::resource) definition gives an
    /// imported resource type.
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType {
            kind: ResourceKind::Host {
                id: TypeId::of::<T>(),
                name: core::any::type_name::<T>(),
            },
        }
    }

    /// A guest-defined type.
    pub(crate) fn guest(store: StoreId, instance: u32, index: ResourceIndex) -> ResourceType {
        ResourceType {
            kind: ResourceKind::Guest {
                store,
                instance,
                index,
            },
        }
    }

    /// Whether the host defines this type.
    pub fn is_host(&self) -> bool {
        matches!(self.kind, ResourceKind::Host { .. })
    }

    /// The host type `T` of [`ResourceType::host`], for diagnostics.
    pub(crate) fn host_name(&self) -> Option<&'static str> {
        match self.kind {
            ResourceKind::Host { name, .. } => Some(name),
            ResourceKind::Guest { .. } => None,
        }
    }
}

/// An own handle to a resource, held by the host (or a borrow of one, during a host function
/// call): the dynamic counterpart of [`Resource<T>`](super::Resource), and what
/// [`Val::Resource`](super::Val::Resource) holds.
///
/// `Copy`, like an index: an own handle must be given back to the guest (as a parameter) or
/// dropped with [`ResourceAny::resource_drop`]; using it after that fails with
/// `UnknownHandle`, never reaching another resource.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ResourceAny {
    /// The store whose host table holds it.
    pub(crate) store: StoreId,
    /// Its type.
    pub(crate) ty: ResourceType,
    /// Own: slot in the store's host table. Borrow: the representation.
    pub(crate) index: u32,
    /// Own: the generation of the slot when it was filled.
    pub(crate) generation: u32,
    /// Own or borrow.
    pub(crate) own: bool,
}

impl ResourceAny {
    /// The resource type.
    pub fn ty(&self) -> ResourceType {
        self.ty
    }

    /// Whether this is an own handle (else a borrow, valid during one host function call).
    pub fn owned(&self) -> bool {
        self.own
    }

    /// Drops the resource, running its destructor: in the guest that defined it, or the host
    /// destructor of its [`LinkerInstance::resource`](super::LinkerInstance::resource)
    /// definition.
    ///
    /// # Errors
    /// If the handle was already given away or dropped (`UnknownHandle`), is a borrow, or the
    /// destructor traps or cannot enter its instance.
    ///
    /// # Panics
    /// If `store` is not the store the handle belongs to.
    pub fn resource_drop(self, mut store: impl AsContextMut) -> Result<()> {
        let store = store.as_context_mut().0;
        store.opaque.check(self.store);
        if !self.own {
            return Err(Error::msg(
                "a borrowed resource cannot be dropped by the host",
            ));
        }
        let rep = store.opaque.components.host.take(self)?;
        match self.ty.kind {
            ResourceKind::Guest {
                instance, index, ..
            } => run_destructor(store, instance, None, index, rep),
            ResourceKind::Host { id, .. } => super::host::run_host_destructor(store, id, rep),
        }
    }
}

impl ComponentType for ResourceAny {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR4;

    /// Matches any `own` or `borrow`; the resource type itself is checked when the handle is
    /// lowered (it belongs to an instance, not to the component's type tables).
    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match ty {
            InterfaceType::Own(_) | InterfaceType::Borrow(_) => Ok(()),
            _ => Err(TypeMismatch::rust::<Self>(ty, types)),
        }
    }
}

impl Lower for ResourceAny {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        dst.push_u32(lower_handle(cx, self, ty)?)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        let handle = lower_handle(cx, self, ty)?;
        cx.write(offset, &handle.to_le_bytes())
    }
}

impl Lift for ResourceAny {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        lift_handle(cx, ty, src.next_u32()?)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        lift_handle(cx, ty, read_u32(bytes, 0)?)
    }
}

/// Spec `lift_own` / `lift_borrow` of `handle` as `ty`.
pub(crate) fn lift_handle(
    cx: &mut LiftContext<'_>,
    ty: InterfaceType,
    handle: u32,
) -> Result<ResourceAny> {
    match ty {
        InterfaceType::Own(r) => cx.handles()?.lift_own(r, handle),
        InterfaceType::Borrow(r) => cx.handles()?.lift_borrow(r, handle),
        _ => Err(Error::bug("a handle lifted as another type")),
    }
}

/// One slot of the store's host table.
#[derive(Copy, Clone, Debug)]
struct HostSlot {
    /// The type and representation, `None` when free.
    entry: Option<(ResourceType, u32)>,
    /// Bumped every time the slot is freed.
    generation: u32,
}

/// The own handles of guest resources the host holds ([`ResourceAny`]s).
#[derive(Debug, Default)]
pub(crate) struct HostTable {
    slots: Vec<HostSlot>,
    free: Vec<u32>,
}

impl HostTable {
    /// Stores an own handle of `rep`, for the store `store`.
    pub(crate) fn push(
        &mut self,
        store: StoreId,
        ty: ResourceType,
        rep: u32,
    ) -> Result<ResourceAny> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() >= MAX_LENGTH {
                    return Err(Error::trap_with_detail(
                        Trap::HandleTableFull,
                        "the host holds too many resources",
                    ));
                }
                self.slots.push(HostSlot {
                    entry: None,
                    generation: 0,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.entry = Some((ty, rep));
        Ok(ResourceAny {
            store,
            ty,
            index,
            generation: slot.generation,
            own: true,
        })
    }

    /// The representation of the own handle `any`, if it is still held.
    fn get(&self, any: ResourceAny) -> Result<u32> {
        match self.slots.get(any.index as usize) {
            Some(HostSlot {
                entry: Some((ty, rep)),
                generation,
            }) if *generation == any.generation && *ty == any.ty => Ok(*rep),
            _ => Err(Error::trap_with_detail(
                Trap::UnknownHandle,
                "the resource was already dropped or given away",
            )),
        }
    }

    /// Removes the own handle `any`, returning its representation.
    pub(crate) fn take(&mut self, any: ResourceAny) -> Result<u32> {
        let rep = self.get(any)?;
        let slot = &mut self.slots[any.index as usize];
        slot.entry = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(any.index);
        Ok(rep)
    }
}

/// The borrows of one call into a lifted function and the own handles lent for one import call
/// (one per entry on the store's scope stack).
#[derive(Debug, Default)]
pub(crate) struct CallScope {
    /// Borrow handles lowered into the callee and not dropped yet.
    borrows: u32,
    /// Own handles lent for the call: `(instance, runtime instance, handle)`.
    lends: Vec<(u32, RuntimeComponentInstanceIndex, u32)>,
}

/// Pushes a new call scope.
pub(crate) fn push_scope(components: &mut ComponentStore) {
    components.scopes.push(CallScope::default());
}

/// Pops the innermost call scope, releasing its lends; `BorrowsRemain` if `check_borrows` and the
/// callee kept borrow handles.
pub(crate) fn pop_scope(components: &mut ComponentStore, check_borrows: bool) -> Result<()> {
    let Some(scope) = components.scopes.pop() else {
        return Err(Error::bug("call scopes out of order"));
    };
    for (instance, runtime, handle) in scope.lends {
        let table = &mut components.instances[instance as usize].tables[runtime.index()];
        if let Some(Slot::Own { lends, .. }) = table.slots.get_mut(handle as usize) {
            *lends -= 1;
        }
    }
    if check_borrows && scope.borrows != 0 {
        return Err(Error::trap_with_detail(
            Trap::BorrowsRemain,
            format!("{} borrow handles not dropped", scope.borrows),
        ));
    }
    Ok(())
}

/// The handle tables and the host table, seen from one side of a lift or lower: the guest
/// (runtime component instance `runtime` of `instance`) whose handles are read or written.
pub(crate) struct HandleCx<'a> {
    /// The store's component state.
    pub(crate) components: &'a mut ComponentStore,
    /// [`Instance::index`](super::Instance).
    pub(crate) instance: u32,
    /// The runtime component instance.
    pub(crate) runtime: RuntimeComponentInstanceIndex,
}

impl HandleCx<'_> {
    /// The run-time type of resource `index` of the instance's component.
    fn rt(&self, index: ResourceIndex) -> Result<ResourceType> {
        self.components.instances[self.instance as usize]
            .resource_types
            .get(index.index())
            .copied()
            .ok_or_else(|| Error::bug("resource type out of range"))
    }

    fn table(&mut self) -> &mut HandleTable {
        &mut self.components.instances[self.instance as usize].tables[self.runtime.index()]
    }

    /// Spec `lift_own`: takes the own handle `handle` out of the guest's table and gives it to
    /// the host.
    pub(crate) fn lift_own(&mut self, ty: ResourceIndex, handle: u32) -> Result<ResourceAny> {
        let rt = self.rt(ty)?;
        let rep = self.table().remove_own(handle, rt)?;
        let store = self.components.id;
        self.components.host.push(store, rt, rep)
    }

    /// Spec `lift_own` of a host resource type `expected`: the representation, the handle
    /// removed from the guest's table.
    pub(crate) fn lift_own_rep(
        &mut self,
        ty: ResourceIndex,
        expected: ResourceType,
        handle: u32,
    ) -> Result<u32> {
        let rt = self.check_type(ty, expected, "own")?;
        self.table().remove_own(handle, rt)
    }

    /// Spec `lift_borrow`: the representation behind `handle`; an own handle is lent for the
    /// current import call.
    pub(crate) fn lift_borrow(&mut self, ty: ResourceIndex, handle: u32) -> Result<ResourceAny> {
        let rt = self.rt(ty)?;
        let rep = self.borrow_rep(rt, handle)?;
        Ok(ResourceAny {
            store: self.components.id,
            ty: rt,
            index: rep,
            generation: 0,
            own: false,
        })
    }

    /// Spec `lift_borrow` of a host resource type `expected`: the representation.
    pub(crate) fn lift_borrow_rep(
        &mut self,
        ty: ResourceIndex,
        expected: ResourceType,
        handle: u32,
    ) -> Result<u32> {
        let rt = self.check_type(ty, expected, "borrow")?;
        self.borrow_rep(rt, handle)
    }

    /// The representation behind `handle` of type `rt`, lending an own handle for the current
    /// import call.
    fn borrow_rep(&mut self, rt: ResourceType, handle: u32) -> Result<u32> {
        let (instance, runtime) = (self.instance, self.runtime);
        let table = self.table();
        let rep = table.rep(handle, rt)?;
        if let Slot::Own { lends, .. } = &mut table.slots[handle as usize] {
            *lends += 1;
            match self.components.scopes.last_mut() {
                Some(scope) => scope.lends.push((instance, runtime, handle)),
                None => return Err(Error::bug("a borrow lifted outside a call")),
            }
        }
        Ok(rep)
    }

    /// Spec `lower_own`: moves the host's own handle `any` into the guest's table.
    pub(crate) fn lower_own(&mut self, ty: ResourceIndex, any: &ResourceAny) -> Result<u32> {
        let rt = self.check_type(ty, any.ty, "own")?;
        if !any.own {
            return Err(borrow_as_own());
        }
        let rep = self.components.host.take(*any)?;
        self.table().new_own(rt, rep)
    }

    /// Spec `lower_own` of the host resource `rep` of type `rt`.
    pub(crate) fn lower_own_rep(
        &mut self,
        ty: ResourceIndex,
        rt: ResourceType,
        rep: u32,
    ) -> Result<u32> {
        let rt = self.check_type(ty, rt, "own")?;
        self.table().new_own(rt, rep)
    }

    /// Spec `lower_borrow`: the representation when the guest defines the type, else a borrow
    /// handle counted in the callee's scope.
    pub(crate) fn lower_borrow(&mut self, ty: ResourceIndex, any: &ResourceAny) -> Result<u32> {
        let rt = self.check_type(ty, any.ty, "borrow")?;
        let rep = if any.own {
            self.components.host.get(*any)?
        } else {
            any.index
        };
        self.lower_borrow_rep(rt, rep)
    }

    /// Spec `lower_borrow` of `rep`, whose type `rt` was checked.
    pub(crate) fn lower_borrow_rep(&mut self, rt: ResourceType, rep: u32) -> Result<u32> {
        let defined_here = match rt.kind {
            ResourceKind::Guest {
                instance, index, ..
            } => {
                let data = &self.components.instances[instance as usize];
                instance == self.instance
                    && matches!(
                        &data.component.info().resources[index.index()],
                        ResourceDef::Defined { instance, .. } if *instance == self.runtime
                    )
            }
            ResourceKind::Host { .. } => false,
        };
        if defined_here {
            return Ok(rep);
        }
        let Some(depth) = self.components.scopes.len().checked_sub(1) else {
            return Err(Error::bug("a borrow lowered outside a call"));
        };
        let slot = Slot::Borrow {
            rt,
            rep,
            scope: depth as u32,
        };
        let handle = self.table().insert(slot)?;
        self.components.scopes[depth].borrows += 1;
        Ok(handle)
    }

    /// The run-time type of `ty`, after checking it is `actual`, the type of the handle the
    /// host gives or expects.
    pub(crate) fn check_type(
        &self,
        ty: ResourceIndex,
        actual: ResourceType,
        what: &str,
    ) -> Result<ResourceType> {
        let rt = self.rt(ty)?;
        if actual != rt {
            let name = self.components.instances[self.instance as usize]
                .component
                .resource_name(ty);
            let found = match actual.host_name() {
                Some(host) => format!("the host resource type `{host}`"),
                None => "a resource of another type".to_string(),
            };
            return Err(Error::msg(format!(
                "expected `{what}<{name}>`, found {found}"
            )));
        }
        Ok(rt)
    }
}

/// The error for a borrowed handle passed where an own handle is expected.
pub(crate) fn borrow_as_own() -> Error {
    Error::msg("a borrowed resource cannot be passed as an `own` handle")
}

/// One slot of a [`HandleTable`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// Unused; the next free slot (0: none).
    Free(u32),
    /// An owned handle.
    Own {
        /// Its resource type.
        rt: ResourceType,
        /// The representation.
        rep: u32,
        /// How many import calls in progress borrow it.
        lends: u32,
    },
    /// A borrow handle, valid until the call of scope `scope` returns.
    Borrow {
        /// Its resource type.
        rt: ResourceType,
        /// The representation.
        rep: u32,
        /// Depth of the [`CallScope`] it counts in.
        scope: u32,
    },
}

/// The handles of one runtime component instance.
#[derive(Debug)]
pub(crate) struct HandleTable {
    /// Slot 0 is reserved and never handed out.
    slots: Vec<Slot>,
    /// The first free slot (0: none).
    free: u32,
}

impl Default for HandleTable {
    fn default() -> Self {
        Self {
            slots: vec![Slot::Free(0)],
            free: 0,
        }
    }
}

impl HandleTable {
    /// Adds an own handle for `rep` of type `rt`; `HandleTableFull` when no slot is left.
    pub(crate) fn new_own(&mut self, rt: ResourceType, rep: u32) -> Result<u32> {
        self.insert(Slot::Own { rt, rep, lends: 0 })
    }

    /// Adds `slot`, returning its handle.
    fn insert(&mut self, slot: Slot) -> Result<u32> {
        if self.free != 0 {
            let index = self.free;
            let Slot::Free(next) = self.slots[index as usize] else {
                return Err(Error::bug("the handle free list names a used slot"));
            };
            self.free = next;
            self.slots[index as usize] = slot;
            return Ok(index);
        }
        if self.slots.len() >= MAX_LENGTH {
            return Err(Error::trap_with_detail(
                Trap::HandleTableFull,
                format!("{MAX_LENGTH} handles"),
            ));
        }
        self.slots.push(slot);
        Ok((self.slots.len() - 1) as u32)
    }

    /// The used slot `handle`, checked against `rt`: `UnknownHandle` when it is free or out of
    /// range, `HandleTypeMismatch` when it holds another type.
    fn get(&self, handle: u32, rt: ResourceType) -> Result<Slot> {
        let slot = match self.slots.get(handle as usize) {
            Some(slot) if handle != 0 && !matches!(slot, Slot::Free(_)) => *slot,
            _ => {
                return Err(Error::trap_with_detail(
                    Trap::UnknownHandle,
                    format!("handle {handle}"),
                ));
            }
        };
        let (Slot::Own { rt: actual, .. } | Slot::Borrow { rt: actual, .. }) = slot else {
            return Err(Error::bug("a used handle slot is free"));
        };
        if actual != rt {
            return Err(Error::trap_with_detail(
                Trap::HandleTypeMismatch,
                format!("handle {handle}"),
            ));
        }
        Ok(slot)
    }

    /// The representation behind `handle` (own or borrow) of type `rt`.
    pub(crate) fn rep(&self, handle: u32, rt: ResourceType) -> Result<u32> {
        match self.get(handle, rt)? {
            Slot::Own { rep, .. } | Slot::Borrow { rep, .. } => Ok(rep),
            Slot::Free(_) => Err(Error::bug("a used handle slot is free")),
        }
    }

    /// Removes `handle` of type `rt` (spec `remove`), returning the slot.
    fn remove(&mut self, handle: u32, rt: ResourceType) -> Result<Slot> {
        let slot = self.get(handle, rt)?;
        self.slots[handle as usize] = Slot::Free(self.free);
        self.free = handle;
        Ok(slot)
    }

    /// Removes the own handle `handle` of type `rt` to give it away, returning its
    /// representation: `HandleTypeMismatch` for a borrow, `ResourceBorrowed` while lent.
    pub(crate) fn remove_own(&mut self, handle: u32, rt: ResourceType) -> Result<u32> {
        match self.get(handle, rt)? {
            Slot::Own { lends, .. } if lends != 0 => Err(Error::trap_with_detail(
                Trap::ResourceBorrowed,
                format!("handle {handle} is lent to {lends} calls"),
            )),
            Slot::Own { rep, .. } => {
                self.remove(handle, rt)?;
                Ok(rep)
            }
            _ => Err(Error::trap_with_detail(
                Trap::HandleTypeMismatch,
                format!("handle {handle} is a borrow, not an own handle"),
            )),
        }
    }
}

/// The body of the core host function made for intrinsic `intrinsic` of component instance
/// `instance`, called with the array-call `values`.
pub(crate) fn call_intrinsic<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    intrinsic: IntrinsicIndex,
    values: &mut [ValRaw],
) -> Result<()> {
    let component = store.opaque.components.instances[instance as usize]
        .component
        .clone();
    let def = &component.info().intrinsics[intrinsic.index()];
    let data = &mut store.opaque.components.instances[instance as usize];
    let rt = data.resource_types[def.resource.index()];
    let arg = values
        .first()
        .ok_or_else(|| Error::bug("resource builtin called without an argument slot"))?
        .get_u32();
    let data = &mut store.opaque.components.instances[instance as usize];
    let table = &mut data.tables[def.instance.index()];
    match def.kind {
        IntrinsicKind::ResourceNew => {
            values[0] = ValRaw::from_u32(table.new_own(rt, arg)?);
            Ok(())
        }
        IntrinsicKind::ResourceRep => {
            values[0] = ValRaw::from_u32(table.rep(arg, rt)?);
            Ok(())
        }
        IntrinsicKind::ResourceDrop => {
            if !data.states[def.instance.index()].may_leave {
                return Err(Error::trap_with_detail(
                    Trap::CannotLeaveComponent,
                    format!(
                        "instance `{}` dropped a resource while its realloc or post-return ran",
                        data.runtime_name(def.instance)
                    ),
                ));
            }
            match table.get(arg, rt)? {
                Slot::Own { lends, .. } if lends != 0 => Err(Error::trap_with_detail(
                    Trap::ResourceBorrowed,
                    format!("handle {arg} is lent to {lends} calls"),
                )),
                Slot::Own { rep, .. } => {
                    table.remove(arg, rt)?;
                    run_destructor(store, instance, Some(def.instance), def.resource, rep)
                }
                Slot::Borrow { scope, .. } => {
                    table.remove(arg, rt)?;
                    let scopes = &mut store.opaque.components.scopes;
                    if let Some(scope) = scopes.get_mut(scope as usize) {
                        scope.borrows -= 1;
                    }
                    Ok(())
                }
                Slot::Free(_) => Err(Error::bug("a used handle slot is free")),
            }
        }
    }
}

/// Runs the destructor of resource `resource` of component instance `instance` for `rep`,
/// dropped by runtime instance `caller` (`None`: the host). A destructor of another runtime
/// instance enters it.
fn run_destructor<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    caller: Option<RuntimeComponentInstanceIndex>,
    resource: ResourceIndex,
    rep: u32,
) -> Result<()> {
    let component = store.opaque.components.instances[instance as usize]
        .component
        .clone();
    match &component.info().resources[resource.index()] {
        ResourceDef::Defined {
            instance: owner,
            dtor,
            ..
        } => {
            let Some(dtor) = dtor else { return Ok(()) };
            let dtor = resolve_func(store, instance, dtor)?;
            let mut raw = [ValRaw::from_u32(rep)];
            if Some(*owner) == caller {
                return dtor.call_raw(store, &mut raw);
            }
            let frame = CallFrame {
                instance,
                runtime: *owner,
            };
            func::call_in_frame(store, frame, |store| dtor.call_raw(store, &mut raw))
        }
        ResourceDef::Imported(leaf) => {
            super::host::run_import_destructor(store, instance, *leaf, rep)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(index: u32) -> ResourceType {
        static STORE: std::sync::OnceLock<StoreId> = std::sync::OnceLock::new();
        let store = *STORE.get_or_init(|| {
            let store = crate::Store::new(());
            crate::AsContext::as_context(&store).0.opaque.id
        });
        ResourceType::guest(store, 0, ResourceIndex(index))
    }

    #[test]
    fn handles_start_at_one_and_reuse_freed_slots() {
        let mut table = HandleTable::default();
        assert_eq!(table.new_own(rt(0), 10).unwrap(), 1);
        assert_eq!(table.new_own(rt(0), 20).unwrap(), 2);
        assert_eq!(table.rep(2, rt(0)).unwrap(), 20);
        assert_eq!(table.remove_own(1, rt(0)).unwrap(), 10);
        assert_eq!(table.new_own(rt(1), 30).unwrap(), 1);
        assert_eq!(table.rep(1, rt(1)).unwrap(), 30);
    }

    #[test]
    fn bad_handles_trap() {
        let mut table = HandleTable::default();
        let h = table.new_own(rt(0), 10).unwrap();
        let trap = |r: Result<u32>| r.unwrap_err().trap().unwrap();
        assert_eq!(trap(table.rep(0, rt(0))), Trap::UnknownHandle);
        assert_eq!(trap(table.rep(7, rt(0))), Trap::UnknownHandle);
        assert_eq!(trap(table.rep(h, rt(1))), Trap::HandleTypeMismatch);
        table.remove_own(h, rt(0)).unwrap();
        assert_eq!(trap(table.rep(h, rt(0))), Trap::UnknownHandle);
        assert_eq!(trap(table.remove_own(h, rt(0))), Trap::UnknownHandle);
    }
}
