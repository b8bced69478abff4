//! The `#[repr(C)]` records compiled code reads and writes, with tests that their layout matches
//! [`VMOffsets`](crate::artifact::VMOffsets), and the owners through which the rest of the crate
//! touches them safely: [`VMContextAlloc`] (one instance's VM context), [`OwnedDef`] (a record
//! the store owns directly) and [`VmPtr`] (a pointer to a record inside either).

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::values::ValRaw;
use core::cell::Cell;
use core::ptr::NonNull;
use std::alloc::{Layout, alloc, dealloc};

/// A function reference: what a funcref value points to, and (without `type_id`) the layout of
/// an imported function slot (`VMFunctionImport`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct VMFuncRef {
    /// Entry with the wasm calling convention (`Tail`).
    pub(crate) wasm_call: usize,
    /// Entry with the array calling convention (0 when the function does not escape).
    pub(crate) array_call: usize,
    /// The callee's VM context (or host function context).
    pub(crate) vmctx: usize,
    /// Process-wide id of the function's type, checked by `call_indirect`.
    pub(crate) type_id: u32,
}

/// A linear memory as compiled code sees it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct VMMemoryDefinition {
    /// Address of byte 0; never changes.
    pub(crate) base: usize,
    /// Accessible size in bytes.
    pub(crate) current_length: usize,
}

/// A table as compiled code sees it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct VMTableDefinition {
    /// Address of element 0 (pointer-sized words).
    pub(crate) base: usize,
    /// Number of elements.
    pub(crate) current_elements: usize,
}

/// A global's 16-byte slot, value little-endian at offset 0.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub(crate) struct VMGlobal([u8; 16]);

impl VMGlobal {
    pub(crate) fn from_raw(raw: ValRaw) -> Self {
        VMGlobal(raw.get_u128().to_le_bytes())
    }

    pub(crate) fn to_raw(self) -> ValRaw {
        ValRaw::from_u128(u128::from_le_bytes(self.0))
    }
}

/// The per-store record compiled code reads (`stack_limit`, the epoch fields) and writes
/// (`fuel_consumed`) and `aot_enter` writes (`entry_sp`), followed by runtime-private fields.
/// Fields are `Cell`s because compiled code, the signal handler and Rust all reach them through
/// shared pointers.
#[repr(C)]
pub(crate) struct VMStoreContext {
    /// Lowest stack pointer wasm may use; `usize::MAX` while no wasm runs (so any entry that
    /// bypassed `call_wasm` would trap at once).
    pub(crate) stack_limit: Cell<usize>,
    /// Stack pointer saved by the innermost `aot_enter`.
    pub(crate) entry_sp: Cell<usize>,
    /// Minus the fuel left in the active part (see `limits.rs`); 0 at creation: a store starts
    /// without fuel.
    pub(crate) fuel_consumed: Cell<i64>,
    /// The epoch at which epoch-checking code is interrupted; 0 at creation, so such code traps
    /// until [`crate::Store::set_epoch_deadline`] is called (as in Wasmtime).
    pub(crate) epoch_deadline: Cell<u64>,
    /// The epoch counter compiled code reads: always the process-wide one.
    pub(crate) epoch_ptr: Cell<usize>,
    /// Runtime-private: address of the `StoreInner<T>` (whose first field is the `StoreOpaque`).
    pub(crate) store: Cell<usize>,
    /// Runtime-private: how builtins reach the store's resource limiter (set by
    /// `Store::limiter`, for the store's `T`).
    pub(crate) limiter_hook: Cell<Option<super::libcalls::LimiterHook>>,
}

impl VMStoreContext {
    pub(crate) fn new() -> Self {
        Self {
            stack_limit: Cell::new(usize::MAX),
            entry_sp: Cell::new(0),
            fuel_consumed: Cell::new(0),
            epoch_deadline: Cell::new(0),
            epoch_ptr: Cell::new(crate::limits::epoch_counter_addr()),
            store: Cell::new(0),
            limiter_hook: Cell::new(None),
        }
    }

    /// Records where the store is (refreshed on every entry into wasm).
    pub(crate) fn set_store_ptr<T>(&self, store: *mut crate::store::StoreInner<T>) {
        self.store.set(store as usize);
    }

    /// The address compiled code receives as `vmctx->store`.
    pub(crate) fn addr(&self) -> usize {
        self as *const Self as usize
    }
}

/// A pointer to a VM record owned by the store (in a VM context or an [`OwnedDef`]).
///
/// Invariant (crate-wide, see `vm`'s docs): only the store that owns the record holds the
/// pointer, and the store frees its records only when it is dropped, so the pointer is valid
/// whenever it is used. Reads and writes happen only while the store is borrowed, hence never
/// concurrently with wasm code of that store.
pub(crate) struct VmPtr<T>(NonNull<T>);

impl<T> Clone for VmPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for VmPtr<T> {}

// SAFETY: a `VmPtr` is only dereferenced through the store that owns it, and a store is used by
// one thread at a time (`&mut` access); moving the store to another thread moves its pointers.
unsafe impl<T: Send> Send for VmPtr<T> {}

impl<T: Copy> VmPtr<T> {
    /// Reads the record.
    pub(crate) fn get(&self) -> T {
        // SAFETY: by the type's invariant the record is live and not concurrently written; the
        // pointer is aligned (checked when it was made).
        unsafe { self.0.as_ptr().read() }
    }

    /// Writes the record.
    pub(crate) fn set(&self, value: T) {
        // SAFETY: as in `get`; no Rust reference to the record exists (records are only reached
        // through raw pointers), so writing through a shared `VmPtr` aliases nothing.
        unsafe { self.0.as_ptr().write(value) }
    }

    /// The address, as compiled code receives it.
    pub(crate) fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

/// A VM record allocated on its own (for a memory, table or global the host created), freed on
/// drop. Reached only through the [`VmPtr`] it hands out.
pub(crate) struct OwnedDef<T>(NonNull<T>);

// SAFETY: the record is plain data owned by this value; see `VmPtr`.
unsafe impl<T: Send> Send for OwnedDef<T> {}

impl<T: Copy> OwnedDef<T> {
    pub(crate) fn new(value: T) -> Self {
        OwnedDef(NonNull::from(Box::leak(Box::new(value))))
    }

    pub(crate) fn ptr(&self) -> VmPtr<T> {
        VmPtr(self.0)
    }
}

impl<T> Drop for OwnedDef<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` in `new` and is freed only here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// Alignment of every VM context.
const VMCTX_ALIGN: usize = 16;

/// One instance's VM context: `size` bytes, 16-byte aligned, at a stable address, freed on
/// drop, of which the first `initialized` are zeroed at allocation. The rest (the defined
/// functions' `VMFuncRef`s) is left uninitialized: each is written before any reference to it
/// exists (`InstanceData::func_ref_addr`). The runtime never reads a `VMFuncRef` back; compiled
/// code does. Only reached through raw pointers (by compiled code and by the bounds-checked
/// accessors below), never through a Rust reference.
pub(crate) struct VMContextAlloc {
    ptr: NonNull<u8>,
    size: usize,
}

// SAFETY: the allocation is plain data owned by this value; see `VmPtr`.
unsafe impl Send for VMContextAlloc {}

impl VMContextAlloc {
    /// Allocates a VM context of `size` bytes whose first `initialized` are zeroed.
    pub(crate) fn new(size: usize, initialized: usize) -> Result<Self> {
        let layout = Layout::from_size_align(size.max(VMCTX_ALIGN), VMCTX_ALIGN)
            .map_err(|_| Error::bug("VM context too large"))?;
        if initialized > size {
            return Err(Error::bug("VM context prefix larger than the context"));
        }
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc(layout) };
        let ptr = NonNull::new(ptr).ok_or_else(|| Error::msg("out of memory for a VM context"))?;
        // SAFETY: the first `initialized <= size` bytes are inside the fresh allocation.
        unsafe { ptr.as_ptr().write_bytes(0, initialized) };
        Ok(Self { ptr, size })
    }

    /// The address compiled code receives as `vmctx`.
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// A pointer to a `T` at `offset`, after checking bounds and alignment.
    ///
    /// # Panics
    /// If the field does not fit or is misaligned: offsets come from `VMOffsets`, so that is a
    /// bug.
    #[inline]
    fn field<T>(&self, offset: u32) -> NonNull<T> {
        let offset = offset as usize;
        assert!(
            offset + core::mem::size_of::<T>() <= self.size
                && offset.is_multiple_of(core::mem::align_of::<T>()),
            "VM context field at {offset} out of bounds or misaligned"
        );
        // SAFETY: in bounds of the allocation (checked above).
        unsafe { self.ptr.add(offset).cast() }
    }

    fn write<T>(&self, offset: u32, value: T) {
        // SAFETY: `field` checked bounds and alignment; nothing holds a reference into the
        // context (see the type docs).
        unsafe { self.field::<T>(offset).as_ptr().write(value) }
    }

    /// Reads a field the test wrote or that is in the zeroed prefix.
    #[cfg(test)]
    fn read<T: Copy>(&self, offset: u32) -> T {
        // SAFETY: as in `write`; the tests read only initialized fields.
        unsafe { self.field::<T>(offset).as_ptr().read() }
    }

    pub(crate) fn write_u32(&self, offset: u32, value: u32) {
        self.write(offset, value);
    }

    pub(crate) fn write_usize(&self, offset: u32, value: usize) {
        self.write(offset, value);
    }

    /// Writes a `VMFunctionImport` (the first three fields of `r`).
    pub(crate) fn write_func_import(&self, offset: u32, r: &VMFuncRef) {
        self.write(offset, [r.wasm_call, r.array_call, r.vmctx]);
    }

    /// Writes a `VMFuncRef`.
    pub(crate) fn write_func_ref(&self, offset: u32, r: &VMFuncRef) {
        self.write(offset, *r);
    }

    /// Reads a `VMFuncRef`.
    #[cfg(test)]
    pub(crate) fn read_func_ref(&self, offset: u32) -> VMFuncRef {
        self.read(offset)
    }

    pub(crate) fn memory_ptr(&self, offset: u32) -> VmPtr<VMMemoryDefinition> {
        VmPtr(self.field(offset))
    }

    pub(crate) fn table_ptr(&self, offset: u32) -> VmPtr<VMTableDefinition> {
        VmPtr(self.field(offset))
    }

    pub(crate) fn global_ptr(&self, offset: u32) -> VmPtr<VMGlobal> {
        VmPtr(self.field(offset))
    }
}

impl Drop for VMContextAlloc {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.size.max(VMCTX_ALIGN), VMCTX_ALIGN)
            .expect("layout was valid at allocation");
        // SAFETY: allocated in `new` with this layout, freed only here.
        unsafe { dealloc(self.ptr.as_ptr(), layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::vmoffsets::{
        VAL_RAW_SIZE, VMCounts, VMHOSTFUNC_ARRAY_CALL, VMOffsets, VMSTORE_ENTRY_SP,
        VMSTORE_EPOCH_DEADLINE, VMSTORE_EPOCH_PTR, VMSTORE_FUEL_CONSUMED, VMSTORE_SIZE,
        VMSTORE_STACK_LIMIT,
    };
    use core::mem::{offset_of, size_of};

    fn offsets() -> VMOffsets {
        VMOffsets::new(
            size_of::<usize>() as u32,
            VMCounts {
                funcs: 3,
                defined_memories: 2,
                defined_tables: 2,
                defined_globals: 2,
                ..VMCounts::default()
            },
        )
    }

    #[test]
    fn func_ref_layout() {
        let o = offsets();
        assert_eq!(offset_of!(VMFuncRef, wasm_call) as u32, o.func_wasm_call());
        assert_eq!(
            offset_of!(VMFuncRef, array_call) as u32,
            o.func_array_call()
        );
        assert_eq!(offset_of!(VMFuncRef, vmctx) as u32, o.func_vmctx());
        assert_eq!(offset_of!(VMFuncRef, type_id) as u32, o.func_ref_type_id());
        assert_eq!(size_of::<VMFuncRef>() as u32, o.func_ref_size());
        assert_eq!(o.func_ref(1) - o.func_ref(0), o.func_ref_size());
    }

    #[test]
    fn definition_layouts() {
        let o = offsets();
        assert_eq!(offset_of!(VMMemoryDefinition, base) as u32, o.memory_base());
        assert_eq!(
            offset_of!(VMMemoryDefinition, current_length) as u32,
            o.memory_current_length()
        );
        assert_eq!(
            o.memory(1) - o.memory(0),
            size_of::<VMMemoryDefinition>() as u32
        );
        assert_eq!(offset_of!(VMTableDefinition, base) as u32, o.table_base());
        assert_eq!(
            offset_of!(VMTableDefinition, current_elements) as u32,
            o.table_current_elements()
        );
        assert_eq!(
            o.table(1) - o.table(0),
            size_of::<VMTableDefinition>() as u32
        );
        assert_eq!(o.global(1) - o.global(0), size_of::<VMGlobal>() as u32);
        assert_eq!(o.global(0) % core::mem::align_of::<VMGlobal>() as u32, 0);
    }

    #[test]
    fn store_context_layout() {
        assert_eq!(
            offset_of!(VMStoreContext, stack_limit) as u32,
            VMSTORE_STACK_LIMIT
        );
        assert_eq!(
            offset_of!(VMStoreContext, entry_sp) as u32,
            VMSTORE_ENTRY_SP
        );
        assert_eq!(
            offset_of!(VMStoreContext, fuel_consumed) as u32,
            VMSTORE_FUEL_CONSUMED
        );
        assert_eq!(
            offset_of!(VMStoreContext, epoch_deadline) as u32,
            VMSTORE_EPOCH_DEADLINE
        );
        assert_eq!(
            offset_of!(VMStoreContext, epoch_ptr) as u32,
            VMSTORE_EPOCH_PTR
        );
        // The runtime-private part follows the public one.
        assert_eq!(offset_of!(VMStoreContext, store) as u32, VMSTORE_SIZE);
        assert_eq!(size_of::<ValRaw>() as u32, VAL_RAW_SIZE);
    }

    #[test]
    fn host_func_context_layout() {
        assert_eq!(
            super::super::host::ARRAY_CALL_OFFSET as u32,
            VMHOSTFUNC_ARRAY_CALL
        );
    }

    #[test]
    fn vmctx_accessors_round_trip() {
        let o = offsets();
        // Functions 0 and 1 imported: their `VMFuncRef`s are in the zeroed prefix.
        let cx = VMContextAlloc::new(o.size() as usize, o.func_ref(2) as usize).unwrap();
        assert_eq!(cx.addr() % 16, 0);
        let r = VMFuncRef {
            wasm_call: 1,
            array_call: 2,
            vmctx: 3,
            type_id: 4,
        };
        cx.write_func_ref(o.func_ref(1), &r);
        assert_eq!(cx.read_func_ref(o.func_ref(1)), r);
        assert_eq!(cx.read_func_ref(o.func_ref(0)), VMFuncRef::default());
        // A defined function's slot, in the uninitialized tail, reads back once written.
        cx.write_func_ref(o.func_ref(2), &r);
        assert_eq!(cx.read_func_ref(o.func_ref(2)), r);
        let g = cx.global_ptr(o.global(1));
        g.set(VMGlobal::from_raw(ValRaw::from_u64(99)));
        assert_eq!(g.get().to_raw().get_u64(), 99);
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn vmctx_field_out_of_bounds_panics() {
        let o = offsets();
        let cx = VMContextAlloc::new(o.size() as usize, o.size() as usize).unwrap();
        cx.write_usize(o.size(), 1);
    }
}
