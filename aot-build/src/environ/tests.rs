//! Unit tests of the module environment: what each section becomes in `ModuleInfo`.

use super::*;

fn all() -> ConfigFeatures {
    ConfigFeatures {
        simd: true,
        tail_call: true,
        extended_const: true,
        multi_memory: true,
    }
}

fn parse_wat(wat: &str) -> Result<ModuleInfo, Error> {
    let wasm = wat::parse_str(wat).unwrap();
    parse(&wasm, &all()).map(|env| env.info)
}

#[test]
fn module_info_of_every_section() {
    let wasm = wat::parse_str(
        r#"(module $m
            (type $t (func (param i32) (result i32)))
            (import "env" "f" (func $f (type $t)))
            (import "env" "g" (global $g i32))
            (table 2 10 funcref)
            (memory 1 2)
            (global $h (mut i64) (i64.add (i64.const 1) (i64.const 2)))
            (func $id (export "id") (type $t) local.get 0)
            (func $other (param i32) (result i32) local.get 0)
            (elem (global.get $g) func $id)
            (elem declare func $other)
            (data (i32.const 8) "hello")
            (data "passive")
            (start $s)
            (func $s))"#,
    )
    .unwrap();
    let env = parse(&wasm, &all()).unwrap();
    let info = &env.info;
    assert_eq!(env.name_section_module_name.as_deref(), Some("m"));
    assert_eq!(info.types.len(), 2);
    assert_eq!(info.funcs.len(), 4);
    assert_eq!(info.num_imported.funcs, 1);
    assert_eq!(info.num_imported.globals, 1);
    assert_eq!(
        info.globals[1],
        GlobalType {
            content: ValType::I64,
            mutable: true
        }
    );
    assert_eq!(
        info.global_inits[0].0[..],
        [ConstOp::I64Const(1), ConstOp::I64Const(2), ConstOp::I64Add]
    );
    assert_eq!(
        info.tables[0].limits,
        Limits {
            min: 2,
            max: Some(10)
        }
    );
    assert_eq!(info.table_inits, [None]);
    assert_eq!(
        info.memories[0].limits,
        Limits {
            min: 1,
            max: Some(2)
        }
    );
    assert_eq!(info.exports[0].index, EntityIndex::Func(FuncIndex(1)));
    assert_eq!(info.start, Some(FuncIndex(3)));
    assert_eq!(info.elems.len(), 2);
    assert!(matches!(info.elems[1].kind, ElemKind::Declared));
    assert_eq!(env.data, b"hellopassive");
    assert_eq!((info.data[1].data_offset, info.data[1].data_len), (5, 7));
    assert_eq!(info.func_name(FuncIndex(1)), Some("id"));
    assert_eq!(env.bodies.len(), 3);
    assert_eq!(escaping_funcs(info), [true, true, true]);
}

#[test]
fn unused_functions_do_not_escape() {
    let info = parse_wat("(module (func) (func (export \"f\")))").unwrap();
    assert_eq!(escaping_funcs(&info), [false, true]);
}

#[test]
fn unsupported_proposals_are_named() {
    let err = parse_wat("(module (memory 1 1 shared))").unwrap_err();
    assert!(
        err.message().contains("unsupported proposal `threads`"),
        "{err}"
    );
    let err = parse_wat("(module (memory i64 1))").unwrap_err();
    assert!(
        err.message().contains("unsupported proposal `memory64`"),
        "{err}"
    );
    let wasm = wat::parse_str("(module (func (param v128)))").unwrap();
    let mut features = all();
    features.simd = false;
    let err = parse(&wasm, &features).err().unwrap();
    assert!(err.message().contains("Config::wasm_simd(true)"), "{err}");
}

#[test]
fn components_are_not_parsed_as_modules() {
    // `Config` sends components to `component::compile`; reaching this parser is a bug.
    let wasm = wat::parse_str("(component)").unwrap();
    let err = parse(&wasm, &all()).err().unwrap();
    assert!(err.message().contains("core module parser"), "{err}");
}

#[test]
fn offsets_are_shifted_by_the_base_offset() {
    let wasm = wat::parse_str("(module (func) (data \"x\"))").unwrap();
    let at_zero = parse(&wasm, &all()).unwrap();
    let shifted = parse_at(&wasm, 1000, &all()).unwrap();
    let start = |env: &ModuleEnvironment<'_>| env.bodies[0].body.range().start;
    assert_eq!(start(&shifted), start(&at_zero) + 1000);
    // Module-level validation errors are shifted too.
    let wasm = wat::parse_str("(module (func (export \"a\")) (export \"a\" (func 0)))").unwrap();
    let a = parse(&wasm, &all()).err().unwrap().offset().unwrap();
    let b = parse_at(&wasm, 1000, &all())
        .err()
        .unwrap()
        .offset()
        .unwrap();
    assert_eq!(b, a + 1000);
}

#[test]
fn leading_constant_element_segments_become_table_images() {
    let mut info = parse_wat(
        r#"(module
            (import "env" "t" (table 2 funcref))
            (import "env" "g" (global $g i32))
            (func $a) (func $b) (func $c)
            (table $t 8 funcref)
            (table $e 2 externref)
            (elem (table $t) (i32.const 1) func $a $b)
            (elem $p func $c)
            (elem (table $t) (i32.const 2) funcref (ref.null func) (ref.func $c))
            (elem (table $t) (global.get $g) func $a)
            (elem (table $t) (i32.const 6) func $c))"#,
    )
    .unwrap();
    // $b is overwritten in the image but was named by a segment: it escapes (`ref.func $b` is
    // valid), so this must be computed before the segments are emptied.
    assert_eq!(escaping_funcs(&info), [true, true, true]);
    preapply_elems(&mut info);
    let (a, c) = (Some(FuncIndex(0)), Some(FuncIndex(2)));
    // Both leading active segments are in the image (the second overwrites slot 2); the passive
    // one between them is kept; the `global.get` offset ends the run.
    assert_eq!(info.table_images.len(), 2);
    assert_eq!(info.table_images[0].0[..], [None, a, None, c]);
    assert!(info.table_images[1].0.is_empty());
    let kinds: Vec<_> = info
        .elems
        .iter()
        .map(|e| (e.kind.clone(), e.items.len()))
        .collect();
    assert!(matches!(kinds[0], (ElemKind::Declared, 0)));
    assert!(matches!(kinds[1], (ElemKind::Passive, 1)));
    assert!(matches!(kinds[2], (ElemKind::Declared, 0)));
    assert!(matches!(kinds[3], (ElemKind::Active { .. }, 1)));
    assert!(matches!(kinds[4], (ElemKind::Active { .. }, 1)));
}

#[test]
fn segments_that_could_trap_or_need_instantiation_are_left_alone() {
    for (why, wat) in [
        (
            "past the table",
            "(table 2 funcref) (elem (i32.const 1) func $a $a)",
        ),
        (
            "imported table",
            "(import \"e\" \"t\" (table 2 funcref)) (elem (i32.const 0) func $a)",
        ),
        (
            "non-constant offset",
            "(table 2 funcref) (elem (i32.add (i32.const 0) (i32.const 1)) func $a)",
        ),
    ] {
        let mut info = parse_wat(&format!("(module {wat} (func $a))")).unwrap();
        preapply_elems(&mut info);
        assert!(info.table_images.iter().all(|i| i.0.is_empty()), "{why}");
        assert!(
            matches!(info.elems[0].kind, ElemKind::Active { .. }),
            "{why}"
        );
    }
}
