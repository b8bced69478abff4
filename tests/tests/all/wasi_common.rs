//! What the WASI tests share (`wasi_p1`, `wasi_p2`, `wasi_p2_fs`): fresh host directories, the
//! fixtures compiled once per process, captured output, deterministic random bytes, and the
//! expectations of the C program's `files` and `escape` subcommands, which are the same under
//! preview 1 and WASI 0.2 (tests/fixtures/wasi/README.md).

use aot_runtime::wasi::{
    DirPerms, FilePerms, MemoryOutputPipe, RandomSource, WasiCtx, WasiCtxBuilder,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh host directory under the system's temporary directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "aot-wasi-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The artifact of `tests/fixtures/wasi/<flavour>/<name>.wasm`, compiled once per process.
pub(crate) fn fixture_artifact(flavour: &str, name: &str) -> &'static [u8] {
    static ARTIFACTS: Mutex<Option<HashMap<String, &'static [u8]>>> = Mutex::new(None);
    let key = format!("{flavour}/{name}.wasm");
    let mut artifacts = ARTIFACTS.lock().unwrap();
    artifacts
        .get_or_insert_default()
        .entry(key)
        .or_insert_with_key(|key| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wasi")
                .join(key);
            let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let artifact = aot_tests::compile(&wasm).unwrap_or_else(|e| panic!("{key}: {e}"));
            Vec::leak(artifact)
        })
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Captured stdout and stderr of a guest run.
pub(crate) struct Captured {
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl Captured {
    /// The context `builder` describes, with stdout and stderr captured.
    pub(crate) fn build(builder: &mut WasiCtxBuilder) -> (WasiCtx, Captured) {
        let captured = Captured {
            stdout: MemoryOutputPipe::new(1 << 20),
            stderr: MemoryOutputPipe::new(1 << 20),
        };
        let ctx = builder
            .stdout(captured.stdout.clone())
            .stderr(captured.stderr.clone())
            .build();
        (ctx, captured)
    }

    /// The bytes written, once the store holding the context is gone.
    pub(crate) fn into_bytes(self) -> (Vec<u8>, Vec<u8>) {
        let bytes = |p: MemoryOutputPipe| {
            p.try_into_inner()
                .unwrap_or_else(|_| panic!("the store holding the pipe is still alive"))
        };
        (bytes(self.stdout), bytes(self.stderr))
    }

    /// The output as text, with the exit status.
    pub(crate) fn output(self, status: i32) -> Output {
        let (stdout, stderr) = self.into_bytes();
        Output {
            status,
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }
}

pub(crate) fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// The names in host directory `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// "Random" bytes `start + 1`, `start + 2`, ... (wrapping).
pub(crate) struct Counting(pub(crate) u8);

impl RandomSource for Counting {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

/// The output of `wasi-demo files` up to its last step, `input.txt`.
pub(crate) const FILES_STEPS: [&str; 14] = [
    "mkdir: ok",
    "write: ok",
    "append: ok",
    "read: ok",
    "hello file",
    "second line",
    "stat: ok size=23",
    "seek: ok file second",
    "create: ok",
    "list: ok a.txt z.txt",
    "rename: ok",
    "gone: ENOENT",
    "unlink: ok",
    "rmdir: ok",
];

/// Lays out `tmp` for `wasi-demo escape`: the preopen `data/` (returned) with `link-out` ->
/// `../outside` and `abs-link` -> an absolute path, next to `outside.txt` and `outside/x`.
fn escape_sandbox(tmp: &TempDir) -> PathBuf {
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(tmp.path().join("outside.txt"), "secret").unwrap();
    std::fs::create_dir(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/x"), "x").unwrap();
    std::os::unix::fs::symlink("../outside", data.join("link-out")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside.txt"), data.join("abs-link")).unwrap();
    data
}

/// What `wasi-demo escape` prints when every attempt is refused: `not-permitted` is EPERM
/// (preview 1, and WASI 0.2 through the adapter); `open-absolute` never leaves wasi-libc, which
/// finds no preopen for `/etc/passwd`.
const ESCAPE_REFUSED: [&str; 12] = [
    "open-parent: refused EPERM",
    "open-absolute: refused ENOTCAPABLE",
    "open-link-out: refused EPERM",
    "create-link-out: refused EPERM",
    "open-abs-link: refused EPERM",
    "open-sub-dotdot: refused EPERM",
    "mkdir-parent: refused EPERM",
    "rename-out: refused EPERM",
    "stat-link-out: refused EPERM",
    "stat-abs-link: refused EPERM",
    "opendir-link-out: refused EPERM",
    "readlink-link-out: refused EPERM",
];

/// Runs `wasi-demo escape /data` through `run` (which adds the arguments to the builder it gets)
/// with a read-write preopen of an [`escape_sandbox`], and checks that every attempt was refused
/// and nothing outside the preopen was created or changed.
pub(crate) fn check_escape(run: impl FnOnce(&mut WasiCtxBuilder) -> Output) {
    let tmp = TempDir::new();
    let data = escape_sandbox(&tmp);
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(&data, "/data", DirPerms::all(), FilePerms::all())
        .unwrap();
    let out = run(&mut builder);
    assert_eq!(lines(&out.stdout), ESCAPE_REFUSED, "{out:?}");
    assert_eq!(out.status, 0);
    assert_eq!(names(tmp.path()), ["data", "outside", "outside.txt"]);
    assert_eq!(names(&tmp.path().join("outside")), ["x"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("outside.txt")).unwrap(),
        "secret"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("outside/x")).unwrap(),
        "x"
    );
    // The program removed what it created inside.
    assert_eq!(names(&data), ["abs-link", "link-out"]);
}
