//! WASI 0.2 end to end (io, cli, clocks, random and the runner; the filesystem is
//! `wasi_p2_fs.rs`): the C fixtures of `tests/fixtures/wasi/p2/` (components made from the
//! wasi-libc programs with the preview-1 command adapter), compiled in-process by `aot-build`,
//! run with `wasi::p2::run_command` and their output captured with `MemoryOutputPipe`; then small
//! component-text guests for what the C programs cannot show (exact stream, poll, clock and
//! random values, `exit-with-code`, refused interfaces).

use crate::wasi_common::{Captured, Counting, Output, fixture_artifact, lines};
use aot_runtime::Store;
use aot_runtime::component::{
    Component, ComponentNamedList, ComponentType, Instance, Lift, Linker, Lower,
};
use aot_runtime::wasi::{
    HostMonotonicClock, HostWallClock, I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx,
    WasiCtxBuilder, p2,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The compiled artifact of `tests/fixtures/wasi/p2/<name>.wasm` (compiled once per process).
fn fixture(name: &str) -> Component {
    aot_tests::load_component(fixture_artifact("p2", name)).unwrap()
}

fn linker() -> Linker<WasiCtx> {
    let mut linker = Linker::new();
    p2::add_to_linker(&mut linker).unwrap();
    linker
}

/// Runs `component` as a command with the context `builder` describes plus captured stdout and
/// stderr.
fn run(component: &Component, builder: &mut WasiCtxBuilder) -> Output {
    let (ctx, captured) = Captured::build(builder);
    let mut store = Store::new(ctx);
    let status = p2::run_command(&mut store, &linker(), component).unwrap();
    drop(store);
    captured.output(status)
}

/// Runs `wasi-demo` with `args` (argv[0] = `wasi-demo`).
fn demo(args: &[&str], builder: &mut WasiCtxBuilder) -> Output {
    builder.arg("wasi-demo").args(args);
    run(&fixture("wasi-demo"), builder)
}

/// A wall clock stopped at `secs` seconds and 250 ns after the epoch.
struct FixedWall(u64);

impl HostWallClock for FixedWall {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }
    fn now(&self) -> Duration {
        Duration::new(self.0, 250)
    }
}

/// A monotonic clock reading `base` plus the real time elapsed since its creation, so that
/// sleeps are real and readings are recognisable.
struct OffsetClock {
    base: u64,
    start: Instant,
    /// How many times the guest read the clock.
    reads: Arc<AtomicU64>,
}

impl OffsetClock {
    fn new(base: u64) -> Self {
        Self {
            base,
            start: Instant::now(),
            reads: Arc::default(),
        }
    }
}

impl HostMonotonicClock for OffsetClock {
    fn resolution(&self) -> u64 {
        1000
    }
    fn now(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.base + self.start.elapsed().as_nanos() as u64
    }
}

// ---------------------------------------------------------------------------------------------
// The C fixtures.

#[test]
fn hello_prints_and_exits_zero() {
    let out = run(&fixture("hello"), WasiCtxBuilder::new().arg("hello"));
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(out.stdout, "Hello, world!\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn arguments_are_echoed() {
    let out = demo(
        &["args", "two words", "ünïcode", ""],
        &mut WasiCtxBuilder::new(),
    );
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(
        lines(&out.stdout),
        [
            "argc=5",
            "argv[0]=wasi-demo",
            "argv[1]=args",
            "argv[2]=two words",
            "argv[3]=ünïcode",
            "argv[4]=",
        ]
    );
}

#[test]
fn environment_is_echoed() {
    let out = demo(
        &["env", "HOME", "MISSING", "EMPTY"],
        WasiCtxBuilder::new()
            .env("HOME", "/home/guest")
            .env("EMPTY", "")
            .env("X", "a=b"),
    );
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(
        lines(&out.stdout),
        [
            "HOME=/home/guest",
            "MISSING unset",
            "EMPTY=",
            "environ count=3"
        ]
    );
}

#[test]
fn clocks_and_random_come_from_the_context() {
    let mono = OffsetClock::new(5_000_000_000);
    let reads = mono.reads.clone();
    let out = demo(
        &["clocks"],
        WasiCtxBuilder::new()
            .wall_clock(FixedWall(1_700_000_000))
            .monotonic_clock(mono)
            .secure_random(Counting(0x40)),
    );
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(
        lines(&out.stdout),
        [
            "realtime: ok",
            "monotonic: ok",
            "sleep: ok",
            "resolution: ok",
            "random: ok",
            "random-bytes=4142434445464748",
        ]
    );
    assert!(
        reads.load(Ordering::Relaxed) >= 3,
        "the guest reads the context's clock"
    );

    // A wall clock before 2020 is what the guest sees.
    let out = demo(
        &["clocks"],
        WasiCtxBuilder::new()
            .wall_clock(FixedWall(1000))
            .secure_random(Counting(0)),
    );
    assert_eq!(out.status, 1, "{out:?}");
    assert_eq!(lines(&out.stdout)[0], "realtime: FAIL");
    assert_eq!(lines(&out.stdout)[5], "random-bytes=0102030405060708");
}

#[test]
fn exit_codes() {
    let out = demo(&["exit", "0"], &mut WasiCtxBuilder::new());
    assert_eq!((out.status, out.stderr.as_str()), (0, "exiting with 0\n"));
    // The preview-1 adapter maps every non-zero `proc_exit` status to `exit(err)`, which is
    // exit status 1 (`exit-with-code` is unstable and the adapter does not import it; the
    // component-text tests below call it directly).
    for code in ["3", "42"] {
        let out = demo(&["exit", code], &mut WasiCtxBuilder::new());
        assert_eq!(out.status, 1, "{out:?}");
        assert_eq!(out.stderr, format!("exiting with {code}\n"));
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn stdin_from_a_pipe() {
    let out = demo(
        &["stdin"],
        WasiCtxBuilder::new().stdin(MemoryInputPipe::new("hello\nwasi 0.2\n")),
    );
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(out.stdout, "read 15 bytes\nHELLO\nWASI 0.2\n");

    // No stdin at all is an empty stream.
    let out = demo(&["stdin"], &mut WasiCtxBuilder::new());
    assert_eq!(out.stdout, "read 0 bytes\n");

    // More than one read's worth (the guest reads 4 KiB at a time, growing its buffer).
    let big: String = (0..20_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let out = demo(
        &["stdin"],
        WasiCtxBuilder::new().stdin(MemoryInputPipe::new(big.clone())),
    );
    assert_eq!(out.status, 0);
    assert_eq!(
        out.stdout,
        format!("read 20000 bytes\n{}", big.to_uppercase())
    );
}

#[test]
fn stderr_is_separate() {
    let out = demo(&["stderr"], &mut WasiCtxBuilder::new());
    assert_eq!(out.status, 0, "{out:?}");
    assert_eq!(out.stdout, "to stdout\n");
    assert_eq!(out.stderr, "to stderr\n");
}

#[test]
fn a_guest_runs_twice_in_two_stores() {
    let component = fixture("wasi-demo");
    let linker = linker();
    let mut outputs = Vec::new();
    let mut stores = Vec::new();
    for word in ["first", "second"] {
        let stdout = MemoryOutputPipe::new(1 << 16);
        let ctx = WasiCtxBuilder::new()
            .args(&["wasi-demo", "args", word])
            .stdout(stdout.clone())
            .build();
        let mut store = Store::new(ctx);
        assert_eq!(p2::run_command(&mut store, &linker, &component).unwrap(), 0);
        outputs.push(stdout);
        stores.push(store);
    }
    // Both stores are alive at once, each with its own output.
    assert_eq!(
        String::from_utf8(outputs[0].contents()).unwrap(),
        "argc=3\nargv[0]=wasi-demo\nargv[1]=args\nargv[2]=first\n"
    );
    assert_eq!(
        String::from_utf8(outputs[1].contents()).unwrap(),
        "argc=3\nargv[0]=wasi-demo\nargv[1]=args\nargv[2]=second\n"
    );
    // The same store runs the command again (a second instance).
    assert_eq!(
        p2::run_command(&mut stores[0], &linker, &component).unwrap(),
        0
    );
    assert_eq!(
        outputs[0].contents().len(),
        2 * "argc=3\nargv[0]=wasi-demo\nargv[1]=args\nargv[2]=first\n".len()
    );
}

// ---------------------------------------------------------------------------------------------
// Component-text guests.

#[test]
fn sockets_and_http_are_refused_by_name() {
    for (import, package) in [
        ("wasi:sockets/tcp@0.2.0", "wasi:sockets"),
        ("wasi:sockets/ip-name-lookup@0.2.3", "wasi:sockets"),
        ("wasi:http/outgoing-handler@0.2.6", "wasi:http"),
    ] {
        let component = aot_tests::component(&format!(
            r#"(component
                 (import "{import}" (instance
                   (export "x" (type (sub resource))))))"#
        ));
        let err = linker()
            .instantiate(&mut Store::new(WasiCtxBuilder::new().build()), &component)
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(import), "{msg}");
        assert!(
            msg.contains(&format!("`{package}` is not implemented")),
            "{msg}"
        );
    }
    // An interface nobody defines is an unknown import.
    let component =
        aot_tests::component(r#"(component (import "wasi:clocks/timezone@0.2.6" (instance)))"#);
    let err = linker()
        .instantiate(&mut Store::new(WasiCtxBuilder::new().build()), &component)
        .unwrap_err();
    assert!(
        err.to_string().contains("wasi:clocks/timezone@0.2.6"),
        "{err}"
    );
}

/// A component importing most of `wasi:io`, `wasi:cli`, `wasi:clocks` and `wasi:random` and
/// exporting one function per case: stream permits and writes, stdin reads, sleeps and polls,
/// clock and random values, exits.
const PROBE: &str = r#"
(component $probe
  (import "wasi:io/error@0.2.0" (instance $error
    (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-ty))
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))
    (export "[method]pollable.ready" (func (param "self" (borrow $p)) (result bool)))
    (export "poll" (func (param "in" (list (borrow $p))) (result (list u32))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer $probe $error-ty (type $e))
    (export "error" (type $err (eq $e)))
    (alias outer $probe $pollable (type $pl))
    (export "pollable" (type $pol (eq $pl)))
    (export "output-stream" (type $os (sub resource)))
    (export "input-stream" (type $is (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $se)))
    (export "[method]output-stream.check-write"
      (func (param "self" (borrow $os)) (result (result u64 (error $stream-error)))))
    (export "[method]output-stream.write"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
            (result (result (error $stream-error)))))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
            (result (result (error $stream-error)))))
    (export "[method]output-stream.subscribe" (func (param "self" (borrow $os)) (result (own $pol))))
    (export "[method]input-stream.read"
      (func (param "self" (borrow $is)) (param "len" u64)
            (result (result (list u8) (error $stream-error)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (alias export $streams "input-stream" (type $input-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer $probe $output-stream (type $o))
    (export "output-stream" (type $os (eq $o)))
    (export "get-stdout" (func (result (own $os))))))
  (import "wasi:cli/stdin@0.2.0" (instance $stdin
    (alias outer $probe $input-stream (type $i))
    (export "input-stream" (type $is (eq $i)))
    (export "get-stdin" (func (result (own $is))))))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $mono
    (alias outer $probe $pollable (type $pl))
    (export "pollable" (type $pol (eq $pl)))
    (export "now" (func (result u64)))
    (export "resolution" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pol))))
    (export "subscribe-instant" (func (param "when" u64) (result (own $pol))))))
  (import "wasi:clocks/wall-clock@0.2.0" (instance $wall
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $datetime (eq $dt)))
    (export "now" (func (result $datetime)))
    (export "resolution" (func (result $datetime)))))
  (alias export $wall "datetime" (type $datetime))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-bytes" (func (param "len" u64) (result (list u8))))
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:random/insecure@0.2.0" (instance $insecure
    (export "get-insecure-random-bytes" (func (param "len" u64) (result (list u8))))
    (export "get-insecure-random-u64" (func (result u64)))))
  (import "wasi:random/insecure-seed@0.2.0" (instance $seed
    (export "insecure-seed" (func (result (tuple u64 u64))))))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))
    (export "exit-with-code" (func (param "status-code" u8)))))

  ;; Memory and a bump allocator, instantiated first so the lowerings can use them.
  (core module $Mem
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 32768))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))

  (core func $c-check-write (canon lower (func $streams "[method]output-stream.check-write") (memory $memory)))
  (core func $c-write (canon lower (func $streams "[method]output-stream.write") (memory $memory)))
  (core func $c-bwf (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $memory)))
  (core func $c-out-subscribe (canon lower (func $streams "[method]output-stream.subscribe")))
  (core func $c-read (canon lower (func $streams "[method]input-stream.read") (memory $memory) (realloc $realloc)))
  (core func $c-get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $c-get-stdin (canon lower (func $stdin "get-stdin")))
  (core func $c-block (canon lower (func $poll "[method]pollable.block")))
  (core func $c-ready (canon lower (func $poll "[method]pollable.ready")))
  (core func $c-poll (canon lower (func $poll "poll") (memory $memory) (realloc $realloc)))
  (core func $c-now (canon lower (func $mono "now")))
  (core func $c-mono-res (canon lower (func $mono "resolution")))
  (core func $c-sub-dur (canon lower (func $mono "subscribe-duration")))
  (core func $c-sub-inst (canon lower (func $mono "subscribe-instant")))
  (core func $c-wall-now (canon lower (func $wall "now") (memory $memory)))
  (core func $c-wall-res (canon lower (func $wall "resolution") (memory $memory)))
  (core func $c-rand-bytes (canon lower (func $random "get-random-bytes") (memory $memory) (realloc $realloc)))
  (core func $c-rand-u64 (canon lower (func $random "get-random-u64")))
  (core func $c-insecure-bytes (canon lower (func $insecure "get-insecure-random-bytes") (memory $memory) (realloc $realloc)))
  (core func $c-insecure-u64 (canon lower (func $insecure "get-insecure-random-u64")))
  (core func $c-seed (canon lower (func $seed "insecure-seed") (memory $memory)))
  (core func $c-exit (canon lower (func $exit "exit")))
  (core func $c-exit-code (canon lower (func $exit "exit-with-code")))
  (core func $c-drop-pollable (canon resource.drop $pollable))
  (core func $c-drop-output (canon resource.drop $output-stream))
  (core func $c-drop-input (canon resource.drop $input-stream))
  (core func $c-drop-error (canon resource.drop $error-ty))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "h" "check-write" (func $check-write (param i32 i32)))
    (import "h" "write" (func $write (param i32 i32 i32 i32)))
    (import "h" "bwf" (func $bwf (param i32 i32 i32 i32)))
    (import "h" "out-subscribe" (func $out-subscribe (param i32) (result i32)))
    (import "h" "read" (func $read (param i32 i64 i32)))
    (import "h" "get-stdout" (func $get-stdout (result i32)))
    (import "h" "get-stdin" (func $get-stdin (result i32)))
    (import "h" "block" (func $block (param i32)))
    (import "h" "ready" (func $ready (param i32) (result i32)))
    (import "h" "poll" (func $poll (param i32 i32 i32)))
    (import "h" "now" (func $now (result i64)))
    (import "h" "mono-res" (func $mono-res (result i64)))
    (import "h" "sub-dur" (func $sub-dur (param i64) (result i32)))
    (import "h" "sub-inst" (func $sub-inst (param i64) (result i32)))
    (import "h" "wall-now" (func $wall-now (param i32)))
    (import "h" "wall-res" (func $wall-res (param i32)))
    (import "h" "rand-bytes" (func $rand-bytes (param i64 i32)))
    (import "h" "rand-u64" (func $rand-u64 (result i64)))
    (import "h" "insecure-bytes" (func $insecure-bytes (param i64 i32)))
    (import "h" "insecure-u64" (func $insecure-u64 (result i64)))
    (import "h" "seed" (func $seed (param i32)))
    (import "h" "exit" (func $exit (param i32)))
    (import "h" "exit-code" (func $exit-code (param i32)))
    (import "h" "drop-pollable" (func $drop-pollable (param i32)))
    (import "h" "drop-output" (func $drop-output (param i32)))
    (import "h" "drop-input" (func $drop-input (param i32)))
    (import "h" "drop-error" (func $drop-error (param i32)))
    (data (i32.const 256) "abcdefghijklmnopqrstuvwxyz")

    ;; The status of a `result<_, stream-error>` (or `result<list<u8>, stream-error>`) at
    ;; `ret`: 0 ok, 1 closed, 2 failed (the error resource is dropped).
    (func $status (param $ret i32) (result i32)
      (if (i32.eqz (i32.load8_u (local.get $ret))) (then (return (i32.const 0))))
      (if (i32.eq (i32.load8_u offset=4 (local.get $ret)) (i32.const 1))
        (then (return (i32.const 1))))
      (call $drop-error (i32.load offset=8 (local.get $ret)))
      (i32.const 2))

    ;; `check-write` on a new stdout handle: the permit, -1 closed, -2 failed.
    (func (export "permit") (result i64)
      (local $h i32) (local $r i64)
      (local.set $h (call $get-stdout))
      (call $check-write (local.get $h) (i32.const 0))
      (if (i32.eqz (i32.load8_u (i32.const 0)))
        (then (local.set $r (i64.load offset=8 (i32.const 0))))
        (else
          (if (i32.eq (i32.load8_u offset=8 (i32.const 0)) (i32.const 1))
            (then (local.set $r (i64.const -1)))
            (else
              (call $drop-error (i32.load offset=12 (i32.const 0)))
              (local.set $r (i64.const -2))))))
      (call $drop-output (local.get $h))
      (local.get $r))

    ;; Writes `n` bytes of the alphabet (then zeros) to stdout: `$status`.
    (func (export "write") (param $n i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $get-stdout))
      (call $write (local.get $h) (i32.const 256) (local.get $n) (i32.const 0))
      (local.set $r (call $status (i32.const 0)))
      (call $drop-output (local.get $h))
      (local.get $r))

    (func (export "blocking-write") (param $n i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $get-stdout))
      (call $bwf (local.get $h) (i32.const 256) (local.get $n) (i32.const 0))
      (local.set $r (call $status (i32.const 0)))
      (call $drop-output (local.get $h))
      (local.get $r))

    ;; Reads up to `n` bytes of stdin and copies them to stdout: the count, or -status.
    (func (export "read-stdin") (param $n i64) (result i64)
      (local $h i32) (local $o i32) (local $r i64)
      (local.set $h (call $get-stdin))
      (call $read (local.get $h) (local.get $n) (i32.const 0))
      (if (i32.eqz (i32.load8_u (i32.const 0)))
        (then
          (local.set $r (i64.extend_i32_u (i32.load offset=8 (i32.const 0))))
          (local.set $o (call $get-stdout))
          (call $bwf (local.get $o) (i32.load offset=4 (i32.const 0))
                     (i32.load offset=8 (i32.const 0)) (i32.const 32))
          (call $drop-output (local.get $o)))
        (else
          (local.set $r (i64.sub (i64.const 0)
                                 (i64.extend_i32_u (call $status (i32.const 0)))))))
      (call $drop-input (local.get $h))
      (local.get $r))

    (func (export "sleep") (param $ns i64)
      (local $p i32)
      (local.set $p (call $sub-dur (local.get $ns)))
      (call $block (local.get $p))
      (call $drop-pollable (local.get $p)))

    ;; Polls two duration pollables and a stdout pollable when `$with-stream` is set:
    ;; the number of ready ones * 100 + the first ready index.
    (func (export "poll-durations") (param $a i64) (param $b i64) (param $with-stream i32) (result i32)
      (local $o i32) (local $n i32) (local $r i32)
      (i32.store (i32.const 512) (call $sub-dur (local.get $a)))
      (i32.store (i32.const 516) (call $sub-dur (local.get $b)))
      (local.set $n (i32.const 2))
      (if (local.get $with-stream)
        (then
          (local.set $o (call $get-stdout))
          (i32.store (i32.const 520) (call $out-subscribe (local.get $o)))
          (local.set $n (i32.const 3))))
      (call $poll (i32.const 512) (local.get $n) (i32.const 0))
      (local.set $r (i32.add (i32.mul (i32.load (i32.const 4)) (i32.const 100))
                             (i32.load (i32.load (i32.const 0)))))
      (call $drop-pollable (i32.load (i32.const 512)))
      (call $drop-pollable (i32.load (i32.const 516)))
      (if (local.get $with-stream)
        (then
          (call $drop-pollable (i32.load (i32.const 520)))
          (call $drop-output (local.get $o))))
      (local.get $r))

    (func (export "poll-empty")
      (call $poll (i32.const 512) (i32.const 0) (i32.const 0)))

    (func (export "ready-at") (param $when i64) (result i32)
      (local $p i32) (local $r i32)
      (local.set $p (call $sub-inst (local.get $when)))
      (local.set $r (call $ready (local.get $p)))
      (call $drop-pollable (local.get $p))
      (local.get $r))

    ;; Drops a stream while a pollable made from it is alive.
    (func (export "drop-stream-first")
      (local $h i32)
      (local.set $h (call $get-stdout))
      (drop (call $out-subscribe (local.get $h)))
      (call $drop-output (local.get $h)))

    (func (export "mono-now") (result i64) (call $now))
    (func (export "mono-res") (result i64) (call $mono-res))
    (func (export "wall-now") (result i32) (call $wall-now (i32.const 64)) (i32.const 64))
    (func (export "wall-res") (result i32) (call $wall-res (i32.const 64)) (i32.const 64))
    (func (export "random-bytes") (param i64) (result i32)
      (call $rand-bytes (local.get 0) (i32.const 96)) (i32.const 96))
    (func (export "insecure-bytes") (param i64) (result i32)
      (call $insecure-bytes (local.get 0) (i32.const 96)) (i32.const 96))
    (func (export "random-u64") (result i64) (call $rand-u64))
    (func (export "insecure-u64") (result i64) (call $insecure-u64))
    (func (export "seed") (result i32) (call $seed (i32.const 128)) (i32.const 128))
    (func (export "exit-ok") (call $exit (i32.const 0)))
    (func (export "exit-err") (call $exit (i32.const 1)))
    (func (export "exit-code") (param i32) (call $exit-code (local.get 0))))

  (core instance $main (instantiate $Main
    (with "mem" (instance (export "memory" (memory $memory))))
    (with "h" (instance
      (export "check-write" (func $c-check-write))
      (export "write" (func $c-write))
      (export "bwf" (func $c-bwf))
      (export "out-subscribe" (func $c-out-subscribe))
      (export "read" (func $c-read))
      (export "get-stdout" (func $c-get-stdout))
      (export "get-stdin" (func $c-get-stdin))
      (export "block" (func $c-block))
      (export "ready" (func $c-ready))
      (export "poll" (func $c-poll))
      (export "now" (func $c-now))
      (export "mono-res" (func $c-mono-res))
      (export "sub-dur" (func $c-sub-dur))
      (export "sub-inst" (func $c-sub-inst))
      (export "wall-now" (func $c-wall-now))
      (export "wall-res" (func $c-wall-res))
      (export "rand-bytes" (func $c-rand-bytes))
      (export "rand-u64" (func $c-rand-u64))
      (export "insecure-bytes" (func $c-insecure-bytes))
      (export "insecure-u64" (func $c-insecure-u64))
      (export "seed" (func $c-seed))
      (export "exit" (func $c-exit))
      (export "exit-code" (func $c-exit-code))
      (export "drop-pollable" (func $c-drop-pollable))
      (export "drop-output" (func $c-drop-output))
      (export "drop-input" (func $c-drop-input))
      (export "drop-error" (func $c-drop-error))))))

  (func (export "permit") (result s64) (canon lift (core func $main "permit")))
  (func (export "write") (param "n" u32) (result s32) (canon lift (core func $main "write")))
  (func (export "blocking-write") (param "n" u32) (result s32)
    (canon lift (core func $main "blocking-write")))
  (func (export "read-stdin") (param "n" u64) (result s64) (canon lift (core func $main "read-stdin")))
  (func (export "sleep") (param "ns" u64) (canon lift (core func $main "sleep")))
  (func (export "poll-durations") (param "a" u64) (param "b" u64) (param "with-stream" bool) (result u32)
    (canon lift (core func $main "poll-durations")))
  (func (export "poll-empty") (canon lift (core func $main "poll-empty")))
  (func (export "ready-at") (param "when" u64) (result bool) (canon lift (core func $main "ready-at")))
  (func (export "drop-stream-first") (canon lift (core func $main "drop-stream-first")))
  (func (export "mono-now") (result u64) (canon lift (core func $main "mono-now")))
  (func (export "mono-res") (result u64) (canon lift (core func $main "mono-res")))
  (func (export "wall-now") (result $datetime) (canon lift (core func $main "wall-now") (memory $memory)))
  (func (export "wall-res") (result $datetime) (canon lift (core func $main "wall-res") (memory $memory)))
  (func (export "random-bytes") (param "len" u64) (result (list u8))
    (canon lift (core func $main "random-bytes") (memory $memory)))
  (func (export "insecure-bytes") (param "len" u64) (result (list u8))
    (canon lift (core func $main "insecure-bytes") (memory $memory)))
  (func (export "random-u64") (result u64) (canon lift (core func $main "random-u64")))
  (func (export "insecure-u64") (result u64) (canon lift (core func $main "insecure-u64")))
  (func (export "seed") (result (tuple u64 u64)) (canon lift (core func $main "seed") (memory $memory)))
  (func (export "exit-ok") (canon lift (core func $main "exit-ok")))
  (func (export "exit-err") (canon lift (core func $main "exit-err")))
  (func (export "exit-code") (param "code" u8) (canon lift (core func $main "exit-code")))
)"#;

/// The `wasi:clocks/wall-clock.datetime` record.
#[derive(ComponentType, Lift, Lower, Debug, PartialEq)]
#[component(record)]
struct Datetime {
    seconds: u64,
    nanoseconds: u32,
}

fn probe() -> Component {
    static ARTIFACT: OnceLock<Vec<u8>> = OnceLock::new();
    let artifact = ARTIFACT.get_or_init(|| aot_tests::compile(PROBE).unwrap());
    aot_tests::load_component(artifact).unwrap()
}

/// A store with `builder`'s context and an instance of the probe.
fn probe_instance(builder: &mut WasiCtxBuilder) -> (Store<WasiCtx>, Instance) {
    let mut store = Store::new(builder.build());
    let instance = linker().instantiate(&mut store, &probe()).unwrap();
    (store, instance)
}

/// Calls the probe's `name` with `params`.
fn call<P, R>(
    store: &mut Store<WasiCtx>,
    instance: &Instance,
    name: &str,
    params: P,
) -> aot_runtime::Result<R>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    instance
        .get_typed_func::<P, R>(&mut *store, name)
        .unwrap()
        .call(&mut *store, params)
}

#[test]
fn write_permits_follow_the_sink() {
    // Stdout to a 10-byte pipe: the permit is what is left.
    let pipe = MemoryOutputPipe::new(10);
    let (mut store, probe) = probe_instance(WasiCtxBuilder::new().stdout(pipe.clone()));
    assert_eq!(
        call::<_, (i64,)>(&mut store, &probe, "permit", ()).unwrap(),
        (10,)
    );
    assert_eq!(
        call::<_, (i32,)>(&mut store, &probe, "write", (4u32,)).unwrap(),
        (0,)
    );
    assert_eq!(pipe.contents(), b"abcd");
    assert_eq!(
        call::<_, (i64,)>(&mut store, &probe, "permit", ()).unwrap(),
        (6,)
    );
    // Writing more than permitted traps (as in Wasmtime), writing nothing.
    let err = call::<_, (i32,)>(&mut store, &probe, "write", (7u32,)).unwrap_err();
    assert!(
        err.to_string()
            .contains("exceeds the 6 bytes `check-write` permits"),
        "{err}"
    );
    assert_eq!(pipe.contents(), b"abcd");

    // A blocking write fills the pipe, then reports `closed`; so does `check-write` after.
    let pipe = MemoryOutputPipe::new(10);
    let (mut store, probe) = probe_instance(WasiCtxBuilder::new().stdout(pipe.clone()));
    assert_eq!(
        call::<_, (i32,)>(&mut store, &probe, "blocking-write", (6u32,)).unwrap(),
        (0,)
    );
    assert_eq!(
        call::<_, (i32,)>(&mut store, &probe, "blocking-write", (6u32,)).unwrap(),
        (1,)
    );
    assert_eq!(pipe.contents(), b"abcdefabcd");
    assert_eq!(
        call::<_, (i64,)>(&mut store, &probe, "permit", ()).unwrap(),
        (-1,)
    );

    // Other sinks grant 1 MiB; a blocking write is limited to 4096 bytes.
    let (mut store, probe) = probe_instance(&mut WasiCtxBuilder::new());
    assert_eq!(
        call::<_, (i64,)>(&mut store, &probe, "permit", ()).unwrap(),
        (1 << 20,)
    );
    assert_eq!(
        call::<_, (i32,)>(&mut store, &probe, "blocking-write", (4096u32,)).unwrap(),
        (0,)
    );
    let err = call::<_, (i32,)>(&mut store, &probe, "blocking-write", (4097u32,)).unwrap_err();
    assert!(
        err.to_string().contains("exceeds its limit of 4096 bytes"),
        "{err}"
    );
}

#[test]
fn stdin_reads_and_ends() {
    let stdout = MemoryOutputPipe::new(100);
    let (mut store, probe) = probe_instance(
        WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new("0123456789"))
            .stdout(stdout.clone()),
    );
    let mut read = |n: u64| {
        call::<_, (i64,)>(&mut store, &probe, "read-stdin", (n,))
            .unwrap()
            .0
    };
    assert_eq!(read(4), 4);
    assert_eq!(read(0), 0);
    assert_eq!(read(u64::MAX), 6);
    // The end of the stream is `closed` (status 1).
    assert_eq!(read(1), -1);
    assert_eq!(stdout.contents(), b"0123456789");
}

#[test]
fn pollables_sleep_and_poll() {
    let (mut store, probe) = probe_instance(&mut WasiCtxBuilder::new());
    let start = Instant::now();
    call::<_, ()>(&mut store, &probe, "sleep", (20_000_000u64,)).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(20));

    // Of two deadlines, the earlier is reported (index 1, alone), after sleeping until it.
    let start = Instant::now();
    let (r,) = call::<_, (u32,)>(
        &mut store,
        &probe,
        "poll-durations",
        (5_000_000_000u64, 15_000_000u64, false),
    )
    .unwrap();
    assert_eq!(r, 101);
    let slept = start.elapsed();
    assert!(
        slept >= Duration::from_millis(15) && slept < Duration::from_secs(4),
        "{slept:?}"
    );

    // A stream's pollable is always ready: poll returns at once with it alone.
    let start = Instant::now();
    let (r,) = call::<_, (u32,)>(
        &mut store,
        &probe,
        "poll-durations",
        (5_000_000_000u64, 5_000_000_000u64, true),
    )
    .unwrap();
    assert_eq!(r, 102);
    assert!(start.elapsed() < Duration::from_secs(4));
    // Zero durations are ready at once, both of them.
    let (r,) =
        call::<_, (u32,)>(&mut store, &probe, "poll-durations", (0u64, 0u64, false)).unwrap();
    assert_eq!(r, 200);

    // `ready` compares a deadline with the clock, without blocking.
    let (now,) = call::<_, (u64,)>(&mut store, &probe, "mono-now", ()).unwrap();
    assert_eq!(
        call::<_, (bool,)>(&mut store, &probe, "ready-at", (now,)).unwrap(),
        (true,)
    );
    let later = now + 3_600_000_000_000;
    assert_eq!(
        call::<_, (bool,)>(&mut store, &probe, "ready-at", (later,)).unwrap(),
        (false,)
    );
}

#[test]
fn poll_traps_on_an_empty_list_and_parents_outlive_pollables() {
    let (mut store, probe) = probe_instance(&mut WasiCtxBuilder::new());
    let err = call::<_, ()>(&mut store, &probe, "poll-empty", ()).unwrap_err();
    assert!(err.to_string().contains("empty list of pollables"), "{err}");

    let (mut store, probe) = probe_instance(&mut WasiCtxBuilder::new());
    let err = call::<_, ()>(&mut store, &probe, "drop-stream-first", ()).unwrap_err();
    assert!(err.to_string().contains("children"), "{err}");
}

#[test]
fn clocks_and_random_values() {
    let (mut store, probe) = probe_instance(
        WasiCtxBuilder::new()
            .wall_clock(FixedWall(1_700_000_000))
            .monotonic_clock(OffsetClock::new(9_000_000_000))
            .secure_random(Counting(0))
            .insecure_random(Counting(0xf0))
            .insecure_random_seed(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
    );
    let (mono,) = call::<_, (u64,)>(&mut store, &probe, "mono-now", ()).unwrap();
    assert!((9_000_000_000..10_000_000_000).contains(&mono), "{mono}");
    assert_eq!(
        call::<_, (u64,)>(&mut store, &probe, "mono-res", ()).unwrap(),
        (1000,)
    );
    assert_eq!(
        call::<_, (Datetime,)>(&mut store, &probe, "wall-now", ())
            .unwrap()
            .0,
        Datetime {
            seconds: 1_700_000_000,
            nanoseconds: 250
        }
    );
    assert_eq!(
        call::<_, (Datetime,)>(&mut store, &probe, "wall-res", ())
            .unwrap()
            .0,
        Datetime {
            seconds: 0,
            nanoseconds: 1000
        }
    );

    let (bytes,) = call::<_, (Vec<u8>,)>(&mut store, &probe, "random-bytes", (5u64,)).unwrap();
    assert_eq!(bytes, [1, 2, 3, 4, 5]);
    let (n,) = call::<_, (u64,)>(&mut store, &probe, "random-u64", ()).unwrap();
    assert_eq!(n, u64::from_le_bytes([6, 7, 8, 9, 10, 11, 12, 13]));
    let (bytes,) = call::<_, (Vec<u8>,)>(&mut store, &probe, "insecure-bytes", (3u64,)).unwrap();
    assert_eq!(bytes, [0xf1, 0xf2, 0xf3]);
    let (n,) = call::<_, (u64,)>(&mut store, &probe, "insecure-u64", ()).unwrap();
    assert_eq!(
        n,
        u64::from_le_bytes([0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb])
    );
    assert_eq!(
        call::<_, ((u64, u64),)>(&mut store, &probe, "seed", ())
            .unwrap()
            .0,
        (0xfedc_ba98_7654_3210, 0x0123_4567_89ab_cdef)
    );
    assert_eq!(
        call::<_, (Vec<u8>,)>(&mut store, &probe, "random-bytes", (0u64,))
            .unwrap()
            .0,
        []
    );
    // More than a 32-bit memory could hold traps instead of aborting the host.
    let err = call::<_, (Vec<u8>,)>(&mut store, &probe, "random-bytes", (1u64 << 40,)).unwrap_err();
    assert!(err.to_string().contains("too many"), "{err}");
}

#[test]
fn exit_and_exit_with_code() {
    for (func, code, status) in [
        ("exit-ok", None, 0),
        ("exit-err", None, 1),
        ("exit-code", Some(3u8), 3),
        ("exit-code", Some(42), 42),
        ("exit-code", Some(255), 255),
    ] {
        let (mut store, probe) = probe_instance(&mut WasiCtxBuilder::new());
        let err = match code {
            Some(code) => call::<_, ()>(&mut store, &probe, func, (code,)),
            None => call::<_, ()>(&mut store, &probe, func, ()),
        }
        .unwrap_err();
        assert_eq!(
            err.downcast_ref::<I32Exit>(),
            Some(&I32Exit(status)),
            "{func}"
        );
    }
}
