//! Compiles the example's WebAssembly ahead of time, while `cargo build` runs.
//!
//! `aot_build::compile` reads `wasm/hello.wat` (text or binary Wasm both work), validates it,
//! compiles it to native code for the target being built (Cargo's `TARGET`), and writes one
//! artifact into `OUT_DIR`. It also prints `cargo:rerun-if-changed=wasm/hello.wat`, so editing the
//! Wasm rebuilds the crate. `include_module!("wasm/hello.wat")` in `src/main.rs` then embeds that
//! artifact; the two path strings must be the same.

fn main() {
    // A compile error (invalid Wasm, unsupported proposal) fails the build with a message naming
    // the file, the function and the byte offset.
    aot_build::compile("wasm/hello.wat").unwrap();
}
