//! `examples/hello` for a runtime-only Wasmtime: load the module precompiled by `build.rs`, link
//! `host.log`, call `run(10)`. The same program as ours, so that the two stripped binaries differ
//! only by the runtime.

use wasmtime::{Caller, Engine, Linker, Module, Store};

/// The precompiled module, 16-byte aligned like our embedded artifacts.
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);
static HELLO: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/hello.cwasm")));

/// The host state every host function can reach through its `Caller`.
struct Log {
    lines: Vec<String>,
}

fn main() -> wasmtime::Result<()> {
    println!("Loading the embedded module...");
    let engine = Engine::default();
    // SAFETY: the bytes were produced by `Engine::precompile_module` of this Wasmtime version,
    // with the same configuration, in build.rs.
    let module = unsafe { Module::deserialize(&engine, &HELLO.0) }?;
    let mut store = Store::new(&engine, Log { lines: Vec::new() });
    let mut linker = Linker::new(&engine);
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
    println!("Instantiating...");
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    println!("Calling `run(10)`...");
    let total = run.call(&mut store, 10)?;
    for line in &store.data().lines {
        println!("{line}");
    }
    println!("run(10) = {total}");
    assert_eq!(total, 385, "1² + 2² + ... + 10²");
    Ok(())
}
