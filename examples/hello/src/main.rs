//! An example of running WebAssembly compiled ahead of time: `build.rs` compiled
//! `wasm/hello.wat` to native code while the crate was built, and this program embeds that
//! artifact, links a host function into it, and calls its export. No compiler runs here.

use aot_runtime::{Caller, EmbeddedModule, Linker, Module, Store, include_module};

// Embed the artifact `build.rs` wrote for `wasm/hello.wat`. This is a constant: the compiled
// code is part of this binary, 16-byte aligned, and checked to be a core module at compile time.
static HELLO: EmbeddedModule = include_module!("wasm/hello.wat");

/// The host state every host function can reach through its `Caller`.
struct Log {
    lines: Vec<String>,
}

fn main() -> aot_runtime::Result<()> {
    // Loading checks that the artifact was built for this machine by the matching aot-build, then
    // maps its code read+execute. A `Module` is cheap to clone and can be shared across threads.
    println!("Loading the embedded module...");
    let module = Module::from_embedded(&HELLO)?;

    // A `Store` owns everything instances create (memories, tables, globals) and the host's own
    // data, here a `Log`.
    let mut store = Store::new(Log { lines: Vec::new() });

    // The guest imports `host.log(i: i32, sum: i32)`. Host functions are plain closures; taking a
    // `Caller` first gives access to the store's data (and to the calling instance's exports).
    let mut linker = Linker::new();
    linker.func_wrap(
        "host",
        "log",
        |mut caller: Caller<'_, Log>, i: i32, sum: i32| {
            caller
                .data_mut()
                .lines
                .push(format!("  {i}² brings the sum to {sum}"));
        },
    )?;

    // Instantiate: imports are resolved by name and type, then memories, tables and globals are
    // created and initialized.
    println!("Instantiating...");
    let instance = linker.instantiate(&mut store, &module)?;

    // Look up the export with its static type; a mismatch is an error here, not at call time.
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;

    // And call it. A trap inside would come back as an `Err`, never a crash.
    println!("Calling `run(10)`...");
    let total = run.call(&mut store, 10)?;
    for line in &store.data().lines {
        println!("{line}");
    }
    println!("run(10) = {total}");
    assert_eq!(total, 385, "1² + 2² + ... + 10²");
    Ok(())
}
