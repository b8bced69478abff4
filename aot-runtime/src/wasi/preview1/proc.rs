//! The process-level functions of preview 1: arguments and environment, clocks, `poll_oneoff`,
//! random bytes, `sched_yield`, `proc_raise`, and the socket functions (refused: no socket can
//! exist here). `proc_exit` is defined in `preview1.rs` (it unwinds instead of returning).

use super::GuestMemory;
use super::fds::Fd;
use super::types::{Errno, SUBSCRIPTION_CLOCK_ABSTIME, clockid, eventtype, layout};
use crate::prelude::*;
use crate::wasi::WasiCtx;
use crate::wasi::fs::Descriptor;
use core::time::Duration;

type R = Result<(), Errno>;

/// Writes `strings` as preview 1 lays out `args_get`/`environ_get`: a pointer per string at
/// `ptrs`, the NUL-terminated bytes packed at `buf`.
fn write_strings<'s>(
    mem: &mut GuestMemory<'_>,
    strings: impl Iterator<Item = [&'s str; 3]>,
    ptrs: u32,
    buf: u32,
) -> R {
    let (mut ptr, mut at) = (ptrs, buf);
    for parts in strings {
        mem.write_u32(ptr, at)?;
        ptr = ptr.checked_add(4).ok_or(Errno::FAULT)?;
        for part in parts {
            mem.write(at, part.as_bytes())?;
            at = at.checked_add(part.len() as u32).ok_or(Errno::FAULT)?;
        }
        mem.write_u8(at, 0)?;
        at = at.checked_add(1).ok_or(Errno::FAULT)?;
    }
    Ok(())
}

/// Writes the count and total size (NUL terminators included) of `strings`.
fn write_sizes(
    mem: &mut GuestMemory<'_>,
    lens: impl Iterator<Item = usize>,
    count: u32,
    size: u32,
) -> R {
    let (mut n, mut total) = (0u32, 0u32);
    for len in lens {
        n += 1;
        let len = u32::try_from(len).map_err(|_| Errno::OVERFLOW)?;
        total = total
            .checked_add(len)
            .and_then(|t| t.checked_add(1))
            .ok_or(Errno::OVERFLOW)?;
    }
    mem.check(count, 4)?;
    mem.check(size, 4)?;
    mem.write_u32(count, n)?;
    mem.write_u32(size, total)
}

pub(super) fn args_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    argv: u32,
    argv_buf: u32,
) -> R {
    write_strings(
        mem,
        ctx.args.iter().map(|a| [a.as_str(), "", ""]),
        argv,
        argv_buf,
    )
}

pub(super) fn args_sizes_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    argc: u32,
    size: u32,
) -> R {
    write_sizes(mem, ctx.args.iter().map(String::len), argc, size)
}

pub(super) fn environ_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    environ: u32,
    buf: u32,
) -> R {
    let vars = ctx.env.iter().map(|(k, v)| [k.as_str(), "=", v.as_str()]);
    write_strings(mem, vars, environ, buf)
}

pub(super) fn environ_sizes_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    count: u32,
    size: u32,
) -> R {
    write_sizes(
        mem,
        ctx.env.iter().map(|(k, v)| k.len() + 1 + v.len()),
        count,
        size,
    )
}

/// The current time of clock `id` in nanoseconds (`EINVAL` for the CPU-time clocks).
fn now(ctx: &WasiCtx, id: u32) -> Result<u64, Errno> {
    match id {
        clockid::REALTIME => {
            u64::try_from(ctx.wall_clock.now().as_nanos()).map_err(|_| Errno::OVERFLOW)
        }
        clockid::MONOTONIC => Ok(ctx.monotonic_clock.now()),
        _ => Err(Errno::INVAL),
    }
}

pub(super) fn clock_res_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    id: u32,
    resolution: u32,
) -> R {
    let res = match id {
        clockid::REALTIME => {
            u64::try_from(ctx.wall_clock.resolution().as_nanos()).map_err(|_| Errno::OVERFLOW)?
        }
        clockid::MONOTONIC => ctx.monotonic_clock.resolution(),
        _ => return Err(Errno::INVAL),
    };
    mem.write_u64(resolution, res)
}

pub(super) fn clock_time_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    id: u32,
    _precision: u64,
    time: u32,
) -> R {
    let t = now(ctx, id)?;
    mem.write_u64(time, t)
}

/// One event `poll_oneoff` reports.
struct Event {
    userdata: u64,
    error: Errno,
    ty: u8,
    nbytes: u64,
}

/// Waits for the first of the subscriptions at `subscriptions` and reports every one that is
/// ready. Descriptor subscriptions are ready at once; clock subscriptions sleep (in real time)
/// until the earliest deadline when no descriptor is subscribed.
pub(super) fn poll_oneoff(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    subscriptions: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> R {
    if nsubscriptions == 0 {
        return Err(Errno::INVAL);
    }
    let in_size = nsubscriptions
        .checked_mul(layout::SUBSCRIPTION_SIZE)
        .ok_or(Errno::FAULT)?;
    let out_size = nsubscriptions
        .checked_mul(layout::EVENT_SIZE)
        .ok_or(Errno::FAULT)?;
    mem.check(subscriptions, in_size)?;
    mem.check(events, out_size)?;
    mem.check(nevents, 4)?;
    let mut ready = Vec::new();
    // Pending clocks: (userdata, nanoseconds left).
    let mut clocks = Vec::new();
    for i in 0..nsubscriptions {
        let sub = subscriptions + i * layout::SUBSCRIPTION_SIZE;
        let userdata = mem.read_u64(sub)?;
        let event = |error, ty, nbytes| Event {
            userdata,
            error,
            ty,
            nbytes,
        };
        match mem.read_u8(sub + 8)? {
            eventtype::CLOCK => {
                let id = mem.read_u32(sub + 16)?;
                let timeout = mem.read_u64(sub + 24)?;
                let flags = mem.read_u16(sub + 40)?;
                let left = match now(ctx, id) {
                    Ok(now) if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 => {
                        timeout.saturating_sub(now)
                    }
                    Ok(_) => timeout,
                    Err(e) => {
                        ready.push(event(e, eventtype::CLOCK, 0));
                        continue;
                    }
                };
                if left == 0 {
                    ready.push(event(Errno::SUCCESS, eventtype::CLOCK, 0));
                } else {
                    clocks.push((userdata, left));
                }
            }
            ty @ (eventtype::FD_READ | eventtype::FD_WRITE) => {
                let fd = mem.read_u32(sub + 16)?;
                ready.push(match fd_readiness(ctx, fd, ty) {
                    Ok(nbytes) => event(Errno::SUCCESS, ty, nbytes),
                    Err(e) => event(e, ty, 0),
                });
            }
            _ => return Err(Errno::INVAL),
        }
    }
    if ready.is_empty() {
        let wait = clocks.iter().map(|&(_, left)| left).min().unwrap_or(0);
        std::thread::sleep(Duration::from_nanos(wait));
        for &(userdata, left) in &clocks {
            if left <= wait {
                ready.push(Event {
                    userdata,
                    error: Errno::SUCCESS,
                    ty: eventtype::CLOCK,
                    nbytes: 0,
                });
            }
        }
    }
    for (i, e) in (0..).zip(&ready) {
        let at = events + i * layout::EVENT_SIZE;
        mem.write_u64(at, e.userdata)?;
        mem.write_u16(at + 8, e.error.0)?;
        mem.write_u8(at + 10, e.ty)?;
        mem.write(at + 11, &[0; 5])?;
        mem.write_u64(at + 16, e.nbytes)?;
        mem.write(at + 24, &[0; 8])?;
    }
    mem.write_u32(nevents, ready.len() as u32)
}

/// The bytes ready on `fd` for an `fd_read`/`fd_write` subscription: for a file being read, what
/// is left after its position; otherwise 1 (some progress is possible).
fn fd_readiness(ctx: &WasiCtx, fd: u32, ty: u8) -> Result<u64, Errno> {
    match ctx.p1.get(fd)? {
        Fd::File(f) if ty == eventtype::FD_READ => {
            let size = Descriptor::File(f.file.clone()).stat()?.size;
            Ok(size.saturating_sub(f.position))
        }
        Fd::File(_) | Fd::Stdin | Fd::Stdout | Fd::Stderr => Ok(1),
        Fd::Dir(_) => Err(Errno::BADF),
    }
}

pub(super) fn random_get(
    mem: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    buf: u32,
    buf_len: u32,
) -> R {
    let dest = mem.slice_mut(buf, buf_len)?;
    ctx.secure_random.fill_bytes(dest);
    Ok(())
}

pub(super) fn sched_yield(_: &mut GuestMemory<'_>, _: &mut WasiCtx) -> R {
    std::thread::yield_now();
    Ok(())
}

pub(super) fn proc_raise(_: &mut GuestMemory<'_>, _: &mut WasiCtx, _signal: u32) -> R {
    Err(Errno::NOSYS)
}

/// Sockets cannot exist in this implementation: a closed descriptor is `EBADF`, any other one
/// is not a socket (`ENOTSUP`).
fn no_sockets(ctx: &WasiCtx, fd: u32) -> R {
    ctx.p1.get(fd)?;
    Err(Errno::NOTSUP)
}

pub(super) fn sock_accept(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    _flags: u32,
    _accepted: u32,
) -> R {
    no_sockets(ctx, fd)
}

#[allow(clippy::too_many_arguments, reason = "one argument per witx parameter")]
pub(super) fn sock_recv(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    _ri_data: u32,
    _ri_data_len: u32,
    _ri_flags: u32,
    _ro_datalen: u32,
    _ro_flags: u32,
) -> R {
    no_sockets(ctx, fd)
}

pub(super) fn sock_send(
    _: &mut GuestMemory<'_>,
    ctx: &mut WasiCtx,
    fd: u32,
    _si_data: u32,
    _si_data_len: u32,
    _si_flags: u32,
    _so_datalen: u32,
) -> R {
    no_sockets(ctx, fd)
}

pub(super) fn sock_shutdown(_: &mut GuestMemory<'_>, ctx: &mut WasiCtx, fd: u32, _how: u32) -> R {
    no_sockets(ctx, fd)
}
