//! Small `.wat` guests checking the ABI exactly: pointers out of bounds, errnos, exit through
//! guest frames, replaced clocks and random sources, a missing memory export, and a context
//! inside the embedder's own store data.

use super::*;
use aot_runtime::wasi::{I32Exit, WasiCtx, WasiView};

/// A module whose `_start` calls `body` with a 1-page memory and the given data at offset 0.
fn wat_command(imports: &str, data: &str, body: &str) -> Module {
    aot_tests::module(&format!(
        r#"(module
            {imports}
            (memory (export "memory") 1)
            (data (i32.const 0) "{data}")
            (func (export "_start") {body}))"#
    ))
}

#[test]
fn wat_fd_write_hello() {
    // iovec at 16: ("hello, world\n" at 0, 13 bytes); nwritten at 24.
    let module = wat_command(
        r#"(import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))"#,
        r"hello, world\0a",
        r#"(i32.store (i32.const 16) (i32.const 0))
           (i32.store (i32.const 20) (i32.const 13))
           (if (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
             (then unreachable))
           (if (i32.ne (i32.load (i32.const 24)) (i32.const 13)) (then unreachable))
           ;; An iovec pointing past the end of memory is EFAULT (21), nothing written.
           (i32.store (i32.const 16) (i32.const 65530))
           (if (i32.ne (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
                       (i32.const 21))
             (then unreachable))
           ;; So is a result pointer out of bounds, and a closed descriptor is EBADF (8).
           (i32.store (i32.const 16) (i32.const 0))
           (if (i32.ne (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 65534))
                       (i32.const 21))
             (then unreachable))
           (if (i32.ne (call $fd_write (i32.const 77) (i32.const 16) (i32.const 1) (i32.const 24))
                       (i32.const 8))
             (then unreachable))
           ;; Stdin cannot be written (EBADF).
           (if (i32.ne (call $fd_write (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24))
                       (i32.const 8))
             (then unreachable))"#,
    );
    let out = run(&module, &mut WasiCtxBuilder::new());
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, "hello, world\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn wat_args_and_environ() {
    // args_sizes_get -> (count at 100, size at 104), args_get -> pointers at 200, bytes at 300;
    // then the same for environ at 400/404, 500, 600; the guest copies everything to stdout.
    let module = wat_command(
        r#"(import "wasi_snapshot_preview1" "args_sizes_get" (func $asg (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "args_get" (func $ag (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "environ_sizes_get" (func $esg (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "environ_get" (func $eg (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))"#,
        "",
        r#"(drop (call $asg (i32.const 100) (i32.const 104)))
           (drop (call $ag (i32.const 200) (i32.const 300)))
           (drop (call $esg (i32.const 400) (i32.const 404)))
           (drop (call $eg (i32.const 500) (i32.const 600)))
           ;; The counts and sizes as raw bytes on stderr, the strings on stdout.
           (i32.store (i32.const 16) (i32.const 100))
           (i32.store (i32.const 20) (i32.const 8))
           (i32.store (i32.const 24) (i32.const 400))
           (i32.store (i32.const 28) (i32.const 8))
           (drop (call $w (i32.const 2) (i32.const 16) (i32.const 2) (i32.const 32)))
           (i32.store (i32.const 16) (i32.const 300))
           (i32.store (i32.const 20) (i32.load (i32.const 104)))
           (i32.store (i32.const 24) (i32.const 600))
           (i32.store (i32.const 28) (i32.load (i32.const 404)))
           (drop (call $w (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 32)))
           ;; The second argument's pointer is right after the first one's NUL.
           (if (i32.ne (i32.load (i32.const 204)) (i32.const 305)) (then unreachable))
           ;; A result pointer out of bounds is EFAULT.
           (if (i32.ne (call $asg (i32.const 65535) (i32.const 104)) (i32.const 21))
             (then unreachable))"#,
    );
    let out = run(
        &module,
        WasiCtxBuilder::new()
            .args(&["prog", "a b", "ü"])
            .env("K", "v")
            .env("EMPTY", ""),
    );
    assert_eq!(out.stdout, "prog\0a b\0ü\0K=v\0EMPTY=\0");
    let sizes: Vec<u32> = out
        .stderr
        .as_bytes()
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(sizes, [3, 12, 2, 11]);
}

#[test]
fn wat_proc_exit_unwinds_through_guest_frames() {
    // `_start` -> $deep -> $deeper -> proc_exit(7): the exit crosses three wasm frames.
    let module = aot_tests::module(
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (global $after (mut i32) (i32.const 0))
            (func $deeper (param i32) (call $exit (local.get 0)) (global.set $after (i32.const 1)))
            (func $deep (param i32) (call $deeper (local.get 0)) (global.set $after (i32.const 2)))
            (func (export "_start") (call $deep (i32.const 7)) (global.set $after (i32.const 3)))
            (func (export "after") (result i32) (global.get $after)))"#,
    );
    let mut store = Store::new(WasiCtxBuilder::new().build());
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let err = start.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(7)));
    assert!(err.trap().is_none());
    assert!(
        err.to_string().starts_with("exited with i32 exit status 7"),
        "{err}"
    );
    // Nothing after the exit ran, and the store is still usable.
    let after = instance
        .get_typed_func::<(), i32>(&mut store, "after")
        .unwrap();
    assert_eq!(after.call(&mut store, ()).unwrap(), 0);
    // The runner maps the exit to a status.
    assert_eq!(
        preview1::run_command(&mut store, &linker, &module).unwrap(),
        7
    );
}

#[test]
fn wat_clocks_random_and_poll_are_deterministic_when_replaced() {
    // clock_time_get(realtime) at 100, clock_time_get(monotonic) twice at 108 and 116,
    // clock_res_get(realtime) at 124, random_get 8 bytes at 132, a CPU-time clock (EINVAL = 28)
    // and an out-of-bounds random buffer (EFAULT = 21); then poll_oneoff on one relative 1 ms
    // clock subscription (at 200, userdata 0x55) writing one event at 300.
    let module = wat_command(
        r#"(import "wasi_snapshot_preview1" "clock_time_get" (func $t (param i32 i64 i32) (result i32)))
           (import "wasi_snapshot_preview1" "clock_res_get" (func $r (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))"#,
        "",
        r#"(drop (call $t (i32.const 0) (i64.const 0) (i32.const 100)))
           (drop (call $t (i32.const 1) (i64.const 0) (i32.const 108)))
           (drop (call $t (i32.const 1) (i64.const 0) (i32.const 116)))
           (drop (call $r (i32.const 0) (i32.const 124)))
           (drop (call $rand (i32.const 132) (i32.const 8)))
           (i32.store (i32.const 140) (call $t (i32.const 2) (i64.const 0) (i32.const 144)))
           (i32.store (i32.const 144) (call $rand (i32.const 65530) (i32.const 8)))
           (i64.store (i32.const 200) (i64.const 0x55))
           (i32.store8 (i32.const 208) (i32.const 0))
           (i32.store (i32.const 216) (i32.const 1))
           (i64.store (i32.const 224) (i64.const 1000000))
           (i32.store (i32.const 148) (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 152)))
           (i32.store (i32.const 16) (i32.const 100))
           (i32.store (i32.const 20) (i32.const 56))
           (drop (call $w (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
           (i32.store (i32.const 16) (i32.const 300))
           (i32.store (i32.const 20) (i32.const 32))
           (drop (call $w (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))"#,
    );
    let (status, b, _) = run_bytes(
        &module,
        WasiCtxBuilder::new()
            .wall_clock(FixedWall(1_700_000_000))
            .monotonic_clock(SteppingClock {
                now: AtomicU64::new(5),
                step: 10,
            })
            .secure_random(Counting(0)),
    );
    assert_eq!(status, 0);
    assert_eq!(b.len(), 56 + 32);
    let u64_at = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(u64_at(0), 1_700_000_000 * 1_000_000_000);
    assert_eq!(u64_at(8), 5);
    assert_eq!(u64_at(16), 15);
    assert_eq!(u64_at(24), 1000);
    assert_eq!(&b[32..40], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(u32_at(40), 28, "a CPU-time clock is EINVAL");
    assert_eq!(u32_at(44), 21, "an out-of-bounds buffer is EFAULT");
    assert_eq!(u32_at(48), 0, "poll_oneoff succeeded");
    assert_eq!(u32_at(52), 1, "one event");
    // The event: userdata, error 0, type clock.
    assert_eq!(u64_at(56), 0x55);
    assert_eq!(u32_at(64) & 0xff_ffff, 0);
}

#[test]
fn wat_missing_memory_export_is_an_error() {
    let module = aot_tests::module(
        r#"(module
            (import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))
            (func (export "_start") (drop (call $y))))"#,
    );
    let mut store = Store::new(WasiCtxBuilder::new().build());
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).unwrap();
    let err = preview1::run_command(&mut store, &linker, &module).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "`wasi_snapshot_preview1::sched_yield` needs the calling module to export its memory"
        ),
        "{err}"
    );
}

/// The context can live inside the embedder's own store data.
#[test]
fn wasi_view_on_embedder_data() {
    struct Host {
        wasi: WasiCtx,
        calls: u32,
    }
    impl WasiView for Host {
        fn ctx(&mut self) -> &mut WasiCtx {
            &mut self.wasi
        }
    }
    let stdout = MemoryOutputPipe::new(100);
    let mut store = Store::new(Host {
        wasi: WasiCtxBuilder::new().stdout(stdout.clone()).build(),
        calls: 0,
    });
    let mut linker = Linker::new();
    preview1::add_to_linker(&mut linker).unwrap();
    linker
        .func_wrap(
            "host",
            "count",
            |mut caller: aot_runtime::Caller<'_, Host>| {
                caller.data_mut().calls += 1;
            },
        )
        .unwrap();
    let module = aot_tests::module(
        r#"(module
            (import "host" "count" (func $count))
            (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "ok\0a")
            (func (export "_start")
              (call $count)
              (i32.store (i32.const 8) (i32.const 0))
              (i32.store (i32.const 12) (i32.const 3))
              (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))"#,
    );
    assert_eq!(
        preview1::run_command(&mut store, &linker, &module).unwrap(),
        0
    );
    assert_eq!(store.data().calls, 1);
    assert_eq!(stdout.contents(), b"ok\n");
}
