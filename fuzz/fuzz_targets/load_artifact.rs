//! Loading hostile artifacts: `Module::deserialize` on arbitrary and damaged bytes must return
//! (an `Err`, or a module for harmless damage), never panic or crash.
//!
//! The first input byte picks how the rest is used:
//! - `0`: the bytes as an artifact (almost always refused by the ELF parser or the checksum);
//! - `1`: the bytes as an artifact, resealed first (the checksum recomputed), so that the
//!   parsing and validation behind the checksum see them;
//! - `2..`: edits `(offset: u16 LE, value: u8)*` applied to a real artifact of a small module
//!   with memories, tables, globals, segments, imports and a start function, then resealed.
//!
//! Loading never runs code, so damaged code bytes are harmless here; modules that load are
//! dropped without being instantiated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const FIXTURE: &str = r#"(module
  (import "env" "f" (func $f (param i32)))
  (import "env" "g" (global $g i32))
  (memory (export "mem") 1 2)
  (table 4 funcref)
  (global $h (mut i64) (i64.const 7))
  (elem (i32.const 0) $a $b)
  (elem declare func $b)
  (data (i32.const 8) "hello")
  (data "passive")
  (func $a (export "a") (result i32) (i32.div_s (global.get $g) (i32.const 2)))
  (func $b (param i32) (call $f (local.get 0)))
  (func $s (global.set $h (i64.const 8)))
  (start $s))"#;

fn fixture() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| aot_tests::compile(FIXTURE).expect("the fixture compiles"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = match mode {
        0 => rest.to_vec(),
        1 => {
            let mut bytes = rest.to_vec();
            let _ = aot_runtime::artifact::read::seal_checksum(&mut bytes);
            bytes
        }
        _ => {
            let mut bytes = fixture().to_vec();
            for edit in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
                bytes[at] = edit[2];
            }
            let _ = aot_runtime::artifact::read::seal_checksum(&mut bytes);
            bytes
        }
    };
    let _ = aot_tests::load(&bytes);
});
