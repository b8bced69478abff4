//! `aot run`: load a Wasm input (compiled in-process) or an artifact, then either run it as a WASI
//! command (`_start` of a core module, `wasi:cli/run` of a component) and return its exit
//! status, or call one export with WAVE arguments and print its result as one WAVE line.

use crate::Failure;
use crate::inspect::{AlignedBytes, parse_any_target};
use crate::wasi::WasiOptions;
use aot_runtime::artifact::Kind;
use aot_runtime::wasi::{WasiCtx, preview1};
use aot_runtime::{Linker, Module, Store, Val, ValType};
use std::path::Path;
use wasm_wave::untyped::UntypedFuncCall;
use wasm_wave::value::{Type, Value};
use wasm_wave::wasm::WasmValue;

/// An `--invoke` call split into the export name and the WAVE argument list.
pub(crate) struct Invoke<'a> {
    /// A root export, or `<interface>#<function>`.
    pub(crate) name: &'a str,
    /// The parenthesized arguments, `(1, "a")`.
    pub(crate) args: &'a str,
}

impl<'a> Invoke<'a> {
    /// Splits `call` at its first `(`. WAVE's `ns:pkg/iface.func@1.0.0` spelling is accepted for
    /// interface functions too (see [`crate::component::export_name`]).
    pub(crate) fn parse(call: &'a str) -> Result<Invoke<'a>, Failure> {
        let call = call.trim();
        let open = call.find('(').ok_or_else(|| {
            Failure::usage(format!(
                "invalid call `{call}`: expected `name(arg, ...)`, for example `add(1, 2)`"
            ))
        })?;
        if !call.ends_with(')') {
            return Err(Failure::usage(format!(
                "invalid call `{call}`: missing the closing `)`"
            )));
        }
        let name = call[..open].trim();
        if name.is_empty() {
            return Err(Failure::usage(format!(
                "invalid call `{call}`: no function name"
            )));
        }
        Ok(Invoke {
            name,
            args: &call[open..],
        })
    }

    /// Parses the arguments against `types`.
    pub(crate) fn params<V: WasmValue + 'static>(
        &self,
        types: &[V::Type],
    ) -> Result<Vec<V>, Failure> {
        // wasm-wave's call syntax needs a plain label as the name; the name was split off already.
        let source = format!("f{}", self.args);
        let call = UntypedFuncCall::parse(&source)
            .map_err(|e| Failure::usage(format!("invalid arguments `{}`: {e}", self.args)))?;
        call.to_wasm_params::<V>(types.iter()).map_err(|e| {
            Failure::usage(format!(
                "invalid arguments `{}` for `{}`: {e}",
                self.args, self.name
            ))
        })
    }
}

/// Runs `aot run`, returning the exit status.
pub(crate) fn run(input: &Path, invoke: Option<&str>, wasi: &WasiOptions) -> Result<i32, Failure> {
    let invoke = invoke.map(Invoke::parse).transpose()?;
    let raw = std::fs::read(input)
        .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", input.display())))?;
    let artifact = if raw.starts_with(b"\x7fELF") {
        raw
    } else {
        crate::compile::compile_file(&aot_build::Config::new(), input)?
    };
    let bytes = AlignedBytes::new(&artifact);
    let (_, kind) = parse_any_target(bytes.get())
        .map_err(|f| Failure::new(format!("`{}`: {}", input.display(), f.message)))?;
    let program = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let ctx = wasi.build(&program)?;
    let line = match (kind, invoke) {
        (Kind::Module, Some(invoke)) => run_module(bytes.get(), ctx, &invoke)?,
        (Kind::Component, Some(invoke)) => {
            crate::component::run_component(bytes.get(), ctx, &invoke)?
        }
        (Kind::Module, None) => return run_module_command(bytes.get(), ctx),
        (Kind::Component, None) => return crate::component::run_command(bytes.get(), ctx),
    };
    if let Some(line) = line {
        println!("{line}");
    }
    Ok(0)
}

/// The usage error for a guest that is not a command, run without `--invoke`.
pub(crate) fn nothing_to_run(why: &str) -> Failure {
    Failure::usage(format!(
        "nothing to run: {why}; pass --invoke '<call>', for example --invoke 'add(1, 2)'"
    ))
}

/// Loads a core module artifact.
fn load_module(bytes: &[u8]) -> Result<Module, Failure> {
    // SAFETY: `aot run` executes the artifacts it is given, as `wasmtime run` does with
    // `--allow-precompiled`: an artifact file is trusted like an executable (the loader still
    // checks its structure, its checksum and that it was compiled for this machine).
    unsafe { Module::deserialize(bytes) }.map_err(Failure::new)
}

/// A linker with WASI preview 1.
fn module_linker() -> Result<Linker<WasiCtx>, Failure> {
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).map_err(Failure::new)?;
    Ok(linker)
}

/// Runs a core module's `_start` with WASI preview 1, returning its exit status.
fn run_module_command(bytes: &[u8], ctx: WasiCtx) -> Result<i32, Failure> {
    let module = load_module(bytes)?;
    if !module.exports().any(|e| e.name() == "_start") {
        return Err(nothing_to_run("the module exports no `_start`"));
    }
    let mut store = Store::new(ctx);
    preview1::run_command(&mut store, &module_linker()?, &module).map_err(Failure::new)
}

/// The WAVE type of a core value type, or an error naming the type WAVE cannot express.
fn wave_type(ty: ValType) -> Result<Type, Failure> {
    match ty {
        ValType::I32 => Ok(Type::S32),
        ValType::I64 => Ok(Type::S64),
        ValType::F32 => Ok(Type::F32),
        ValType::F64 => Ok(Type::F64),
        other => Err(Failure::new(format!(
            "`aot run` cannot pass or print `{other}` values: only i32, i64, f32 and f64 have a WAVE form"
        ))),
    }
}

fn to_core(value: &Value, ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(value.unwrap_s32()),
        ValType::I64 => Val::I64(value.unwrap_s64()),
        ValType::F32 => Val::F32(value.unwrap_f32().to_bits()),
        _ => Val::F64(value.unwrap_f64().to_bits()),
    }
}

fn from_core(val: &Val) -> Result<Value, Failure> {
    Ok(match val {
        Val::I32(v) => Value::make_s32(*v),
        Val::I64(v) => Value::make_s64(*v),
        Val::F32(bits) => Value::make_f32(f32::from_bits(*bits)),
        Val::F64(bits) => Value::make_f64(f64::from_bits(*bits)),
        other => {
            return Err(Failure::new(format!(
                "`aot run` cannot print the result {other:?}: only i32, i64, f32 and f64 have a WAVE form"
            )));
        }
    })
}

/// Instantiates a core module (with WASI preview 1 available) and calls `invoke` on it.
fn run_module(bytes: &[u8], ctx: WasiCtx, invoke: &Invoke<'_>) -> Result<Option<String>, Failure> {
    let module = load_module(bytes)?;
    let mut store = Store::new(ctx);
    let instance = module_linker()?
        .instantiate(&mut store, &module)
        .map_err(Failure::new)?;
    let func = instance.get_func(&mut store, invoke.name).ok_or_else(|| {
        Failure::new(format!(
            "the module has no exported function `{}`",
            invoke.name
        ))
    })?;
    let ty = func.ty(&store);
    let param_types = ty.params().map(wave_type).collect::<Result<Vec<_>, _>>()?;
    let result_types = ty.results().map(wave_type).collect::<Result<Vec<_>, _>>()?;
    let params: Vec<Value> = invoke.params(&param_types)?;
    let params: Vec<Val> = params
        .iter()
        .zip(ty.params())
        .map(|(v, t)| to_core(v, t))
        .collect();
    let mut results = vec![Val::I32(0); result_types.len()];
    func.call(&mut store, &params, &mut results)
        .map_err(Failure::new)?;
    let values = results
        .iter()
        .map(from_core)
        .collect::<Result<Vec<_>, _>>()?;
    let value = match values.len() {
        0 => return Ok(None),
        1 => values.into_iter().next().expect("one value"),
        _ => {
            let tuple = Type::tuple(result_types).expect("a non-empty tuple type");
            Value::make_tuple(&tuple, values)
                .map_err(|e| Failure::new(format!("cannot print the results: {e}")))?
        }
    };
    wasm_wave::to_string(&value)
        .map(Some)
        .map_err(|e| Failure::new(format!("cannot print the result: {e}")))
}
