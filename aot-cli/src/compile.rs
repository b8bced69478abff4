//! `aot compile`: a Wasm input to an artifact file, with the same compiler `build.rs` uses.

use crate::Failure;
use aot_build::{Config, OptLevel};
use std::path::Path;

/// Parses `-O`: `0` is no optimization, `1`..`3` optimize for speed, `s` and `z` for speed and
/// size (Cargo's `opt-level` spellings).
pub(crate) fn opt_level(level: &str) -> Result<OptLevel, Failure> {
    match level {
        "0" => Ok(OptLevel::None),
        "1" | "2" | "3" => Ok(OptLevel::Speed),
        "s" | "z" => Ok(OptLevel::SpeedAndSize),
        other => Err(Failure::usage(format!(
            "invalid optimization level `{other}`: expected 0, 1, 2, 3, s or z"
        ))),
    }
}

/// Compiles the file at `input` (module or component, binary or text) to artifact bytes.
pub(crate) fn compile_file(config: &Config, input: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = std::fs::read(input)
        .map_err(|e| Failure::new(format!("cannot read `{}`: {e}", input.display())))?;
    let mut config = config.clone();
    if let Some(stem) = input.file_stem() {
        // Symbols and backtraces name the module after its file unless its name section says.
        config.module_name(&stem.to_string_lossy());
    }
    config
        .compile_bytes(&bytes)
        .map_err(|e| Failure::new(e.with_path(input)))
}

/// Runs `aot compile`.
pub(crate) fn run(
    input: &Path,
    output: &Path,
    target: Option<&str>,
    level: &str,
) -> Result<(), Failure> {
    let mut config = Config::new();
    config.opt_level(opt_level(level)?);
    if let Some(target) = target {
        config.target(target);
    }
    let artifact = compile_file(&config, input)?;
    std::fs::write(output, &artifact)
        .map_err(|e| Failure::new(format!("cannot write `{}`: {e}", output.display())))
}
