//! The `;;! invoke` lines of every fixture in `tests/fixtures/components/`, run through the
//! dynamic API: arguments parsed from WAVE against the function's parameter types, results
//! printed as WAVE and compared as text, traps compared by kind. Each file's lines run in order
//! against one instance, whose imports are host functions that return default values.

use aot_runtime::Store;
use aot_runtime::component::{
    Component, ComponentItem, ComponentItemKind, Linker, ResourceType, TypeKind, Val,
};
use std::path::{Path, PathBuf};
use wasm_wave::untyped::UntypedFuncCall;

/// One `;;! invoke` line.
#[derive(Debug)]
struct Invoke {
    call: String,
    expected: Expected,
}

#[derive(Debug)]
enum Expected {
    /// The result as WAVE text (empty for no result).
    Value(String),
    /// The kebab-case name of the trap.
    Trap(String),
}

#[test]
fn every_invoke_line_of_the_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/components");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "fixtures: {files:?}");
    let mut ran = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let invokes = parse_invokes(&std::fs::read_to_string(path).unwrap());
        // The artifact `build.rs` compiled for `include_component!`.
        let artifact = aot_build::artifact_path(
            Path::new(env!("OUT_DIR")),
            Path::new(&format!("fixtures/components/{name}")),
        );
        let bytes = std::fs::read(&artifact)
            .unwrap_or_else(|e| panic!("{name}: {}: {e}", artifact.display()));
        let component = aot_tests::load_component(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut store = Store::new(());
        let linker = default_linker(&component);
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for invoke in &invokes {
            let what = format!("{name}: {}", invoke.call);
            let open = invoke.call.find('(').expect("a call");
            let (func_name, args) = invoke.call.split_at(open);
            let func = instance
                .get_func(&mut store, func_name)
                .unwrap_or_else(|| panic!("{what}: no such function"));
            let types: Vec<_> = func.params(&store).iter().map(|(_, t)| t.clone()).collect();
            let params: Vec<Val> = UntypedFuncCall::parse(&format!("f{args}"))
                .and_then(|call| call.to_wasm_params::<Val>(types.iter()))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let mut results = vec![Val::Bool(false); func.results(&store).len()];
            let outcome = func.call(&mut store, &params, &mut results);
            match (&invoke.expected, outcome) {
                (Expected::Value(expected), Ok(())) => {
                    let printed = match results.first() {
                        Some(v) => wasm_wave::to_string(v).unwrap(),
                        None => String::new(),
                    };
                    assert_eq!(&printed, expected, "{what}");
                }
                (Expected::Trap(kind), Err(e)) => {
                    let trap = e
                        .trap()
                        .unwrap_or_else(|| panic!("{what}: not a trap: {e}"));
                    assert_eq!(&kebab(&format!("{trap:?}")), kind, "{what}: {e}");
                }
                (expected, outcome) => panic!("{what}: expected {expected:?}, got {outcome:?}"),
            }
            ran += 1;
        }
    }
    assert!(ran >= 20, "only {ran} invoke lines ran");
}

/// A linker defining every function import of `component` as a host function that writes a
/// default value of its result type, and every resource import as a host type without state.
fn default_linker(component: &Component) -> Linker<()> {
    let mut linker = Linker::new();
    for (name, item) in component.imports() {
        match item.kind() {
            ComponentItemKind::Func => define_default(&mut linker.root(), name, &item),
            ComponentItemKind::Instance => {
                let mut instance = linker.instance(name).unwrap();
                for (inner, item) in item.exports() {
                    match item.kind() {
                        ComponentItemKind::Func => define_default(&mut instance, &inner, &item),
                        ComponentItemKind::Resource => define_opaque(&mut instance, &inner),
                        _ => {}
                    }
                }
            }
            ComponentItemKind::Resource => define_opaque(&mut linker.root(), name),
            ComponentItemKind::Type => {}
        }
    }
    linker
}

/// The host type of every imported resource of a fixture.
struct Opaque;

fn define_opaque(linker: &mut aot_runtime::component::LinkerInstance<'_, ()>, name: &str) {
    linker
        .resource(name, ResourceType::host::<Opaque>(), |_, _| Ok(()))
        .unwrap();
}

fn define_default(
    linker: &mut aot_runtime::component::LinkerInstance<'_, ()>,
    name: &str,
    item: &ComponentItem,
) {
    let result = item.func().unwrap().result();
    linker
        .func_new(name, move |_store, _params, results| {
            if let Some(ty) = &result {
                results[0] = match ty.kind() {
                    TypeKind::Bool => Val::Bool(false),
                    TypeKind::U32 => Val::U32(0),
                    TypeKind::S32 => Val::S32(0),
                    TypeKind::String => Val::String(String::new()),
                    other => panic!("no default value of kind {other:?}"),
                };
            }
            Ok(())
        })
        .unwrap();
}

/// The `;;! invoke` lines of a fixture.
fn parse_invokes(source: &str) -> Vec<Invoke> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix(";;! invoke "))
        .map(|rest| {
            let (call, rest) = quoted(rest);
            let rest = rest.trim_start().strip_prefix("=>").expect("`=>`").trim();
            let expected = match rest.strip_prefix("trap ") {
                Some(kind) => Expected::Trap(kind.trim().to_string()),
                None => Expected::Value(quoted(rest).0),
            };
            Invoke { call, expected }
        })
        .collect()
}

/// The `\`-escaped string in quotes at the start of `s`, and what follows it.
fn quoted(s: &str) -> (String, &str) {
    let body = s.strip_prefix('"').expect("a quoted string");
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next().expect("an escaped character").1),
            '"' => return (out, &body[i + 1..]),
            c => out.push(c),
        }
    }
    panic!("unterminated string in {s}")
}

/// `UnreachableCodeReached` -> `unreachable-code-reached`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
