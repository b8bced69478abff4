//! Bad Wasm at build time: every class of invalid or malformed input (truncated binaries, damaged
//! bytes, malformed sections, type errors, unsupported proposals) gives an `Err` that says where
//! (byte offset, and the function when the problem is in a body) and why, never a panic.
//!
//! `tests/all/errors.rs` checks the error format on one example of each kind; this file sweeps
//! the classes systematically.

use aot_build::{Config, Error, Phase};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A module with every section kind, so that truncations and damage hit each of them.
const RICH: &str = r#"(module $rich
  (type $t (func (param i32) (result i32)))
  (import "env" "f" (func $f (param i32)))
  (import "env" "g" (global $g i32))
  (memory (export "mem") 1 2)
  (table $tab 4 funcref)
  (global $h (mut i64) (i64.const 7))
  (export "a" (func $a))
  (start $s)
  (elem (i32.const 0) $a $b)
  (elem $p funcref (ref.func $a))
  (data (i32.const 8) "hello")
  (data $pd "passive")
  (func $a (type $t) (i32.div_s (local.get 0) (global.get $g)))
  (func $b (param i32) (result i32)
    (call $f (local.get 0))
    (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func $s (global.set $h (i64.const 8)))
  (func $simd (param v128) (result v128) (i32x4.add (local.get 0) (local.get 0))))"#;

/// Compiles `bytes`, turning a panic into a test failure that names `case`.
fn compile(bytes: &[u8], case: &str) -> Result<Vec<u8>, Error> {
    catch_unwind(AssertUnwindSafe(|| Config::new().compile_bytes(bytes))).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("{case}: the compiler panicked: {msg}")
    })
}

/// Checks what every error on a binary input must carry: a parse or validation phase, an offset
/// inside the input (or at its end, for a truncation), and a message naming it.
fn check_binary_error(e: &Error, len: usize, case: &str) {
    assert!(
        matches!(e.phase(), Phase::Parse | Phase::Validate | Phase::Translate),
        "{case}: phase {:?}: {e}",
        e.phase()
    );
    let offset = e
        .offset()
        .unwrap_or_else(|| panic!("{case}: no offset: {e}"));
    assert!(
        offset as usize <= len,
        "{case}: offset {offset:#x} past the end {len:#x}: {e}"
    );
    assert!(
        e.to_string().contains(&format!("offset {offset:#x}")),
        "{case}: {e}"
    );
    assert!(!e.message().is_empty(), "{case}");
}

#[test]
fn every_truncation_of_a_binary_is_refused_with_an_offset() {
    let wasm = wat::parse_str(RICH).unwrap();
    compile(&wasm, "the whole module").unwrap();
    let mut refused = 0;
    for len in 8..wasm.len() {
        let case = format!("truncated to {len} of {} bytes", wasm.len());
        match compile(&wasm[..len], &case) {
            Err(e) => {
                check_binary_error(&e, len, &case);
                refused += 1;
            }
            // A cut exactly between two sections leaves a shorter valid module, as long as no
            // declared function lost its body.
            Ok(_) => assert!(
                wasmparser::validate(&wasm[..len]).is_ok(),
                "{case}: compiled an invalid module"
            ),
        }
    }
    // Shorter than the 8-byte header: not a binary, so read as (invalid) text.
    for len in 0..8 {
        let e = compile(&wasm[..len], "header").unwrap_err();
        assert_eq!(e.phase(), Phase::Parse, "{len}: {e}");
    }
    assert!(refused > wasm.len() * 9 / 10, "only {refused} refused");
}

#[test]
fn every_damaged_byte_is_refused_or_compiles_never_panics() {
    let wasm = wat::parse_str(RICH).unwrap();
    let (mut refused, mut compiled) = (0, 0);
    for i in 8..wasm.len() {
        for value in [wasm[i] ^ 0x01, wasm[i] ^ 0x80, 0xff, 0x00] {
            if value == wasm[i] {
                continue;
            }
            let mut damaged = wasm.clone();
            damaged[i] = value;
            let case = format!("byte {i:#x} set to {value:#04x}");
            match compile(&damaged, &case) {
                Err(e) => {
                    check_binary_error(&e, damaged.len(), &case);
                    refused += 1;
                }
                Ok(_) => {
                    // Only if it is still valid Wasm (a changed constant, name, limit...).
                    assert!(
                        wasmparser::validate(&damaged).is_ok(),
                        "{case}: compiled an invalid module"
                    );
                    compiled += 1;
                }
            }
        }
    }
    println!("bad input: {refused} damaged binaries refused, {compiled} still valid and compiled");
}

/// A module binary: the header and the given sections, `(id, contents)`.
fn module(sections: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    for (id, contents) in sections {
        out.push(*id);
        out.push(u8::try_from(contents.len()).unwrap());
        out.extend_from_slice(contents);
    }
    out
}

#[test]
fn malformed_sections_are_named() {
    let ty: &[u8] = &[1, 0x60, 0, 0]; // one type: [] -> []
    let func: &[u8] = &[1, 0]; // one function of type 0
    let code: &[u8] = &[1, 2, 0, 0x0b]; // one body: no locals, `end`
    // Without the magic the input is read as text, and the error has a line and column.
    let e = compile(b"\0asn\x01\0\0\0", "bad magic").unwrap_err();
    assert_eq!(e.phase(), Phase::Parse);
    assert!(e.message().contains("1:1"), "{e}");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad version", b"\0asm\x02\0\0\0".to_vec(), "version"),
        (
            "unknown section id",
            module(&[(14, &[0])]),
            "malformed section id",
        ),
        (
            "section longer than the input",
            {
                let mut m = module(&[(1, ty)]);
                m[9] = 50;
                m
            },
            "unexpected end",
        ),
        (
            "sections out of order",
            module(&[(5, &[1, 0, 1]), (4, &[1, 0x70, 0, 1])]),
            "out of order",
        ),
        (
            "duplicate section",
            module(&[(1, ty), (1, ty)]),
            "out of order",
        ),
        (
            "functions without bodies",
            module(&[(1, ty), (3, func)]),
            "code section is absent",
        ),
        (
            "bodies without functions",
            module(&[(1, ty), (10, code)]),
            "function section is absent",
        ),
        (
            "function of a missing type",
            module(&[(1, ty), (3, &[1, 5]), (10, code)]),
            "type index out of bounds",
        ),
        (
            "bad value type",
            module(&[(1, &[1, 0x60, 1, 0x42, 0])]),
            "invalid value type",
        ),
        (
            "body size beyond the section",
            module(&[(1, ty), (3, func), (10, &[1, 9, 0, 0x0b])]),
            "unexpected end",
        ),
        (
            "body without `end`",
            module(&[(1, ty), (3, func), (10, &[1, 1, 0])]),
            "control frames remain",
        ),
        (
            "export name not UTF-8",
            module(&[(1, ty), (3, func), (7, &[1, 1, 0xff, 0, 0]), (10, code)]),
            "utf-8",
        ),
        (
            "duplicate export",
            module(&[
                (1, ty),
                (3, func),
                (7, &[2, 1, b'a', 0, 0, 1, b'a', 0, 0]),
                (10, code),
            ]),
            "duplicate export",
        ),
        (
            "LEB128 too long",
            module(&[(1, &[0x81, 0x80, 0x80, 0x80, 0x80, 0x00])]),
            "too long",
        ),
        (
            "data count mismatch",
            module(&[(12, &[2]), (11, &[1, 1, 0])]),
            "data count and data section have inconsistent lengths",
        ),
        (
            "memory of more than 4 GiB",
            module(&[(5, &[1, 0, 0x81, 0x80, 0x04])]),
            "memory size",
        ),
        (
            "trailing bytes after a section",
            module(&[(1, &[0, 0])]),
            "unexpected data at the end of the section",
        ),
    ];
    for (what, bytes, expect) in cases {
        let e = compile(&bytes, what).expect_err(what);
        check_binary_error(&e, bytes.len(), what);
        assert!(
            e.message().to_lowercase().contains(expect),
            "{what}: expected `{expect}` in: {e}"
        );
    }
}

#[test]
fn type_errors_name_the_function_and_the_offset() {
    // (body of function 1, what the message must say)
    let cases = [
        ("i32.const 1 f32.const 2 i32.add drop", "type mismatch"),
        ("i32.add drop", "type mismatch"),
        ("br 3", "unknown label"),
        ("call 9", "unknown function"),
        ("global.set 0", "global is immutable"),
        ("local.get 5 drop", "unknown local"),
        ("i32.const 0 i32.load drop", "unknown memory"),
        ("i32.const 0 call_indirect (type 0)", "unknown table"),
        ("block (result i32) end drop", "type mismatch"),
        ("i32.const 1", "type mismatch"),
        ("unreachable i32.const 0 if end i64.add", "type mismatch"),
    ];
    for (body, expect) in cases {
        let wat = format!("(module (global i32 (i32.const 0)) (func) (func $bad {body}) (func))");
        let wasm = wat::parse_str(&wat).unwrap();
        let e = compile(&wasm, body).expect_err(body);
        check_binary_error(&e, wasm.len(), body);
        assert_eq!(e.func_index(), Some(1), "{body}: {e}");
        assert_eq!(e.func_name(), Some("bad"), "{body}: {e}");
        assert!(
            e.message().contains(expect),
            "{body}: expected `{expect}` in: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("failed to compile wasm module: function 1 (`bad`) at offset 0x"),
            "{e}"
        );
    }
}

#[test]
fn every_unsupported_proposal_is_named() {
    // Proposals beyond WebAssembly 2.0 + SIMD + tail calls + extended-const + multi-memory,
    // in module-level and in instruction form.
    let cases = [
        ("(module (memory 1 1 shared))", "threads"),
        (
            "(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))",
            "threads",
        ),
        ("(module (memory i64 1))", "memory64"),
        ("(module (tag))", "exceptions"),
        ("(module (func (try_table)))", "exceptions"),
        ("(module (type (struct)))", "gc"),
        (
            "(module (type $t (func)) (func (param (ref $t))))",
            "function-references",
        ),
        (
            "(module (func (param v128) (result v128) local.get 0 local.get 0 local.get 0 \
             f32x4.relaxed_madd))",
            "relaxed-simd",
        ),
        (
            "(module (func (param i64 i64 i64 i64) (result i64 i64) local.get 0 local.get 1 \
             local.get 2 local.get 3 i64.add128))",
            "wide-arithmetic",
        ),
        ("(module (memory 1 (pagesize 1)))", "custom-page-sizes"),
    ];
    for (wat, proposal) in cases {
        let e = compile(wat.as_bytes(), wat).expect_err(wat);
        assert!(
            e.message().contains(&format!("proposal `{proposal}`")),
            "{wat}: expected proposal `{proposal}` in: {e}"
        );
        assert!(e.offset().is_some(), "{wat}: {e}");
    }
}

#[test]
fn names_with_nul_bytes_compile() {
    // Wasm names may hold any UTF-8, NUL included; ELF symbol names cannot (the object writer
    // used to panic on them; found by the damaged-byte sweep above).
    for wat in [
        r#"(module (func $"a\00b" (export "x\00y")))"#,
        r#"(module (func (export "x\00y")))"#,
    ] {
        let artifact = compile(wat.as_bytes(), wat).unwrap_or_else(|e| panic!("{wat}: {e}"));
        assert!(!artifact.is_empty());
    }
}
