//! Differential fuzzing against wasmi: libFuzzer's bytes shape a `wasm-smith` module (every
//! proposal aot-build supports), which aot-build compiles and both engines run; any difference in
//! results, traps or exported state is a crash with the module's WAT in the message.
//!
//! The logic is `differential::run_input` (`tests/shared/differential.rs`), the same the seeded smoke test of
//! `tests/tests/differential.rs` calls, so a crash input replays there too (see the README of
//! this directory).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/shared/differential.rs"]
mod differential;

fuzz_target!(|data: &[u8]| {
    if let Err(divergence) = differential::run_input(data) {
        panic!("divergence: {divergence}\n{}", divergence.wat());
    }
});
