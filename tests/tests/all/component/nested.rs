//! Inner linking: a nested component's lifted exports lowered into a sibling core module, so calls
//! cross from one instance (and memory) to another through the runtime's lift-then-lower adapter,
//! with strings transcoded between encodings on the way; and the `nested.wat` fixture (nested
//! components instantiated twice, inner linking), embedded with `include_component!`.

use super::component;
use aot_runtime::component::{Component, Linker, Val};
use aot_runtime::{EmbeddedComponent, Store, Trap, include_component};

/// `$inner` (utf16 strings, its own memory) exports `shout` (ASCII upper-casing) and `double`;
/// the outer component lowers both into `$outer` (utf8 strings, the `$libc` memory), whose
/// `shout` and `quad` it exports. `trap` reaches an `unreachable` inside `$inner`.
const NESTED: &str = r#"
(component $nested
  (component $inner
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      (func (export "shout") (param $ptr i32) (param $len i32) (result i32)
        (local $i i32) (local $c i32) (local $at i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
            (local.set $at (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 1))))
            (local.set $c (i32.load16_u (local.get $at)))
            (if (i32.and (i32.ge_u (local.get $c) (i32.const 97))
                         (i32.le_u (local.get $c) (i32.const 122)))
              (then (i32.store16 (local.get $at) (i32.sub (local.get $c) (i32.const 32)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (i32.store (i32.const 16) (local.get $ptr))
        (i32.store (i32.const 20) (local.get $len))
        (i32.const 16))
      (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (func $deep (export "trap") unreachable))
    (core instance $i (instantiate $m))
    (func (export "shout") (param "s" string) (result string)
      (canon lift (core func $i "shout") string-encoding=utf16
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double")))
    (func (export "trap") (canon lift (core func $i "trap"))))
  (instance $a (instantiate $inner))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (core func $shout (canon lower (func $a "shout")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core func $double (canon lower (func $a "double")))
  (core func $trap (canon lower (func $a "trap")))
  (core module $outer
    (import "libc" "memory" (memory 1))
    (import "a" "shout" (func $shout (param i32 i32 i32)))
    (import "a" "double" (func $double (param i32) (result i32)))
    (import "a" "trap" (func $trap))
    (func (export "shout") (param i32 i32) (result i32)
      (call $shout (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8))
    (func (export "quad") (param i32) (result i32) (call $double (call $double (local.get 0))))
    (func $outer_trap (export "trap") (call $trap)))
  (core instance $o (instantiate $outer
    (with "libc" (instance $libc))
    (with "a" (instance
      (export "shout" (func $shout))
      (export "double" (func $double))
      (export "trap" (func $trap))))))
  (func (export "shout") (param "s" string) (result string)
    (canon lift (core func $o "shout") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func (export "quad") (param "x" u32) (result u32) (canon lift (core func $o "quad")))
  (func (export "trap") (canon lift (core func $o "trap")))
)
"#;

#[test]
fn scalars_cross_between_sibling_instances() {
    let c = component(NESTED);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let quad = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "quad")
        .unwrap();
    assert_eq!(quad.call(&mut store, (5,)).unwrap(), (20,));
    assert_eq!(quad.call(&mut store, (1 << 30,)).unwrap(), (0,));
}

#[test]
fn strings_are_transcoded_between_two_memories() {
    let c = component(NESTED);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let shout = instance
        .get_typed_func::<(&str,), (String,)>(&mut store, "shout")
        .unwrap();
    for (input, output) in [
        ("hello", "HELLO"),
        ("", ""),
        ("héllo wörld", "HéLLO WöRLD"),
        ("crab 🦀 claws", "CRAB 🦀 CLAWS"),
    ] {
        assert_eq!(shout.call(&mut store, (input,)).unwrap().0, output);
    }
    let dynamic = instance.get_func(&mut store, "shout").unwrap();
    let mut out = [Val::Bool(false)];
    dynamic
        .call(&mut store, &[Val::String("mixed Case".into())], &mut out)
        .unwrap();
    assert_eq!(out[0], Val::String("MIXED CASE".into()));
}

#[test]
fn a_trap_in_the_inner_instance_poisons_the_caller() {
    let c = component(NESTED);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let trap = instance
        .get_typed_func::<(), ()>(&mut store, "trap")
        .unwrap();
    let err = trap.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached), "{err}");
    let frames = err.backtrace().unwrap().frames();
    assert_eq!(frames[0].func_name(), Some("deep"), "{frames:?}");
    assert!(frames[0].module_name().starts_with("nested/"), "{frames:?}");
    // The outer instance is poisoned; the inner one too.
    let quad = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "quad")
        .unwrap();
    assert_eq!(
        quad.call(&mut store, (1,)).unwrap_err().trap(),
        Some(Trap::CannotEnterComponent)
    );
}

static NESTED_FIXTURE: EmbeddedComponent = include_component!("fixtures/components/nested.wat");

#[test]
fn the_nested_fixture_runs_from_its_embedded_artifact() {
    let c = Component::from_embedded(&NESTED_FIXTURE).unwrap();
    assert_eq!(c.name(), "nested");
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let first = instance
        .get_typed_func::<(), (u32,)>(&mut store, "first#next")
        .unwrap();
    let second = instance
        .get_typed_func::<(), (u32,)>(&mut store, "second#next")
        .unwrap();
    assert_eq!(first.call(&mut store, ()).unwrap(), (1,));
    assert_eq!(first.call(&mut store, ()).unwrap(), (2,));
    assert_eq!(second.call(&mut store, ()).unwrap(), (1,));
    // The interface is found by a semver-compatible version too.
    for name in [
        "test:demo/greeter@0.1.0#greet",
        "test:demo/greeter@0.1.4#greet",
    ] {
        let greet = instance
            .get_typed_func::<(&str,), (String,)>(&mut store, name)
            .unwrap();
        assert_eq!(
            greet.call(&mut store, ("crab ☃",)).unwrap().0,
            "Hello, CRAB ☃!"
        );
    }
    // A second instance in the same store has its own counters and memories.
    let other = Linker::new().instantiate(&mut store, &c).unwrap();
    let first = other
        .get_typed_func::<(), (u32,)>(&mut store, "first#next")
        .unwrap();
    assert_eq!(first.call(&mut store, ()).unwrap(), (1,));
}
