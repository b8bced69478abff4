//! Components end to end: component text -> `aot-build` -> one component artifact ->
//! `aot_runtime::component` (load, link, instantiate, typed and dynamic calls). One module per
//! topic; the shared fixtures are inline component text here and `tests/fixtures/components/`.

mod abi_roundtrip;
mod calls;
mod derive;
mod host_resources;
mod hostile_abi;
mod imports;
mod invoke;
mod load;
mod nested;
mod resources;
mod rules;

use aot_runtime::component::Component;

/// Compiles component text and loads the artifact.
///
/// # Panics
/// If compiling or loading fails.
fn component(wat: &str) -> Component {
    aot_tests::component(wat)
}

/// A component with one core module exporting functions over every scalar type, and a trapping
/// function for backtraces.
const SCALARS: &str = r#"
(component $scalars
  (core module $m
    (func $add (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "echo-i32") (param i32) (result i32) (local.get 0))
    (func (export "echo-i64") (param i64) (result i64) (local.get 0))
    (func (export "echo-f32") (param f32) (result f32) (local.get 0))
    (func (export "echo-f64") (param f64) (result f64) (local.get 0))
    (func (export "const-511") (result i32) (i32.const 511))
    (func (export "mix") (param i32 i32 i64 f32 f64 i32) (result f64)
      (f64.add
        (f64.add (f64.convert_i32_s (local.get 1)) (f64.convert_i64_s (local.get 2)))
        (f64.add (f64.promote_f32 (local.get 3)) (local.get 4))))
    (func $inner (param i32) (result i32)
      (if (i32.eqz (local.get 0)) (then unreachable))
      (local.get 0))
    (func $boom (export "boom") (param i32) (result i32)
      (call $inner (local.get 0))))
  (core instance $i (instantiate $m))
  (func $add (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "echo-bool") (param "x" bool) (result bool) (canon lift (core func $i "echo-i32")))
  (func (export "echo-s8") (param "x" s8) (result s8) (canon lift (core func $i "echo-i32")))
  (func (export "echo-u8") (param "x" u8) (result u8) (canon lift (core func $i "echo-i32")))
  (func (export "echo-s16") (param "x" s16) (result s16) (canon lift (core func $i "echo-i32")))
  (func (export "echo-u16") (param "x" u16) (result u16) (canon lift (core func $i "echo-i32")))
  (func (export "echo-s32") (param "x" s32) (result s32) (canon lift (core func $i "echo-i32")))
  (func (export "echo-u32") (param "x" u32) (result u32) (canon lift (core func $i "echo-i32")))
  (func (export "echo-s64") (param "x" s64) (result s64) (canon lift (core func $i "echo-i64")))
  (func (export "echo-u64") (param "x" u64) (result u64) (canon lift (core func $i "echo-i64")))
  (func (export "echo-f32") (param "x" f32) (result f32) (canon lift (core func $i "echo-f32")))
  (func (export "echo-f64") (param "x" f64) (result f64) (canon lift (core func $i "echo-f64")))
  (func (export "echo-char") (param "x" char) (result char) (canon lift (core func $i "echo-i32")))
  (func (export "wrap-u8") (result u8) (canon lift (core func $i "const-511")))
  (func (export "mix")
    (param "flag" bool) (param "a" s32) (param "b" s64) (param "c" f32) (param "d" f64)
    (param "e" char) (result f64)
    (canon lift (core func $i "mix")))
  (func (export "boom") (param "x" u32) (result u32) (canon lift (core func $i "boom")))
  (instance $math (export "add" (func $add)))
  (export "test:demo/math@0.2.1" (instance $math))
)
"#;
