//! Resources end to end: guest resources held by the host as `ResourceAny` through dynamic calls
//! (`fixtures/components/resources.wat`, the C guest `fixtures/components/c/resources`), handles
//! inside the guest (`resource.new`, `resource.rep`, `resource.drop`) and the handle traps:
//! a dropped handle, dropping a lent own handle, a callee keeping a borrow.

use aot_runtime::component::{Component, Func, Instance, Linker, ResourceAny, Val};
use aot_runtime::{EmbeddedComponent, Store, Trap, include_component};

static RESOURCES: EmbeddedComponent = include_component!("fixtures/components/resources.wat");

/// Calls `name` dynamically with `params`, returning its result, if any.
fn call<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    params: &[Val],
) -> aot_runtime::Result<Option<Val>> {
    let func: Func = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export `{name}`"));
    let mut results = vec![Val::Bool(false); func.results(&*store).len()];
    func.call(&mut *store, params, &mut results)?;
    Ok(results.pop())
}

fn resource(v: Option<Val>) -> ResourceAny {
    match v {
        Some(Val::Resource(r)) => r,
        other => panic!("expected a resource, got {other:?}"),
    }
}

fn u32_of(v: Option<Val>) -> u32 {
    match v {
        Some(Val::U32(n)) => n,
        other => panic!("expected a u32, got {other:?}"),
    }
}

fn resources_wat() -> (Store<()>, Instance) {
    let c = Component::from_embedded(&RESOURCES).unwrap();
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    (store, instance)
}

#[test]
fn guest_resources_through_the_dynamic_api() {
    let (mut store, instance) = resources_wat();
    let s = &mut store;
    let ty = instance.get_resource(&*s, "counter").unwrap();
    let a = resource(call(s, &instance, "[constructor]counter", &[Val::U32(10)]).unwrap());
    let b = resource(call(s, &instance, "[constructor]counter", &[Val::U32(5)]).unwrap());
    assert!(a.owned() && a.ty() == ty && b.ty() == ty);
    // A method borrows: the handle stays with the host.
    let inc = call(
        s,
        &instance,
        "[method]counter.increment",
        &[Val::Resource(a)],
    );
    assert_eq!(u32_of(inc.unwrap()), 11);
    let get = call(s, &instance, "[method]counter.get", &[Val::Resource(a)]);
    assert_eq!(u32_of(get.unwrap()), 11);
    // `merge` consumes both, drops `b` in the guest (its destructor runs) and returns `a`.
    let merged = call(
        s,
        &instance,
        "[static]counter.merge",
        &[Val::Resource(a), Val::Resource(b)],
    );
    let merged = resource(merged.unwrap());
    assert_eq!(u32_of(call(s, &instance, "dropped", &[]).unwrap()), 1);
    let get = call(
        s,
        &instance,
        "[method]counter.get",
        &[Val::Resource(merged)],
    );
    assert_eq!(u32_of(get.unwrap()), 16);
    // `a` and `b` were given away: using them is an unknown handle, never another resource.
    assert_eq!(
        b.resource_drop(&mut *s).unwrap_err().trap(),
        Some(Trap::UnknownHandle)
    );
    // The host drops the last one: the guest destructor runs.
    merged.resource_drop(&mut *s).unwrap();
    assert_eq!(u32_of(call(s, &instance, "dropped", &[]).unwrap()), 2);
    let err = merged.resource_drop(&mut *s).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnknownHandle), "{err}");
    // Handles inside the guest still work after all this.
    assert_eq!(
        u32_of(call(s, &instance, "lifecycle", &[Val::U32(3)]).unwrap()),
        3003
    );
    // Passing a stale handle traps in the callee's frame, which poisons it (like any trap).
    let err = call(s, &instance, "[method]counter.get", &[Val::Resource(a)]).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnknownHandle), "{err}");
    let err = call(s, &instance, "dropped", &[]).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::CannotEnterComponent), "{err}");
}

#[test]
fn a_resource_prints_as_an_error_in_wave() {
    let (mut store, instance) = resources_wat();
    let a = resource(
        call(
            &mut store,
            &instance,
            "[constructor]counter",
            &[Val::U32(1)],
        )
        .unwrap(),
    );
    assert!(wasm_wave::to_string(&Val::Resource(a)).is_err());
}

#[test]
fn each_instantiation_defines_a_fresh_type() {
    let c = Component::from_embedded(&RESOURCES).unwrap();
    let mut store = Store::new(());
    let linker = Linker::new();
    let one = linker.instantiate(&mut store, &c).unwrap();
    let two = linker.instantiate(&mut store, &c).unwrap();
    let t1 = one.get_resource(&store, "counter").unwrap();
    let t2 = two.get_resource(&store, "counter").unwrap();
    assert_ne!(t1, t2);
    assert!(one.get_resource(&store, "dropped").is_none());
    // A handle of the first instance's type is refused by the second.
    let a = resource(call(&mut store, &one, "[constructor]counter", &[Val::U32(1)]).unwrap());
    let err = call(&mut store, &two, "[method]counter.get", &[Val::Resource(a)]).unwrap_err();
    assert!(err.to_string().contains("another type"), "{err}");
}

const IFACE: &str = "test:resources/counters@0.1.0";

#[test]
fn the_c_guest_counters() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/components/c/resources/resources.wasm"
    );
    let artifact = aot_tests::compile(std::fs::read(path).unwrap()).unwrap();
    let c = aot_tests::load_component(&artifact).unwrap();
    let mut linker = Linker::<Vec<String>>::new();
    linker
        .instance("test:resources/host-log@0.1.0")
        .unwrap()
        .func_wrap("log", |mut store, (msg,): (String,)| {
            store.data_mut().push(msg);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(Vec::new());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let name = |f: &str| format!("{IFACE}#{f}");
    let s = &mut store;
    let live = |s: &mut Store<Vec<String>>| u32_of(call(s, &instance, &name("live"), &[]).unwrap());
    let a = resource(call(s, &instance, &name("[constructor]counter"), &[Val::U32(1)]).unwrap());
    let b = resource(call(s, &instance, &name("[constructor]counter"), &[Val::U32(40)]).unwrap());
    assert_eq!(live(s), 2);
    let inc = |s: &mut Store<Vec<String>>, r: ResourceAny, by: u32| {
        let params = [Val::Resource(r), Val::U32(by)];
        u32_of(call(s, &instance, &name("[method]counter.increment"), &params).unwrap())
    };
    assert_eq!(inc(s, a, 1), 2);
    assert_eq!(inc(s, b, 2), 42);
    assert_eq!(s.data(), &["incremented to 2", "incremented to 42"]);
    let merged = call(
        s,
        &instance,
        &name("[static]counter.merge"),
        &[Val::Resource(a), Val::Resource(b)],
    );
    let merged = resource(merged.unwrap());
    assert_eq!(live(s), 3);
    let value = call(
        s,
        &instance,
        &name("[method]counter.value"),
        &[Val::Resource(merged)],
    );
    assert_eq!(u32_of(value.unwrap()), 44);
    for r in [a, b, merged] {
        r.resource_drop(&mut *s).unwrap();
    }
    assert_eq!(live(s), 0);
}

/// `fixtures/components/errors-runtime/borrows.wat`, instantiated afresh for each call (a trap
/// poisons the instance).
fn borrows_call(name: &str) -> aot_runtime::Result<Option<Val>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/components/errors-runtime/borrows.wat"
    );
    let c = aot_tests::component(&std::fs::read_to_string(path).unwrap());
    let mut store = Store::new(());
    let instance = Linker::new().instantiate(&mut store, &c).unwrap();
    call(&mut store, &instance, name, &[])
}

#[test]
fn a_callee_keeping_a_borrow_traps() {
    let err = borrows_call("keep-borrow").unwrap_err();
    assert_eq!(err.trap(), Some(Trap::BorrowsRemain), "{err}");
}

#[test]
fn a_lent_handle_cannot_be_given_away() {
    let err = borrows_call("pass-lent").unwrap_err();
    assert_eq!(err.trap(), Some(Trap::ResourceBorrowed), "{err}");
}

#[test]
fn a_dropped_borrow_ends_the_lend() {
    assert_eq!(u32_of(borrows_call("drop-borrow").unwrap()), 7);
}

#[test]
fn a_dropped_handle_is_unknown() {
    let err = borrows_call("drop-twice").unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnknownHandle), "{err}");
}

#[test]
fn guest_resources_through_the_typed_api() {
    let (mut store, instance) = resources_wat();
    let s = &mut store;
    let new = instance
        .get_typed_func::<(u32,), (ResourceAny,)>(&mut *s, "[constructor]counter")
        .unwrap();
    let increment = instance
        .get_typed_func::<(ResourceAny,), (u32,)>(&mut *s, "[method]counter.increment")
        .unwrap();
    let merge = instance
        .get_typed_func::<(ResourceAny, ResourceAny), (ResourceAny,)>(
            &mut *s,
            "[static]counter.merge",
        )
        .unwrap();
    let dropped = instance
        .get_typed_func::<(), (u32,)>(&mut *s, "dropped")
        .unwrap();
    let err = instance
        .get_typed_func::<(u32,), (u32,)>(&mut *s, "[constructor]counter")
        .unwrap_err();
    assert!(err.to_string().contains("own<"), "{err}");
    let (a,) = new.call(&mut *s, (1,)).unwrap();
    let (b,) = new.call(&mut *s, (2,)).unwrap();
    assert_eq!(increment.call(&mut *s, (a,)).unwrap(), (2,));
    let (m,) = merge.call(&mut *s, (a, b)).unwrap();
    assert_eq!(increment.call(&mut *s, (m,)).unwrap(), (5,));
    assert_eq!(dropped.call(&mut *s, ()).unwrap(), (1,));
    m.resource_drop(&mut *s).unwrap();
    assert_eq!(dropped.call(&mut *s, ()).unwrap(), (2,));
}
