//! Loading component artifacts: the wrong kind is refused both ways with the fix in the message,
//! a damaged artifact loads or is refused (never a crash), and reflection lists the root imports
//! and exports with WIT-like types.

use super::{SCALARS, component};
use aot_runtime::artifact::Kind;
use aot_runtime::artifact::read::seal_checksum;
use aot_runtime::component::{ComponentItemKind, Linker};
use aot_runtime::{ErrorKind, LoadError, Store};

/// The `LoadError` of `err`.
fn load_error(err: &aot_runtime::Error) -> &LoadError {
    match err.kind() {
        ErrorKind::Load(e) => e,
        _ => panic!("expected a load error, got: {err}"),
    }
}

#[test]
fn a_module_artifact_is_not_a_component() {
    let module = aot_tests::compile("(module (func (export \"f\")))").unwrap();
    let err = aot_tests::load_component(&module).unwrap_err();
    assert_eq!(
        load_error(&err),
        &LoadError::WrongKind {
            expected: Kind::Component,
            found: Kind::Module,
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("expected a component artifact but this artifact holds a core module"),
        "{msg}"
    );
    assert!(
        msg.ends_with("load it with Module::deserialize or include_module!"),
        "{msg}"
    );
}

#[test]
fn a_component_artifact_is_not_a_module() {
    let bytes = aot_tests::compile(SCALARS).unwrap();
    let err = aot_tests::load(&bytes).unwrap_err();
    assert_eq!(
        load_error(&err),
        &LoadError::WrongKind {
            expected: Kind::Module,
            found: Kind::Component,
        }
    );
    let msg = err.to_string();
    assert!(
        msg.ends_with("load it with Component::deserialize or include_component!"),
        "{msg}"
    );
    // The same bytes load as a component.
    let c = aot_tests::load_component(&bytes).unwrap();
    assert_eq!(c.name(), "scalars");
}

#[test]
fn reflection_of_exports() {
    let c = component(SCALARS);
    let mut exports: Vec<(String, ComponentItemKind)> = c
        .exports()
        .map(|(name, item)| (name.to_string(), item.kind()))
        .collect();
    exports.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(exports.len(), 17, "{exports:?}");
    assert_eq!(exports[0], ("add".to_string(), ComponentItemKind::Func));
    let (name, math) = c
        .exports()
        .find(|(_, item)| item.kind() == ComponentItemKind::Instance)
        .unwrap();
    assert_eq!(name, "test:demo/math@0.2.1");
    assert_eq!(
        math.to_string(),
        "instance { add: func(a: u32, b: u32) -> u32 }"
    );
    let (_, mix) = c.exports().find(|(n, _)| *n == "mix").unwrap();
    assert_eq!(
        mix.to_string(),
        "func(flag: bool, a: s32, b: s64, c: f32, d: f64, e: char) -> f64"
    );
    assert!(mix.func().is_some());
    assert_eq!(c.imports().len(), 0);
}

#[test]
fn one_component_instantiates_many_times_in_many_stores() {
    let c = component(SCALARS);
    for _ in 0..3 {
        let mut store = Store::new(());
        for i in 0..3u32 {
            let instance = Linker::new().instantiate(&mut store, &c).unwrap();
            let add = instance
                .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
                .unwrap();
            assert_eq!(add.call(&mut store, (i, 1)).unwrap(), (i + 1,));
        }
    }
    // `Component` is shareable across threads.
    let c2 = c.clone();
    std::thread::spawn(move || {
        let mut store = Store::new(());
        let instance = Linker::new().instantiate(&mut store, &c2).unwrap();
        let add = instance
            .get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")
            .unwrap();
        assert_eq!(add.call(&mut store, (2, 2)).unwrap(), (4,));
    })
    .join()
    .unwrap();
}

#[test]
fn every_single_byte_corruption_of_a_component_loads_or_is_refused() {
    let checked = aot_tests::load_component(&{
        let mut damaged = aot_tests::compile(SCALARS).unwrap();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        damaged
    });
    assert!(
        matches!(
            checked.map(drop).unwrap_err().kind(),
            ErrorKind::Load(LoadError::ChecksumMismatch { .. })
        ),
        "a damaged component is refused by its checksum"
    );
    let bytes = aot_tests::compile(SCALARS).unwrap();
    let mut refused = 0;
    for i in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x5a;
        // Any damage is caught by the checksum first; sealing it again reaches the structural
        // checks (ELF, record, sections, plan) this test is about.
        if seal_checksum(&mut damaged).is_err() {
            refused += 1;
            continue;
        }
        let outcome =
            std::panic::catch_unwind(|| aot_tests::load_component(&damaged).map(drop).is_err());
        match outcome {
            Ok(true) => refused += 1,
            Ok(false) => {}
            Err(_) => panic!("loading panicked with byte {i:#x} damaged"),
        }
    }
    // Code, symbols, names and padding are not interpreted by loading (most of a small
    // component); the header, compatibility record, section table and plan are, so a share of
    // the corruptions must be caught.
    assert!(
        refused > bytes.len() / 8,
        "only {refused} of {} corruptions refused",
        bytes.len()
    );
}
