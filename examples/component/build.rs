//! Compiles the example's component ahead of time, while `cargo build` runs.
//!
//! `wasm/inventory.wasm` is a component built from C (`wasm/inventory.c`, see `wasm/build.sh`).
//! `aot_build::compile` sees from its header that it is a component, validates it, compiles all
//! of its core modules into one artifact in `OUT_DIR`, and records the component's types and
//! instantiation plan next to the code. `include_component!("wasm/inventory.wasm")` in
//! `src/main.rs` embeds that artifact; the two path strings must be the same.

fn main() {
    aot_build::compile("wasm/inventory.wasm").unwrap();
}
