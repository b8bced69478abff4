//! Resource limits and interruption: the store limiter (`Store::limiter` with `StoreLimits` or a
//! custom `ResourceLimiter`), fuel metering (`Config::consume_fuel`, `Store::set_fuel`) and epoch
//! interruption (`Config::epoch_interruption`, `Store::set_epoch_deadline`, `EpochHandle`).
//! Runaway guests (`loop br 0`, endless tail calls) must become traps, and the store must stay
//! usable afterwards.

use aot_runtime::{
    AsContextMut, Caller, EpochHandle, Error, Instance, Linker, Memory, MemoryType, Module,
    ResourceLimiter, Result, Store, StoreLimits, StoreLimitsBuilder, Table, TableType, Trap,
    ValType,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const PAGE: usize = 65536;

/// Compiles `wat` with fuel metering and/or epoch checks and loads it.
fn module_with(wat: &str, fuel: bool, epochs: bool) -> Module {
    let artifact = aot_build::Config::new()
        .consume_fuel(fuel)
        .epoch_interruption(epochs)
        .compile_bytes(wat.as_bytes())
        .unwrap_or_else(|e| panic!("compile failed: {e}"));
    aot_tests::load(&artifact).unwrap_or_else(|e| panic!("load failed: {e}"))
}

struct Host {
    limits: StoreLimits,
}

fn limited_store(limits: StoreLimitsBuilder) -> Store<Host> {
    let mut store = Store::new(Host {
        limits: limits.build(),
    });
    store.limiter(|host| &mut host.limits);
    store
}

const GROW: &str = r#"
(module
  (memory (export "memory") 1 100)
  (table (export "table") 1 100 funcref)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (memory.size)))
"#;

#[test]
fn memory_grow_beyond_the_limit_returns_minus_one() {
    let module = aot_tests::module(GROW);
    let mut store = limited_store(StoreLimitsBuilder::new().memory_size(4 * PAGE));
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let size = instance
        .get_typed_func::<(), i32>(&mut store, "size")
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1, "5 pages > 4 pages");
    assert_eq!(grow.call(&mut store, 1).unwrap(), 3);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(
        grow.call(&mut store, 0).unwrap(),
        4,
        "growing by 0 always works"
    );
    assert_eq!(size.call(&mut store, ()).unwrap(), 4);

    // The host is limited the same way.
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(memory.size(&store), 4);

    // Without a limiter the same module grows to its declared maximum.
    let mut free = Store::new(());
    let instance = Instance::new(&mut free, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut free, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut free, 50).unwrap(), 1);
}

#[test]
fn table_grow_beyond_the_limit_returns_minus_one() {
    let module = aot_tests::module(GROW);
    let mut store = limited_store(StoreLimitsBuilder::new().table_elements(10));
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let tgrow = instance
        .get_typed_func::<i32, i32>(&mut store, "tgrow")
        .unwrap();
    assert_eq!(tgrow.call(&mut store, 9).unwrap(), 1);
    assert_eq!(tgrow.call(&mut store, 1).unwrap(), -1);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert_eq!(table.size(&store), 10);
    assert!(
        table
            .grow(&mut store, 1, aot_runtime::Ref::Func(None))
            .is_err()
    );
}

#[test]
fn trap_on_grow_failure_turns_a_refused_growth_into_an_error() {
    let module = aot_tests::module(GROW);
    let limits = StoreLimitsBuilder::new()
        .memory_size(2 * PAGE)
        .table_elements(2)
        .trap_on_grow_failure(true);
    let mut store = limited_store(limits);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let tgrow = instance
        .get_typed_func::<i32, i32>(&mut store, "tgrow")
        .unwrap();
    let err = grow.call(&mut store, 5).unwrap_err();
    assert!(
        err.to_string()
            .contains("forcing trap when growing memory to 393216 bytes"),
        "{err}"
    );
    assert!(err.backtrace().is_some(), "raised while wasm ran");
    let err = tgrow.call(&mut store, 5).unwrap_err();
    assert!(
        err.to_string().contains("growing table to 6 elements"),
        "{err}"
    );
    // Past the declared maximum (within the limit) traps too.
    let mut store = limited_store(StoreLimitsBuilder::new().trap_on_grow_failure(true));
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    assert!(grow.call(&mut store, 200).is_err());
    // The store is still usable.
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
}

#[test]
fn instance_memory_and_table_counts_are_limited() {
    let module = aot_tests::module(GROW);
    let mut store = limited_store(StoreLimitsBuilder::new().instances(2));
    Instance::new(&mut store, &module, &[]).unwrap();
    Instance::new(&mut store, &module, &[]).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(
        err.to_string().contains("instance count too high at 3"),
        "{err}"
    );

    let mut store = limited_store(StoreLimitsBuilder::new().memories(1));
    Instance::new(&mut store, &module, &[]).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("memory count too high"), "{err}");
    let err = Memory::new(&mut store, MemoryType::new(1, None)).unwrap_err();
    assert!(err.to_string().contains("memory count too high"), "{err}");

    let mut store = limited_store(StoreLimitsBuilder::new().tables(1));
    Table::new(
        &mut store,
        TableType::new(ValType::FuncRef, 1, None),
        aot_runtime::Ref::Func(None),
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(err.to_string().contains("table count too high"), "{err}");
}

#[test]
fn initial_sizes_over_the_limit_fail_instantiation() {
    let module = aot_tests::module(GROW);
    let mut store = limited_store(StoreLimitsBuilder::new().memory_size(PAGE / 2));
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("memory minimum size of 1 pages exceeds memory limits"),
        "{err}"
    );
    assert!(Memory::new(&mut store, MemoryType::new(1, None)).is_err());
    Memory::new(&mut store, MemoryType::new(0, None)).unwrap();

    let wat = r#"(module (table 20 funcref))"#;
    let mut store = limited_store(StoreLimitsBuilder::new().table_elements(10));
    let err = Instance::new(&mut store, &aot_tests::module(wat), &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("table minimum size of 20 elements exceeds table limits"),
        "{err}"
    );
}

/// A custom policy: allows each memory 3 pages, records every question, refuses tables.
#[derive(Default)]
struct Recorder {
    asked: Vec<(usize, usize, Option<usize>)>,
}

impl ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.asked.push((current, desired, maximum));
        Ok(desired <= 3 * PAGE)
    }

    fn table_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        if desired > 50 {
            return Err(Error::msg("no tables that large"));
        }
        Ok(true)
    }
}

#[test]
fn a_custom_limiter_sees_every_request() {
    let module = aot_tests::module(GROW);
    let mut store = Store::new(Recorder::default());
    store.limiter(|r| r);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let tgrow = instance
        .get_typed_func::<i32, i32>(&mut store, "tgrow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(
        store.data().asked,
        [
            (0, PAGE, Some(100 * PAGE)),
            (PAGE, 3 * PAGE, Some(100 * PAGE)),
            (3 * PAGE, 4 * PAGE, Some(100 * PAGE)),
        ]
    );
    assert_eq!(tgrow.call(&mut store, 10).unwrap(), 1);
    let err = tgrow.call(&mut store, 60).unwrap_err();
    assert!(err.to_string().starts_with("no tables that large"), "{err}");
    assert_eq!(tgrow.call(&mut store, 1).unwrap(), 11);
}

const SPIN: &str = r#"
(module
  (func (export "spin") (loop $l (br $l)))
  (func $tail (export "tail") (return_call $tail))
  (func (export "count") (param i32) (result i32)
    (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get 1))
  (func (export "id") (param i32) (result i32) (local.get 0)))
"#;

#[test]
fn fuel_stops_a_runaway_loop_and_the_store_stays_usable() {
    let module = module_with(SPIN, true, false);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let tail = instance
        .get_typed_func::<(), ()>(&mut store, "tail")
        .unwrap();
    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();

    // A store starts with no fuel.
    assert_eq!(store.get_fuel().unwrap(), 0);
    let err = count.call(&mut store, 1).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::OutOfFuel));

    store.set_fuel(10_000).unwrap();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::OutOfFuel));
    assert_eq!(store.get_fuel().unwrap(), 0);

    // Endless tail calls have no loop: the function-entry check stops them.
    store.set_fuel(10_000).unwrap();
    let err = tail.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::OutOfFuel));

    // Refuelled, the same store runs to completion and the cost is deterministic.
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
    let used = 1_000_000 - store.get_fuel().unwrap();
    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
    assert_eq!(1_000_000 - store.get_fuel().unwrap(), used);
    // About 12 operators per iteration.
    assert!((10_000..15_000).contains(&used), "{used}");

    // Just too little fuel traps; enough does not.
    store.set_fuel(used / 2).unwrap();
    assert_eq!(
        count.call(&mut store, 1000).unwrap_err().trap(),
        Some(Trap::OutOfFuel)
    );
    store.set_fuel(used + 1).unwrap();
    assert_eq!(count.call(&mut store, 1000).unwrap(), 1000);
    assert_eq!(store.get_fuel().unwrap(), 1);
}

#[test]
fn fuel_saturates_at_max_fuel() {
    let module = module_with(SPIN, true, false);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();
    store.set_fuel(u64::MAX).unwrap();
    assert_eq!(store.get_fuel().unwrap(), aot_runtime::MAX_FUEL);
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);
    let used = aot_runtime::MAX_FUEL - store.get_fuel().unwrap();
    assert!((100..200).contains(&used), "{used}");
}

#[test]
fn host_functions_see_and_set_the_fuel() {
    let wat = r#"
    (module
      (import "env" "check" (func $check (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (call $check (i32.add (local.get 0) (i32.const 1)))))
    "#;
    let module = module_with(wat, true, false);
    let mut store = Store::new(0u64);
    let mut linker = Linker::new();
    linker
        .func_wrap(
            "env",
            "check",
            |mut caller: Caller<'_, u64>, x: i32| -> Result<i32> {
                let fuel = caller.as_context_mut().get_fuel()?;
                *caller.data_mut() = fuel;
                caller.as_context_mut().set_fuel(fuel + 1000)?;
                Ok(x)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    store.set_fuel(100).unwrap();
    assert_eq!(run.call(&mut store, 1).unwrap(), 2);
    // `local.get`, `i32.const`, `i32.add` and `call` were paid for before the host ran.
    assert_eq!(*store.data(), 96);
    let left = store.get_fuel().unwrap();
    assert!((1090..=1096).contains(&left), "{left}");
}

#[test]
fn fuel_api_needs_fuel_metered_code() {
    let plain = aot_tests::module(SPIN);
    let mut store = Store::new(());
    let err = store.get_fuel().unwrap_err();
    assert!(err.to_string().contains("fuel is not enabled"), "{err}");
    Instance::new(&mut store, &plain, &[]).unwrap();
    assert!(store.set_fuel(10).is_err());
    assert!(store.get_fuel().is_err());
    // Code compiled without fuel runs whatever the fuel.
    let mut store = Store::new(());
    store.set_fuel(0).unwrap();
    let instance = Instance::new(&mut store, &plain, &[]).unwrap();
    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();
    assert_eq!(count.call(&mut store, 100).unwrap(), 100);
    assert_eq!(store.get_fuel().unwrap(), 0);
    // A metered module in the same store enables it.
    Instance::new(&mut store, &module_with(SPIN, true, false), &[]).unwrap();
    store.set_fuel(5).unwrap();
    assert_eq!(store.get_fuel().unwrap(), 5);
}

/// Increments the epoch every millisecond until `stop` is set.
fn ticker(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let epoch = EpochHandle::new();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            epoch.increment();
        }
    })
}

#[test]
fn an_epoch_increment_from_another_thread_interrupts_a_runaway_loop() {
    let module = module_with(SPIN, false, true);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let tail = instance
        .get_typed_func::<(), ()>(&mut store, "tail")
        .unwrap();
    let id = instance
        .get_typed_func::<i32, i32>(&mut store, "id")
        .unwrap();

    // The deadline starts at 0: epoch-checking code traps at once.
    assert_eq!(
        id.call(&mut store, 1).unwrap_err().trap(),
        Some(Trap::Interrupt)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let thread = ticker(stop.clone());
    store.set_epoch_deadline(5);
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::Interrupt));
    store.set_epoch_deadline(5);
    let err = tail.call(&mut store, ()).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::Interrupt));
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();

    // With a new deadline far ahead the store runs normally again.
    store.set_epoch_deadline(1 << 40);
    assert_eq!(id.call(&mut store, 7).unwrap(), 7);
}

#[test]
fn a_single_increment_reaches_a_one_tick_deadline() {
    let module = module_with(SPIN, false, true);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    store.set_epoch_deadline(1);
    let epoch = store.epoch_handle();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        epoch.increment();
    });
    assert_eq!(
        spin.call(&mut store, ()).unwrap_err().trap(),
        Some(Trap::Interrupt)
    );
    thread.join().unwrap();
}

#[test]
fn fuel_and_epochs_together() {
    let module = module_with(SPIN, true, true);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();
    store.set_epoch_deadline(1 << 40);
    store.set_fuel(1000).unwrap();
    assert_eq!(
        spin.call(&mut store, ()).unwrap_err().trap(),
        Some(Trap::OutOfFuel)
    );
    store.set_fuel(u64::MAX).unwrap();
    store.set_epoch_deadline(0);
    assert_eq!(
        spin.call(&mut store, ()).unwrap_err().trap(),
        Some(Trap::Interrupt)
    );
    store.set_epoch_deadline(1 << 40);
    assert_eq!(count.call(&mut store, 50).unwrap(), 50);
}

/// The cost of fuel metering and epoch checks on the benchmark kernels (`bench/kernels`): each
/// kernel compiled three ways (plain, `consume_fuel`, `epoch_interruption`), `run(n)` timed with
/// `n` calibrated so that the plain build takes about 50 ms, interleaved, medians of 7 rounds;
/// prints the slowdown ratios. No timing is asserted (the results are checked to agree).
///
/// `cargo test -p aot-tests --test all limits::cost -- --ignored --nocapture` (the compiled code
/// does not depend on the test profile).
#[test]
#[ignore = "a measurement, not a test: run it on purpose"]
fn cost_of_fuel_and_epochs_on_the_bench_kernels() {
    use std::time::Instant;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/kernels");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "wasm").then_some(p)
        })
        .collect();
    names.sort();
    println!("kernel     n        plain ms   fuel ms  epoch ms   fuel x  epoch x");
    let (mut fuel_product, mut epoch_product) = (1.0f64, 1.0f64);
    for path in &names {
        let wasm = std::fs::read(path).unwrap();
        let variants: Vec<_> = [(false, false), (true, false), (false, true)]
            .iter()
            .map(|&(fuel, epochs)| {
                let artifact = aot_build::Config::new()
                    .consume_fuel(fuel)
                    .epoch_interruption(epochs)
                    .compile_bytes(&wasm)
                    .unwrap();
                let module = aot_tests::load(&artifact).unwrap();
                let mut store = Store::new(());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                if fuel {
                    store.set_fuel(u64::MAX).unwrap();
                }
                store.set_epoch_deadline(u64::MAX / 2);
                let run = instance
                    .get_typed_func::<u32, u32>(&mut store, "run")
                    .unwrap();
                (store, run)
            })
            .collect();
        let mut variants = variants;
        let time = |v: &mut (Store<()>, aot_runtime::TypedFunc<u32, u32>), n: u32| {
            let start = Instant::now();
            let r = v.1.call(&mut v.0, n).unwrap();
            (start.elapsed().as_secs_f64() * 1e3, r)
        };
        let mut n = 1u32;
        while time(&mut variants[0], n).0 < 50.0 && n < 1 << 24 {
            n *= 2;
        }
        let mut samples = [Vec::new(), Vec::new(), Vec::new()];
        for round in 0..7 {
            let mut results = [0; 3];
            for k in 0..3 {
                let i = (k + round) % 3;
                let (ms, r) = time(&mut variants[i], n);
                samples[i].push(ms);
                results[i] = r;
            }
            assert!(results.iter().all(|&r| r == results[0]), "{results:?}");
        }
        let median = |s: &mut Vec<f64>| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        let [p, f, e] = samples.each_mut().map(median);
        fuel_product *= f / p;
        epoch_product *= e / p;
        let name = path.file_stem().unwrap().to_string_lossy();
        println!(
            "{name:<10} {n:<8} {p:>8.1} {f:>9.1} {e:>9.1} {:>8.2} {:>8.2}",
            f / p,
            e / p
        );
    }
    let k = names.len() as f64;
    println!(
        "geomean    fuel x {:.2}, epoch x {:.2}",
        fuel_product.powf(1.0 / k),
        epoch_product.powf(1.0 / k)
    );
}

/// Control flow the checks must not disturb: loops with parameters, multi-value blocks,
/// `br_table`, tail calls and calls inside loops, run plain and metered.
const SHAPES: &str = r#"
(module
  (func $pick0 (param i64) (result i64 i64) (local.get 0) (local.get 0))
  (func $pick1 (param i64 i64) (result i64 i64 i64) (local.get 0) (local.get 1) (local.get 0))
  (func (export "fac-ssa") (param i64) (result i64)
    (i64.const 1) (local.get 0)
    (loop $l (param i64 i64) (result i64)
      (call $pick1) (call $pick1) (i64.mul)
      (call $pick1) (i64.const 1) (i64.sub)
      (call $pick0) (i64.const 0) (i64.gt_u)
      (br_if $l)
      (drop) (return)))
  (func $fac (export "fac-rec") (param i64) (result i64)
    (if (result i64) (i64.eq (local.get 0) (i64.const 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func $even (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "even") (param i32) (result i32) (call $even (local.get 0)))
  (func (export "switch") (param i32) (result i32)
    (local $acc i32)
    (local.get 0)
    (loop $l (param i32) (result i32)
      (block $b2 (param i32) (result i32)
        (block $b1 (param i32) (result i32)
          (block $b0 (param i32) (result i32)
            (br_table $b0 $b1 $b2 (local.get 0) (i32.rem_u (local.get 0) (i32.const 3))))
          (local.set $acc (i32.add (local.get $acc) (i32.const 1))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 10))))
      (i32.sub (i32.const 1))
      (local.tee 0)
      (br_if $l (local.get 0))
      (drop)
      (local.get $acc))))
"#;

#[test]
fn metered_code_computes_the_same_results() {
    let run = |fuel, epochs| {
        let module = module_with(SHAPES, fuel, epochs);
        let mut store = Store::new(());
        if fuel {
            // Enough for all of it, few enough that a miscompiled loop fails fast.
            store.set_fuel(10_000_000).unwrap();
        }
        store.set_epoch_deadline(u64::MAX / 2);
        let i = Instance::new(&mut store, &module, &[]).unwrap();
        let fac_ssa = i.get_typed_func::<i64, i64>(&mut store, "fac-ssa").unwrap();
        let fac_rec = i.get_typed_func::<i64, i64>(&mut store, "fac-rec").unwrap();
        let even = i.get_typed_func::<i32, i32>(&mut store, "even").unwrap();
        let switch = i.get_typed_func::<i32, i32>(&mut store, "switch").unwrap();
        let exhausted = fac_rec.call(&mut store, 1 << 30).unwrap_err().trap();
        (
            fac_ssa.call(&mut store, 25).unwrap(),
            fac_rec.call(&mut store, 25).unwrap(),
            even.call(&mut store, 100_001).unwrap(),
            switch.call(&mut store, 100).unwrap(),
            exhausted,
        )
    };
    let plain = run(false, false);
    assert_eq!(
        plain,
        (
            7034535277573963776,
            7034535277573963776,
            0,
            703,
            Some(Trap::StackOverflow)
        )
    );
    assert_eq!(run(true, false), plain);
    assert_eq!(run(false, true), plain);
    assert_eq!(run(true, true), plain);
}

#[test]
fn bench_kernels_agree_when_metered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/kernels");
    for name in [
        "crc32", "fib", "interp", "matmul", "memops", "nbody", "sha256", "sort",
    ] {
        let wasm = std::fs::read(dir.join(format!("{name}.wasm"))).unwrap();
        let results: Vec<u32> = [(false, false), (true, true)]
            .iter()
            .map(|&(fuel, epochs)| {
                let artifact = aot_build::Config::new()
                    .consume_fuel(fuel)
                    .epoch_interruption(epochs)
                    .compile_bytes(&wasm)
                    .unwrap();
                let module = aot_tests::load(&artifact).unwrap();
                let mut store = Store::new(());
                store.set_fuel(u64::MAX).unwrap();
                store.set_epoch_deadline(u64::MAX / 2);
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let run = instance
                    .get_typed_func::<u32, u32>(&mut store, "run")
                    .unwrap();
                run.call(&mut store, 1).unwrap()
            })
            .collect();
        assert_eq!(results[0], results[1], "{name}");
    }
}
