//! Differential execution against wasmi (logic in `aot_tests::differential`): a deterministic
//! seeded smoke run over `wasm-smith` modules, plus the minimised regression tests of every
//! divergence it (or the fuzz target) found.
//!
//! The smoke run prints exactly one line, `differential: N modules, D divergences`, straight to
//! stdout (so it shows when the test passes), after the seed, the reason and the WAT of each
//! divergence; it fails when D > 0. Knobs: `AOT_DIFF_MODULES=<n>` (default 500) and
//! `AOT_DIFF_SEED=<first seed>` (default 0) to run more or other seeds, `AOT_DIFF_THREADS=<n>`.

#![forbid(unsafe_code)]

// The differential harness, shared with the fuzz target (fuzz/fuzz_targets/differential.rs).
#[path = "../shared/differential.rs"]
mod differential;

use differential::{Divergence, Report};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Seconds one module may run on our side before the watchdog aborts the test, naming the seed.
const WATCHDOG_SECS: u64 = 60;

/// Bytes of `wasm-smith` input per seed: enough for several functions of tens of instructions.
const INPUT_LEN: usize = 16 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Totals {
    modules: u64,
    calls: u64,
    traps: u64,
    exhausted: u64,
    rejected: Vec<(u64, String)>,
    divergences: Vec<(u64, Divergence)>,
}

#[test]
fn smoke() {
    let count = env_u64("AOT_DIFF_MODULES", 500);
    let first = env_u64("AOT_DIFF_SEED", 0);
    let threads = env_u64("AOT_DIFF_THREADS", 2).max(1);
    let verbose = std::env::var_os("AOT_DIFF_VERBOSE").is_some();
    let next = AtomicU64::new(first);
    let totals = Mutex::new(Totals::default());
    let start = std::time::Instant::now();
    // What each worker is running since when: our side cannot be interrupted, so a miscompile
    // that turns a finite loop infinite would hang the test; the watchdog names the seed.
    let running: Mutex<Vec<Option<(u64, std::time::Instant)>>> =
        Mutex::new(vec![None; threads as usize]);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                for (seed, since) in running.lock().unwrap().iter().flatten() {
                    if since.elapsed() > std::time::Duration::from_secs(WATCHDOG_SECS) {
                        eprintln!(
                            "differential: seed {seed} still running after {WATCHDOG_SECS} s \
                             (wasmi finished it within its fuel): aborting"
                        );
                        std::process::abort();
                    }
                }
            }
        });
        let workers: Vec<_> = (0..threads as usize)
            .map(|worker| {
                let (next, totals, running) = (&next, &totals, &running);
                std::thread::Builder::new()
                // Room for wasmi's host recursion and our 256 KiB wasm stack with margin.
                .stack_size(16 << 20)
                .spawn_scoped(s, move || {
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= first + count {
                            break;
                        }
                        running.lock().unwrap()[worker] = Some((seed, std::time::Instant::now()));
                        let input = differential::seed_input(seed, INPUT_LEN);
                        // A panic on either side must not hide the other seeds' results.
                        let outcome = std::panic::catch_unwind(|| differential::run_input(&input))
                            .unwrap_or_else(|panic| {
                                Err(Divergence {
                                    what: format!(
                                        "panicked: {}",
                                        differential::panic_message(&*panic)
                                    ),
                                    wasm: Vec::new(),
                                    bounds_checks: aot_build::BoundsChecks::GuardPages,
                                })
                            });
                        let mut t = totals.lock().unwrap();
                        match outcome {
                            Ok(None) => {}
                            Ok(Some(report)) => {
                                let Report {
                                    calls,
                                    traps,
                                    exhausted,
                                    wasmi_rejected,
                                    instantiation_trap,
                                } = report;
                                t.modules += 1;
                                t.calls += calls as u64;
                                if verbose {
                                    eprintln!(
                                        "seed {seed}: {calls} calls, {traps} traps, {exhausted} exhausted, wasmi {wasmi_rejected:?}, instantiation {instantiation_trap:?}"
                                    );
                                }
                                t.traps += traps as u64;
                                t.exhausted += exhausted as u64;
                                if let Some(reason) = wasmi_rejected {
                                    t.rejected.push((seed, reason));
                                }
                            }
                            Err(d) => {
                                t.modules += 1;
                                t.divergences.push((seed, d));
                            }
                        }
                    }
                    running.lock().unwrap()[worker] = None;
                })
                .unwrap()
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let mut t = totals.into_inner().unwrap();
    t.divergences.sort_by_key(|(seed, _)| *seed);
    let mut out = std::io::stdout().lock();
    t.rejected.sort();
    for (seed, reason) in &t.rejected {
        writeln!(out, "wasmi refused the module of seed {seed}: {reason}").unwrap();
    }
    for (seed, d) in &t.divergences {
        writeln!(out, "divergence at seed {seed}: {d}\n{}", d.wat()).unwrap();
    }
    writeln!(
        out,
        "differential stats: {} calls compared ({} trapped), {} calls out of fuel or stack, {} modules refused by wasmi, {:.1} s",
        t.calls,
        t.traps,
        t.exhausted,
        t.rejected.len(),
        start.elapsed().as_secs_f64()
    )
    .unwrap();
    writeln!(
        out,
        "differential: {} modules, {} divergences",
        t.modules,
        t.divergences.len()
    )
    .unwrap();
    drop(out);
    assert!(
        t.divergences.is_empty(),
        "{} divergences",
        t.divergences.len()
    );
    assert!(t.modules >= 300, "only {} modules generated", t.modules);
    assert!(t.rejected.is_empty(), "wasmi refused generated modules");
}

/// Runs `wat` on both engines (guard pages and explicit bounds checks) and returns the report.
fn run_both_modes(wat: &str) -> Report {
    let wasm = wat::parse_str(wat).unwrap();
    let mut last = None;
    for mode in [
        aot_build::BoundsChecks::GuardPages,
        aot_build::BoundsChecks::Explicit,
    ] {
        match differential::run_wasm(&wasm, mode, 7) {
            Ok(report) => last = Some(report),
            Err(d) => panic!("divergence: {d}\n{}", d.wat()),
        }
    }
    last.unwrap()
}

#[test]
fn harness_element_segment_out_of_bounds_is_a_table_trap_on_both_sides() {
    // wasmi reports an active element segment out of bounds as an instantiation error without a
    // trap code; the harness maps it to `TableOutOfBounds` (found at seed 1000590 and 17 others).
    let report = run_both_modes(
        r#"(module
             (table (export "t") 1 funcref)
             (func $f)
             (elem (i32.const -4) $f))"#,
    );
    assert_eq!(
        report.instantiation_trap,
        Some(aot_runtime::Trap::TableOutOfBounds)
    );
}

/// The minimised module of seed 1018460: wasmi 2.0.0 stores garbage in `out` (a different value
/// on every run), we store 42, which is what the spec says: the `then` arm never runs.
const WASMI_IF_PARAMS_BUG: &str = r#"(module
  (global $x (mut i64) (i64.const 0))
  (global $out (export "out") (mut i64) (i64.const 0))
  (global $zero (mut i32) (i32.const 0))
  (func (export "f") (local $a i64)
    i64.const 42
    local.set $a
    local.get $a
    i64.const 0
    global.get $zero
    if (param i64)
      block
      end
      global.set $x
    else
      global.set $x
    end
    global.set $out))"#;

/// The minimised module of seed 3036382: a taken `br_if` leaves a block with parameters before
/// a nested block; wasmi stores garbage in `out`, we store 42.
const WASMI_BLOCK_PARAMS_BUG: &str = r#"(module
  (global $out (export "out") (mut i32) (i32.const 0))
  (global $one (mut i32) (i32.const 1))
  (func (export "f") (local $a i32)
    i32.const 42
    local.set $a
    local.get $a
    global.get $one
    block (param i32)
      br_if 0
      block
      end
    end
    global.set $out))"#;

/// Runs `f` of `wat` on our side and returns the exported global `out`.
fn our_out(wat: &str) -> aot_runtime::Val {
    let module = aot_tests::module(wat);
    let mut store = aot_runtime::Store::new(());
    let instance = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    f.call(&mut store, ()).unwrap();
    let out = instance.get_global(&mut store, "out").unwrap();
    out.get(&mut store)
}

#[test]
fn wasmi_bug_lazy_local_below_block_params_we_are_right_and_the_workaround_agrees() {
    // Our side gives the spec's answer; with `wasmi_workaround` (an empty block before each
    // block with parameters) wasmi gives it too, and the whole differential run agrees.
    assert_eq!(our_out(WASMI_IF_PARAMS_BUG).unwrap_i64(), 42);
    assert_eq!(our_out(WASMI_BLOCK_PARAMS_BUG).unwrap_i32(), 42);
    for wat in [WASMI_IF_PARAMS_BUG, WASMI_BLOCK_PARAMS_BUG] {
        let wasm = wat::parse_str(wat).unwrap();
        let patched = differential::wasmi_workaround(&wasm).unwrap();
        assert_eq!(patched.len(), wasm.len() + 3, "one empty block inserted");
        wasmparser::validate(&patched).unwrap();
        for mode in [
            aot_build::BoundsChecks::GuardPages,
            aot_build::BoundsChecks::Explicit,
        ] {
            let report = differential::run_wasm(&wasm, mode, 0).unwrap_or_else(|d| panic!("{d}"));
            assert_eq!(
                report.calls,
                1 + differential::CALLS_PER_EXPORT,
                "{report:?}"
            );
        }
    }
}

#[test]
fn wasmi_bug_store_of_a_register_to_itself_no_longer_panics_wasmi() {
    // The minimised module of seed 2004203: without the workaround wasmi panics while
    // translating it (so the module was counted as refused and compared nothing).
    let wasm = wat::parse_str(
        r#"(module
             (memory (export "m0") 1)
             (memory (export "m1") 1)
             (func (export "f") (local i32)
               local.get 0
               i32.load
               local.tee 0
               local.get 0
               i32.store16 1))"#,
    )
    .unwrap();
    let report = differential::run_wasm(&wasm, aot_build::BoundsChecks::Explicit, 0)
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(report.wasmi_rejected, None);
    assert_eq!(report.calls, 1 + differential::CALLS_PER_EXPORT);
}
