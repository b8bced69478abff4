//! The `path_*` functions of preview 1: operations on a path relative to an open directory
//! descriptor, all resolved by the sandboxed filesystem layer (`wasi::fs`).

use super::GuestMemory;
use super::fd::{new_timestamps, write_filestat};
use super::fds::{DirFd, Fd, FileFd};
use super::types::{Errno, LOOKUP_SYMLINK_FOLLOW, fdflags, oflags, rights};
use crate::wasi::WasiCtx;
use crate::wasi::fs::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};

type R = Result<(), Errno>;

fn path_flags(flags: u32) -> Result<PathFlags, Errno> {
    if flags & !LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL);
    }
    Ok(PathFlags {
        symlink_follow: flags & LOOKUP_SYMLINK_FOLLOW != 0,
    })
}

pub(super) fn path_create_directory(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    path: u32,
    path_len: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    Ok(ctx.p1.dir(fd)?.create_directory_at(&path)?)
}

pub(super) fn path_filestat_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    stat: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    let st = ctx.p1.dir(fd)?.stat_at(path_flags(flags)?, &path)?;
    write_filestat(mem, stat, &st)
}

#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn path_filestat_set_times(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    let (atime, mtime) = new_timestamps(atim, mtim, fst_flags)?;
    Ok(ctx
        .p1
        .dir(fd)?
        .set_times_at(path_flags(flags)?, &path, atime, mtime)?)
}

#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn path_link(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> R {
    let old_path = mem.string(old_path, old_path_len)?;
    let new_path = mem.string(new_path, new_path_len)?;
    let old_dir = ctx.p1.dir(old_fd)?;
    let new_dir = ctx.p1.dir(new_fd)?;
    Ok(old_dir.link_at(path_flags(old_flags)?, &old_path, &new_dir, &new_path)?)
}

/// Opens a file or directory. The descriptor is readable when the requested rights include
/// `fd_read` or `fd_readdir`, writable when they include `fd_write`, `fd_allocate` or
/// `fd_filestat_set_size` (what wasi-libc asks for `O_RDONLY`, `O_WRONLY` and `O_RDWR`).
#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn path_open(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    open: u32,
    rights_base: u64,
    _rights_inheriting: u64,
    fd_flags: u32,
    opened_fd: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    mem.check(opened_fd, 4)?;
    let open = u16::try_from(open).map_err(|_| Errno::INVAL)?;
    let fd_flags = u16::try_from(fd_flags).map_err(|_| Errno::INVAL)?;
    let open_flags = OpenFlags {
        create: open & oflags::CREAT != 0,
        directory: open & oflags::DIRECTORY != 0,
        exclusive: open & oflags::EXCL != 0,
        truncate: open & oflags::TRUNC != 0,
    };
    let flags = DescriptorFlags {
        read: rights_base & (rights::FD_READ | rights::FD_READDIR) != 0,
        write: rights_base
            & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE)
            != 0,
        file_integrity_sync: fd_flags & fdflags::SYNC != 0,
        data_integrity_sync: fd_flags & fdflags::DSYNC != 0,
        requested_write_sync: fd_flags & fdflags::RSYNC != 0,
        mutate_directory: false,
    };
    let dir = ctx.p1.dir(fd)?;
    let entry = match dir.open_at(path_flags(dirflags)?, &path, open_flags, flags)? {
        Descriptor::File(file) => Fd::File(FileFd {
            file,
            position: 0,
            append: fd_flags & fdflags::APPEND != 0,
            nonblock: fd_flags & fdflags::NONBLOCK != 0,
        }),
        Descriptor::Dir(dir) => Fd::Dir(DirFd { dir, preopen: None }),
    };
    let new = ctx.p1.insert(entry)?;
    mem.write_u32(opened_fd, new)
}

#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn path_readlink(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    path: u32,
    path_len: u32,
    buf: u32,
    buf_len: u32,
    bufused: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    mem.check(buf, buf_len)?;
    mem.check(bufused, 4)?;
    let target = ctx.p1.dir(fd)?.readlink_at(&path)?;
    // Like `readlink(2)`: the target is cut to the buffer, without a terminating NUL.
    let n = target.len().min(buf_len as usize);
    mem.write(buf, &target.as_bytes()[..n])?;
    mem.write_u32(bufused, n as u32)
}

pub(super) fn path_remove_directory(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    path: u32,
    path_len: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    Ok(ctx.p1.dir(fd)?.remove_directory_at(&path)?)
}

#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn path_rename(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> R {
    let old_path = mem.string(old_path, old_path_len)?;
    let new_path = mem.string(new_path, new_path_len)?;
    let old_dir = ctx.p1.dir(fd)?;
    let new_dir = ctx.p1.dir(new_fd)?;
    Ok(old_dir.rename_at(&old_path, &new_dir, &new_path)?)
}

pub(super) fn path_symlink(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    old_path: u32,
    old_path_len: u32,
    fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> R {
    let old_path = mem.string(old_path, old_path_len)?;
    let new_path = mem.string(new_path, new_path_len)?;
    Ok(ctx.p1.dir(fd)?.symlink_at(&old_path, &new_path)?)
}

pub(super) fn path_unlink_file(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    path: u32,
    path_len: u32,
) -> R {
    let path = mem.string(path, path_len)?;
    Ok(ctx.p1.dir(fd)?.unlink_file_at(&path)?)
}
