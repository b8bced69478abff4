//! [`Config`]: what to compile for and how, the build-script entry points ([`Config::compile`],
//! [`compile`]) and the artifact naming contract ([`artifact_path`]).
//!
//! Everything that changes the produced bytes is a field of `Config`; nothing is taken from the
//! machine running the build (in particular never its CPU features), so the same input and
//! `Config` always produce the same artifact. In a build script, [`Config::compile`] fills what the
//! user left unset from Cargo's environment (`TARGET`, `CARGO_CFG_TARGET_FEATURE`).

use crate::codegen::{self, IsaSetup};
use crate::error::{Error, Phase};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use target_lexicon::Triple;

/// How much Cranelift optimizes the generated code.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum OptLevel {
    /// No optimization: fastest compilation.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and code size.
    SpeedAndSize,
}

impl OptLevel {
    /// The name of the level as Cranelift's `opt_level` setting spells it.
    pub(crate) fn setting(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// How compiled code keeps linear-memory accesses in bounds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BoundsChecks {
    /// Each memory reserves a large address range whose inaccessible part faults; the code does
    /// no bounds check (the default on 64-bit targets).
    GuardPages,
    /// The code compares every access against the memory's current length.
    Explicit,
}

/// Options of a compilation.
///
/// Built with chained setters and then used with [`Config::compile`] (build scripts) or
/// [`Config::compile_bytes`] (anywhere):
///
/// ```no_run
/// // build.rs
/// let artifact = aot_build::Config::new()
///     .opt_level(aot_build::OptLevel::SpeedAndSize)
///     .compile("wasm/app.wat")?;
/// # Ok::<(), aot_build::Error>(())
/// ```
///
/// WebAssembly 2.0 (MVP, mutable globals, saturating float-to-int, sign extension, multi-value,
/// bulk memory, reference types) is always enabled; SIMD, tail calls, extended constant
/// expressions and multiple memories are enabled by default and can be turned off. Every other
/// proposal (threads, GC, exceptions, memory64, relaxed SIMD, ...) is rejected with an error
/// naming it.
#[derive(Clone, Debug)]
pub struct Config {
    target: Option<String>,
    opt_level: Option<OptLevel>,
    bounds_checks: Option<BoundsChecks>,
    consume_fuel: bool,
    epoch_interruption: bool,
    pub(crate) features: WasmFeatures,
    cpu_features: Vec<String>,
    /// `CARGO_CFG_TARGET_FEATURE`, split, with the `TARGET` it belongs to.
    cargo_target_features: Option<(String, Vec<String>)>,
    module_name: Option<String>,
    /// Forces the number of threads compiling each module's functions (tests only; the output
    /// is the same whatever the number).
    pub(crate) threads: Option<usize>,
    /// Chooses the workers compiling each module's functions and counts what they did (tests
    /// only, through `jobs::compile_bytes_with`).
    pub(crate) jobs_hook: Option<std::sync::Arc<crate::jobs::Hook>>,
}

/// The optional Wasm proposals a [`Config`] enables.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct WasmFeatures {
    pub simd: bool,
    pub tail_call: bool,
    pub extended_const: bool,
    pub multi_memory: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The default configuration: the host target (never the host's CPU features), optimized for
    /// speed, guard pages on 64-bit targets, every supported proposal enabled.
    pub fn new() -> Self {
        Self {
            target: None,
            opt_level: None,
            bounds_checks: None,
            consume_fuel: false,
            epoch_interruption: false,
            features: WasmFeatures {
                simd: true,
                tail_call: true,
                extended_const: true,
                multi_memory: true,
            },
            cpu_features: Vec::new(),
            cargo_target_features: None,
            module_name: None,
            threads: None,
            jobs_hook: None,
        }
    }

    /// The default configuration with the target and its CPU features taken from Cargo's build
    /// script environment (`TARGET`, `CARGO_CFG_TARGET_FEATURE`) when they are set.
    pub fn from_env() -> Self {
        let mut config = Self::new();
        config.fill_from_env();
        config
    }

    /// Compiles for `triple` (for example `aarch64-unknown-linux-gnu`) instead of the host.
    /// Supported architectures are `x86_64` and `aarch64`; an unknown or unsupported triple is
    /// reported when compiling.
    pub fn target(&mut self, triple: &str) -> &mut Self {
        self.target = Some(triple.to_string());
        self
    }

    /// How much to optimize. When this is not called, [`Config::compile`] follows Cargo's
    /// `OPT_LEVEL` for the crate being built (`0`: [`OptLevel::None`], so debug builds compile
    /// Wasm quickly; `1` to `3`: [`OptLevel::Speed`]; `s` and `z`: [`OptLevel::SpeedAndSize`]),
    /// and [`Config::compile_bytes`] uses [`OptLevel::Speed`].
    pub fn opt_level(&mut self, level: OptLevel) -> &mut Self {
        self.opt_level = Some(level);
        self
    }

    /// How memory accesses are kept in bounds. The default is [`BoundsChecks::GuardPages`] on
    /// 64-bit targets. The choice is recorded in the artifact; the runtime sets memories up to
    /// match.
    pub fn bounds_checks(&mut self, checks: BoundsChecks) -> &mut Self {
        self.bounds_checks = Some(checks);
        self
    }

    /// Compiles fuel metering into the code (Wasmtime's `consume_fuel`): every operator costs
    /// one unit of fuel (`nop`, `drop`, `block`, `loop`, `else`, `end`, `return` and
    /// `unreachable` are free), counted per basic block and checked at function entry and loop
    /// headers; when the store's fuel runs out the code traps with `OutOfFuel`. Recorded in the
    /// artifact; the runtime's `Store::set_fuel`/`get_fuel` use it. A store starts with no fuel.
    /// Costs execution time (see the benchmark notes). Default: disabled, and the code is then
    /// exactly what it would be without this option.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Compiles epoch-interruption checks into the code (Wasmtime's `epoch_interruption`): at
    /// function entry and loop headers the code compares the runtime's epoch counter with the
    /// store's deadline (`Store::set_epoch_deadline`) and traps with `Interrupt` once it is
    /// reached, so another thread can stop a runaway guest by incrementing the epoch. Recorded
    /// in the artifact. Default: disabled, and the code is then exactly what it would be
    /// without this option.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Enables or disables the SIMD proposal (128-bit vectors). Default: enabled.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.features.simd = enable;
        self
    }

    /// Enables or disables the tail-call proposal. Default: enabled.
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Self {
        self.features.tail_call = enable;
        self
    }

    /// Enables or disables the extended-constant-expressions proposal. Default: enabled.
    pub fn wasm_extended_const(&mut self, enable: bool) -> &mut Self {
        self.features.extended_const = enable;
        self
    }

    /// Enables or disables the multi-memory proposal. Default: enabled.
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.features.multi_memory = enable;
        self
    }

    /// Lets the code use these CPU features (Rust `target_feature` names such as `avx2`, `bmi2`,
    /// `lse`) on top of the target's baseline. The runtime refuses to load the artifact on a
    /// machine that lacks one of them.
    ///
    /// The baseline is x86-64-v2 (`sse3`, `ssse3`, `sse4.1`, `sse4.2`, `popcnt`) on `x86_64` and
    /// `neon` on `aarch64`. In a build script, the features of `CARGO_CFG_TARGET_FEATURE` (for
    /// example from `-C target-cpu`) are added too. A name Cranelift cannot use is an error.
    pub fn cpu_features(&mut self, features: &[&str]) -> &mut Self {
        self.cpu_features
            .extend(features.iter().map(|f| f.to_string()));
        self
    }

    /// The module (or component) name used for symbols and backtraces. Default: the name of
    /// the name section (`component-name` for a component), else the file stem of the input
    /// path, else `module` (`component`).
    pub fn module_name(&mut self, name: &str) -> &mut Self {
        self.module_name = Some(name.to_string());
        self
    }

    /// Compiles Wasm text or binary, a core module or a component, to artifact bytes. Needs no
    /// Cargo environment.
    ///
    /// A component (told apart from a module by its header) becomes one component artifact
    /// holding all its core modules and its instantiation plan; the component model's async
    /// functions, streams, futures, `error-context`, maps, fixed-length lists, values and start
    /// functions are rejected with an error naming the feature.
    ///
    /// # Errors
    /// If the configuration is unusable or the module is malformed, invalid, uses an unsupported
    /// proposal or cannot be compiled.
    pub fn compile_bytes(&self, wasm_or_wat: &[u8]) -> Result<Vec<u8>, Error> {
        let setup = self.resolve()?;
        let wasm =
            wat::parse_bytes(wasm_or_wat).map_err(|e| Error::new(Phase::Parse, e.to_string()))?;
        crate::compile_wasm(self, &setup, &wasm, self.module_name.as_deref(), None)
    }

    /// Compiles the Wasm file at `path` (text or binary, relative to the package root in a build
    /// script) into `OUT_DIR` and returns the artifact's path, [`artifact_path`]`(OUT_DIR, path)`.
    ///
    /// For build scripts: it prints `cargo:rerun-if-changed=<path>`, and settings the `Config`
    /// leaves unset are taken from Cargo's environment: the target from `TARGET`, extra CPU
    /// features from `CARGO_CFG_TARGET_FEATURE` (only when compiling for `TARGET`), the optimization
    /// level from `OPT_LEVEL` (see [`Config::opt_level`]).
    ///
    /// # Errors
    /// If `OUT_DIR` is not set, the file cannot be read, compilation fails (see
    /// [`Config::compile_bytes`]) or the artifact cannot be written. The error names `path`.
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let path = path.as_ref();
        self.compile_file(path).map_err(|e| e.with_path(path))
    }

    fn compile_file(&self, path: &Path) -> Result<PathBuf, Error> {
        println!("cargo:rerun-if-changed={}", path.display());
        let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
            Error::new(
                Phase::Config,
                "`OUT_DIR` is not set: `compile` is meant to run in a build script \
                 (use `Config::compile_bytes` elsewhere)",
            )
        })?;
        let mut config = self.clone();
        config.fill_from_env();
        let file_stem = path
            .file_stem()
            .map_or_else(|| "module".into(), |stem| stem.to_string_lossy());
        let setup = config.resolve()?;
        let bytes = std::fs::read(path)
            .map_err(|e| Error::new(Phase::Read, format!("cannot read the input: {e}")))?;
        let wasm = wat::parse_bytes(&bytes).map_err(|mut e| {
            e.set_path(path);
            Error::new(Phase::Parse, e.to_string())
        })?;
        let artifact = crate::compile_wasm(
            &config,
            &setup,
            &wasm,
            config.module_name.as_deref(),
            Some(&file_stem),
        )?;
        let out = artifact_path(Path::new(&out_dir), path);
        let write = |p: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(p.parent().expect("artifact paths have a parent"))?;
            std::fs::write(p, &artifact)
        };
        write(&out).map_err(|e| {
            Error::new(
                Phase::Write,
                format!("cannot write the artifact `{}`: {e}", out.display()),
            )
        })?;
        Ok(out)
    }

    /// Takes the target and its features from Cargo's build-script environment where the user
    /// did not choose them.
    fn fill_from_env(&mut self) {
        if self.opt_level.is_none() {
            self.opt_level = std::env::var("OPT_LEVEL").ok().map(|l| match l.as_str() {
                "0" => OptLevel::None,
                "s" | "z" => OptLevel::SpeedAndSize,
                _ => OptLevel::Speed,
            });
        }
        let target = std::env::var("TARGET").ok();
        if self.target.is_none() {
            self.target.clone_from(&target);
        }
        if self.cargo_target_features.is_none()
            && let (Some(target), Ok(features)) =
                (target, std::env::var("CARGO_CFG_TARGET_FEATURE"))
        {
            let features = features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(String::from)
                .collect();
            self.cargo_target_features = Some((target, features));
        }
    }

    /// Checks the target and CPU features and decides everything the code generator needs.
    pub(crate) fn resolve(&self) -> Result<IsaSetup, Error> {
        let (name, triple) = match &self.target {
            Some(name) => {
                let triple = Triple::from_str(name).map_err(|e| {
                    Error::new(Phase::Config, format!("invalid target `{name}`: {e}"))
                })?;
                (name.clone(), triple)
            }
            None => {
                let triple = Triple::host();
                (triple.to_string(), triple)
            }
        };
        let explicit_features: Vec<&str> = self.cpu_features.iter().map(String::as_str).collect();
        let cargo_features: Vec<&str> = match &self.cargo_target_features {
            Some((target, features)) if *target == name => {
                features.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        };
        let cpu_features =
            codegen::resolve_cpu_features(&name, &triple, &explicit_features, &cargo_features)?;
        if !matches!(triple.pointer_width(), Ok(w) if w.bytes() == 8) {
            return Err(Error::new(
                Phase::Config,
                format!("unsupported target `{name}`: only 64-bit targets are supported"),
            ));
        }
        // Guard pages need a 64-bit address space; every supported target has one today.
        let bounds_checks = self.bounds_checks.unwrap_or(BoundsChecks::GuardPages);
        Ok(IsaSetup {
            target_name: name,
            triple,
            cpu_features,
            explicit_bounds_checks: bounds_checks == BoundsChecks::Explicit,
            consume_fuel: self.consume_fuel,
            epoch_interruption: self.epoch_interruption,
            opt_level: self.opt_level.unwrap_or_default(),
            pointer_bytes: 8,
        })
    }
}

/// Compiles the Wasm file at `path` from a build script: `Config::from_env().compile(path)`.
///
/// Returns the artifact's path, `OUT_DIR/aot/<file name>-<hash>.aot` (see [`artifact_path`]),
/// which `include_module!(path)` embeds.
///
/// # Errors
/// See [`Config::compile`].
pub fn compile(path: impl AsRef<Path>) -> Result<PathBuf, Error> {
    Config::from_env().compile(path)
}

/// Where [`Config::compile`] writes the artifact of `input`: `out_dir/aot/<name>-<hash>.aot`.
///
/// This is a contract with `aot-macros`, which computes the same path from the string literal
/// it is given. The input path string, exactly as given (not canonicalized), is normalized by
/// replacing every `\` with `/`; `<name>` is the part after the last `/` and `<hash>` is the
/// FNV-1a 64-bit hash (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`) of the
/// normalized string's UTF-8 bytes, as 16 lowercase hex digits. Two `app.wasm` in different
/// folders therefore get different artifacts.
pub fn artifact_path(out_dir: &Path, input: &Path) -> PathBuf {
    let normalized = input.to_string_lossy().replace('\\', "/");
    let name = normalized.rsplit('/').next().unwrap_or_default();
    let hash = fnv1a_64(normalized.as_bytes());
    out_dir.join("aot").join(format!("{name}-{hash:016x}.aot"))
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn artifact_path_hashes_the_normalized_input() {
        let out = Path::new("/out");
        let a = artifact_path(out, Path::new("wasm/app.wat"));
        let b = artifact_path(out, Path::new("wasm\\app.wat"));
        let c = artifact_path(out, Path::new("other/app.wat"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            Path::new("/out/aot").join(format!("app.wat-{:016x}.aot", fnv1a_64(b"wasm/app.wat")))
        );
    }
}
