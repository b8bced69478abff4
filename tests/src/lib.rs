//! Shared helpers of the end-to-end tests: compile Wasm with `aot-build` in this process and load
//! the artifact bytes with `aot-runtime`.
//!
//! The test binaries (`tests/spec.rs`, `tests/all/`) go through the real pipeline, Wasm ->
//! `aot_build::Config::compile_bytes` -> artifact bytes -> `Module::deserialize`, and this crate
//! holds the one `unsafe` call that pipeline needs ([`load`]). It does not call the compiler on a
//! background thread or cache anything: each call compiles afresh.
#![deny(unsafe_code)]

use aot_runtime::Module;

/// Compiles Wasm text or binary with the default `aot-build` configuration (all supported
/// features on) into artifact bytes.
///
/// # Errors
/// The compiler's error, e.g. for invalid Wasm.
pub fn compile(wasm_or_wat: impl AsRef<[u8]>) -> Result<Vec<u8>, aot_build::Error> {
    aot_build::Config::new().compile_bytes(wasm_or_wat.as_ref())
}

/// Loads artifact bytes produced by `aot-build` in this process.
///
/// # Errors
/// The runtime's load error (wrong version, target or kind, malformed sections).
#[allow(
    unsafe_code,
    reason = "the one place the tests call `Module::deserialize`"
)]
pub fn load(artifact: &[u8]) -> aot_runtime::Result<Module> {
    // SAFETY: every caller passes bytes written by `aot_build` in this same process (same version,
    // same target), possibly patched on purpose to test that the runtime refuses them; the runtime
    // checks the ELF container and the compatibility record before trusting any other byte.
    unsafe { Module::deserialize(artifact) }
}

/// Compiles `wat` and loads it.
///
/// # Panics
/// If compiling or loading fails, with the error's message (for tests whose Wasm is meant to be
/// valid).
pub fn module(wat: &str) -> Module {
    let artifact = compile(wat).unwrap_or_else(|e| panic!("compile failed: {e}"));
    load(&artifact).unwrap_or_else(|e| panic!("load failed: {e}"))
}

/// Loads component artifact bytes produced by `aot-build` in this process.
///
/// # Errors
/// The runtime's load error (wrong version, target or kind, malformed sections or plan).
#[allow(
    unsafe_code,
    reason = "the one place the tests call `Component::deserialize`"
)]
pub fn load_component(artifact: &[u8]) -> aot_runtime::Result<aot_runtime::component::Component> {
    // SAFETY: as in `load`: the bytes were written by `aot_build` in this same process, possibly
    // damaged on purpose to test that the runtime refuses them.
    unsafe { aot_runtime::component::Component::deserialize(artifact) }
}

/// Compiles component text and loads it.
///
/// # Panics
/// If compiling or loading fails, with the error's message.
pub fn component(wat: &str) -> aot_runtime::component::Component {
    let artifact = compile(wat).unwrap_or_else(|e| panic!("compile failed: {e}"));
    load_component(&artifact).unwrap_or_else(|e| panic!("load failed: {e}"))
}
