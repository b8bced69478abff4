//! Cranelift code generation: the target ISA ([`IsaSetup`]) and the compilation of one
//! Cranelift function into position-independent machine code plus the metadata the artifact
//! needs ([`Compiler`]).
//!
//! The ISA is decided only by the [`crate::Config`]: the target triple and an explicit CPU
//! feature list (a fixed baseline per architecture plus what the user or Cargo asked for), never
//! the build machine's CPU. The flags keep frame pointers (the runtime walks them for
//! backtraces), probe large stack frames inline (no `__probestack` to link) and emit no unwind
//! information. A compiled function may only call other functions of the same module through
//! direct-call relocations; any other relocation or libcall is an error, because the artifact is
//! never linked.

use crate::config::OptLevel;
use crate::error::{Error, Phase};
use crate::translate::trap_from_code;
use aot_runtime::artifact::{FuncIndex, Trap};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use target_lexicon::{Aarch64Architecture, Architecture, Triple};

/// A CPU feature as Rust's `target_feature` names it, and the Cranelift ISA flag it enables.
struct CpuFeature {
    name: &'static str,
    /// `None`: always available on the architecture, no flag to set.
    flag: Option<&'static str>,
    /// Features this one implies (as in Rust).
    implies: &'static [&'static str],
}

const fn feature(
    name: &'static str,
    flag: Option<&'static str>,
    implies: &'static [&'static str],
) -> CpuFeature {
    CpuFeature {
        name,
        flag,
        implies,
    }
}

/// Every x86_64 feature Cranelift can use.
const X86_64_FEATURES: &[CpuFeature] = &[
    feature("sse3", Some("has_sse3"), &[]),
    feature("ssse3", Some("has_ssse3"), &["sse3"]),
    feature("sse4.1", Some("has_sse41"), &["ssse3"]),
    feature("sse4.2", Some("has_sse42"), &["sse4.1"]),
    feature("popcnt", Some("has_popcnt"), &[]),
    feature("avx", Some("has_avx"), &["sse4.2"]),
    feature("avx2", Some("has_avx2"), &["avx"]),
    feature("fma", Some("has_fma"), &["avx"]),
    feature("bmi1", Some("has_bmi1"), &[]),
    feature("bmi2", Some("has_bmi2"), &[]),
    feature("lzcnt", Some("has_lzcnt"), &[]),
];
/// x86-64-v2.
const X86_64_BASELINE: &[&str] = &["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"];
/// Features every x86_64 CPU has; accepted and not recorded.
const X86_64_IMPLICIT: &[&str] = &["fxsr", "sse", "sse2"];

/// Every aarch64 feature Cranelift can use.
const AARCH64_FEATURES: &[CpuFeature] = &[
    feature("neon", None, &[]),
    feature("lse", Some("has_lse"), &[]),
    feature("fp16", Some("has_fp16"), &["neon"]),
    feature("dotprod", Some("has_dotprod"), &["neon"]),
    feature("i8mm", Some("has_i8mm"), &["neon"]),
];
/// The aarch64 ISA baseline.
const AARCH64_BASELINE: &[&str] = &["neon"];

/// Everything that decides the machine code: the target and the code generator's settings.
#[derive(Clone, Debug)]
pub(crate) struct IsaSetup {
    /// The target triple as given (or the host's), recorded in the artifact.
    pub target_name: String,
    /// The parsed triple.
    pub triple: Triple,
    /// CPU features the code may use, sorted, deduplicated, Rust names.
    pub cpu_features: Vec<&'static str>,
    /// Whether memory accesses are bounds-checked explicitly.
    pub explicit_bounds_checks: bool,
    /// Whether the code meters fuel ([`crate::Config::consume_fuel`]).
    pub consume_fuel: bool,
    /// Whether the code checks the epoch deadline ([`crate::Config::epoch_interruption`]).
    pub epoch_interruption: bool,
    /// The optimization level.
    pub opt_level: OptLevel,
    /// Pointer size in bytes.
    pub pointer_bytes: u8,
}

/// Checks that `triple` is a supported target and resolves the CPU features the code may use:
/// the architecture's baseline, plus `explicit` (an unknown name is an error), plus `from_cargo`
/// (names Cranelift cannot use, such as `crt-static`, are ignored), closed under implication,
/// sorted.
pub(crate) fn resolve_cpu_features(
    target_name: &str,
    triple: &Triple,
    explicit: &[&str],
    from_cargo: &[&str],
) -> Result<Vec<&'static str>, Error> {
    let (table, baseline, implicit): (&[CpuFeature], &[&str], &[&str]) = match triple.architecture {
        Architecture::X86_64 => (X86_64_FEATURES, X86_64_BASELINE, X86_64_IMPLICIT),
        Architecture::Aarch64(Aarch64Architecture::Aarch64) => {
            (AARCH64_FEATURES, AARCH64_BASELINE, &[])
        }
        _ => {
            return Err(Error::new(
                Phase::Config,
                format!(
                    "unsupported target `{target_name}`: only x86_64 and aarch64 \
                         (little-endian) are supported"
                ),
            ));
        }
    };
    let find = |name: &str| table.iter().find(|f| f.name == name);
    let mut pending: Vec<&'static str> = baseline.to_vec();
    for &name in explicit {
        match find(name) {
            Some(f) => pending.push(f.name),
            None if implicit.contains(&name) => {}
            None => {
                let known: Vec<&str> = table.iter().map(|f| f.name).collect();
                return Err(Error::new(
                    Phase::Config,
                    format!(
                        "unknown cpu feature `{name}` for {}: supported features are {}",
                        triple.architecture,
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    pending.extend(
        from_cargo
            .iter()
            .filter_map(|&name| find(name))
            .map(|f| f.name),
    );
    let mut features = Vec::new();
    while let Some(name) = pending.pop() {
        if !features.contains(&name) {
            features.push(name);
            pending.extend(find(name).map_or(&[][..], |f| f.implies));
        }
    }
    features.sort_unstable();
    Ok(features)
}

impl IsaSetup {
    /// The `FLAG_*` bits of the compatibility record: how the code expects to be run.
    pub fn compat_flags(&self) -> u8 {
        use aot_runtime::artifact::header::{
            FLAG_CONSUME_FUEL, FLAG_EPOCH_INTERRUPTION, FLAG_EXPLICIT_BOUNDS_CHECKS,
        };
        [
            (self.explicit_bounds_checks, FLAG_EXPLICIT_BOUNDS_CHECKS),
            (self.consume_fuel, FLAG_CONSUME_FUEL),
            (self.epoch_interruption, FLAG_EPOCH_INTERRUPTION),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |flags, (_, flag)| flags | flag)
    }

    /// The codegen settings recorded in the artifact (`key=value`, comma separated).
    pub fn settings_record(&self) -> String {
        format!("opt_level={}", self.opt_level.setting())
    }

    /// Builds the Cranelift ISA.
    pub fn build_isa(&self) -> Result<OwnedTargetIsa, Error> {
        let config_error = |what: &str, e: &dyn std::fmt::Display| {
            Error::new(Phase::Config, format!("cannot set cranelift {what}: {e}"))
        };
        let mut shared = settings::builder();
        let verifier = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        let flags = [
            ("opt_level", self.opt_level.setting()),
            ("preserve_frame_pointers", "true"),
            ("enable_probestack", "true"),
            ("probestack_strategy", "inline"),
            ("enable_multi_ret_implicit_sret", "true"),
            ("unwind_info", "false"),
            ("enable_verifier", verifier),
            ("is_pic", "true"),
        ];
        for (name, value) in flags {
            shared
                .set(name, value)
                .map_err(|e| config_error(&format!("setting `{name}`"), &e))?;
        }
        let mut builder = isa::lookup(self.triple.clone()).map_err(|e| {
            Error::new(
                Phase::Config,
                format!("unsupported target `{}`: {e}", self.target_name),
            )
        })?;
        let table = match self.triple.architecture {
            Architecture::X86_64 => X86_64_FEATURES,
            _ => AARCH64_FEATURES,
        };
        for name in &self.cpu_features {
            let flag = table.iter().find(|f| f.name == *name).and_then(|f| f.flag);
            if let Some(flag) = flag {
                builder
                    .enable(flag)
                    .map_err(|e| config_error(&format!("isa flag `{flag}`"), &e))?;
            }
        }
        builder.finish(settings::Flags::new(shared)).map_err(|e| {
            Error::new(
                Phase::Config,
                format!("cannot build the cranelift isa: {e}"),
            )
        })
    }
}

/// A direct call from compiled code to a defined function of the module, patched at emission.
#[derive(Clone, Debug)]
pub(crate) struct CallReloc {
    /// Offset of the relocated field, relative to the start of the function.
    pub offset: u32,
    /// [`Reloc::X86CallPCRel4`] or [`Reloc::Arm64Call`].
    pub kind: Reloc,
    /// The callee.
    pub callee: FuncIndex,
    /// Added to the callee's address.
    pub addend: i64,
}

/// The machine code of one function or trampoline and its metadata; offsets are relative to the
/// start of its code.
#[derive(Clone, Debug, Default)]
pub(crate) struct CompiledFunction {
    /// The code, with call sites not yet patched.
    pub code: Vec<u8>,
    /// Trapping instructions, ascending.
    pub traps: Vec<(u32, Trap)>,
    /// `(start, end, wasm offset)` ranges, ascending; `u32::MAX` for code with no Wasm origin.
    pub srclocs: Vec<(u32, u32, u32)>,
    /// Calls to patch.
    pub calls: Vec<CallReloc>,
}

/// Compiles Cranelift functions, reusing its scratch space across them.
pub(crate) struct Compiler<'a> {
    isa: &'a dyn isa::TargetIsa,
    ctx: Context,
    ctrl_plane: ControlPlane,
}

impl<'a> Compiler<'a> {
    /// A compiler for `isa`.
    pub fn new(isa: &'a dyn isa::TargetIsa) -> Self {
        Self {
            isa,
            ctx: Context::new(),
            ctrl_plane: ControlPlane::default(),
        }
    }

    /// Compiles `func`. Errors carry no function context; the caller adds it.
    pub fn compile(&mut self, func: ir::Function) -> Result<CompiledFunction, Error> {
        self.ctx.clear();
        self.ctx.func = func;
        self.ctx
            .compile(self.isa, &mut self.ctrl_plane)
            .map_err(|e| Error::new(Phase::Codegen, format!("cranelift: {}", e.inner)))?;
        let buffer = &self.ctx.compiled_code().expect("compile succeeded").buffer;
        let mut traps = Vec::with_capacity(buffer.traps().len());
        for trap in buffer.traps() {
            let code = trap_from_code(trap.code).ok_or_else(|| {
                Error::new(
                    Phase::Codegen,
                    format!("internal error: unknown trap code {}", trap.code),
                )
            })?;
            traps.push((trap.offset, code));
        }
        traps.sort_by_key(|&(offset, _)| offset);
        traps.dedup();
        if let Some(w) = traps.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::new(
                Phase::Codegen,
                format!(
                    "internal error: two trap codes ({}, {}) at code offset {:#x}",
                    w[0].1, w[1].1, w[0].0
                ),
            ));
        }
        let srclocs = buffer
            .get_srclocs_sorted()
            .iter()
            .map(|s| (s.start, s.end, s.loc.bits()))
            .collect();
        let names = self.ctx.func.params.user_named_funcs();
        let mut calls = Vec::new();
        for reloc in buffer.relocs() {
            let callee = match (&reloc.kind, &reloc.target) {
                (
                    Reloc::X86CallPCRel4 | Reloc::Arm64Call,
                    FinalizedRelocTarget::ExternalName(ExternalName::User(name)),
                ) => Some(&names[*name]).filter(|n| n.namespace == 0),
                _ => None,
            };
            let Some(callee) = callee else {
                return Err(Error::new(
                    Phase::Codegen,
                    format!(
                        "unexpected relocation {} against {} at code offset {:#x} \
                         (the artifact must need no linking)",
                        reloc.kind,
                        reloc.target.display(Some(&self.ctx.func.params)),
                        reloc.offset
                    ),
                ));
            };
            calls.push(CallReloc {
                offset: reloc.offset,
                kind: reloc.kind,
                callee: FuncIndex(callee.index),
                addend: reloc.addend,
            });
        }
        Ok(CompiledFunction {
            code: buffer.data().to_vec(),
            traps,
            srclocs,
            calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(triple: &str, explicit: &[&str], cargo: &[&str]) -> Result<IsaSetup, Error> {
        let parsed: Triple = triple.parse().unwrap();
        Ok(IsaSetup {
            cpu_features: resolve_cpu_features(triple, &parsed, explicit, cargo)?,
            target_name: triple.into(),
            triple: parsed,
            explicit_bounds_checks: false,
            consume_fuel: false,
            epoch_interruption: false,
            opt_level: OptLevel::Speed,
            pointer_bytes: 8,
        })
    }

    #[test]
    fn compat_flags_follow_the_options() {
        use aot_runtime::artifact::header::{FLAG_CONSUME_FUEL, FLAG_EPOCH_INTERRUPTION};
        let mut s = setup("x86_64-unknown-linux-gnu", &[], &[]).unwrap();
        assert_eq!(s.compat_flags(), 0);
        s.consume_fuel = true;
        assert_eq!(s.compat_flags(), FLAG_CONSUME_FUEL);
        s.epoch_interruption = true;
        assert_eq!(
            s.compat_flags(),
            FLAG_CONSUME_FUEL | FLAG_EPOCH_INTERRUPTION
        );
    }

    #[test]
    fn x86_64_baseline_is_v2() {
        let s = setup(
            "x86_64-unknown-linux-gnu",
            &[],
            &["fxsr", "sse", "sse2", "crt-static"],
        )
        .unwrap();
        assert_eq!(
            s.cpu_features,
            ["popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"]
        );
        s.build_isa().unwrap();
    }

    #[test]
    fn implied_features_are_added() {
        let s = setup("x86_64-unknown-linux-gnu", &["avx2"], &["bmi2"]).unwrap();
        assert_eq!(
            s.cpu_features,
            [
                "avx", "avx2", "bmi2", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"
            ]
        );
    }

    #[test]
    fn aarch64_baseline_is_neon() {
        let s = setup("aarch64-unknown-linux-gnu", &["lse"], &[]).unwrap();
        assert_eq!(s.cpu_features, ["lse", "neon"]);
        s.build_isa().unwrap();
    }

    #[test]
    fn unknown_feature_is_named() {
        let err = setup("x86_64-unknown-linux-gnu", &["avx9000"], &[]).unwrap_err();
        assert!(
            err.message().contains("unknown cpu feature `avx9000`"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_targets_are_refused() {
        for t in [
            "riscv64gc-unknown-linux-gnu",
            "aarch64_be-unknown-linux-gnu",
        ] {
            let err = setup(t, &[], &[]).unwrap_err();
            assert!(err.message().contains("unsupported target"), "{err}");
        }
    }
}
