//! Layout of the VM context of a core instance and of the records compiled code reads, defined
//! once for both the compiler (which bakes the offsets into code) and the runtime (which builds
//! the structures). `vm/vmcontext.rs` checks its `#[repr(C)]` structs against these numbers.
//!
//! ```text
//! VMContext (one per instance, 16-byte aligned)
//! +0   magic: u32 = VMCONTEXT_MAGIC, padding
//! +8   store: *mut VMStoreContext          shared by every instance of a store
//! +16  builtins: *const [fn; N]            runtime helpers, see `builtins.rs`
//! +24  type_ids: *const u32                module type index -> process-wide type id
//! +32  instance: *mut Instance             private to the runtime
//! +40  padding
//! +48  imported_funcs:    [VMFunctionImport; n]     { wasm_call, array_call, vmctx }
//!      imported_memories: [*mut VMMemoryDefinition; n]
//!      imported_tables:   [*mut VMTableDefinition; n]
//!      imported_globals:  [*mut VMGlobal; n]
//!      memories:          [VMMemoryDefinition; n]   { base, current_length }
//!      tables:            [VMTableDefinition; n]    { base, current_elements }
//!      (align 16)
//!      globals:           [VMGlobal; n]             16 bytes each, value at offset 0
//!      func_refs:         [VMFuncRef; n_funcs]      { wasm_call, array_call, vmctx, type_id }
//! ```
//!
//! ```text
//! VMStoreContext (one per store)
//! +0   stack_limit: usize     lowest stack pointer wasm may use (checked in prologues)
//! +8   entry_sp: usize        stack pointer saved by the innermost host-to-wasm entry
//! +16  fuel_consumed: i64     minus the fuel left; fuel-metered code adds to it and runs out
//!                             when it is no longer negative
//! +24  epoch_deadline: u64    epoch at which epoch-checking code is interrupted
//! +32  epoch_ptr: *const u64  the epoch counter (an `AtomicU64`), never changes
//! ```
//!
//! A funcref value is a `*const VMFuncRef` (null is 0); an externref value is a pointer-sized
//! handle owned by the store (null is 0). Both are stored in tables as pointer-sized words.

/// Value of the `magic` field of every core instance VM context (`b"aotv"` little-endian).
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"aotv");
/// Value of the `magic` field of a host function context (`b"host"` little-endian).
pub const VMHOSTFUNC_MAGIC: u32 = u32::from_le_bytes(*b"host");

/// Offset of `array_call` in a host function context: a wasm-to-host trampoline loads the host
/// function's array-call entry from there.
pub const VMHOSTFUNC_ARRAY_CALL: u32 = 8;

/// `VMStoreContext::stack_limit`.
pub const VMSTORE_STACK_LIMIT: u32 = 0;
/// `VMStoreContext::entry_sp`.
pub const VMSTORE_ENTRY_SP: u32 = 8;
/// `VMStoreContext::fuel_consumed` (`i64`).
pub const VMSTORE_FUEL_CONSUMED: u32 = 16;
/// `VMStoreContext::epoch_deadline` (`u64`).
pub const VMSTORE_EPOCH_DEADLINE: u32 = 24;
/// `VMStoreContext::epoch_ptr` (`*const u64`).
pub const VMSTORE_EPOCH_PTR: u32 = 32;
/// Size of the part of `VMStoreContext` compiled code uses.
pub const VMSTORE_SIZE: u32 = 40;

/// Size of a `ValRaw` slot in the array calling convention.
pub const VAL_RAW_SIZE: u32 = 16;

/// Counts that determine the layout of a VM context.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct VMCounts {
    /// Imported functions.
    pub imported_funcs: u32,
    /// Imported tables.
    pub imported_tables: u32,
    /// Imported memories.
    pub imported_memories: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Defined tables.
    pub defined_tables: u32,
    /// Defined memories.
    pub defined_memories: u32,
    /// Defined globals.
    pub defined_globals: u32,
    /// All functions (imports and definitions), one `VMFuncRef` each.
    pub funcs: u32,
}

/// Offsets of every field of a VM context for a given pointer size and counts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    /// Pointer size in bytes (4 or 8).
    pub ptr: u32,
    /// The counts this layout was computed for.
    pub counts: VMCounts,
    imported_funcs: u32,
    imported_memories: u32,
    imported_tables: u32,
    imported_globals: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    func_refs: u32,
    size: u32,
}

const fn align(n: u32, a: u32) -> u32 {
    (n + a - 1) & !(a - 1)
}

impl VMOffsets {
    /// Computes the layout.
    pub const fn new(ptr: u32, counts: VMCounts) -> Self {
        let imported_funcs = align(5 * ptr, 16);
        let imported_memories = imported_funcs + counts.imported_funcs * 3 * ptr;
        let imported_tables = imported_memories + counts.imported_memories * ptr;
        let imported_globals = imported_tables + counts.imported_tables * ptr;
        let memories = imported_globals + counts.imported_globals * ptr;
        let tables = memories + counts.defined_memories * 2 * ptr;
        let globals = align(tables + counts.defined_tables * 2 * ptr, 16);
        let func_refs = globals + counts.defined_globals * 16;
        let size = align(func_refs + counts.funcs * 4 * ptr, 16);
        Self {
            ptr,
            counts,
            imported_funcs,
            imported_memories,
            imported_tables,
            imported_globals,
            memories,
            tables,
            globals,
            func_refs,
            size,
        }
    }

    /// `magic`.
    pub const fn magic(&self) -> u32 {
        0
    }
    /// `store` (`*mut VMStoreContext`).
    pub const fn store(&self) -> u32 {
        8
    }
    /// `builtins` (`*const [fn; N]`).
    pub const fn builtins(&self) -> u32 {
        16
    }
    /// `type_ids` (`*const u32`).
    pub const fn type_ids(&self) -> u32 {
        24
    }
    /// `instance` (runtime-private back pointer).
    pub const fn instance(&self) -> u32 {
        32
    }

    /// The `VMFunctionImport` of imported function `i`.
    pub const fn imported_func(&self, i: u32) -> u32 {
        self.imported_funcs + i * 3 * self.ptr
    }
    /// `wasm_call` field of a `VMFunctionImport` (and of a `VMFuncRef`).
    pub const fn func_wasm_call(&self) -> u32 {
        0
    }
    /// `array_call` field of a `VMFunctionImport` (and of a `VMFuncRef`).
    pub const fn func_array_call(&self) -> u32 {
        self.ptr
    }
    /// `vmctx` field of a `VMFunctionImport` (and of a `VMFuncRef`).
    pub const fn func_vmctx(&self) -> u32 {
        2 * self.ptr
    }
    /// `type_id` field (u32) of a `VMFuncRef`.
    pub const fn func_ref_type_id(&self) -> u32 {
        3 * self.ptr
    }
    /// Size of a `VMFuncRef`.
    pub const fn func_ref_size(&self) -> u32 {
        4 * self.ptr
    }

    /// The `*mut VMMemoryDefinition` of imported memory `i`.
    pub const fn imported_memory(&self, i: u32) -> u32 {
        self.imported_memories + i * self.ptr
    }
    /// The `*mut VMTableDefinition` of imported table `i`.
    pub const fn imported_table(&self, i: u32) -> u32 {
        self.imported_tables + i * self.ptr
    }
    /// The `*mut VMGlobal` of imported global `i`.
    pub const fn imported_global(&self, i: u32) -> u32 {
        self.imported_globals + i * self.ptr
    }
    /// The `VMMemoryDefinition` of defined memory `i`.
    pub const fn memory(&self, i: u32) -> u32 {
        self.memories + i * 2 * self.ptr
    }
    /// `base` in a `VMMemoryDefinition`.
    pub const fn memory_base(&self) -> u32 {
        0
    }
    /// `current_length` (bytes) in a `VMMemoryDefinition`.
    pub const fn memory_current_length(&self) -> u32 {
        self.ptr
    }
    /// The `VMTableDefinition` of defined table `i`.
    pub const fn table(&self, i: u32) -> u32 {
        self.tables + i * 2 * self.ptr
    }
    /// `base` in a `VMTableDefinition`.
    pub const fn table_base(&self) -> u32 {
        0
    }
    /// `current_elements` in a `VMTableDefinition`.
    pub const fn table_current_elements(&self) -> u32 {
        self.ptr
    }
    /// The 16-byte `VMGlobal` of defined global `i`.
    pub const fn global(&self, i: u32) -> u32 {
        self.globals + i * 16
    }
    /// The `VMFuncRef` of function `i` (function index space, imports included).
    pub const fn func_ref(&self, i: u32) -> u32 {
        self.func_refs + i * 4 * self.ptr
    }
    /// Total size of the VM context.
    pub const fn size(&self) -> u32 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ordered_and_aligned() {
        let counts = VMCounts {
            imported_funcs: 2,
            imported_tables: 1,
            imported_memories: 1,
            imported_globals: 3,
            defined_tables: 2,
            defined_memories: 1,
            defined_globals: 1,
            funcs: 5,
        };
        let o = VMOffsets::new(8, counts);
        assert_eq!(o.imported_func(0), 48);
        assert_eq!(o.imported_memory(0), 48 + 2 * 24);
        assert_eq!(o.imported_table(0), o.imported_memory(0) + 8);
        assert_eq!(o.imported_global(0), o.imported_table(0) + 8);
        assert_eq!(o.memory(0), o.imported_global(0) + 24);
        assert_eq!(o.table(0), o.memory(0) + 16);
        assert_eq!(o.global(0) % 16, 0);
        assert!(o.global(0) >= o.table(1) + 16);
        assert_eq!(o.func_ref(0), o.global(0) + 16);
        assert_eq!(o.size(), o.func_ref(5));
        assert_eq!(o.size() % 16, 0);
    }
}
