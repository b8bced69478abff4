//! WASI preview 1 end to end: small `.wat` guests for exact ABI checks (pointers, errnos, exit,
//! determinism), then the C fixtures of `tests/fixtures/wasi/p1/` (built with wasi-libc),
//! compiled in-process by `aot-build`, run with `wasi::preview1` and their output captured with
//! `MemoryOutputPipe` and asserted line by line (expected outputs: tests/fixtures/wasi/README.md).
//! Preopens are fresh directories under the system's temporary directory, removed afterwards.
//!
//! `wat.rs`: small guests; `functions.rs`: every function through a forwarding guest;
//! `fixtures.rs`: the C programs. This file holds the helpers they share.

mod fixtures;
mod functions;
mod wat;

use crate::wasi_common::{
    Captured, Counting, FILES_STEPS, Output, TempDir, check_escape, fixture_artifact, lines,
};
use aot_runtime::wasi::{
    DirPerms, FilePerms, HostMonotonicClock, HostWallClock, MemoryInputPipe, MemoryOutputPipe,
    WasiCtxBuilder, preview1,
};
use aot_runtime::{Linker, Module, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The compiled artifact of `tests/fixtures/wasi/p1/<name>.wasm` (compiled once per process).
fn fixture(name: &str) -> Module {
    aot_tests::load(fixture_artifact("p1", name)).unwrap()
}

/// Runs `module`'s `_start` with the context `builder` describes plus captured stdout/stderr;
/// returns the status and the raw bytes written to both.
fn run_bytes(module: &Module, builder: &mut WasiCtxBuilder) -> (i32, Vec<u8>, Vec<u8>) {
    let (ctx, captured) = Captured::build(builder);
    let mut store = Store::new(ctx);
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).unwrap();
    let status = preview1::run_command(&mut store, &linker, module).unwrap();
    // The context (holding the other pipe handles) goes with the store.
    drop(store);
    let (stdout, stderr) = captured.into_bytes();
    (status, stdout, stderr)
}

/// As [`run_bytes`], with the output as text.
fn run(module: &Module, builder: &mut WasiCtxBuilder) -> Output {
    let (status, stdout, stderr) = run_bytes(module, builder);
    Output {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Runs `wasi-demo` with `args` (argv[0] = `wasi-demo`).
fn demo(args: &[&str], builder: &mut WasiCtxBuilder) -> Output {
    builder.arg("wasi-demo").args(args);
    run(&fixture("wasi-demo"), builder)
}

/// A wall clock stopped at `secs` after the epoch.
struct FixedWall(u64);

impl HostWallClock for FixedWall {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }
    fn now(&self) -> Duration {
        Duration::from_secs(self.0)
    }
}

/// A monotonic clock that advances by `step` ns at every read.
struct SteppingClock {
    now: AtomicU64,
    step: u64,
}

impl HostMonotonicClock for SteppingClock {
    fn resolution(&self) -> u64 {
        1000
    }
    fn now(&self) -> u64 {
        self.now.fetch_add(self.step, Ordering::Relaxed)
    }
}
