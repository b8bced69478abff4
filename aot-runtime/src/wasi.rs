//! WASI for guests run by this runtime: one [`WasiCtx`] (arguments, environment, stdio, preopened
//! directories, clocks and random sources) shared by every WASI flavour, and
//! [`preview1::add_to_linker`], the `wasi_snapshot_preview1` host functions for core modules.
//!
//! The context is built with [`WasiCtxBuilder`] and stored in the store's data; host functions
//! reach it through [`WasiView`], which `WasiCtx` itself implements, so the shortest program is:
//!
//! ```no_run
//! use aot_runtime::wasi::{WasiCtxBuilder, preview1};
//! use aot_runtime::{Linker, Module, Store};
//!
//! # fn run(module: &Module) -> aot_runtime::Result<()> {
//! let ctx = WasiCtxBuilder::new().arg("app").inherit_stdio().build();
//! let mut store = Store::new(ctx);
//! let mut linker = Linker::new();
//! preview1::add_to_linker(&mut linker)?;
//! let status = preview1::run_command(&mut store, &linker, module)?;
//! std::process::exit(status);
//! # }
//! ```
//!
//! An embedder that needs its own data next to the context implements [`WasiView`] for its
//! store data type.
//!
//! # Sandboxing
//!
//! A guest reaches only the directories the embedder preopened
//! ([`WasiCtxBuilder::preopened_dir`]). Paths are resolved by `cap-std` one component at a time
//! with `openat`-style system calls relative to the preopened directory's handle, so `..`,
//! absolute paths and symbolic links that would leave it are refused by construction (the guest
//! gets `not-permitted`, `EPERM` in preview 1); paths are never resolved by string manipulation.
//! A preopen without [`DirPerms::MUTATE`] and [`FilePerms::WRITE`] refuses every write.
//!
//! # Determinism
//!
//! Clocks and random sources are traits ([`HostWallClock`], [`HostMonotonicClock`],
//! [`RandomSource`]) the embedder can replace, for example with fixed values in tests.
//!
//! # Exit
//!
//! A guest that calls `proc_exit` (or `wasi:cli/exit`) ends with an [`Error`](crate::Error)
//! wrapping [`I32Exit`]; the runner finds it with `err.downcast_ref::<I32Exit>()`. The host
//! process is not ended.

mod clocks;
mod ctx;
pub(crate) mod fs;
pub mod p2;
mod pipe;
pub mod preview1;
mod random;

pub use clocks::{HostMonotonicClock, HostWallClock, SystemMonotonicClock, SystemWallClock};
pub use ctx::{WasiCtx, WasiCtxBuilder, WasiView};
pub use fs::{DirPerms, FilePerms};
pub use pipe::{InputSource, MemoryInputPipe, MemoryOutputPipe, OutputSink, StdinData};
pub use random::{InsecureRandom, OsRandom, RandomSource};

use core::fmt;

/// The error a host function returns when the guest asks to exit (`proc_exit` in preview 1,
/// `wasi:cli/exit` in WASI 0.2) with the given status. It unwinds the guest's frames like a trap;
/// the runner gets it back with `err.downcast_ref::<I32Exit>()`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exited with i32 exit status {}", self.0)
    }
}

impl core::error::Error for I32Exit {}
