//! The `fd_*` functions of preview 1: reading, writing, seeking, metadata, directory listing,
//! flags and numbering of open descriptors (stdio, files, directories).

use super::GuestMemory;
use super::fds::{Fd, FileFd};
use super::types::{Errno, fdflags, filetype, filetype_of, fstflags, layout, rights, whence};
use crate::prelude::*;
use crate::wasi::WasiCtx;
use crate::wasi::clocks::Datetime;
use crate::wasi::fs::{Advice, Descriptor, DescriptorStat, FsError, NewTimestamp};
use crate::wasi::pipe::StdinData;

type R = Result<(), Errno>;

/// Which stdio stream a descriptor is, if it is one.
enum Stdio {
    In,
    Out,
    Err,
}

fn stdio(ctx: &WasiCtx, fd: u32) -> Result<Option<Stdio>, Errno> {
    Ok(match ctx.p1.get(fd)? {
        Fd::Stdin => Some(Stdio::In),
        Fd::Stdout => Some(Stdio::Out),
        Fd::Stderr => Some(Stdio::Err),
        Fd::File(_) | Fd::Dir(_) => None,
    })
}

/// The file type preview 1 reports for a stdio stream: a character device when it is a
/// terminal (so that the guest's libc line-buffers it), unknown otherwise.
fn stdio_filetype(ctx: &WasiCtx, s: &Stdio) -> u8 {
    let tty = match s {
        Stdio::In => ctx.stdin.is_terminal(),
        Stdio::Out => ctx.stdout.is_terminal(),
        Stdio::Err => ctx.stderr.is_terminal(),
    };
    if tty {
        filetype::CHARACTER_DEVICE
    } else {
        filetype::UNKNOWN
    }
}

/// Nanoseconds since the epoch of an optional timestamp (0 when unknown).
fn nanos(t: Option<Datetime>) -> Result<u64, Errno> {
    t.map_or(Ok(0), |t| t.to_nanos().ok_or(Errno::OVERFLOW))
}

/// Writes a `$filestat` at `ptr`.
pub(super) fn write_filestat(mem: &mut GuestMemory<'_>, ptr: u32, st: &DescriptorStat) -> R {
    write_filestat_raw(
        mem,
        ptr,
        [
            st.hash.upper,
            st.hash.lower,
            u64::from(filetype_of(st.type_)),
            st.link_count,
            st.size,
            nanos(st.data_access_timestamp)?,
            nanos(st.data_modification_timestamp)?,
            nanos(st.status_change_timestamp)?,
        ],
    )
}

/// Writes the eight 8-byte slots of a `$filestat` (the file type is a `u8` in its slot, the rest
/// of which is padding written as zeros).
fn write_filestat_raw(mem: &mut GuestMemory<'_>, ptr: u32, fields: [u64; 8]) -> R {
    mem.check(ptr, layout::FILESTAT_SIZE)?;
    for (i, v) in (0..).zip(fields) {
        mem.write_u64(ptr + 8 * i, v)?;
    }
    Ok(())
}

/// A new timestamp from the `$fstflags` pair for one time (`set`, `now`).
pub(super) fn new_timestamp(
    value: u64,
    flags: u32,
    set: u16,
    now: u16,
) -> Result<NewTimestamp, Errno> {
    let (set, now) = (flags & u32::from(set) != 0, flags & u32::from(now) != 0);
    match (set, now) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(NewTimestamp::Timestamp(Datetime::from_nanos(value))),
        (false, true) => Ok(NewTimestamp::Now),
        (false, false) => Ok(NewTimestamp::NoChange),
    }
}

/// The two new timestamps of an `fd_filestat_set_times`/`path_filestat_set_times` call.
pub(super) fn new_timestamps(
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<(NewTimestamp, NewTimestamp), Errno> {
    if fst_flags > 0xf {
        return Err(Errno::INVAL);
    }
    Ok((
        new_timestamp(atim, fst_flags, fstflags::ATIM, fstflags::ATIM_NOW)?,
        new_timestamp(mtim, fst_flags, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

pub(super) fn fd_advise(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> R {
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::INVAL),
    };
    Ok(ctx.p1.file(fd)?.file.advise(offset, len, advice)?)
}

pub(super) fn fd_allocate(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    offset: u64,
    len: u64,
) -> R {
    Ok(ctx.p1.file(fd)?.file.allocate(offset, len)?)
}

pub(super) fn fd_close(_: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32) -> R {
    ctx.p1.remove(fd).map(drop)
}

pub(super) fn fd_datasync(_: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32) -> R {
    if stdio(ctx, fd)?.is_some() {
        return Err(Errno::INVAL);
    }
    Ok(ctx.p1.descriptor(fd)?.sync_data()?)
}

pub(super) fn fd_sync(_: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32) -> R {
    if stdio(ctx, fd)?.is_some() {
        return Err(Errno::INVAL);
    }
    Ok(ctx.p1.descriptor(fd)?.sync()?)
}

pub(super) fn fd_fdstat_get(mem: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32, stat: u32) -> R {
    mem.check(stat, layout::FDSTAT_SIZE)?;
    let (ty, flags, base, inheriting) = match ctx.p1.get(fd)? {
        Fd::Stdin => (
            stdio_filetype(ctx, &Stdio::In),
            0,
            rights::FD_READ | rights::POLL_FD_READWRITE,
            0,
        ),
        Fd::Stdout | Fd::Stderr => {
            let s = if matches!(ctx.p1.get(fd)?, Fd::Stdout) {
                Stdio::Out
            } else {
                Stdio::Err
            };
            (
                stdio_filetype(ctx, &s),
                0,
                rights::FD_WRITE | rights::POLL_FD_READWRITE,
                0,
            )
        }
        // Directories advertise every right they can have, and every right as inheritable:
        // wasi-libc masks the rights it asks `path_open` for with the inheritable ones.
        // Permissions are enforced by the preopen, not by rights.
        Fd::Dir(_) => (
            filetype::DIRECTORY,
            0,
            rights::ALL & !rights::FILE_ONLY,
            rights::ALL,
        ),
        Fd::File(f) => {
            let ty = filetype_of(Descriptor::File(f.file.clone()).get_type()?);
            let d = Descriptor::File(f.file.clone()).get_flags();
            let mut flags = 0;
            let mut base = rights::ALL & !rights::FD_READDIR;
            if f.append {
                flags |= fdflags::APPEND;
            }
            if f.nonblock {
                flags |= fdflags::NONBLOCK;
            }
            if d.data_integrity_sync {
                flags |= fdflags::DSYNC;
            }
            if d.requested_write_sync {
                flags |= fdflags::RSYNC;
            }
            if d.file_integrity_sync {
                flags |= fdflags::SYNC;
            }
            if !d.read {
                base &= !rights::FD_READ;
            }
            if !d.write {
                base &= !(rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE);
            }
            (ty, flags, base, 0)
        }
    };
    mem.write_u8(stat, ty)?;
    mem.write_u8(stat + 1, 0)?;
    mem.write_u16(stat + 2, flags)?;
    mem.write_u32(stat + 4, 0)?;
    mem.write_u64(stat + 8, base)?;
    mem.write_u64(stat + 16, inheriting)
}

pub(super) fn fd_fdstat_set_flags(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    flags: u32,
) -> R {
    let f = match ctx.p1.get_mut(fd)? {
        Fd::File(f) => f,
        _ => return Err(Errno::BADF),
    };
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    // Only `append` and `nonblock` can change once a file is open.
    if flags & !(fdflags::APPEND | fdflags::NONBLOCK) != 0 {
        return Err(Errno::INVAL);
    }
    f.append = flags & fdflags::APPEND != 0;
    f.nonblock = flags & fdflags::NONBLOCK != 0;
    Ok(())
}

pub(super) fn fd_fdstat_set_rights(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    _base: u64,
    _inheriting: u64,
) -> R {
    // Rights are not enforced (the preopen's permissions are), so dropping some changes nothing.
    ctx.p1.get(fd).map(drop)
}

pub(super) fn fd_filestat_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    stat: u32,
) -> R {
    if let Some(s) = stdio(ctx, fd)? {
        let ty = u64::from(stdio_filetype(ctx, &s));
        return write_filestat_raw(mem, stat, [0, 0, ty, 0, 0, 0, 0, 0]);
    }
    let st = ctx.p1.descriptor(fd)?.stat()?;
    write_filestat(mem, stat, &st)
}

pub(super) fn fd_filestat_set_size(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    size: u64,
) -> R {
    Ok(ctx.p1.file(fd)?.file.set_size(size)?)
}

pub(super) fn fd_filestat_set_times(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> R {
    let (atime, mtime) = new_timestamps(atim, mtim, fst_flags)?;
    Ok(ctx.p1.descriptor(fd)?.set_times(atime, mtime)?)
}

/// Reads from `file` at `offset` into the guest buffers `iovs`, stopping at the first short
/// read; returns the number of bytes read.
fn read_file_at(
    mem: &mut GuestMemory<'_>,
    f: &FileFd,
    iovs: &[(u32, u32)],
    mut offset: u64,
) -> Result<u32, Errno> {
    let mut total: u32 = 0;
    for &(buf, len) in iovs {
        let n = match f.file.read_at(mem.slice_mut(buf, len)?, offset) {
            Ok(n) => n as u32,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e.into()),
        };
        offset += u64::from(n);
        total = total.checked_add(n).ok_or(Errno::OVERFLOW)?;
        if n < len {
            break;
        }
    }
    Ok(total)
}

/// Writes the guest buffers `iovs` to `file` at `offset` (or at its end when `offset` is
/// `None`); returns the number of bytes written and the offset after them.
fn write_file(
    mem: &GuestMemory<'_>,
    f: &FileFd,
    iovs: &[(u32, u32)],
    mut offset: Option<u64>,
) -> Result<(u32, u64), Errno> {
    let mut total: u32 = 0;
    let mut end = offset.unwrap_or(0);
    for &(buf, len) in iovs {
        let bytes = mem.slice(buf, len)?;
        let res = match offset {
            Some(at) => f.file.write_at(bytes, at).map(|n| at + n as u64),
            None => f.file.append(bytes),
        };
        match res {
            Ok(e) => end = e,
            // What was written stays written: report it, as `writev` does.
            Err(_) if total > 0 => break,
            Err(e) => return Err(e.into()),
        }
        if let Some(at) = &mut offset {
            *at = end;
        }
        total = total.checked_add(len).ok_or(Errno::OVERFLOW)?;
    }
    Ok((total, end))
}

pub(super) fn fd_read(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nread: u32,
) -> R {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nread, 4)?;
    let n = match ctx.p1.get_mut(fd)? {
        Fd::Stdin => {
            let want: u64 = iovs.iter().map(|&(_, len)| u64::from(len)).sum();
            let want = usize::try_from(want).unwrap_or(usize::MAX);
            match ctx.stdin.read(want).map_err(FsError::from)? {
                StdinData::Eof => 0,
                StdinData::Data(data) => {
                    let mut rest = &data[..];
                    for &(buf, len) in &iovs {
                        let k = rest.len().min(len as usize);
                        mem.write(buf, &rest[..k])?;
                        rest = &rest[k..];
                    }
                    data.len() as u32
                }
            }
        }
        Fd::File(f) => {
            let n = read_file_at(mem, f, &iovs, f.position)?;
            f.position += u64::from(n);
            n
        }
        Fd::Stdout | Fd::Stderr | Fd::Dir(_) => return Err(Errno::BADF),
    };
    mem.write_u32(nread, n)
}

pub(super) fn fd_pread(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nread: u32,
) -> R {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nread, 4)?;
    let n = read_file_at(mem, ctx.p1.file(fd)?, &iovs, offset)?;
    mem.write_u32(nread, n)
}

pub(super) fn fd_write(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nwritten: u32,
) -> R {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nwritten, 4)?;
    let sink = match ctx.p1.get_mut(fd)? {
        Fd::Stdout => &ctx.stdout,
        Fd::Stderr => &ctx.stderr,
        Fd::File(f) => {
            let at = if f.append { None } else { Some(f.position) };
            let (n, end) = write_file(mem, f, &iovs, at)?;
            f.position = end;
            return mem.write_u32(nwritten, n);
        }
        Fd::Stdin | Fd::Dir(_) => return Err(Errno::BADF),
    };
    let mut total: u32 = 0;
    for &(buf, len) in &iovs {
        match sink.write(mem.slice(buf, len)?) {
            Ok(()) => total = total.checked_add(len).ok_or(Errno::OVERFLOW)?,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    mem.write_u32(nwritten, total)
}

pub(super) fn fd_pwrite(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nwritten: u32,
) -> R {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nwritten, 4)?;
    let (n, _) = write_file(mem, ctx.p1.file(fd)?, &iovs, Some(offset))?;
    mem.write_u32(nwritten, n)
}

pub(super) fn fd_prestat_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    prestat: u32,
) -> R {
    let Fd::Dir(d) = ctx.p1.get(fd)? else {
        return Err(Errno::BADF);
    };
    let Some(name) = &d.preopen else {
        return Err(Errno::BADF);
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
    mem.check(prestat, layout::PRESTAT_SIZE)?;
    // Tag 0 (`preopentype::dir`), padding, then the name's length.
    mem.write_u32(prestat, 0)?;
    mem.write_u32(prestat + 4, len)
}

pub(super) fn fd_prestat_dir_name(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    path: u32,
    path_len: u32,
) -> R {
    let Fd::Dir(d) = ctx.p1.get(fd)? else {
        return Err(Errno::BADF);
    };
    let Some(name) = &d.preopen else {
        return Err(Errno::BADF);
    };
    if name.len() > path_len as usize {
        return Err(Errno::NAMETOOLONG);
    }
    mem.write(path, name.as_bytes())
}

pub(super) fn fd_readdir(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    bufused: u32,
) -> R {
    let dir = match ctx.p1.get(fd)? {
        Fd::Dir(d) => d.dir.clone(),
        _ => return Err(Errno::NOTDIR),
    };
    mem.check(buf, buf_len)?;
    mem.check(bufused, 4)?;
    let own = Descriptor::Dir(dir.clone()).metadata_hash()?;
    // The cookie of an entry is its index in this listing: `.`, `..`, then the host's order.
    let dots = [
        (".".to_string(), filetype::DIRECTORY, own.lower),
        ("..".to_string(), filetype::DIRECTORY, own.lower),
    ];
    let entries = dir
        .read_directory()?
        .map(|e| e.map(|e| (e.name, filetype_of(e.type_), e.hash.lower)));
    let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut out: Vec<u8> = Vec::new();
    for (next, entry) in (1u64..)
        .zip(dots.into_iter().map(Ok).chain(entries))
        .skip(skip)
    {
        if out.len() >= buf_len as usize {
            break;
        }
        let (name, ty, ino) = entry?;
        let namlen = u32::try_from(name.len()).map_err(|_| Errno::NAMETOOLONG)?;
        let mut dirent = [0u8; layout::DIRENT_SIZE as usize];
        dirent[0..8].copy_from_slice(&next.to_le_bytes());
        dirent[8..16].copy_from_slice(&ino.to_le_bytes());
        dirent[16..20].copy_from_slice(&namlen.to_le_bytes());
        dirent[20] = ty;
        out.extend_from_slice(&dirent);
        out.extend_from_slice(name.as_bytes());
    }
    // A full buffer (the last entry possibly cut) tells the guest to ask again from its cookie.
    let n = out.len().min(buf_len as usize);
    mem.write(buf, &out[..n])?;
    mem.write_u32(bufused, n as u32)
}

pub(super) fn fd_renumber(_: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32, to: u32) -> R {
    ctx.p1.renumber(fd, to)
}

pub(super) fn fd_seek(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    offset: i64,
    how: u32,
    newoffset: u32,
) -> R {
    mem.check(newoffset, 8)?;
    let f = ctx.p1.file(fd)?;
    let base = match u8::try_from(how).map_err(|_| Errno::INVAL)? {
        whence::SET => 0,
        whence::CUR => f.position,
        whence::END => Descriptor::File(f.file.clone()).stat()?.size,
        _ => return Err(Errno::INVAL),
    };
    let pos = base.checked_add_signed(offset).ok_or(Errno::INVAL)?;
    if pos > i64::MAX as u64 {
        return Err(Errno::INVAL);
    }
    f.position = pos;
    mem.write_u64(newoffset, pos)
}

pub(super) fn fd_tell(mem: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32, offset: u32) -> R {
    let pos = ctx.p1.file(fd)?.position;
    mem.write_u64(offset, pos)
}
