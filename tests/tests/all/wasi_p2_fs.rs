//! WASI 0.2 filesystem end to end (`wasi:filesystem/types` and `preopens`): the C fixture
//! `tests/fixtures/wasi/p2/wasi-demo.wasm` (a wasi-libc program made a component with the
//! preview-1 command adapter), compiled in-process by `aot-build` and run with
//! `wasi::p2::run_command` in fresh host directories (`files`, `escape`, `readonly`; expected
//! outputs in tests/fixtures/wasi/README.md), then a component-text guest calling the
//! filesystem functions directly for what the C program cannot reach (descriptor flags, handle
//! identity, streams outliving their descriptor, absolute symbolic links).

use crate::wasi_common::{
    Captured, FILES_STEPS, Output, TempDir, check_escape, fixture_artifact, lines, names,
};
use aot_runtime::Store;
use aot_runtime::component::{Component, Linker};
use aot_runtime::wasi::{DirPerms, FilePerms, WasiCtx, WasiCtxBuilder, p2};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// `tests/fixtures/wasi/p2/wasi-demo.wasm`, compiled once per process.
fn wasi_demo() -> Component {
    aot_tests::load_component(fixture_artifact("p2", "wasi-demo")).unwrap()
}

fn linker() -> Linker<WasiCtx> {
    let mut linker = Linker::new();
    p2::add_to_linker(&mut linker).unwrap();
    linker
}

/// Runs `wasi-demo` with `args` (argv[0] = `wasi-demo`) in the context `builder` describes,
/// stdout and stderr captured.
fn demo(args: &[&str], builder: &mut WasiCtxBuilder) -> Output {
    let (ctx, captured) = Captured::build(builder.arg("wasi-demo").args(args));
    let mut store = Store::new(ctx);
    let status = p2::run_command(&mut store, &linker(), &wasi_demo()).unwrap();
    drop(store);
    captured.output(status)
}

// ---------------------------------------------------------------------------------------------
// The C program.

#[test]
fn c_files_in_a_read_write_preopen() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("input.txt"), "line one\nline two\n").unwrap();
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(tmp.path(), "/data", DirPerms::all(), FilePerms::all())
        .unwrap();
    let out = demo(&["files", "/data"], &mut builder);
    assert_eq!(out.stderr, "", "{out:?}");
    let mut expected = FILES_STEPS.to_vec();
    expected.extend(["input.txt: ok", "line one", "line two"]);
    assert_eq!(lines(&out.stdout), expected);
    assert_eq!(out.status, 0);
    // The preopen is left as it was found.
    assert_eq!(names(tmp.path()), ["input.txt"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("input.txt")).unwrap(),
        "line one\nline two\n"
    );
}

#[test]
fn c_files_without_input() {
    let tmp = TempDir::new();
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(tmp.path(), "/data", DirPerms::all(), FilePerms::all())
        .unwrap();
    let out = demo(&["files", "/data"], &mut builder);
    let mut expected = FILES_STEPS.to_vec();
    expected.push("input.txt: ENOENT");
    assert_eq!(lines(&out.stdout), expected);
    assert_eq!(out.status, 0);
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn c_escape_attempts_are_refused() {
    check_escape(|builder| demo(&["escape", "/data"], builder));
}

#[test]
fn c_read_only_preopen_refuses_writes() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("input.txt"), "read only\n").unwrap();
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(tmp.path(), "/ro", DirPerms::READ, FilePerms::READ)
        .unwrap();
    let out = demo(&["readonly", "/ro"], &mut builder);
    assert_eq!(
        lines(&out.stdout),
        [
            "input.txt: ok",
            "read only",
            "create: refused EPERM",
            "open-write: refused EPERM",
            "mkdir: refused EPERM",
            "rename: refused EPERM",
            "unlink: refused EPERM",
        ],
        "{out:?}"
    );
    assert_eq!(out.status, 0);
    assert_eq!(names(tmp.path()), ["input.txt"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("input.txt")).unwrap(),
        "read only\n"
    );
}

// ---------------------------------------------------------------------------------------------
// A component-text guest calling `wasi:filesystem` directly.

/// Imports part of `wasi:filesystem/types` and `preopens` (and the stream types they use) and
/// exports `run(case) -> s64`: each case calls the filesystem and returns a value, or 1000 plus
/// the `error-code` (`bad-descriptor` = 3, `not-directory` = 24, `not-permitted` = 31). Data:
/// "file.txt" at 0, "abs-link" at 16, "rel-link" at 32, "sub" at 48, "new.txt" at 64, "HE" at
/// 80; results at 512. Preopen 0 is read-write, preopen 1 read-only.
const FS_GUEST: &str = r#"
(component $C
  (import "wasi:io/streams@0.2.6" (instance $streams
    (export "input-stream" (type (sub resource)))
    (export "output-stream" (type (sub resource)))))
  (alias export $streams "input-stream" (type $input-stream))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:filesystem/types@0.2.6" (instance $types
    (alias outer $C $input-stream (type $is))
    (export "input-stream" (type $input (eq $is)))
    (alias outer $C $output-stream (type $os))
    (export "output-stream" (type $output (eq $os)))
    (export "descriptor" (type $d (sub resource)))
    (export "directory-entry-stream" (type $des (sub resource)))
    (type $ec (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock" "quota"
      "exist" "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted" "invalid"
      "io" "is-directory" "loop" "too-many-links" "message-size" "name-too-long" "no-device"
      "no-entry" "no-lock" "insufficient-memory" "insufficient-space" "not-directory"
      "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device" "overflow"
      "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy" "cross-device"))
    (export "error-code" (type $error-code (eq $ec)))
    (type $df (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $descriptor-flags (eq $df)))
    (type $pf (flags "symlink-follow"))
    (export "path-flags" (type $path-flags (eq $pf)))
    (type $of (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $open-flags (eq $of)))
    (export "[method]descriptor.open-at" (func (param "self" (borrow $d))
      (param "path-flags" $path-flags) (param "path" string) (param "open-flags" $open-flags)
      (param "flags" $descriptor-flags) (result (result (own $d) (error $error-code)))))
    (export "[method]descriptor.read" (func (param "self" (borrow $d)) (param "length" u64)
      (param "offset" u64) (result (result (tuple (list u8) bool) (error $error-code)))))
    (export "[method]descriptor.write" (func (param "self" (borrow $d))
      (param "buffer" (list u8)) (param "offset" u64) (result (result u64 (error $error-code)))))
    (export "[method]descriptor.read-directory" (func (param "self" (borrow $d))
      (result (result (own $des) (error $error-code)))))
    (export "[method]descriptor.readlink-at" (func (param "self" (borrow $d))
      (param "path" string) (result (result string (error $error-code)))))
    (export "[method]descriptor.is-same-object" (func (param "self" (borrow $d))
      (param "other" (borrow $d)) (result bool)))
    (export "[method]descriptor.read-via-stream" (func (param "self" (borrow $d))
      (param "offset" u64) (result (result (own $input) (error $error-code)))))
    (export "[method]descriptor.write-via-stream" (func (param "self" (borrow $d))
      (param "offset" u64) (result (result (own $output) (error $error-code)))))
    (export "[method]descriptor.get-flags" (func (param "self" (borrow $d))
      (result (result $descriptor-flags (error $error-code)))))))
  (alias export $types "descriptor" (type $descriptor))
  (import "wasi:filesystem/preopens@0.2.6" (instance $preopens
    (alias outer $C $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))

  (core module $mem
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $bump) (i32.const 65536)) (then unreachable))
      (local.get $p)))
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))

  (core func $get-dirs (canon lower (func $preopens "get-directories")
    (memory $memory) (realloc $realloc)))
  (core func $open-at (canon lower (func $types "[method]descriptor.open-at") (memory $memory)))
  (core func $read (canon lower (func $types "[method]descriptor.read")
    (memory $memory) (realloc $realloc)))
  (core func $write (canon lower (func $types "[method]descriptor.write") (memory $memory)))
  (core func $read-dir (canon lower (func $types "[method]descriptor.read-directory")
    (memory $memory)))
  (core func $readlink (canon lower (func $types "[method]descriptor.readlink-at")
    (memory $memory) (realloc $realloc)))
  (core func $same (canon lower (func $types "[method]descriptor.is-same-object")))
  (core func $rvs (canon lower (func $types "[method]descriptor.read-via-stream")
    (memory $memory)))
  (core func $wvs (canon lower (func $types "[method]descriptor.write-via-stream")
    (memory $memory)))
  (core func $get-flags (canon lower (func $types "[method]descriptor.get-flags")
    (memory $memory)))
  (core func $drop-d (canon resource.drop $descriptor))
  (core func $drop-in (canon resource.drop $input-stream))

  (core module $impl
    (import "m" "memory" (memory 1))
    (import "fs" "get-directories" (func $get-dirs (param i32)))
    (import "fs" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))
    (import "fs" "read" (func $read (param i32 i64 i64 i32)))
    (import "fs" "write" (func $write (param i32 i32 i32 i64 i32)))
    (import "fs" "read-directory" (func $read-dir (param i32 i32)))
    (import "fs" "readlink-at" (func $readlink (param i32 i32 i32 i32)))
    (import "fs" "is-same-object" (func $same (param i32 i32) (result i32)))
    (import "fs" "read-via-stream" (func $rvs (param i32 i64 i32)))
    (import "fs" "write-via-stream" (func $wvs (param i32 i64 i32)))
    (import "fs" "get-flags" (func $get-flags (param i32 i32)))
    (import "fs" "drop-descriptor" (func $drop-d (param i32)))
    (import "fs" "drop-input-stream" (func $drop-in (param i32)))
    (data (i32.const 0) "file.txt")
    (data (i32.const 16) "abs-link")
    (data (i32.const 32) "rel-link")
    (data (i32.const 48) "sub")
    (data (i32.const 64) "new.txt")
    (data (i32.const 80) "HE")

    ;; The list `get-directories` returns (its length at 516).
    (func $dirs (result i32)
      (call $get-dirs (i32.const 512))
      (i32.load (i32.const 512)))
    ;; The descriptor of preopen `i`, a new handle on every call.
    (func $preopen (param $i i32) (result i32)
      (i32.load (i32.add (call $dirs) (i32.mul (local.get $i) (i32.const 12)))))
    ;; 1000 + the error code at `at`.
    (func $err (param $at i32) (result i64)
      (i64.add (i64.const 1000) (i64.load8_u (local.get $at))))
    ;; `open-at` without following links: the new handle, or 1000 + the error code.
    (func $open (param $dir i32) (param $path i32) (param $len i32) (param $oflags i32)
        (param $flags i32) (result i64)
      (call $open-at (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
        (local.get $oflags) (local.get $flags) (i32.const 512))
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 516)))
        (else (i64.load32_u (i32.const 516)))))
    ;; Opens "file.txt" under preopen 0 with `flags`; the handle.
    (func $file (param $flags i32) (result i32)
      (i32.wrap_i64 (call $open (call $preopen (i32.const 0)) (i32.const 0) (i32.const 8)
        (i32.const 0) (local.get $flags))))
    ;; `read`: 1000 * bytes read + the end-of-file flag, or 1000 + the error code.
    (func $rd (param $h i32) (param $len i64) (param $off i64) (result i64)
      (call $read (local.get $h) (local.get $len) (local.get $off) (i32.const 512))
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 516)))
        (else (i64.add (i64.mul (i64.load32_u (i32.const 520)) (i64.const 1000))
          (i64.load8_u (i32.const 524))))))
    ;; `write` of "HE" at 0: the bytes written, or 1000 + the error code.
    (func $wr (param $h i32) (result i64)
      (call $write (local.get $h) (i32.const 80) (i32.const 2) (i64.const 0) (i32.const 512))
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 520)))
        (else (i64.load (i32.const 520)))))
    ;; A `result<own<_>, error-code>` at 512: 0 if ok, else 1000 + the error code.
    (func $own-result (result i64)
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 516)))
        (else (i64.const 0))))
    ;; `readlink-at` of `path` under preopen 0: 1000 * length + first byte, or 1000 + error.
    (func $link (param $path i32) (result i64)
      (call $readlink (call $preopen (i32.const 0)) (local.get $path) (i32.const 8)
        (i32.const 512))
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 516)))
        (else (i64.add (i64.mul (i64.load32_u (i32.const 520)) (i64.const 1000))
          (i64.load8_u (i32.load (i32.const 516)))))))
    ;; `get-flags`: the flags' bits, or 1000 + the error code.
    (func $flags (param $h i32) (result i64)
      (call $get-flags (local.get $h) (i32.const 512))
      (if (result i64) (i32.load8_u (i32.const 512))
        (then (call $err (i32.const 513)))
        (else (i64.load8_u (i32.const 513)))))

    (func (export "run") (param $case i32) (result i64)
      (local $a i32) (local $b i32) (local $p i32)
      ;; 0: the number of preopens.
      (if (i32.eqz (local.get $case)) (then
        (call $dirs) (drop)
        (return (i64.load32_u (i32.const 516)))))
      ;; 1: each call gives new handles.
      (if (i32.eq (local.get $case) (i32.const 1)) (then
        (local.set $a (call $preopen (i32.const 0)))
        (local.set $b (call $preopen (i32.const 0)))
        (return (i64.extend_i32_u (i32.ne (local.get $a) (local.get $b))))))
      ;; 2: the guest path of preopen 1: 1000 * length + its second byte.
      (if (i32.eq (local.get $case) (i32.const 2)) (then
        (local.set $p (call $dirs))
        (return (i64.add (i64.mul (i64.load32_u (i32.add (local.get $p) (i32.const 20)))
                                  (i64.const 1000))
          (i64.load8_u (i32.add (i32.load (i32.add (local.get $p) (i32.const 16)))
                                (i32.const 1)))))))
      ;; 3: `write` on a descriptor opened for reading only.
      (if (i32.eq (local.get $case) (i32.const 3)) (then
        (return (call $wr (call $file (i32.const 1))))))
      ;; 4: `read` on a descriptor opened for writing only.
      (if (i32.eq (local.get $case) (i32.const 4)) (then
        (return (call $rd (call $file (i32.const 2)) (i64.const 10) (i64.const 0)))))
      ;; 5: `read` on a directory.
      (if (i32.eq (local.get $case) (i32.const 5)) (then
        (return (call $rd (call $preopen (i32.const 0)) (i64.const 10) (i64.const 0)))))
      ;; 6: `read-directory` on a file.
      (if (i32.eq (local.get $case) (i32.const 6)) (then
        (call $read-dir (call $file (i32.const 1)) (i32.const 512))
        (return (call $own-result))))
      ;; 7, 8: `read` of the whole file, then at its end.
      (if (i32.eq (local.get $case) (i32.const 7)) (then
        (return (call $rd (call $file (i32.const 1)) (i64.const 100) (i64.const 0)))))
      (if (i32.eq (local.get $case) (i32.const 8)) (then
        (return (call $rd (call $file (i32.const 1)) (i64.const 100) (i64.const 5)))))
      ;; 9: `write-via-stream` on a descriptor opened for reading only.
      (if (i32.eq (local.get $case) (i32.const 9)) (then
        (call $wvs (call $file (i32.const 1)) (i64.const 0) (i32.const 512))
        (return (call $own-result))))
      ;; 10: `read-via-stream` on a descriptor opened for writing only.
      (if (i32.eq (local.get $case) (i32.const 10)) (then
        (call $rvs (call $file (i32.const 2)) (i64.const 0) (i32.const 512))
        (return (call $own-result))))
      ;; 11: `write` on a descriptor opened for reading and writing.
      (if (i32.eq (local.get $case) (i32.const 11)) (then
        (return (call $wr (call $file (i32.const 3))))))
      ;; 12, 13: `is-same-object` of two opens of the file, of the file and its directory.
      (if (i32.eq (local.get $case) (i32.const 12)) (then
        (return (i64.extend_i32_u (call $same (call $file (i32.const 1))
                                               (call $file (i32.const 1)))))))
      (if (i32.eq (local.get $case) (i32.const 13)) (then
        (return (i64.extend_i32_u (call $same (call $file (i32.const 1))
                                               (call $preopen (i32.const 0)))))))
      ;; 14, 15: `readlink-at` of a relative and of an absolute link.
      (if (i32.eq (local.get $case) (i32.const 14)) (then
        (return (call $link (i32.const 32)))))
      (if (i32.eq (local.get $case) (i32.const 15)) (then
        (return (call $link (i32.const 16)))))
      ;; 16-18 under the read-only preopen: open "sub" with mutate-directory, open the file
      ;; for writing, create "new.txt".
      (if (i32.eq (local.get $case) (i32.const 16)) (then
        (return (call $open (call $preopen (i32.const 1)) (i32.const 48) (i32.const 3)
          (i32.const 2) (i32.const 33)))))
      (if (i32.eq (local.get $case) (i32.const 17)) (then
        (return (call $open (call $preopen (i32.const 1)) (i32.const 0) (i32.const 8)
          (i32.const 0) (i32.const 2)))))
      (if (i32.eq (local.get $case) (i32.const 18)) (then
        (return (call $open (call $preopen (i32.const 1)) (i32.const 64) (i32.const 7)
          (i32.const 1) (i32.const 1)))))
      ;; 19-21: `get-flags` of a file opened read-write, of each preopen.
      (if (i32.eq (local.get $case) (i32.const 19)) (then
        (return (call $flags (call $file (i32.const 3))))))
      (if (i32.eq (local.get $case) (i32.const 20)) (then
        (return (call $flags (call $preopen (i32.const 0))))))
      (if (i32.eq (local.get $case) (i32.const 21)) (then
        (return (call $flags (call $preopen (i32.const 1))))))
      ;; 22: drops a descriptor while a stream made from it is alive (traps).
      (if (i32.eq (local.get $case) (i32.const 22)) (then
        (local.set $a (call $file (i32.const 1)))
        (call $rvs (local.get $a) (i64.const 0) (i32.const 512))
        (call $drop-d (local.get $a))
        (return (i64.const -1))))
      ;; 23: drops the stream, then the descriptor.
      (if (i32.eq (local.get $case) (i32.const 23)) (then
        (local.set $a (call $file (i32.const 1)))
        (call $rvs (local.get $a) (i64.const 0) (i32.const 512))
        (call $drop-in (i32.load (i32.const 516)))
        (call $drop-d (local.get $a))
        (return (call $own-result))))
      unreachable))
  (core instance $i (instantiate $impl
    (with "m" (instance $m))
    (with "fs" (instance
      (export "get-directories" (func $get-dirs))
      (export "open-at" (func $open-at))
      (export "read" (func $read))
      (export "write" (func $write))
      (export "read-directory" (func $read-dir))
      (export "readlink-at" (func $readlink))
      (export "is-same-object" (func $same))
      (export "read-via-stream" (func $rvs))
      (export "write-via-stream" (func $wvs))
      (export "get-flags" (func $get-flags))
      (export "drop-descriptor" (func $drop-d))
      (export "drop-input-stream" (func $drop-in))))))
  (func (export "run") (param "case" u32) (result s64)
    (canon lift (core func $i "run")))
)
"#;

/// `FS_GUEST`, compiled once per process.
fn fs_guest() -> Component {
    static ARTIFACT: OnceLock<Vec<u8>> = OnceLock::new();
    let artifact =
        ARTIFACT.get_or_init(|| aot_tests::compile(FS_GUEST).unwrap_or_else(|e| panic!("{e}")));
    aot_tests::load_component(artifact).unwrap()
}

/// A fresh instance of `FS_GUEST` with `tmp/rw` preopened read-write as `/data` and `tmp/ro`
/// read-only as `/ro`, each holding `file.txt` = "hello"; `tmp/rw` also holds `sub/`,
/// `rel-link` -> `file.txt` and `abs-link` -> the absolute path of its `file.txt`. Returns
/// what `run(case)` returns.
fn fs_case(tmp: &TempDir, case: u32) -> aot_runtime::Result<i64> {
    let (rw, ro) = (tmp.path().join("rw"), tmp.path().join("ro"));
    for dir in [&rw, &ro] {
        std::fs::create_dir(dir).unwrap();
        std::fs::write(dir.join("file.txt"), "hello").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
    }
    std::os::unix::fs::symlink("file.txt", rw.join("rel-link")).unwrap();
    std::os::unix::fs::symlink(rw.join("file.txt"), rw.join("abs-link")).unwrap();
    let ctx = WasiCtxBuilder::new()
        .preopened_dir(&rw, "/data", DirPerms::all(), FilePerms::all())
        .unwrap()
        .preopened_dir(&ro, "/ro", DirPerms::READ, FilePerms::READ)
        .unwrap()
        .build();
    let mut store = Store::new(ctx);
    let instance = linker().instantiate(&mut store, &fs_guest())?;
    let run = instance.get_typed_func::<(u32,), (i64,)>(&mut store, "run")?;
    Ok(run.call(&mut store, (case,))?.0)
}

/// Runs `case` of `FS_GUEST` in a fresh directory.
fn fs(case: u32) -> i64 {
    let tmp = TempDir::new();
    fs_case(&tmp, case).unwrap_or_else(|e| panic!("case {case}: {e}"))
}

/// 1000 + an `error-code` case, as `FS_GUEST` returns it.
const BAD_DESCRIPTOR: i64 = 1003;
const NOT_DIRECTORY: i64 = 1024;
const NOT_PERMITTED: i64 = 1031;

#[test]
fn preopens_are_new_handles_on_every_call() {
    assert_eq!(fs(0), 2);
    assert_eq!(fs(1), 1);
    // "/ro": 3 bytes, the second one 'r'.
    assert_eq!(fs(2), 3000 + i64::from(b'r'));
}

#[test]
fn descriptor_flags_gate_reads_and_writes() {
    assert_eq!(fs(3), BAD_DESCRIPTOR, "write on a read-only descriptor");
    assert_eq!(fs(4), BAD_DESCRIPTOR, "read on a write-only descriptor");
    assert_eq!(
        fs(9),
        BAD_DESCRIPTOR,
        "write-via-stream on a read-only descriptor"
    );
    assert_eq!(
        fs(10),
        BAD_DESCRIPTOR,
        "read-via-stream on a write-only descriptor"
    );
    // read + write = 3; the read-write preopen is read + mutate-directory = 33, the read-only
    // one read = 1.
    assert_eq!(fs(19), 3);
    assert_eq!(fs(20), 33);
    assert_eq!(fs(21), 1);
}

#[test]
fn files_and_directories_refuse_each_others_operations() {
    assert_eq!(fs(5), BAD_DESCRIPTOR, "read on a directory");
    assert_eq!(fs(6), NOT_DIRECTORY, "read-directory on a file");
}

#[test]
fn read_and_write_at_offsets() {
    assert_eq!(fs(7), 5000, "5 bytes, not at the end");
    assert_eq!(fs(8), 1, "0 bytes at the end");
    let tmp = TempDir::new();
    assert_eq!(fs_case(&tmp, 11).unwrap(), 2);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("rw/file.txt")).unwrap(),
        "HEllo"
    );
}

#[test]
fn same_object_and_links() {
    assert_eq!(fs(12), 1);
    assert_eq!(fs(13), 0);
    // "file.txt": 8 bytes, starting with 'f'.
    assert_eq!(fs(14), 8000 + i64::from(b'f'));
    assert_eq!(fs(15), NOT_PERMITTED, "readlink-at of an absolute link");
}

#[test]
fn read_only_preopen_refuses_mutation() {
    let tmp = TempDir::new();
    assert_eq!(fs_case(&tmp, 16).unwrap(), NOT_PERMITTED);
    assert_eq!(fs(17), NOT_PERMITTED);
    let tmp = TempDir::new();
    assert_eq!(fs_case(&tmp, 18).unwrap(), NOT_PERMITTED);
    assert_eq!(names(&tmp.path().join("ro")), ["file.txt", "sub"]);
}

#[test]
fn a_descriptor_outlives_its_streams() {
    let tmp = TempDir::new();
    let err = fs_case(&tmp, 22).unwrap_err();
    assert!(
        err.to_string().contains("children") || format!("{err:?}").contains("children"),
        "{err:?}"
    );
    assert_eq!(fs(23), 0);
}
