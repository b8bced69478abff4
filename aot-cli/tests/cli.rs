//! The `aot` binary end to end: compile, inspect and run, on core modules and components, with the
//! exit codes and messages a user sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aot"))
        .args(args)
        .output()
        .expect("the aot binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const CALC: &str = r#"
(module $calc
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "swap") (param i64 f64) (result f64 i64) (local.get 1) (local.get 0))
  (func (export "half") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 0.5)))
  (func (export "nothing"))
  (func $fail (unreachable))
  (func (export "fail") (call $fail))
  (func (export "v") (result v128) (v128.const i64x2 1 2)))
"#;

#[test]
fn compile_then_inspect_then_run_a_core_module() {
    let dir = scratch("core");
    let wat = write(&dir, "calc.wat", CALC);
    let artifact = dir.join("calc.aot").to_string_lossy().into_owned();

    let out = aot(&["compile", &wat, "-o", &artifact, "-O", "s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&artifact).unwrap().starts_with(b"\x7fELF"));

    let out = aot(&["inspect", &artifact]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "kind:           core module",
        "settings:       opt_level=speed_and_size",
        ".text",
        ".aot.info",
        "calc::fail",
        "add: (func (param i32 i32) (result i32))",
        "memory: (memory 1)",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }

    // An artifact and the Wasm text give the same results.
    for input in [&artifact, &wat] {
        let out = aot(&["run", input, "--invoke", "add(40, 2)"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), "42\n");
    }
    let out = aot(&["run", &artifact, "--invoke", "swap(-5, 2.25)"]);
    assert_eq!(stdout(&out), "(2.25, -5)\n", "{}", stderr(&out));
    let out = aot(&["run", &artifact, "--invoke", "half(3)"]);
    assert_eq!(stdout(&out), "1.5\n", "{}", stderr(&out));
    let out = aot(&["run", &artifact, "--invoke", "nothing()"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
}

#[test]
fn failures_exit_non_zero_with_a_message() {
    let dir = scratch("failures");
    let wat = write(&dir, "calc.wat", CALC);

    // A trap: exit 1, the trap and a named backtrace on stderr.
    let out = aot(&["run", &wat, "--invoke", "fail()"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("wasm trap: unreachable"), "{err}");
    assert!(err.contains("calc::fail"), "{err}");

    // Unknown export, wrong arguments, unsupported value type, usage errors.
    let out = aot(&["run", &wat, "--invoke", "missing()"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no exported function `missing`"));
    let out = aot(&["run", &wat, "--invoke", "add(1)"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = aot(&["run", &wat, "--invoke", "v()"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("v128"), "{}", stderr(&out));
    let out = aot(&["run", &wat, "--invoke", "add"]);
    assert_eq!(out.status.code(), Some(2));
    let out = aot(&["run", &wat]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to run"));
    let out = aot(&["compile", &wat, "-o", "x", "-O", "9"]);
    assert_eq!(out.status.code(), Some(2));

    // A missing import is a link error naming it.
    let imports = write(
        &dir,
        "imports.wat",
        r#"(module (import "env" "tick" (func)) (func (export "f")))"#,
    );
    let out = aot(&["run", &imports, "--invoke", "f()"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("env::tick"), "{}", stderr(&out));

    // Invalid Wasm names the file.
    let bad = write(&dir, "bad.wat", "(module (func (result i32)))");
    let out = aot(&["compile", &bad, "-o", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.wat"), "{}", stderr(&out));
}

#[test]
fn damaged_artifacts_are_errors_never_signals() {
    let dir = scratch("damaged");
    let wat = write(&dir, "calc.wat", CALC);
    let artifact = dir.join("calc.aot");
    let out = aot(&["compile", &wat, "-o", &artifact.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&artifact).unwrap();
    let damaged = dir.join("damaged.aot");
    let damaged_str = damaged.to_string_lossy().into_owned();
    // Truncations and flipped bytes across the file: `inspect` and `run` exit 1 with a message.
    let mut cases: Vec<Vec<u8>> = [0, 4, 64, bytes.len() / 2, bytes.len() - 1]
        .iter()
        .map(|&n| bytes[..n].to_vec())
        .collect();
    for at in (0..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        cases.push(b);
    }
    for case in cases {
        std::fs::write(&damaged, &case).unwrap();
        for args in [
            vec!["inspect", &damaged_str],
            vec!["run", &damaged_str, "--invoke", "add(1, 2)"],
        ] {
            let out = aot(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
        }
    }
}

/// The repository's component fixtures.
fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/components")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

/// Runs `call` on `input` and returns stdout, asserting success.
fn run_ok(input: &str, call: &str) -> String {
    let out = aot(&["run", input, "--invoke", call]);
    assert!(out.status.success(), "{input}: {call}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn components_from_text_and_from_artifacts() {
    let strings = fixture("strings.wat");
    assert_eq!(
        run_ok(&strings, r#"echo-string("héllo, wörld ☃")"#),
        "\"héllo, wörld ☃\"\n"
    );
    assert_eq!(run_ok(&strings, r#"string-len("héllo")"#), "6\n");

    // Compile once, then inspect and run the artifact; interface functions by both spellings.
    let dir = scratch("components");
    let artifact = dir.join("nested.aot").to_string_lossy().into_owned();
    let out = aot(&["compile", &fixture("nested.wat"), "-o", &artifact]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = aot(&["inspect", &artifact]);
    let text = stdout(&out);
    for expected in [
        "kind:           component",
        "core modules (4):",
        "export test:demo/greeter@0.1.0: instance {",
        "greet: func(name: string) -> string",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    assert_eq!(
        run_ok(&artifact, r#"test:demo/greeter@0.1.0#greet("world")"#),
        "\"Hello, WORLD!\"\n"
    );
    assert_eq!(
        run_ok(&artifact, r#"test:demo/greeter.greet@0.1.0("wAsm ☃")"#),
        "\"Hello, WASM ☃!\"\n"
    );
    assert_eq!(run_ok(&artifact, "first#next()"), "1\n");
}

#[test]
fn components_built_by_wit_bindgen_and_clang() {
    let strings = fixture("c/strings/strings.wasm");
    let text = "test:strings/text@0.1.0";
    assert_eq!(
        run_ok(&strings, &format!(r#"{text}#upper("abc-xyz")"#)),
        "\"ABC-XYZ\"\n"
    );
    assert_eq!(
        run_ok(&strings, &format!(r#"{text}#split("a☃b☃☃c", '☃')"#)),
        "[\"a\", \"b\", \"\", \"c\"]\n"
    );
    assert_eq!(
        run_ok(&strings, &format!(r#"{text}#join(["x", "y", "z"], ", ")"#)),
        "\"x, y, z\"\n"
    );
    assert_eq!(
        run_ok(&strings, &format!(r#"{text}#count-chars("h€llo")"#)),
        "5\n"
    );
    assert_eq!(
        run_ok(&strings, &format!("{text}#reverse-bytes([1, 2, 255])")),
        "[255, 2, 1]\n"
    );

    let records = fixture("c/records/records.wasm");
    let shapes = "test:records/shapes@0.1.0";
    assert_eq!(
        run_ok(
            &records,
            &format!("{shapes}#area(rect({{x: 2.0, y: 3.5}}))")
        ),
        "7\n"
    );
    assert_eq!(run_ok(&records, &format!("{shapes}#area(empty)")), "0\n");
    assert_eq!(
        run_ok(
            &records,
            &format!("{shapes}#centroid([{{x: 1.0, y: 2.0}}, {{x: 3.0, y: 4.0}}])")
        ),
        "some({x: 2, y: 3})\n"
    );
    assert_eq!(
        run_ok(&records, &format!("{shapes}#centroid([])")),
        "none\n"
    );
    assert_eq!(
        run_ok(&records, &format!(r#"{shapes}#parse-color("blue")"#)),
        "ok(blue)\n"
    );
    assert_eq!(
        run_ok(&records, &format!(r#"{shapes}#parse-color("mauve")"#)),
        "err(\"unknown color\")\n"
    );
    assert_eq!(
        run_ok(
            &records,
            &format!("{shapes}#toggle-italic({{bold, italic}})")
        ),
        "{bold}\n"
    );
    assert_eq!(
        run_ok(&records, &format!("{shapes}#stats([3, -7, 12])")),
        "(-7, 12, 8)\n"
    );

    // The resources guest imports `host-log`, which `aot run` does not provide.
    let out = aot(&[
        "run",
        &fixture("c/resources/resources.wasm"),
        "--invoke",
        "test:resources/counters@0.1.0#live()",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("test:resources/host-log@0.1.0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn component_traps_print_a_named_backtrace() {
    let dir = scratch("component-trap");
    let wat = write(
        &dir,
        "trapper.wat",
        r#"(component $trapper
             (core module $m
               (func $deep (unreachable))
               (func (export "boom") (param i32) (result i32) (call $deep) (local.get 0)))
             (core instance $i (instantiate $m))
             (func (export "boom") (param "x" u32) (result u32)
               (canon lift (core func $i "boom"))))"#,
    );
    let out = aot(&["run", &wat, "--invoke", "boom(1)"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("wasm trap: unreachable"), "{err}");
    assert!(err.contains("deep"), "{err}");
    // A value of the wrong type is a usage error, before anything runs.
    let out = aot(&["run", &wat, "--invoke", r#"boom("x")"#]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn wasi_fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/wasi")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn wasi_commands_run_with_args_env_dirs_stdio_and_exit_codes() {
    // Components (WASI 0.2 through the preview-1 adapter) and core modules (preview 1).
    for flavour in ["p1", "p2"] {
        let demo = wasi_fixture(&format!("{flavour}/wasi-demo.wasm"));
        let out = aot(&["run", &wasi_fixture(&format!("{flavour}/hello.wasm"))]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        assert_eq!(stdout(&out), "Hello, world!\n", "{flavour}");

        let out = aot(&["run", &demo, "--", "args", "one", "two words"]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "argc=4\nargv[0]=wasi-demo.wasm\nargv[1]=args\nargv[2]=one\nargv[3]=two words\n",
            "{flavour}"
        );

        let out = aot(&[
            "run", "--env", "A=1", "--env", "B=x=y", &demo, "--", "env", "A", "B", "C",
        ]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "A=1\nB=x=y\nC unset\nenviron count=2\n",
            "{flavour}"
        );

        // A preopened directory, read and written by the guest; nothing else is reachable.
        let dir = scratch(&format!("wasi-dir-{flavour}"));
        let data = dir.join("data");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("input.txt"), "from the host\n").unwrap();
        let mapping = format!("{}::/data", data.display());
        let out = aot(&["run", "--dir", &mapping, &demo, "--", "files", "/data"]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("list: ok a.txt z.txt\n"), "{flavour}: {text}");
        assert!(
            text.contains("input.txt: ok\nfrom the host\n"),
            "{flavour}: {text}"
        );
        assert!(!text.contains("ALLOWED"), "{flavour}: {text}");
        let out = aot(&["run", &demo, "--", "files", "/data"]);
        assert_eq!(out.status.code(), Some(1), "{flavour}: no preopen");

        // Escapes through `..`, absolute paths and symbolic links are refused.
        let sandbox = dir.join("sandbox");
        let _ = std::fs::remove_dir_all(&sandbox);
        let inside = sandbox.join("data");
        std::fs::create_dir_all(inside.clone()).unwrap();
        std::fs::write(sandbox.join("outside.txt"), "secret").unwrap();
        std::fs::create_dir(sandbox.join("outside")).unwrap();
        std::fs::write(sandbox.join("outside/x"), "x").unwrap();
        std::os::unix::fs::symlink("../outside", inside.join("link-out")).unwrap();
        std::os::unix::fs::symlink(sandbox.join("outside.txt"), inside.join("abs-link")).unwrap();
        let mapping = format!("{}::/data", inside.display());
        let out = aot(&["run", "--dir", &mapping, &demo, "--", "escape", "/data"]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 12, "{flavour}: {text}");
        assert!(
            text.lines().all(|l| l.contains(": refused ")),
            "{flavour}: {text}"
        );
        assert_eq!(
            std::fs::read_to_string(sandbox.join("outside.txt")).unwrap(),
            "secret"
        );

        // Clocks and random from the host; stdin from the host's stdin.
        let out = aot(&["run", &demo, "--", "clocks"]);
        assert!(out.status.success(), "{flavour}: {}", stderr(&out));
        assert!(stdout(&out).starts_with("realtime: ok\nmonotonic: ok\nsleep: ok\n"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_aot"))
            .args(["run", &demo, "--", "stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(b"piped in").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{flavour}");
        assert_eq!(stdout(&out), "read 8 bytes\nPIPED IN", "{flavour}");

        // Exit codes: preview 1 passes any status; the preview-1 adapter maps a non-zero one
        // to `exit(err)`, status 1, as in Wasmtime.
        let out = aot(&["run", &demo, "--", "exit", "42"]);
        let expected = if flavour == "p1" { 42 } else { 1 };
        assert_eq!(out.status.code(), Some(expected), "{flavour}");
        assert_eq!(stderr(&out), "exiting with 42\n", "{flavour}");
    }

    // A module that is not a command needs --invoke.
    let dir = scratch("wasi-not-command");
    let wat = write(&dir, "lib.wat", "(module (func (export \"f\")))");
    let out = aot(&["run", &wat]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("exports no `_start`"),
        "{}",
        stderr(&out)
    );
    let out = aot(&["run", "--dir", "::x", &wat]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
