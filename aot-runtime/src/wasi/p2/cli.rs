//! `wasi:cli` for WASI 0.2 (everything but `run`, which the guest exports): `environment`,
//! `exit`, `stdin`/`stdout`/`stderr` (each call a new stream handle over the context's stdio),
//! and the terminal interfaces, whose `terminal-input`/`terminal-output` resources carry nothing
//! ([`TerminalInput`], [`TerminalOutput`]) and are only given for streams that are terminals.
//!
//! `exit` unwinds the guest with an [`I32Exit`]: 0 for `ok`, 1 for `err`; `exit-with-code`
//! (unstable in the WIT, defined anyway) with the code given.

use super::streams::{InputStream, OutputStream, define_io_resource};
use crate::component::{Linker, Resource, ResourceType};
use crate::error::{Error, Result};
use crate::prelude::*;
use crate::wasi::{I32Exit, WasiView};

/// The value behind a `terminal-input` handle (no state: the WIT gives it no methods).
pub(crate) struct TerminalInput;

/// The value behind a `terminal-output` handle (no state: the WIT gives it no methods).
pub(crate) struct TerminalOutput;

/// Defines the `wasi:cli` interfaces a command imports, at 0.2.6.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut env = linker.instance("wasi:cli/environment@0.2.6")?;
    env.func_wrap("get-environment", |mut store, (): ()| {
        Ok((store.data_mut().ctx().env.clone(),))
    })?;
    env.func_wrap("get-arguments", |mut store, (): ()| {
        Ok((store.data_mut().ctx().args.clone(),))
    })?;
    // No current directory: relative paths have no meaning outside a preopen.
    env.func_wrap("initial-cwd", |_, (): ()| Ok((None::<String>,)))?;

    let mut exit = linker.instance("wasi:cli/exit@0.2.6")?;
    exit.func_wrap(
        "exit",
        |_, (status,): (core::result::Result<(), ()>,)| -> Result<()> {
            Err(Error::new(I32Exit(if status.is_ok() { 0 } else { 1 })))
        },
    )?;
    exit.func_wrap("exit-with-code", |_, (code,): (u8,)| -> Result<()> {
        Err(Error::new(I32Exit(i32::from(code))))
    })?;

    let mut stdin = linker.instance("wasi:cli/stdin@0.2.6")?;
    define_io_resource(&mut stdin, "input-stream")?;
    stdin.func_wrap("get-stdin", |mut store, (): ()| {
        Ok((store.data_mut().ctx().table.push(InputStream::Stdin)?,))
    })?;
    let mut stdout = linker.instance("wasi:cli/stdout@0.2.6")?;
    define_io_resource(&mut stdout, "output-stream")?;
    stdout.func_wrap("get-stdout", |mut store, (): ()| {
        Ok((store.data_mut().ctx().table.push(OutputStream::Stdout)?,))
    })?;
    let mut stderr = linker.instance("wasi:cli/stderr@0.2.6")?;
    define_io_resource(&mut stderr, "output-stream")?;
    stderr.func_wrap("get-stderr", |mut store, (): ()| {
        Ok((store.data_mut().ctx().table.push(OutputStream::Stderr)?,))
    })?;

    // The terminal resources, defined in their own interfaces and in those that `use` them.
    for (interface, name) in [
        ("wasi:cli/terminal-input@0.2.6", "terminal-input"),
        ("wasi:cli/terminal-stdin@0.2.6", "terminal-input"),
    ] {
        linker.instance(interface)?.resource(
            name,
            ResourceType::host::<TerminalInput>(),
            |mut store, rep| {
                let table = &mut store.data_mut().ctx().table;
                table.delete(Resource::<TerminalInput>::new_own(rep))?;
                Ok(())
            },
        )?;
    }
    for interface in [
        "wasi:cli/terminal-output@0.2.6",
        "wasi:cli/terminal-stdout@0.2.6",
        "wasi:cli/terminal-stderr@0.2.6",
    ] {
        linker.instance(interface)?.resource(
            "terminal-output",
            ResourceType::host::<TerminalOutput>(),
            |mut store, rep| {
                let table = &mut store.data_mut().ctx().table;
                table.delete(Resource::<TerminalOutput>::new_own(rep))?;
                Ok(())
            },
        )?;
    }
    linker
        .instance("wasi:cli/terminal-stdin@0.2.6")?
        .func_wrap("get-terminal-stdin", |mut store, (): ()| {
            let ctx = store.data_mut().ctx();
            let term = match ctx.stdin.is_terminal() {
                true => Some(ctx.table.push(TerminalInput)?),
                false => None,
            };
            Ok((term,))
        })?;
    linker
        .instance("wasi:cli/terminal-stdout@0.2.6")?
        .func_wrap("get-terminal-stdout", |mut store, (): ()| {
            let ctx = store.data_mut().ctx();
            let term = match ctx.stdout.is_terminal() {
                true => Some(ctx.table.push(TerminalOutput)?),
                false => None,
            };
            Ok((term,))
        })?;
    linker
        .instance("wasi:cli/terminal-stderr@0.2.6")?
        .func_wrap("get-terminal-stderr", |mut store, (): ()| {
            let ctx = store.data_mut().ctx();
            let term = match ctx.stderr.is_terminal() {
                true => Some(ctx.table.push(TerminalOutput)?),
                false => None,
            };
            Ok((term,))
        })?;
    Ok(())
}
