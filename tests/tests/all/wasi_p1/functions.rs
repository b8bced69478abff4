//! Every preview-1 function, one by one, called through a guest that forwards to its imports,
//! with arguments and memory set up by the test: files, directories, links, listing with
//! cookies, flags, times, stdio, `poll_oneoff`, and the refused functions.

use super::*;
use aot_runtime::Val;
use aot_runtime::wasi::WasiCtx;

/// Every preview-1 function but `proc_exit`, with its core signature from the witx (`I` = i32,
/// `L` = i64; every one returns an i32 errno).
const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "II"),
    ("args_sizes_get", "II"),
    ("environ_get", "II"),
    ("environ_sizes_get", "II"),
    ("clock_res_get", "II"),
    ("clock_time_get", "ILI"),
    ("fd_advise", "ILLI"),
    ("fd_allocate", "ILL"),
    ("fd_close", "I"),
    ("fd_datasync", "I"),
    ("fd_fdstat_get", "II"),
    ("fd_fdstat_set_flags", "II"),
    ("fd_fdstat_set_rights", "ILL"),
    ("fd_filestat_get", "II"),
    ("fd_filestat_set_size", "IL"),
    ("fd_filestat_set_times", "ILLI"),
    ("fd_pread", "IIILI"),
    ("fd_prestat_get", "II"),
    ("fd_prestat_dir_name", "III"),
    ("fd_pwrite", "IIILI"),
    ("fd_read", "IIII"),
    ("fd_readdir", "IIILI"),
    ("fd_renumber", "II"),
    ("fd_seek", "ILII"),
    ("fd_sync", "I"),
    ("fd_tell", "II"),
    ("fd_write", "IIII"),
    ("path_create_directory", "III"),
    ("path_filestat_get", "IIIII"),
    ("path_filestat_set_times", "IIIILLI"),
    ("path_link", "IIIIIII"),
    ("path_open", "IIIIILLII"),
    ("path_readlink", "IIIIII"),
    ("path_remove_directory", "III"),
    ("path_rename", "IIIIII"),
    ("path_symlink", "IIIII"),
    ("path_unlink_file", "III"),
    ("poll_oneoff", "IIII"),
    ("proc_raise", "I"),
    ("sched_yield", ""),
    ("random_get", "II"),
    ("sock_accept", "III"),
    ("sock_recv", "IIIIII"),
    ("sock_send", "IIIII"),
    ("sock_shutdown", "II"),
];

/// A guest exporting `memory` and, for every function of [`SIGNATURES`], a wasm function of the
/// same name and type that calls the import (host functions see the guest's memory only when
/// wasm calls them). Linking it checks every signature against the witx.
struct Sys {
    store: Store<WasiCtx>,
    instance: aot_runtime::Instance,
    memory: aot_runtime::Memory,
}

fn i(v: u32) -> Val {
    Val::I32(v as i32)
}

fn l(v: i64) -> Val {
    Val::I64(v)
}

impl Sys {
    fn new(builder: &mut WasiCtxBuilder) -> Sys {
        let mut wat = String::from("(module\n");
        let ty = |sig: &str| {
            sig.chars()
                .map(|c| if c == 'I' { " i32" } else { " i64" })
                .collect::<String>()
        };
        for (name, sig) in SIGNATURES {
            wat += &format!(
                "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param{}) (result i32)))\n",
                ty(sig)
            );
        }
        wat += "(memory (export \"memory\") 1)\n";
        for (name, sig) in SIGNATURES {
            let gets: String = (0..sig.len())
                .map(|k| format!(" (local.get {k})"))
                .collect();
            wat += &format!(
                "(func (export \"{name}\") (param{}) (result i32) (call ${name}{gets}))\n",
                ty(sig)
            );
        }
        wat += ")";
        let module = aot_tests::module(&wat);
        let mut store = Store::new(builder.build());
        let mut linker = Linker::new();
        preview1::add_to_linker(&mut linker).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Sys {
            store,
            instance,
            memory,
        }
    }

    /// Calls `name` and returns the errno.
    fn call(&mut self, name: &str, args: &[Val]) -> u32 {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut results = [Val::I32(0)];
        f.call(&mut self.store, args, &mut results)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match results[0] {
            Val::I32(v) => v as u32,
            _ => unreachable!(),
        }
    }

    fn write(&mut self, at: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, at as usize, bytes)
            .unwrap();
    }

    fn read(&self, at: u32, len: u32) -> Vec<u8> {
        let mut buf = vec![0; len as usize];
        self.memory
            .read(&self.store, at as usize, &mut buf)
            .unwrap();
        buf
    }

    fn u32(&self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    fn u64(&self, at: u32) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// Writes `s` at `at` and returns its (pointer, length) arguments.
    fn str(&mut self, at: u32, s: &str) -> [Val; 2] {
        self.write(at, s.as_bytes());
        [i(at), i(s.len() as u32)]
    }

    /// Writes one iovec at `iov` for `len` bytes at `buf` and returns its (pointer, count).
    fn iov(&mut self, iov: u32, buf: u32, len: u32) -> [Val; 2] {
        self.write(iov, &buf.to_le_bytes());
        self.write(iov + 4, &len.to_le_bytes());
        [i(iov), i(1)]
    }
}

// Errno values (wasi-libc's numbering).
const BADF: u32 = 8;
const EXIST: u32 = 20;
const FAULT: u32 = 21;
const ILSEQ: u32 = 25;
const INVAL: u32 = 28;
const ISDIR: u32 = 31;
const NAMETOOLONG: u32 = 37;
const NOENT: u32 = 44;
const NOSYS: u32 = 52;
const NOTDIR: u32 = 54;
const NOTEMPTY: u32 = 55;
const NOTSUP: u32 = 58;
const PERM: u32 = 63;
const SPIPE: u32 = 70;

/// Scratch addresses in the harness guest's memory.
const PATH: u32 = 0;
const PATH2: u32 = 256;
const IOV: u32 = 512;
const OUT: u32 = 1024;
const OUT2: u32 = 1032;
const BUF: u32 = 4096;

/// Rights wasi-libc asks for a read-write file.
const RW_RIGHTS: i64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 22);

impl Sys {
    /// `path_open` relative to `dir`; returns (errno, new descriptor).
    fn open(&mut self, dir: u32, path: &str, oflags: u32, rights: i64, fdflags: u32) -> (u32, u32) {
        let [p, n] = self.str(PATH, path);
        let e = self.call(
            "path_open",
            &[
                i(dir),
                i(1),
                p,
                n,
                i(oflags),
                l(rights),
                l(0),
                i(fdflags),
                i(OUT),
            ],
        );
        (e, self.u32(OUT))
    }

    /// `fd_write` of `data`; returns (errno, bytes written).
    fn fd_write(&mut self, fd: u32, data: &[u8]) -> (u32, u32) {
        self.write(BUF, data);
        let [v, c] = self.iov(IOV, BUF, data.len() as u32);
        let e = self.call("fd_write", &[i(fd), v, c, i(OUT)]);
        (e, self.u32(OUT))
    }

    /// `fd_read` of up to `len` bytes; returns (errno, bytes).
    fn fd_read(&mut self, fd: u32, len: u32) -> (u32, Vec<u8>) {
        let [v, c] = self.iov(IOV, BUF, len);
        let e = self.call("fd_read", &[i(fd), v, c, i(OUT)]);
        let n = self.u32(OUT);
        (e, self.read(BUF, n))
    }

    /// `fd_seek`; returns (errno, new offset).
    fn seek(&mut self, fd: u32, offset: i64, whence: u32) -> (u32, u64) {
        let e = self.call("fd_seek", &[i(fd), l(offset), i(whence), i(OUT)]);
        (e, self.u64(OUT))
    }

    /// `path_filestat_get`; returns (errno, [dev, ino, filetype, nlink, size, atim, mtim, ctim]).
    fn path_stat(&mut self, dir: u32, flags: u32, path: &str) -> (u32, [u64; 8]) {
        let [p, n] = self.str(PATH, path);
        let e = self.call("path_filestat_get", &[i(dir), i(flags), p, n, i(BUF)]);
        (e, core::array::from_fn(|k| self.u64(BUF + 8 * k as u32)))
    }

    /// Every entry of directory `fd` as (name, filetype), read `buf_len` bytes at a time
    /// through cookies.
    fn list(&mut self, fd: u32, buf_len: u32) -> Vec<(String, u8)> {
        let mut out = Vec::new();
        let mut cookie = 0u64;
        loop {
            let e = self.call(
                "fd_readdir",
                &[i(fd), i(BUF), i(buf_len), l(cookie as i64), i(OUT)],
            );
            assert_eq!(e, 0);
            let used = self.u32(OUT);
            let bytes = self.read(BUF, used);
            let mut at = 0usize;
            while at + 24 <= bytes.len() {
                let next = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
                let namlen = u32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap());
                let end = at + 24 + namlen as usize;
                if end > bytes.len() {
                    break;
                }
                let name = String::from_utf8(bytes[at + 24..end].to_vec()).unwrap();
                out.push((name, bytes[at + 20]));
                cookie = next;
                at = end;
            }
            if used < buf_len {
                return out;
            }
            assert!(at > 0, "a {buf_len}-byte buffer holds no whole entry");
        }
    }
}

#[test]
fn every_function_links_with_its_witx_signature() {
    let mut sys = Sys::new(&mut WasiCtxBuilder::new());
    assert_eq!(sys.call("sched_yield", &[]), 0);
    assert_eq!(sys.call("proc_raise", &[i(15)]), NOSYS);
    // No socket can exist: a closed descriptor is EBADF, an open one is not a socket.
    assert_eq!(sys.call("sock_accept", &[i(1), i(0), i(OUT)]), NOTSUP);
    assert_eq!(
        sys.call("sock_recv", &[i(99), i(0), i(0), i(0), i(OUT), i(OUT2)]),
        BADF
    );
    assert_eq!(
        sys.call("sock_send", &[i(1), i(0), i(0), i(0), i(OUT)]),
        NOTSUP
    );
    assert_eq!(sys.call("sock_shutdown", &[i(2), i(3)]), NOTSUP);
}

#[test]
fn files_through_every_fd_function() {
    let tmp = TempDir::new();
    let mut builder = WasiCtxBuilder::new();
    builder
        .preopened_dir(tmp.path(), "/data", DirPerms::all(), FilePerms::all())
        .unwrap();
    let mut sys = Sys::new(&mut builder);

    // The preopen.
    assert_eq!(sys.call("fd_prestat_get", &[i(3), i(OUT)]), 0);
    assert_eq!((sys.u32(OUT) & 0xff, sys.u32(OUT + 4)), (0, 5));
    assert_eq!(sys.call("fd_prestat_dir_name", &[i(3), i(BUF), i(5)]), 0);
    assert_eq!(sys.read(BUF, 5), b"/data");
    assert_eq!(
        sys.call("fd_prestat_dir_name", &[i(3), i(BUF), i(4)]),
        NAMETOOLONG
    );
    assert_eq!(sys.call("fd_prestat_get", &[i(4), i(OUT)]), BADF);
    assert_eq!(sys.call("fd_prestat_get", &[i(1), i(OUT)]), BADF);

    // Create, write, seek, read.
    let (e, fd) = sys.open(3, "f.txt", 1 | 4, RW_RIGHTS, 0);
    assert_eq!((e, fd), (0, 4));
    assert_eq!(sys.open(3, "f.txt", 1 | 4, RW_RIGHTS, 0).0, EXIST);
    assert_eq!(sys.fd_write(fd, b"hello world"), (0, 11));
    assert_eq!(sys.call("fd_tell", &[i(fd), i(OUT)]), 0);
    assert_eq!(sys.u64(OUT), 11);
    assert_eq!(sys.seek(fd, 0, 0), (0, 0));
    assert_eq!(sys.fd_read(fd, 5), (0, b"hello".to_vec()));
    assert_eq!(sys.seek(fd, -2, 2), (0, 9));
    assert_eq!(sys.fd_read(fd, 100), (0, b"ld".to_vec()));
    assert_eq!(sys.fd_read(fd, 100), (0, Vec::new()));
    assert_eq!(sys.seek(fd, -100, 1).0, INVAL);
    assert_eq!(sys.seek(fd, 0, 7).0, INVAL);

    // Positional reads and writes leave the position alone.
    sys.write(BUF, b"J");
    let [v, c] = sys.iov(IOV, BUF, 1);
    assert_eq!(sys.call("fd_pwrite", &[i(fd), v, c, l(0), i(OUT)]), 0);
    let [v, c] = sys.iov(IOV, BUF + 100, 4);
    assert_eq!(sys.call("fd_pread", &[i(fd), v, c, l(6), i(OUT)]), 0);
    assert_eq!(
        (sys.u32(OUT), sys.read(BUF + 100, 4)),
        (4, b"worl".to_vec())
    );
    assert_eq!(sys.call("fd_tell", &[i(fd), i(OUT)]), 0);
    assert_eq!(sys.u64(OUT), 11);
    assert_eq!(
        std::fs::read(tmp.path().join("f.txt")).unwrap(),
        b"Jello world"
    );

    // fdstat: a regular file, readable and writable; then append mode.
    assert_eq!(sys.call("fd_fdstat_get", &[i(fd), i(OUT)]), 0);
    let stat = sys.read(OUT, 24);
    assert_eq!((stat[0], u16::from_le_bytes([stat[2], stat[3]])), (4, 0));
    let base = sys.u64(OUT + 8);
    assert_ne!(base & (1 << 1), 0, "fd_read right");
    assert_ne!(base & (1 << 6), 0, "fd_write right");
    assert_eq!(sys.call("fd_fdstat_set_flags", &[i(fd), i(1)]), 0);
    assert_eq!(sys.seek(fd, 0, 0), (0, 0));
    assert_eq!(sys.fd_write(fd, b"!"), (0, 1));
    assert_eq!(sys.call("fd_tell", &[i(fd), i(OUT)]), 0);
    assert_eq!(sys.u64(OUT), 12);
    assert_eq!(sys.call("fd_fdstat_get", &[i(fd), i(OUT)]), 0);
    assert_eq!(sys.read(OUT + 2, 2), [1, 0], "append flag");
    assert_eq!(sys.call("fd_fdstat_set_flags", &[i(fd), i(1 << 4)]), INVAL);
    assert_eq!(sys.call("fd_fdstat_set_flags", &[i(3), i(0)]), BADF);
    assert_eq!(sys.call("fd_fdstat_set_rights", &[i(fd), l(0), l(0)]), 0);
    assert_eq!(
        std::fs::read(tmp.path().join("f.txt")).unwrap(),
        b"Jello world!"
    );

    // Size, allocation, advice, sync.
    assert_eq!(sys.call("fd_filestat_set_size", &[i(fd), l(5)]), 0);
    assert_eq!(sys.call("fd_filestat_get", &[i(fd), i(BUF)]), 0);
    assert_eq!(
        (
            sys.u64(BUF + 16) & 0xff,
            sys.u64(BUF + 24),
            sys.u64(BUF + 32)
        ),
        (4, 1, 5)
    );
    assert_eq!(sys.call("fd_allocate", &[i(fd), l(4), l(4)]), 0);
    assert_eq!(
        std::fs::read(tmp.path().join("f.txt")).unwrap(),
        b"Jello\0\0\0"
    );
    assert_eq!(sys.call("fd_advise", &[i(fd), l(0), l(8), i(2)]), 0);
    assert_eq!(sys.call("fd_advise", &[i(fd), l(0), l(8), i(9)]), INVAL);
    assert_eq!(sys.call("fd_sync", &[i(fd)]), 0);
    assert_eq!(sys.call("fd_datasync", &[i(fd)]), 0);
    assert_eq!(sys.call("fd_sync", &[i(3)]), 0);

    // Times: explicit values, then both "set" and "now" for one time (EINVAL).
    let t: u64 = 1_000_000_000_123_456_789;
    assert_eq!(
        sys.call(
            "fd_filestat_set_times",
            &[i(fd), l(t as i64), l(t as i64), i(1 | 4)]
        ),
        0
    );
    let (e, st) = sys.path_stat(3, 1, "f.txt");
    assert_eq!((e, st[5], st[6]), (0, t, t));
    assert_eq!(
        sys.call("fd_filestat_set_times", &[i(fd), l(0), l(0), i(1 | 2)]),
        INVAL
    );
    let [p, n] = sys.str(PATH, "f.txt");
    assert_eq!(
        sys.call(
            "path_filestat_set_times",
            &[i(3), i(1), p, n, l(0), l(0), i(2 | 8)]
        ),
        0
    );
    let (_, st) = sys.path_stat(3, 1, "f.txt");
    assert!(st[6] > t, "mtime set to now");

    // Directories, symbolic links, hard links, renames.
    let [p, n] = sys.str(PATH, "d");
    assert_eq!(sys.call("path_create_directory", &[i(3), p, n]), 0);
    assert_eq!(sys.call("path_create_directory", &[i(3), p, n]), EXIST);
    let [p, n] = sys.str(PATH, "f.txt");
    let [q, m] = sys.str(PATH2, "l");
    assert_eq!(sys.call("path_symlink", &[p, n, i(3), q, m]), 0);
    assert_eq!(
        sys.call("path_readlink", &[i(3), q, m, i(BUF), i(100), i(OUT)]),
        0
    );
    assert_eq!(sys.read(BUF, sys.u32(OUT)), b"f.txt");
    assert_eq!(
        sys.call("path_readlink", &[i(3), q, m, i(BUF), i(3), i(OUT)]),
        0
    );
    assert_eq!((sys.u32(OUT), sys.read(BUF, 3)), (3, b"f.t".to_vec()));
    assert_eq!(sys.path_stat(3, 0, "l").1[2], 7, "a symbolic link");
    assert_eq!(
        sys.path_stat(3, 1, "l").1[2],
        4,
        "followed to a regular file"
    );
    let [q, m] = sys.str(PATH2, "abs");
    let [p, n] = sys.str(PATH, "/etc/passwd");
    assert_eq!(sys.call("path_symlink", &[p, n, i(3), q, m]), PERM);
    let [p, n] = sys.str(PATH, "f.txt");
    let [q, m] = sys.str(PATH2, "d/hard");
    assert_eq!(sys.call("path_link", &[i(3), i(0), p, n, i(3), q, m]), 0);
    assert_eq!(sys.path_stat(3, 0, "f.txt").1[3], 2, "two links");
    let (_, a) = sys.path_stat(3, 0, "f.txt");
    let (_, b) = sys.path_stat(3, 0, "d/hard");
    assert_eq!((a[0], a[1]), (b[0], b[1]), "same device and inode");
    let [p, n] = sys.str(PATH, "d/hard");
    let [q, m] = sys.str(PATH2, "h2");
    assert_eq!(sys.call("path_rename", &[i(3), p, n, i(3), q, m]), 0);

    // Listing, one small buffer at a time (entries are cut and asked for again).
    for buf_len in [4096, 40, 30] {
        let mut names = sys.list(3, buf_len);
        names.sort();
        let expected: Vec<(String, u8)> = [
            (".", 3),
            ("..", 3),
            ("d", 3),
            ("f.txt", 4),
            ("h2", 4),
            ("l", 7),
        ]
        .iter()
        .map(|&(n, t)| (n.to_string(), t))
        .collect();
        assert_eq!(names, expected, "buffer of {buf_len} bytes");
    }
    let (e, d) = sys.open(3, "d", 2, 1 << 14, 0);
    assert_eq!(e, 0);
    assert_eq!(sys.list(d, 4096).len(), 2, "only . and ..");
    assert_eq!(
        sys.call("fd_readdir", &[i(fd), i(BUF), i(100), l(0), i(OUT)]),
        NOTDIR
    );

    // Removal errors and removals.
    let [p, n] = sys.str(PATH, "d");
    assert_eq!(sys.call("path_unlink_file", &[i(3), p, n]), ISDIR);
    let [q, m] = sys.str(PATH2, "f.txt");
    assert_eq!(sys.call("path_remove_directory", &[i(3), q, m]), NOTDIR);
    std::fs::write(tmp.path().join("d/x"), "").unwrap();
    assert_eq!(sys.call("path_remove_directory", &[i(3), p, n]), NOTEMPTY);
    std::fs::remove_file(tmp.path().join("d/x")).unwrap();
    assert_eq!(sys.call("path_remove_directory", &[i(3), p, n]), 0);
    for name in ["l", "h2"] {
        let [p, n] = sys.str(PATH, name);
        assert_eq!(sys.call("path_unlink_file", &[i(3), p, n]), 0);
    }
    assert_eq!(sys.path_stat(3, 0, "l").0, NOENT);

    // Bad paths: escaping, not UTF-8, out of bounds; bad directory descriptors.
    assert_eq!(sys.open(3, "../x", 1, RW_RIGHTS, 0).0, PERM);
    sys.write(PATH, b"\xff");
    assert_eq!(
        sys.call(
            "path_open",
            &[i(3), i(0), i(PATH), i(1), i(0), l(2), l(0), i(0), i(OUT)]
        ),
        ILSEQ
    );
    assert_eq!(
        sys.call(
            "path_open",
            &[i(3), i(0), i(65530), i(10), i(0), l(2), l(0), i(0), i(OUT)]
        ),
        FAULT
    );
    assert_eq!(sys.open(1, "f.txt", 0, 2, 0).0, BADF);
    assert_eq!(sys.open(fd, "f.txt", 0, 2, 0).0, NOTDIR);

    // Renumbering and closing.
    let (_, other) = sys.open(3, "f.txt", 0, 2, 0);
    assert_eq!(sys.call("fd_renumber", &[i(other), i(99)]), BADF);
    assert_eq!(sys.call("fd_renumber", &[i(other), i(fd)]), 0);
    assert_eq!(sys.call("fd_close", &[i(other)]), BADF, "moved away");
    assert_eq!(sys.fd_read(fd, 100), (0, b"Jello\0\0\0".to_vec()));
    assert_eq!(sys.fd_write(fd, b"x").0, BADF, "opened read-only");
    assert_eq!(sys.call("fd_close", &[i(fd)]), 0);
    assert_eq!(sys.call("fd_close", &[i(fd)]), BADF);
    assert_eq!(sys.call("fd_close", &[i(d)]), 0);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f.txt"]);
}

#[test]
fn stdio_and_poll_through_fd_functions() {
    let mut sys = Sys::new(WasiCtxBuilder::new().stdin(MemoryInputPipe::new("abc")));
    // Stdin: read, then end of file; not seekable.
    assert_eq!(sys.fd_read(0, 2), (0, b"ab".to_vec()));
    assert_eq!(sys.fd_read(0, 100), (0, b"c".to_vec()));
    assert_eq!(sys.fd_read(0, 100), (0, Vec::new()));
    assert_eq!(sys.seek(0, 0, 0).0, SPIPE);
    assert_eq!(sys.call("fd_tell", &[i(1), i(OUT)]), SPIPE);
    let [v, c] = sys.iov(IOV, BUF, 4);
    assert_eq!(sys.call("fd_pread", &[i(0), v, c, l(0), i(OUT)]), SPIPE);
    assert_eq!(sys.fd_read(1, 1).0, BADF);
    // Captured streams are not terminals: file type unknown, no seek right.
    assert_eq!(sys.call("fd_fdstat_get", &[i(1), i(OUT)]), 0);
    assert_eq!(sys.read(OUT, 1), [0]);
    assert_eq!(sys.u64(OUT + 8) & ((1 << 2) | (1 << 5)), 0);
    assert_eq!(sys.call("fd_filestat_get", &[i(2), i(BUF)]), 0);
    assert_eq!(sys.u64(BUF + 16), 0);
    assert_eq!(sys.call("fd_sync", &[i(1)]), INVAL);
    // A rights change is accepted (rights are not enforced); a closed descriptor is EBADF.
    assert_eq!(sys.call("fd_fdstat_set_rights", &[i(0), l(0), l(0)]), 0);
    assert_eq!(sys.call("fd_fdstat_set_rights", &[i(9), l(0), l(0)]), BADF);

    // poll_oneoff: fd_read on stdin, fd_write on stdout, fd_read on a closed descriptor.
    let subs = BUF;
    for (k, (userdata, ty, fd)) in [(10u64, 1u8, 0u32), (11, 2, 1), (12, 1, 99)]
        .into_iter()
        .enumerate()
    {
        let at = subs + 48 * k as u32;
        sys.write(at, &userdata.to_le_bytes());
        sys.write(at + 8, &[ty]);
        sys.write(at + 16, &fd.to_le_bytes());
    }
    let events = BUF + 1024;
    assert_eq!(
        sys.call("poll_oneoff", &[i(subs), i(events), i(3), i(OUT)]),
        0
    );
    assert_eq!(sys.u32(OUT), 3);
    let event = |sys: &Sys, k: u32| {
        let at = events + 32 * k;
        (
            sys.u64(at),
            sys.u32(at + 8) & 0xffff,
            sys.read(at + 10, 1)[0],
        )
    };
    assert_eq!(event(&sys, 0), (10, 0, 1));
    assert_eq!(event(&sys, 1), (11, 0, 2));
    assert_eq!(event(&sys, 2), (12, BADF, 1));
    assert_eq!(
        sys.call("poll_oneoff", &[i(subs), i(events), i(0), i(OUT)]),
        INVAL
    );
    assert_eq!(
        sys.call("poll_oneoff", &[i(65500), i(events), i(1), i(OUT)]),
        FAULT
    );
    // An absolute monotonic deadline already passed is ready at once.
    sys.write(subs, &7u64.to_le_bytes());
    sys.write(subs + 8, &[0]);
    sys.write(subs + 16, &1u32.to_le_bytes());
    sys.write(subs + 24, &0u64.to_le_bytes());
    sys.write(subs + 40, &1u16.to_le_bytes());
    assert_eq!(
        sys.call("poll_oneoff", &[i(subs), i(events), i(1), i(OUT)]),
        0
    );
    assert_eq!((sys.u32(OUT), event(&sys, 0)), (1, (7, 0, 0)));
}
