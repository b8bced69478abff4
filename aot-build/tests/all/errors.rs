//! Build errors: each names where the problem is (function, offset) and why, and unsupported
//! proposals are named.

use aot_build::{Config, Error, Phase};

fn compile_err(config: &Config, wat: &str) -> Error {
    match config.compile_bytes(wat.as_bytes()) {
        Ok(_) => panic!("compiled an invalid module: {wat}"),
        Err(e) => e,
    }
}

fn err(wat: &str) -> Error {
    compile_err(&Config::new(), wat)
}

#[test]
fn invalid_function_names_function_and_offset() {
    let wat = "(module (func) (func $bad (param i64) (result i32) local.get 0))";
    let e = err(wat);
    assert!(
        matches!(e.phase(), Phase::Translate | Phase::Validate),
        "{e}"
    );
    assert_eq!(e.func_index(), Some(1));
    assert_eq!(e.func_name(), Some("bad"));
    // The offset is the `end` of `$bad`, the last byte of the binary but the name section.
    let wasm = wat::parse_str(wat).unwrap();
    let offset = e.offset().expect("an offset") as usize;
    assert_eq!(wasm[offset], 0x0b, "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!(
            "failed to compile wasm module: function 1 (`bad`) at offset {offset:#x}: "
        )),
        "{shown}"
    );
    assert!(shown.contains("type mismatch"), "{shown}");
}

#[test]
fn malformed_binary() {
    let e = Config::new()
        .compile_bytes(b"\0asm\x01\0\0\0\x01\x05")
        .unwrap_err();
    assert_eq!(e.phase(), Phase::Parse);
    assert!(e.offset().is_some());
    assert!(e.to_string().contains("at offset 0x"), "{e}");
}

#[test]
fn wat_syntax_errors_keep_line_and_column() {
    let e = err("(module\n  (func (result i32)\n    i32.const nope))");
    assert_eq!(e.phase(), Phase::Parse);
    assert!(e.to_string().contains(":3:"), "{e}");
}

#[test]
fn unsupported_proposals_are_named() {
    for (wat, proposal) in [
        ("(module (memory 1 1 shared))", "threads"),
        ("(module (memory i64 1))", "memory64"),
        ("(module (tag))", "exceptions"),
        (
            "(module (func (param v128) (result v128) local.get 0 local.get 0 \
             local.get 0 f32x4.relaxed_madd))",
            "relaxed-simd",
        ),
    ] {
        let e = err(wat);
        assert!(
            e.message()
                .contains(&format!("unsupported proposal `{proposal}`")),
            "{wat}: {e}"
        );
    }
}

#[test]
fn disabled_proposals_say_how_to_enable_them() {
    let mut config = Config::new();
    config.wasm_simd(false).wasm_multi_memory(false);
    let e = compile_err(&config, "(module (global v128 (v128.const i64x2 0 0)))");
    assert!(e.message().contains("Config::wasm_simd(true)"), "{e}");
    let e = compile_err(&config, "(module (memory 1) (memory 1))");
    assert!(
        e.message().contains("Config::wasm_multi_memory(true)"),
        "{e}"
    );
}

#[test]
fn component_model_features_are_named() {
    let e = err("(component (import \"f\" (func async)))");
    assert!(
        e.message()
            .starts_with("unsupported component model feature `cm-async`"),
        "{e}"
    );
    assert!(e.offset().is_some(), "{e}");
}

#[test]
fn bad_configuration() {
    let mut config = Config::new();
    config.target("riscv64gc-unknown-linux-gnu");
    let e = compile_err(&config, "(module)");
    assert_eq!(e.phase(), Phase::Config);
    assert!(e.message().contains("unsupported target"), "{e}");

    let mut config = Config::new();
    config.target("not a triple");
    assert!(
        compile_err(&config, "(module)")
            .message()
            .contains("invalid target")
    );

    let mut config = Config::new();
    config
        .target("x86_64-unknown-linux-gnu")
        .cpu_features(&["neon"]);
    let e = compile_err(&config, "(module)");
    assert!(e.message().contains("unknown cpu feature `neon`"), "{e}");
}
