//! Hostile guests and concurrency: loads and stores of every width at and across the end of
//! memory (in both bounds-check modes, checked against the spec rule and against wasmi),
//! `memory.grow` and `table.grow` to their limits and past them, deep recursion (plain, with big
//! frames, indirect, and through host functions), and many threads sharing one `Module`,
//! calling and trapping at the same time. Each trap is an `Err` of the right kind, and the store,
//! the other instances and the host carry on.

#![forbid(unsafe_code)]

// The differential harness, shared with the fuzz target (fuzz/fuzz_targets/differential.rs).
#[path = "../shared/differential.rs"]
mod differential;

use aot_build::BoundsChecks;
use aot_runtime::{Caller, Instance, Linker, Module, Store, Trap, V128, Val, ValType};
use differential::{Calls, Value};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PAGE: u64 = 65536;

fn compile_with(wat: &str, checks: BoundsChecks) -> Module {
    let artifact = aot_build::Config::new()
        .bounds_checks(checks)
        .compile_bytes(wat.as_bytes())
        .unwrap_or_else(|e| panic!("compile: {e}"));
    aot_tests::load(&artifact).unwrap()
}

const MODES: [BoundsChecks; 2] = [BoundsChecks::GuardPages, BoundsChecks::Explicit];

/// A memory access instruction: its text, the bytes it touches, whether it stores, and the type
/// of the value it loads or stores.
struct Access {
    op: &'static str,
    width: u64,
    store: bool,
    ty: &'static str,
    /// Lane operand of the `*_lane` instructions.
    lane: bool,
}

const fn load(op: &'static str, width: u64, ty: &'static str) -> Access {
    Access {
        op,
        width,
        store: false,
        ty,
        lane: false,
    }
}

const fn store(op: &'static str, width: u64, ty: &'static str) -> Access {
    Access {
        op,
        width,
        store: true,
        ty,
        lane: false,
    }
}

const fn lane(op: &'static str, width: u64, store: bool) -> Access {
    Access {
        op,
        width,
        store,
        ty: "v128",
        lane: true,
    }
}

/// Every load and store of core Wasm and SIMD.
const ACCESSES: &[Access] = &[
    load("i32.load", 4, "i32"),
    load("i32.load8_s", 1, "i32"),
    load("i32.load8_u", 1, "i32"),
    load("i32.load16_s", 2, "i32"),
    load("i32.load16_u", 2, "i32"),
    load("i64.load", 8, "i64"),
    load("i64.load8_s", 1, "i64"),
    load("i64.load8_u", 1, "i64"),
    load("i64.load16_s", 2, "i64"),
    load("i64.load16_u", 2, "i64"),
    load("i64.load32_s", 4, "i64"),
    load("i64.load32_u", 4, "i64"),
    load("f32.load", 4, "f32"),
    load("f64.load", 8, "f64"),
    load("v128.load", 16, "v128"),
    load("v128.load8x8_s", 8, "v128"),
    load("v128.load8x8_u", 8, "v128"),
    load("v128.load16x4_s", 8, "v128"),
    load("v128.load16x4_u", 8, "v128"),
    load("v128.load32x2_s", 8, "v128"),
    load("v128.load32x2_u", 8, "v128"),
    load("v128.load8_splat", 1, "v128"),
    load("v128.load16_splat", 2, "v128"),
    load("v128.load32_splat", 4, "v128"),
    load("v128.load64_splat", 8, "v128"),
    load("v128.load32_zero", 4, "v128"),
    load("v128.load64_zero", 8, "v128"),
    lane("v128.load8_lane", 1, false),
    lane("v128.load16_lane", 2, false),
    lane("v128.load32_lane", 4, false),
    lane("v128.load64_lane", 8, false),
    store("i32.store", 4, "i32"),
    store("i32.store8", 1, "i32"),
    store("i32.store16", 2, "i32"),
    store("i64.store", 8, "i64"),
    store("i64.store8", 1, "i64"),
    store("i64.store16", 2, "i64"),
    store("i64.store32", 4, "i64"),
    store("f32.store", 4, "f32"),
    store("f64.store", 8, "f64"),
    store("v128.store", 16, "v128"),
    lane("v128.store8_lane", 1, true),
    lane("v128.store16_lane", 2, true),
    lane("v128.store32_lane", 4, true),
    lane("v128.store64_lane", 8, true),
];

/// Static offsets tried on memory 0 (the other memories use 0 only).
const OFFSETS: [u64; 4] = [0, 1, PAGE - 3, 0xffff_fff0];

/// Memories: index, initial pages (memory 0 grows by one page midway).
const MEMORIES: [(u32, u64); 3] = [(0, 1), (1, 2), (2, 0)];

fn func_name(mem: u32, a: &Access, offset: u64) -> String {
    format!("{}_m{mem}_o{offset:x}", a.op.replace('.', "_"))
}

/// The module: one function per (memory, access, offset), taking the address (and the value to
/// store); the data segments fill the ends of memory 0 and 1 with a pattern.
fn access_module() -> String {
    let mut wat = String::from(
        "(module\n  (memory (export \"m0\") 1 3)\n  (memory (export \"m1\") 2 2)\n  (memory (export \"m2\") 0 1)\n",
    );
    let pattern: String = (0..64).map(|i| format!("\\{:02x}", 0x80 + i)).collect();
    for (mem, pages) in MEMORIES {
        if pages > 0 {
            let at = pages * PAGE - 64;
            writeln!(
                wat,
                "  (data (memory {mem}) (i32.const {at}) \"{pattern}\")"
            )
            .unwrap();
            writeln!(wat, "  (data (memory {mem}) (i32.const 0) \"{pattern}\")").unwrap();
        }
    }
    writeln!(
        wat,
        "  (func (export \"grow0\") (result i32) (memory.grow 0 (i32.const 1)))"
    )
    .unwrap();
    for (mem, _) in MEMORIES {
        let offsets: &[u64] = if mem == 0 { &OFFSETS } else { &[0] };
        for a in ACCESSES {
            for &offset in offsets {
                let name = func_name(mem, a, offset);
                let memarg = format!("{mem} offset={offset}");
                let lane = if a.lane { " 1" } else { "" };
                let body = match (a.store, a.lane) {
                    (false, false) => format!("({} {memarg} (local.get 0))", a.op),
                    (false, true) => format!(
                        "({} {memarg}{lane} (local.get 0) (v128.const i64x2 -1 -1))",
                        a.op
                    ),
                    (true, _) => format!("({} {memarg}{lane} (local.get 0) (local.get 1))", a.op),
                };
                let sig = if a.store {
                    format!("(param i32 {})", a.ty)
                } else {
                    format!("(param i32) (result {})", a.ty)
                };
                writeln!(wat, "  (func (export \"{name}\") {sig} {body})").unwrap();
            }
        }
    }
    wat.push(')');
    wat
}

/// The value stored by the store tests (recognisable in every width).
fn stored(ty: &str) -> Value {
    match ty {
        "i32" => Value::I32(0x1122_3344),
        "i64" => Value::I64(0x1122_3344_5566_7788),
        "f32" => Value::F32(0x4049_0fdb),
        "f64" => Value::F64(0x4009_21fb_5444_2d18),
        _ => Value::V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10),
    }
}

fn to_val(v: &Value) -> Val {
    match *v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(x) => Val::F32(x),
        Value::F64(x) => Val::F64(x),
        Value::V128(x) => Val::V128(V128::from(x)),
        _ => unreachable!(),
    }
}

/// Addresses that put the access at and around the end of a memory of `size` bytes.
fn probe_addresses(size: u64, width: u64, offset: u64) -> Vec<u64> {
    let mut effective: Vec<u64> = Vec::new();
    for d in 0..=width + 1 {
        effective.push((size + d).saturating_sub(width + 1));
    }
    effective.push(size + 4096);
    let mut addrs: Vec<u64> = effective
        .into_iter()
        .filter_map(|e| e.checked_sub(offset))
        .filter(|&a| a <= u64::from(u32::MAX))
        .collect();
    addrs.extend([0, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff]);
    addrs.sort_unstable();
    addrs.dedup();
    addrs
}

/// The calls that probe every access at the end of every memory (`sizes` in bytes, by memory).
fn probe_plan(sizes: [u64; 3], only_memory: Option<u32>) -> Vec<(String, Vec<Value>, bool)> {
    let mut plan = Vec::new();
    for (mem, _) in MEMORIES {
        if only_memory.is_some_and(|m| m != mem) {
            continue;
        }
        let offsets: &[u64] = if mem == 0 { &OFFSETS } else { &[0] };
        for a in ACCESSES {
            for &offset in offsets {
                let size = sizes[mem as usize];
                for addr in probe_addresses(size, a.width, offset) {
                    let mut args = vec![Value::I32(addr as u32 as i32)];
                    if a.store {
                        args.push(stored(a.ty));
                    }
                    let traps = addr + offset + a.width > size;
                    plan.push((func_name(mem, a, offset), args, traps));
                }
            }
        }
    }
    plan
}

#[test]
fn loads_and_stores_of_every_width_at_and_across_the_end_of_memory() {
    let wat = access_module();
    let wasm = wat::parse_str(&wat).unwrap();
    let before_grow = probe_plan([PAGE, 2 * PAGE, 0], None);
    let after_grow = probe_plan([2 * PAGE, 2 * PAGE, 0], Some(0));
    let mut total = 0;
    for mode in MODES {
        // 1. Our side alone, against the spec's rule: an access traps exactly when
        //    address + offset + width exceeds the memory size, and a trapping store writes
        //    nothing.
        let module = compile_with(&wat, mode);
        let mut store = Store::new(());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let mut check = |store: &mut Store<()>, plan: &[(String, Vec<Value>, bool)]| {
            for (name, args, traps) in plan {
                let func = instance.get_func(&mut *store, name).unwrap();
                let ty = func.ty(&*store);
                let mut results: Vec<Val> = ty.results().map(Val::default_for).collect();
                let args: Vec<Val> = args.iter().map(to_val).collect();
                let memories: Vec<Vec<u8>> = ["m0", "m1", "m2"]
                    .iter()
                    .map(|m| {
                        instance
                            .get_memory(&mut *store, m)
                            .unwrap()
                            .data(&*store)
                            .to_vec()
                    })
                    .collect();
                let outcome = func.call(&mut *store, &args, &mut results);
                let case = format!("{mode:?}: {name}({args:?})");
                match (outcome, traps) {
                    (Ok(()), false) => {}
                    (Err(e), true) => {
                        assert_eq!(e.trap(), Some(Trap::MemoryOutOfBounds), "{case}: {e}");
                        for (i, m) in ["m0", "m1", "m2"].iter().enumerate() {
                            let now = instance.get_memory(&mut *store, m).unwrap().data(&*store);
                            assert!(
                                now == &memories[i][..],
                                "{case}: a trapping store wrote to {m}"
                            );
                        }
                    }
                    (Ok(()), true) => panic!("{case}: out of bounds but did not trap"),
                    (Err(e), false) => panic!("{case}: in bounds but failed: {e}"),
                }
                total += 1;
            }
        };
        let strip = |plan: &[(String, Vec<Value>, bool)]| -> Vec<(String, Vec<Value>)> {
            plan.iter()
                .map(|(n, a, _)| (n.clone(), a.clone()))
                .collect()
        };
        check(&mut store, &before_grow);
        let grow = instance
            .get_typed_func::<(), i32>(&mut store, "grow0")
            .unwrap();
        assert_eq!(grow.call(&mut store, ()).unwrap(), 1);
        check(&mut store, &after_grow);

        // 2. Both engines, comparing every loaded value and the memories after every call.
        let mut plan = strip(&before_grow);
        plan.push(("grow0".into(), Vec::new()));
        plan.extend(strip(&after_grow));
        let report = differential::run_calls(&wasm, mode, Calls::Fixed(&plan))
            .unwrap_or_else(|d| panic!("divergence: {d}"));
        assert_eq!(report.calls, plan.len() + 1, "{report:?}");
    }
    println!("stress memory accesses: {total} checked calls in 2 bounds-check modes");
}

#[test]
fn memory_grow_and_table_grow_to_their_limits_and_past() {
    let wat = r#"(module
      (memory $m (export "m") 1 4)
      (memory $big (export "big") 0)
      (table $t (export "t") 1 5 funcref)
      (table $u (export "u") 0 externref)
      (func (export "grow_m") (param i32) (result i32) (memory.grow $m (local.get 0)))
      (func (export "size_m") (result i32) (memory.size $m))
      (func (export "load_m") (param i32) (result i32) (i32.load8_u $m (local.get 0)))
      (func (export "grow_big") (param i32) (result i32) (memory.grow $big (local.get 0)))
      (func (export "poke_big") (param i32) (result i32)
        (i32.store8 $big (local.get 0) (i32.const 0x5a))
        (i32.load8_u $big (local.get 0)))
      (func (export "grow_t") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
      (func (export "get_t") (param i32) (result funcref) (table.get $t (local.get 0)))
      (func (export "grow_u") (param i32) (result i32) (table.grow $u (ref.null extern) (local.get 0)))
      (func (export "size_u") (result i32) (table.size $u)))"#;
    for mode in MODES {
        let module = compile_with(wat, mode);
        let mut store = Store::new(());
        let i = Instance::new(&mut store, &module, &[]).unwrap();
        let f = |store: &mut Store<()>, name: &str| {
            i.get_typed_func::<i32, i32>(&mut *store, name).unwrap()
        };
        let (grow_m, load_m) = (f(&mut store, "grow_m"), f(&mut store, "load_m"));
        let size_m = i.get_typed_func::<(), i32>(&mut store, "size_m").unwrap();
        // Up to the declared maximum, one page then two, then past it (by one, by a lot, by
        // 2^32 - 1, which must not wrap): -1 and no change.
        for (delta, expect) in [
            (0, 1),
            (1, 1),
            (2, 2),
            (1, -1),
            (0, 4),
            (0x1_0000, -1),
            (-1, -1),
        ] {
            assert_eq!(
                grow_m.call(&mut store, delta).unwrap(),
                expect,
                "{mode:?} grow {delta}"
            );
        }
        assert_eq!(size_m.call(&mut store, ()).unwrap(), 4);
        assert_eq!(load_m.call(&mut store, (4 * PAGE - 1) as i32).unwrap(), 0);
        let err = load_m.call(&mut store, (4 * PAGE) as i32).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::MemoryOutOfBounds));
        // The host API refuses the same growth.
        let m = i.get_memory(&mut store, "m").unwrap();
        assert!(m.grow(&mut store, 1).is_err());
        assert_eq!(m.size(&store), 4);

        // A memory without a maximum grows to the whole 4 GiB of a 32-bit memory, and no further.
        let (grow_big, poke_big) = (f(&mut store, "grow_big"), f(&mut store, "poke_big"));
        assert_eq!(grow_big.call(&mut store, 0x1_0001).unwrap(), -1);
        assert_eq!(grow_big.call(&mut store, 0x1_0000).unwrap(), 0, "{mode:?}");
        assert_eq!(grow_big.call(&mut store, 1).unwrap(), -1);
        assert_eq!(grow_big.call(&mut store, 0).unwrap(), 0x1_0000);
        assert_eq!(poke_big.call(&mut store, -1).unwrap(), 0x5a);
        assert_eq!(poke_big.call(&mut store, i32::MIN).unwrap(), 0x5a);

        // Tables: up to the declared maximum, past it, and past this runtime's own limit for a
        // table without a maximum (`table.grow` returns -1; nothing is allocated).
        let (grow_t, grow_u) = (f(&mut store, "grow_t"), f(&mut store, "grow_u"));
        for (delta, expect) in [(4, 1), (1, -1), (0, 5), (-1, -1)] {
            assert_eq!(
                grow_t.call(&mut store, delta).unwrap(),
                expect,
                "{mode:?} table {delta}"
            );
        }
        let get_t = i.get_typed_func::<i32, Option<aot_runtime::Func>>(&mut store, "get_t");
        let get_t = get_t.unwrap();
        assert!(get_t.call(&mut store, 4).unwrap().is_none());
        let err = get_t.call(&mut store, 5).unwrap_err();
        assert_eq!(err.trap(), Some(Trap::TableOutOfBounds));
        for (delta, expect) in [
            (-1, -1),
            (i32::MAX, -1),
            (100_000_000, -1),
            (1000, 0),
            (1, 1000),
        ] {
            assert_eq!(
                grow_u.call(&mut store, delta).unwrap(),
                expect,
                "{mode:?} externref table {delta}"
            );
        }
        let size_u = i.get_typed_func::<(), i32>(&mut store, "size_u").unwrap();
        assert_eq!(size_u.call(&mut store, ()).unwrap(), 1001);
    }
}

/// Runs `f` on a thread with a large native stack, so that the wasm stack limit (not the thread's
/// guard page) is what deep recursion reaches.
fn on_big_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

const RECURSION: &str = r#"(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $indirect $depth)
  (func $forever (export "forever") (call $forever))
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
  (func $big_frames (export "big_frames") (param v128 v128 v128 v128 f64 f64 i64 i64) (result v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local.set 8 (i32x4.add (local.get 0) (local.get 1)))
    (local.set 15 (call $big_frames (local.get 8) (local.get 2) (local.get 3) (local.get 0)
      (local.get 4) (local.get 5) (local.get 6) (local.get 7)))
    (i32x4.add (local.get 15) (local.get 8)))
  (func $indirect (export "indirect") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func (export "through_host") (param i32) (result i32)
    (call $reenter (i32.add (local.get 0) (i32.const 1))))
  (func (export "ok") (result i32) (i32.const 42)))"#;

fn recursion_instance(store: &mut Store<usize>) -> Instance {
    let module = aot_tests::module(RECURSION);
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, usize>, depth: i32| -> aot_runtime::Result<i32> {
                *caller.data_mut() = depth as usize;
                let f = caller
                    .get_export("through_host")
                    .and_then(|e| e.into_func())
                    .unwrap();
                let mut out = [Val::I32(0)];
                f.call(&mut caller, &[Val::I32(depth)], &mut out)?;
                Ok(out[0].unwrap_i32())
            },
        )
        .unwrap();
    linker.instantiate(store, &module).unwrap()
}

#[test]
fn deep_recursion_traps_and_the_store_survives() {
    on_big_stack(|| {
        for max_stack in [64 << 10, 512 << 10, 4 << 20] {
            let mut store = Store::new(0usize);
            store.set_max_wasm_stack(max_stack);
            let i = recursion_instance(&mut store);
            let ok = i.get_typed_func::<(), i32>(&mut store, "ok").unwrap();
            let expect_overflow = |store: &mut Store<usize>, name: &str, args: &[Val]| {
                let f = i.get_func(&mut *store, name).unwrap();
                let mut out: Vec<Val> = f.ty(&*store).results().map(Val::default_for).collect();
                let err = f.call(&mut *store, args, &mut out).unwrap_err();
                assert_eq!(
                    err.trap(),
                    Some(Trap::StackOverflow),
                    "{name} at {max_stack}: {err}"
                );
                // The store is still usable.
                assert_eq!(ok.call(&mut *store, ()).unwrap(), 42);
            };
            expect_overflow(&mut store, "forever", &[]);
            let v = Val::V128(V128::from(1u128));
            expect_overflow(
                &mut store,
                "big_frames",
                &[
                    v,
                    v,
                    v,
                    v,
                    Val::F64(0),
                    Val::F64(0),
                    Val::I64(0),
                    Val::I64(0),
                ],
            );
            expect_overflow(&mut store, "indirect", &[Val::I32(1)]);
            // Recursion that alternates wasm and host frames ends in the same trap, raised in
            // the innermost wasm frame and passed through every host frame as an error.
            expect_overflow(&mut store, "through_host", &[Val::I32(0)]);
            let host_depth = *store.data();
            assert!(
                host_depth > 10,
                "only {host_depth} host frames at {max_stack}"
            );
            // Bounded recursion that fits still works after all those overflows.
            let depth = i.get_typed_func::<i32, i32>(&mut store, "depth").unwrap();
            assert_eq!(depth.call(&mut store, 500).unwrap(), 500);
            // And an overflow of the bounded kind, for a depth just too deep.
            let err = depth.call(&mut store, 10_000_000).unwrap_err();
            assert_eq!(err.trap(), Some(Trap::StackOverflow));
        }
    });
}

const WORKLOAD: &str = r#"(module
  (import "host" "count" (func $count))
  (memory (export "mem") 1 2)
  (table 2 funcref)
  (elem (i32.const 0) $fib)
  (type $t (func (param i32) (result i32)))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "oob") (param i32) (i32.store (local.get 0) (i32.const 1)))
  (func (export "unreachable") (call $count) unreachable)
  (func (export "null") (result i32) (call_indirect (type $t) (i32.const 5) (i32.const 1)))
  (func $deep (export "deep") (call $deep))
  (func (export "mark") (param i32) (i32.store (i32.const 16) (local.get 0)) (call $count))
  (func (export "read") (result i32) (i32.load (i32.const 16))))"#;

#[test]
fn threads_share_one_module_calling_and_trapping_concurrently() {
    const THREADS: usize = 8;
    const STORES_PER_THREAD: usize = 6;
    const ROUNDS: usize = 200;
    let module = aot_tests::module(WORKLOAD);
    let host_calls = std::sync::Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let module = module.clone();
            let host_calls = host_calls.clone();
            s.spawn(move || {
                let mut linker = Linker::new();
                let counter = host_calls.clone();
                linker
                    .func_wrap("host", "count", move || {
                        counter.fetch_add(1, Ordering::Relaxed);
                    })
                    .unwrap();
                // Several live stores per thread, used in turn: the traps of one must not
                // disturb the others.
                let mut stores: Vec<(Store<()>, Instance)> = (0..STORES_PER_THREAD)
                    .map(|_| {
                        let mut store = Store::new(());
                        store.set_max_wasm_stack(128 << 10);
                        let instance = linker.instantiate(&mut store, &module).unwrap();
                        (store, instance)
                    })
                    .collect();
                for round in 0..ROUNDS {
                    for (k, (store, i)) in stores.iter_mut().enumerate() {
                        let id = (t * 1000 + k * 10 + round % 10) as i32;
                        let mark = i.get_typed_func::<i32, ()>(&mut *store, "mark").unwrap();
                        let read = i.get_typed_func::<(), i32>(&mut *store, "read").unwrap();
                        mark.call(&mut *store, id).unwrap();
                        let fib = i.get_typed_func::<i32, i32>(&mut *store, "fib").unwrap();
                        assert_eq!(fib.call(&mut *store, 15).unwrap(), 610);
                        let div = i
                            .get_typed_func::<(i32, i32), i32>(&mut *store, "div")
                            .unwrap();
                        let trap = |r: aot_runtime::Result<()>| r.unwrap_err().trap();
                        assert_eq!(
                            trap(div.call(&mut *store, (1, 0)).map(drop)),
                            Some(Trap::IntegerDivisionByZero)
                        );
                        assert_eq!(
                            trap(div.call(&mut *store, (i32::MIN, -1)).map(drop)),
                            Some(Trap::IntegerOverflow)
                        );
                        let oob = i.get_typed_func::<i32, ()>(&mut *store, "oob").unwrap();
                        assert_eq!(
                            trap(oob.call(&mut *store, -2)),
                            Some(Trap::MemoryOutOfBounds)
                        );
                        let unr = i
                            .get_typed_func::<(), ()>(&mut *store, "unreachable")
                            .unwrap();
                        assert_eq!(
                            trap(unr.call(&mut *store, ())),
                            Some(Trap::UnreachableCodeReached)
                        );
                        let null = i.get_typed_func::<(), i32>(&mut *store, "null").unwrap();
                        assert_eq!(
                            trap(null.call(&mut *store, ()).map(drop)),
                            Some(Trap::IndirectCallToNull)
                        );
                        if round % 8 == 0 {
                            let deep = i.get_typed_func::<(), ()>(&mut *store, "deep").unwrap();
                            assert_eq!(trap(deep.call(&mut *store, ())), Some(Trap::StackOverflow));
                        }
                        // This instance's memory still holds what it wrote, whatever the other
                        // instances (same module, other stores and threads) did meanwhile.
                        assert_eq!(read.call(&mut *store, ()).unwrap(), id);
                    }
                    // Replace one store now and then: instantiation races with calls elsewhere.
                    if round % 10 == 9 {
                        let mut store = Store::new(());
                        let instance = linker.instantiate(&mut store, &module).unwrap();
                        stores[round % STORES_PER_THREAD] = (store, instance);
                    }
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let iterations = THREADS * STORES_PER_THREAD * ROUNDS;
    // Per iteration: 8 calls of which 5 trap, plus a stack overflow every 8th round.
    let overflows = THREADS * STORES_PER_THREAD * ROUNDS.div_ceil(8);
    assert_eq!(host_calls.load(Ordering::Relaxed), 2 * iterations);
    println!(
        "stress threads: {THREADS} threads x {STORES_PER_THREAD} stores x {ROUNDS} rounds: \
         {} calls, {} traps in {:.2} s",
        8 * iterations + overflows,
        5 * iterations + overflows,
        elapsed.as_secs_f64()
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn first_instantiations_of_a_fresh_module_race_safely() {
    // Instantiation publishes per-module state lazily (memory images, type ids): many threads
    // doing it for the first time at once must agree.
    let wat = r#"(module
      (memory 1) (data (i32.const 0) "abcdefgh")
      (global (export "g") i32 (i32.const 3))
      (func (export "f") (result i32) (i32.load8_u (i32.const 2))))"#;
    for _ in 0..5 {
        let module = aot_tests::module(wat);
        std::thread::scope(|s| {
            for _ in 0..8 {
                let module = module.clone();
                s.spawn(move || {
                    let mut store = Store::new(());
                    let i = Instance::new(&mut store, &module, &[]).unwrap();
                    let f = i.get_typed_func::<(), i32>(&mut store, "f").unwrap();
                    assert_eq!(f.call(&mut store, ()).unwrap(), i32::from(b'c'));
                    let g = i.get_global(&mut store, "g").unwrap();
                    assert_eq!(g.get(&mut store).unwrap_i32(), 3);
                    assert_eq!(g.ty(&store).content(), ValType::I32);
                });
            }
        });
    }
}
