//! `Config::compile` as a build script uses it: reads the file, honours `OUT_DIR` and `TARGET`,
//! prints `cargo:rerun-if-changed`, writes the artifact at `artifact_path` and names the file in
//! errors.
//!
//! The build-script environment is process-wide, so the test re-runs itself (this same test
//! binary, only this test) in a child process with that environment set.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHILD: &str = "AOT_BUILD_TEST_CHILD";
const TEST: &str = "build_script::compile_in_a_build_script";

#[test]
fn compile_in_a_build_script() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let dir = std::env::temp_dir().join(format!("aot-build-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("wasm")).unwrap();
    std::fs::write(
        dir.join("wasm/app.wat"),
        "(module (func (export \"id\") (param i32) (result i32) local.get 0))",
    )
    .unwrap();
    std::fs::write(
        dir.join("wasm/bad.wat"),
        "(module (func) (func $bad (result i32) i64.const 1))",
    )
    .unwrap();
    std::fs::write(
        dir.join("wasm/greeter.wat"),
        "(component (core module (func (export \"f\"))) (core instance (instantiate 0)) \
         (func (export \"f\") (canon lift (core func 0 \"f\"))))",
    )
    .unwrap();
    std::fs::write(
        dir.join("wasm/bad-component.wat"),
        "(component (core module $inner (func) (func $bad (result i32) i64.const 1)))",
    )
    .unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .current_dir(&dir)
        .env(CHILD, "1")
        .env("OUT_DIR", dir.join("out"))
        .env("TARGET", host_target())
        .env("CARGO_CFG_TARGET_FEATURE", "fxsr,sse,sse2,crt-static")
        .env("OPT_LEVEL", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child did not run the test:\n{stdout}"
    );
    assert!(
        stdout.contains("cargo:rerun-if-changed=wasm/app.wat"),
        "{stdout}"
    );
}

fn host_target() -> &'static str {
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        "x86_64-unknown-linux-gnu"
    } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
        "aarch64-unknown-linux-gnu"
    } else if cfg!(all(target_arch = "aarch64", target_os = "macos")) {
        "aarch64-apple-darwin"
    } else {
        "x86_64-apple-darwin"
    }
}

/// Runs with `OUT_DIR`, `TARGET` and the working directory of a build script.
fn child() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let path = aot_build::compile("wasm/app.wat").unwrap();
    assert_eq!(
        path,
        aot_build::artifact_path(&out_dir, Path::new("wasm/app.wat"))
    );
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("app.wat-") && name.ends_with(".aot"),
        "{name}"
    );
    let bytes = crate::Aligned::new(&std::fs::read(&path).unwrap());
    let art = aot_runtime::artifact::read::ArtifactRef::parse(
        bytes.bytes(),
        aot_runtime::artifact::Kind::Module,
        &crate::host(),
    )
    .unwrap();
    assert_eq!(art.compat.target, host_target());
    let info: aot_runtime::artifact::ModuleInfo = postcard::from_bytes(art.info).unwrap();
    assert_eq!(info.name, "app", "the file stem names the module");
    assert!(
        art.compat.settings.contains("opt_level=none"),
        "OPT_LEVEL=0 compiles unoptimized: {}",
        art.compat.settings
    );
    // An explicit level wins over Cargo's.
    let path = aot_build::Config::new()
        .opt_level(aot_build::OptLevel::Speed)
        .compile("wasm/app.wat")
        .unwrap();
    let bytes = crate::Aligned::new(&std::fs::read(&path).unwrap());
    let art = aot_runtime::artifact::read::ArtifactRef::parse(
        bytes.bytes(),
        aot_runtime::artifact::Kind::Module,
        &crate::host(),
    )
    .unwrap();
    assert!(
        art.compat.settings.contains("opt_level=speed"),
        "{}",
        art.compat.settings
    );

    let e = aot_build::compile("wasm/bad.wat").unwrap_err();
    assert_eq!(e.path(), Some(Path::new("wasm/bad.wat")));
    assert_eq!(e.func_index(), Some(1));
    let shown = e.to_string();
    assert!(
        shown.starts_with("failed to compile `wasm/bad.wat`: function 1 (`bad`) at offset 0x"),
        "{shown}"
    );

    // Components: the file stem names the component and its modules; errors name the file,
    // the core module, the function and the offset in the component binary.
    let path = aot_build::compile("wasm/greeter.wat").unwrap();
    let bytes = crate::Aligned::new(&std::fs::read(&path).unwrap());
    let art = aot_runtime::artifact::read::ArtifactRef::parse(
        bytes.bytes(),
        aot_runtime::artifact::Kind::Component,
        &crate::host(),
    )
    .unwrap();
    let info: aot_runtime::artifact::component::ComponentInfo =
        postcard::from_bytes(art.info).unwrap();
    assert_eq!(info.name, "greeter");
    assert_eq!(info.modules[0].info.name, "greeter/module0");
    let e = aot_build::compile("wasm/bad-component.wat").unwrap_err();
    assert_eq!(e.path(), Some(Path::new("wasm/bad-component.wat")));
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "failed to compile `wasm/bad-component.wat`: core module `bad-component/inner`, \
             function 1 (`bad`) at offset 0x"
        ),
        "{shown}"
    );
    assert!(
        shown.ends_with("type mismatch: expected i32, found i64"),
        "{shown}"
    );

    let e = aot_build::compile("wasm/missing.wat").unwrap_err();
    assert_eq!(e.phase(), aot_build::Phase::Read);
    assert!(e.to_string().contains("`wasm/missing.wat`"), "{e}");
}
