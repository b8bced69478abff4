//! The C programs of `tests/fixtures/wasi/p1/` (hello and wasi-demo), their output asserted
//! line by line against tests/fixtures/wasi/README.md.

use super::*;

#[test]
fn c_hello() {
    let out = run(&fixture("hello"), WasiCtxBuilder::new().arg("hello"));
    assert_eq!(out.status, 0);
    assert_eq!(out.stdout, "Hello, world!\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn c_args() {
    let out = demo(&["args", "a", "b c"], &mut WasiCtxBuilder::new());
    assert_eq!(out.status, 0);
    assert_eq!(
        lines(&out.stdout),
        [
            "argc=4",
            "argv[0]=wasi-demo",
            "argv[1]=args",
            "argv[2]=a",
            "argv[3]=b c"
        ]
    );
}

#[test]
fn c_env() {
    let out = demo(
        &["env", "FOO", "EMPTY", "NOPE"],
        WasiCtxBuilder::new().env("FOO", "bar").env("EMPTY", ""),
    );
    assert_eq!(out.status, 0);
    assert_eq!(
        lines(&out.stdout),
        ["FOO=bar", "EMPTY=", "NOPE unset", "environ count=2"]
    );
}

#[test]
fn c_usage() {
    let out = demo(&["bogus"], &mut WasiCtxBuilder::new());
    assert_eq!(out.status, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        lines(&out.stderr),
        [
            "usage: wasi-demo <subcommand> [arguments]",
            "subcommands: args | env NAME... | files DIR | escape DIR | readonly DIR | clocks |",
            "             exit N | stdin | stderr"
        ]
    );
}

#[test]
fn c_files_in_a_read_write_preopen() {
    let tmp = TempDir::new();
    std::fs::write(tmp.path().join("input.txt"), "line one\nline two\n").unwrap();
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(tmp.path(), "/data", DirPerms::all(), FilePerms::all())
        .unwrap();
    let out = demo(&["files", "/data"], &mut builder);
    assert_eq!(out.stderr, "");
    let mut expected = FILES_STEPS.to_vec();
    expected.extend(["input.txt: ok", "line one", "line two"]);
    assert_eq!(lines(&out.stdout), expected);
    assert_eq!(out.status, 0);
    // The preopen is left as it was found.
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["input.txt"]);
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
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
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
        ]
    );
    assert_eq!(out.status, 0);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["input.txt"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("input.txt")).unwrap(),
        "read only\n"
    );
}

#[test]
fn c_clocks_with_host_clocks() {
    let out = demo(&["clocks"], &mut WasiCtxBuilder::new());
    let l = lines(&out.stdout);
    assert_eq!(
        l[..5],
        [
            "realtime: ok",
            "monotonic: ok",
            "sleep: ok",
            "resolution: ok",
            "random: ok"
        ]
    );
    assert!(
        l[5].starts_with("random-bytes=") && l[5].len() == 13 + 16,
        "{}",
        l[5]
    );
    assert_eq!(l.len(), 6);
    assert_eq!(out.status, 0);
}

#[test]
fn c_clocks_with_deterministic_sources() {
    // A wall clock in 2023, a monotonic clock jumping 20 ms per read (so the 10 ms sleep
    // "advances" it by at least 10 ms), and counting random bytes.
    let out = demo(
        &["clocks"],
        WasiCtxBuilder::new()
            .wall_clock(FixedWall(1_700_000_000))
            .monotonic_clock(SteppingClock {
                now: AtomicU64::new(0),
                step: 20_000_000,
            })
            .secure_random(Counting(0)),
    );
    assert_eq!(
        lines(&out.stdout),
        [
            "realtime: ok",
            "monotonic: ok",
            "sleep: ok",
            "resolution: ok",
            "random: ok",
            "random-bytes=0102030405060708"
        ]
    );
    assert_eq!(out.status, 0);
    // A wall clock in 1999 fails the guest's check: the replaced clock is what it reads.
    let out = demo(
        &["clocks"],
        WasiCtxBuilder::new().wall_clock(FixedWall(946_000_000)),
    );
    assert_eq!(lines(&out.stdout)[0], "realtime: FAIL");
    assert_eq!(out.status, 1);
}

#[test]
fn c_exit_codes() {
    for code in [0, 3, 255] {
        let out = demo(&["exit", &code.to_string()], &mut WasiCtxBuilder::new());
        assert_eq!(out.status, code);
        assert_eq!(out.stdout, "");
        assert_eq!(out.stderr, format!("exiting with {code}\n"));
    }
}

#[test]
fn c_stdin_from_a_pipe() {
    let out = demo(
        &["stdin"],
        WasiCtxBuilder::new().stdin(MemoryInputPipe::new("hi there\n")),
    );
    assert_eq!(out.stdout, "read 9 bytes\nHI THERE\n");
    assert_eq!(out.status, 0);
    // The default stdin is empty.
    let out = demo(&["stdin"], &mut WasiCtxBuilder::new());
    assert_eq!(out.stdout, "read 0 bytes\n");
}

#[test]
fn c_stderr_and_stdout_are_separate() {
    let out = demo(&["stderr"], &mut WasiCtxBuilder::new());
    assert_eq!(out.stdout, "to stdout\n");
    assert_eq!(out.stderr, "to stderr\n");
    assert_eq!(out.status, 0);
}
