//! One `Module` shared by eight threads, each with its own `Store`: instantiation and calls are
//! independent (host state, traps) and the results are exact.

use aot_runtime::{Caller, Linker, Module, Store, Trap};

const WAT: &str = r#"
(module
  (import "host" "id" (func $id (result i32)))
  (memory 1)
  (func (export "work") (param $k i32) (result i32)
    ;; Per-instance memory: accumulate k at address 0 and return id * 1_000_000 + sum.
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get $k)))
    (i32.add (i32.mul (call $id) (i32.const 1000000)) (i32.load (i32.const 0))))
  (func (export "trap") (result i32) (unreachable)))
"#;

#[test]
fn one_module_many_threads() {
    let module: Module = aot_tests::module(WAT);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|id: i32| {
                let module = module.clone();
                scope.spawn(move || {
                    let mut store = Store::new(id);
                    let mut linker = Linker::new();
                    linker
                        .func_wrap("host", "id", |caller: Caller<'_, i32>| *caller.data())
                        .unwrap();
                    let instance = linker.instantiate(&mut store, &module).unwrap();
                    let work = instance
                        .get_typed_func::<i32, i32>(&mut store, "work")
                        .unwrap();
                    let trap = instance
                        .get_typed_func::<(), i32>(&mut store, "trap")
                        .unwrap();
                    let mut sum = 0;
                    for k in 0..1000 {
                        sum += k;
                        assert_eq!(work.call(&mut store, k).unwrap(), id * 1_000_000 + sum);
                        if k % 100 == 0 {
                            let err = trap.call(&mut store, ()).unwrap_err();
                            assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached));
                        }
                    }
                    sum
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 999 * 1000 / 2);
        }
    });
}

#[test]
fn module_and_store_are_send() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Module>();
    sync::<Module>();
    send::<Store<i32>>();
}

/// The thread-safety guarantees of the API, checked at compile time: a `Module` (and the
/// embedded bytes it comes from) can be shared between threads, a `Store` (with its handles) can
/// move to another thread, and a `Linker` can be shared to instantiate on many threads.
#[test]
fn thread_safety_of_the_api_types() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Module>();
    send_sync::<aot_runtime::EmbeddedModule>();
    send_sync::<Linker<i32>>();
    send::<Store<i32>>();
    send_sync::<aot_runtime::Func>();
    send_sync::<aot_runtime::Instance>();
    send_sync::<aot_runtime::Memory>();
    send_sync::<aot_runtime::Error>();
}
