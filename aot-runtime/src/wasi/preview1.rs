//! WASI preview 1 (`wasi_snapshot_preview1`) for core modules: [`add_to_linker`] defines every
//! function of the snapshot over the store's [`WasiCtx`], and [`run_command`] runs a command
//! module's `_start`.
//!
//! Each host function finds the caller's memory through its `memory` export, checks every guest
//! pointer and length against it (out of bounds: `EFAULT`, never a host access outside it), does
//! the work on the context, and returns the errno. Only `proc_exit` (and a module without a
//! `memory` export) unwind the guest, with an [`I32Exit`] (or a plain error).
//!
//! What is not supported, and what the guest gets:
//! - `proc_raise`: `ENOSYS` (signals do not exist here).
//! - `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`: `ENOTSUP` (no socket can be
//!   opened: preview 1 has no way to create one, and no socket is preopened); `EBADF` for a
//!   descriptor that is not open.
//! - `clock_res_get`/`clock_time_get` of the process and thread CPU-time clocks: `EINVAL`.
//! - `poll_oneoff`: descriptor subscriptions are always ready at once (reads and writes on files
//!   and stdio never block for long); clock subscriptions sleep in real time.
//! - `fd_fdstat_set_rights`: accepted without effect (rights are not enforced; permissions of
//!   the preopen are).

mod fd;
mod fds;
mod path;
mod proc;
mod types;

pub(crate) use fds::FdTable;

use super::{I32Exit, WasiCtx, WasiView};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::{Caller, Extern, Linker, Memory, Module, Store};
use core::ops::Range;
use types::Errno;

/// The import module name of every preview-1 function.
const MODULE: &str = "wasi_snapshot_preview1";

/// Defines every `wasi_snapshot_preview1` function in `linker`, working on the [`WasiCtx`] of the
/// store's data (through [`WasiView`]).
///
/// # Errors
/// If one of the names is already defined in `linker` and shadowing is not allowed.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    // Each function is `module::name(memory, ctx, args...) -> Result<(), Errno>`; the closure
    // finds the memory and the context and turns the result into the errno the guest gets.
    macro_rules! define {
        ($($module:ident::$name:ident($($arg:ident: $ty:ty),*);)*) => {$(
            linker.func_wrap(
                MODULE,
                stringify!($name),
                |mut caller: Caller<'_, T>, $($arg: $ty),*| -> Result<i32> {
                    with_memory(&mut caller, stringify!($name), |mem, ctx| {
                        $module::$name(mem, ctx, $($arg),*)
                    })
                },
            )?;
        )*};
    }
    define! {
        proc::args_get(argv: u32, argv_buf: u32);
        proc::args_sizes_get(argc: u32, argv_buf_size: u32);
        proc::environ_get(environ: u32, environ_buf: u32);
        proc::environ_sizes_get(count: u32, buf_size: u32);
        proc::clock_res_get(id: u32, resolution: u32);
        proc::clock_time_get(id: u32, precision: u64, time: u32);
        fd::fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
        fd::fd_allocate(fd: u32, offset: u64, len: u64);
        fd::fd_close(fd: u32);
        fd::fd_datasync(fd: u32);
        fd::fd_fdstat_get(fd: u32, stat: u32);
        fd::fd_fdstat_set_flags(fd: u32, flags: u32);
        fd::fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64);
        fd::fd_filestat_get(fd: u32, stat: u32);
        fd::fd_filestat_set_size(fd: u32, size: u64);
        fd::fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32);
        fd::fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32);
        fd::fd_prestat_get(fd: u32, prestat: u32);
        fd::fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
        fd::fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32);
        fd::fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32);
        fd::fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32);
        fd::fd_renumber(fd: u32, to: u32);
        fd::fd_seek(fd: u32, offset: i64, whence: u32, newoffset: u32);
        fd::fd_sync(fd: u32);
        fd::fd_tell(fd: u32, offset: u32);
        fd::fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
        path::path_create_directory(fd: u32, path: u32, path_len: u32);
        path::path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, stat: u32);
        path::path_filestat_set_times(
            fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst_flags: u32
        );
        path::path_link(
            old_fd: u32, old_flags: u32, old_path: u32, old_path_len: u32, new_fd: u32,
            new_path: u32, new_path_len: u32
        );
        path::path_open(
            fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32, rights_base: u64,
            rights_inheriting: u64, fdflags: u32, opened_fd: u32
        );
        path::path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32);
        path::path_remove_directory(fd: u32, path: u32, path_len: u32);
        path::path_rename(
            fd: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32,
            new_path_len: u32
        );
        path::path_symlink(old_path: u32, old_path_len: u32, fd: u32, new_path: u32, new_path_len: u32);
        path::path_unlink_file(fd: u32, path: u32, path_len: u32);
        proc::poll_oneoff(subscriptions: u32, events: u32, nsubscriptions: u32, nevents: u32);
        proc::proc_raise(signal: u32);
        proc::sched_yield();
        proc::random_get(buf: u32, buf_len: u32);
        proc::sock_accept(fd: u32, flags: u32, accepted_fd: u32);
        proc::sock_recv(
            fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32
        );
        proc::sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32);
        proc::sock_shutdown(fd: u32, how: u32);
    }
    // `proc_exit` returns nothing and needs no memory: it unwinds the guest with `I32Exit`.
    linker.func_wrap(MODULE, "proc_exit", |code: u32| -> Result<()> {
        // The exit code is a `u32` in the witx; statuses are `i32` on the host (as `exit(3)`).
        Err(Error::new(I32Exit(code as i32)))
    })?;
    Ok(())
}

/// Runs a command module: instantiates `module` with `linker`, calls its `_start` export, and
/// returns the exit status (0 when `_start` returns, `n` when the guest calls `proc_exit(n)`).
///
/// # Errors
/// Instantiation errors, a missing or mistyped `_start`, and traps or host errors other than an
/// exit.
pub fn run_command<T: WasiView + 'static>(
    store: &mut Store<T>,
    linker: &Linker<T>,
    module: &Module,
) -> Result<i32> {
    let instance = linker.instantiate(&mut *store, module)?;
    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
    match start.call(&mut *store, ()) {
        Ok(()) => Ok(0),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(status)) => Ok(*status),
            None => Err(e),
        },
    }
}

/// Runs `f` on the caller's memory and the store's [`WasiCtx`], returning the errno.
fn with_memory<T: WasiView>(
    caller: &mut Caller<'_, T>,
    name: &str,
    f: impl FnOnce(&mut GuestMemory<'_>, &mut WasiCtx) -> Result<(), Errno>,
) -> Result<i32> {
    let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
        return Err(Error::msg(format!(
            "`{MODULE}::{name}` needs the calling module to export its memory as `memory`"
        )));
    };
    let (bytes, data) = memory_and_data(caller, memory);
    let mut mem = GuestMemory { bytes };
    Ok(match f(&mut mem, data.ctx()) {
        Ok(()) => 0,
        Err(errno) => i32::from(errno.0),
    })
}

/// The bytes of `memory` and the store's data, borrowed at once (they are disjoint parts of the
/// store).
fn memory_and_data<'a, T>(
    caller: &'a mut Caller<'_, T>,
    memory: Memory,
) -> (&'a mut [u8], &'a mut T) {
    let store = &mut *caller.store;
    store.opaque.check(memory.store);
    let bytes = store.opaque.memories[memory.index as usize]
        .mem
        .as_mut_slice();
    (bytes, &mut store.data)
}

/// A guest's linear memory as preview-1 functions see it: every access is bounds-checked and
/// fails with `EFAULT`.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl GuestMemory<'_> {
    /// The byte range `ptr..ptr + len`, if inside the memory.
    fn range(&self, ptr: u32, len: u32) -> Result<Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.bytes.len() {
            return Err(Errno::FAULT);
        }
        Ok(start..end)
    }

    /// The bytes at `ptr..ptr + len`.
    pub(crate) fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The bytes at `ptr..ptr + len`, mutably.
    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// Checks that `len` bytes at `ptr` are inside the memory (for a later write).
    pub(crate) fn check(&self, ptr: u32, len: u32) -> Result<(), Errno> {
        self.range(ptr, len).map(drop)
    }

    fn read_array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub(crate) fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.read_array::<1>(ptr)?[0])
    }

    pub(crate) fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        self.read_array(ptr).map(u16::from_le_bytes)
    }

    pub(crate) fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        self.read_array(ptr).map(u32::from_le_bytes)
    }

    pub(crate) fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        self.read_array(ptr).map(u64::from_le_bytes)
    }

    /// Copies `bytes` to `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    pub(crate) fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write(ptr, &[v])
    }

    pub(crate) fn write_u16(&mut self, ptr: u32, v: u16) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The UTF-8 string at `ptr..ptr + len` (`EILSEQ` if it is not UTF-8).
    pub(crate) fn string(&self, ptr: u32, len: u32) -> Result<String, Errno> {
        let bytes = self.slice(ptr, len)?;
        let s = core::str::from_utf8(bytes).map_err(|_| Errno::ILSEQ)?;
        Ok(s.to_string())
    }

    /// The `(buf, buf_len)` pairs of an `iovec`/`ciovec` array of `count` entries at `ptr`,
    /// each buffer checked to be inside the memory.
    pub(crate) fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let size = count
            .checked_mul(types::layout::IOVEC_SIZE)
            .ok_or(Errno::FAULT)?;
        self.check(ptr, size)?;
        (0..count)
            .map(|i| {
                let at = ptr + i * types::layout::IOVEC_SIZE;
                let buf = self.read_u32(at)?;
                let len = self.read_u32(at + 4)?;
                self.check(buf, len)?;
                Ok((buf, len))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_memory_checks_bounds() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory { bytes: &mut bytes };
        mem.write_u32(60, 0x0403_0201).unwrap();
        assert_eq!(mem.read_u32(60), Ok(0x0403_0201));
        assert_eq!(mem.read_u8(63), Ok(4));
        assert_eq!(mem.read_u32(61), Err(Errno::FAULT));
        assert_eq!(mem.write_u64(57, 1), Err(Errno::FAULT));
        assert_eq!(mem.slice(u32::MAX, 2), Err(Errno::FAULT));
        assert_eq!(mem.slice(64, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(mem.check(65, 0), Err(Errno::FAULT));
        mem.write(0, b"h\xffi").unwrap();
        assert_eq!(mem.string(0, 3), Err(Errno::ILSEQ));
        mem.write(0, b"hi").unwrap();
        assert_eq!(mem.string(0, 2).as_deref(), Ok("hi"));
        // Two iovecs: (32, 4) and (40, 100), the second out of bounds.
        mem.write_u32(8, 32).unwrap();
        mem.write_u32(12, 4).unwrap();
        mem.write_u32(16, 40).unwrap();
        mem.write_u32(20, 100).unwrap();
        assert_eq!(mem.iovecs(8, 1), Ok(vec![(32, 4)]));
        assert_eq!(mem.iovecs(8, 2), Err(Errno::FAULT));
        assert_eq!(mem.iovecs(8, u32::MAX), Err(Errno::FAULT));
        assert_eq!(mem.read_u16(12), Ok(4));
        assert_eq!(mem.read_u64(8), Ok(32 | (4 << 32)));
    }
}
