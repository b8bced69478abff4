//! Funcref tables initialised lazily: `aot-build` turns the leading constant element segments
//! into a table image, the runtime leaves the table zeroed at instantiation and fills a slot on
//! its first read (from compiled code or the host), and a defined function's `VMFuncRef` is
//! written on first use. Every way a slot or a reference can be read first is exercised here,
//! and each must give exactly what eager initialisation gave.

use aot_runtime::{
    Func, Global, GlobalType, Instance, Linker, Module, Mutability, Ref, Store, Table, TableType,
    Trap, Val, ValType,
};

/// Functions `$f0..$f3` return 100..103; the table has holes (slots 2 and 6 are null), an image
/// from two constant segments (the second overwrites slot 1), and 4 slots past the image.
const LAZY: &str = r#"
(module
  (type $r (func (result i32)))
  (func $f0 (result i32) i32.const 100)
  (func $f1 (result i32) i32.const 101)
  (func $f2 (result i32) i32.const 102)
  (func $f3 (result i32) i32.const 103)
  (table $t (export "t") 12 20 funcref)
  (elem (table $t) (i32.const 0) func $f0 $f1 $f2 $f3)
  (elem (table $t) (i32.const 1) funcref (ref.func $f3) (ref.null func) (ref.func $f0))
  (elem (table $t) (i32.const 5) func $f2 $f2)
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $r) (local.get 0)))
  (func (export "is_null") (param i32) (result i32)
    (ref.is_null (table.get $t (local.get 0))))
  (func (export "get_f1") (result funcref) ref.func $f1)
  (func (export "grow") (param i32) (result i32)
    (table.grow $t (ref.func $f1) (local.get 0)))
  (func (export "fill_null") (param i32 i32)
    (table.fill $t (local.get 0) (ref.null func) (local.get 1)))
  (func (export "set") (param i32 i32)
    (table.set $t (local.get 0) (table.get $t (local.get 1)))))
"#;

/// What the table of `LAZY` holds after instantiation: `Some(n)` calls return `n`.
const EXPECTED: [Option<i32>; 12] = [
    Some(100),
    Some(103),
    None,
    Some(100),
    None,
    Some(102),
    Some(102),
    None,
    None,
    None,
    None,
    None,
];

fn instance(store: &mut Store<()>, wat: &str) -> Instance {
    Linker::new()
        .instantiate(&mut *store, &aot_tests::module(wat))
        .unwrap()
}

fn call(store: &mut Store<()>, instance: Instance, name: &str, args: &[Val]) -> Vec<Val> {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut results).unwrap();
    results
}

fn i32_of(vals: &[Val]) -> i32 {
    match vals {
        [Val::I32(v)] => *v,
        other => panic!("expected one i32, got {other:?}"),
    }
}

/// Calls the funcref in slot `i` of `table`, read by the host: `None` for null.
fn table_slot(store: &mut Store<()>, table: Table, i: u64) -> Option<i32> {
    let r = table.get(&mut *store, i);
    call_ref(store, r)
}

/// Calls a funcref taken from a table by the host.
fn call_ref(store: &mut Store<()>, r: Option<Ref>) -> Option<i32> {
    let f: Func = match r.expect("in bounds") {
        Ref::Func(f) => f?,
        Ref::Extern(_) => panic!("a funcref table gave an externref"),
    };
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &[], &mut out).unwrap();
    Some(i32_of(&out))
}

#[test]
fn compiled_code_reads_each_slot_as_initialised() {
    let mut store = Store::new(());
    let inst = instance(&mut store, LAZY);
    for (i, want) in EXPECTED.iter().enumerate() {
        let i = i as i32;
        let is_null = i32_of(&call(&mut store, inst, "is_null", &[Val::I32(i)]));
        assert_eq!(is_null == 1, want.is_none(), "slot {i}");
        let f = inst.get_func(&mut store, "call").unwrap();
        let mut out = [Val::I32(0)];
        let r = f.call(&mut store, &[Val::I32(i)], &mut out);
        match want {
            Some(v) => assert_eq!(i32_of(&out), *v, "slot {i}"),
            None => assert_eq!(r.unwrap_err().trap(), Some(Trap::IndirectCallToNull)),
        }
    }
    let f = inst.get_func(&mut store, "call").unwrap();
    let err = f
        .call(&mut store, &[Val::I32(12)], &mut [Val::I32(0)])
        .unwrap_err();
    assert_eq!(err.trap(), Some(Trap::TableOutOfBounds));
}

#[test]
fn the_host_reads_slots_before_compiled_code_does() {
    let mut store = Store::new(());
    let inst = instance(&mut store, LAZY);
    let table = inst.get_table(&mut store, "t").unwrap();
    assert_eq!(table.size(&store), 12);
    // In reverse order, so that no slot was read by compiled code first.
    for (i, want) in EXPECTED.iter().enumerate().rev() {
        let r = table.get(&mut store, i as u64);
        assert_eq!(call_ref(&mut store, r), *want, "slot {i}");
    }
    assert!(table.get(&mut store, 12).is_none());
    // Compiled code then sees what the host saw.
    for (i, want) in EXPECTED.iter().enumerate() {
        let is_null = i32_of(&call(&mut store, inst, "is_null", &[Val::I32(i as i32)]));
        assert_eq!(is_null == 1, want.is_none(), "slot {i}");
    }
}

#[test]
fn writes_grow_and_fill_replace_image_slots() {
    let mut store = Store::new(());
    let inst = instance(&mut store, LAZY);
    let table = inst.get_table(&mut store, "t").unwrap();
    // table.set of an unread slot with the (unread) contents of another.
    call(&mut store, inst, "set", &[Val::I32(2), Val::I32(5)]);
    assert_eq!(table_slot(&mut store, table, 2), Some(102));
    // table.fill with null over image slots.
    call(&mut store, inst, "fill_null", &[Val::I32(0), Val::I32(2)]);
    assert_eq!(table_slot(&mut store, table, 0), None);
    assert_eq!(table_slot(&mut store, table, 1), None);
    assert_eq!(table_slot(&mut store, table, 3), Some(100));
    // Grown slots hold the grow value.
    let old = i32_of(&call(&mut store, inst, "grow", &[Val::I32(3)]));
    assert_eq!(old, 12);
    for i in 12..15 {
        let r = call(&mut store, inst, "call", &[Val::I32(i)]);
        assert_eq!(i32_of(&r), 101);
    }
    // The host writes a slot compiled code never read.
    let f1 = call(&mut store, inst, "get_f1", &[]);
    let Val::FuncRef(f1) = f1[0] else {
        panic!("ref.func gave {f1:?}")
    };
    table.set(&mut store, 9, Ref::Func(f1)).unwrap();
    assert_eq!(i32_of(&call(&mut store, inst, "call", &[Val::I32(9)])), 101);
    table.set(&mut store, 5, Ref::Func(None)).unwrap();
    assert_eq!(table_slot(&mut store, table, 5), None);
}

/// `table.copy` and `table.init` into another instance's table: the words copied must carry the
/// source's references, never be read again through the destination's own image.
#[test]
fn copies_between_tables_of_two_instances_keep_their_functions() {
    const OTHER: &str = r#"
    (module
      (type $r (func (result i32)))
      (import "lazy" "t" (table $src 12 funcref))
      (func $g0 (result i32) i32.const 200)
      (func $g1 (result i32) i32.const 201)
      (table $own 12 funcref)
      (elem (table $own) (i32.const 0) func $g0 $g1 $g0 $g1 $g0 $g1 $g0 $g1)
      (elem $passive funcref (ref.func $g1) (ref.null func) (ref.func $g0))
      (func (export "copy") (param i32 i32 i32)
        (table.copy $own $src (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init") (param i32 i32 i32)
        (table.init $own $passive (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop") (elem.drop $passive))
      (func (export "call") (param i32) (result i32)
        (call_indirect $own (type $r) (local.get 0))))
    "#;
    let mut store = Store::new(());
    let lazy = instance(&mut store, LAZY);
    let mut linker = Linker::new();
    linker.instance(&mut store, "lazy", lazy).unwrap();
    let other = linker
        .instantiate(&mut store, &aot_tests::module(OTHER))
        .unwrap();
    let call_own = |store: &mut Store<()>, i: i32| call_slot(store, other, i);
    assert_eq!(call_own(&mut store, 1), Some(201));
    // Copy slots 0..8 of the lazy table (none read yet) over slots 0..8 of `$own`.
    call(
        &mut store,
        other,
        "copy",
        &[Val::I32(0), Val::I32(0), Val::I32(8)],
    );
    for (i, want) in EXPECTED[..8].iter().enumerate() {
        assert_eq!(call_own(&mut store, i as i32), *want, "slot {i}");
    }
    // An out-of-bounds copy traps and writes nothing.
    let f = other.get_func(&mut store, "copy").unwrap();
    let err = f
        .call(
            &mut store,
            &[Val::I32(0), Val::I32(5), Val::I32(8)],
            &mut [],
        )
        .unwrap_err();
    assert_eq!(err.trap(), Some(Trap::TableOutOfBounds));
    assert_eq!(call_own(&mut store, 0), Some(100));
    // table.init evaluates the passive segment's items when it runs.
    call(
        &mut store,
        other,
        "init",
        &[Val::I32(9), Val::I32(0), Val::I32(3)],
    );
    assert_eq!(call_own(&mut store, 9), Some(201));
    assert_eq!(call_own(&mut store, 10), None);
    assert_eq!(call_own(&mut store, 11), Some(200));
    call(&mut store, other, "drop", &[]);
    let f = other.get_func(&mut store, "init").unwrap();
    let err = f
        .call(
            &mut store,
            &[Val::I32(0), Val::I32(0), Val::I32(1)],
            &mut [],
        )
        .unwrap_err();
    assert_eq!(err.trap(), Some(Trap::TableOutOfBounds));
    // The lazy table itself is untouched by all this.
    let table = lazy.get_table(&mut store, "t").unwrap();
    for (i, want) in EXPECTED.iter().enumerate() {
        assert_eq!(table_slot(&mut store, table, i as u64), *want);
    }
}

/// Segments that cannot be applied at build time (an imported global as offset, a segment past
/// the table's end) are applied at instantiation, after the image and in order: the one that
/// does not fit traps, and an imported table keeps what the earlier segments wrote.
#[test]
fn segments_after_the_image_apply_in_order_and_trap_in_order() {
    const MODULE: &str = r#"
    (module
      (type $r (func (result i32)))
      (import "env" "base" (global $base i32))
      (import "env" "shared" (table $shared 4 funcref))
      (func $a (result i32) i32.const 1)
      (func $b (result i32) i32.const 2)
      (table $t (export "t") 6 funcref)
      (elem (table $t) (i32.const 0) func $a $a $a)
      (elem (table $t) (global.get $base) func $b)
      (elem (table $shared) (i32.const 0) func $b)
      (elem (table $t) (i32.const 5) func $b $b)
      (func (export "call") (param i32) (result i32)
        (call_indirect $t (type $r) (local.get 0))))
    "#;
    let module = aot_tests::module(MODULE);
    let mut store = Store::new(());
    let ty = TableType::new(ValType::FuncRef, 4, None);
    let shared = Table::new(&mut store, ty, Ref::Func(None)).unwrap();
    let ty = GlobalType::new(ValType::I32, Mutability::Const);
    let base = Global::new(&mut store, ty, Val::I32(1)).unwrap();
    let mut linker = Linker::new();
    linker.define(&store, "env", "base", base).unwrap();
    linker.define(&store, "env", "shared", shared).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::TableOutOfBounds), "{err}");
    // The segment into the imported table ran before the one that trapped.
    assert_eq!(table_slot(&mut store, shared, 0), Some(2));
    assert_eq!(table_slot(&mut store, shared, 1), None);

    // With a segment that fits, the run-time segments overwrite image slots.
    let fits = MODULE.replace("(i32.const 5) func $b $b", "(i32.const 4) func $b $b");
    let module = aot_tests::module(&fits);
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let slots: Vec<Option<i32>> = (0..6).map(|i| call_slot(&mut store, inst, i)).collect();
    assert_eq!(slots, [Some(1), Some(2), Some(1), None, Some(2), Some(2)]);
}

/// Calls slot `i` of the instance's table through its `call` export: `None` for a null slot.
fn call_slot(store: &mut Store<()>, inst: Instance, i: i32) -> Option<i32> {
    let f = inst.get_func(&mut *store, "call").unwrap();
    let mut out = [Val::I32(0)];
    match f.call(&mut *store, &[Val::I32(i)], &mut out) {
        Ok(()) => Some(i32_of(&out)),
        Err(e) => {
            assert_eq!(e.trap(), Some(Trap::IndirectCallToNull), "{e}");
            None
        }
    }
}

/// Function references reach the host and other instances before any table slot or call made
/// their `VMFuncRef`: through `ref.func` in code, a global's initializer and an export.
#[test]
fn function_references_are_built_on_first_use() {
    const MODULE: &str = r#"
    (module
      (func $x (result i32) i32.const 7)
      (func $y (export "y") (result i32) i32.const 8)
      (func $z (result i32) i32.const 9)
      (global (export "gz") funcref (ref.func $z))
      (elem declare func $x)
      (func (export "rx") (result funcref) ref.func $x))
    "#;
    let module: Module = aot_tests::module(MODULE);
    type Via = fn(&mut Store<()>, Instance) -> Option<i32>;
    let via_ref_func: Via = |store, inst| {
        let r = call(store, inst, "rx", &[]);
        let Val::FuncRef(f) = r[0] else {
            panic!("{r:?}")
        };
        call_ref(store, Some(Ref::Func(f)))
    };
    let via_global: Via = |store, inst| {
        let g = inst.get_global(&mut *store, "gz").unwrap();
        let Val::FuncRef(f) = g.get(&mut *store) else {
            panic!("not a funcref")
        };
        call_ref(store, Some(Ref::Func(f)))
    };
    let via_export: Via = |store, inst| {
        let f = inst.get_func(&mut *store, "y").unwrap();
        call_ref(store, Some(Ref::Func(Some(f))))
    };
    let all = [(via_ref_func, 7), (via_global, 9), (via_export, 8)];
    // Each way first, in a fresh store, then the others.
    for first in 0..all.len() {
        let mut store = Store::new(());
        let inst = Linker::new().instantiate(&mut store, &module).unwrap();
        for k in 0..all.len() {
            let (via, want) = all[(first + k) % all.len()];
            assert_eq!(via(&mut store, inst), Some(want), "first {first}, then {k}");
        }
    }
}

/// A thousand functions, every one in the table: each slot calls its own function with its own
/// signature check.
#[test]
fn a_large_table_calls_every_function() {
    let mut wat = String::from("(module (type $r (func (param i32) (result i32)))\n");
    for i in 0..1000 {
        wat.push_str(&format!(
            "(func $f{i} (param i32) (result i32) (i32.add (local.get 0) (i32.const {i})))\n"
        ));
    }
    wat.push_str("(func $other (result i32) i32.const 0)\n");
    wat.push_str("(table 1001 funcref) (elem (i32.const 0) func");
    for i in 0..1000 {
        wat.push_str(&format!(" $f{i}"));
    }
    wat.push_str(" $other)\n");
    wat.push_str(
        "(func (export \"call\") (param i32 i32) (result i32)
           (call_indirect (type $r) (local.get 1) (local.get 0))))",
    );
    let mut store = Store::new(());
    let inst = instance(&mut store, &wat);
    let f = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "call")
        .unwrap();
    for i in (0..1000).rev().step_by(7) {
        assert_eq!(f.call(&mut store, (i, 5000)).unwrap(), 5000 + i);
    }
    let err = f.call(&mut store, (1000, 1)).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::BadSignature));
}
