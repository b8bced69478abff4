//! `aot`: compile WebAssembly ahead of time, inspect artifacts and run exports.
//!
//! ```text
//! aot compile app.wasm -o app.aot [--target x86_64-unknown-linux-gnu] [-O 2]
//! aot inspect app.aot
//! aot run app.wasm --invoke 'add(1, 2)'
//! aot run --dir data::/data --env LANG=C app.wasm -- arg1 arg2
//! ```
//!
//! Exit codes: 0 on success, 1 when the work failed (compile error, load error, link error, trap),
//! 2 for a usage error; a WASI command run without `--invoke` exits with the guest's exit status.
//! Errors go to stderr; `--invoke` prints the result on stdout as one WAVE line.

mod compile;
mod component;
mod inspect;
mod run;
mod wasi;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Compile, inspect and run WebAssembly compiled ahead of time.
#[derive(Parser)]
#[command(name = "aot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a Wasm module or component (binary or text) into an artifact.
    Compile {
        /// The input: `.wasm` or `.wat`.
        input: PathBuf,
        /// Where to write the artifact.
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Target triple to compile for (default: this machine's).
        #[arg(long)]
        target: Option<String>,
        /// Optimization level: 0 (none), 1, 2, 3 (speed), s or z (speed and size).
        #[arg(short = 'O', default_value = "2")]
        opt_level: String,
    },
    /// Describe an artifact: kind, target, sections, functions, imports and exports.
    Inspect {
        /// The artifact file.
        artifact: PathBuf,
    },
    /// Run a WASI command (a component's `wasi:cli/run`, a core module's `_start`), or one export
    /// with `--invoke`. WASI (0.2 for components, preview 1 for core modules) is provided, with
    /// the host's stdio.
    Run {
        /// A `.wasm`/`.wat` input (compiled in-process) or an artifact made by `aot compile`.
        input: PathBuf,
        /// The call, in WAVE syntax: `name(arg, ...)`; `name` is a root export or
        /// `<interface>#<function>`.
        #[arg(long)]
        invoke: Option<String>,
        /// Give the guest a host directory, read-write: `<host>[::<guest>]` (repeatable).
        #[arg(long = "dir", value_name = "HOST[::GUEST]")]
        dirs: Vec<String>,
        /// Set an environment variable, `NAME=VALUE`, or pass the host's `NAME` on (repeatable).
        #[arg(long = "env", value_name = "NAME[=VALUE]")]
        envs: Vec<String>,
        /// Arguments for the guest (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
}

/// A failure with the message to print; usage errors exit with 2, the others with 1.
pub(crate) struct Failure {
    message: String,
    usage: bool,
}

impl Failure {
    /// The work failed.
    pub(crate) fn new(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            usage: false,
        }
    }

    /// The command line was wrong.
    pub(crate) fn usage(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            usage: true,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compile {
            input,
            output,
            target,
            opt_level,
        } => compile::run(&input, &output, target.as_deref(), &opt_level).map(|()| 0),
        Command::Inspect { artifact } => inspect::run(&artifact).map(|()| 0),
        Command::Run {
            input,
            invoke,
            dirs,
            envs,
            args,
        } => {
            let wasi = wasi::WasiOptions { dirs, envs, args };
            run::run(&input, invoke.as_deref(), &wasi)
        }
    };
    match outcome {
        // Exit statuses are 8 bits on the platforms we run on; WASI's are i32.
        Ok(status) => ExitCode::from(status as u8),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(if failure.usage { 2 } else { 1 })
        }
    }
}
