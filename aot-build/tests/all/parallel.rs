//! Parallel function compilation: the artifact (or the error) does not depend on the number of
//! threads, and helper threads run only with tokens of Cargo's jobserver when there is one.
//!
//! The jobserver of a build script comes from its environment (`CARGO_MAKEFLAGS` and inherited
//! pipe descriptors), which is process-wide: those tests create a jobserver with `k` tokens and
//! re-run themselves (this test binary, only that test) in a child process configured with it,
//! exactly as Cargo runs a build script.

use aot_build::{Config, ParallelStats, Workers, compile_bytes_with};
use std::process::Command;

/// Functions of the generated modules.
const FUNCS: usize = 300;

/// A module of `FUNCS` functions of varied sizes (1 to 40 statements) and shapes (arithmetic,
/// memory, calls, floats, loops, `br_table`, SIMD, i64); the functions in `bad` end with a value
/// of the wrong type.
fn module(bad: &[usize]) -> String {
    let mut wat = String::from("(module (memory 1)\n");
    for i in 0..FUNCS {
        let export = if i % 10 == 0 {
            format!("(export \"f{i}\")")
        } else {
            String::new()
        };
        wat.push_str(&format!(
            "(func $f{i} {export} (param i32 i64) (result i32) (local $acc i32) (local $n i32)\n\
             (local.set $n (i32.and (local.get 0) (i32.const 15)))\n"
        ));
        for k in 0..1 + (i * 7919) % 40 {
            let c = (i * 31 + k * 17) % 1000;
            let statement = match (i + k * 3) % 8 {
                0 => format!(
                    "(local.set $acc (i32.add (local.get $acc) \
                     (i32.mul (local.get 0) (i32.const {c}))))"
                ),
                1 => format!(
                    "(i32.store offset={c} (local.get 0) \
                     (i32.xor (local.get $acc) (i32.load offset={} (local.get 0))))",
                    c / 2
                ),
                2 if i > 0 => format!(
                    "(local.set $acc (i32.add (local.get $acc) \
                     (call $f{} (local.get $acc) (local.get 1))))",
                    i / 2
                ),
                2 | 3 => format!(
                    "(local.set $acc (i32.trunc_sat_f64_s \
                     (f64.mul (f64.convert_i32_s (local.get $acc)) (f64.const {c}.5))))"
                ),
                4 => "(block $b (loop $l (br_if $b (i32.eqz (local.get $n))) \
                      (local.set $n (i32.sub (local.get $n) (i32.const 1))) \
                      (local.set $acc (i32.rotl (local.get $acc) (local.get $n))) (br $l)))"
                    .to_string(),
                5 => "(block $a (block $b (block $c \
                      (br_table $a $b $c (i32.and (local.get $acc) (i32.const 3)))) \
                      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))) \
                      (local.set $acc (i32.shl (local.get $acc) (i32.const 2))))"
                    .to_string(),
                6 => format!(
                    "(local.set $acc (i32x4.extract_lane 1 \
                     (i32x4.add (i32x4.splat (local.get $acc)) (v128.const i32x4 1 2 3 {c}))))"
                ),
                _ => "(local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get $acc))))"
                    .to_string(),
            };
            wat.push_str(&statement);
            wat.push('\n');
        }
        wat.push_str(if bad.contains(&i) {
            "(i64.const 1))\n"
        } else {
            "(local.get $acc))\n"
        });
    }
    wat.push(')');
    wat
}

/// `wat` compiled by `workers`.
fn compile(wat: &str, workers: Workers) -> (Result<Vec<u8>, aot_build::Error>, ParallelStats) {
    match compile_bytes_with(&Config::new(), wat.as_bytes(), workers) {
        Ok((artifact, stats)) => (Ok(artifact), stats),
        // The statistics are only returned with the artifact.
        Err(e) => (Err(e), ParallelStats::default()),
    }
}

#[test]
fn thread_count_does_not_change_the_artifact() {
    let wat = module(&[]);
    let (one, stats) = compile(&wat, Workers::Threads(1));
    let one = one.unwrap();
    assert_eq!(stats.helpers, 0);
    assert_eq!(stats.max_concurrent, 1);
    assert!(!stats.jobserver);
    for threads in [2, 3, 7] {
        let (artifact, stats) = compile(&wat, Workers::Threads(threads));
        assert!(artifact.unwrap() == one, "{threads} threads");
        // A fixed number of threads starts them all at once.
        assert_eq!(stats.helpers, threads - 1, "{threads} threads");
        assert!((1..=threads).contains(&stats.max_concurrent), "{stats:?}");
    }
    // The module is over the threshold: the default policy compiles it in parallel here, with
    // the same bytes.
    assert!(wat::parse_str(&wat).unwrap().len() > 64 * 1024);
    assert!(Config::new().compile_bytes(wat.as_bytes()).unwrap() == one);
}

#[test]
fn thread_count_does_not_change_the_error() {
    // Function 200 is the first invalid one; 201 and 290 (smaller) may fail first in time.
    let wat = module(&[200, 201, 290]);
    let (one, _) = compile(&wat, Workers::Threads(1));
    let one = one.unwrap_err();
    assert_eq!(one.func_index(), Some(200));
    assert_eq!(one.func_name(), Some("f200"));
    let offset = one.offset().expect("the error has an offset");
    let wasm = wat::parse_str(module(&[])).unwrap();
    assert!(offset > 0 && offset < wasm.len() as u64, "{offset}");
    for threads in [2, 3, 7] {
        let (err, _) = compile(&wat, Workers::Threads(threads));
        let err = err.unwrap_err();
        assert_eq!(err.func_index(), Some(200), "{threads} threads: {err}");
        assert_eq!(err.offset(), Some(offset), "{threads} threads: {err}");
        assert_eq!(err.to_string(), one.to_string());
    }
}

/// A jobserver created in this process gives its tokens to the compiler, or (where its tokens
/// cannot be taken without blocking) the compiler falls back to a fixed number of threads; either
/// way at most `max` threads run and the bytes are the same.
#[test]
fn explicit_jobserver_gives_the_same_bytes() {
    let wat = module(&[]);
    let (one, _) = compile(&wat, Workers::Threads(1));
    let one = one.unwrap();
    for tokens in [0, 2] {
        let client = jobserver::Client::new(tokens).unwrap();
        let workers = Workers::Jobserver {
            client: Some(client.clone()),
            max: 3,
        };
        let (artifact, stats) = compile(&wat, workers);
        assert!(artifact.unwrap() == one);
        assert!(stats.max_concurrent <= 3, "{stats:?}");
        if stats.jobserver {
            assert!(stats.max_concurrent <= tokens + 1, "{stats:?}");
        }
        // Every token taken was given back.
        assert_eq!(client.available().unwrap(), tokens);
    }
}

const CHILD: &str = "AOT_BUILD_JOBS_CHILD";

/// Runs `test` in a child process with `CHILD` set and `configure` applied; returns the child's
/// statistics line (`jobserver=<bool> helpers=<n> max_concurrent=<n>`) as numbers.
fn run_child(test: &str, configure: impl FnOnce(&mut Command)) -> (bool, usize, usize) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("NUM_JOBS");
    configure(&mut command);
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child did not run:\n{stdout}"
    );
    let line = stdout
        .lines()
        // The harness prints the test's name on the same line.
        .find_map(|l| Some(l.split_once("stats: ")?.1))
        .unwrap_or_else(|| panic!("no statistics:\n{stdout}"));
    let field = |name: &str| {
        line.split(' ')
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no `{name}` in `{line}`"))
    };
    (
        field("jobserver") == "true",
        field("helpers").parse().unwrap(),
        field("max_concurrent").parse().unwrap(),
    )
}

/// In the child: compiles the module with the environment's jobserver (at most 8 threads),
/// checks the bytes against one thread and prints the statistics.
fn child() {
    let wat = module(&[]);
    let (one, _) = compile(&wat, Workers::Threads(1));
    let workers = Workers::Jobserver {
        client: None,
        max: 8,
    };
    let (artifact, stats) = compile(&wat, workers);
    assert!(artifact.unwrap() == one.unwrap());
    println!(
        "stats: jobserver={} helpers={} max_concurrent={}",
        stats.jobserver, stats.helpers, stats.max_concurrent
    );
}

/// As in a build script under `cargo build -j (k + 1)`: the process holds one implicit token and
/// the jobserver `k` more, so at most `k + 1` threads compile, and every token goes back.
#[test]
fn build_script_jobserver_limits_the_threads() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    for tokens in [0, 2] {
        let client = jobserver::Client::new(tokens).unwrap();
        let (jobserver, helpers, max_concurrent) = run_child(
            "parallel::build_script_jobserver_limits_the_threads",
            |command| client.configure(command),
        );
        // Linux reopens the inherited pipe to read it without blocking; elsewhere jobserver 0.1
        // may not, and the compiler falls back to `NUM_JOBS` (unset: `max` threads).
        if cfg!(target_os = "linux") {
            assert!(jobserver, "the child did not use the jobserver");
        }
        if jobserver {
            assert!(
                max_concurrent <= tokens + 1,
                "{tokens} tokens: {max_concurrent}"
            );
            if tokens == 0 {
                assert_eq!((helpers, max_concurrent), (0, 1));
            } else {
                // The first token is asked for before the first function, while it is free.
                assert!(helpers >= 1, "{tokens} tokens: no helper");
            }
        }
        assert_eq!(client.available().unwrap(), tokens, "tokens not given back");
    }
}

/// Without a jobserver, Cargo's `NUM_JOBS` caps the threads, all started at once.
#[test]
fn without_jobserver_num_jobs_caps_the_threads() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    for jobs in [1, 3] {
        let (jobserver, helpers, max_concurrent) = run_child(
            "parallel::without_jobserver_num_jobs_caps_the_threads",
            |command| {
                command.env("NUM_JOBS", jobs.to_string());
            },
        );
        assert!(!jobserver);
        assert_eq!(helpers, jobs - 1, "NUM_JOBS={jobs}");
        assert!(max_concurrent <= jobs, "NUM_JOBS={jobs}: {max_concurrent}");
    }
}
