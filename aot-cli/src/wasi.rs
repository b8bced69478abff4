//! The WASI context `aot run` gives a guest: `--dir`, `--env`, the arguments after `--`, and
//! the host's stdio.

use crate::Failure;
use aot_runtime::wasi::{DirPerms, FilePerms, WasiCtx, WasiCtxBuilder};

/// What the command line says the guest may see.
#[derive(Debug, Default)]
pub(crate) struct WasiOptions {
    /// `--dir <host>[::<guest>]`, each a read-write preopen.
    pub(crate) dirs: Vec<String>,
    /// `--env NAME=VALUE`, or `--env NAME` to pass the host's value on.
    pub(crate) envs: Vec<String>,
    /// The arguments after `--`; the guest's `argv[0]` is the input's file name.
    pub(crate) args: Vec<String>,
}

impl WasiOptions {
    /// The context for a guest called `program`, with inherited stdio.
    pub(crate) fn build(&self, program: &str) -> Result<WasiCtx, Failure> {
        let mut builder = WasiCtxBuilder::new();
        builder.inherit_stdio().arg(program);
        for arg in &self.args {
            builder.arg(arg);
        }
        for env in &self.envs {
            match env.split_once('=') {
                Some((name, value)) => {
                    builder.env(name, value);
                }
                None => {
                    if let Ok(value) = std::env::var(env) {
                        builder.env(env, value);
                    }
                }
            }
        }
        for dir in &self.dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            if host.is_empty() || guest.is_empty() {
                return Err(Failure::usage(format!(
                    "invalid --dir `{dir}`: expected `<host path>[::<guest path>]`"
                )));
            }
            builder
                .preopened_dir(host, guest, DirPerms::all(), FilePerms::all())
                .map_err(Failure::new)?;
        }
        Ok(builder.build())
    }
}
