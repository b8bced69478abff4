//! Host-defined resources (docs/components.md §4.7): [`Resource<T>`], the typed handle of a
//! resource the host implements, and the linker's definition of an imported resource type
//! ([`LinkerInstance::resource`](super::LinkerInstance::resource)).
//!
//! A host resource is represented by a `u32` the host chooses (usually the index of the value in
//! a [`ResourceTable`](super::ResourceTable)). Guests hold it through the same handle tables as
//! guest resources, typed by [`ResourceType::host::<T>()`](ResourceType::host): lowering an own
//! `Resource<T>` puts a new own handle into the guest's table, lifting one takes it out, and
//! borrows follow the call scopes like any borrow. When a guest drops its own handle, the
//! destructor given to the linker runs with the representation.
//!
//! The Rust type is checked when a handle crosses: a `Resource<T>` lifted from or lowered to a
//! handle of another resource type is an error naming both types.

use super::context::{LiftContext, LowerContext};
use super::lift::{FlatSource, read_u32};
use super::lower::FlatSink;
use super::resources::{ResourceAny, ResourceType, borrow_as_own};
use super::typed::{ComponentType, Lift, Lower, TypeMismatch};
use crate::artifact::component::{
    CanonicalAbiInfo, ComponentTypes, InterfaceType, RuntimeImportIndex,
};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::{AsContextMut, StoreContextMut, StoreInner};
use core::any::{Any, TypeId};
use core::fmt;
use core::marker::PhantomData;

/// A handle to a resource the host implements, of Rust type `T`: an own handle (the guest gave
/// it away, or the host creates one to give) or a borrow (valid during one host function call).
///
/// It carries only the representation the host chose, usually the index of the value in a
/// [`ResourceTable`](super::ResourceTable), which creates and resolves these handles.
///
/// ```
/// use aot_runtime::component::{Resource, ResourceTable};
///
/// struct Counter(u32);
/// let mut table = ResourceTable::new();
/// let handle: Resource<Counter> = table.push(Counter(1))?;
/// table.get_mut(&handle)?.0 += 1;
/// assert_eq!(table.get(&handle)?.0, 2);
/// assert_eq!(table.delete(handle)?.0, 2);
/// # Ok::<(), aot_runtime::component::ResourceTableError>(())
/// ```
pub struct Resource<T> {
    rep: u32,
    own: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T: 'static> Resource<T> {
    /// An own handle of representation `rep`.
    pub fn new_own(rep: u32) -> Self {
        Self {
            rep,
            own: true,
            _marker: PhantomData,
        }
    }

    /// A borrowed handle of representation `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        Self {
            rep,
            own: false,
            _marker: PhantomData,
        }
    }

    /// The representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether this is an own handle (else a borrow).
    pub fn owned(&self) -> bool {
        self.own
    }

    /// This handle as a [`ResourceAny`] (for [`Val::Resource`](super::Val::Resource)); an own
    /// handle moves into the store's host table.
    ///
    /// # Errors
    /// If the store's host table is full.
    pub fn try_into_resource_any(self, mut store: impl AsContextMut) -> Result<ResourceAny> {
        let components = &mut store.as_context_mut().0.opaque.components;
        let ty = ResourceType::host::<T>();
        if self.own {
            let id = components.id;
            components.host.push(id, ty, self.rep)
        } else {
            Ok(ResourceAny {
                store: components.id,
                ty,
                index: self.rep,
                generation: 0,
                own: false,
            })
        }
    }

    /// The handle `any` holds, if its type is [`ResourceType::host::<T>()`](ResourceType::host);
    /// an own handle leaves the store's host table.
    ///
    /// # Errors
    /// If `any` has another type or was already given away or dropped.
    ///
    /// # Panics
    /// If `store` is not the store `any` belongs to.
    pub fn try_from_resource_any(any: ResourceAny, mut store: impl AsContextMut) -> Result<Self> {
        let store = store.as_context_mut().0;
        store.opaque.check(any.store);
        let expected = ResourceType::host::<T>();
        if any.ty != expected {
            return Err(Error::msg(format!(
                "expected a handle of the host resource type `{}`, found another resource type",
                core::any::type_name::<T>()
            )));
        }
        if any.own {
            Ok(Self::new_own(store.opaque.components.host.take(any)?))
        } else {
            Ok(Self::new_borrow(any.index))
        }
    }
}

impl<T> fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.own { "own" } else { "borrow" };
        write!(
            f,
            "Resource<{}>({kind} {})",
            core::any::type_name::<T>(),
            self.rep
        )
    }
}

impl<T: 'static> ComponentType for Resource<T> {
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::SCALAR4;

    /// Matches `own<R>` and `borrow<R>` where `R` is bound to
    /// [`ResourceType::host::<T>()`](ResourceType::host): checked when a linker checks a
    /// `func_wrap` definition and when a typed function is obtained from an instance (both
    /// know the bindings); elsewhere any `own` or `borrow` matches here and the type is checked
    /// when a handle crosses.
    fn typecheck(ty: &InterfaceType, types: &ComponentTypes) -> Result<(), TypeMismatch> {
        match ty {
            InterfaceType::Own(r) | InterfaceType::Borrow(r) => {
                match KNOWN.with(|known| known.borrow().as_ref().map(|k| k.get(r.index()).copied()))
                {
                    Some(Some(Some(rt))) if rt == ResourceType::host::<T>() => Ok(()),
                    None => Ok(()),
                    _ => Err(TypeMismatch::rust::<Self>(ty, types)),
                }
            }
            _ => Err(TypeMismatch::rust::<Self>(ty, types)),
        }
    }
}

impl<T: 'static> Lower for Resource<T> {
    fn lower_flat(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        dst: &mut FlatSink<'_>,
    ) -> Result<()> {
        dst.push_u32(self.lower_handle(cx, ty)?)
    }

    fn lower_to_memory(
        &self,
        cx: &mut LowerContext<'_>,
        ty: InterfaceType,
        offset: usize,
    ) -> Result<()> {
        let handle = self.lower_handle(cx, ty)?;
        cx.write(offset, &handle.to_le_bytes())
    }
}

impl<T: 'static> Resource<T> {
    /// Spec `lower_own` / `lower_borrow` of this host handle as `ty`.
    fn lower_handle(&self, cx: &mut LowerContext<'_>, ty: InterfaceType) -> Result<u32> {
        let mut handles = cx
            .mem
            .handles()
            .ok_or_else(|| Error::msg("resources can only be lowered in a call over a store"))?;
        let rt = ResourceType::host::<T>();
        match ty {
            InterfaceType::Own(r) if self.own => handles.lower_own_rep(r, rt, self.rep),
            InterfaceType::Own(_) => Err(borrow_as_own()),
            InterfaceType::Borrow(r) => {
                let rt = handles.check_type(r, rt, "borrow")?;
                handles.lower_borrow_rep(rt, self.rep)
            }
            _ => Err(Error::bug("a handle lowered as another type")),
        }
    }
}

impl<T: 'static> Lift for Resource<T> {
    fn lift_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &mut FlatSource<'_>,
    ) -> Result<Self> {
        lift_host(cx, ty, src.next_u32()?)
    }

    fn lift_from_memory(cx: &mut LiftContext<'_>, ty: InterfaceType, bytes: &[u8]) -> Result<Self> {
        lift_host(cx, ty, read_u32(bytes, 0)?)
    }
}

/// Spec `lift_own` / `lift_borrow` of `handle` as a `Resource<T>`.
fn lift_host<T: 'static>(
    cx: &mut LiftContext<'_>,
    ty: InterfaceType,
    handle: u32,
) -> Result<Resource<T>> {
    let expected = ResourceType::host::<T>();
    match ty {
        InterfaceType::Own(r) => Ok(Resource::new_own(
            cx.handles()?.lift_own_rep(r, expected, handle)?,
        )),
        InterfaceType::Borrow(r) => Ok(Resource::new_borrow(
            cx.handles()?.lift_borrow_rep(r, expected, handle)?,
        )),
        _ => Err(Error::bug("a handle lifted as another type")),
    }
}

std::thread_local! {
    /// The resource bindings [`Resource::typecheck`](ComponentType::typecheck) checks against
    /// while [`with_known_resources`] runs: by `ResourceIndex`, the host type bound to it, or
    /// `None` for a type a guest defines.
    static KNOWN: core::cell::RefCell<Option<Vec<Option<ResourceType>>>> =
        const { core::cell::RefCell::new(None) };
}

/// Runs `f` (type checks) knowing what each resource of the component is bound to: `Some` host
/// type, or `None` for a guest-defined type. Type checks are plain functions of the component's
/// types; this is how handles of host types are checked against bindings that belong to a
/// linker or an instance.
pub(crate) fn with_known_resources<R>(
    known: Vec<Option<ResourceType>>,
    f: impl FnOnce() -> R,
) -> R {
    struct Reset(Option<Vec<Option<ResourceType>>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            KNOWN.with(|known| *known.borrow_mut() = previous);
        }
    }
    let _reset = Reset(KNOWN.with(|k| k.borrow_mut().replace(known)));
    f()
}

/// The host type resource `r` is bound to while [`with_known_resources`] runs.
pub(crate) fn known_resource(r: crate::artifact::component::ResourceIndex) -> Option<ResourceType> {
    KNOWN.with(|known| known.borrow().as_ref()?.get(r.index()).copied().flatten())
}

/// The destructor of a host resource type: called with the representation when the last own
/// handle is dropped.
type HostDtor<T> = dyn Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync;

/// The definition of an imported resource type in a [`Linker`](super::Linker): the host type
/// it is bound to and its destructor.
pub(crate) struct HostResourceDef<T> {
    /// A [`ResourceType::host`] type.
    pub(crate) ty: ResourceType,
    dtor: Box<HostDtor<T>>,
}

impl<T: 'static> HostResourceDef<T> {
    /// Binds an import to the host type `ty`, whose own handles are destroyed by `dtor`.
    pub(crate) fn new(
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Self> {
        if !ty.is_host() {
            return Err(Error::msg(
                "a linker can only define host resource types (`ResourceType::host::<T>()`), \
                 not a type a component instance defined",
            ));
        }
        Ok(Self {
            ty,
            dtor: Box::new(dtor),
        })
    }
}

/// The host definition of runtime import `leaf` of an instantiation, as a resource type; it is
/// also registered as the store's destructor of that host type.
pub(crate) fn import_resource_type<T: 'static>(
    components: &mut super::ComponentStore,
    imports: &[Arc<dyn Any + Send + Sync>],
    leaf: RuntimeImportIndex,
) -> Result<ResourceType> {
    let def = imports
        .get(leaf.index())
        .ok_or_else(|| Error::bug("an imported resource without a definition"))?;
    let ty = def
        .downcast_ref::<HostResourceDef<T>>()
        .ok_or_else(|| Error::bug("an imported resource defined as another item"))?
        .ty;
    if let super::resources::ResourceKind::Host { id, .. } = ty.kind {
        components.host_dtors.insert(id, def.clone());
    }
    Ok(ty)
}

/// Runs the host destructor bound to import `leaf` of component instance `instance` for `rep`.
pub(crate) fn run_import_destructor<T: 'static>(
    store: &mut StoreInner<T>,
    instance: u32,
    leaf: RuntimeImportIndex,
    rep: u32,
) -> Result<()> {
    let def = store.opaque.components.instances[instance as usize].imports[leaf.index()].clone();
    call_dtor(store, &def, rep)
}

/// Runs the destructor the store's instantiations bound to the host type `id`, for a
/// [`ResourceAny`] the host drops.
pub(crate) fn run_host_destructor<T: 'static>(
    store: &mut StoreInner<T>,
    id: TypeId,
    rep: u32,
) -> Result<()> {
    let def = store
        .opaque
        .components
        .host_dtors
        .get(&id)
        .cloned()
        .ok_or_else(|| Error::bug("a host resource of a type no instantiation bound"))?;
    call_dtor(store, &def, rep)
}

fn call_dtor<T: 'static>(
    store: &mut StoreInner<T>,
    def: &Arc<dyn Any + Send + Sync>,
    rep: u32,
) -> Result<()> {
    let def = def
        .downcast_ref::<HostResourceDef<T>>()
        .ok_or_else(|| Error::bug("a host destructor of another store data type"))?;
    (def.dtor)(StoreContextMut(store), rep)
}
