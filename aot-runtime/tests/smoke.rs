//! End-to-end smoke tests of the runtime's core mechanics (entry, traps, host calls, memories,
//! tables, globals), through the real pipeline: WAT -> aot-build -> artifact -> aot-runtime.
//! The full API and spec suites live in the `aot-tests` crate.

use aot_runtime::{
    Caller, Error, Extern, Func, FuncType, Global, GlobalType, Instance, Linker, Memory,
    MemoryType, Module, Mutability, Ref, Store, Table, TableType, Trap, Val, ValType,
};

fn module(wat: &str) -> Module {
    let bytes = aot_build::Config::new()
        .compile_bytes(wat.as_bytes())
        .unwrap_or_else(|e| panic!("compile failed: {e}"));
    // SAFETY: the bytes were just produced by aot-build.
    unsafe { Module::deserialize(&bytes) }.unwrap()
}

fn instance<T: 'static>(store: &mut Store<T>, wat: &str) -> Instance {
    Linker::new().instantiate(store, &module(wat)).unwrap()
}

#[test]
fn returns_a_constant() {
    let mut store = Store::new(());
    let inst = instance(
        &mut store,
        r#"(module (func (export "f") (result i32) i32.const 42))"#,
    );
    let f = inst.get_typed_func::<(), i32>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 42);
    let mut out = [Val::I32(0)];
    inst.get_func(&mut store, "f")
        .unwrap()
        .call(&mut store, &[], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 42);
}

#[test]
fn arguments_and_recursion() {
    let mut store = Store::new(());
    let inst = instance(
        &mut store,
        r#"(module
            (func $fib (export "fib") (param i32) (result i32)
              (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
                (then (local.get 0))
                (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                               (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
            (func (export "mix") (param i64 f32 f64) (result f64)
              (f64.add (f64.add (f64.convert_i64_s (local.get 0)) (f64.promote_f32 (local.get 1)))
                       (local.get 2))))"#,
    );
    let fib = inst.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
    let mix = inst
        .get_typed_func::<(i64, f32, f64), f64>(&mut store, "mix")
        .unwrap();
    assert_eq!(mix.call(&mut store, (1, 2.5, 0.25)).unwrap(), 3.75);
    assert!(inst.get_typed_func::<i64, i32>(&mut store, "fib").is_err());
}

fn expect_trap(err: Error, trap: Trap) {
    assert_eq!(err.trap(), Some(trap), "{err:?}");
}

#[test]
fn traps_are_errors_and_the_store_stays_usable() {
    let mut store = Store::new(());
    let inst = instance(
        &mut store,
        r#"(module
            (memory 1)
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "unreachable") unreachable)
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func $rec (export "rec") (call $rec)))"#,
    );
    let div = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    expect_trap(
        div.call(&mut store, (1, 0)).unwrap_err(),
        Trap::IntegerDivisionByZero,
    );
    expect_trap(
        div.call(&mut store, (i32::MIN, -1)).unwrap_err(),
        Trap::IntegerOverflow,
    );
    assert_eq!(div.call(&mut store, (7, 2)).unwrap(), 3);
    let unreachable = inst
        .get_typed_func::<(), ()>(&mut store, "unreachable")
        .unwrap();
    let err = unreachable.call(&mut store, ()).unwrap_err();
    expect_trap(err, Trap::UnreachableCodeReached);
    let load = inst.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    expect_trap(
        load.call(&mut store, 65536).unwrap_err(),
        Trap::MemoryOutOfBounds,
    );
    expect_trap(
        load.call(&mut store, -1).unwrap_err(),
        Trap::MemoryOutOfBounds,
    );
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    let rec = inst.get_typed_func::<(), ()>(&mut store, "rec").unwrap();
    expect_trap(rec.call(&mut store, ()).unwrap_err(), Trap::StackOverflow);
    assert_eq!(div.call(&mut store, (9, 3)).unwrap(), 3);
}

#[test]
fn trap_backtrace_names_functions() {
    let mut store = Store::new(());
    let inst = instance(
        &mut store,
        r#"(module $app
            (func $inner (unreachable))
            (func $outer (export "outer") (call $inner)))"#,
    );
    let outer = inst.get_typed_func::<(), ()>(&mut store, "outer").unwrap();
    let err = outer.call(&mut store, ()).unwrap_err();
    let bt = err.backtrace().expect("trap has a backtrace");
    let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("inner"), Some("outer")], "{err}");
    assert!(bt.frames()[0].module_offset().is_some());
    let text = err.to_string();
    assert!(
        text.starts_with("wasm trap: unreachable\nwasm backtrace:\n    0: 0x"),
        "{text}"
    );
}

#[test]
fn host_functions_errors_and_panics() {
    let mut store = Store::new(0u32);
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "env",
            "add",
            |mut caller: Caller<'_, u32>, a: i32, b: i32| {
                *caller.data_mut() += 1;
                a + b
            },
        )
        .unwrap();
    linker
        .func_wrap("env", "fail", |x: i32| -> aot_runtime::Result<i32> {
            if x > 0 {
                Err(Error::msg("host says no"))
            } else {
                Ok(x)
            }
        })
        .unwrap();
    linker
        .func_wrap("env", "boom", || -> () { panic!("host panic") })
        .unwrap();
    let m = module(
        r#"(module
            (import "env" "add" (func $add (param i32 i32) (result i32)))
            (import "env" "fail" (func $fail (param i32) (result i32)))
            (import "env" "boom" (func $boom))
            (func (export "sum3") (param i32 i32 i32) (result i32)
              (call $add (call $add (local.get 0) (local.get 1)) (local.get 2)))
            (func (export "fail") (param i32) (result i32) (call $fail (local.get 0)))
            (func (export "boom") (call $boom)))"#,
    );
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let sum3 = inst
        .get_typed_func::<(i32, i32, i32), i32>(&mut store, "sum3")
        .unwrap();
    assert_eq!(sum3.call(&mut store, (1, 2, 3)).unwrap(), 6);
    assert_eq!(*store.data(), 2);
    let fail = inst.get_typed_func::<i32, i32>(&mut store, "fail").unwrap();
    assert_eq!(fail.call(&mut store, -4).unwrap(), -4);
    let err = fail.call(&mut store, 1).unwrap_err();
    assert_eq!(err.to_string().lines().next(), Some("host says no"));
    assert!(err.trap().is_none());
    assert!(err.backtrace().is_some());
    let boom = inst.get_typed_func::<(), ()>(&mut store, "boom").unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = boom.call(&mut store, ());
    }))
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"host panic"));
    assert_eq!(sum3.call(&mut store, (4, 5, 6)).unwrap(), 15);
}

#[test]
fn reentrant_calls_and_caller_exports() {
    let mut store = Store::new(());
    let mut linker = Linker::<()>::new();
    linker
        .func_wrap(
            "env",
            "callback",
            |mut caller: Caller<'_, ()>, n: i32| -> aot_runtime::Result<i32> {
                let f = caller.get_export("dec").unwrap().into_func().unwrap();
                let f = f.typed::<i32, i32>(&caller)?;
                f.call(&mut caller, n)
            },
        )
        .unwrap();
    let m = module(
        r#"(module
            (import "env" "callback" (func $cb (param i32) (result i32)))
            (func (export "dec") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 100))
                (else (call $cb (i32.sub (local.get 0) (i32.const 1)))))))"#,
    );
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let dec = inst.get_typed_func::<i32, i32>(&mut store, "dec").unwrap();
    assert_eq!(dec.call(&mut store, 10).unwrap(), 100);
}

#[test]
fn memories_tables_globals_and_segments() {
    let mut store = Store::new(());
    let inst = instance(
        &mut store,
        r#"(module
            (memory (export "mem") 1 3)
            (data (i32.const 16) "hello")
            (global $g (export "g") (mut i32) (i32.const 7))
            (table (export "t") 2 funcref)
            (elem (i32.const 0) $seven)
            (type $t (func (result i32)))
            (func $seven (result i32) (global.get $g))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "size") (result i32) (memory.size))
            (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
            (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    let mem = inst.get_memory(&mut store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[16..21], b"hello");
    let grow = inst.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 5).unwrap(), -1);
    assert_eq!(mem.size(&store), 2);
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 2);
    let size = inst.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
    let fill = inst
        .get_typed_func::<(i32, i32, i32), ()>(&mut store, "fill")
        .unwrap();
    fill.call(&mut store, (100, 0xab, 4)).unwrap();
    assert_eq!(&mem.data(&store)[99..105], &[0, 0xab, 0xab, 0xab, 0xab, 0]);
    let err = fill.call(&mut store, (3 * 65536 - 1, 0, 2)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::MemoryOutOfBounds));

    let call = inst.get_typed_func::<i32, i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, 0).unwrap(), 7);
    let g = inst.get_global(&mut store, "g").unwrap();
    g.set(&mut store, Val::I32(8)).unwrap();
    assert_eq!(call.call(&mut store, 0).unwrap(), 8);
    assert_eq!(
        call.call(&mut store, 1).unwrap_err().trap(),
        Some(Trap::IndirectCallToNull)
    );
    assert_eq!(
        call.call(&mut store, 2).unwrap_err().trap(),
        Some(Trap::TableOutOfBounds)
    );

    // A host function placed in the table is callable through call_indirect.
    let t = inst.get_table(&mut store, "t").unwrap();
    let host = Func::wrap(&mut store, || 55i32);
    t.set(&mut store, 1, Ref::Func(Some(host))).unwrap();
    assert_eq!(call.call(&mut store, 1).unwrap(), 55);
    // A wasm function read back from the table is the same function.
    let seven = t.get(&mut store, 0).unwrap().as_func().unwrap();
    assert_eq!(
        seven
            .typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap(),
        8
    );
    let wrong = Func::wrap(&mut store, |x: i32| x);
    t.set(&mut store, 1, Ref::Func(Some(wrong))).unwrap();
    assert_eq!(
        call.call(&mut store, 1).unwrap_err().trap(),
        Some(Trap::BadSignature)
    );
}

#[test]
fn imports_of_host_entities_and_link_errors() {
    let mut store = Store::new(());
    let mem = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let table = Table::new(
        &mut store,
        TableType::new(ValType::FuncRef, 4, None),
        Ref::Func(None),
    )
    .unwrap();
    let global = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Const),
        Val::I64(40),
    )
    .unwrap();
    let wat = r#"(module
        (import "host" "mem" (memory 1))
        (import "host" "table" (table 4 funcref))
        (import "host" "g" (global i64))
        (global $h i64 (i64.add (global.get 0) (i64.const 2)))
        (data (i32.const 0) "\2a")
        (func (export "get") (result i64) (global.get $h))
        (func (export "byte") (result i32) (i32.load8_u (i32.const 0))))"#;
    let m = module(wat);
    let mut linker = Linker::new();
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown import: `host::mem` has not been defined"
    );
    linker.define(&store, "host", "mem", mem).unwrap();
    linker.define(&store, "host", "table", table).unwrap();
    let wrong = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )
    .unwrap();
    linker
        .define(&store, "host", "g", Extern::Global(wrong))
        .unwrap();
    let err = linker.instantiate(&mut store, &m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "incompatible import type for `host::g`: expected (global i64), found (global i32)"
    );
    linker.allow_shadowing(true);
    linker.define(&store, "host", "g", global).unwrap();
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let get = inst.get_typed_func::<(), i64>(&mut store, "get").unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), 42);
    assert_eq!(mem.data(&store)[0], 42);
    let ty = FuncType::new([], [ValType::I32]);
    assert_eq!(inst.get_func(&mut store, "byte").unwrap().ty(&store), ty);
}

#[test]
fn dynamic_host_functions_and_externrefs() {
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_new(
            "env",
            "twice",
            FuncType::new([ValType::I64], [ValType::I64]),
            |_caller, params, results| {
                results[0] = Val::I64(params[0].unwrap_i64() * 2);
                Ok(())
            },
        )
        .unwrap();
    let m = module(
        r#"(module
            (import "env" "twice" (func $twice (param i64) (result i64)))
            (func (export "quad") (param i64) (result i64) (call $twice (call $twice (local.get 0))))
            (func (export "id") (param externref) (result externref) (local.get 0)))"#,
    );
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let quad = inst.get_func(&mut store, "quad").unwrap();
    let mut out = [Val::I64(0)];
    quad.call(&mut store, &[Val::I64(5)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i64(), 20);
    assert!(quad.call(&mut store, &[Val::I32(5)], &mut out).is_err());
    // Result slots are overwritten whatever they held; only their number must match.
    let mut placeholder = [Val::I32(0)];
    quad.call(&mut store, &[Val::I64(1)], &mut placeholder)
        .unwrap();
    assert_eq!(placeholder[0].unwrap_i64(), 4);
    assert!(quad.call(&mut store, &[Val::I64(1)], &mut []).is_err());
    let r = aot_runtime::ExternRef::new(&mut store, String::from("payload"));
    let id = inst.get_func(&mut store, "id").unwrap();
    let mut out = [Val::ExternRef(None)];
    id.call(&mut store, &[Val::ExternRef(Some(r))], &mut out)
        .unwrap();
    let back = out[0].unwrap_externref().unwrap();
    assert_eq!(
        back.data(&store).downcast_ref::<String>().unwrap(),
        "payload"
    );
}

#[test]
fn stores_are_independent_across_threads() {
    let m = module(
        r#"(module (func $f (export "f") (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
              (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || {
                let mut store = Store::new(());
                let inst = Linker::new().instantiate(&mut store, &m).unwrap();
                let f = inst.get_typed_func::<i32, i32>(&mut store, "f").unwrap();
                assert_eq!(f.call(&mut store, 1000 + i).unwrap(), 1000 + i);
                assert_eq!(
                    f.call(&mut store, i32::MAX).unwrap_err().trap(),
                    Some(Trap::StackOverflow)
                );
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn nested_traps_unwind_only_the_inner_entry() {
    let mut store = Store::new(Vec::<String>::new());
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "env",
            "try_inner",
            |mut caller: Caller<'_, Vec<String>>, x: i32| -> i32 {
                let inner = caller.get_export("inner").unwrap().into_func().unwrap();
                let inner = inner.typed::<i32, i32>(&caller).unwrap();
                match inner.call(&mut caller, x) {
                    Ok(v) => v,
                    Err(e) => {
                        caller.data_mut().push(e.to_string());
                        -1
                    }
                }
            },
        )
        .unwrap();
    let m = module(
        r#"(module
            (import "env" "try_inner" (func $try (param i32) (result i32)))
            (func (export "inner") (param i32) (result i32) (i32.div_u (i32.const 100) (local.get 0)))
            (func (export "outer") (param i32) (result i32)
              (local $acc i32)
              ;; Several nested entries, some trapping, with live values across them.
              (local.set $acc (i32.add (call $try (local.get 0)) (i32.const 1000)))
              (local.set $acc (i32.add (local.get $acc) (call $try (i32.const 0))))
              (i32.add (local.get $acc) (call $try (i32.const 4)))))"#,
    );
    let inst = linker.instantiate(&mut store, &m).unwrap();
    let outer = inst
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    // 100/5 + 1000, then -1 (trap caught by the host), then 100/4.
    assert_eq!(outer.call(&mut store, 5).unwrap(), 20 + 1000 - 1 + 25);
    assert_eq!(store.data().len(), 1);
    assert!(store.data()[0].starts_with("wasm trap: integer divide by zero"));
    // A trap in the outer entry after nested ones still lands in the right place.
    assert_eq!(outer.call(&mut store, 0).unwrap(), -1 + 1000 - 1 + 25);
    assert_eq!(store.data().len(), 3);
}

#[test]
fn explicit_bounds_checks_trap_the_same() {
    let wat = r#"(module (memory 1)
        (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0))))"#;
    let bytes = aot_build::Config::new()
        .bounds_checks(aot_build::BoundsChecks::Explicit)
        .compile_bytes(wat.as_bytes())
        .unwrap();
    // SAFETY: the bytes were just produced by aot-build.
    let m = unsafe { Module::deserialize(&bytes) }.unwrap();
    let mut store = Store::new(());
    let inst = Linker::new().instantiate(&mut store, &m).unwrap();
    let load = inst.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 65528).unwrap(), 0);
    for addr in [65529, -4, -1] {
        let err = load.call(&mut store, addr).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::MemoryOutOfBounds), "{addr}");
    }
}

/// A fault in host code called from wasm is not a wasm trap: it must reach the previously
/// installed handler (here Rust's, which restores the default action) and kill the process.
#[test]
fn faults_outside_wasm_code_are_not_swallowed() {
    const CHILD: &str = "AOT_SMOKE_FAULT_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let mut store = Store::new(());
        let mut linker = Linker::new();
        linker
            .func_wrap("env", "crash", || {
                // SAFETY: deliberately faults (address 16 is never mapped); this is the point of
                // the test, in a child process.
                unsafe { (16 as *mut u32).write_volatile(1) }
            })
            .unwrap();
        let m =
            module(r#"(module (import "env" "crash" (func $c)) (func (export "f") (call $c)))"#);
        let inst = linker.instantiate(&mut store, &m).unwrap();
        let f = inst.get_typed_func::<(), ()>(&mut store, "f").unwrap();
        let _ = f.call(&mut store, ());
        std::process::exit(0);
    }
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "faults_outside_wasm_code_are_not_swallowed",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(11), "{status:?}");
}
