//! API-level end-to-end tests: every test goes Wasm text -> `aot-build` -> artifact bytes (or an
//! artifact embedded with `include_module!`) -> `aot-runtime` -> calls, and asserts real values.
//!
//! One binary, one module per topic (the wasmtime `tests/all` layout), so the compiler and runtime
//! are linked once.
// `include_module!` expands to an `unsafe` block, which rustc does not report in an external
// macro's expansion; the tests write no `unsafe` of their own (loading bytes goes through
// `aot_tests::load`).
#![forbid(unsafe_code)]

mod component;
mod embed;
mod host;
mod limits;
mod linking;
mod load;
mod memory;
mod tables;
mod threads;
mod traps;
mod wasi_common;
mod wasi_p1;
mod wasi_p2;
mod wasi_p2_fs;
