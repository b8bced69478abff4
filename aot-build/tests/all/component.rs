//! Components: every fixture of `tests/fixtures/components` compiles into one component
//! artifact that the runtime's reader accepts, whose plan (`ComponentInfo`, postcard in
//! `.aot.info`) passes the loader's validation and says what the fixture does; output is
//! deterministic; every refused feature is named, with an offset.

use crate::{Aligned, host};
use aot_build::{Config, Error, Phase};
use aot_runtime::artifact::component::{
    Callee, ComponentInfo, CoreDef, Export, Initializer, IntrinsicKind, ItemType, LoweringIndex,
    ResourceDef, ResourceIndex, StringEncoding,
};
use aot_runtime::artifact::read::ArtifactRef;
use aot_runtime::artifact::{EntityIndex, Kind, LoadError};
use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/components")
}

/// The `.wat` files of a fixture directory, sorted.
fn wat_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    files
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

fn compile(bytes: &[u8]) -> Vec<u8> {
    Config::new()
        .compile_bytes(bytes)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Reads a component artifact back as the runtime does: ELF and compatibility record
/// (`Kind::Component`), plan decoded and validated, function table covered exactly.
fn load(artifact: &Aligned) -> (ArtifactRef<'_>, ComponentInfo) {
    let art = ArtifactRef::parse(artifact.bytes(), Kind::Component, &host())
        .unwrap_or_else(|e| panic!("{e}"));
    let info: ComponentInfo = postcard::from_bytes(art.info).unwrap();
    info.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.num_funcs(), Some(art.funcs.len()));
    (art, info)
}

fn compile_fixture(name: &str) -> (Aligned, ComponentInfo) {
    let artifact = Aligned::new(&compile(&read(name)));
    let (_, info) = load(&artifact);
    (artifact, info)
}

#[test]
fn every_fixture_compiles_and_round_trips() {
    let files = wat_files(&fixtures());
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let artifact = Aligned::new(&compile(&bytes));
        let (art, info) = load(&artifact);
        assert_eq!(art.compat.kind, Kind::Component, "{}", file.display());
        assert!(!info.modules.is_empty(), "{}", file.display());
        assert!(!info.exports.is_empty(), "{}", file.display());
        // A module artifact reader refuses it, naming the kind.
        let err = ArtifactRef::parse(artifact.bytes(), Kind::Module, &host()).unwrap_err();
        assert!(
            matches!(
                err,
                LoadError::WrongKind {
                    expected: Kind::Module,
                    found: Kind::Component
                }
            ),
            "{err}"
        );
        // Every function of every module has a symbol `<component>/<module>::<function>`, in
        // `.aot.funcs` order.
        let file = object::File::parse(artifact.bytes()).unwrap();
        let symbols: Vec<_> = file
            .symbols()
            .map(|s| s.name().unwrap().to_string())
            .collect();
        for (m, module) in info.modules.iter().enumerate() {
            assert!(
                module.info.name.starts_with(&format!("{}/", info.name)),
                "{}",
                module.info.name
            );
            for f in 0..module.info.num_defined_funcs() {
                let entry = art.funcs.get(module.first_func as usize + f);
                let symbol = file
                    .symbols()
                    .find(|s| s.address() == u64::from(entry.text_offset))
                    .unwrap_or_else(|| panic!("no symbol for module {m} function {f}"));
                assert!(
                    symbol
                        .name()
                        .unwrap()
                        .starts_with(&format!("{}::", module.info.name)),
                    "{symbols:?}"
                );
            }
        }
        // Text offsets ascend across modules, and so do wasm offsets (pre-order numbering).
        let offsets: Vec<_> = (0..art.funcs.len()).map(|i| art.funcs.get(i)).collect();
        assert!(
            offsets
                .windows(2)
                .all(|w| w[0].text_offset < w[1].text_offset)
        );
        assert!(
            offsets
                .windows(2)
                .all(|w| w[0].wasm_offset < w[1].wasm_offset)
        );
        assert!(
            offsets
                .iter()
                .all(|f| (f.wasm_offset as usize) < bytes.len() || bytes.starts_with(b"("))
        );
    }
}

#[test]
fn output_is_byte_identical_across_runs() {
    for file in wat_files(&fixtures()) {
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(compile(&bytes), compile(&bytes), "{}", file.display());
    }
}

#[test]
fn offsets_are_absolute_in_the_component_binary() {
    let wasm = wat::parse_bytes(&read("nested.wat")).unwrap().into_owned();
    let artifact = Aligned::new(&compile(&wasm));
    let (art, info) = load(&artifact);
    for i in 0..art.funcs.len() {
        let body = art.funcs.get(i).wasm_offset as usize;
        // A function body starts with its size (LEB128) then its locals; its offset lies
        // inside one of the module sections of the binary, past the component header.
        assert!(body > 8 && body < wasm.len(), "{body:#x}");
    }
    // Data segments are absolute in `.aot.data`: the greeter's "Hello, " is found there.
    let greeter = info
        .modules
        .iter()
        .find(|m| m.info.name.ends_with("/greeter"))
        .expect("a greeter module");
    let segment = &greeter.info.data[0];
    let start = segment.data_offset as usize;
    assert_eq!(
        &art.data[start..start + segment.data_len as usize],
        b"Hello, "
    );
}

#[test]
fn scalars_plan() {
    let (_, info) = compile_fixture("scalars.wat");
    assert_eq!(info.name, "scalars");
    assert_eq!(info.modules.len(), 1);
    assert_eq!(info.modules[0].info.name, "scalars/main");
    assert_eq!(info.initializers.len(), 1);
    assert_eq!(info.imports.len(), 1);
    assert_eq!(info.imports[0].name, "test:demo/host");
    let ItemType::Instance(host) = info.imports[0].ty else {
        panic!("{:?}", info.imports[0].ty)
    };
    let host = &info.types.instances[host.index()];
    assert_eq!(host.exports.len(), 1);
    assert_eq!(host.exports[0].0, "log");
    // `log` is lowered once, as a host import leaf `test:demo/host` / `log`.
    assert_eq!(info.lowerings.len(), 1);
    let Callee::Import(leaf) = info.lowerings[0].callee else {
        panic!("{:?}", info.lowerings[0].callee)
    };
    assert_eq!(
        &*info.runtime_imports[leaf.index()].path,
        ["log".to_string()]
    );
    assert_eq!(
        info.types.display_func(info.lowerings[0].ty).to_string(),
        "func(x: u32)"
    );
    let Initializer::InstantiateModule { args, .. } = &info.initializers[0];
    assert_eq!(&**args, [CoreDef::Lowered(LoweringIndex::new(0))]);
    let names: Vec<_> = info.exports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "add-u32");
    assert!(names.contains(&"echo-char") && names.contains(&"call-log"));
    let Export::LiftedFunc { ty, .. } = &info.exports[0].1 else {
        panic!()
    };
    assert_eq!(
        info.types.display_func(*ty).to_string(),
        "func(a: u32, b: u32) -> u32"
    );
}

#[test]
fn strings_plan() {
    let (_, info) = compile_fixture("strings.wat");
    let Export::LiftedFunc { ty, options, .. } = &info.exports[0].1 else {
        panic!()
    };
    assert_eq!(info.exports[0].0, "echo-string");
    assert_eq!(
        info.types.display_func(*ty).to_string(),
        "func(s: string) -> string"
    );
    let options = &info.options[options.index()];
    assert_eq!(options.string_encoding, StringEncoding::Utf8);
    assert!(options.memory.is_some());
    assert!(options.realloc.is_some());
    let Some(CoreDef::Export(post_return)) = options.post_return else {
        panic!("{options:?}")
    };
    // The post-return function takes the lifted function's flat result (the return area).
    let module = &info.modules[0].info;
    let EntityIndex::Func(f) = post_return.index else {
        panic!()
    };
    assert_eq!(module.func_type(f).to_string(), "(func (param i32))");
    // `string-len` has its own options (no post-return); equal options are shared.
    assert_eq!(info.options.len(), 3);
}

#[test]
fn nested_plan() {
    let (artifact, info) = compile_fixture("nested.wat");
    // Modules in binary pre-order: the counter's, the shouter's, then the greeter component's
    // two.
    let names: Vec<_> = info.modules.iter().map(|m| m.info.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nested/state",
            "nested/upper",
            "nested/heap",
            "nested/greeter"
        ]
    );
    // The counter's module is compiled once and instantiated twice (one component instance
    // each), then the shouter's, then the greeter component's heap and greeter: five steps.
    let steps: Vec<_> = info
        .initializers
        .iter()
        .map(
            |Initializer::InstantiateModule {
                 module, instance, ..
             }| { (module.index(), instance.index()) },
        )
        .collect();
    assert_eq!(steps, [(0, 1), (0, 2), (1, 3), (2, 4), (3, 4)]);
    // Component instances: the root and its four children.
    let instances: Vec<_> = info
        .component_instances
        .iter()
        .map(|c| (c.parent.map(|p| p.index()), c.name.as_str()))
        .collect();
    assert_eq!(
        instances,
        [
            (None, "root"),
            (Some(0), "root/first"),
            (Some(0), "root/second"),
            (Some(0), "root/shouter-instance"),
            (Some(0), "root/greeter-instance")
        ]
    );
    // One lowering: the shouter's lifted `shout` into the greeter's core instance (a
    // guest-to-guest adapter), with the heap's memory and realloc on the caller's side and the
    // shouter's own on the callee's.
    assert_eq!(info.lowerings.len(), 1);
    let lowering = &info.lowerings[0];
    assert_eq!(
        info.types.display_func(lowering.ty).to_string(),
        "func(s: string) -> string"
    );
    assert_eq!(lowering.core_type.to_string(), "(func (param i32 i32 i32))");
    let Callee::Lifted { func, options } = &lowering.callee else {
        panic!("{:?}", lowering.callee)
    };
    let CoreDef::Export(shout) = func else {
        panic!()
    };
    assert_eq!(shout.instance.index(), 2, "the shouter's core instance");
    let callee = &info.options[options.index()];
    assert_eq!(callee.instance.index(), 3);
    assert_eq!(callee.memory.unwrap().instance.index(), 2);
    let caller = &info.options[lowering.options.index()];
    assert_eq!(caller.instance.index(), 4);
    assert_eq!(caller.memory.unwrap().instance.index(), 3, "the heap");
    let Initializer::InstantiateModule { args, .. } = &info.initializers[4];
    assert_eq!(args.len(), 3);
    assert_eq!(args[2], CoreDef::Lowered(LoweringIndex::new(0)));
    // Exports: the two counter instances and the greeter interface.
    let exports: Vec<_> = info.exports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(exports, ["first", "second", "test:demo/greeter@0.1.0"]);
    let lifted_in = |export: &Export, name: &str| {
        let Export::Instance(items) = export else {
            panic!("{export:?}")
        };
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, name);
        let Export::LiftedFunc {
            func: CoreDef::Export(e),
            options,
            ..
        } = &items[0].1
        else {
            panic!()
        };
        (
            e.instance.index(),
            info.options[options.index()].instance.index(),
        )
    };
    assert_eq!(lifted_in(&info.exports[0].1, "next"), (0, 1));
    assert_eq!(lifted_in(&info.exports[1].1, "next"), (1, 2));
    assert_eq!(lifted_in(&info.exports[2].1, "greet"), (4, 4));
    assert!(info.imports.is_empty() && info.resources.is_empty());
    // One artifact: four modules' functions in one `.aot.funcs`.
    let (art, _) = load(&artifact);
    let total: usize = info
        .modules
        .iter()
        .map(|m| m.info.num_defined_funcs())
        .sum();
    assert_eq!(art.funcs.len(), total);
    assert_eq!(info.modules[1].first_func, 1);
}

#[test]
fn resources_plan() {
    let (_, info) = compile_fixture("resources.wat");
    assert_eq!(info.resources.len(), 1);
    let ResourceDef::Defined {
        instance,
        dtor: Some(CoreDef::Export(dtor)),
        name,
    } = &info.resources[0]
    else {
        panic!("{:?}", info.resources[0])
    };
    assert_eq!(instance.index(), 0);
    assert_eq!(
        dtor.instance.index(),
        0,
        "the state instance, created first"
    );
    assert_eq!(name, "counter");
    let kinds: Vec<_> = info.intrinsics.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            IntrinsicKind::ResourceNew,
            IntrinsicKind::ResourceRep,
            IntrinsicKind::ResourceDrop
        ]
    );
    let Initializer::InstantiateModule { args, .. } = &info.initializers[1];
    assert!(matches!(
        &args[1..],
        [
            CoreDef::Intrinsic(_),
            CoreDef::Intrinsic(_),
            CoreDef::Intrinsic(_)
        ]
    ));
    assert_eq!(
        info.exports[0],
        (
            "counter".to_string(),
            Export::Resource(ResourceIndex::new(0))
        )
    );
    let ctor = info
        .exports
        .iter()
        .find(|(n, _)| n == "[constructor]counter")
        .unwrap();
    let Export::LiftedFunc { ty, .. } = &ctor.1 else {
        panic!()
    };
    assert_eq!(
        info.types.display_func(*ty).to_string(),
        "func(start: u32) -> own<resource0>"
    );
    let merge = info
        .exports
        .iter()
        .find(|(n, _)| n == "[static]counter.merge")
        .unwrap();
    let Export::LiftedFunc { ty, .. } = &merge.1 else {
        panic!()
    };
    assert_eq!(
        info.types.display_func(*ty).to_string(),
        "func(a: own<resource0>, b: own<resource0>) -> own<resource0>"
    );
}

/// Each `errors/*.wat` states the error it must give (`;;! error "..."`); every one has an
/// offset.
#[test]
fn refused_features_are_named_with_an_offset() {
    let files = wat_files(&fixtures().join("errors"));
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix(";;! error \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{} has no `;;! error` line", file.display()));
        let e = match Config::new().compile_bytes(text.as_bytes()) {
            Ok(_) => panic!("{} compiled", file.display()),
            Err(e) => e,
        };
        assert!(
            e.message().contains(expected),
            "{}: expected `{expected}`, got `{e}`",
            file.display()
        );
        assert!(
            e.offset().is_some(),
            "{}: no offset in `{e}`",
            file.display()
        );
        assert!(
            matches!(e.phase(), Phase::Validate | Phase::Translate),
            "{}: {e}",
            file.display()
        );
    }
}

#[test]
fn an_invalid_core_module_names_module_function_and_offset() {
    let wasm = wat::parse_bytes(&read("errors/core-invalid.wat"))
        .unwrap()
        .into_owned();
    let e: Error = Config::new().compile_bytes(&wasm).unwrap_err();
    assert_eq!(e.func_index(), Some(1));
    assert_eq!(e.func_name(), Some("bad"));
    assert!(e.module().is_some_and(|m| m.ends_with("/broken")), "{e}");
    // The offset is absolute in the component: the `end` of `$bad`'s body.
    let offset = e.offset().unwrap() as usize;
    assert_eq!(wasm[offset], 0x0b, "{e}");
    assert!(e.to_string().contains("core module `"), "{e}");
}

#[test]
fn names_come_from_the_config_then_the_name_section() {
    let mut config = Config::new();
    config.module_name("app");
    let artifact = Aligned::new(&config.compile_bytes(&read("nested.wat")).unwrap());
    let (_, info) = load(&artifact);
    assert_eq!(info.name, "app");
    assert_eq!(info.modules[0].info.name, "app/state");
    // Without any name: `component`, modules numbered.
    let artifact = Aligned::new(&compile(
        b"(component (core module (func (export \"f\"))) (core instance (instantiate 0)) \
          (func (export \"f\") (canon lift (core func 0 \"f\"))))",
    ));
    let (_, info) = load(&artifact);
    assert_eq!(info.name, "component");
    assert_eq!(info.modules[0].info.name, "component/module0");
}

#[test]
fn an_empty_component_is_a_component_artifact() {
    let artifact = Aligned::new(&compile(b"(component)"));
    let (art, info) = load(&artifact);
    assert!(info.modules.is_empty() && info.exports.is_empty());
    assert_eq!(art.funcs.len(), 0);
}

#[test]
fn resource_import_plan() {
    let (_, info) = compile_fixture("resource-import.wat");
    // The imported resource first, then one `box` per instantiation of `$boxer`.
    assert_eq!(info.resources.len(), 3);
    let ResourceDef::Imported(leaf) = info.resources[0] else {
        panic!("{:?}", info.resources[0])
    };
    let leaf = &info.runtime_imports[leaf.index()];
    assert_eq!(info.imports[leaf.import.index()].name, "test:demo/host-res");
    assert_eq!(&*leaf.path, ["handle".to_string()]);
    for (r, instance) in [(1, 1), (2, 2)] {
        let ResourceDef::Defined {
            instance: i, name, ..
        } = &info.resources[r]
        else {
            panic!("{:?}", info.resources[r])
        };
        assert_eq!((i.index(), name.as_str()), (instance, "box"));
    }
    // Each instance lowers the host's method and has its own builtins: `resource.new` of its
    // own `box`, `resource.drop` of the imported `handle`.
    assert_eq!(info.lowerings.len(), 3);
    for lowering in &info.lowerings[..2] {
        assert!(matches!(lowering.callee, Callee::Import(_)));
        assert_eq!(
            info.types.display_func(lowering.ty).to_string(),
            "func(self: borrow<resource0>) -> u32"
        );
    }
    let intrinsics: Vec<_> = info
        .intrinsics
        .iter()
        .map(|i| (i.kind, i.resource.index(), i.instance.index()))
        .collect();
    assert_eq!(
        intrinsics,
        [
            (IntrinsicKind::ResourceNew, 1, 1),
            (IntrinsicKind::ResourceDrop, 0, 1),
            (IntrinsicKind::ResourceNew, 2, 2),
            (IntrinsicKind::ResourceDrop, 0, 2),
        ]
    );
    // The exported instances see their own `box`.
    let wrap_type = |export: &Export| {
        let Export::Instance(items) = export else {
            panic!("{export:?}")
        };
        let Export::Resource(r) = items[0].1 else {
            panic!("{items:?}")
        };
        let Export::LiftedFunc { ty, .. } = items[1].1 else {
            panic!("{items:?}")
        };
        (r.index(), info.types.display_func(ty).to_string())
    };
    assert_eq!(
        wrap_type(&info.exports[0].1),
        (1, "func(h: own<resource0>) -> own<resource1>".to_string())
    );
    assert_eq!(
        wrap_type(&info.exports[1].1),
        (2, "func(h: own<resource0>) -> own<resource2>".to_string())
    );
    // The root's view of the first instance's `box` is resource 1: the lowering of `wrap`
    // into the root and the re-lifted `wrap-first` have the same type.
    let lowering = &info.lowerings[2];
    let Callee::Lifted { .. } = lowering.callee else {
        panic!("{:?}", lowering.callee)
    };
    assert_eq!(
        info.types.display_func(lowering.ty).to_string(),
        "func(h: own<resource0>) -> own<resource1>"
    );
    let names: Vec<_> = info.exports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["first", "second", "box", "wrap-first"]);
    assert_eq!(info.exports[2].1, Export::Resource(ResourceIndex::new(1)));
    let Export::LiftedFunc { ty, .. } = info.exports[3].1 else {
        panic!()
    };
    assert_eq!(ty, lowering.ty);
    // Root import type: an instance with the resource and its method.
    let ItemType::Instance(host) = info.imports[0].ty else {
        panic!()
    };
    let host = &info.types.instances[host.index()];
    assert_eq!(
        host.exports[0],
        ("handle".into(), ItemType::Resource(ResourceIndex::new(0)))
    );
}

/// Types and exported instances nested deeper than the loader accepts are refused at build
/// time with an offset (by wasmparser, which has the same limit, or by the inliner).
#[test]
fn deep_nesting_is_refused() {
    let too_deep = |wat: String| {
        let e = Config::new().compile_bytes(wat.as_bytes()).unwrap_err();
        assert!(
            e.message().contains("nested deeper than 100 levels")
                || e.message().contains("type nesting is too deep"),
            "{e}"
        );
        assert!(e.offset().is_some(), "{e}");
    };
    let mut wat = String::from("(component (type $t0 (option u8))");
    for i in 1..=150 {
        wat.push_str(&format!("(type $t{i} (option $t{}))", i - 1));
    }
    wat.push_str("(import \"f\" (func (param \"x\" $t150))))");
    too_deep(wat);

    let mut wat = String::from("(component (instance $i0)");
    for i in 1..=150 {
        wat.push_str(&format!(
            "(instance $i{i} (export \"a\" (instance $i{})))",
            i - 1
        ));
    }
    wat.push_str("(export \"deep\" (instance $i150)))");
    too_deep(wat);
}

#[test]
fn outer_alias_plan() {
    let (_, info) = compile_fixture("outer-alias.wat");
    let names: Vec<_> = info.modules.iter().map(|m| m.info.name.as_str()).collect();
    assert_eq!(names, ["outer/adder", "outer/m"]);
    let instances: Vec<_> = info
        .component_instances
        .iter()
        .map(|c| (c.parent.map(|p| p.index()), c.name.as_str()))
        .collect();
    assert_eq!(
        instances,
        [
            (None, "root"),
            (Some(0), "root/mid"),
            (Some(1), "root/mid/in"),
            (Some(2), "root/mid/in/l")
        ]
    );
    // The aliased module is instantiated by `$inner`, the aliased component's module by the
    // `$leaf` instance.
    let steps: Vec<_> = info
        .initializers
        .iter()
        .map(
            |Initializer::InstantiateModule {
                 module, instance, ..
             }| { (module.index(), instance.index()) },
        )
        .collect();
    assert_eq!(steps, [(0, 2), (1, 3)]);
    let lifted_from = |i: usize| {
        let Export::LiftedFunc {
            func: CoreDef::Export(e),
            ..
        } = &info.exports[i].1
        else {
            panic!("{:?}", info.exports[i])
        };
        e.instance.index()
    };
    assert_eq!(info.exports[0].0, "add");
    assert_eq!(lifted_from(0), 0);
    assert_eq!(info.exports[1].0, "one");
    assert_eq!(lifted_from(1), 1);
}

/// Tables, globals and memories travel between core instances, directly or through a bag of
/// exports (`(core instance (export ..))`), and become plain core exports in the plan.
#[test]
fn core_items_pass_between_instances() {
    let wat = r#"
        (component
          (core module $a
            (table (export "t") 1 funcref)
            (global (export "g") (mut i32) (i32.const 7))
            (memory (export "m") 1)
            (func (export "f") (result i32) (i32.const 1)))
          (core module $b
            (import "x" "t" (table 1 funcref))
            (import "x" "g" (global (mut i32)))
            (import "y" "m" (memory 1))
            (import "y" "f" (func (result i32)))
            (func (export "get") (result i32) (global.get 0)))
          (core instance $ia (instantiate $a))
          (alias core export $ia "t" (core table $t))
          (alias core export $ia "g" (core global $g))
          (alias core export $ia "m" (core memory $m))
          (alias core export $ia "f" (core func $f))
          (core instance $bag (export "t" (table $t)) (export "g" (global $g)))
          (core instance $bag2 (export "m" (memory $m)) (export "f" (func $f)))
          (core instance $ib (instantiate $b (with "x" (instance $bag)) (with "y" (instance $bag2))))
          (func (export "get") (result s32) (canon lift (core func $ib "get"))))
    "#;
    let artifact = Aligned::new(&compile(wat.as_bytes()));
    let (_, info) = load(&artifact);
    assert_eq!(info.initializers.len(), 2);
    let Initializer::InstantiateModule { args, .. } = &info.initializers[1];
    let kinds: Vec<_> = args
        .iter()
        .map(|arg| match arg {
            CoreDef::Export(e) => (e.instance.index(), e.index),
            other => panic!("{other:?}"),
        })
        .collect();
    use aot_runtime::artifact::{FuncIndex, GlobalIndex, MemoryIndex, TableIndex};
    assert_eq!(
        kinds,
        [
            (0, EntityIndex::Table(TableIndex::new(0))),
            (0, EntityIndex::Global(GlobalIndex::new(0))),
            (0, EntityIndex::Memory(MemoryIndex::new(0))),
            (0, EntityIndex::Func(FuncIndex::new(0))),
        ]
    );
}
