//! WASI 0.2 for components: [`add_to_linker`] defines the interfaces of the `wasi:cli/command`
//! world at version 0.2.6 (the linker's semver matching gives them to any `0.2.x` import), and
//! [`run_command`] runs a command's `wasi:cli/run.run`. The state is the
//! [`WasiCtx`](super::WasiCtx) of the
//! store's data (found through [`WasiView`]); the values behind resource handles live in its
//! resource table.
//!
//! ```no_run
//! use aot_runtime::Store;
//! use aot_runtime::component::{Component, Linker};
//! use aot_runtime::wasi::{WasiCtxBuilder, p2};
//!
//! # fn run(component: &Component) -> aot_runtime::Result<()> {
//! let mut store = Store::new(WasiCtxBuilder::new().arg("app").inherit_stdio().build());
//! let mut linker = Linker::new();
//! p2::add_to_linker(&mut linker)?;
//! let status = p2::run_command(&mut store, &linker, component)?;
//! std::process::exit(status);
//! # }
//! ```
//!
//! Everything is synchronous: a host function completes (or blocks the calling thread, as a
//! read of the inherited stdin or a `poll` on a clock deadline does) before it returns. What the
//! guest sees of stream permits, pollables and errors is described in `p2/streams.rs`.
//!
//! # Status of every WASI 0.2 function
//!
//! "yes" is implemented as the WIT says; resources are dropped by the guest (`[resource-drop]`),
//! which deletes the value from the table (a stream dropped while a pollable or, for a file
//! stream's descriptor, a stream made from it is alive traps, as in Wasmtime).
//!
//! | interface | function | status |
//! |---|---|---|
//! | `wasi:io/error` | `[method]error.to-debug-string` | yes |
//! | `wasi:io/poll` | `[method]pollable.ready` | yes |
//! | `wasi:io/poll` | `[method]pollable.block` | yes: sleeps until a clock deadline |
//! | `wasi:io/poll` | `poll` | yes: traps on an empty list, like Wasmtime |
//! | `wasi:io/streams` | `[method]input-stream.read`, `blocking-read` | yes: at most 1 MiB per call; the inherited stdin blocks |
//! | `wasi:io/streams` | `[method]input-stream.skip`, `blocking-skip` | yes |
//! | `wasi:io/streams` | `[method]input-stream.subscribe` | yes: always ready |
//! | `wasi:io/streams` | `[method]output-stream.check-write` | yes: 1 MiB, or a pipe's remaining capacity |
//! | `wasi:io/streams` | `[method]output-stream.write` | yes: traps beyond the permit, like Wasmtime |
//! | `wasi:io/streams` | `[method]output-stream.blocking-write-and-flush` | yes: traps beyond 4096 bytes, like Wasmtime |
//! | `wasi:io/streams` | `[method]output-stream.flush`, `blocking-flush` | yes |
//! | `wasi:io/streams` | `[method]output-stream.subscribe` | yes: always ready |
//! | `wasi:io/streams` | `[method]output-stream.write-zeroes` | yes |
//! | `wasi:io/streams` | `[method]output-stream.blocking-write-zeroes-and-flush` | yes: traps beyond 4096 bytes |
//! | `wasi:io/streams` | `[method]output-stream.splice`, `blocking-splice` | yes |
//! | `wasi:cli/environment` | `get-environment`, `get-arguments` | yes |
//! | `wasi:cli/environment` | `initial-cwd` | yes: always `none` |
//! | `wasi:cli/exit` | `exit` | yes: exit status 0 for `ok`, 1 for `err` ([`I32Exit`]) |
//! | `wasi:cli/exit` | `exit-with-code` (unstable in the WIT) | yes: the code as the exit status |
//! | `wasi:cli/run` | `run` (exported by the guest) | called by [`run_command`] |
//! | `wasi:cli/stdin`, `stdout`, `stderr` | `get-stdin`, `get-stdout`, `get-stderr` | yes: a new handle each call |
//! | `wasi:cli/terminal-input`, `terminal-output` | (resources without methods) | yes |
//! | `wasi:cli/terminal-stdin`, `-stdout`, `-stderr` | `get-terminal-stdin`, ... | yes: `some` only for an inherited stream that is a terminal |
//! | `wasi:clocks/monotonic-clock` | `now`, `resolution` | yes: the context's monotonic clock |
//! | `wasi:clocks/monotonic-clock` | `subscribe-instant`, `subscribe-duration` | yes: a deadline pollable |
//! | `wasi:clocks/wall-clock` | `now`, `resolution` | yes: the context's wall clock |
//! | `wasi:clocks/timezone` (unstable) | `display`, `utc-offset` | no: not defined, an import is an unknown import |
//! | `wasi:random/random` | `get-random-bytes`, `get-random-u64` | yes: the secure source |
//! | `wasi:random/insecure` | `get-insecure-random-bytes`, `get-insecure-random-u64` | yes: the insecure source |
//! | `wasi:random/insecure-seed` | `insecure-seed` | yes: the context's seed, low half first |
//! | `wasi:filesystem/types` | every `descriptor` and `directory-entry-stream` method, `filesystem-error-code` | see `p2/filesystem.rs` |
//! | `wasi:filesystem/preopens` | `get-directories` | see `p2/filesystem.rs` |
//! | `wasi:sockets/network`, `instance-network`, `udp`, `udp-create-socket`, `tcp`, `tcp-create-socket`, `ip-name-lookup` | all | no: importing any of them fails to link, naming it |
//! | `wasi:http/types`, `outgoing-handler` | all | no: importing either fails to link, naming it |

mod cli;
mod clocks;
mod filesystem;
mod random;
mod streams;

use super::{I32Exit, WasiView};
use crate::Store;
use crate::component::{Component, Linker};
use crate::error::Result;
use crate::prelude::*;

/// The interfaces that are known but not implemented: a component importing one of them fails
/// to link with an error naming it.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("wasi:sockets/network", "wasi:sockets"),
    ("wasi:sockets/instance-network", "wasi:sockets"),
    ("wasi:sockets/udp", "wasi:sockets"),
    ("wasi:sockets/udp-create-socket", "wasi:sockets"),
    ("wasi:sockets/tcp", "wasi:sockets"),
    ("wasi:sockets/tcp-create-socket", "wasi:sockets"),
    ("wasi:sockets/ip-name-lookup", "wasi:sockets"),
    ("wasi:http/types", "wasi:http"),
    ("wasi:http/outgoing-handler", "wasi:http"),
];

/// Defines every WASI 0.2 interface this runtime implements in `linker`, at version `0.2.6`
/// (any `0.2.x` import finds them), and marks `wasi:sockets` and `wasi:http` as not
/// implemented, so that importing them fails at link time with a message naming them.
///
/// # Errors
/// If a name is already defined in `linker` and shadowing is not allowed.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    streams::add_to_linker(linker)?;
    cli::add_to_linker(linker)?;
    clocks::add_to_linker(linker)?;
    random::add_to_linker(linker)?;
    // `wasi:filesystem/types` uses (so re-exports) these `wasi:io` resources. When the
    // component imported `wasi:io` first the linker does not need them here; defining them (as
    // the same host types) keeps a component that imports `types` alone linking too.
    let mut types = linker.instance("wasi:filesystem/types@0.2.6")?;
    for name in ["input-stream", "output-stream", "error"] {
        streams::define_io_resource(&mut types, name)?;
    }
    filesystem::add_to_linker(linker)?;
    let mut root = linker.root();
    for (interface, package) in UNSUPPORTED {
        root.unsupported(
            &format!("{interface}@0.2.6"),
            &format!("`{package}` is not implemented by this runtime"),
        )?;
    }
    Ok(())
}

/// Runs the command `component`: instantiates it with `linker` in `store` and calls its
/// `wasi:cli/run.run` export (any `0.2.x`). Returns the exit status: 0 when `run` returns
/// `ok`, 1 for `err`, or the status the guest gave `wasi:cli/exit` ([`I32Exit`]).
///
/// # Errors
/// A link error, a missing or mistyped `run` export, or a trap.
pub fn run_command<T: WasiView + 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    component: &Component,
) -> Result<i32> {
    let instance = linker.instantiate(&mut *store, component)?;
    let run = instance.get_typed_func::<(), (core::result::Result<(), ()>,)>(&mut *store, RUN)?;
    match run.call(&mut *store, ()) {
        Ok((Ok(()),)) => Ok(0),
        Ok((Err(()),)) => Ok(1),
        Err(err) => match err.downcast_ref::<I32Exit>() {
            Some(I32Exit(status)) => Ok(*status),
            None => Err(err),
        },
    }
}

/// The export [`run_command`] calls.
const RUN: &str = "wasi:cli/run@0.2.6#run";
