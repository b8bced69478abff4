//! Host function contexts and the shim through which compiled code calls a host function.
//!
//! ```text
//! VMHostFuncContext<T> (boxed, stable address; what `vmctx` of the function's VMFuncRef is)
//! +0   magic: u32 = VMHOSTFUNC_MAGIC, padding
//! +8   array_call: host_array_call::<T>     (VMHOSTFUNC_ARRAY_CALL; wasm-to-host trampolines load it)
//! +16  func_ref: VMFuncRef                   (the function's funcref value points here)
//!      host: Arc<HostFunc<T>>                (runtime-private)
//! ```
//!
//! A wasm-to-host trampoline calls `array_call(host ctx, caller vmctx, values, len)`. The shim
//! finds the store through the caller's VM context (`vmctx->store->store`), runs the closure
//! under `catch_unwind`, and on an error or panic leaves it in the store and returns `false`, so
//! the trampoline traps with `HostError` and `call_wasm` reports (or resumes) it.

use crate::artifact::vmoffsets::{VMCONTEXT_MAGIC, VMHOSTFUNC_MAGIC};
use crate::func::{Caller, HostFunc};
use crate::prelude::*;
use crate::store::{Pending, StoreInner};
use crate::types::FuncType;
use crate::values::ValRaw;
use crate::vm::vmcontext::{VMFuncRef, VMStoreContext};
use core::any::Any;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Offset of `array_call` in the context (checked against `VMHOSTFUNC_ARRAY_CALL`).
#[cfg(test)]
pub(crate) const ARRAY_CALL_OFFSET: usize =
    core::mem::offset_of!(VMHostFuncContext<()>, array_call);

#[repr(C)]
struct VMHostFuncContext<T> {
    magic: u32,
    array_call: usize,
    func_ref: VMFuncRef,
    host: Arc<HostFunc<T>>,
}

/// A store's handle on one host function context (type-erased over `T`).
pub(crate) struct HostFuncContextBox {
    ptr: NonNull<u8>,
    func_ref: NonNull<VMFuncRef>,
    ty: FuncType,
    type_id: u32,
    /// The `Arc<HostFunc<T>>`, for direct calls from the host (downcast by `T`).
    host: Box<dyn Any + Send + Sync>,
    drop_ctx: unsafe fn(NonNull<u8>),
}

// SAFETY: the context is owned by this value; its closure is `Send + Sync`, and the raw pointers
// designate the context itself (see `vm`'s invariant on VM records).
unsafe impl Send for HostFuncContextBox {}

/// Frees a context made by `HostFuncContextBox::new::<T>`.
///
/// # Safety
/// `ptr` must come from `Box::into_raw` of a `VMHostFuncContext<T>` and not be used afterwards.
unsafe fn drop_ctx<T>(ptr: NonNull<u8>) {
    // SAFETY: guaranteed by the caller.
    drop(unsafe { Box::from_raw(ptr.cast::<VMHostFuncContext<T>>().as_ptr()) });
}

impl HostFuncContextBox {
    /// A context for `host`; its `wasm_call` stays 0 until a module's trampoline is known.
    pub(crate) fn new<T: 'static>(host: Arc<HostFunc<T>>) -> Self {
        let shim = host_array_call::<T> as *const () as usize;
        let ty = host.ty.clone();
        let type_id = host.type_id;
        let raw = Box::into_raw(Box::new(VMHostFuncContext {
            magic: VMHOSTFUNC_MAGIC,
            array_call: shim,
            func_ref: VMFuncRef {
                wasm_call: 0,
                array_call: shim,
                vmctx: 0,
                type_id,
            },
            host: host.clone(),
        }));
        // SAFETY: `raw` is a live, exclusively owned allocation; fields are written through the
        // raw pointer so no reference outlives this block.
        let func_ref = unsafe {
            (*raw).func_ref.vmctx = raw as usize;
            NonNull::new_unchecked(&raw mut (*raw).func_ref)
        };
        // SAFETY: `Box::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(raw.cast::<u8>()) };
        Self {
            ptr,
            func_ref,
            ty,
            type_id,
            host: Box::new(host),
            drop_ctx: drop_ctx::<T>,
        }
    }

    /// The address of the context's `VMFuncRef` (the function's funcref value).
    pub(crate) fn func_ref_addr(&self) -> usize {
        self.func_ref.as_ptr() as usize
    }

    /// A copy of the context's `VMFuncRef`.
    pub(crate) fn func_ref(&self) -> VMFuncRef {
        // SAFETY: the context is live while `self` is; no reference into it exists.
        unsafe { self.func_ref.as_ptr().read() }
    }

    /// Sets the `wasm_call` entry (a wasm-to-host trampoline of the function's type).
    pub(crate) fn set_wasm_call(&mut self, addr: usize) {
        // SAFETY: as in `func_ref`; `&mut self` excludes concurrent use by this store.
        unsafe { (*self.func_ref.as_ptr()).wasm_call = addr };
    }

    pub(crate) fn ty(&self) -> &FuncType {
        &self.ty
    }

    pub(crate) fn type_id(&self) -> u32 {
        self.type_id
    }

    /// The host function, if the store's data type is `T`.
    pub(crate) fn host<T: 'static>(&self) -> Option<Arc<HostFunc<T>>> {
        self.host.downcast_ref::<Arc<HostFunc<T>>>().cloned()
    }
}

impl Drop for HostFuncContextBox {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `drop_ctx` were made together in `new`; this is the only release.
        unsafe { (self.drop_ctx)(self.ptr) }
    }
}

/// The array-call entry of every host function of a `Store<T>`.
///
/// # Safety
/// Called only by compiled code (a wasm-to-host trampoline or an indirect call through a
/// funcref), with `callee` the `VMHostFuncContext<T>` that holds this shim, `caller` the VM
/// context of a wasm instance of the same store, and `values` valid for `len` slots.
unsafe extern "C" fn host_array_call<T: 'static>(
    callee: *mut u8,
    caller: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    let ctx = callee.cast::<VMHostFuncContext<T>>();
    // SAFETY: the shim is only installed in `VMHostFuncContext<T>`s (see `new`), and the caller
    // passes the context whose `array_call` it loaded. Only the `host` field is borrowed: it is
    // never written after `new`, while `func_ref` may be (by `set_wasm_call`) during the call.
    let host: &Arc<HostFunc<T>> = unsafe {
        debug_assert_eq!((*ctx).magic, VMHOSTFUNC_MAGIC);
        &(*ctx).host
    };
    // SAFETY: `caller` is a live VM context (compiled code passes its own); offsets 0, 8 and 32
    // are its magic, store and instance fields (`VMOffsets`), written at instantiation.
    let (store_cx, instance) = unsafe {
        debug_assert_eq!(*caller.cast::<u32>(), VMCONTEXT_MAGIC);
        (
            *caller.add(8).cast::<*const VMStoreContext>(),
            *caller.add(32).cast::<usize>(),
        )
    };
    // SAFETY: the store context is owned by the store, live while its wasm runs; `store` was set
    // by `call_wasm` from the `&mut StoreInner<T>` it was given (a host function of a
    // `Store<T>` is only reachable from that store's instances), and that borrow is not used
    // until wasm returns.
    let store_ptr = unsafe { (*store_cx).store.get() } as *mut StoreInner<T>;
    let values: &mut [ValRaw] = if len == 0 {
        &mut []
    } else {
        // SAFETY: the trampoline passes `len` initialized slots it owns for the call's duration.
        unsafe { core::slice::from_raw_parts_mut(values, len) }
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: see `store_ptr`; this is the only live reference to the store now.
        let store = unsafe { &mut *store_ptr };
        (host.call)(
            Caller {
                store,
                instance: Some(instance as u32),
            },
            values,
        )
    }));
    // SAFETY: the reference made inside the closure is gone.
    let store = unsafe { &mut *store_ptr };
    match result {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            store.opaque.pending = Some(Pending::Error(e));
            false
        }
        Err(payload) => {
            store.opaque.pending = Some(Pending::Panic(payload));
            false
        }
    }
}
