//! Traps: every trap kind raised by wasm code is an `Err` whose `trap()` is the right code and
//! whose backtrace names the wasm function (from the name section); afterwards the same store and
//! instance keep working.

use aot_runtime::{Instance, Store, Trap, Val};

const WAT: &str = r#"
(module $traps
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (memory 1)
  (table $t 3 funcref)
  (elem (i32.const 1) $one $inc)
  (func $one (result i32) (i32.const 1))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $unreachable (export "unreachable") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then unreachable))
    (local.get 0))
  (func $div_by_zero (export "div_by_zero") (param i32 i32) (result i32)
    (i32.div_u (local.get 0) (local.get 1)))
  (func $overflow (export "overflow") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $bad_conversion (export "bad_conversion") (param f32) (result i32)
    (i32.trunc_f32_s (local.get 0)))
  (func $oob_memory (export "oob_memory") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func $oob_table (export "oob_table") (param i32) (result i32)
    (ref.is_null (table.get $t (local.get 0))))
  (func $null_call (export "null_call") (param i32) (result i32)
    (call_indirect (type $v_i) (local.get 0)))
  (func $bad_signature (export "bad_signature") (param i32) (result i32)
    (call_indirect (type $i_i) (i32.const 5) (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (local.get 0)) (i32.const 1)))
  (func $calls_unreachable (export "calls_unreachable") (param i32) (result i32)
    (call $unreachable (local.get 0))))
"#;

/// Calls `name(args)`; the call must trap with `expected` in the function `name`, and the same
/// export called with `ok_args` must then return `ok_result`.
fn check_trap(
    store: &mut Store<()>,
    instance: Instance,
    name: &str,
    args: &[Val],
    expected: Trap,
    ok_args: &[Val],
    ok_result: i32,
) {
    let func = instance.get_func(&mut *store, name).unwrap();
    let mut results = [Val::I32(0)];
    let err = func.call(&mut *store, args, &mut results).unwrap_err();
    assert_eq!(err.trap(), Some(expected), "{name}: {err}");
    let frames = err.backtrace().expect("traps carry a backtrace").frames();
    let names: Vec<Option<&str>> = frames.iter().map(|f| f.func_name()).collect();
    assert_eq!(
        names.first(),
        Some(&Some(name)),
        "{name}: innermost frame; all: {names:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(expected.message()) && msg.contains(name),
        "{msg}"
    );
    // The same instance still works.
    func.call(&mut *store, ok_args, &mut results).unwrap();
    assert_eq!(results[0].i32(), Some(ok_result), "{name} after the trap");
}

#[test]
fn every_trap_kind_is_reported_and_recoverable() {
    let module = aot_tests::module(WAT);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let i = Val::I32;
    let f = |x: f32| Val::F32(x.to_bits());
    // (export, trapping arguments, trap, arguments that then work, their result)
    let cases = [
        (
            "unreachable",
            vec![i(0)],
            Trap::UnreachableCodeReached,
            vec![i(3)],
            3,
        ),
        (
            "div_by_zero",
            vec![i(1), i(0)],
            Trap::IntegerDivisionByZero,
            vec![i(9), i(2)],
            4,
        ),
        (
            "overflow",
            vec![i(i32::MIN), i(-1)],
            Trap::IntegerOverflow,
            vec![i(-9), i(2)],
            -4,
        ),
        (
            "bad_conversion",
            vec![f(f32::NAN)],
            Trap::BadConversionToInteger,
            vec![f(2.9)],
            2,
        ),
        // Out of range (not NaN) is "integer overflow" in the spec.
        (
            "bad_conversion",
            vec![f(3e9)],
            Trap::IntegerOverflow,
            vec![f(-1.5)],
            -1,
        ),
        (
            "oob_memory",
            vec![i(65533)],
            Trap::MemoryOutOfBounds,
            vec![i(65532)],
            0,
        ),
        (
            "oob_memory",
            vec![i(-1)],
            Trap::MemoryOutOfBounds,
            vec![i(0)],
            0,
        ),
        (
            "oob_table",
            vec![i(3)],
            Trap::TableOutOfBounds,
            vec![i(2)],
            0,
        ),
        (
            "oob_table",
            vec![i(-1)],
            Trap::TableOutOfBounds,
            vec![i(0)],
            1,
        ),
        (
            "null_call",
            vec![i(0)],
            Trap::IndirectCallToNull,
            vec![i(1)],
            1,
        ),
        (
            "bad_signature",
            vec![i(1)],
            Trap::BadSignature,
            vec![i(2)],
            6,
        ),
    ];
    for (name, args, trap, ok_args, ok_result) in cases {
        check_trap(&mut store, instance, name, &args, trap, &ok_args, ok_result);
    }
}

#[test]
fn backtrace_lists_the_callers() {
    let module = aot_tests::module(WAT);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "calls_unreachable")
        .unwrap();
    let err = f.call(&mut store, 0).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached));
    let bt = err.backtrace().unwrap();
    let names: Vec<Option<&str>> = bt.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("unreachable"), Some("calls_unreachable")]);
    assert!(bt.frames().iter().all(|f| f.module_name() == "traps"));
    assert!(bt.frames()[0].module_offset().is_some());
    assert_eq!(f.call(&mut store, 8).unwrap(), 8);
}

#[test]
fn infinite_recursion_is_a_stack_overflow_trap() {
    let module = aot_tests::module(WAT);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let recurse = instance
        .get_typed_func::<i32, i32>(&mut store, "recurse")
        .unwrap();
    for _ in 0..3 {
        let err = recurse.call(&mut store, 0).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::StackOverflow), "{err}");
        let frames = err.backtrace().unwrap().frames();
        assert!(!frames.is_empty() && frames.iter().all(|f| f.func_name() == Some("recurse")));
        // Still usable after unwinding the whole wasm stack.
        let ok = instance
            .get_typed_func::<i32, i32>(&mut store, "unreachable")
            .unwrap();
        assert_eq!(ok.call(&mut store, 5).unwrap(), 5);
    }
    // A smaller stack limit is honored too.
    store.set_max_wasm_stack(64 << 10);
    let err = recurse.call(&mut store, 0).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::StackOverflow));
}

#[test]
fn recursion_on_a_thread_with_a_small_stack_traps_instead_of_crashing() {
    // The default wasm stack budget (512 KiB) is larger than this thread's whole stack: the limit
    // must be clamped to the thread's real stack, so the recursion ends in a trap rather than in
    // a fault on the OS guard page (which would kill the process).
    let module = aot_tests::module(WAT);
    let handle = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let mut store = Store::new(());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let recurse = instance
                .get_typed_func::<i32, i32>(&mut store, "recurse")
                .unwrap();
            let err = recurse.call(&mut store, 0).unwrap_err();
            err.trap()
        })
        .unwrap();
    assert_eq!(handle.join().unwrap(), Some(Trap::StackOverflow));
}
