//! [`Store`]: owns everything wasm code can reach (instances and their VM contexts, memories,
//! tables, globals, host functions, externrefs) plus the host's data `T`, and the contexts
//! ([`StoreContext`], [`StoreContextMut`]) and traits ([`AsContext`], [`AsContextMut`]) through
//! which the API borrows it.
//!
//! Handles (`Func`, `Memory`, ...) are a [`StoreId`] plus an index into one of the store's lists.
//! Nothing is freed before the store is dropped, so an index stays valid for the store's whole
//! life; using a handle with another store panics.
//!
//! Layout invariant: `StoreInner<T>` is `#[repr(C)]` with the type-erased [`StoreOpaque`] first
//! and lives in a `Box`, so its address is stable and compiled code (through
//! `VMStoreContext`) and the builtins (which know no `T`) can both find it.

use crate::func::FuncData;
use crate::global::GlobalData;
use crate::instance::InstanceData;
use crate::memory::MemoryData;
use crate::module::Module;
use crate::prelude::*;
use crate::table::TableData;
use crate::vm::{CodeRegistry, VMStoreContext};
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::BTreeMap;

/// Default of [`Store::set_max_wasm_stack`]: 512 KiB.
pub const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

/// A unique id of a store in this process, carried by every handle.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn allocate() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A collection of wasm instances and host objects, plus host data `T` that host functions can
/// reach through [`crate::Caller`].
///
/// A store is the unit of isolation: everything created in it lives until it is dropped. It is
/// `Send` when `T` is.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

/// The store's contents; `opaque` must stay the first field (see the module docs).
#[repr(C)]
pub(crate) struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

/// What a panicking or failing host function left for the code that entered wasm.
pub(crate) enum Pending {
    /// An error to report instead of the trap.
    Error(crate::Error),
    /// A panic payload to resume once back in Rust.
    Panic(Box<dyn Any + Send + 'static>),
}

/// Everything in a store that does not depend on `T`. (`pub` only because the sealed value
/// traits mention it; it is not reachable from outside the crate.)
#[doc(hidden)]
pub struct StoreOpaque {
    pub(crate) id: StoreId,
    /// The part compiled code reads (stack limit, entry stack pointer); boxed for a stable
    /// address.
    pub(crate) vm_store: Box<VMStoreContext>,
    pub(crate) max_wasm_stack: usize,
    pub(crate) instances: Vec<InstanceData>,
    pub(crate) funcs: Vec<FuncData>,
    pub(crate) memories: Vec<MemoryData>,
    pub(crate) tables: Vec<TableData>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    /// Modules instantiated in this store, with their text ranges, for the signal handler.
    pub(crate) code: CodeRegistry,
    /// `*const VMFuncRef` address -> index in `funcs` (a wasm function's address is in its
    /// instance's VM context, so it also names the function; same map type as `vmctx_starts`,
    /// whose code it shares).
    pub(crate) funcref_to_func: BTreeMap<usize, u32>,
    /// VM context start address -> instance index, to map funcref addresses to instances.
    pub(crate) vmctx_starts: BTreeMap<usize, u32>,
    /// Host functions whose `VMFuncRef::wasm_call` is still null (no module of their type seen).
    pub(crate) funcs_without_wasm_call: Vec<u32>,
    /// Set by a host function or builtin that failed; taken by the code that entered wasm.
    pub(crate) pending: Option<Pending>,
    /// Component instances, their exported functions and the stack of entered instances.
    #[cfg(feature = "component-model")]
    pub(crate) components: crate::component::ComponentStore,
    /// Resource limiter and fuel reserve (see `limits.rs`).
    pub(crate) limits: crate::limits::LimitsState,
}

impl<T> Store<T> {
    /// A new store holding `data`.
    pub fn new(data: T) -> Self {
        // Allocated first, then filled: no unwinding can happen while the store's parts exist
        // outside their box, so programs carry no second copy of the whole store's drop glue.
        let uninit = Box::new_uninit();
        let opaque = StoreOpaque::new();
        let mut inner = Box::write(uninit, StoreInner { opaque, data });
        let ptr: *mut StoreInner<T> = &mut *inner;
        inner.opaque.vm_store.set_store_ptr(ptr);
        Store { inner }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Drops the store and returns its host data.
    pub fn into_data(self) -> T {
        let inner = *self.inner;
        drop(inner.opaque);
        inner.data
    }

    /// Sets how many bytes of native stack wasm may use below the point where the host first
    /// called into it (default 512 KiB). Deeper recursion traps with
    /// [`crate::Trap::StackOverflow`]. Host functions called from wasm use the same stack, so
    /// their usage counts against this limit once they call back into wasm.
    ///
    /// The limit must leave room on the thread's real stack (for the host code that called wasm
    /// and for host functions): running past the thread's own guard page is not a trap but a
    /// fatal stack overflow, as in any Rust program.
    pub fn set_max_wasm_stack(&mut self, bytes: usize) {
        self.inner.opaque.max_wasm_stack = bytes;
    }
}

impl<T: Default> Default for Store<T> {
    fn default() -> Self {
        Store::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("data", &self.inner.data)
            .finish_non_exhaustive()
    }
}

impl StoreOpaque {
    /// An empty store (its `VMStoreContext` does not point to it yet).
    fn new() -> Self {
        let id = StoreId::allocate();
        StoreOpaque {
            id,
            vm_store: Box::new(VMStoreContext::new()),
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            instances: Vec::new(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            externrefs: Vec::new(),
            code: CodeRegistry::default(),
            funcref_to_func: BTreeMap::new(),
            vmctx_starts: BTreeMap::new(),
            funcs_without_wasm_call: Vec::new(),
            pending: None,
            #[cfg(feature = "component-model")]
            components: crate::component::ComponentStore::new(id),
            limits: Default::default(),
        }
    }

    /// Panics unless `id` is this store's.
    #[track_caller]
    #[inline]
    pub(crate) fn check(&self, id: StoreId) {
        assert!(
            id == self.id,
            "object used with a store that did not create it"
        );
    }

    /// Registers `module`'s code so traps in it are recognized; idempotent.
    pub(crate) fn register_module(&mut self, module: &Module) {
        self.code.register(module);
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
}

/// Something that can lend out a shared borrow of a store: [`Store`], [`StoreContext`],
/// [`StoreContextMut`], [`crate::Caller`] and references to them.
pub trait AsContext {
    /// The host data type of the store.
    type Data: 'static;

    /// The borrow.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Something that can lend out an exclusive borrow of a store.
pub trait AsContextMut: AsContext {
    /// The borrow.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T: 'static> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}

impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(s: StoreContextMut<'a, T>) -> Self {
        StoreContext(s.0)
    }
}

impl<'a, T> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(s: &'a StoreContextMut<'_, T>) -> Self {
        StoreContext(s.0)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(s: &'a mut StoreContextMut<'_, T>) -> Self {
        StoreContext(s.0)
    }
}

impl<'a, T> From<&'a StoreContext<'_, T>> for StoreContext<'a, T> {
    fn from(s: &'a StoreContext<'_, T>) -> Self {
        StoreContext(s.0)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut s.inner)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut StoreContextMut<'_, T>) -> Self {
        StoreContextMut(s.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn thread_safety_of_the_api() {
        assert_send::<Store<u32>>();
        assert_send::<crate::Error>();
        assert_send_sync::<Module>();
        assert_send_sync::<crate::Func>();
        assert_send_sync::<crate::Linker<u32>>();
        #[cfg(feature = "component-model")]
        {
            assert_send_sync::<crate::component::Component>();
            assert_send_sync::<crate::component::Linker<u32>>();
            assert_send_sync::<crate::component::Func>();
            assert_send_sync::<crate::component::Instance>();
            assert_send_sync::<crate::component::TypedFunc<(u32,), (String,)>>();
        }
    }

    #[test]
    fn store_data_round_trip() {
        let mut store = Store::new(String::from("a"));
        store.data_mut().push('b');
        store.set_max_wasm_stack(1 << 20);
        assert_eq!(store.data(), "ab");
        assert_eq!(store.into_data(), "ab");
    }
}
