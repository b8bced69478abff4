//! Instance-to-instance linking: a function, memory, table and global exported by one instance
//! are imported by another through `Linker::instance`, and both see the same entities; imports
//! that cannot be satisfied are link errors naming the import.

use aot_runtime::{ErrorKind, Linker, Store, Val};

const PROVIDER: &str = r#"
(module
  (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (memory (export "mem") 1 2)
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) $triple)
  (global (export "counter") (mut i32) (i32.const 10))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"#;

const CONSUMER: &str = r#"
(module
  (import "provider" "double" (func $double (param i32) (result i32)))
  (import "provider" "mem" (memory 1 2))
  (import "provider" "tab" (table 2 funcref))
  (import "provider" "counter" (global $counter (mut i32)))
  (type $i_i (func (param i32) (result i32)))
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 8)
      (i32.add
        (call $double (local.get 0))
        (call_indirect (type $i_i) (local.get 0) (i32.const 0))))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.load (i32.const 8))))
"#;

fn linker_with_provider(store: &mut Store<()>) -> Linker<()> {
    let provider = aot_tests::module(PROVIDER);
    let mut linker = Linker::new();
    let instance = linker.instantiate(&mut *store, &provider).unwrap();
    linker.instance(&mut *store, "provider", instance).unwrap();
    linker
}

#[test]
fn exports_of_one_instance_are_imports_of_another() {
    let mut store = Store::new(());
    let linker = linker_with_provider(&mut store);
    let consumer = linker
        .instantiate(&mut store, &aot_tests::module(CONSUMER))
        .unwrap();
    let run = consumer
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 5).unwrap(), 10 + 15);
    assert_eq!(run.call(&mut store, 1).unwrap(), 2 + 3);

    // The provider sees the consumer's store into the shared memory and global update.
    let load = linker
        .get(&mut store, "provider", "load")
        .unwrap()
        .into_func()
        .unwrap();
    let load = load.typed::<i32, i32>(&store).unwrap();
    assert_eq!(load.call(&mut store, 8).unwrap(), 5);
    let counter = linker
        .get(&mut store, "provider", "counter")
        .unwrap()
        .into_global()
        .unwrap();
    assert_eq!(counter.get(&mut store).i32(), Some(12));
    // And so does the host.
    let mem = linker
        .get(&mut store, "provider", "mem")
        .unwrap()
        .into_memory()
        .unwrap();
    assert_eq!(mem.data(&store)[8..12], 5i32.to_le_bytes());
    counter.set(&mut store, Val::I32(100)).unwrap();
    run.call(&mut store, 0).unwrap();
    assert_eq!(counter.get(&mut store).i32(), Some(101));
}

fn link_error(wat: &str) -> String {
    let mut store = Store::new(());
    let linker = linker_with_provider(&mut store);
    let err = linker
        .instantiate(&mut store, &aot_tests::module(wat))
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Link(_)),
        "expected a link error, got: {err}"
    );
    err.to_string()
}

#[test]
fn unknown_import_is_a_link_error_naming_it() {
    let msg = link_error(r#"(module (import "provider" "missing" (func)))"#);
    assert!(msg.contains("provider::missing"), "{msg}");
    let msg = link_error(r#"(module (import "nowhere" "double" (func)))"#);
    assert!(msg.contains("nowhere::double"), "{msg}");
}

#[test]
fn incompatible_imports_are_link_errors_naming_them() {
    let msg =
        link_error(r#"(module (import "provider" "double" (func (param i64) (result i32))))"#);
    assert!(msg.contains("provider::double"), "{msg}");
    // Memory minimum larger than what the provider has.
    let msg = link_error(r#"(module (import "provider" "mem" (memory 2)))"#);
    assert!(msg.contains("provider::mem"), "{msg}");
    // Immutable import of a mutable global.
    let msg = link_error(r#"(module (import "provider" "counter" (global i32)))"#);
    assert!(msg.contains("provider::counter"), "{msg}");
    // A function imported as a table.
    let msg = link_error(r#"(module (import "provider" "double" (table 1 funcref)))"#);
    assert!(msg.contains("provider::double"), "{msg}");
}
