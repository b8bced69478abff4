//! [`WasiCtx`], the state every WASI host function works on (arguments, environment, stdio,
//! preopened directories, clocks, random sources, and the preview-1 descriptor table), its
//! builder [`WasiCtxBuilder`], and [`WasiView`], how host functions find it in the store's data.
//!
//! The context is flavour-neutral: preview 1 (`preview1.rs`) keeps only its descriptor table
//! here; WASI 0.2 adds its resource table next to it. Fields are `pub(crate)` so that both hosts
//! borrow disjoint parts at once (the descriptor table and a stdio sink, say).

use super::clocks::{HostMonotonicClock, HostWallClock, SystemMonotonicClock, SystemWallClock};
use super::fs::{DirPerms, FilePerms, Preopen};
use super::pipe::{InputSource, OutputSink};
use super::preview1::FdTable;
use super::random::{InsecureRandom, OsRandom, RandomSource};
use crate::component::ResourceTable;
use crate::error::{Error, Result};
use crate::prelude::*;
use std::path::Path;

/// Gives WASI host functions the [`WasiCtx`] inside a store's data.
///
/// `WasiCtx` implements it (so `Store::new(WasiCtxBuilder::new().build())` works); a struct
/// carrying its own data next to the context implements it by returning that field.
pub trait WasiView {
    /// The WASI context.
    fn ctx(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn ctx(&mut self) -> &mut WasiCtx {
        self
    }
}

/// The WASI state of one guest: what it sees of the host. Built by [`WasiCtxBuilder`].
pub struct WasiCtx {
    /// Command-line arguments, the program name first.
    pub(crate) args: Vec<String>,
    /// Environment variables, in the order given.
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: InputSource,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
    /// Preopened directories, in the order given (preview 1 numbers them from 3).
    #[allow(dead_code, reason = "used by the WASI 0.2 host (wasi::p2)")]
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) wall_clock: Box<dyn HostWallClock>,
    pub(crate) monotonic_clock: Box<dyn HostMonotonicClock>,
    /// `random_get`, `wasi:random/random`.
    pub(crate) secure_random: Box<dyn RandomSource>,
    /// `wasi:random/insecure`.
    pub(crate) insecure_random: Box<dyn RandomSource>,
    /// `wasi:random/insecure-seed`.
    pub(crate) insecure_random_seed: u128,
    /// Preview 1 descriptors: 0 to 2 are stdio, then the preopens, then opened files.
    pub(crate) p1: FdTable,
    /// WASI 0.2 resources (streams, pollables, descriptors, ...), by handle representation.
    pub(crate) table: ResourceTable,
}

impl WasiCtx {
    /// The command-line arguments the guest sees.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The environment variables the guest sees.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }
}

/// Builds a [`WasiCtx`]. By default the guest has no arguments, no environment, an empty stdin,
/// discarded stdout and stderr, no directories, the host's clocks and the operating system's
/// random source.
#[derive(Default)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: InputSource,
    stdout: OutputSink,
    stderr: OutputSink,
    preopens: Vec<Preopen>,
    wall_clock: Option<Box<dyn HostWallClock>>,
    monotonic_clock: Option<Box<dyn HostMonotonicClock>>,
    secure_random: Option<Box<dyn RandomSource>>,
    insecure_random: Option<Box<dyn RandomSource>>,
    insecure_random_seed: Option<u128>,
}

impl WasiCtxBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends arguments (the first one is the program name by convention).
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Appends one argument.
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().to_string());
        self
    }

    /// Appends the host process's arguments (not valid UTF-8: converted lossily).
    pub fn inherit_args(&mut self) -> &mut Self {
        self.args
            .extend(std::env::args_os().map(|a| a.to_string_lossy().into_owned()));
        self
    }

    /// Sets the environment variable `key` to `value`.
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.env
            .push((key.as_ref().to_string(), value.as_ref().to_string()));
        self
    }

    /// Sets several environment variables.
    pub fn envs(&mut self, vars: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Appends the host process's environment (not valid UTF-8: converted lossily).
    pub fn inherit_env(&mut self) -> &mut Self {
        self.env.extend(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }));
        self
    }

    /// Where standard input comes from: [`InputSource::Inherit`], a
    /// [`MemoryInputPipe`](super::MemoryInputPipe), or [`InputSource::Empty`].
    pub fn stdin(&mut self, source: impl Into<InputSource>) -> &mut Self {
        self.stdin = source.into();
        self
    }

    /// Where standard output goes: [`OutputSink::Stdout`], a
    /// [`MemoryOutputPipe`](super::MemoryOutputPipe), or [`OutputSink::Discard`].
    pub fn stdout(&mut self, sink: impl Into<OutputSink>) -> &mut Self {
        self.stdout = sink.into();
        self
    }

    /// Where standard error goes: [`OutputSink::Stderr`], a
    /// [`MemoryOutputPipe`](super::MemoryOutputPipe), or [`OutputSink::Discard`].
    pub fn stderr(&mut self, sink: impl Into<OutputSink>) -> &mut Self {
        self.stderr = sink.into();
        self
    }

    /// Reads the host process's standard input.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin(InputSource::Inherit)
    }

    /// Writes to the host process's standard output.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout(OutputSink::Stdout)
    }

    /// Writes to the host process's standard error.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr(OutputSink::Stderr)
    }

    /// Inherits all three standard streams.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Gives the guest the host directory `host_path` under the name `guest_path` (for example
    /// `/data` or `.`), with `perms` on it and every directory below, and `file_perms` on the
    /// files below. Nothing outside it is reachable through it.
    ///
    /// # Errors
    /// If the host directory cannot be opened.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        perms: DirPerms,
        file_perms: FilePerms,
    ) -> Result<&mut Self> {
        let host_path = host_path.as_ref();
        let preopen =
            Preopen::open(host_path, guest_path.as_ref(), perms, file_perms).map_err(|e| {
                Error::msg(format!(
                    "failed to open the directory `{}` to preopen it: {e}",
                    host_path.display()
                ))
            })?;
        self.preopens.push(preopen);
        Ok(self)
    }

    /// Replaces the wall clock.
    pub fn wall_clock(&mut self, clock: impl HostWallClock + 'static) -> &mut Self {
        self.wall_clock = Some(Box::new(clock));
        self
    }

    /// Replaces the monotonic clock.
    pub fn monotonic_clock(&mut self, clock: impl HostMonotonicClock + 'static) -> &mut Self {
        self.monotonic_clock = Some(Box::new(clock));
        self
    }

    /// Replaces the secure random source (preview 1 `random_get`, `wasi:random/random`).
    pub fn secure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.secure_random = Some(Box::new(source));
        self
    }

    /// Replaces the insecure random source (`wasi:random/insecure`).
    pub fn insecure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.insecure_random = Some(Box::new(source));
        self
    }

    /// Sets the value of `wasi:random/insecure-seed` (random by default).
    pub fn insecure_random_seed(&mut self, seed: u128) -> &mut Self {
        self.insecure_random_seed = Some(seed);
        self
    }

    /// The context. The builder is left with the defaults, ready for another one.
    pub fn build(&mut self) -> WasiCtx {
        let b = core::mem::take(self);
        let insecure_random_seed = b.insecure_random_seed.unwrap_or_else(|| {
            let mut bytes = [0; 16];
            OsRandom.fill_bytes(&mut bytes);
            u128::from_le_bytes(bytes)
        });
        let p1 = FdTable::new(&b.preopens);
        WasiCtx {
            args: b.args,
            env: b.env,
            stdin: b.stdin,
            stdout: b.stdout,
            stderr: b.stderr,
            preopens: b.preopens,
            wall_clock: b.wall_clock.unwrap_or_else(|| Box::new(SystemWallClock)),
            monotonic_clock: b
                .monotonic_clock
                .unwrap_or_else(|| Box::new(SystemMonotonicClock::new())),
            secure_random: b.secure_random.unwrap_or_else(|| Box::new(OsRandom)),
            insecure_random: b
                .insecure_random
                .unwrap_or_else(|| Box::new(InsecureRandom::new())),
            insecure_random_seed,
            p1,
            table: ResourceTable::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasi::{MemoryInputPipe, MemoryOutputPipe, StdinData};
    use core::time::Duration;

    struct FixedWall;
    impl HostWallClock for FixedWall {
        fn resolution(&self) -> Duration {
            Duration::from_secs(1)
        }
        fn now(&self) -> Duration {
            Duration::from_secs(7)
        }
    }

    #[test]
    fn builder_collects_everything() {
        let out = MemoryOutputPipe::new(100);
        let ctx = WasiCtxBuilder::new()
            .args(&["prog", "a"])
            .arg("b")
            .env("K", "V")
            .envs(&[("X", "1"), ("Y", "2")])
            .stdin(MemoryInputPipe::new("in"))
            .stdout(out.clone())
            .wall_clock(FixedWall)
            .secure_random(InsecureRandom::from_seed(1))
            .insecure_random_seed(99)
            .build();
        assert_eq!(ctx.args(), ["prog", "a", "b"]);
        assert_eq!(ctx.env().len(), 3);
        assert_eq!(ctx.env()[0], ("K".to_string(), "V".to_string()));
        assert_eq!(ctx.stdin.read(10).unwrap(), StdinData::Data(b"in".to_vec()));
        ctx.stdout.write(b"out").unwrap();
        assert_eq!(out.contents(), b"out");
        assert_eq!(ctx.wall_clock.now(), Duration::from_secs(7));
        assert_eq!(ctx.insecure_random_seed, 99);
        assert!(matches!(ctx.stderr, OutputSink::Discard));
    }

    #[test]
    fn missing_preopen_is_an_error() {
        let err = WasiCtxBuilder::new()
            .preopened_dir(
                "/definitely/not/here",
                "/x",
                DirPerms::all(),
                FilePerms::all(),
            )
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("failed to open the directory `/definitely/not/here`"),
            "{err}"
        );
    }

    #[test]
    fn wasi_ctx_is_send() {
        fn send<T: Send>() {}
        send::<WasiCtx>();
    }
}
