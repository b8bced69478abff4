//! Build script of the benchmark: everything that must exist before `src/` compiles.
//!
//! - The native baseline: each C kernel in `kernels/` compiled by the system C compiler through
//!   the `cc` crate (gcc -O2 here), as a static library exporting `<kernel>_run`.
//! - Our artifacts: each kernel's committed `.wasm` and the `.wat` modules and component in `wat/`
//!   compiled by `aot_build` into `OUT_DIR`, for `include_module!` and `include_component!`.
//! - The instantiation modules generated here rather than committed: two with 1 MiB and 16 MiB
//!   of data segments (as text, 16 MiB of data would be a ~48 MiB `.wat`) and `funcs_10k`, 10,000
//!   functions all listed in one funcref table. Their Wasm binaries go to `OUT_DIR` (Wasmtime
//!   compiles those at startup) and their artifacts to the path
//!   `include_module!("generated/<name>.wasm")` expects (`aot_build::artifact_path`).

use std::path::Path;

/// The kernels: `kernels/<name>.c` and `kernels/<name>.wasm` (built from it by `kernels/build.sh`).
const KERNELS: &[&str] = &[
    "crc32", "fib", "interp", "matmul", "memops", "nbody", "sha256", "sort",
];

/// The generated instantiation modules: name and bytes of data.
const DATA_MODULES: &[(&str, usize)] =
    &[("instantiate_1m", 1 << 20), ("instantiate_16m", 16 << 20)];

/// How many functions (and table entries) `funcs_10k` has.
const FUNCS: u32 = 10_000;

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
        generated(&out_dir, name, &data_module(bytes));
    }
    generated(&out_dir, "funcs_10k", &funcs_module(FUNCS));
}

/// Writes a generated module's Wasm to `OUT_DIR/<name>.wasm` and its artifact where
/// `include_module!("generated/<name>.wasm")` looks for it.
fn generated(out_dir: &str, name: &str, wasm: &[u8]) {
    let wasm_path = Path::new(out_dir).join(format!("{name}.wasm"));
    std::fs::write(&wasm_path, wasm).expect("cannot write a generated module");
    let artifact = aot_build::Config::from_env()
        .module_name(name)
        .compile_bytes(wasm)
        .unwrap_or_else(|e| panic!("aot-build failed for {name}: {e}"));
    let key = format!("generated/{name}.wasm");
    let artifact_path = aot_build::artifact_path(Path::new(out_dir), Path::new(&key));
    std::fs::create_dir_all(
        artifact_path
            .parent()
            .expect("artifact paths have a parent"),
    )
    .expect("cannot create the artifact directory");
    std::fs::write(&artifact_path, artifact).expect("cannot write a generated artifact");
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

/// `funcs_10k`, the shape of a C or Rust program whose functions are all address-taken: `count`
/// small defined functions, a funcref table of exactly `count` entries filled by one active
/// element segment at offset 0 listing every function in order, `(memory (export "memory") 1)`
/// without data, and
/// `(func (export "call") (param i32 i32) (result i32) (call_indirect (type 0) (local.get 1) (local.get 0)))`,
/// which calls table slot `$0` with argument `$1`.
///
/// Function `i` (and slot `i`) has `K = i` and a shape chosen by `i % 4`: 0 `x + K`, 1 `x * K`,
/// 2 `x - K` (all `(param i32) (result i32)`, type 0) and 3 `(param i32 i32) (result i32)`
/// `x + y + K` (type 1, which `call` rejects with a signature trap).
/// `bench.rs` (`funcs_expected`) computes the same values to check `call` on both runtimes.
fn funcs_module(count: u32) -> Vec<u8> {
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    // Type section: 0 = (func (param i32) (result i32)), 1 = (func (param i32 i32) (result i32)).
    section(
        &mut wasm,
        1,
        &[2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7f],
    );
    // Function section: the `count` functions, then `call` (type 1).
    let mut functions = Vec::new();
    leb128(&mut functions, u64::from(count) + 1);
    functions.extend((0..count).map(|i| u8::from(i % 4 == 3)));
    functions.push(1);
    section(&mut wasm, 3, &functions);
    // Table section: one funcref table, min = max = `count`.
    let mut table = vec![1, 0x70, 1];
    leb128(&mut table, u64::from(count));
    leb128(&mut table, u64::from(count));
    section(&mut wasm, 4, &table);
    // Memory section: one memory of one page, no max.
    section(&mut wasm, 5, &[1, 0, 1]);
    // Export section: "memory" (memory 0) and "call" (func `count`).
    let mut exports = vec![2];
    for (name, kind, index) in [("memory", 2u8, 0), ("call", 0u8, count)] {
        leb128(&mut exports, name.len() as u64);
        exports.extend_from_slice(name.as_bytes());
        exports.push(kind);
        leb128(&mut exports, u64::from(index));
    }
    section(&mut wasm, 7, &exports);
    // Element section: one active segment of table 0 at (i32.const 0), functions 0..count.
    let mut elements = vec![1, 0, 0x41, 0, 0x0b];
    leb128(&mut elements, u64::from(count));
    for i in 0..count {
        leb128(&mut elements, u64::from(i));
    }
    section(&mut wasm, 9, &elements);
    // Code section: each body is its size, no locals, the instructions and `end`.
    let mut code = Vec::new();
    leb128(&mut code, u64::from(count) + 1);
    for i in 0..count {
        // local.get 0, then for two params local.get 1 and i32.add.
        let mut body = vec![0, 0x20, 0];
        if i % 4 == 3 {
            body.extend_from_slice(&[0x20, 1, 0x6a]);
        }
        body.push(0x41);
        sleb128(&mut body, i64::from(i));
        // i32.add, i32.mul, i32.sub, i32.add.
        body.push([0x6a, 0x6c, 0x6b, 0x6a][(i % 4) as usize]);
        body.push(0x0b);
        leb128(&mut code, body.len() as u64);
        code.extend_from_slice(&body);
    }
    // `call`: no locals, local.get 1, local.get 0, call_indirect (type 0) (table 0), end.
    let call = [0, 0x20, 1, 0x20, 0, 0x11, 0, 0, 0x0b];
    leb128(&mut code, call.len() as u64);
    code.extend_from_slice(&call);
    section(&mut wasm, 10, &code);
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

fn sleb128(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
