//! `wasi:io` for WASI 0.2: the host types behind the `input-stream`, `output-stream`, `error`
//! and `pollable` resources ([`InputStream`], [`OutputStream`], [`IoError`], [`Pollable`]), and
//! the `wasi:io/error`, `wasi:io/poll` and `wasi:io/streams` host functions over them.
//!
//! Everything is synchronous. Streams on files and in-memory pipes complete every operation at
//! once, so their pollables are always ready; the inherited stdin blocks in `read` itself.
//! `blocking-*` functions therefore do the same as their non-blocking forms, plus a flush.
//!
//! # Write permits
//!
//! `check-write` grants at most [`WRITE_PERMIT`] bytes (1 MiB); for a stdout or stderr going to a
//! [`MemoryOutputPipe`](crate::wasi::MemoryOutputPipe) it grants the pipe's remaining capacity,
//! and a full pipe is `closed`. The permit does not depend on earlier writes (every write has
//! completed when it returns), so a guest may write without calling `check-write` first.
//! Writing more than the permit traps, as in Wasmtime (its `write exceeded budget`), and so does
//! a `blocking-write-and-flush` or `blocking-write-zeroes-and-flush` of more than 4096 bytes.
//!
//! # Errors
//!
//! A failed read or write is `last-operation-failed` with a new `error` resource
//! ([`IoError`]: the message, and for file streams the filesystem error code that
//! `filesystem-error-code` returns); the end of a stream is `closed`. A bad handle, or dropping
//! a stream while a pollable made from it is alive, traps.

use crate::component::{
    ComponentType, Lift, Linker, LinkerInstance, Lower, Resource, ResourceTable,
    ResourceTableError, ResourceType,
};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::store::StoreContextMut;
use crate::wasi::{OutputSink, StdinData, WasiCtx, WasiView, fs};
use core::time::Duration;
use std::io;

/// The most bytes `check-write` grants at once.
pub(crate) const WRITE_PERMIT: u64 = 1 << 20;

/// The most bytes a `blocking-write-and-flush` or `blocking-write-zeroes-and-flush` may write
/// (the WIT documents the limit; Wasmtime traps beyond it).
const BLOCKING_WRITE_LIMIT: usize = 4096;

/// The most bytes one read returns (a guest may ask for up to 2^64).
const READ_LIMIT: u64 = 1 << 20;

/// The value behind an `input-stream` handle.
pub(crate) enum InputStream {
    /// The guest's standard input ([`WasiCtx::stdin`](crate::wasi::WasiCtx)).
    Stdin,
    /// A file read from `offset`, which each read advances (`read-via-stream`).
    File {
        /// The file.
        file: fs::OpenFile,
        /// Where the next read starts.
        offset: u64,
    },
    /// A stream that has ended: every read reports `closed`.
    #[allow(dead_code, reason = "for streams made closed by their creator")]
    Closed,
}

/// The value behind an `output-stream` handle.
pub(crate) enum OutputStream {
    /// The guest's standard output.
    Stdout,
    /// The guest's standard error.
    Stderr,
    /// A file written at `offset`, which each write advances (`write-via-stream`).
    File {
        /// The file.
        file: fs::OpenFile,
        /// Where the next write starts.
        offset: u64,
    },
    /// A file every write appends to (`append-via-stream`).
    Append {
        /// The file.
        file: fs::OpenFile,
    },
}

/// The value behind a `wasi:io/error.error` handle: what went wrong, and the filesystem error
/// code when the stream is a file's (`filesystem-error-code`).
pub(crate) struct IoError {
    /// The message `to-debug-string` returns.
    pub(crate) message: String,
    /// The filesystem error, for streams on files.
    pub(crate) code: Option<fs::FsError>,
}

impl IoError {
    /// The error of a failed host I/O operation on a standard stream.
    fn io(what: &str, err: &io::Error) -> Self {
        Self {
            message: format!("{what} failed: {err}"),
            code: None,
        }
    }

    /// The error of a failed file operation.
    fn fs(what: &str, code: fs::FsError) -> Self {
        Self {
            message: format!("{what} failed: {code}"),
            code: Some(code),
        }
    }
}

/// The value behind a `pollable` handle: ready now, or at a deadline of the monotonic clock.
pub(crate) enum Pollable {
    /// Always ready (streams on files and pipes, whose operations complete at once).
    Ready,
    /// Ready once the monotonic clock reads at least this many nanoseconds.
    Deadline(u64),
}

/// `wasi:io/streams.stream-error`.
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
pub(crate) enum StreamError {
    /// The last operation failed; the `error` resource says why.
    LastOperationFailed(Resource<IoError>),
    /// The stream has ended (input) or accepts nothing more (output).
    Closed,
}

/// Why a stream operation did not complete, before the `error` resource is made.
enum Failure {
    /// `closed`.
    Closed,
    /// `last-operation-failed`.
    Failed(IoError),
    /// A trap (bad handle, a write beyond the permit).
    Trap(Error),
}

impl From<ResourceTableError> for Failure {
    fn from(err: ResourceTableError) -> Self {
        Failure::Trap(err.into())
    }
}

type StreamResult<T> = core::result::Result<T, Failure>;

/// The WIT result of a stream operation: an `error` resource is pushed for a failure; a trap
/// is the host function's error.
fn finish<T>(
    table: &mut ResourceTable,
    res: StreamResult<T>,
) -> Result<(core::result::Result<T, StreamError>,)> {
    match res {
        Ok(v) => Ok((Ok(v),)),
        Err(Failure::Closed) => Ok((Err(StreamError::Closed),)),
        Err(Failure::Failed(err)) => Ok((Err(StreamError::LastOperationFailed(table.push(err)?)),)),
        Err(Failure::Trap(err)) => Err(err),
    }
}

fn trap(msg: String) -> Failure {
    Failure::Trap(Error::msg(msg))
}

// ---------------------------------------------------------------------------------------------
// Input streams.

/// `read`: up to `len` bytes (at most [`READ_LIMIT`]); `closed` at the end.
fn read(ctx: &mut WasiCtx, stream: &Resource<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
    let len = len.min(READ_LIMIT);
    let WasiCtx { table, stdin, .. } = ctx;
    match table.get_mut(stream)? {
        InputStream::Stdin => match stdin.read(len as usize) {
            Ok(StdinData::Data(bytes)) => Ok(bytes),
            Ok(StdinData::Eof) => Err(Failure::Closed),
            Err(err) => Err(Failure::Failed(IoError::io("reading stdin", &err))),
        },
        InputStream::File { file, offset } => match file.read(len, *offset) {
            Ok((_, true)) => Err(Failure::Closed),
            Ok((bytes, false)) => {
                *offset += bytes.len() as u64;
                Ok(bytes)
            }
            Err(code) => Err(Failure::Failed(IoError::fs("reading the file", code))),
        },
        InputStream::Closed => Err(Failure::Closed),
    }
}

/// `skip`: reads and discards up to `len` bytes, returning how many.
fn skip(ctx: &mut WasiCtx, stream: &Resource<InputStream>, len: u64) -> StreamResult<u64> {
    read(ctx, stream, len).map(|bytes| bytes.len() as u64)
}

// ---------------------------------------------------------------------------------------------
// Output streams.

/// How many bytes a stdout or stderr sink accepts now: a pipe's remaining capacity (`closed`
/// when full), else [`WRITE_PERMIT`].
fn sink_permit(sink: &OutputSink) -> StreamResult<u64> {
    match sink {
        OutputSink::Pipe(pipe) => match pipe.remaining_capacity() as u64 {
            0 => Err(Failure::Closed),
            n => Ok(n.min(WRITE_PERMIT)),
        },
        OutputSink::Discard | OutputSink::Stdout | OutputSink::Stderr => Ok(WRITE_PERMIT),
    }
}

/// `check-write`: how many bytes the next write may hold.
fn check_write(ctx: &mut WasiCtx, stream: &Resource<OutputStream>) -> StreamResult<u64> {
    match ctx.table.get(stream)? {
        OutputStream::Stdout => sink_permit(&ctx.stdout),
        OutputStream::Stderr => sink_permit(&ctx.stderr),
        OutputStream::File { .. } | OutputStream::Append { .. } => Ok(WRITE_PERMIT),
    }
}

/// Writes all of `bytes`, which the caller checked against the permit.
fn write_permitted(
    ctx: &mut WasiCtx,
    stream: &Resource<OutputStream>,
    bytes: &[u8],
) -> StreamResult<()> {
    let WasiCtx {
        table,
        stdout,
        stderr,
        ..
    } = ctx;
    match table.get_mut(stream)? {
        OutputStream::Stdout => stdout
            .write(bytes)
            .map_err(|err| Failure::Failed(IoError::io("writing stdout", &err))),
        OutputStream::Stderr => stderr
            .write(bytes)
            .map_err(|err| Failure::Failed(IoError::io("writing stderr", &err))),
        OutputStream::File { file, offset } => match file.write_at(bytes, *offset) {
            Ok(n) => {
                *offset += n as u64;
                Ok(())
            }
            Err(code) => Err(Failure::Failed(IoError::fs("writing the file", code))),
        },
        OutputStream::Append { file } => match file.append(bytes) {
            Ok(_) => Ok(()),
            Err(code) => Err(Failure::Failed(IoError::fs("appending to the file", code))),
        },
    }
}

/// `write`: traps beyond the permit (see the module docs).
fn write(ctx: &mut WasiCtx, stream: &Resource<OutputStream>, bytes: &[u8]) -> StreamResult<()> {
    let permit = check_write(ctx, stream)?;
    if bytes.len() as u64 > permit {
        return Err(trap(format!(
            "`output-stream.write` of {} bytes exceeds the {permit} bytes `check-write` permits",
            bytes.len()
        )));
    }
    write_permitted(ctx, stream, bytes)
}

/// `flush`: the host's stdout and stderr are flushed; files and pipes have nothing buffered.
fn flush(ctx: &mut WasiCtx, stream: &Resource<OutputStream>) -> StreamResult<()> {
    let res = match ctx.table.get(stream)? {
        OutputStream::Stdout => ctx.stdout.flush(),
        OutputStream::Stderr => ctx.stderr.flush(),
        OutputStream::File { .. } | OutputStream::Append { .. } => Ok(()),
    };
    res.map_err(|err| Failure::Failed(IoError::io("flushing", &err)))
}

/// `blocking-write-and-flush`: at most [`BLOCKING_WRITE_LIMIT`] bytes, written in as many
/// permits as needed (a pipe that fills up ends it with `closed`), then flushed.
fn blocking_write_and_flush(
    ctx: &mut WasiCtx,
    stream: &Resource<OutputStream>,
    what: &str,
    bytes: &[u8],
) -> StreamResult<()> {
    check_blocking_len(what, bytes.len() as u64)?;
    write_all(ctx, stream, bytes)?;
    flush(ctx, stream)
}

/// Traps if a blocking write of `len` bytes exceeds [`BLOCKING_WRITE_LIMIT`].
fn check_blocking_len(what: &str, len: u64) -> StreamResult<()> {
    if len > BLOCKING_WRITE_LIMIT as u64 {
        return Err(trap(format!(
            "`output-stream.{what}` of {len} bytes exceeds its limit of {BLOCKING_WRITE_LIMIT} bytes"
        )));
    }
    Ok(())
}

/// Writes all of `bytes` in permitted pieces.
fn write_all(ctx: &mut WasiCtx, stream: &Resource<OutputStream>, bytes: &[u8]) -> StreamResult<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let permit = check_write(ctx, stream)?;
        let n = rest
            .len()
            .min(usize::try_from(permit).unwrap_or(usize::MAX));
        write_permitted(ctx, stream, &rest[..n])?;
        rest = &rest[n..];
    }
    Ok(())
}

/// `splice`: moves up to `len` bytes (within the permit) from `src` to `dst`.
fn splice(
    ctx: &mut WasiCtx,
    dst: &Resource<OutputStream>,
    src: &Resource<InputStream>,
    len: u64,
) -> StreamResult<u64> {
    let len = len.min(check_write(ctx, dst)?);
    if len == 0 {
        return Ok(0);
    }
    let bytes = read(ctx, src, len)?;
    write_permitted(ctx, dst, &bytes)?;
    Ok(bytes.len() as u64)
}

// ---------------------------------------------------------------------------------------------
// Pollables.

/// Whether `p` is ready when the monotonic clock reads `now`.
fn is_ready(p: &Pollable, now: u64) -> bool {
    match p {
        Pollable::Ready => true,
        Pollable::Deadline(when) => *when <= now,
    }
}

/// The deadline of `p`, if it has one.
fn deadline(p: &Pollable) -> Option<u64> {
    match p {
        Pollable::Ready => None,
        Pollable::Deadline(when) => Some(*when),
    }
}

/// `poll`: the indices of the ready pollables; when none is, sleeps (in real time) until the
/// earliest deadline, then reports every pollable due by then. Traps on an empty list.
fn poll(ctx: &mut WasiCtx, list: &[Resource<Pollable>]) -> Result<Vec<u32>> {
    if list.is_empty() {
        return Err(Error::msg("`poll` called with an empty list of pollables"));
    }
    if u32::try_from(list.len()).is_err() {
        return Err(Error::msg("`poll` called with more than 2^32 pollables"));
    }
    let pollables = list
        .iter()
        .map(|p| ctx.table.get(p))
        .collect::<core::result::Result<Vec<_>, _>>()?;
    let now = ctx.monotonic_clock.now();
    let mut ready: Vec<u32> = (0..list.len() as u32)
        .filter(|i| is_ready(pollables[*i as usize], now))
        .collect();
    if ready.is_empty() {
        // Every pollable has a deadline in the future (none is ready).
        let earliest = pollables
            .iter()
            .filter_map(|p| deadline(p))
            .min()
            .unwrap_or(now);
        std::thread::sleep(Duration::from_nanos(earliest.saturating_sub(now)));
        ready = (0..list.len() as u32)
            .filter(|i| is_ready(pollables[*i as usize], earliest))
            .collect();
    }
    Ok(ready)
}

// ---------------------------------------------------------------------------------------------
// The linker.

/// A host function's view of the WASI context.
fn ctx<'a, T: WasiView>(store: &'a mut StoreContextMut<'_, T>) -> &'a mut WasiCtx {
    store.data_mut().ctx()
}

/// Defines `wasi:io/error`, `wasi:io/poll` and `wasi:io/streams` at 0.2.6.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    add_error(linker)?;
    add_poll(linker)?;
    add_streams(linker)
}

/// Defines the resource type `name` in `inst` as the host type `R`, whose destructor deletes
/// the value from the table (a value with children traps).
fn define_resource<T: WasiView + 'static, R: Send + 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
) -> Result<()> {
    inst.resource(name, ResourceType::host::<R>(), |mut store, rep| {
        ctx(&mut store).table.delete(Resource::<R>::new_own(rep))?;
        Ok(())
    })
}

/// The `wasi:io` resources by WIT name: an interface that `use`s one of them re-exports it, and
/// the linker needs a definition in that interface too (the same host type).
pub(crate) fn define_io_resource<T: WasiView + 'static>(
    inst: &mut LinkerInstance<'_, T>,
    name: &str,
) -> Result<()> {
    match name {
        "error" => define_resource::<T, IoError>(inst, name),
        "pollable" => define_resource::<T, Pollable>(inst, name),
        "input-stream" => define_resource::<T, InputStream>(inst, name),
        "output-stream" => define_resource::<T, OutputStream>(inst, name),
        _ => Err(Error::bug(format!("`{name}` is not a `wasi:io` resource"))),
    }
}

fn add_error<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut inst = linker.instance("wasi:io/error@0.2.6")?;
    define_io_resource(&mut inst, "error")?;
    inst.func_wrap(
        "[method]error.to-debug-string",
        |mut store, (this,): (Resource<IoError>,)| {
            Ok((ctx(&mut store).table.get(&this)?.message.clone(),))
        },
    )
}

fn add_poll<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut inst = linker.instance("wasi:io/poll@0.2.6")?;
    define_io_resource(&mut inst, "pollable")?;
    inst.func_wrap(
        "[method]pollable.ready",
        |mut store, (this,): (Resource<Pollable>,)| {
            let ctx = ctx(&mut store);
            let now = ctx.monotonic_clock.now();
            Ok((is_ready(ctx.table.get(&this)?, now),))
        },
    )?;
    inst.func_wrap(
        "[method]pollable.block",
        |mut store, (this,): (Resource<Pollable>,)| {
            poll(ctx(&mut store), &[this])?;
            Ok(())
        },
    )?;
    inst.func_wrap("poll", |mut store, (list,): (Vec<Resource<Pollable>>,)| {
        Ok((poll(ctx(&mut store), &list)?,))
    })
}

fn add_streams<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut inst = linker.instance("wasi:io/streams@0.2.6")?;
    for name in ["input-stream", "output-stream", "error", "pollable"] {
        define_io_resource(&mut inst, name)?;
    }

    // Input streams: reads complete at once (or block on the inherited stdin), so the blocking
    // forms are the same functions.
    for name in ["read", "blocking-read"] {
        inst.func_wrap(
            &format!("[method]input-stream.{name}"),
            |mut store, (this, len): (Resource<InputStream>, u64)| {
                let ctx = ctx(&mut store);
                let res = read(ctx, &this, len);
                finish(&mut ctx.table, res)
            },
        )?;
    }
    for name in ["skip", "blocking-skip"] {
        inst.func_wrap(
            &format!("[method]input-stream.{name}"),
            |mut store, (this, len): (Resource<InputStream>, u64)| {
                let ctx = ctx(&mut store);
                let res = skip(ctx, &this, len);
                finish(&mut ctx.table, res)
            },
        )?;
    }
    inst.func_wrap(
        "[method]input-stream.subscribe",
        |mut store, (this,): (Resource<InputStream>,)| {
            Ok((ctx(&mut store).table.push_child(Pollable::Ready, &this)?,))
        },
    )?;

    // Output streams.
    inst.func_wrap(
        "[method]output-stream.check-write",
        |mut store, (this,): (Resource<OutputStream>,)| {
            let ctx = ctx(&mut store);
            let res = check_write(ctx, &this);
            finish(&mut ctx.table, res)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.write",
        |mut store, (this, bytes): (Resource<OutputStream>, Vec<u8>)| {
            let ctx = ctx(&mut store);
            let res = write(ctx, &this, &bytes);
            finish(&mut ctx.table, res)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |mut store, (this, bytes): (Resource<OutputStream>, Vec<u8>)| {
            let ctx = ctx(&mut store);
            let res = blocking_write_and_flush(ctx, &this, "blocking-write-and-flush", &bytes);
            finish(&mut ctx.table, res)
        },
    )?;
    for name in ["flush", "blocking-flush"] {
        inst.func_wrap(
            &format!("[method]output-stream.{name}"),
            |mut store, (this,): (Resource<OutputStream>,)| {
                let ctx = ctx(&mut store);
                let res = flush(ctx, &this);
                finish(&mut ctx.table, res)
            },
        )?;
    }
    inst.func_wrap(
        "[method]output-stream.subscribe",
        |mut store, (this,): (Resource<OutputStream>,)| {
            Ok((ctx(&mut store).table.push_child(Pollable::Ready, &this)?,))
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.write-zeroes",
        |mut store, (this, len): (Resource<OutputStream>, u64)| {
            let ctx = ctx(&mut store);
            let res = check_write(ctx, &this).and_then(|permit| {
                if len > permit {
                    return Err(trap(format!(
                        "`output-stream.write-zeroes` of {len} bytes exceeds the {permit} bytes \
                         `check-write` permits"
                    )));
                }
                write_permitted(ctx, &this, &vec![0; len as usize])
            });
            finish(&mut ctx.table, res)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |mut store, (this, len): (Resource<OutputStream>, u64)| {
            let ctx = ctx(&mut store);
            let what = "blocking-write-zeroes-and-flush";
            let res = check_blocking_len(what, len)
                .and_then(|()| blocking_write_and_flush(ctx, &this, what, &vec![0; len as usize]));
            finish(&mut ctx.table, res)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.splice",
        |mut store, (this, src, len): (Resource<OutputStream>, Resource<InputStream>, u64)| {
            let ctx = ctx(&mut store);
            let res = splice(ctx, &this, &src, len);
            finish(&mut ctx.table, res)
        },
    )?;
    inst.func_wrap(
        "[method]output-stream.blocking-splice",
        |mut store, (this, src, len): (Resource<OutputStream>, Resource<InputStream>, u64)| {
            let ctx = ctx(&mut store);
            let res = splice(ctx, &this, &src, len).and_then(|n| flush(ctx, &this).map(|()| n));
            finish(&mut ctx.table, res)
        },
    )
}
