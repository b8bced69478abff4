//! `aot-runtime` loads and runs WebAssembly modules that `aot-build` compiled ahead of time, at
//! `cargo build` time. It contains no compiler: no Cranelift, no wasmparser, no `wat`. What it
//! loads is an ELF artifact whose machine code is already final; loading checks its compatibility
//! record, copies `.text` into fresh pages that become read+execute, and instantiation fills a VM
//! context the compiled code reads at fixed offsets.
//!
//! What it is not: a JIT, an interpreter, or a way to run `.wasm` files that were not compiled by
//! the matching version of `aot-build` for this target.
//!
//! # Example
//!
//! The build script compiles the wasm; the program embeds the artifact and runs it:
//!
//! ```ignore
//! // build.rs (with `aot-build` in [build-dependencies])
//! fn main() {
//!     aot_build::compile("wasm/app.wat").unwrap();
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs
//! use aot_runtime::{Caller, EmbeddedModule, Linker, Module, Store, include_module};
//!
//! static APP: EmbeddedModule = include_module!("wasm/app.wat");
//!
//! fn main() -> aot_runtime::Result<()> {
//!     let module = Module::from_embedded(&APP)?;
//!     let mut store = Store::new(0u32);
//!     let mut linker = Linker::new();
//!     linker.func_wrap("env", "log", |mut caller: Caller<'_, u32>, x: i32| {
//!         *caller.data_mut() += 1;
//!         println!("wasm says {x}");
//!     })?;
//!     let instance = linker.instantiate(&mut store, &module)?;
//!     let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
//!     println!("fib(20) = {}", fib.call(&mut store, 20)?);
//!     Ok(())
//! }
//! ```
//!
//! Artifacts that are not embedded (compiled by `aot-build` in the same process, as tests do, or
//! read from a file) are loaded with the `unsafe` [`Module::deserialize`]:
//!
//! ```
//! use aot_runtime::{Linker, Module, Store, Trap};
//!
//! let wat = r#"(module (func (export "div") (param i32 i32) (result i32)
//!                (i32.div_s (local.get 0) (local.get 1))))"#;
//! let artifact = aot_build::Config::new().compile_bytes(wat.as_bytes()).unwrap();
//! // SAFETY: the bytes were just produced by aot-build.
//! let module = unsafe { Module::deserialize(&artifact) }?;
//! let mut store = Store::new(());
//! let instance = Linker::new().instantiate(&mut store, &module)?;
//! let div = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div")?;
//! assert_eq!(div.call(&mut store, (7, 2))?, 3);
//! let err = div.call(&mut store, (1, 0)).unwrap_err();
//! assert_eq!(err.trap(), Some(Trap::IntegerDivisionByZero));
//! assert_eq!(div.call(&mut store, (9, 3))?, 3); // the store is still usable
//! # Ok::<(), aot_runtime::Error>(())
//! ```
//!
//! A trap is an [`Error`] whose [`Error::trap`] is `Some`; the store stays usable afterwards.
//!
//! # Features
//!
//! | feature           | default | what it enables                                                         |
//! |-------------------|---------|-------------------------------------------------------------------------|
//! | `std`             | yes     | the standard library; required by `runtime`                             |
//! | `runtime`         | yes     | everything except [`artifact`]: loading, instantiating, running         |
//! | `component-model` | yes     | [`component`]: components, their linker, typed and dynamic calls        |
//! | `wave`            | yes     | WAVE text for component values (`wasm-wave` traits on `component::Val`) |
//! | `wasi`            | yes     | [`wasi`]: WASI context (stdio, args, env, preopens, clocks, random), preview 1 |
//! | `write`           | no      | the artifact writers, for `aot-build` only; never in a shipped app      |
//!
//! With `default-features = false` only [`artifact`], the vocabulary shared with the compiler,
//! is compiled (`no_std` + `alloc`).
//!
//! # Platforms
//!
//! x86_64 and aarch64 Linux. Other platforms fail to compile with the `runtime` feature.
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]

extern crate alloc;
// The component derives name `aot_runtime::...`, also inside this crate (WASI 0.2 types).
#[cfg(feature = "component-model")]
extern crate self as aot_runtime;
#[cfg(feature = "std")]
extern crate std;

pub mod artifact;

#[cfg(feature = "runtime")]
mod backtrace;
#[cfg(feature = "component-model")]
pub mod component;
#[cfg(feature = "runtime")]
mod error;
#[cfg(feature = "runtime")]
mod externals;
#[cfg(feature = "runtime")]
mod externref;
#[cfg(feature = "runtime")]
mod func;
#[cfg(feature = "runtime")]
mod global;
#[cfg(feature = "runtime")]
mod instance;
#[cfg(feature = "runtime")]
mod limits;
#[cfg(feature = "runtime")]
mod linker;
#[cfg(feature = "runtime")]
mod memory;
#[cfg(feature = "runtime")]
mod module;
#[cfg(feature = "runtime")]
mod prelude;
#[cfg(feature = "runtime")]
mod store;
#[cfg(feature = "runtime")]
mod table;
#[cfg(feature = "runtime")]
mod types;
#[cfg(feature = "runtime")]
mod values;
#[cfg(feature = "runtime")]
#[allow(unsafe_code, reason = "the only module allowed to use unsafe code")]
mod vm;
#[cfg(feature = "wasi")]
pub mod wasi;

#[cfg(feature = "runtime")]
pub use aot_macros::{include_component, include_module};
#[cfg(feature = "runtime")]
pub use artifact::{LoadError, Trap};
#[cfg(feature = "runtime")]
pub use backtrace::{FrameInfo, WasmBacktrace};
#[cfg(feature = "runtime")]
pub use error::{Error, ErrorKind, LinkError, Result};
#[cfg(feature = "runtime")]
pub use externals::Extern;
#[cfg(feature = "runtime")]
pub use externref::ExternRef;
#[cfg(feature = "runtime")]
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
#[cfg(feature = "runtime")]
pub use global::Global;
#[cfg(feature = "runtime")]
pub use instance::{Export, Instance};
#[cfg(feature = "runtime")]
pub use limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, EpochHandle, MAX_FUEL,
    ResourceLimiter, StoreLimits, StoreLimitsBuilder,
};
#[cfg(feature = "runtime")]
pub use linker::Linker;
#[cfg(feature = "runtime")]
pub use memory::{Memory, MemoryAccessError};
#[cfg(feature = "runtime")]
pub use module::{EmbeddedComponent, EmbeddedModule, Module};
#[cfg(feature = "runtime")]
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
#[cfg(feature = "runtime")]
pub use table::Table;
#[cfg(feature = "runtime")]
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, Mutability, TableType,
    ValType,
};
#[cfg(feature = "runtime")]
pub use values::{Ref, V128, Val};
