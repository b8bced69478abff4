//! The two Wasmtime 48 configurations we compare against, and their precompiled artifacts.
//!
//! - `wasmtime`: `Config::new()`, what a Wasmtime user gets by default (host CPU features
//!   inferred, copy-on-write memory images, parallel compilation).
//! - `wasmtime_closest`: the configuration closest to ours: no epoch interruption, no fuel,
//!   signals-based traps, default guard pages, `cranelift_opt_level(Speed)`, and, on x86_64, the
//!   same CPU baseline as our artifacts (x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT) instead of
//!   every feature of the host, so that code generation sees the same instruction set.

use wasmtime::{Config, Engine, OptLevel};

/// A named Wasmtime engine.
pub struct WtEngine {
    /// The key used in tables and results.json.
    pub name: &'static str,
    /// The engine.
    pub engine: Engine,
}

/// Both engines, default first.
pub fn engines() -> Result<Vec<WtEngine>, String> {
    let default =
        Engine::new(&Config::new()).map_err(|e| format!("wasmtime default engine: {e}"))?;
    let mut closest = Config::new();
    closest
        .cranelift_opt_level(OptLevel::Speed)
        .epoch_interruption(false)
        .consume_fuel(false)
        .signals_based_traps(true);
    closest_cpu_baseline(&mut closest)?;
    let closest = Engine::new(&closest).map_err(|e| format!("wasmtime closest engine: {e}"))?;
    Ok(vec![
        WtEngine {
            name: "wasmtime",
            engine: default,
        },
        WtEngine {
            name: "wasmtime_closest",
            engine: closest,
        },
    ])
}

/// Our x86_64 baseline: an explicit target (so Wasmtime infers no host feature) plus x86-64-v2.
#[cfg(target_arch = "x86_64")]
fn closest_cpu_baseline(config: &mut Config) -> Result<(), String> {
    let host_has_v2 = std::arch::is_x86_feature_detected!("sse3")
        && std::arch::is_x86_feature_detected!("ssse3")
        && std::arch::is_x86_feature_detected!("sse4.1")
        && std::arch::is_x86_feature_detected!("sse4.2")
        && std::arch::is_x86_feature_detected!("popcnt");
    if !host_has_v2 {
        // Our artifacts need x86-64-v2 too; the benchmark cannot run here at all.
        return Err("this CPU lacks x86-64-v2, which aot-build's artifacts require".to_string());
    }
    config
        .target("x86_64-unknown-linux-gnu")
        .map_err(|e| format!("wasmtime target: {e}"))?;
    for flag in [
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
    ] {
        // SAFETY: the host has every one of these features (checked above), so code using them
        // runs here; Wasmtime also re-checks the flags against the host when deserializing.
        unsafe {
            config.cranelift_flag_enable(flag);
        }
    }
    Ok(())
}

/// On other architectures the closest configuration keeps Wasmtime's host-inferred features.
#[cfg(not(target_arch = "x86_64"))]
fn closest_cpu_baseline(_config: &mut Config) -> Result<(), String> {
    Ok(())
}

/// Loads a precompiled artifact (`Module::deserialize`).
pub fn deserialize(engine: &Engine, cwasm: &[u8]) -> Result<wasmtime::Module, String> {
    // SAFETY: `cwasm` was produced by `Engine::precompile_module` of this same engine, in this
    // process, and is not modified afterwards.
    unsafe { wasmtime::Module::deserialize(engine, cwasm) }.map_err(|e| e.to_string())
}
