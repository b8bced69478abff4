//! Build script of the benchmark: everything that must exist before `src/` compiles.
//!
//! - The native baseline: each C kernel in `kernels/` compiled by the system C compiler through
//!   the `cc` crate (gcc -O2 here), as a static library exporting `<kernel>_run`.
//! - Our artifacts: each kernel's committed `.wasm` and the `.wat` modules and component in `wat/`
//!   compiled by `aot_build` into `OUT_DIR`, for `include_module!` and `include_component!`.
//! - The two large instantiation modules (1 MiB and 16 MiB of data segments), generated here
//!   rather than committed (as text, 16 MiB of data would be a ~48 MiB `.wat`): their Wasm
//!   binaries go to `OUT_DIR` (Wasmtime compiles those at startup) and their artifacts to the path
//!   `include_module!("generated/<name>.wasm")` expects (`aot_build::artifact_path`).

use std::path::Path;

/// The kernels: `kernels/<name>.c` and `kernels/<name>.wasm` (built from it by `kernels/build.sh`).
const KERNELS: &[&str] = &[
    "crc32", "fib", "interp", "matmul", "memops", "nbody", "sha256", "sort",
];

/// The generated instantiation modules: name and bytes of data.
const DATA_MODULES: &[(&str, usize)] =
    &[("instantiate_1m", 1 << 20), ("instantiate_16m", 16 << 20)];

fn main() {
    println!("cargo:rerun-if-changed=kernels/kernel.h");
    for kernel in KERNELS {
        native_kernel(kernel);
        aot_build::compile(format!("kernels/{kernel}.wasm"))
            .unwrap_or_else(|e| panic!("aot-build failed for kernel {kernel}: {e}"));
    }
    // `component.wat` is a component: `aot_build` tells it apart by its header.
    for wat in [
        "wat/calls.wat",
        "wat/instantiate_nodata.wat",
        "wat/component.wat",
    ] {
        aot_build::compile(wat).unwrap_or_else(|e| panic!("aot-build failed for {wat}: {e}"));
    }
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    for &(name, bytes) in DATA_MODULES {
        let wasm = data_module(bytes);
        let wasm_path = Path::new(&out_dir).join(format!("{name}.wasm"));
        std::fs::write(&wasm_path, &wasm).expect("cannot write a generated module");
        let artifact = aot_build::Config::from_env()
            .module_name(name)
            .compile_bytes(&wasm)
            .unwrap_or_else(|e| panic!("aot-build failed for {name}: {e}"));
        let key = format!("generated/{name}.wasm");
        let artifact_path = aot_build::artifact_path(Path::new(&out_dir), Path::new(&key));
        std::fs::create_dir_all(
            artifact_path
                .parent()
                .expect("artifact paths have a parent"),
        )
        .expect("cannot create the artifact directory");
        std::fs::write(&artifact_path, artifact).expect("cannot write a generated artifact");
    }
}

/// Compiles `kernels/<name>.c` natively into `libkernel_<name>.a`, with `run` renamed `<name>_run`.
fn native_kernel(name: &str) {
    let source = format!("kernels/{name}.c");
    println!("cargo:rerun-if-changed={source}");
    cc::Build::new()
        .file(&source)
        .include("kernels")
        // The same level as the Wasm build (clang -O2), whatever Cargo's profile says.
        .opt_level(2)
        // Lets gcc inline `sqrt` as one instruction, like Wasm's `f64.sqrt` (no errno, no libm).
        .flag("-fno-math-errno")
        .define("run", format!("{name}_run").as_str())
        .warnings(true)
        .compile(&format!("kernel_{name}"));
}

/// A module with `(memory (export "memory") <pages>)`, one active data segment of `bytes`
/// pseudo-random bytes at offset 0, and `(func (export "get") (param i32) (result i32))` that
/// loads a byte: the shape of `wat/instantiate_nodata.wat` plus the data.
fn data_module(bytes: usize) -> Vec<u8> {
    let pages = bytes / 65536 + 1;
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    // Type section: (func (param i32) (result i32)).
    section(&mut wasm, 1, &[1, 0x60, 1, 0x7f, 1, 0x7f]);
    // Function section: one function of type 0.
    section(&mut wasm, 3, &[1, 0]);
    // Memory section: one memory, min `pages`, no max.
    let mut memory = vec![1, 0];
    leb128(&mut memory, pages as u64);
    section(&mut wasm, 5, &memory);
    // Export section: "memory" (memory 0) and "get" (func 0).
    let mut exports = vec![2];
    for (name, kind) in [("memory", 2u8), ("get", 0u8)] {
        leb128(&mut exports, name.len() as u64);
        exports.extend_from_slice(name.as_bytes());
        exports.extend_from_slice(&[kind, 0]);
    }
    section(&mut wasm, 7, &exports);
    // Code section: local.get 0; i32.load8_u; end.
    section(&mut wasm, 10, &[1, 7, 0, 0x20, 0, 0x2d, 0, 0, 0x0b]);
    // Data section: one active segment at (i32.const 0).
    let mut data = vec![1, 0, 0x41, 0, 0x0b];
    leb128(&mut data, bytes as u64);
    let mut x: u32 = 0x2545_f491;
    data.extend((0..bytes).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    section(&mut wasm, 11, &data);
    wasm
}

fn section(wasm: &mut Vec<u8>, id: u8, contents: &[u8]) {
    wasm.push(id);
    leb128(wasm, contents.len() as u64);
    wasm.extend_from_slice(contents);
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
