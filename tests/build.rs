//! Compiles every `fixtures/*.wat` with `aot_build::compile`, exactly as a user's build script
//! would, so the tests can embed them with `include_module!("fixtures/<name>.wat")`.

use std::path::Path;

fn main() {
    // A new fixture file must rerun this script too.
    println!("cargo:rerun-if-changed=fixtures");
    let mut fixtures: Vec<_> = std::fs::read_dir("fixtures")
        .expect("tests/fixtures exists")
        .map(|entry| entry.expect("readable fixtures directory").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        // The path string must be the one the tests give `include_module!`.
        let input = format!("fixtures/{name}");
        if let Err(e) = aot_build::compile(Path::new(&input)) {
            panic!("{e}");
        }
    }
}
