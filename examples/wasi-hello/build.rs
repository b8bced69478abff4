//! Compiles the example's WASI command component ahead of time, while `cargo build` runs.
//!
//! `wasm/hello.wasm` is a component built from C (`wasm/hello.c`, see `wasm/build.sh`): wasi-libc
//! compiled to a preview-1 core module, wrapped into a component by `wit-component` with the
//! preview-1 adapter. It imports WASI 0.2 (`wasi:cli`, `wasi:io`, `wasi:filesystem`, ...) and
//! exports `wasi:cli/run`. `include_component!("wasm/hello.wasm")` in `src/main.rs` embeds the
//! artifact this writes to `OUT_DIR`.

fn main() {
    aot_build::compile("wasm/hello.wasm").unwrap();
}
