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

use aot_runtime::wasi::{
    DirPerms, FilePerms, HostMonotonicClock, HostWallClock, MemoryInputPipe, MemoryOutputPipe,
    RandomSource, WasiCtxBuilder, preview1,
};
use aot_runtime::{Linker, Module, Store};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A fresh host directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "aot-wasi-p1-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The compiled artifact of `tests/fixtures/wasi/p1/<name>.wasm` (compiled once per process).
fn fixture(name: &str) -> Module {
    static HELLO: OnceLock<Vec<u8>> = OnceLock::new();
    static DEMO: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = match name {
        "hello" => &HELLO,
        "wasi-demo" => &DEMO,
        _ => panic!("no fixture {name}"),
    };
    let artifact = cell.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/wasi/p1")
            .join(format!("{name}.wasm"));
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        aot_tests::compile(&wasm).unwrap_or_else(|e| panic!("{name}: {e}"))
    });
    aot_tests::load(artifact).unwrap()
}

/// What a command printed and how it ended.
struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `module`'s `_start` with the context `builder` describes plus captured stdout/stderr;
/// returns the status and the raw bytes written to both.
fn run_bytes(module: &Module, builder: &mut WasiCtxBuilder) -> (i32, Vec<u8>, Vec<u8>) {
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let ctx = builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let mut store = Store::new(ctx);
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).unwrap();
    let status = preview1::run_command(&mut store, &linker, module).unwrap();
    // The context (holding the other pipe handles) goes with the store.
    drop(store);
    (
        status,
        stdout.try_into_inner().unwrap(),
        stderr.try_into_inner().unwrap(),
    )
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

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
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

/// "Random" bytes 1, 2, 3, ... (wrapping).
struct Counting(u8);

impl RandomSource for Counting {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}
