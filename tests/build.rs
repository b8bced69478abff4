//! Compiles every `fixtures/*.wat` (core modules) and `fixtures/components/*.wat` (components)
//! with `aot_build::compile`, exactly as a user's build script would, so the tests can embed them
//! with `include_module!("fixtures/<name>.wat")` and
//! `include_component!("fixtures/components/<name>.wat")`.

use std::path::Path;

fn main() {
    // A new fixture file must rerun this script too.
    println!("cargo:rerun-if-changed=fixtures");
    for dir in ["fixtures", "fixtures/components"] {
        compile_dir(dir);
    }
}

/// Compiles the `.wat` files directly in `dir` (not in its subdirectories), in name order.
fn compile_dir(dir: &str) {
    println!("cargo:rerun-if-changed={dir}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut fixtures: Vec<_> = entries
        .map(|entry| entry.expect("readable fixtures directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        // The path string must be the one the tests give `include_module!`/`include_component!`.
        let input = format!("{dir}/{name}");
        if let Err(e) = aot_build::compile(Path::new(&input)) {
            panic!("{e}");
        }
    }
}
