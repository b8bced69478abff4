//! Host -> guest calls of scalar functions through the typed API (`TypedFunc`) and the dynamic
//! API (`Func::call` with `Val`s), export lookup by name (root, `iface#func`, semver-compatible),
//! and traps inside a component (named backtrace, then the instance is poisoned).

use super::{SCALARS, component};
use aot_runtime::component::{Linker, Val};
use aot_runtime::{Store, Trap};

#[test]
fn scalars_through_the_typed_api() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let add = instance
        .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), (42,));
    assert_eq!(add.call(&mut store, (u32::MAX, 2)).unwrap(), (1,));

    macro_rules! echo {
        ($name:literal, $ty:ty, $($v:expr),+) => {{
            let f = instance.get_typed_func::<($ty,), ($ty,)>(&mut store, $name).unwrap();
            $( assert_eq!(f.call(&mut store, ($v,)).unwrap(), ($v,), "{}", $name); )+
        }};
    }
    echo!("echo-bool", bool, true, false);
    echo!("echo-s8", i8, -128, 127, -1);
    echo!("echo-u8", u8, 0, 255);
    echo!("echo-s16", i16, i16::MIN, -2);
    echo!("echo-u16", u16, u16::MAX);
    echo!("echo-s32", i32, i32::MIN, -7);
    echo!("echo-u32", u32, u32::MAX);
    echo!("echo-s64", i64, i64::MIN, -3);
    echo!("echo-u64", u64, u64::MAX);
    echo!("echo-f32", f32, 1.5, -0.0, f32::INFINITY);
    echo!("echo-f64", f64, 2.25, f64::MIN_POSITIVE);
    echo!("echo-char", char, 'a', 'é', '🦀');

    // Lifting a `u8` from an `i32` keeps the low 8 bits.
    let wrap = instance
        .get_typed_func::<(), (u8,)>(&mut store, "wrap-u8")
        .unwrap();
    assert_eq!(wrap.call(&mut store, ()).unwrap(), (255,));

    let mix = instance
        .get_typed_func::<(bool, i32, i64, f32, f64, char), (f64,)>(&mut store, "mix")
        .unwrap();
    assert_eq!(
        mix.call(&mut store, (true, -2, 10, 0.5, 0.25, 'x'))
            .unwrap(),
        (8.75,)
    );
}

#[test]
fn scalars_through_the_dynamic_api() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let add = instance.get_func(&mut store, "add").unwrap();
    let mut results = [Val::Bool(false)];
    add.call(&mut store, &[Val::U32(20), Val::U32(22)], &mut results)
        .unwrap();
    assert_eq!(results[0], Val::U32(42));

    let params: Vec<String> = add
        .params(&store)
        .iter()
        .map(|(name, ty)| format!("{name}: {ty}"))
        .collect();
    assert_eq!(params, ["a: u32", "b: u32"]);
    let results_ty: Vec<String> = add.results(&store).iter().map(|t| t.to_string()).collect();
    assert_eq!(results_ty, ["u32"]);

    for (name, val) in [
        ("echo-bool", Val::Bool(true)),
        ("echo-s8", Val::S8(-5)),
        ("echo-u8", Val::U8(200)),
        ("echo-s16", Val::S16(-300)),
        ("echo-u16", Val::U16(60000)),
        ("echo-s32", Val::S32(-70000)),
        ("echo-u32", Val::U32(4_000_000_000)),
        ("echo-s64", Val::S64(-1 << 40)),
        ("echo-u64", Val::U64(1 << 63)),
        ("echo-f32", Val::Float32(3.5)),
        ("echo-f64", Val::Float64(-1e300)),
        ("echo-char", Val::Char('ß')),
    ] {
        let f = instance.get_func(&mut store, name).unwrap();
        let mut out = [Val::Bool(false)];
        f.call(&mut store, std::slice::from_ref(&val), &mut out)
            .unwrap();
        assert_eq!(out[0], val, "{name}");
    }
}

#[test]
fn dynamic_arguments_are_type_checked_first() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let add = instance.get_func(&mut store, "add").unwrap();
    let mut results = [Val::Bool(false)];
    let err = add
        .call(
            &mut store,
            &[Val::U32(1), Val::String("two".into())],
            &mut results,
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("argument 1 (`b`)"), "{msg}");
    assert!(msg.contains("expected `u32`"), "{msg}");
    let err = add
        .call(&mut store, &[Val::U32(1)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("expected 2 arguments"), "{err}");
    let err = add
        .call(&mut store, &[Val::U32(1), Val::U32(2)], &mut [])
        .unwrap_err();
    assert!(err.to_string().contains("result slots"), "{err}");
    // Nothing ran: the instance is still usable.
    add.call(&mut store, &[Val::U32(1), Val::U32(2)], &mut results)
        .unwrap();
    assert_eq!(results[0], Val::U32(3));
}

#[test]
fn typed_funcs_are_checked_once_with_a_named_error() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let err = instance
        .get_typed_func::<(u32, String), (u32,)>(&mut store, "add")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "function `add` has type `func(a: u32, b: u32) -> u32`, not `(u32, String) -> (u32,)`: \
         parameters: expected `u32`, found Rust type `String` (in value 1)"
    );
    let err = instance
        .get_typed_func::<(u32, u32), (u64,)>(&mut store, "add")
        .unwrap_err();
    assert!(err.to_string().contains("result"), "{err}");
    let err = instance
        .get_typed_func::<(), ()>(&mut store, "nope")
        .unwrap_err();
    assert!(err.to_string().contains("no export named `nope`"), "{err}");
}

#[test]
fn exports_are_found_by_interface_and_compatible_version() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    for name in [
        "test:demo/math@0.2.1#add",
        "test:demo/math@0.2.0#add",
        "test:demo/math@0.2.7#add",
    ] {
        let add = instance
            .get_typed_func::<(u32, u32), (u32,)>(&mut store, name)
            .unwrap();
        assert_eq!(add.call(&mut store, (1, 2)).unwrap(), (3,), "{name}");
    }
    assert!(
        instance
            .get_func(&mut store, "test:demo/math@0.3.0#add")
            .is_none()
    );
    assert!(
        instance
            .get_func(&mut store, "test:demo/math@0.2.1#sub")
            .is_none()
    );
    assert!(
        instance
            .get_func(&mut store, "test:demo/math@0.2.1")
            .is_none()
    );
}

#[test]
fn a_trap_has_a_named_backtrace_and_poisons_the_instance() {
    let c = component(SCALARS);
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    let boom = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "boom")
        .unwrap();
    assert_eq!(boom.call(&mut store, (7,)).unwrap(), (7,));
    let err = boom.call(&mut store, (0,)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnreachableCodeReached), "{err}");
    let frames = err.backtrace().expect("a backtrace").frames();
    let names: Vec<(String, Option<String>)> = frames
        .iter()
        .map(|f| (f.module_name().to_string(), f.func_name().map(String::from)))
        .collect();
    assert_eq!(names[0].1.as_deref(), Some("inner"), "{names:?}");
    assert_eq!(names[1].1.as_deref(), Some("boom"), "{names:?}");
    assert!(names[0].0.contains('/'), "component/module name: {names:?}");
    let msg = err.to_string();
    assert!(msg.contains("::inner"), "{msg}");

    // The trap unwound through the instance: it may not be entered again.
    let err = boom.call(&mut store, (7,)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::CannotEnterComponent), "{err}");
    assert!(
        err.to_string()
            .contains("left instance `root` in an earlier call"),
        "{err}"
    );
    // Another instance in the same store is unaffected.
    let other = Linker::new().instantiate(&mut store, &c).unwrap();
    let boom = other
        .get_typed_func::<(u32,), (u32,)>(&mut store, "boom")
        .unwrap();
    assert_eq!(boom.call(&mut store, (9,)).unwrap(), (9,));
}
