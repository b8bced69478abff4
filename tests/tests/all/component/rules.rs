//! The call rules of the canonical ABI: an instance on the call stack may not be entered again
//! (`CannotEnterComponent`), an instance may not call out while its `realloc` or `post-return`
//! runs (`CannotLeaveComponent`), and `post-return` runs after the results are lifted.

use super::component;
use aot_runtime::component::{Func, Linker, Val};
use aot_runtime::{Store, Trap};

/// Exports `run`, which calls the host's `callback`, and `value`.
const REENTER: &str = r#"
(component
  (import "callback" (func $cb))
  (core func $cb (canon lower (func $cb)))
  (core module $m
    (import "host" "callback" (func $cb))
    (func (export "run") (call $cb))
    (func (export "value") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m (with "host" (instance (export "callback" (func $cb))))))
  (func (export "run") (canon lift (core func $i "run")))
  (func (export "value") (result u32) (canon lift (core func $i "value")))
)
"#;

/// The host data of the re-entrance tests: the function the callback calls, and what it got.
#[derive(Default)]
struct Reenter {
    target: Option<Func>,
    seen: Vec<Result<u32, String>>,
}

fn reenter_linker() -> Linker<Reenter> {
    let mut linker = Linker::<Reenter>::new();
    linker
        .root()
        .func_wrap("callback", |mut store, (): ()| {
            let target = store.data().target.expect("target set");
            let mut out = [Val::Bool(false)];
            let res = match target.call(&mut store, &[], &mut out) {
                Ok(()) => match out[0] {
                    Val::U32(v) => Ok(v),
                    ref other => Err(format!("unexpected {other:?}")),
                },
                Err(e) => {
                    assert_eq!(e.trap(), Some(Trap::CannotEnterComponent), "{e}");
                    Err(e.to_string())
                }
            };
            store.data_mut().seen.push(res);
            Ok(())
        })
        .unwrap();
    linker
}

#[test]
fn an_instance_on_the_stack_cannot_be_entered_again() {
    let c = component(REENTER);
    let linker = reenter_linker();
    let mut store = Store::new(Reenter::default());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let value = instance.get_func(&mut store, "value").unwrap();
    store.data_mut().target = Some(value);
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    let seen = core::mem::take(&mut store.data_mut().seen);
    assert_eq!(seen.len(), 1);
    let msg = seen[0].as_ref().unwrap_err();
    assert!(msg.contains("cannot enter component instance"), "{msg}");
    assert!(msg.contains("is on the call stack"), "{msg}");

    // Outside the call, the same export can be called; from the callback, another instance of
    // the same component can be entered.
    let mut out = [Val::Bool(false)];
    value.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(7));
    let other = linker.instantiate(&mut store, &c).unwrap();
    store.data_mut().target = Some(other.get_func(&mut store, "value").unwrap());
    run.call(&mut store, ()).unwrap();
    assert_eq!(store.data().seen, [Ok(7)]);
}

#[test]
fn a_trap_from_reentrance_propagates_out_of_the_guest() {
    let c = component(REENTER);
    let mut linker = Linker::<Option<Func>>::new();
    linker
        .root()
        .func_wrap("callback", |mut store, (): ()| {
            let target = store.data().expect("target set");
            target.call(&mut store, &[], &mut [Val::Bool(false)])?;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(None);
    let instance = linker.instantiate(&mut store, &c).unwrap();
    *store.data_mut() = instance.get_func(&mut store, "value");
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::CannotEnterComponent), "{err}");
}

/// `realloc` and the `post-return` function call the host's `log`, which they may not.
const LEAVE: &str = r#"
(component
  (import "log" (func $log))
  (core func $log (canon lower (func $log)))
  (core module $m
    (import "host" "log" (func $log))
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (call $log)
      (i32.const 64))
    (func (export "len") (param i32 i32) (result i32) (local.get 1))
    (func (export "echo") (param i32) (result i32) (local.get 0))
    (func (export "post-log") (param i32) (call $log))
    (func (export "post-count") (param i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
    (func (export "calls") (result i32) (global.get $calls)))
  (core instance $i (instantiate $m (with "host" (instance (export "log" (func $log))))))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "echo-logging") (param "x" u32) (result u32)
    (canon lift (core func $i "echo") (post-return (core func $i "post-log"))))
  (func (export "echo-counting") (param "x" u32) (result u32)
    (canon lift (core func $i "echo") (post-return (core func $i "post-count"))))
  (func (export "calls") (result u32) (canon lift (core func $i "calls")))
)
"#;

fn leave_linker() -> Linker<u32> {
    let mut linker = Linker::<u32>::new();
    linker
        .root()
        .func_wrap("log", |mut store, (): ()| {
            *store.data_mut() += 1;
            Ok(())
        })
        .unwrap();
    linker
}

#[test]
fn realloc_may_not_call_an_import() {
    let c = component(LEAVE);
    let mut store = Store::new(0u32);
    let instance = leave_linker().instantiate(&mut store, &c).unwrap();
    let len = instance
        .get_typed_func::<(&str,), (u32,)>(&mut store, "len")
        .unwrap();
    let err = len.call(&mut store, ("hello",)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::CannotLeaveComponent), "{err}");
    assert_eq!(*store.data(), 0, "the host function did not run");
}

#[test]
fn post_return_runs_after_the_results_and_may_not_call_an_import() {
    let c = component(LEAVE);
    let mut store = Store::new(0u32);
    let instance = leave_linker().instantiate(&mut store, &c).unwrap();
    let echo = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "echo-counting")
        .unwrap();
    let calls = instance
        .get_typed_func::<(), (u32,)>(&mut store, "calls")
        .unwrap();
    assert_eq!(echo.call(&mut store, (5,)).unwrap(), (5,));
    assert_eq!(echo.call(&mut store, (6,)).unwrap(), (6,));
    assert_eq!(calls.call(&mut store, ()).unwrap(), (2,));
    let dynamic = instance.get_func(&mut store, "echo-counting").unwrap();
    let mut out = [Val::Bool(false)];
    dynamic.call(&mut store, &[Val::U32(9)], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(9));
    assert_eq!(calls.call(&mut store, ()).unwrap(), (3,));

    let logging = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "echo-logging")
        .unwrap();
    let err = logging.call(&mut store, (1,)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::CannotLeaveComponent), "{err}");
    assert_eq!(*store.data(), 0);
}
