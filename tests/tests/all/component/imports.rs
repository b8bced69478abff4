//! Host imports: `func_wrap` and `func_new` definitions called by a guest, semver-compatible
//! instance names, the import checks of `Linker::instantiate` and their messages, and host errors
//! coming back through the guest.

use super::component;
use aot_runtime::component::{Component, Linker, Val};
use aot_runtime::{EmbeddedComponent, LinkError, Store, Trap, include_component};
use core::fmt;

/// Imports `test:demo/host@0.1.0` with `double: func(x: u32) -> u32` and a root function
/// `log: func(code: u32)`; exports `run(x) = double(x) + 1`, logging `x` first.
const HOST: &str = r#"
(component $host
  (import "test:demo/host@0.1.0" (instance $host
    (export "double" (func (param "x" u32) (result u32)))))
  (import "log" (func $log (param "code" u32)))
  (core func $double (canon lower (func $host "double")))
  (core func $log (canon lower (func $log)))
  (core module $m
    (import "host" "double" (func $double (param i32) (result i32)))
    (import "host" "log" (func $log (param i32)))
    (func (export "run") (param i32) (result i32)
      (call $log (local.get 0))
      (i32.add (call $double (local.get 0)) (i32.const 1))))
  (core instance $i (instantiate $m
    (with "host" (instance
      (export "double" (func $double))
      (export "log" (func $log))))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))
)
"#;

/// A linker defining `log` to record its argument in the store's data.
fn linker_with_log() -> Linker<Vec<u32>> {
    let mut linker = Linker::<Vec<u32>>::new();
    linker
        .root()
        .func_wrap("log", |mut store, (code,): (u32,)| {
            store.data_mut().push(code);
            Ok(())
        })
        .unwrap();
    linker
}

#[test]
fn host_import_through_func_wrap() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_wrap("double", |_store, (x,): (u32,)| Ok((x * 2,)))
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, (20,)).unwrap(), (41,));
    assert_eq!(run.call(&mut store, (1,)).unwrap(), (3,));
    assert_eq!(store.data(), &[20, 1]);
}

#[test]
fn host_import_through_func_new() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_new("double", |_store, params, results| {
            let [Val::U32(x)] = params else {
                panic!("unexpected params {params:?}")
            };
            results[0] = Val::U32(x * 3);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut results = [Val::Bool(false)];
    run.call(&mut store, &[Val::U32(5)], &mut results).unwrap();
    assert_eq!(results[0], Val::U32(16));
}

#[test]
fn func_new_results_are_type_checked() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_new("double", |_store, _params, results| {
            results[0] = Val::String("not a number".into());
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let err = run
        .call(&mut store, &[Val::U32(5)], &mut [Val::Bool(false)])
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("host function result 0"), "{msg}");
    assert!(msg.contains("expected `u32`"), "{msg}");
}

#[derive(Debug)]
struct Exit(i32);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit with code {}", self.0)
    }
}

impl std::error::Error for Exit {}

#[test]
fn a_host_error_comes_back_through_the_guest() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_wrap(
            "double",
            |_store, (x,): (u32,)| -> aot_runtime::Result<(u32,)> {
                Err(aot_runtime::Error::new(Exit(x as i32)))
            },
        )
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, (3,)).unwrap_err();
    assert_eq!(err.downcast_ref::<Exit>().map(|e| e.0), Some(3), "{err}");
    let frames = err.backtrace().expect("raised while wasm ran").frames();
    assert!(!frames.is_empty());
    // The store stays usable; the data the guest's first import call wrote is there.
    assert_eq!(store.data(), &[3]);
}

#[test]
fn instances_resolve_to_a_semver_compatible_definition() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.7")
        .unwrap()
        .func_wrap("double", |_store, (x,): (u32,)| Ok((x + x,)))
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let run = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, (4,)).unwrap(), (9,));

    // A different minor version of a 0.x interface is not compatible.
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.2.0")
        .unwrap()
        .func_wrap("double", |_store, (x,): (u32,)| Ok((x,)))
        .unwrap();
    let err = linker
        .instantiate(&mut Store::new(Vec::new()), &c)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("component import `test:demo/host@0.1.0` has not been defined"),
        "{err}"
    );
}

/// The `LinkError` inside `err`.
fn link_error(err: &aot_runtime::Error) -> &LinkError {
    err.downcast_ref::<LinkError>()
        .unwrap_or_else(|| panic!("expected a link error, got: {err}"))
}

#[test]
fn a_wrong_import_type_names_the_import_and_both_types() {
    let c = component(HOST);
    let mut linker = linker_with_log();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_wrap("double", |_store, (s,): (String,)| Ok((s.len() as u32,)))
        .unwrap();
    let err = linker
        .instantiate(&mut Store::new(Vec::new()), &c)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component import `test:demo/host@0.1.0#double` has the wrong type: \
         expected `func(x: u32) -> u32`, found host function `(String,) -> (u32,)`: \
         parameters: expected `u32`, found Rust type `String` (in value 0)"
    );
    let link = link_error(&err);
    assert!(link.is_incompatible_import());
    assert_eq!(link.import(), Some(("test:demo/host@0.1.0", "double")));
}

#[test]
fn missing_imports_and_wrong_kinds_are_link_errors() {
    let c = component(HOST);
    // Nothing defined: the first root import is reported.
    let err = Linker::new()
        .instantiate(&mut Store::new(Vec::<u32>::new()), &c)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component import `test:demo/host@0.1.0` has not been defined"
    );
    assert!(link_error(&err).is_unknown_import());

    // The instance, without its function.
    let mut linker = linker_with_log();
    linker.instance("test:demo/host@0.1.0").unwrap();
    let err = linker
        .instantiate(&mut Store::new(Vec::new()), &c)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component import `test:demo/host@0.1.0#double` has not been defined"
    );
    assert_eq!(
        link_error(&err).import(),
        Some(("test:demo/host@0.1.0", "double"))
    );

    // A function where an instance is expected, and the reverse.
    let mut linker = linker_with_log();
    linker
        .root()
        .func_wrap("test:demo/host@0.1.0", |_store, (): ()| Ok(()))
        .unwrap();
    let err = linker
        .instantiate(&mut Store::new(Vec::new()), &c)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component import `test:demo/host@0.1.0` is the wrong kind: expected an instance, found a function"
    );
    let mut linker = Linker::<Vec<u32>>::new();
    linker
        .instance("test:demo/host@0.1.0")
        .unwrap()
        .func_wrap("double", |_store, (x,): (u32,)| Ok((x,)))
        .unwrap();
    linker.instance("log").unwrap();
    let err = linker
        .instantiate(&mut Store::new(Vec::new()), &c)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "component import `log` is the wrong kind: expected a function, found an instance"
    );

    // Defining a name twice is refused unless shadowing is allowed.
    let mut linker = linker_with_log();
    let err = linker
        .root()
        .func_wrap("log", |_store, (_,): (u32,)| Ok(()))
        .unwrap_err();
    assert!(err.to_string().contains("defined twice"), "{err}");
    linker.allow_shadowing(true);
    linker
        .root()
        .func_wrap("log", |_store, (_,): (u32,)| Ok(()))
        .unwrap();
}

#[test]
fn component_reflection_lists_imports_and_exports() {
    let c = component(HOST);
    let imports: Vec<String> = c
        .imports()
        .map(|(name, item)| format!("{name}: {item}"))
        .collect();
    assert_eq!(
        imports,
        [
            "test:demo/host@0.1.0: instance { double: func(x: u32) -> u32 }",
            "log: func(code: u32)",
        ]
    );
    let exports: Vec<String> = c
        .exports()
        .map(|(name, item)| format!("{name}: {item}"))
        .collect();
    assert_eq!(exports, ["run: func(x: u32) -> u32"]);
}

static SCALARS_FIXTURE: EmbeddedComponent = include_component!("fixtures/components/scalars.wat");

#[test]
fn the_scalars_fixture_calls_its_host_import() {
    let c = Component::from_embedded(&SCALARS_FIXTURE).unwrap();
    let mut linker = Linker::<Vec<u32>>::new();
    linker
        .instance("test:demo/host")
        .unwrap()
        .func_wrap("log", |mut store, (x,): (u32,)| {
            store.data_mut().push(x);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let call_log = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "call-log")
        .unwrap();
    assert_eq!(call_log.call(&mut store, (41,)).unwrap(), (42,));
    assert_eq!(call_log.call(&mut store, (1,)).unwrap(), (2,));
    assert_eq!(store.data(), &[41, 1]);
    let fail = instance
        .get_typed_func::<(), ()>(&mut store, "fail")
        .unwrap();
    let err = fail.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached));
    assert!(
        err.backtrace().unwrap().frames()[0]
            .module_name()
            .starts_with("scalars/"),
        "{err}"
    );
}
