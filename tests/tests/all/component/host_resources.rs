//! Host-defined resources: `Linker::resource`, `Resource<T>` handles through typed and dynamic
//! calls, `ResourceTable`, host destructors run by guest drops, own/borrow rules across the
//! boundary, and the errors for handles of the wrong type.

use super::component;
use aot_runtime::component::{
    Component, Linker, Resource, ResourceAny, ResourceTable, ResourceType, Val,
};
use aot_runtime::{Store, Trap};

/// Imports `test:demo/counters` with a host resource `counter` (constructor and `inc`), and
/// exports functions that create, borrow, consume and misuse counters.
const COUNTERS: &str = r#"
(component $counters
  (import "test:demo/counters" (instance $host
    (export "counter" (type $counter (sub resource)))
    (export "[constructor]counter" (func (param "start" u32) (result (own $counter))))
    (export "[method]counter.inc" (func (param "self" (borrow $counter)) (result u32)))))
  (alias export $host "counter" (type $counter))
  (core func $new (canon lower (func $host "[constructor]counter")))
  (core func $inc (canon lower (func $host "[method]counter.inc")))
  (core func $drop (canon resource.drop $counter))
  (core module $m
    (import "h" "new" (func $new (param i32) (result i32)))
    (import "h" "inc" (func $inc (param i32) (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    ;; A new counter, incremented once, given to the caller.
    (func (export "make") (param i32) (result i32)
      (local $h i32)
      (local.set $h (call $new (local.get 0)))
      (drop (call $inc (local.get $h)))
      (local.get $h))
    ;; Increments a borrowed counter twice and drops the borrow.
    (func (export "bump") (param $c i32) (result i32)
      (local $v i32)
      (drop (call $inc (local.get $c)))
      (local.set $v (call $inc (local.get $c)))
      (call $drop (local.get $c))
      (local.get $v))
    ;; Increments an owned counter, then drops it (the host destructor runs).
    (func (export "consume") (param $c i32) (result i32)
      (local $v i32)
      (local.set $v (call $inc (local.get $c)))
      (call $drop (local.get $c))
      (local.get $v))
    ;; Uses a handle after dropping it.
    (func (export "use-after-drop") (param i32) (result i32)
      (local $h i32)
      (local.set $h (call $new (local.get 0)))
      (call $drop (local.get $h))
      (call $inc (local.get $h)))
    ;; Returns without dropping a borrow.
    (func (export "keep-borrow") (param $c i32) (result i32)
      (call $inc (local.get $c)))
    ;; Gives the counter to `inc`, which only borrows it, then returns it.
    (func (export "pass-through") (param $c i32) (result i32)
      (drop (call $inc (local.get $c)))
      (local.get $c)))
  (core instance $i (instantiate $m
    (with "h" (instance
      (export "new" (func $new))
      (export "inc" (func $inc))
      (export "drop" (func $drop))))))
  (func (export "make") (param "start" u32) (result (own $counter))
    (canon lift (core func $i "make")))
  (func (export "bump") (param "c" (borrow $counter)) (result u32)
    (canon lift (core func $i "bump")))
  (func (export "consume") (param "c" (own $counter)) (result u32)
    (canon lift (core func $i "consume")))
  (func (export "use-after-drop") (param "start" u32) (result u32)
    (canon lift (core func $i "use-after-drop")))
  (func (export "keep-borrow") (param "c" (borrow $counter)) (result u32)
    (canon lift (core func $i "keep-borrow")))
  (func (export "pass-through") (param "c" (own $counter)) (result (own $counter))
    (canon lift (core func $i "pass-through")))
)
"#;

struct Counter {
    value: u32,
}

/// Another host type, for handles of the wrong type.
struct Other;

#[derive(Default)]
struct Host {
    table: ResourceTable,
    /// The values of the counters the destructor removed.
    dropped: Vec<u32>,
    /// Whether each `inc` call received a borrow.
    inc_borrowed: Vec<bool>,
}

fn linker() -> Linker<Host> {
    let mut linker = Linker::<Host>::new();
    let mut host = linker.instance("test:demo/counters").unwrap();
    host.resource(
        "counter",
        ResourceType::host::<Counter>(),
        |mut store, rep| {
            let host = store.data_mut();
            let counter = host.table.delete(Resource::<Counter>::new_own(rep))?;
            host.dropped.push(counter.value);
            Ok(())
        },
    )
    .unwrap();
    host.func_wrap("[constructor]counter", |mut store, (start,): (u32,)| {
        Ok((store.data_mut().table.push(Counter { value: start })?,))
    })
    .unwrap();
    host.func_wrap(
        "[method]counter.inc",
        |mut store, (this,): (Resource<Counter>,)| {
            let host = store.data_mut();
            host.inc_borrowed.push(!this.owned());
            let counter = host.table.get_mut(&this)?;
            counter.value += 1;
            Ok((counter.value,))
        },
    )
    .unwrap();
    linker
}

fn setup() -> (Store<Host>, aot_runtime::component::Instance) {
    let c = component(COUNTERS);
    let mut store = Store::new(Host::default());
    let instance = linker().instantiate(&mut store, &c).unwrap();
    (store, instance)
}

#[test]
fn host_resources_cross_in_both_directions() {
    let (mut store, instance) = setup();
    let make = instance
        .get_typed_func::<(u32,), (Resource<Counter>,)>(&mut store, "make")
        .unwrap();
    let (counter,) = make.call(&mut store, (5,)).unwrap();
    assert!(counter.owned());
    assert_eq!(store.data().table.get(&counter).unwrap().value, 6);
    assert_eq!(store.data().inc_borrowed, [true]);

    // The host lends its own handle: the guest gets a borrow handle and drops it.
    let bump = instance
        .get_typed_func::<(&Resource<Counter>,), (u32,)>(&mut store, "bump")
        .unwrap();
    assert_eq!(bump.call(&mut store, (&counter,)).unwrap(), (8,));
    // A borrow the host creates from the representation works the same way.
    let borrowed = Resource::<Counter>::new_borrow(counter.rep());
    assert_eq!(bump.call(&mut store, (&borrowed,)).unwrap(), (10,));
    assert_eq!(store.data().table.get(&counter).unwrap().value, 10);

    // Own handles go to the guest and come back.
    let pass = instance
        .get_typed_func::<(Resource<Counter>,), (Resource<Counter>,)>(&mut store, "pass-through")
        .unwrap();
    let (counter,) = pass.call(&mut store, (counter,)).unwrap();
    assert!(counter.owned());
    assert_eq!(store.data().table.get(&counter).unwrap().value, 11);

    // Giving the guest an own handle it drops runs the host destructor.
    let consume = instance
        .get_typed_func::<(Resource<Counter>,), (u32,)>(&mut store, "consume")
        .unwrap();
    assert_eq!(consume.call(&mut store, (counter,)).unwrap(), (12,));
    assert_eq!(store.data().dropped, [12]);
    assert!(store.data().table.is_empty());
    assert!(store.data().inc_borrowed.iter().all(|b| *b));
}

#[test]
fn a_dropped_host_handle_traps_and_a_kept_borrow_traps() {
    let (mut store, instance) = setup();
    let f = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "use-after-drop")
        .unwrap();
    let err = f.call(&mut store, (1,)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnknownHandle), "{err}");
    assert_eq!(store.data().dropped, [1]);

    let (mut store, instance) = setup();
    let make = instance
        .get_typed_func::<(u32,), (Resource<Counter>,)>(&mut store, "make")
        .unwrap();
    let (counter,) = make.call(&mut store, (0,)).unwrap();
    let keep = instance
        .get_typed_func::<(&Resource<Counter>,), (u32,)>(&mut store, "keep-borrow")
        .unwrap();
    let err = keep.call(&mut store, (&counter,)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::BorrowsRemain), "{err}");
}

#[test]
fn handles_of_another_type_are_refused_by_name() {
    // Typed functions: when obtained from the instance.
    let (mut store, instance) = setup();
    let err = instance
        .get_typed_func::<(&Resource<Other>,), (u32,)>(&mut store, "bump")
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("borrow<") && msg.contains("Other"), "{msg}");
    assert!(
        instance
            .get_typed_func::<(&Resource<Counter>,), (u32,)>(&mut store, "bump")
            .is_ok()
    );

    // Host functions: when the linker checks the imports.
    let mut wrong = linker();
    wrong.allow_shadowing(true);
    wrong
        .instance("test:demo/counters")
        .unwrap()
        .func_wrap("[method]counter.inc", |_, (_this,): (Resource<Other>,)| {
            Ok((0u32,))
        })
        .unwrap();
    let err = wrong
        .instantiate(&mut Store::new(Host::default()), &component(COUNTERS))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("[method]counter.inc"), "{msg}");
    assert!(msg.contains("Other"), "{msg}");

    // Dynamic calls: when the handle crosses (an error, which poisons the instance like a
    // trap: arguments before it may already be in the guest).
    let other = store.data_mut().table.push(Other).unwrap();
    let bump = instance.get_func(&mut store, "bump").unwrap();
    let any = Resource::<Other>::new_borrow(other.rep())
        .try_into_resource_any(&mut store)
        .unwrap();
    let err = bump
        .call(&mut store, &[Val::Resource(any)], &mut [Val::U32(0)])
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("expected `borrow<"), "{msg}");
    assert!(msg.contains("Other`"), "{msg}");

    // A borrow cannot be given as an own handle.
    let (mut store, instance) = setup();
    let consume = instance
        .get_typed_func::<(Resource<Counter>,), (u32,)>(&mut store, "consume")
        .unwrap();
    let err = consume
        .call(&mut store, (Resource::new_borrow(0),))
        .unwrap_err();
    assert!(err.to_string().contains("borrowed resource"), "{err}");
}

#[test]
fn dynamic_calls_see_host_handles_as_resource_any() {
    let (mut store, instance) = setup();
    let make = instance.get_func(&mut store, "make").unwrap();
    let mut results = [Val::Bool(false)];
    make.call(&mut store, &[Val::U32(40)], &mut results)
        .unwrap();
    let Val::Resource(any) = results[0] else {
        panic!("not a resource: {results:?}")
    };
    assert!(any.owned());
    assert_eq!(any.ty(), ResourceType::host::<Counter>());
    assert!(any.ty().is_host());

    // Back to the typed handle, then to the guest as a `Val` again.
    let typed = Resource::<Counter>::try_from_resource_any(any, &mut store).unwrap();
    assert_eq!(store.data().table.get(&typed).unwrap().value, 41);
    let any = typed.try_into_resource_any(&mut store).unwrap();
    assert!(Resource::<Other>::try_from_resource_any(any, &mut store).is_err());
    let consume = instance.get_func(&mut store, "consume").unwrap();
    let mut results = [Val::U32(0)];
    consume
        .call(&mut store, &[Val::Resource(any)], &mut results)
        .unwrap();
    assert_eq!(results[0], Val::U32(42));
    assert_eq!(store.data().dropped, [42]);

    // The host drops a handle it holds: the destructor runs.
    make.call(&mut store, &[Val::U32(7)], &mut results).unwrap();
    let Val::Resource(any) = results[0] else {
        panic!("not a resource")
    };
    any.resource_drop(&mut store).unwrap();
    assert_eq!(store.data().dropped, [42, 8]);
    let err = any.resource_drop(&mut store).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::UnknownHandle), "{err}");
}

#[test]
fn resource_imports_need_a_resource_definition() {
    let c = component(COUNTERS);
    let check = |linker: Linker<Host>, expected: &str| {
        let err = linker
            .instantiate(&mut Store::new(Host::default()), &c)
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("test:demo/counters"), "{msg}");
        assert!(msg.contains(expected), "{msg}");
    };

    let mut missing = Linker::<Host>::new();
    missing.instance("test:demo/counters").unwrap();
    check(missing, "counter");

    let mut as_func = Linker::<Host>::new();
    as_func
        .instance("test:demo/counters")
        .unwrap()
        .func_wrap("counter", |_, (): ()| Ok(()))
        .unwrap();
    check(as_func, "a function");

    // Only host types can be defined.
    let (mut store, instance) = setup();
    let _ = &mut store;
    let guest_type: Option<ResourceType> = instance.get_resource(&store, "counter");
    assert!(guest_type.is_none(), "the component exports no resource");
    let fixture = component(
        r#"(component
             (type $r (resource (rep i32)))
             (export "r" (type $r)))"#,
    );
    let mut store = Store::new(Host::default());
    let instance = Linker::new().instantiate(&mut store, &fixture).unwrap();
    let guest = instance.get_resource(&store, "r").unwrap();
    assert!(!guest.is_host());
    let err = Linker::<Host>::new()
        .root()
        .resource("r", guest, |_, _| Ok(()))
        .unwrap_err();
    assert!(err.to_string().contains("host resource types"), "{err}");
}

/// `tests/fixtures/components/resource-import.wat`: two instances of a nested component each
/// take a host handle, read it through a lowered method, drop it and box the value in their own
/// resource type.
#[test]
fn nested_components_import_and_drop_host_handles() {
    struct Handle(u32);
    let wat = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/components/resource-import.wat"),
    )
    .unwrap();
    let c: Component = component(&wat);
    let mut linker = Linker::<Host>::new();
    let mut host = linker.instance("test:demo/host-res").unwrap();
    host.resource(
        "handle",
        ResourceType::host::<Handle>(),
        |mut store, rep| {
            let host = store.data_mut();
            let handle = host.table.delete(Resource::<Handle>::new_own(rep))?;
            host.dropped.push(handle.0);
            Ok(())
        },
    )
    .unwrap();
    host.func_wrap(
        "[method]handle.value",
        |store, (this,): (Resource<Handle>,)| Ok((store.data().table.get(&this)?.0,)),
    )
    .unwrap();
    let mut store = Store::new(Host::default());
    let instance = linker.instantiate(&mut store, &c).unwrap();

    let first_box = instance.get_resource(&store, "first#box").unwrap();
    let second_box = instance.get_resource(&store, "second#box").unwrap();
    assert_ne!(first_box, second_box, "resource types are generative");
    assert_eq!(instance.get_resource(&store, "box"), Some(first_box));

    for (name, value, ty) in [
        ("first#wrap", 11, first_box),
        ("second#wrap", 22, second_box),
        ("wrap-first", 33, first_box),
    ] {
        let h = store.data_mut().table.push(Handle(value)).unwrap();
        let wrap = instance
            .get_typed_func::<(Resource<Handle>,), (ResourceAny,)>(&mut store, name)
            .unwrap();
        let (boxed,) = wrap.call(&mut store, (h,)).unwrap();
        assert_eq!(boxed.ty(), ty, "{name}");
        boxed.resource_drop(&mut store).unwrap();
    }
    assert_eq!(store.data().dropped, [11, 22, 33]);
    assert!(store.data().table.is_empty());
}

/// `test:demo/user` re-exports `test:demo/types`'s resource with `(eq ..)`, as `wasi:io/streams`
/// re-exports `wasi:io/error`'s `error`: only the interface that introduces it defines it.
const REEXPORT: &str = r#"
(component $C
  (import "test:demo/types" (instance $types (export "r" (type (sub resource)))))
  (alias export $types "r" (type $r))
  (import "test:demo/user" (instance $user
    (alias outer $C $r (type $rr))
    (export "r" (type $re (eq $rr)))
    (export "make" (func (result (own $re))))))
  (core func $make (canon lower (func $user "make")))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "h" "make" (func $make (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "cycle") (call $drop (call $make))))
  (core instance $i (instantiate $m
    (with "h" (instance (export "make" (func $make)) (export "drop" (func $drop))))))
  (func (export "cycle") (canon lift (core func $i "cycle")))
)
"#;

#[test]
fn a_re_exported_resource_is_bound_once() {
    let c = component(REEXPORT);
    let define = |linker: &mut Linker<Host>| {
        linker
            .instance("test:demo/types")
            .unwrap()
            .resource("r", ResourceType::host::<Counter>(), |mut store, rep| {
                let host = store.data_mut();
                let counter = host.table.delete(Resource::<Counter>::new_own(rep))?;
                host.dropped.push(counter.value);
                Ok(())
            })
            .unwrap();
        linker
            .instance("test:demo/user")
            .unwrap()
            .func_wrap("make", |mut store, (): ()| {
                Ok((store.data_mut().table.push(Counter { value: 9 })?,))
            })
            .unwrap();
    };
    let mut linker = Linker::<Host>::new();
    define(&mut linker);
    let mut store = Store::new(Host::default());
    let instance = linker.instantiate(&mut store, &c).unwrap();
    let cycle = instance
        .get_typed_func::<(), ()>(&mut store, "cycle")
        .unwrap();
    cycle.call(&mut store, ()).unwrap();
    assert_eq!(store.data().dropped, [9]);

    // Defining it again is fine if it is the same type, an error otherwise.
    let mut same = Linker::<Host>::new();
    define(&mut same);
    same.instance("test:demo/user")
        .unwrap()
        .resource("r", ResourceType::host::<Counter>(), |_, _| Ok(()))
        .unwrap();
    same.instantiate(&mut Store::new(Host::default()), &c)
        .unwrap();
    let mut other = Linker::<Host>::new();
    define(&mut other);
    other
        .instance("test:demo/user")
        .unwrap()
        .resource("r", ResourceType::host::<Other>(), |_, _| Ok(()))
        .unwrap();
    let err = other
        .instantiate(&mut Store::new(Host::default()), &c)
        .unwrap_err();
    assert!(err.to_string().contains("test:demo/user"), "{err}");
}
