//! The builtins of [`crate::artifact::builtins`]: `extern "C"` functions compiled code calls
//! through `vmctx->builtins[index]`, in [`Builtin::ALL`] order.
//!
//! Each finds its store and instance through the calling VM context, then runs safe code with
//! the spec's semantics (bounds are checked before anything is written). A helper that detects a
//! trap returns 0 and the compiled code raises the trap. A panic inside a helper (a runtime bug)
//! is caught, recorded as a bug error for `call_wasm` to report, and reported to the compiled
//! code as a failure.
//!
//! `memory.grow` and `table.grow` also consult the store's resource limiter, which knows the
//! store's data type `T`: they reach it through the [`LimiterHook`] that `Store::limiter`
//! installed in the `VMStoreContext`.
//!
//! [`Builtin::ALL`]: crate::artifact::builtins::Builtin::ALL

use super::vmcontext::VMStoreContext;
use crate::artifact::builtins::GROW_TRAP;
use crate::artifact::{DataIndex, ElemIndex, FuncIndex, MemoryIndex, TableIndex};
use crate::error::{Error, Result};
use crate::limits::ResourceLimiter;
use crate::store::{Pending, StoreInner, StoreOpaque};
use crate::table::in_bounds;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The builtins table, laid out as compiled code indexes it.
#[repr(C)]
struct Builtins {
    memory_grow: extern "C" fn(*mut u8, u32, u32) -> u32,
    memory_fill: extern "C" fn(*mut u8, u32, u32, u32, u32) -> u32,
    memory_copy: extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    memory_init: extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    data_drop: extern "C" fn(*mut u8, u32),
    table_grow: extern "C" fn(*mut u8, u32, u32, usize) -> u32,
    table_fill: extern "C" fn(*mut u8, u32, u32, usize, u32) -> u32,
    table_copy: extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    table_init: extern "C" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    elem_drop: extern "C" fn(*mut u8, u32),
    new_epoch: extern "C" fn(*mut u8) -> u32,
    table_get_lazy: extern "C" fn(*mut u8, u32, u32) -> usize,
    ref_func: extern "C" fn(*mut u8, u32) -> usize,
}

static BUILTINS: Builtins = Builtins {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    new_epoch,
    table_get_lazy,
    ref_func,
};

/// The address compiled code receives as `vmctx->builtins`.
pub(crate) fn builtins_table_addr() -> usize {
    &BUILTINS as *const Builtins as usize
}

/// Runs `f` with the store and instance of `vmctx`; a panic becomes a pending bug error and
/// `on_panic`.
fn with_instance<R>(vmctx: *mut u8, on_panic: R, f: impl FnOnce(&mut StoreOpaque, u32) -> R) -> R {
    // SAFETY: compiled code passes its own live VM context; offsets 8 and 32 are its store and
    // instance fields (`VMOffsets`). The store pointer was set by `call_wasm` from its
    // `&mut StoreInner<T>`, whose first field (`repr(C)`) is the `StoreOpaque`, and nothing else
    // uses the store while wasm runs.
    let (store, instance) = unsafe {
        let store_cx = *vmctx.add(8).cast::<*const VMStoreContext>();
        let store = &mut *((*store_cx).store.get() as *mut StoreOpaque);
        (store, *vmctx.add(32).cast::<usize>() as u32)
    };
    let store_ptr: *mut StoreOpaque = store;
    match catch_unwind(AssertUnwindSafe(|| f(store, instance))) {
        Ok(r) => r,
        Err(_) => {
            // SAFETY: the reference moved into the closure is gone.
            let store = unsafe { &mut *store_ptr };
            store.pending = Some(Pending::Error(Error::bug("a builtin panicked")));
            on_panic
        }
    }
}

/// What a builtin does with the store and its resource limiter.
pub(crate) type LimitedFn<'a> =
    &'a mut dyn FnMut(&mut StoreOpaque, Option<&mut dyn ResourceLimiter>);

/// Runs a [`LimitedFn`] on the store at an address (`VMStoreContext::store`): the one function
/// that knows the store's `T`, monomorphized by [`limiter_hook`].
pub(crate) type LimiterHook = fn(usize, LimitedFn<'_>);

/// The hook of stores of data type `T`.
pub(crate) fn limiter_hook<T: 'static>() -> LimiterHook {
    run_with_limiter::<T>
}

fn run_with_limiter<T: 'static>(store: usize, f: LimitedFn<'_>) {
    // SAFETY: this hook is installed only by `Store::<T>::limiter` into that store's
    // `VMStoreContext`, and `store` is the address `call_wasm` recorded there from its
    // `&mut StoreInner<T>`; the builtins (the only callers) run while that call is in progress
    // and nothing else uses the store meanwhile (see `with_instance`).
    let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
    inner.with_limiter(|opaque, limiter| f(opaque, limiter));
}

/// Like [`with_instance`], also lending the store's resource limiter when it has one.
fn with_limited_instance<R>(
    vmctx: *mut u8,
    on_panic: R,
    f: impl FnOnce(&mut StoreOpaque, Option<&mut dyn ResourceLimiter>, u32) -> R,
) -> R {
    // SAFETY: as in `with_instance`: offsets 8 and 32 are the store and instance fields of the
    // caller's live VM context. Only `Cell` fields of the store context are read.
    let (hook, store, instance) = unsafe {
        let store_cx = &**vmctx.add(8).cast::<*const VMStoreContext>();
        (
            store_cx.limiter_hook.get(),
            store_cx.store.get(),
            *vmctx.add(32).cast::<usize>() as u32,
        )
    };
    let Some(hook) = hook else {
        return with_instance(vmctx, on_panic, |s, i| f(s, None, i));
    };
    let mut f = Some(f);
    let mut out = None;
    let run = catch_unwind(AssertUnwindSafe(|| {
        hook(store, &mut |opaque, limiter| {
            if let Some(f) = f.take() {
                out = Some(f(opaque, limiter, instance));
            }
        })
    }));
    match (run, out) {
        (Ok(()), Some(r)) => r,
        _ => {
            // SAFETY: as in `with_instance`; every reference the hook made is gone.
            let opaque = unsafe { &mut *(store as *mut StoreOpaque) };
            opaque.pending = Some(Pending::Error(Error::bug(
                "a builtin or the resource limiter panicked",
            )));
            on_panic
        }
    }
}

/// The result of a grow builtin: the old size, `u32::MAX` (-1) when the growth failed, or
/// [`GROW_TRAP`] with the error left in the store when it must trap.
fn grow_result(store: &mut StoreOpaque, r: Result<Option<u64>>) -> u32 {
    match r {
        Ok(Some(old)) => old as u32,
        Ok(None) => u32::MAX,
        Err(e) => {
            store.pending = Some(Pending::Error(e));
            GROW_TRAP
        }
    }
}

/// `memory.copy` and `table.copy`: copies `len` items from `src` in container `s` to `dst` in
/// container `d` (possibly the same one, with overlapping ranges), after checking both ranges.
/// Returns 1, or 0 (a trap) when either range is out of bounds.
fn copy_items<C, T: Copy>(
    containers: &mut [C],
    d: usize,
    s: usize,
    dst: u32,
    src: u32,
    len: u32,
    items: impl Fn(&mut C) -> &mut [T],
) -> u32 {
    if d == s {
        let data = items(&mut containers[d]);
        let (Some(dr), Some(sr)) = (
            in_bounds(dst, len, data.len()),
            in_bounds(src, len, data.len()),
        ) else {
            return 0;
        };
        data.copy_within(sr, dr.start);
        return 1;
    }
    let Ok([dc, sc]) = containers.get_disjoint_mut([d, s]) else {
        return 0;
    };
    copy_checked(items(dc), dst, items(sc), src, len)
}

/// Copies `len` items from `src[src_at..]` to `dst[dst_at..]` after checking both ranges (the
/// spec's bounds checks come before any write). Returns 1, or 0 (a trap) when either range is out
/// of bounds.
fn copy_checked<T: Copy>(dst: &mut [T], dst_at: u32, src: &[T], src_at: u32, len: u32) -> u32 {
    let (Some(dr), Some(sr)) = (
        in_bounds(dst_at, len, dst.len()),
        in_bounds(src_at, len, src.len()),
    ) else {
        return 0;
    };
    dst[dr].copy_from_slice(&src[sr]);
    1
}

fn memory_index(store: &StoreOpaque, instance: u32, memory: u32) -> usize {
    store.instances[instance as usize].memories[MemoryIndex(memory).index()].index as usize
}

fn table_index(store: &StoreOpaque, instance: u32, table: u32) -> usize {
    store.instances[instance as usize].tables[TableIndex(table).index()].index as usize
}

extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u32) -> u32 {
    with_limited_instance(vmctx, GROW_TRAP, |store, limiter, inst| {
        let m = memory_index(store, inst, memory);
        let r = store.memories[m].grow_limited(u64::from(delta), limiter);
        grow_result(store, r)
    })
}

extern "C" fn memory_fill(vmctx: *mut u8, memory: u32, dst: u32, byte: u32, len: u32) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let m = memory_index(store, inst, memory);
        let data = store.memories[m].mem.as_mut_slice();
        match in_bounds(dst, len, data.len()) {
            Some(r) => {
                data[r].fill(byte as u8);
                1
            }
            None => 0,
        }
    })
}

extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_memory: u32,
    dst: u32,
    src_memory: u32,
    src: u32,
    len: u32,
) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let d = memory_index(store, inst, dst_memory);
        let s = memory_index(store, inst, src_memory);
        copy_items(&mut store.memories, d, s, dst, src, len, |m| {
            m.mem.as_mut_slice()
        })
    })
}

extern "C" fn memory_init(
    vmctx: *mut u8,
    memory: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let m = memory_index(store, inst, memory);
        let instance = &store.instances[inst as usize];
        let seg_index = DataIndex(data).index();
        let module = instance.module.clone();
        let seg: &[u8] = if instance.dropped_data[seg_index] {
            &[]
        } else {
            module.data_segment(seg_index)
        };
        copy_checked(store.memories[m].mem.as_mut_slice(), dst, seg, src, len)
    })
}

extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    with_instance(vmctx, (), |store, inst| {
        store.instances[inst as usize].dropped_data[DataIndex(data).index()] = true;
    })
}

extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u32, init: usize) -> u32 {
    with_limited_instance(vmctx, GROW_TRAP, |store, limiter, inst| {
        let t = table_index(store, inst, table);
        let r = store.tables[t].grow_limited(u64::from(delta), init, limiter);
        grow_result(store, r)
    })
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, value: usize, len: u32) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let t = table_index(store, inst, table);
        u32::from(store.tables[t].fill(dst, len, value))
    })
}

extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let d = table_index(store, inst, dst_table);
        let s = table_index(store, inst, src_table);
        // The words copied must not depend on the source table's image any more.
        if let Some(r) = in_bounds(src, len, store.tables[s].elements.len()) {
            store.table_initialize(s, r);
        }
        copy_items(&mut store.tables, d, s, dst, src, len, |t| {
            &mut t.elements[..]
        })
    })
}

extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    with_instance(vmctx, 0, |store, inst| {
        let t = table_index(store, inst, table);
        match store.table_init(inst, t, ElemIndex(elem), dst, src, len) {
            Ok(ok) => u32::from(ok),
            Err(e) => {
                store.pending = Some(Pending::Error(e));
                0
            }
        }
    })
}

extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    with_instance(vmctx, (), |store, inst| {
        store.instances[inst as usize].dropped_elems[ElemIndex(elem).index()] = true;
    })
}

extern "C" fn table_get_lazy(vmctx: *mut u8, table: u32, index: u32) -> usize {
    with_instance(vmctx, 0, |store, inst| {
        let t = table_index(store, inst, table);
        store.table_get(t, index as usize).unwrap_or(0)
    })
}

extern "C" fn ref_func(vmctx: *mut u8, func: u32) -> usize {
    with_instance(vmctx, 0, |store, inst| {
        store.instances[inst as usize].func_ref_addr(FuncIndex(func))
    })
}

extern "C" fn new_epoch(vmctx: *mut u8) -> u32 {
    with_instance(vmctx, 0, |store, _| u32::from(store.epoch_deadline_moved()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::builtins::{Builtin, NUM_BUILTINS};
    use core::mem::{offset_of, size_of};

    #[test]
    fn table_order_matches_builtin_indices() {
        let ptr = size_of::<usize>();
        assert_eq!(size_of::<Builtins>(), NUM_BUILTINS * ptr);
        let fields = [
            (Builtin::MemoryGrow, offset_of!(Builtins, memory_grow)),
            (Builtin::MemoryFill, offset_of!(Builtins, memory_fill)),
            (Builtin::MemoryCopy, offset_of!(Builtins, memory_copy)),
            (Builtin::MemoryInit, offset_of!(Builtins, memory_init)),
            (Builtin::DataDrop, offset_of!(Builtins, data_drop)),
            (Builtin::TableGrow, offset_of!(Builtins, table_grow)),
            (Builtin::TableFill, offset_of!(Builtins, table_fill)),
            (Builtin::TableCopy, offset_of!(Builtins, table_copy)),
            (Builtin::TableInit, offset_of!(Builtins, table_init)),
            (Builtin::ElemDrop, offset_of!(Builtins, elem_drop)),
            (Builtin::NewEpoch, offset_of!(Builtins, new_epoch)),
            (Builtin::TableGetLazy, offset_of!(Builtins, table_get_lazy)),
            (Builtin::RefFunc, offset_of!(Builtins, ref_func)),
        ];
        assert_eq!(fields.len(), Builtin::ALL.len());
        for (b, off) in fields {
            assert_eq!(off, b.index() as usize * ptr, "{b:?}");
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(in_bounds(0, 0, 0), Some(0..0));
        assert_eq!(in_bounds(1, 0, 0), None);
        assert_eq!(
            in_bounds(u32::MAX, 1, usize::MAX),
            Some(u32::MAX as usize..1 << 32)
        );
        assert_eq!(in_bounds(10, 5, 15), Some(10..15));
        assert_eq!(in_bounds(10, 6, 15), None);
    }
}
