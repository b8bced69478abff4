//! Runs a WASI command component that was compiled at `cargo build` time.
//!
//! ```text
//! cargo run -p wasi-hello              # Hello, world!
//! cargo run -p wasi-hello -- Ada Grace # one greeting per name
//! ```
//!
//! The guest is C compiled against wasi-libc (`wasm/hello.c`). It reads its arguments and the
//! `GREETING` environment variable, prints to stdout, and writes a note into the directory the
//! host preopens as `/out`. Everything it can reach is decided here, by the host: the arguments,
//! the environment, stdio, and one directory. It cannot see anything else on this machine.

use aot_runtime::component::{Component, Linker};
use aot_runtime::wasi::{self, DirPerms, FilePerms, WasiCtxBuilder};
use aot_runtime::{EmbeddedComponent, Store, include_component};

/// The artifact `build.rs` compiled: machine code and the component's plan, embedded in this
/// binary. There is no compiler in this program.
static HELLO: EmbeddedComponent = include_component!("wasm/hello.wasm");

fn main() -> aot_runtime::Result<()> {
    // 1. Load: copy the code into executable memory. No compilation happens here.
    let component = Component::from_embedded(&HELLO)?;

    // 2. The guest's world. Its argv[0] is "hello"; the other arguments are ours. stdout and
    //    stderr are this process's. `/out` is a fresh directory, writable; nothing else of the
    //    filesystem is visible to the guest.
    let out = std::env::temp_dir().join(format!("wasi-hello-{}", std::process::id()));
    std::fs::create_dir_all(&out).map_err(aot_runtime::Error::new)?;
    let ctx = WasiCtxBuilder::new()
        .arg("hello")
        .args(&std::env::args().skip(1).collect::<Vec<_>>())
        .env("GREETING", "Hello")
        .inherit_stdio()
        .preopened_dir(&out, "/out", DirPerms::all(), FilePerms::all())?
        .build();

    // 3. Link WASI 0.2 (any 0.2.x the component imports) and run `wasi:cli/run`.
    let mut linker = Linker::new();
    wasi::p2::add_to_linker(&mut linker)?;
    let mut store = Store::new(ctx);
    let status = wasi::p2::run_command(&mut store, &linker, &component)?;

    // 4. What the guest left behind, read by the host.
    let note = std::fs::read_to_string(out.join("note.txt")).unwrap_or_default();
    print!("host read /out/note.txt: {note}");
    std::fs::remove_dir_all(&out).map_err(aot_runtime::Error::new)?;
    println!("guest exited with status {status}");
    std::process::exit(status);
}
