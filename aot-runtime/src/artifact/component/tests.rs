//! Unit tests of the component vocabulary: type interning, display and validation, and the plan
//! validator on a small but complete plan (two core modules, a host import lowered with
//! options, a lifted export with post-return, a resource with a destructor), mutated one field
//! at a time.

use super::*;
use crate::artifact::index::{FuncIndex, MemoryIndex, TypeIndex};
use crate::artifact::module::{Export as CoreModuleExport, Import, ImportCounts};
use crate::artifact::types::{Limits, MemoryType};
use alloc::string::ToString;

fn i32s(n: usize) -> Vec<ValType> {
    vec![ValType::I32; n]
}

fn func_ty(params: usize, results: usize) -> FuncType {
    FuncType::new(i32s(params), i32s(results))
}

fn export(name: &str, index: EntityIndex) -> CoreModuleExport {
    CoreModuleExport {
        name: name.into(),
        index,
    }
}

fn core_func(instance: u32, func: u32) -> CoreDef {
    CoreDef::Export(CoreExport {
        instance: RuntimeInstanceIndex(instance),
        index: EntityIndex::Func(FuncIndex(func)),
    })
}

/// Module 0 (`libc`): a memory and `realloc`. Module 1 (`main`): imports `host.log` and
/// `env.memory`; defines `greet`, `post-greet`, `dtor`; re-exports the memory.
fn modules() -> Vec<StaticModule> {
    let memory = MemoryType {
        limits: Limits { min: 1, max: None },
    };
    let libc = ModuleInfo {
        name: "greeter/libc".into(),
        types: vec![func_ty(4, 1)],
        funcs: vec![TypeIndex(0)],
        memories: vec![memory],
        exports: vec![
            export("memory", EntityIndex::Memory(MemoryIndex(0))),
            export("realloc", EntityIndex::Func(FuncIndex(0))),
        ],
        ..ModuleInfo::default()
    };
    let main = ModuleInfo {
        name: "greeter/main".into(),
        types: vec![func_ty(2, 0), func_ty(2, 1), func_ty(1, 0)],
        funcs: vec![TypeIndex(0), TypeIndex(1), TypeIndex(2), TypeIndex(2)],
        memories: vec![memory],
        num_imported: ImportCounts {
            funcs: 1,
            memories: 1,
            ..ImportCounts::default()
        },
        imports: vec![
            Import {
                module: "host".into(),
                name: "log".into(),
                index: EntityIndex::Func(FuncIndex(0)),
            },
            Import {
                module: "env".into(),
                name: "memory".into(),
                index: EntityIndex::Memory(MemoryIndex(0)),
            },
        ],
        exports: vec![
            export("greet", EntityIndex::Func(FuncIndex(1))),
            export("post-greet", EntityIndex::Func(FuncIndex(2))),
            export("dtor", EntityIndex::Func(FuncIndex(3))),
            export("memory", EntityIndex::Memory(MemoryIndex(0))),
        ],
        ..ModuleInfo::default()
    };
    vec![
        StaticModule {
            info: libc,
            first_func: 0,
        },
        StaticModule {
            info: main,
            first_func: 1,
        },
    ]
}

/// The plan of a component that imports `test:demo/host@0.1.0#log: func(msg: string)` and
/// exports `test:demo/greeter@0.1.0#greet: func(name: string) -> string` and a resource.
fn greeter() -> ComponentInfo {
    let mut b = ComponentTypesBuilder::new();
    let log = b.func(Box::new([("msg".into(), InterfaceType::String)]), None);
    let greet = b.func(
        Box::new([("name".into(), InterfaceType::String)]),
        Some(InterfaceType::String),
    );
    let host = b.instance(vec![("log".into(), ItemType::Func(log))]);
    let memory = CoreExport {
        instance: RuntimeInstanceIndex(0),
        index: MemoryIndex(0),
    };
    let options = |post_return| CanonicalOptions {
        instance: RuntimeComponentInstanceIndex(0),
        string_encoding: StringEncoding::Utf8,
        memory: Some(memory),
        realloc: Some(core_func(0, 0)),
        post_return,
    };
    ComponentInfo {
        name: "greeter".into(),
        modules: modules(),
        types: b.finish(),
        imports: vec![ComponentImport {
            name: "test:demo/host@0.1.0".into(),
            ty: ItemType::Instance(host),
        }],
        runtime_imports: vec![RuntimeImport {
            import: ImportIndex(0),
            path: Box::new(["log".into()]),
        }],
        component_instances: vec![ComponentInstanceInfo {
            parent: None,
            name: "root".into(),
        }],
        resources: vec![ResourceDef::Defined {
            instance: RuntimeComponentInstanceIndex(0),
            dtor: Some(core_func(1, 3)),
            name: "counter".into(),
        }],
        options: vec![options(None), options(Some(core_func(1, 2)))],
        lowerings: vec![Lowering {
            ty: log,
            options: OptionsIndex(0),
            core_type: func_ty(2, 0),
            callee: Callee::Import(RuntimeImportIndex(0)),
        }],
        intrinsics: vec![Intrinsic {
            kind: IntrinsicKind::ResourceNew,
            resource: ResourceIndex(0),
            instance: RuntimeComponentInstanceIndex(0),
        }],
        initializers: vec![
            Initializer::InstantiateModule {
                module: StaticModuleIndex(0),
                args: Box::new([]),
                instance: RuntimeComponentInstanceIndex(0),
            },
            Initializer::InstantiateModule {
                module: StaticModuleIndex(1),
                args: Box::new([
                    CoreDef::Lowered(LoweringIndex(0)),
                    CoreDef::Export(CoreExport {
                        instance: RuntimeInstanceIndex(0),
                        index: EntityIndex::Memory(MemoryIndex(0)),
                    }),
                ]),
                instance: RuntimeComponentInstanceIndex(0),
            },
        ],
        exports: vec![
            (
                "test:demo/greeter@0.1.0".into(),
                Export::Instance(vec![(
                    "greet".into(),
                    Export::LiftedFunc {
                        ty: greet,
                        func: core_func(1, 1),
                        options: OptionsIndex(1),
                    },
                )]),
            ),
            ("counter".into(), Export::Resource(ResourceIndex(0))),
        ],
    }
}

/// Applies `mutate` to a valid plan and returns the validation error.
#[track_caller]
fn reject(mutate: impl FnOnce(&mut ComponentInfo)) -> String {
    let mut info = greeter();
    mutate(&mut info);
    match info.validate() {
        Ok(()) => panic!("mutated plan accepted"),
        Err(LoadError::Malformed { section, reason }) => {
            assert_eq!(section, SECTION_INFO);
            reason
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[track_caller]
fn assert_rejects(expected: &str, mutate: impl FnOnce(&mut ComponentInfo)) {
    let reason = reject(mutate);
    assert!(reason.contains(expected), "`{reason}` lacks `{expected}`");
}

fn instantiate_args(info: &mut ComponentInfo, step: usize) -> &mut Box<[CoreDef]> {
    let Initializer::InstantiateModule { args, .. } = &mut info.initializers[step];
    args
}

#[test]
fn valid_plan_is_accepted_and_round_trips() {
    let info = greeter();
    info.validate().unwrap();
    assert_eq!(info.num_funcs(), Some(4));
    assert_eq!(
        info.runtime_instance_modules(),
        [StaticModuleIndex(0), StaticModuleIndex(1)]
    );
    let log = info.runtime_import_type(RuntimeImportIndex(0));
    assert_eq!(log, Some(ItemType::Func(TypeFuncIndex(0))));

    let bytes = postcard::to_allocvec(&info).unwrap();
    let back: ComponentInfo = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, info);
    back.validate().unwrap();
    // Encoding is deterministic.
    assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
}

#[test]
fn truncated_encoding_is_an_error() {
    let bytes = postcard::to_allocvec(&greeter()).unwrap();
    for len in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(postcard::from_bytes::<ComponentInfo>(&bytes[..len]).is_err());
    }
}

#[test]
fn steps_only_refer_to_earlier_instances() {
    // Directly: step 1 (creating instance 1) passes instance 1's own memory.
    assert_rejects("core instance 1, which is not created yet", |info| {
        instantiate_args(info, 1)[1] = CoreDef::Export(CoreExport {
            instance: RuntimeInstanceIndex(1),
            index: EntityIndex::Memory(MemoryIndex(0)),
        });
    });
    // Through a lowering's options: the memory `log` writes to is created by step 1 itself.
    assert_rejects(
        "step 1, import `host::log`: refers to core instance 1",
        |info| {
            info.options[0].memory = Some(CoreExport {
                instance: RuntimeInstanceIndex(1),
                index: MemoryIndex(0),
            });
        },
    );
    // Through a lowering's lifted callee.
    assert_rejects("not created yet", |info| {
        info.lowerings[0].callee = Callee::Lifted {
            func: core_func(1, 1),
            options: OptionsIndex(1),
        };
        // Make the types agree, so that only the order is wrong.
        let greet = TypeFuncIndex(1);
        info.lowerings[0].ty = greet;
        info.lowerings[0].core_type = func_ty(3, 0);
        info.modules[1].info.types[0] = func_ty(3, 0);
    });
    // Through a builtin's resource destructor.
    assert_rejects("not created yet", |info| {
        info.intrinsics[0].kind = IntrinsicKind::ResourceDrop;
        info.modules[1].info.types[0] = func_ty(1, 0);
        info.lowerings.clear();
        instantiate_args(info, 1)[0] = CoreDef::Intrinsic(IntrinsicIndex(0));
    });
}

#[test]
fn lowering_cycles_terminate() {
    // A lowering whose callee lifts the lowering itself: nonsense, but well-typed (the lift and
    // lower core types of `log` agree), so the order walk must stop at the cycle.
    let mut info = greeter();
    info.lowerings.push(Lowering {
        ty: TypeFuncIndex(0),
        options: OptionsIndex(0),
        core_type: func_ty(2, 0),
        callee: Callee::Lifted {
            func: CoreDef::Lowered(LoweringIndex(1)),
            options: OptionsIndex(0),
        },
    });
    instantiate_args(&mut info, 1)[0] = CoreDef::Lowered(LoweringIndex(1));
    info.validate().unwrap();
    // The same cycle reaching a later instance is still refused.
    info.options[0].memory = Some(CoreExport {
        instance: RuntimeInstanceIndex(1),
        index: MemoryIndex(0),
    });
    let Err(LoadError::Malformed { reason, .. }) = info.validate() else {
        panic!("accepted")
    };
    assert!(reason.contains("not created yet"), "{reason}");
}

#[test]
fn core_types_are_checked() {
    assert_rejects("lowering 0 has the wrong core type", |info| {
        info.lowerings[0].core_type = func_ty(1, 0);
    });
    assert_rejects(
        "import `host::log`: argument has type (func (param i32 i32))",
        |info| {
            info.modules[1].info.types[0] = func_ty(1, 0);
        },
    );
    assert_rejects("realloc has type", |info| {
        info.options[0].realloc = Some(core_func(1, 1));
    });
    assert_rejects("post-return has type", |info| {
        info.options[1].post_return = Some(core_func(0, 0));
    });
    assert_rejects("lowering 0 has a post-return", |info| {
        info.options[0].post_return = Some(core_func(1, 2));
    });
    assert_rejects(
        "lifted function has type (func (param i32 i32 i32 i32)",
        |info| {
            let Export::Instance(exports) = &mut info.exports[0].1 else {
                unreachable!()
            };
            exports[0].1 = Export::LiftedFunc {
                ty: TypeFuncIndex(1),
                func: core_func(0, 0),
                options: OptionsIndex(1),
            };
        },
    );
    assert_rejects("resource destructor has type", |info| {
        info.resources[0] = ResourceDef::Defined {
            instance: RuntimeComponentInstanceIndex(0),
            dtor: Some(core_func(1, 1)),
            name: "counter".into(),
        };
    });
    assert_rejects("expected a function, found a memory", |info| {
        info.options[0].realloc = Some(CoreDef::Export(CoreExport {
            instance: RuntimeInstanceIndex(0),
            index: EntityIndex::Memory(MemoryIndex(0)),
        }));
    });
    assert_rejects("argument of the wrong kind", |info| {
        instantiate_args(info, 1).swap(0, 1);
    });
}

#[test]
fn core_exports_must_be_exported() {
    // Function 0 of `main` is its import: not an export, so it has no array-call entry.
    assert_rejects(
        "core instance 1 does not export Func(FuncIndex(0))",
        |info| {
            info.resources[0] = ResourceDef::Defined {
                instance: RuntimeComponentInstanceIndex(0),
                dtor: Some(core_func(1, 0)),
                name: "counter".into(),
            };
        },
    );
    assert_rejects("core instance 2 out of range", |info| {
        info.options[1].realloc = Some(core_func(2, 0));
    });
}

#[test]
fn indices_are_checked() {
    assert_rejects("static module 7 out of range", |info| {
        let Initializer::InstantiateModule { module, .. } = &mut info.initializers[0];
        *module = StaticModuleIndex(7);
    });
    assert_rejects("passes 1 arguments for 2 imports", |info| {
        *instantiate_args(info, 1) = Box::new([CoreDef::Lowered(LoweringIndex(0))]);
    });
    assert_rejects("lowering 3 out of range", |info| {
        instantiate_args(info, 1)[0] = CoreDef::Lowered(LoweringIndex(3));
    });
    assert_rejects("options 9 out of range", |info| {
        info.lowerings[0].options = OptionsIndex(9);
    });
    assert_rejects("function type 9 out of range", |info| {
        info.lowerings[0].ty = TypeFuncIndex(9);
    });
    assert_rejects("component instance 1 out of range", |info| {
        info.options[0].instance = RuntimeComponentInstanceIndex(1);
    });
    assert_rejects("intrinsic 0 names resource 4 out of range", |info| {
        info.intrinsics[0].resource = ResourceIndex(4);
    });
    assert_rejects("export `counter` names resource 1 out of range", |info| {
        info.exports[1].1 = Export::Resource(ResourceIndex(1));
    });
    assert_rejects(
        "type of import `test:demo/host@0.1.0` out of range",
        |info| {
            info.imports[0].ty = ItemType::Instance(TypeInstanceIndex(5));
        },
    );
    assert_rejects(
        "runtime import 0 has a path that does not resolve",
        |info| {
            info.runtime_imports[0].path = Box::new(["warn".into()]);
        },
    );
    assert_rejects("module 1 starts at function entry 2 instead of 1", |info| {
        info.modules[1].first_func = 2;
    });
    assert_rejects("module 0 imports more functions than it has", |info| {
        info.modules[0].info.num_imported.funcs = 2;
    });
}

#[test]
fn imports_and_resources_are_consistent() {
    assert_rejects(
        "calls an import that is not a function of its type",
        |info| {
            info.lowerings[0].callee = Callee::Import(RuntimeImportIndex(0));
            info.lowerings[0].ty = TypeFuncIndex(1);
            info.lowerings[0].core_type = func_ty(3, 0);
            info.modules[1].info.types[0] = func_ty(3, 0);
        },
    );
    assert_rejects("imported resources must come before defined ones", |info| {
        info.resources
            .push(ResourceDef::Imported(RuntimeImportIndex(0)));
    });
    assert_rejects("does not name its own resource import", |info| {
        info.resources
            .insert(0, ResourceDef::Imported(RuntimeImportIndex(0)));
        // Keep the other references to the defined resource right.
        info.intrinsics[0].resource = ResourceIndex(1);
        info.exports[1].1 = Export::Resource(ResourceIndex(1));
    });
    assert_rejects(
        "uses a resource its component instance does not define",
        |info| {
            info.component_instances.push(ComponentInstanceInfo {
                parent: Some(RuntimeComponentInstanceIndex(0)),
                name: "root/$c1".into(),
            });
            info.intrinsics[0].instance = RuntimeComponentInstanceIndex(1);
        },
    );
    assert_rejects(
        "component instance 1 has no parent created before it",
        |info| {
            info.component_instances.push(ComponentInstanceInfo {
                parent: Some(RuntimeComponentInstanceIndex(1)),
                name: "root/$c1".into(),
            });
        },
    );
    assert_rejects("the first component instance must be the root", |info| {
        info.component_instances.clear();
    });
}

#[test]
fn imported_resource_leaf() {
    // `(import "r" (type (sub resource)))` gets imported resource 0; the defined one moves to 1.
    let mut info = greeter();
    info.imports.push(ComponentImport {
        name: "r".into(),
        ty: ItemType::Resource(ResourceIndex(0)),
    });
    info.runtime_imports.push(RuntimeImport {
        import: ImportIndex(1),
        path: Box::new([]),
    });
    info.resources
        .insert(0, ResourceDef::Imported(RuntimeImportIndex(1)));
    info.intrinsics[0].resource = ResourceIndex(1);
    info.exports[1].1 = Export::Resource(ResourceIndex(1));
    info.validate().unwrap();
    assert_eq!(
        info.runtime_import_type(RuntimeImportIndex(1)),
        Some(ItemType::Resource(ResourceIndex(0)))
    );
}

#[test]
fn export_nesting_is_bounded() {
    let mut info = greeter();
    let mut export = Export::Type;
    for _ in 0..=MAX_TYPE_DEPTH {
        export = Export::Instance(vec![("i".into(), export)]);
    }
    info.exports.push(("deep".into(), export));
    let Err(LoadError::Malformed { reason, .. }) = info.validate() else {
        panic!("deep exports accepted")
    };
    assert!(reason.contains("nested too deeply"), "{reason}");
}

// Types.

#[test]
fn types_are_interned_in_first_occurrence_order() {
    let mut b = ComponentTypesBuilder::new();
    let point = |b: &mut ComponentTypesBuilder| {
        b.record(Box::new([
            ("x".into(), InterfaceType::S32),
            ("y".into(), InterfaceType::S32),
        ]))
    };
    let bytes = b.list(InterfaceType::U8);
    let p1 = point(&mut b);
    let p2 = point(&mut b);
    assert_eq!(p1, p2);
    assert_eq!(p1, InterfaceType::Record(TypeRecordIndex(0)));
    let other = b.record(Box::new([
        ("y".into(), InterfaceType::S32),
        ("x".into(), InterfaceType::S32),
    ]));
    assert_eq!(other, InterfaceType::Record(TypeRecordIndex(1)));
    assert_eq!(b.list(InterfaceType::U8), bytes);
    let strings = b.list(InterfaceType::String);
    assert_eq!(strings, InterfaceType::List(TypeListIndex(1)));
    let f1 = b.func(Box::new([("p".into(), p1)]), None);
    let f2 = b.func(Box::new([("p".into(), p2)]), None);
    let f3 = b.func(Box::new([("q".into(), p2)]), None);
    assert_eq!(f1, f2);
    assert_ne!(f1, f3);
    let types = b.finish();
    assert_eq!(types.records.len(), 2);
    assert_eq!(types.funcs.len(), 2);
    types.validate(0).unwrap();
}

#[test]
fn display_is_wit_like() {
    let mut b = ComponentTypesBuilder::new();
    let bytes = b.list(InterfaceType::U8);
    let pair = b.tuple(Box::new([InterfaceType::U32, InterfaceType::Char]));
    let opt = b.option(pair);
    let rec = b.record(Box::new([("a".into(), bytes), ("b".into(), opt)]));
    let var = b.variant(Box::new([
        ("a".into(), Some(InterfaceType::U8)),
        ("b".into(), None),
    ]));
    let en = b.enumeration(Box::new(["x".into(), "y".into()]));
    let fl = b.flags(Box::new(["read".into(), "write".into()]));
    let r1 = b.result(None, Some(InterfaceType::String));
    let r2 = b.result(None, None);
    let r3 = b.result(Some(InterfaceType::U8), None);
    let r4 = b.result(Some(InterfaceType::U8), Some(InterfaceType::F64));
    let own = InterfaceType::Own(ResourceIndex(0));
    let borrow = InterfaceType::Borrow(ResourceIndex(2));
    let f = b.func(
        Box::new([("name".into(), InterfaceType::String), ("r".into(), borrow)]),
        Some(InterfaceType::String),
    );
    let g = b.func(Box::new([]), None);
    let t = b.finish();
    let show = |ty| t.display(&ty).to_string();
    assert_eq!(
        show(rec),
        "record { a: list<u8>, b: option<tuple<u32, char>> }"
    );
    assert_eq!(show(var), "variant { a(u8), b }");
    assert_eq!(show(en), "enum { x, y }");
    assert_eq!(show(fl), "flags { read, write }");
    assert_eq!(show(r1), "result<_, string>");
    assert_eq!(show(r2), "result");
    assert_eq!(show(r3), "result<u8>");
    assert_eq!(show(r4), "result<u8, f64>");
    assert_eq!(show(own), "own<resource0>");
    assert_eq!(show(InterfaceType::List(TypeListIndex(9))), "<invalid>");
    assert_eq!(
        t.display_func(f).to_string(),
        "func(name: string, r: borrow<resource2>) -> string"
    );
    assert_eq!(t.display_func(g).to_string(), "func()");
    assert_eq!(t.display_func(TypeFuncIndex(5)).to_string(), "<invalid>");
}

#[test]
fn type_validation_recomputes_layouts() {
    let mut b = ComponentTypesBuilder::new();
    let inner = b.record(Box::new([("a".into(), InterfaceType::U8)]));
    let list = b.list(inner);
    let outer = b.variant(Box::new([
        ("l".into(), Some(list)),
        ("r".into(), Some(inner)),
        ("n".into(), None),
    ]));
    let opt = b.option(outer);
    b.result(Some(opt), Some(InterfaceType::Own(ResourceIndex(0))));
    b.flags((0..40).map(|i| i.to_string()).collect());
    b.enumeration(Box::new(["e".into()]));
    b.func(Box::new([("o".into(), opt)]), Some(list));
    let good = b.finish();
    good.validate(1).unwrap();

    let broken = |edit: &dyn Fn(&mut ComponentTypes)| {
        let mut t = good.clone();
        edit(&mut t);
        t.validate(1).unwrap_err()
    };
    let e = broken(&|t| t.records[0].abi.size32 = 2);
    assert!(e.contains("record type 0 has a wrong layout"), "{e}");
    let e = broken(&|t| t.variants[0].info.payload_offset32 = 1);
    assert!(e.contains("variant type 0 has a wrong layout"), "{e}");
    let e = broken(&|t| t.flags[0].abi.flat_count = Some(1));
    assert!(e.contains("flags type 0 has a wrong layout"), "{e}");
    let e = broken(&|t| t.funcs[0].results_abi = CanonicalAbiInfo::ZERO);
    assert!(e.contains("function type 0 has a wrong layout"), "{e}");
    let e = broken(&|t| t.options[0].ty = InterfaceType::Option(TypeOptionIndex(3)));
    assert!(e.contains("out of range"), "{e}");
    let e = broken(&|t| t.results[0].err = Some(InterfaceType::Borrow(ResourceIndex(1))));
    assert!(e.contains("resource 1 out of range"), "{e}");
    let e = broken(&|t| t.enums[0].names = Box::new([]));
    assert!(e.contains("a variant or enum with 0 cases"), "{e}");
    // A cycle: the list's element becomes the option that (through the variant) contains it.
    let e = broken(&|t| t.lists[0].element = InterfaceType::Option(TypeOptionIndex(0)));
    assert!(e.contains("recursive type definition"), "{e}");
    let e = broken(&|t| t.lists[0].element = InterfaceType::List(TypeListIndex(0)));
    assert!(e.contains("recursive type definition"), "{e}");
    let e = broken(&|t| {
        t.instances.push(TypeInstance {
            exports: vec![("self".into(), ItemType::Instance(TypeInstanceIndex(0)))],
        })
    });
    assert!(e.contains("export `self` of instance type 0"), "{e}");
}

#[test]
fn type_depth_is_bounded() {
    let mut b = ComponentTypesBuilder::new();
    let mut ty = InterfaceType::U8;
    for _ in 1..MAX_TYPE_DEPTH {
        ty = b.option(ty);
    }
    assert_eq!(b.depth(&ty), MAX_TYPE_DEPTH);
    b.types().clone().validate(0).unwrap();
    let deeper = b.list(ty);
    assert_eq!(b.depth(&deeper), MAX_TYPE_DEPTH + 1);
    let e = b.finish().validate(0).unwrap_err();
    assert!(
        e.contains("list type 0 is nested more than 100 levels deep"),
        "{e}"
    );
}

#[test]
fn oversized_types_are_rejected() {
    // 1024 x u64 is 8 KiB; three levels of 64 copies make exactly 2^31 bytes.
    let mut b = ComponentTypesBuilder::new();
    let mut ty = b.tuple(vec![InterfaceType::U64; 1 << 10].into());
    for _ in 0..2 {
        ty = b.tuple(vec![ty; 1 << 6].into());
    }
    b.types().clone().validate(0).unwrap();
    let ty = b.tuple(vec![ty; 1 << 6].into());
    assert_eq!(b.types().canonical_abi(&ty).size32, MAX_TYPE_SIZE);
    let e = b.finish().validate(0).unwrap_err();
    assert!(e.contains("tuple type 3 is too large"), "{e}");
    // Past that, layouts saturate instead of overflowing.
    let huge = CanonicalAbiInfo {
        size32: u32::MAX - 3,
        align32: 4,
        flat_count: None,
    };
    let abi = CanonicalAbiInfo::record(&[huge, huge, CanonicalAbiInfo::SCALAR8]);
    assert!(abi.size32 >= MAX_TYPE_SIZE);
}

#[test]
fn types_round_trip_through_postcard() {
    let mut b = ComponentTypesBuilder::new();
    let s = b.list(InterfaceType::String);
    let v = b.variant(Box::new([("a".into(), Some(s)), ("b".into(), None)]));
    let fl = b.flags((0..33).map(|i| i.to_string()).collect());
    let t = b.tuple(Box::new([v, fl, InterfaceType::Own(ResourceIndex(0))]));
    let f = b.func(Box::new([("t".into(), t)]), Some(v));
    b.instance(vec![
        ("f".into(), ItemType::Func(f)),
        ("r".into(), ItemType::Resource(ResourceIndex(0))),
        ("t".into(), ItemType::Type),
    ]);
    let types = b.finish();
    let bytes = postcard::to_allocvec(&types).unwrap();
    let back: ComponentTypes = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, types);
    back.validate(1).unwrap();
}
