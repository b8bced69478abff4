//! Host functions: every value type in and out, with and without `Caller`, typed (`func_wrap`)
//! and dynamic (`func_new`); guest memory read through `Caller::get_export`; host errors and
//! panics crossing the wasm frames, with the store usable afterwards.

use aot_runtime::{
    Caller, Error, Extern, ExternRef, Func, FuncType, Instance, Linker, Store, V128, Val, ValType,
};
use std::panic::AssertUnwindSafe;

const VALUES_WAT: &str = r#"
(module
  (import "host" "i32" (func $i32 (param i32) (result i32)))
  (import "host" "i64" (func $i64 (param i64) (result i64)))
  (import "host" "f32" (func $f32 (param f32) (result f32)))
  (import "host" "f64" (func $f64 (param f64) (result f64)))
  (import "host" "v128" (func $v128 (param v128) (result v128)))
  (import "host" "funcref" (func $funcref (param funcref) (result funcref)))
  (import "host" "externref" (func $externref (param externref) (result externref)))
  (import "host" "mixed" (func $mixed (param i32 i64 f32 f64) (result f64 i32)))
  (type $v_i (func (result i32)))
  (table $t 1 funcref)
  (elem declare func $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "i32") (param i32) (result i32) (call $i32 (local.get 0)))
  (func (export "i64") (param i64) (result i64) (call $i64 (local.get 0)))
  (func (export "f32") (param f32) (result f32) (call $f32 (local.get 0)))
  (func (export "f64") (param f64) (result f64) (call $f64 (local.get 0)))
  (func (export "v128") (param v128) (result v128) (call $v128 (local.get 0)))
  (func (export "funcref") (param funcref) (result funcref) (call $funcref (local.get 0)))
  (func (export "externref") (param externref) (result externref) (call $externref (local.get 0)))
  (func (export "mixed") (param i32 i64 f32 f64) (result f64 i32)
    (call $mixed (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  ;; A funcref made in wasm goes through the host and back, then is called.
  (func (export "funcref_round_trip") (result i32)
    (table.set $t (i32.const 0) (call $funcref (ref.func $seven)))
    (call_indirect (type $v_i) (i32.const 0)))
  (func (export "null_funcref_round_trip") (result i32)
    (ref.is_null (call $funcref (ref.null func)))))
"#;

/// What the host functions record in the store.
#[derive(Default)]
struct Calls {
    with_caller: u32,
}

fn values_instance() -> (Store<Calls>, Instance) {
    let module = aot_tests::module(VALUES_WAT);
    let mut store = Store::new(Calls::default());
    let mut linker = Linker::new();
    linker
        .func_wrap("host", "i32", |mut caller: Caller<'_, Calls>, x: i32| {
            caller.data_mut().with_caller += 1;
            x.wrapping_mul(3)
        })
        .unwrap();
    // Dynamic signature, checked by the linker against the import.
    linker
        .func_new(
            "host",
            "i64",
            FuncType::new([ValType::I64], [ValType::I64]),
            |_caller, params, results| {
                results[0] = Val::I64(params[0].i64().unwrap() - 1);
                Ok(())
            },
        )
        .unwrap();
    linker.func_wrap("host", "f32", |x: f32| x * 2.0).unwrap();
    linker
        .func_wrap("host", "f64", |caller: Caller<'_, Calls>, x: f64| {
            x / 4.0 + f64::from(caller.data().with_caller)
        })
        .unwrap();
    linker
        .func_wrap("host", "v128", |x: V128| {
            V128::from(x.as_u128().swap_bytes())
        })
        .unwrap();
    linker
        .func_wrap("host", "funcref", |f: Option<Func>| f)
        .unwrap();
    linker
        .func_wrap(
            "host",
            "externref",
            |mut caller: Caller<'_, Calls>, r: Option<ExternRef>| -> Option<ExternRef> {
                let len = r?.data(&caller).downcast_ref::<String>()?.len();
                Some(ExternRef::new(&mut caller, len as u64))
            },
        )
        .unwrap();
    linker
        .func_wrap("host", "mixed", |a: i32, b: i64, c: f32, d: f64| {
            (f64::from(a) + b as f64 + f64::from(c) + d, a * 2)
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn numbers_in_and_out() {
    let (mut store, instance) = values_instance();
    let i32f = instance
        .get_typed_func::<i32, i32>(&mut store, "i32")
        .unwrap();
    assert_eq!(i32f.call(&mut store, 14).unwrap(), 42);
    assert_eq!(
        i32f.call(&mut store, i32::MAX).unwrap(),
        i32::MAX.wrapping_mul(3)
    );
    assert_eq!(store.data().with_caller, 2);
    let i64f = instance
        .get_typed_func::<i64, i64>(&mut store, "i64")
        .unwrap();
    assert_eq!(i64f.call(&mut store, 1 << 40).unwrap(), (1 << 40) - 1);
    let f32f = instance
        .get_typed_func::<f32, f32>(&mut store, "f32")
        .unwrap();
    assert_eq!(f32f.call(&mut store, 1.25).unwrap(), 2.5);
    let f64f = instance
        .get_typed_func::<f64, f64>(&mut store, "f64")
        .unwrap();
    assert_eq!(f64f.call(&mut store, 10.0).unwrap(), 2.5 + 2.0);
    let mixed = instance
        .get_typed_func::<(i32, i64, f32, f64), (f64, i32)>(&mut store, "mixed")
        .unwrap();
    assert_eq!(
        mixed.call(&mut store, (1, 2, 0.5, 0.25)).unwrap(),
        (3.75, 2)
    );
}

#[test]
fn untyped_calls_check_and_convert() {
    let (mut store, instance) = values_instance();
    let func = instance.get_func(&mut store, "i64").unwrap();
    let ty = func.ty(&store);
    assert_eq!(ty.params().collect::<Vec<_>>(), [ValType::I64]);
    let mut results = [Val::I64(0)];
    func.call(&mut store, &[Val::I64(-5)], &mut results)
        .unwrap();
    assert_eq!(results[0].i64(), Some(-6));
    // Wrong argument type and wrong arity are errors, not undefined behavior.
    assert!(func.call(&mut store, &[Val::I32(1)], &mut results).is_err());
    assert!(func.call(&mut store, &[], &mut results).is_err());
    assert!(
        instance
            .get_typed_func::<i32, i64>(&mut store, "i64")
            .is_err()
    );
}

#[test]
fn v128_in_and_out() {
    let (mut store, instance) = values_instance();
    let f = instance
        .get_typed_func::<V128, V128>(&mut store, "v128")
        .unwrap();
    let x = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128;
    assert_eq!(
        f.call(&mut store, V128::from(x)).unwrap().as_u128(),
        x.swap_bytes()
    );
}

#[test]
fn funcref_in_and_out() {
    let (mut store, instance) = values_instance();
    let round_trip = instance
        .get_typed_func::<(), i32>(&mut store, "funcref_round_trip")
        .unwrap();
    assert_eq!(round_trip.call(&mut store, ()).unwrap(), 7);
    let null = instance
        .get_typed_func::<(), i32>(&mut store, "null_funcref_round_trip")
        .unwrap();
    assert_eq!(null.call(&mut store, ()).unwrap(), 1);
    // A host-made funcref goes in and comes back callable.
    let f = instance
        .get_typed_func::<Option<Func>, Option<Func>>(&mut store, "funcref")
        .unwrap();
    let doubler = Func::wrap(&mut store, |x: i32| x * 2);
    let back = f
        .call(&mut store, Some(doubler))
        .unwrap()
        .expect("non-null funcref");
    let back = back.typed::<i32, i32>(&store).unwrap();
    assert_eq!(back.call(&mut store, 21).unwrap(), 42);
    assert!(f.call(&mut store, None).unwrap().is_none());
}

#[test]
fn externref_in_and_out() {
    let (mut store, instance) = values_instance();
    let f = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&mut store, "externref")
        .unwrap();
    let hello = ExternRef::new(&mut store, String::from("hello"));
    let len = f
        .call(&mut store, Some(hello))
        .unwrap()
        .expect("non-null externref");
    assert_eq!(len.data(&store).downcast_ref::<u64>(), Some(&5));
    assert!(f.call(&mut store, None).unwrap().is_none());
    // The original reference is still alive and intact.
    assert_eq!(
        hello.data(&store).downcast_ref::<String>().unwrap(),
        "hello"
    );
}

#[test]
fn caller_reads_guest_memory() {
    let module = aot_tests::module(
        r#"(module
             (import "host" "log" (func $log (param i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 100) "written by wasm")
             (func (export "run")
               (call $log (i32.const 100) (i32.const 15))
               (i32.store8 (i32.const 100) (i32.const 0x57)) ;; 'W'
               (call $log (i32.const 100) (i32.const 7))))"#,
    );
    let mut store = Store::new(Vec::<String>::new());
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "host",
            "log",
            |mut caller: Caller<'_, Vec<String>>, ptr: i32, len: i32| {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .expect("the caller exports its memory");
                let mut buf = vec![0; len as usize];
                memory.read(&caller, ptr as usize, &mut buf).unwrap();
                caller.data_mut().push(String::from_utf8(buf).unwrap());
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    assert_eq!(store.data().as_slice(), ["written by wasm", "Written"]);
}

#[derive(Debug, PartialEq)]
struct Refused(i32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}

impl std::error::Error for Refused {}

const FAILING_WAT: &str = r#"
(module
  (import "host" "check" (func $check (param i32) (result i32)))
  (import "host" "boom" (func $boom (param i32) (result i32)))
  (func $checked_add (export "checked_add") (param i32) (result i32)
    (i32.add (call $check (local.get 0)) (i32.const 1)))
  (func $maybe_panic (export "maybe_panic") (param i32) (result i32)
    (call $boom (local.get 0))))
"#;

fn failing_instance() -> (Store<()>, Instance) {
    let module = aot_tests::module(FAILING_WAT);
    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker
        .func_wrap("host", "check", |x: i32| -> aot_runtime::Result<i32> {
            if x < 0 {
                Err(Error::new(Refused(x)))
            } else {
                Ok(x)
            }
        })
        .unwrap();
    linker
        .func_wrap("host", "boom", |x: i32| -> i32 {
            assert!(x != 13, "host panic on {x}");
            x
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn host_error_propagates_and_downcasts() {
    let (mut store, instance) = failing_instance();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "checked_add")
        .unwrap();
    assert_eq!(f.call(&mut store, 1).unwrap(), 2);
    let err = f.call(&mut store, -7).unwrap_err();
    assert_eq!(err.downcast_ref::<Refused>(), Some(&Refused(-7)));
    assert!(
        err.trap().is_none(),
        "a host error is reported as itself: {err}"
    );
    let frames = err
        .backtrace()
        .expect("host errors raised in wasm carry a backtrace")
        .frames();
    assert!(
        frames.iter().any(|f| f.func_name() == Some("checked_add")),
        "backtrace: {:?}",
        frames.iter().map(|f| f.func_name()).collect::<Vec<_>>()
    );
    assert!(err.to_string().contains("refused -7"), "{err}");
    // The store is still usable.
    assert_eq!(f.call(&mut store, 41).unwrap(), 42);
}

#[test]
fn host_panic_resumes_in_the_caller() {
    let (mut store, instance) = failing_instance();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "maybe_panic")
        .unwrap();
    let payload = std::panic::catch_unwind(AssertUnwindSafe(|| f.call(&mut store, 13)))
        .expect_err("the host panic resumes as a panic");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("host panic on 13"), "{msg}");
    // The store is still usable, also for the other function.
    assert_eq!(f.call(&mut store, 12).unwrap(), 12);
    let g = instance
        .get_typed_func::<i32, i32>(&mut store, "checked_add")
        .unwrap();
    assert_eq!(g.call(&mut store, 1).unwrap(), 2);
}
