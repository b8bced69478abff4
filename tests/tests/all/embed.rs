//! `include_module!` end to end: `build.rs` compiles `fixtures/*.wat` with `aot_build::compile`,
//! the macro embeds the artifacts, and they load and run with `Module::from_embedded`.

use aot_runtime::{
    EmbeddedModule, ExternType, Global, GlobalType, Instance, Linker, Module, Mutability, Store,
    Val, ValType, include_module,
};
use std::path::Path;

static FIB: EmbeddedModule = include_module!("fixtures/fib.wat");
static HOST: EmbeddedModule = include_module!("fixtures/host.wat");

#[test]
fn embedded_module_runs() {
    let module = Module::from_embedded(&FIB).unwrap();
    assert_eq!(module.name(), "fib");
    assert_eq!(module.imports().len(), 0);
    let mut store = Store::new(());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
    let sum_to = instance
        .get_typed_func::<i64, i64>(&mut store, "sum_to")
        .unwrap();
    assert_eq!(sum_to.call(&mut store, 100_000).unwrap(), 5_000_050_000);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&memory.data(&store)[16..36], b"hello from a fixture");
}

#[test]
fn embedded_bytes_are_the_aligned_artifact_of_build_rs() {
    assert_eq!(FIB.bytes().as_ptr() as usize % 16, 0);
    assert_eq!(HOST.bytes().as_ptr() as usize % 16, 0);
    // The macro found the file `aot_build::compile` wrote: both sides compute the same path.
    let path = aot_build::artifact_path(Path::new(env!("OUT_DIR")), Path::new("fixtures/fib.wat"));
    assert_eq!(FIB.bytes(), std::fs::read(path).unwrap());
}

#[test]
fn embedded_module_with_imports_runs_through_a_linker() {
    let module = Module::from_embedded(&HOST).unwrap();
    let imports: Vec<(String, String, ExternType)> = module
        .imports()
        .map(|i| (i.module().to_owned(), i.name().to_owned(), i.ty()))
        .collect();
    assert_eq!(imports.len(), 2);
    assert_eq!(
        (imports[0].0.as_str(), imports[0].1.as_str()),
        ("host", "scale")
    );
    match &imports[0].2 {
        ExternType::Func(ty) => {
            assert_eq!(ty.params().collect::<Vec<_>>(), [ValType::I32]);
            assert_eq!(ty.results().collect::<Vec<_>>(), [ValType::I32]);
        }
        other => panic!("expected a function import, got {other:?}"),
    }
    assert!(matches!(&imports[1].2, ExternType::Global(g) if g.content() == ValType::I32));
    let exports: Vec<String> = module.exports().map(|e| e.name().to_owned()).collect();
    assert_eq!(exports, ["run"]);

    let mut store = Store::new(());
    let mut linker = Linker::new();
    linker.func_wrap("host", "scale", |x: i32| x * 3).unwrap();
    let offset = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(7),
    )
    .unwrap();
    linker.define(&store, "host", "offset", offset).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 5).unwrap(), 22);
}
