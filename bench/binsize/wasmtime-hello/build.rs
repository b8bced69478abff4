//! Precompiles `examples/hello/wasm/hello.wat` with Wasmtime (the equivalent of our `build.rs`
//! calling `aot_build::compile`) into `OUT_DIR/hello.cwasm`, which `src/main.rs` embeds.

fn main() {
    let wat = "../../../examples/hello/wasm/hello.wat";
    println!("cargo:rerun-if-changed={wat}");
    let source = std::fs::read(wat).expect("cannot read examples/hello/wasm/hello.wat");
    // The default configuration of a runtime-only Wasmtime, plus the compiler.
    let engine = wasmtime::Engine::default();
    let cwasm = engine
        .precompile_module(&source)
        .expect("wasmtime cannot compile hello.wat");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("hello.cwasm");
    std::fs::write(out, cwasm).expect("cannot write hello.cwasm");
}
