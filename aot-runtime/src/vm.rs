//! Everything that needs `unsafe`: the only module of the crate allowed to use it (the crate root
//! denies `unsafe_code` elsewhere). Every `unsafe` block is preceded by a `// SAFETY:` comment
//! whose argument can be checked from the surrounding function.
//!
//! - `code_memory`: the one place memory becomes executable (copy `.text`, then RW -> RX).
//! - `entry`: `aot_enter`, the assembly entry into wasm, and its trap landing pad.
//! - `traphandlers`: the signal handler that turns faults at trap sites into `Err(Trap)`.
//! - `linear_memory`: reserved address space for linear memories (guard pages, grow in place).
//! - `vmcontext`: the `#[repr(C)]` records compiled code reads, checked against `VMOffsets`.
//! - `libcalls`: the builtins compiled code calls through the VM context.
//! - `host`: host function contexts and the shim through which wasm calls them.
//! - `type_registry`: process-wide ids of function types (no unsafe, but shared with the rest).
//!
//! The rest of the crate sees safe wrappers only. Several of them (`VmPtr`, `VMContextAlloc`)
//! rely on one crate-wide invariant: VM records are owned by a store and freed only when the store
//! is dropped, so a pointer to one that the store holds stays valid as long as the store.

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!(
    "aot-runtime's `runtime` feature supports x86_64 and aarch64 Linux only; \
     build with `default-features = false` to use the artifact vocabulary elsewhere"
);

mod code_memory;
mod embedded;
mod entry;
mod host;
mod libcalls;
mod linear_memory;
mod traphandlers;
pub(crate) mod type_registry;
mod vmcontext;

pub(crate) use code_memory::{CodeMemory, CodeRegistry};
pub(crate) use host::HostFuncContextBox;
pub(crate) use libcalls::{builtins_table_addr, limiter_hook};
pub(crate) use linear_memory::{LinearMemory, MemoryImage};
pub(crate) use traphandlers::call_wasm;
pub(crate) use vmcontext::{
    OwnedDef, VMContextAlloc, VMFuncRef, VMGlobal, VMMemoryDefinition, VMStoreContext,
    VMTableDefinition, VmPtr,
};
