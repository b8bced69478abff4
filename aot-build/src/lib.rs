//! Compiles WebAssembly ahead of time, from a build script, into an artifact that `aot-runtime`
//! loads and runs without any compiler.
//!
//! ```no_run
//! // build.rs (with `aot-build` in [build-dependencies])
//! fn main() {
//!     // Compiles wasm/app.wat (text or binary) for the crate's target into
//!     // OUT_DIR/aot/app.wat-<hash>.aot and tells Cargo to rerun when it changes.
//!     aot_build::compile("wasm/app.wat").unwrap();
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs: embed the artifact and run it.
//! static APP: aot_runtime::EmbeddedModule = aot_runtime::include_module!("wasm/app.wat");
//! ```
//!
//! This crate is the compiler half of the project: it parses and validates Wasm with
//! wasmparser, translates each function to Cranelift IR, compiles it, generates the trampolines
//! the runtime needs to call in and out of Wasm, and writes everything as one ELF file (see
//! ARCHITECTURE.md). It is not a runtime and never runs the code it produces; it is meant for
//! build scripts and tools, never for a shipped binary.
//!
//! # Compile times: optimize the build script
//!
//! Build scripts and their dependencies are compiled without optimization in the `dev` profile,
//! which makes Cranelift roughly ten times slower. Add this to the workspace's `Cargo.toml` so
//! that debug builds of your crate compile Wasm quickly (it changes only how build scripts are
//! compiled, not your crate):
//!
//! ```toml
//! [profile.dev.build-override]
//! opt-level = 3
//! ```
//!
//! # What is supported
//!
//! | Feature | |
//! |---|---|
//! | WebAssembly 2.0 (MVP, multi-value, bulk memory, reference types, ...) | always |
//! | SIMD, tail calls, extended constant expressions, multiple memories | on by default, see [`Config`] |
//! | threads, GC, exceptions, memory64, relaxed SIMD, other proposals | rejected, the error names the proposal |
//! | components: nested components, resources, the `memory`, `realloc`, `post-return` and string-encoding options | one artifact per component |
//! | async, streams, futures, `error-context`, maps, fixed-length lists, values, start | rejected, the error names the feature |
//! | targets | `x86_64` and `aarch64`, 64-bit, any OS the runtime supports |
//!
//! # Determinism
//!
//! The artifact is a pure function of the input bytes and the [`Config`]: the same inputs give
//! byte-identical output, whatever machine runs the build. CPU features are never detected from
//! the build machine; see [`Config::cpu_features`].
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![allow(
    clippy::needless_doctest_main,
    reason = "the crate docs open with a build script, whose `main` is the point"
)]

mod codegen;
mod component;
mod config;
mod emit;
mod environ;
mod error;
mod jobs;
mod trampoline;
mod translate;

pub use config::{BoundsChecks, Config, OptLevel, artifact_path, compile};
pub use error::{Error, Phase};
#[doc(hidden)]
pub use jobs::{ParallelStats, Workers, compile_bytes_with};

use aot_runtime::artifact::header::features;
use aot_runtime::artifact::{DefinedFuncIndex, ModuleInfo, TypeIndex, VMOffsets};
use codegen::{CompiledFunction, Compiler, IsaSetup};
use cranelift_codegen::isa::TargetIsa;
use emit::{CompiledModule, Metadata, WasmToHost};
use std::collections::HashMap;
use trampoline::TrampolineBuilder;
use translate::{FuncEnv, FuncTranslator};
use wasmparser::{FuncValidatorAllocations, Parser};

/// Compiles a Wasm binary, a core module or a component (told apart by the header), into
/// artifact bytes. The name is `explicit_name`, else the name section's, else `fallback_name`
/// (`module` or `component` when `None`).
fn compile_wasm(
    config: &Config,
    setup: &IsaSetup,
    wasm: &[u8],
    explicit_name: Option<&str>,
    fallback_name: Option<&str>,
) -> Result<Vec<u8>, Error> {
    if Parser::is_component(wasm) {
        let fallback = fallback_name.unwrap_or("component");
        component::compile(config, setup, wasm, explicit_name, fallback)
    } else {
        let fallback = fallback_name.unwrap_or("module");
        compile_module(config, setup, wasm, explicit_name, fallback)
    }
}

/// Compiles a core module binary into artifact bytes.
fn compile_module(
    config: &Config,
    setup: &IsaSetup,
    wasm: &[u8],
    explicit_name: Option<&str>,
    fallback_name: &str,
) -> Result<Vec<u8>, Error> {
    let env = environ::parse(wasm, &config.features)?;
    let isa = setup.build_isa()?;
    let name = explicit_name
        .map(String::from)
        .or_else(|| env.name_section_module_name.clone())
        .unwrap_or_else(|| fallback_name.to_string());
    let module = compile_core(config, setup, &*isa, env, name)?;
    let wasm_to_host = compile_wasm_to_host(&[&module.info], &*isa)?;
    emit::emit(
        vec![module],
        wasm_to_host,
        Metadata::Module,
        setup,
        feature_bits(config),
    )
}

/// Compiles one parsed core module (of a module artifact, or one static module of a component):
/// its functions and the host-to-wasm trampolines of those that escape.
fn compile_core(
    config: &Config,
    setup: &IsaSetup,
    isa: &dyn TargetIsa,
    env: environ::ModuleEnvironment<'_>,
    name: String,
) -> Result<CompiledModule, Error> {
    let mut info = env.info;
    info.name = name;
    let escaping = environ::escaping_funcs(&info);
    environ::preapply_elems(&mut info);
    let funcs = compile_functions(config, setup, &info, env.bodies, isa)?;
    let mut compiler = Compiler::new(isa);
    let mut trampolines = TrampolineBuilder::new(isa);
    let array_to_wasm = compile_array_to_wasm(&info, &escaping, &mut trampolines, &mut compiler)?;
    Ok(CompiledModule {
        info,
        data: env.data,
        funcs,
        array_to_wasm,
    })
}

/// Translates (validating) and compiles every function body, with the offset of each body in the
/// Wasm binary, in function order.
///
/// Large modules are compiled by several threads sharing a work queue, as many as Cargo's
/// jobserver allows in a build script (see `jobs.rs`). Every function is compiled independently
/// of the others, so the result does not depend on the number of threads; after a failure, the
/// error is the one of the first failing function in function order.
fn compile_functions(
    config: &Config,
    setup: &IsaSetup,
    info: &ModuleInfo,
    bodies: Vec<environ::FunctionBodyData<'_>>,
    isa: &dyn TargetIsa,
) -> Result<Vec<(CompiledFunction, u32)>, Error> {
    let total: usize = bodies.iter().map(|b| b.size()).sum();
    let plan = jobs::plan(config, total);
    let (funcs, stats) = compile_functions_with(&plan, config, setup, info, bodies, isa);
    jobs::record(config, stats);
    funcs
}

/// [`compile_functions`] on the threads `plan` allows.
fn compile_functions_with(
    plan: &jobs::Plan<'_>,
    config: &Config,
    setup: &IsaSetup,
    info: &ModuleInfo,
    bodies: Vec<environ::FunctionBodyData<'_>>,
    isa: &dyn TargetIsa,
) -> (
    Result<Vec<(CompiledFunction, u32)>, Error>,
    jobs::ParallelStats,
) {
    let func_env = &FuncEnv {
        info,
        offsets: VMOffsets::new(u32::from(setup.pointer_bytes), info.vm_counts()),
        isa,
        explicit_bounds_checks: setup.explicit_bounds_checks,
        consume_fuel: setup.consume_fuel,
        epoch_interruption: setup.epoch_interruption,
    };
    // Each thread has its own translator, compiler and validator allocations.
    let new_state = || {
        (
            FuncTranslator::new(),
            Compiler::new(isa),
            FuncValidatorAllocations::default(),
        )
    };
    jobs::run(plan, bodies, new_state, |state, i, body| {
        compile_function(config, func_env, state, DefinedFuncIndex::new(i), body)
    })
}

/// [`compile_functions`] on exactly `threads` threads, without jobserver.
#[cfg(test)]
fn compile_functions_on(
    threads: usize,
    config: &Config,
    setup: &IsaSetup,
    info: &ModuleInfo,
    bodies: Vec<environ::FunctionBodyData<'_>>,
    isa: &dyn TargetIsa,
) -> Result<Vec<(CompiledFunction, u32)>, Error> {
    let plan = jobs::Plan::Threads(threads);
    compile_functions_with(&plan, config, setup, info, bodies, isa).0
}

/// Translates, validates and compiles the body of the defined function `defined`.
fn compile_function(
    config: &Config,
    func_env: &FuncEnv<'_>,
    (translator, compiler, allocs): &mut (FuncTranslator, Compiler<'_>, FuncValidatorAllocations),
    defined: DefinedFuncIndex,
    body: environ::FunctionBodyData<'_>,
) -> Result<(CompiledFunction, u32), Error> {
    let info = func_env.info;
    let func = info.func_index(defined);
    let in_func = |e: Error| e.with_func(func.0, info.func_name(func));
    let mut validator = body.validator.into_validator(std::mem::take(allocs));
    let ir = translator.translate(func_env, func, &body.body, &mut validator);
    *allocs = validator.into_allocations();
    let ir = ir.map_err(|e| {
        let message = environ::describe_operator_error(&e.message, &config.features);
        in_func(Error::new(Phase::Translate, message).with_offset(e.offset as u64))
    })?;
    let code = compiler.compile(ir).map_err(in_func)?;
    let wasm_offset = u32::try_from(body.body.range().start)
        .map_err(|_| Error::new(Phase::Parse, "modules larger than 4 GiB are not supported"))?;
    Ok((code, wasm_offset))
}

/// Compiles the host-to-wasm trampoline of every escaping function.
fn compile_array_to_wasm(
    info: &ModuleInfo,
    escaping: &[bool],
    trampolines: &mut TrampolineBuilder<'_>,
    compiler: &mut Compiler<'_>,
) -> Result<Vec<(DefinedFuncIndex, CompiledFunction)>, Error> {
    let mut res = Vec::new();
    for (i, &escapes) in escaping.iter().enumerate() {
        if escapes {
            let defined = DefinedFuncIndex::new(i);
            let func = info.func_index(defined);
            let ir = trampolines.array_to_wasm(func, info.func_type(func));
            let code = compiler.compile(ir).map_err(|e| {
                let message = format!("host-to-wasm trampoline: {}", e.message());
                Error::new(Phase::Codegen, message).with_func(func.0, info.func_name(func))
            })?;
            res.push((defined, code));
        }
    }
    Ok(res)
}

/// Compiles one wasm-to-host trampoline per distinct function type of all `modules` together
/// (each type's trampoline is named after the first module and type index that has it).
fn compile_wasm_to_host(modules: &[&ModuleInfo], isa: &dyn TargetIsa) -> Result<WasmToHost, Error> {
    let mut compiler = Compiler::new(isa);
    let mut trampolines = TrampolineBuilder::new(isa);
    let mut res = Vec::new();
    let mut of_type = Vec::with_capacity(modules.len());
    let mut seen = HashMap::new();
    for (m, info) in modules.iter().enumerate() {
        let mut module_of_type = Vec::with_capacity(info.types.len());
        for (i, ty) in info.types.iter().enumerate() {
            let next = res.len();
            let index = *seen.entry(ty).or_insert(next);
            if index == next {
                let ir = trampolines.wasm_to_host(TypeIndex::new(i), ty);
                let code = compiler.compile(ir).map_err(|e| {
                    let message =
                        format!("wasm-to-host trampoline for type {i} {ty}: {}", e.message());
                    Error::new(Phase::Codegen, message)
                })?;
                res.push((m, TypeIndex::new(i), code));
            }
            module_of_type.push(index);
        }
        of_type.push(module_of_type);
    }
    Ok(WasmToHost {
        trampolines: res,
        of_type,
    })
}

/// The Wasm features recorded in the compatibility record.
fn feature_bits(config: &Config) -> u64 {
    let f = &config.features;
    let mut bits = features::REFERENCE_TYPES | features::BULK_MEMORY;
    for (enabled, bit) in [
        (f.simd, features::SIMD),
        (f.tail_call, features::TAIL_CALL),
        (f.extended_const, features::EXTENDED_CONST),
        (f.multi_memory, features::MULTI_MEMORY),
    ] {
        if enabled {
            bits |= bit;
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with many functions of different shapes, calling each other.
    fn many_functions() -> Vec<u8> {
        let mut wat = String::from("(module (memory 1)");
        for i in 0..64 {
            wat.push_str(&format!(
                "(func $f{i} (export \"f{i}\") (param i32 i32) (result i32)
                   local.get 0 i32.const {i} i32.add local.get 1 i32.div_s
                   {}
                   i32.load offset={i})",
                if i > 0 {
                    format!("local.get 0 local.get 1 call $f{} i32.add", i - 1)
                } else {
                    String::new()
                }
            ));
        }
        wat.push(')');
        wat::parse_str(&wat).unwrap()
    }

    #[test]
    fn thread_count_does_not_change_the_code() {
        let config = Config::new();
        let setup = config.resolve().unwrap();
        let isa = setup.build_isa().unwrap();
        let wasm = many_functions();
        let compile = |threads| {
            let env = environ::parse(&wasm, &config.features).unwrap();
            let funcs =
                compile_functions_on(threads, &config, &setup, &env.info, env.bodies, &*isa)
                    .unwrap();
            funcs
                .into_iter()
                .map(|(f, offset)| (f.code, f.traps, f.srclocs, offset))
                .collect::<Vec<_>>()
        };
        let one = compile(1);
        assert_eq!(one.len(), 64);
        assert_eq!(compile(3), one);
        assert_eq!(compile(64), one);
    }

    #[test]
    fn parallel_errors_name_the_first_failing_function() {
        let config = Config::new();
        let setup = config.resolve().unwrap();
        let isa = setup.build_isa().unwrap();
        let mut wat = String::from("(module");
        for i in 0..16 {
            let body = if i % 5 == 3 {
                "i64.const 0"
            } else {
                "i32.const 0"
            };
            wat.push_str(&format!("(func (result i32) {body})"));
        }
        wat.push(')');
        let wasm = wat::parse_str(&wat).unwrap();
        let env = environ::parse(&wasm, &config.features).unwrap();
        let err = compile_functions_on(4, &config, &setup, &env.info, env.bodies, &*isa)
            .err()
            .unwrap();
        assert_eq!(err.func_index(), Some(3));
    }
}
