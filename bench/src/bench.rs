//! The measurements. Each one runs our runtime and both Wasmtime configurations (and native code
//! for the kernels) interleaved, and returns a [`Section`]: a table for stdout, its part of
//! results.json, the ratios it decides and any problem found (a trap, a wrong result).
//!
//! Ratios are always ours divided by theirs: below 1 is better for us.

use crate::modules::{Kernel, WasmModule};
use crate::stats::{Sampler, Summary, geomean, interleave, rss_bytes, time};
use crate::wt::{self, WtEngine};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// How long and how often to measure (`--quick` or full).
pub struct Params {
    /// Samples per kernel and runtime.
    pub exec_rounds: usize,
    /// Wanted duration of one native `run(n)` call; `n` is calibrated to it.
    pub exec_target_ns: f64,
    /// Compilations per kernel and compiler.
    pub compile_rounds: usize,
    /// Loads per module and runtime.
    pub load_iters: usize,
    /// Instantiations per module and runtime (no data, 1 MiB, 16 MiB, 10,000 functions).
    pub instantiate_iters: [usize; 4],
    /// Samples per call benchmark and runtime.
    pub call_rounds: usize,
    /// Calls per sample.
    pub call_batch: u32,
    /// Instances kept alive to measure memory (no data, 1 MiB).
    pub memory_instances: [usize; 2],
    /// Memory samples per module and runtime.
    pub memory_rounds: usize,
}

impl Params {
    /// `--quick`: a few minutes at most on a small shared machine.
    pub fn quick() -> Params {
        Params {
            exec_rounds: 11,
            exec_target_ns: 20e6,
            compile_rounds: 5,
            load_iters: 101,
            instantiate_iters: [501, 301, 41, 301],
            call_rounds: 21,
            call_batch: 20_000,
            memory_instances: [1000, 100],
            memory_rounds: 3,
        }
    }

    /// The default: more and longer samples.
    pub fn full() -> Params {
        Params {
            exec_rounds: 31,
            exec_target_ns: 60e6,
            compile_rounds: 15,
            load_iters: 501,
            instantiate_iters: [3001, 1001, 151, 1001],
            call_rounds: 101,
            call_batch: 50_000,
            memory_instances: [1000, 200],
            memory_rounds: 5,
        }
    }
}

/// Everything the measurements share: the Wasmtime engines and, for each module name, its
/// precompiled artifact for each engine (same order as `engines`).
pub struct Ctx {
    /// Both Wasmtime configurations.
    pub engines: Vec<WtEngine>,
    /// `Engine::precompile_module` output per module name, per engine.
    pub cwasm: HashMap<&'static str, Vec<Vec<u8>>>,
}

impl Ctx {
    /// Precompiles every module for every engine.
    pub fn new(engines: Vec<WtEngine>, modules: &[&WasmModule]) -> Result<Ctx, String> {
        let mut cwasm = HashMap::new();
        for module in modules {
            let per_engine = engines
                .iter()
                .map(|e| {
                    e.engine.precompile_module(module.wasm).map_err(|err| {
                        format!(
                            "wasmtime ({}) cannot compile {}: {err}",
                            e.name, module.name
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            cwasm.insert(module.name, per_engine);
        }
        Ok(Ctx { engines, cwasm })
    }

    pub fn cwasm(&self, module: &str, engine: usize) -> &[u8] {
        &self.cwasm[module][engine]
    }

    /// Subject names in sampler order: ours, then each engine.
    fn subjects(&self) -> Vec<&'static str> {
        std::iter::once("ours")
            .chain(self.engines.iter().map(|e| e.name))
            .collect()
    }
}

/// One measurement's results.
pub struct Section {
    /// Title of the table.
    pub title: &'static str,
    /// Key of this section in results.json.
    pub key: &'static str,
    /// Column names.
    pub header: Vec<String>,
    /// Table rows (already formatted).
    pub rows: Vec<Vec<String>>,
    /// This section in results.json.
    pub json: Value,
    /// Ratio keys decided here, against Wasmtime's default configuration.
    pub ratios: Vec<(&'static str, Option<f64>)>,
    /// The same ratios against the closest configuration.
    pub ratios_closest: Vec<(&'static str, Option<f64>)>,
    /// Problems found (failures, wrong results), with the numbers.
    pub problems: Vec<String>,
}

impl Section {
    fn new(title: &'static str, key: &'static str, header: &[&str]) -> Section {
        Section {
            title,
            key,
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            json: Value::Object(Map::new()),
            ratios: Vec::new(),
            ratios_closest: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn insert(&mut self, key: &str, value: Value) {
        if let Value::Object(map) = &mut self.json {
            map.insert(key.to_string(), value);
        }
    }
}

/// Formats nanoseconds with a unit.
pub fn fmt_ns(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.1} ns"),
        ns if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

/// Formats a ratio.
pub fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"))
}

/// Formats a byte count.
pub fn fmt_bytes(b: f64) -> String {
    match b.abs() {
        a if a < 10_000.0 => format!("{b:.0} B"),
        a if a < 10_000_000.0 => format!("{:.1} KiB", b / 1024.0),
        _ => format!("{:.1} MiB", b / 1048576.0),
    }
}

fn summary_json(s: &Summary) -> Value {
    json!({ "median": s.median, "p25": s.p25, "p75": s.p75, "samples": s.samples })
}

/// `ours / theirs` when both exist.
fn ratio(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn max_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let all: Option<Vec<f64>> = values.into_iter().collect();
    all.filter(|v| !v.is_empty())
        .map(|v| v.into_iter().fold(f64::MIN, f64::max))
}

fn geomean_of(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let all: Option<Vec<f64>> = values.into_iter().collect();
    all.filter(|v| !v.is_empty()).map(|v| geomean(&v))
}

/// Adds the medians of `outcomes` (named `subjects`) to `json` under `prefix` and returns them;
/// failures become problems.
fn record(
    section: &mut Section,
    what: &str,
    subjects: &[&str],
    outcomes: &[Result<Summary, String>],
    scale: f64,
) -> Vec<Option<f64>> {
    let mut entry = Map::new();
    let mut medians = Vec::new();
    for (name, outcome) in subjects.iter().zip(outcomes) {
        match outcome {
            Ok(s) => {
                let s = s.scaled(scale);
                entry.insert(name.to_string(), summary_json(&s));
                medians.push(Some(s.median));
            }
            Err(e) => {
                section
                    .problems
                    .push(format!("{}: {what}: {name}: {e}", section.key));
                entry.insert(name.to_string(), Value::Null);
                medians.push(None);
            }
        }
    }
    section.insert(what, Value::Object(entry));
    medians
}

fn err_str(e: impl std::fmt::Display) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Execution.

/// The `n` for which one native `run(n)` takes about `target_ns`.
fn calibrate(native: extern "C" fn(u32) -> u32, target_ns: f64) -> u32 {
    let mut n = 1u32;
    loop {
        let (ns, _) = time(|| native(std::hint::black_box(n)));
        if ns >= target_ns / 4.0 || n >= 1 << 20 {
            return (f64::from(n) * target_ns / ns.max(1.0)).clamp(1.0, f64::from(1u32 << 22))
                as u32;
        }
        n *= 2;
    }
}

/// A sampler calling `run(n)` and checking its result against the native one.
fn checked(
    who: &'static str,
    expected: u32,
    mut call: impl FnMut() -> Result<u32, String>,
) -> impl FnMut() -> Result<f64, String> {
    move || {
        let (ns, got) = time(&mut call);
        let got = got?;
        if got != expected {
            return Err(format!(
                "wrong result: {who} returned {got:#010x}, native returned {expected:#010x}"
            ));
        }
        Ok(ns)
    }
}

/// Execution time of every kernel: ours, both Wasmtime configurations, native.
pub fn exec(p: &Params, cx: &Ctx, kernels: &[Kernel]) -> Section {
    let mut section = Section::new(
        "Execution time per run(n) call (median)",
        "exec",
        &[
            "kernel",
            "n",
            "ours",
            "wasmtime",
            "wt closest",
            "native",
            "ours/wt",
            "ours/wt closest",
            "ours/native",
            "wt/native",
            "spread",
        ],
    );
    let mut vs_wt = Vec::new();
    let mut vs_closest = Vec::new();
    let mut vs_native = Vec::new();
    for kernel in kernels {
        let name = kernel.module.name;
        match exec_kernel(p, cx, kernel) {
            Ok((n, expected, outcomes)) => {
                let mut subjects = cx.subjects();
                subjects.push("native");
                let medians = record(&mut section, name, &subjects, &outcomes, 1.0);
                let (ours, wt_default, wt_closest, native) =
                    (medians[0], medians[1], medians[2], medians[3]);
                let r = ratio(ours, wt_default);
                let rc = ratio(ours, wt_closest);
                let rn = ratio(ours, native);
                vs_wt.push(r);
                vs_closest.push(rc);
                vs_native.push(rn);
                let spread = outcomes
                    .iter()
                    .filter_map(|o| o.as_ref().ok().map(Summary::spread))
                    .fold(0.0, f64::max);
                if let Some(Value::Object(entry)) = section.json.get_mut(name) {
                    entry.insert("n".into(), json!(n));
                    entry.insert("result".into(), json!(expected));
                    entry.insert("ours_vs_wasmtime".into(), json!(r));
                    entry.insert("ours_vs_wasmtime_closest".into(), json!(rc));
                    entry.insert("ours_vs_native".into(), json!(rn));
                    entry.insert(
                        "wasmtime_vs_native".into(),
                        json!(ratio(wt_default, native)),
                    );
                    entry.insert("max_spread".into(), json!(spread));
                }
                let cell = |m: Option<f64>| m.map_or_else(|| "FAILED".to_string(), fmt_ns);
                section.rows.push(vec![
                    name.to_string(),
                    n.to_string(),
                    cell(ours),
                    cell(wt_default),
                    cell(wt_closest),
                    cell(native),
                    fmt_ratio(r),
                    fmt_ratio(rc),
                    fmt_ratio(rn),
                    fmt_ratio(ratio(wt_default, native)),
                    format!("{:.0}%", spread * 100.0),
                ]);
            }
            Err(e) => {
                section.problems.push(format!("exec: {name}: {e}"));
                vs_wt.push(None);
                vs_closest.push(None);
                vs_native.push(None);
                section.insert(name, Value::Null);
                section
                    .rows
                    .push(vec![name.to_string(), "-".into(), format!("FAILED: {e}")]);
            }
        }
    }
    let geo = geomean_of(vs_wt.clone());
    let geo_c = geomean_of(vs_closest.clone());
    let geo_n = geomean_of(vs_native);
    section.rows.push(vec![
        "geomean".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        fmt_ratio(geo),
        fmt_ratio(geo_c),
        fmt_ratio(geo_n),
    ]);
    section.ratios = vec![
        ("exec_geomean_vs_wasmtime", geo),
        ("exec_worst_vs_wasmtime", max_of(vs_wt)),
        ("exec_geomean_vs_native", geo_n),
    ];
    section.ratios_closest = vec![
        ("exec_geomean_vs_wasmtime", geo_c),
        ("exec_worst_vs_wasmtime", max_of(vs_closest)),
    ];
    section
}

type KernelOutcome = (u32, u32, Vec<Result<Summary, String>>);

fn exec_kernel(p: &Params, cx: &Ctx, kernel: &Kernel) -> Result<KernelOutcome, String> {
    let name = kernel.module.name;
    let native = kernel.native;
    let n = calibrate(native, p.exec_target_ns);
    let expected = native(n);

    let module = aot_runtime::Module::from_embedded(kernel.module.aot)
        .map_err(|e| format!("ours: load: {e}"))?;
    let mut store = aot_runtime::Store::new(());
    let instance = aot_runtime::Instance::new(&mut store, &module, &[])
        .map_err(|e| format!("ours: instantiate: {e}"))?;
    let run = instance
        .get_typed_func::<u32, u32>(&mut store, "run")
        .map_err(|e| format!("ours: {e}"))?;

    let mut theirs = Vec::new();
    for (i, e) in cx.engines.iter().enumerate() {
        let module = wt::deserialize(&e.engine, cx.cwasm(name, i))?;
        let mut store = wasmtime::Store::new(&e.engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).map_err(err_str)?;
        let run = instance
            .get_typed_func::<u32, u32>(&mut store, "run")
            .map_err(err_str)?;
        theirs.push((e.name, store, run));
    }

    let mut samplers: Vec<Sampler<'_>> = vec![Box::new(checked("ours", expected, move || {
        run.call(&mut store, n)
            .map_err(|e| format!("ours: run({n}): {e}"))
    }))];
    for (who, store, run) in &mut theirs {
        let who = *who;
        samplers.push(Box::new(checked(who, expected, move || {
            run.call(&mut *store, n)
                .map_err(|e| format!("{who}: run({n}): {e}"))
        })));
    }
    samplers.push(Box::new(checked("native", expected, move || {
        Ok(native(std::hint::black_box(n)))
    })));
    // One discarded round warms caches up; every call, that one included, checks its result.
    Ok((n, expected, interleave(p.exec_rounds, 1, samplers)))
}

// ---------------------------------------------------------------------------------------------
// Build-time compilation and artifact sizes.

/// Compile time of every kernel: aot-build (`compile_bytes`, opt level speed) against
/// `Engine::precompile_module`.
pub fn compile(p: &Params, cx: &Ctx, kernels: &[Kernel]) -> Section {
    let mut section = Section::new(
        "Build-time compilation (median per module)",
        "compile",
        &[
            "module",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    let subjects = cx.subjects();
    let mut totals = vec![Some(0.0); subjects.len()];
    for kernel in kernels {
        let m = &kernel.module;
        let mut samplers: Vec<Sampler<'_>> = vec![Box::new(|| {
            let (ns, artifact) = time(|| {
                aot_build::Config::new()
                    .opt_level(aot_build::OptLevel::Speed)
                    .module_name(m.name)
                    .compile_bytes(m.wasm)
            });
            artifact.map(|_| ns).map_err(err_str)
        })];
        for e in &cx.engines {
            samplers.push(Box::new(|| {
                let (ns, cwasm) = time(|| e.engine.precompile_module(m.wasm));
                cwasm.map(|_| ns).map_err(err_str)
            }));
        }
        let outcomes = interleave(p.compile_rounds, 1, samplers);
        let medians = record(&mut section, m.name, &subjects, &outcomes, 1.0);
        for (total, median) in totals.iter_mut().zip(&medians) {
            *total = total.zip(*median).map(|(t, m)| t + m);
        }
        section.rows.push(row_of(m.name, &medians));
    }
    section.rows.push(row_of("total", &totals));
    section.insert(
        "total",
        json!(
            subjects
                .iter()
                .zip(&totals)
                .map(|(s, t)| (s.to_string(), json!(t)))
                .collect::<Map<_, _>>()
        ),
    );
    section.ratios = vec![("compile_vs_wasmtime", ratio(totals[0], totals[1]))];
    section.ratios_closest = vec![("compile_vs_wasmtime", ratio(totals[0], totals[2]))];
    section
}

/// A row: name, ours, each Wasmtime, then ours divided by each Wasmtime.
fn row_of(name: &str, medians: &[Option<f64>]) -> Vec<String> {
    let cell = |m: &Option<f64>| m.map_or_else(|| "FAILED".to_string(), fmt_ns);
    let mut row = vec![name.to_string()];
    row.extend(medians.iter().map(cell));
    row.extend(
        medians[1..]
            .iter()
            .map(|t| fmt_ratio(ratio(medians[0], *t))),
    );
    row
}

/// Artifact sizes: our `.aot` against Wasmtime's `.cwasm`.
pub fn sizes(cx: &Ctx, modules: &[&WasmModule]) -> Section {
    let mut section = Section::new(
        "Artifact size (ours .aot, Wasmtime .cwasm)",
        "artifact_size",
        &[
            "module",
            "wasm",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    let mut totals = vec![0usize; 1 + cx.engines.len()];
    let mut wasm_total = 0;
    for m in modules {
        let mut sizes = vec![m.aot.bytes().len()];
        sizes.extend((0..cx.engines.len()).map(|i| cx.cwasm(m.name, i).len()));
        // The data modules dwarf everything else: totals are over the kernels and call module.
        if !m.name.starts_with("data_") {
            wasm_total += m.wasm.len();
            for (t, s) in totals.iter_mut().zip(&sizes) {
                *t += s;
            }
        }
        section.insert(
            m.name,
            json!({ "wasm": m.wasm.len(), "ours": sizes[0], "wasmtime": sizes[1], "wasmtime_closest": sizes[2] }),
        );
        section.rows.push(size_row(m.name, m.wasm.len(), &sizes));
    }
    section
        .rows
        .push(size_row("total (code modules)", wasm_total, &totals));
    section.insert(
        "total",
        json!({ "wasm": wasm_total, "ours": totals[0], "wasmtime": totals[1], "wasmtime_closest": totals[2] }),
    );
    let r = |i: usize| Some(totals[0] as f64 / totals[i] as f64);
    section.ratios = vec![("artifact_size_vs_wasmtime", r(1))];
    section.ratios_closest = vec![("artifact_size_vs_wasmtime", r(2))];
    section
}

fn size_row(name: &str, wasm: usize, sizes: &[usize]) -> Vec<String> {
    let mut row = vec![name.to_string(), fmt_bytes(wasm as f64)];
    row.extend(sizes.iter().map(|&s| fmt_bytes(s as f64)));
    row.extend(
        sizes[1..]
            .iter()
            .map(|&t| fmt_ratio(Some(sizes[0] as f64 / t as f64))),
    );
    row
}

/// The stripped size of a compiler-free release binary, as last measured by `binsize/measure.sh`
/// (`binary_size.json`; building the two programs takes minutes, so this program only reads it).
pub fn binary_size(path: &std::path::Path) -> Section {
    let mut section = Section::new(
        "Stripped compiler-free release binary (binsize/measure.sh)",
        "binary_size",
        &["program", "ours", "wasmtime", "ours/wt"],
    );
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| serde_json::from_str::<Value>(&text).map_err(err_str));
    match parsed {
        Ok(json) => {
            let ours = json["ours"].as_f64();
            let theirs = json["wasmtime"].as_f64();
            let r = ratio(ours, theirs);
            section.rows.push(vec![
                "hello".into(),
                ours.map_or_else(|| "-".into(), fmt_bytes),
                theirs.map_or_else(|| "-".into(), fmt_bytes),
                fmt_ratio(r),
            ]);
            section.json = json;
            section.ratios = vec![("binary_size_vs_wasmtime", r)];
            section.ratios_closest = vec![("binary_size_vs_wasmtime", r)];
        }
        Err(e) => {
            section.json = Value::Null;
            section
                .rows
                .push(vec![format!("not measured ({e}): run binsize/measure.sh")]);
        }
    }
    section
}

// ---------------------------------------------------------------------------------------------
// Load and instantiation.

/// Load time from in-memory bytes to a ready module: `Module::from_embedded` against Wasmtime's
/// `Module::deserialize`.
pub fn load(p: &Params, cx: &Ctx, modules: &[&WasmModule]) -> Section {
    let mut section = Section::new(
        "Load: artifact bytes in memory -> ready module (median)",
        "load",
        &[
            "module",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    let subjects = cx.subjects();
    let mut vs: [Vec<Option<f64>>; 2] = Default::default();
    for m in modules {
        let mut samplers: Vec<Sampler<'_>> = vec![Box::new(|| {
            let (ns, module) = time(|| aot_runtime::Module::from_embedded(m.aot));
            module.map(|_| ns).map_err(err_str)
        })];
        for (i, e) in cx.engines.iter().enumerate() {
            let cwasm = cx.cwasm(m.name, i);
            samplers.push(Box::new(move || {
                let (ns, module) = time(|| wt::deserialize(&e.engine, cwasm));
                module.map(|_| ns)
            }));
        }
        let outcomes = interleave(p.load_iters, 1, samplers);
        let medians = record(&mut section, m.name, &subjects, &outcomes, 1.0);
        vs[0].push(ratio(medians[0], medians[1]));
        vs[1].push(ratio(medians[0], medians[2]));
        section.rows.push(row_of(m.name, &medians));
    }
    section.rows.push(vec![
        "worst".into(),
        String::new(),
        String::new(),
        String::new(),
        fmt_ratio(max_of(vs[0].clone())),
        fmt_ratio(max_of(vs[1].clone())),
    ]);
    section.ratios = vec![("load_vs_wasmtime", max_of(vs[0].clone()))];
    section.ratios_closest = vec![("load_vs_wasmtime", max_of(vs[1].clone()))];
    section
}

/// Instantiation time of the three data instantiation modules and of `funcs_10k`: a new store
/// plus the instance (the drop of both is not timed: the measure), and the same with the
/// drop timed too. `instantiate_vs_wasmtime` is the worst of the four modules;
/// `instantiate_funcs_vs_wasmtime` is `funcs_10k` alone (table initialisation).
pub fn instantiate(p: &Params, cx: &Ctx, data: &[WasmModule; 3], funcs: &WasmModule) -> Section {
    let mut section = Section::new(
        "Instantiation: new store + instance (median)",
        "instantiate",
        &[
            "module",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    let subjects = cx.subjects();
    let mut vs: [Vec<Option<f64>>; 2] = Default::default();
    // The same cycle with the drop of the store and instance timed too: our memories go back to a
    // pool on drop (their reset happens there), so this row shows the whole cost.
    let mut cycle: [Vec<Option<f64>>; 2] = Default::default();
    let modules = data.iter().chain([funcs]);
    for (m, &iters) in modules.zip(&p.instantiate_iters) {
        let is_funcs = std::ptr::eq(m, funcs);
        for timed_drop in [false, true] {
            let name = if timed_drop {
                format!("{} (+ drop)", m.name)
            } else {
                m.name.to_string()
            };
            let vs = if timed_drop { &mut cycle } else { &mut vs };
            match instantiate_module(iters, cx, m, timed_drop, is_funcs) {
                Ok(outcomes) => {
                    let medians = record(&mut section, &name, &subjects, &outcomes, 1.0);
                    vs[0].push(ratio(medians[0], medians[1]));
                    vs[1].push(ratio(medians[0], medians[2]));
                    section.rows.push(row_of(&name, &medians));
                }
                Err(e) => {
                    section.problems.push(format!("instantiate: {name}: {e}"));
                    vs[0].push(None);
                    vs[1].push(None);
                    section.rows.push(vec![name, format!("FAILED: {e}")]);
                }
            }
        }
    }
    // `funcs_10k` is the last module.
    let funcs_ratio = |v: &[Option<f64>]| v.last().copied().flatten();
    section.ratios = vec![
        ("instantiate_vs_wasmtime", max_of(vs[0].clone())),
        ("instantiate_funcs_vs_wasmtime", funcs_ratio(&vs[0])),
        (
            "instantiate_with_drop_vs_wasmtime",
            max_of(cycle[0].clone()),
        ),
    ];
    section.ratios_closest = vec![
        ("instantiate_vs_wasmtime", max_of(vs[1].clone())),
        ("instantiate_funcs_vs_wasmtime", funcs_ratio(&vs[1])),
        (
            "instantiate_with_drop_vs_wasmtime",
            max_of(cycle[1].clone()),
        ),
    ];
    section
}

fn instantiate_module(
    iters: usize,
    cx: &Ctx,
    m: &WasmModule,
    timed_drop: bool,
    is_funcs: bool,
) -> Result<Vec<Result<Summary, String>>, String> {
    let ours = aot_runtime::Module::from_embedded(m.aot).map_err(|e| format!("ours: load: {e}"))?;
    let theirs = (0..cx.engines.len())
        .map(|i| wt::deserialize(&cx.engines[i].engine, cx.cwasm(m.name, i)))
        .collect::<Result<Vec<_>, _>>()?;
    check_instances(cx, &ours, &theirs)?;
    if is_funcs {
        check_funcs(cx, &ours, &theirs)?;
    }
    let mut samplers: Vec<Sampler<'_>> = vec![Box::new(|| {
        let (ns, (kept, instance)) = time(|| {
            let mut store = aot_runtime::Store::new(());
            let instance = aot_runtime::Instance::new(&mut store, &ours, &[]).map(|_| ());
            (keep_unless(timed_drop, store), instance)
        });
        instance.map_err(err_str)?;
        drop(kept);
        Ok(ns)
    })];
    for (e, module) in cx.engines.iter().zip(&theirs) {
        samplers.push(Box::new(move || {
            let (ns, (kept, instance)) = time(|| {
                let mut store = wasmtime::Store::new(&e.engine, ());
                let instance = wasmtime::Instance::new(&mut store, module, &[]).map(|_| ());
                (keep_unless(timed_drop, store), instance)
            });
            instance.map_err(err_str)?;
            drop(kept);
            Ok(ns)
        }));
    }
    Ok(interleave(iters, 1, samplers))
}

/// `value`, or `None` after dropping it (inside the timed region) when `drop_now`.
fn keep_unless<T>(drop_now: bool, value: T) -> Option<T> {
    if drop_now {
        drop(value);
        None
    } else {
        Some(value)
    }
}

/// Checks that every runtime sees the same memory contents after instantiation (a few bytes of
/// the data segment, read through the `get` export when the module has one, else the memory).
fn check_instances(
    cx: &Ctx,
    ours: &aot_runtime::Module,
    theirs: &[wasmtime::Module],
) -> Result<(), String> {
    let probes = [
        0usize,
        1,
        4095,
        65535,
        65536,
        (1 << 20) - 1,
        1 << 20,
        (16 << 20) - 1,
    ];
    let mut store = aot_runtime::Store::new(());
    let instance =
        aot_runtime::Instance::new(&mut store, ours, &[]).map_err(|e| format!("ours: {e}"))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("ours: no memory export")?;
    let ours_bytes: Vec<u8> = probes
        .iter()
        .map(|&i| memory.data(&store).get(i).copied().unwrap_or(0))
        .collect();
    for (e, module) in cx.engines.iter().zip(theirs) {
        let mut store = wasmtime::Store::new(&e.engine, ());
        let instance = wasmtime::Instance::new(&mut store, module, &[]).map_err(err_str)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("wasmtime: no memory export")?;
        let bytes: Vec<u8> = probes
            .iter()
            .map(|&i| memory.data(&store).get(i).copied().unwrap_or(0))
            .collect();
        if bytes != ours_bytes {
            return Err(format!(
                "memory after instantiation differs: ours {ours_bytes:?}, {} {bytes:?} at {probes:?}",
                e.name
            ));
        }
    }
    Ok(())
}

/// What `call(slot, x)` of `funcs_10k` returns: function `slot` of build.rs's `funcs_module`
/// (`K = slot`; by `slot % 4`: `x + K`, `x * K`, `x - K`), or `None` when it traps (slot
/// `% 4 == 3` holds a two-parameter function, a signature mismatch; a slot past the table).
fn funcs_expected(slot: u32, x: i32) -> Option<i32> {
    if slot >= 10_000 {
        return None;
    }
    let k = slot as i32;
    match slot % 4 {
        0 => Some(x.wrapping_add(k)),
        1 => Some(x.wrapping_mul(k)),
        2 => Some(x.wrapping_sub(k)),
        _ => None,
    }
}

/// Checks `call(slot, 5)` of `funcs_10k` on a fresh instance of every runtime against
/// [`funcs_expected`]: slot 1234 (the brief's check), the first and last slots of the table, a
/// two-parameter function and a slot past the end (both must trap). Not timed.
fn check_funcs(
    cx: &Ctx,
    ours: &aot_runtime::Module,
    theirs: &[wasmtime::Module],
) -> Result<(), String> {
    const SLOTS: [u32; 6] = [1234, 0, 9997, 9998, 9999, 10_000];
    let x = 5;
    let check =
        |who: &str, slot: u32, got: Result<i32, String>| match (funcs_expected(slot, x), got) {
            (Some(want), Ok(got)) if got == want => Ok(()),
            (None, Err(_)) => Ok(()),
            (want, got) => Err(format!(
                "{who}: call({slot}, {x}) returned {got:?}, expected {}",
                want.map_or_else(|| "a trap".to_string(), |w| w.to_string())
            )),
        };
    let mut store = aot_runtime::Store::new(());
    let instance =
        aot_runtime::Instance::new(&mut store, ours, &[]).map_err(|e| format!("ours: {e}"))?;
    let call = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "call")
        .map_err(|e| format!("ours: {e}"))?;
    for slot in SLOTS {
        check(
            "ours",
            slot,
            call.call(&mut store, (slot as i32, x)).map_err(err_str),
        )?;
    }
    for (e, module) in cx.engines.iter().zip(theirs) {
        let mut store = wasmtime::Store::new(&e.engine, ());
        let instance = wasmtime::Instance::new(&mut store, module, &[]).map_err(err_str)?;
        let call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "call")
            .map_err(err_str)?;
        for slot in SLOTS {
            check(
                e.name,
                slot,
                call.call(&mut store, (slot as i32, x)).map_err(err_str),
            )?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Calls.

/// Host-to-Wasm calls through a typed function (empty, and two parameters plus a result) and
/// Wasm-to-host calls of an empty import.
pub fn calls(p: &Params, cx: &Ctx, m: &WasmModule) -> Section {
    let mut section = Section::new(
        "Call overhead (median per call)",
        "calls",
        &[
            "call",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    match calls_inner(p, cx, m, &mut section) {
        Ok(()) => {}
        Err(e) => {
            section.problems.push(format!("calls: {e}"));
            section
                .rows
                .push(vec!["calls".into(), format!("FAILED: {e}")]);
        }
    }
    section
}

/// The three call benchmarks.
#[derive(Copy, Clone)]
enum Call {
    /// `empty()` from the host, `batch` times.
    HostToWasmEmpty,
    /// `add(i, 1)` from the host, `batch` times.
    HostToWasmAdd,
    /// `call_host(batch)`: the Wasm loop calls the empty host import `batch` times.
    WasmToHostEmpty,
}

impl Call {
    fn key(self) -> &'static str {
        match self {
            Call::HostToWasmEmpty => "host_to_wasm_empty",
            Call::HostToWasmAdd => "host_to_wasm_add",
            Call::WasmToHostEmpty => "wasm_to_host_empty",
        }
    }
}

/// An instance of `wat/calls.wat` in our runtime.
struct OursCalls {
    store: aot_runtime::Store<()>,
    empty: aot_runtime::TypedFunc<(), ()>,
    add: aot_runtime::TypedFunc<(i32, i32), i32>,
    call_host: aot_runtime::TypedFunc<i32, ()>,
}

impl OursCalls {
    /// Nanoseconds for `batch` calls of `what`.
    fn sample(&mut self, what: Call, batch: u32) -> Result<f64, String> {
        let start = Instant::now();
        match what {
            Call::HostToWasmEmpty => {
                for _ in 0..batch {
                    self.empty.call(&mut self.store, ()).map_err(err_str)?;
                }
            }
            Call::HostToWasmAdd => {
                for i in 0..batch as i32 {
                    let r = self.add.call(&mut self.store, (i, 1)).map_err(err_str)?;
                    std::hint::black_box(r);
                }
            }
            Call::WasmToHostEmpty => self
                .call_host
                .call(&mut self.store, batch as i32)
                .map_err(err_str)?,
        }
        Ok(start.elapsed().as_nanos() as f64)
    }
}

/// An instance of `wat/calls.wat` in Wasmtime.
struct WasmtimeCalls {
    store: wasmtime::Store<()>,
    empty: wasmtime::TypedFunc<(), ()>,
    add: wasmtime::TypedFunc<(i32, i32), i32>,
    call_host: wasmtime::TypedFunc<i32, ()>,
}

impl WasmtimeCalls {
    /// Nanoseconds for `batch` calls of `what`.
    fn sample(&mut self, what: Call, batch: u32) -> Result<f64, String> {
        let start = Instant::now();
        match what {
            Call::HostToWasmEmpty => {
                for _ in 0..batch {
                    self.empty.call(&mut self.store, ()).map_err(err_str)?;
                }
            }
            Call::HostToWasmAdd => {
                for i in 0..batch as i32 {
                    let r = self.add.call(&mut self.store, (i, 1)).map_err(err_str)?;
                    std::hint::black_box(r);
                }
            }
            Call::WasmToHostEmpty => self
                .call_host
                .call(&mut self.store, batch as i32)
                .map_err(err_str)?,
        }
        Ok(start.elapsed().as_nanos() as f64)
    }
}

fn calls_inner(p: &Params, cx: &Ctx, m: &WasmModule, section: &mut Section) -> Result<(), String> {
    let batch = p.call_batch;
    // Ours.
    let module = aot_runtime::Module::from_embedded(m.aot).map_err(|e| format!("ours: {e}"))?;
    let mut linker = aot_runtime::Linker::new();
    linker
        .func_wrap("host", "empty", || {})
        .map_err(|e| format!("ours: {e}"))?;
    let mut store = aot_runtime::Store::new(());
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(|e| format!("ours: {e}"))?;
    let ours_empty = instance
        .get_typed_func::<(), ()>(&mut store, "empty")
        .map_err(err_str)?;
    let ours_add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .map_err(err_str)?;
    let ours_host = instance
        .get_typed_func::<i32, ()>(&mut store, "call_host")
        .map_err(err_str)?;
    let mut ours = OursCalls {
        store,
        empty: ours_empty,
        add: ours_add,
        call_host: ours_host,
    };

    // Wasmtime.
    let mut theirs = Vec::new();
    for (i, e) in cx.engines.iter().enumerate() {
        let module = wt::deserialize(&e.engine, cx.cwasm(m.name, i))?;
        let mut linker = wasmtime::Linker::new(&e.engine);
        linker.func_wrap("host", "empty", || {}).map_err(err_str)?;
        let mut store = wasmtime::Store::new(&e.engine, ());
        let instance = linker.instantiate(&mut store, &module).map_err(err_str)?;
        let empty = instance
            .get_typed_func::<(), ()>(&mut store, "empty")
            .map_err(err_str)?;
        let add = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "add")
            .map_err(err_str)?;
        let host = instance
            .get_typed_func::<i32, ()>(&mut store, "call_host")
            .map_err(err_str)?;
        theirs.push(WasmtimeCalls {
            store,
            empty,
            add,
            call_host: host,
        });
    }

    let subjects = cx.subjects();
    let mut results = Vec::new();
    for what in [
        Call::HostToWasmEmpty,
        Call::HostToWasmAdd,
        Call::WasmToHostEmpty,
    ] {
        let mut samplers: Vec<Sampler<'_>> = vec![Box::new(|| ours.sample(what, batch))];
        for set in &mut theirs {
            samplers.push(Box::new(move || set.sample(what, batch)));
        }
        let outcomes = interleave(p.call_rounds, 1, samplers);
        let medians = record(section, what.key(), &subjects, &outcomes, f64::from(batch));
        section.rows.push(row_of(what.key(), &medians));
        results.push(medians);
    }
    section.ratios = vec![
        ("call_vs_wasmtime", ratio(results[0][0], results[0][1])),
        (
            "wasm_to_host_call_vs_wasmtime",
            ratio(results[2][0], results[2][1]),
        ),
    ];
    section.ratios_closest = vec![
        ("call_vs_wasmtime", ratio(results[0][0], results[0][2])),
        (
            "wasm_to_host_call_vs_wasmtime",
            ratio(results[2][0], results[2][2]),
        ),
    ];
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory per instance.

/// Resident memory per instance: RSS growth while `count` instances of a module are alive in
/// one store, divided by `count`. Each sample runs in a fresh child process (this program with
/// `--memory-probe`), so memory freed by earlier measurements cannot hide the growth.
pub fn memory(p: &Params, cx: &Ctx, modules: &[WasmModule; 3]) -> Section {
    let mut section = Section::new(
        "Memory per instance (RSS growth / instances, fresh process, median)",
        "memory_per_instance",
        &[
            "module",
            "instances",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ],
    );
    let subjects = cx.subjects();
    let mut vs: [Vec<Option<f64>>; 2] = Default::default();
    for (m, &count) in modules.iter().zip(&p.memory_instances) {
        let samplers: Vec<Sampler<'_>> = subjects
            .iter()
            .map(|&who| Box::new(move || probe_child(who, m.name, count)) as Sampler<'_>)
            .collect();
        let outcomes = interleave(p.memory_rounds, 0, samplers);
        let medians = record(&mut section, m.name, &subjects, &outcomes, 1.0);
        vs[0].push(ratio(medians[0], medians[1]));
        vs[1].push(ratio(medians[0], medians[2]));
        let cell = |m: &Option<f64>| m.map_or_else(|| "FAILED".to_string(), fmt_bytes);
        let mut row = vec![m.name.to_string(), count.to_string()];
        row.extend(medians.iter().map(cell));
        row.extend(
            medians[1..]
                .iter()
                .map(|t| fmt_ratio(ratio(medians[0], *t))),
        );
        section.rows.push(row);
    }
    section.ratios = vec![("memory_per_instance_vs_wasmtime", max_of(vs[0].clone()))];
    section.ratios_closest = vec![("memory_per_instance_vs_wasmtime", max_of(vs[1].clone()))];
    section
}

/// Runs `<this program> --memory-probe <who> <module> <count>` and parses its answer.
fn probe_child(who: &str, module: &str, count: usize) -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let out = std::process::Command::new(exe)
        .args(["--memory-probe", who, module, &count.to_string()])
        .output()
        .map_err(|e| format!("cannot run the memory probe: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "memory probe failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    stdout
        .trim()
        .parse()
        .map_err(|e| format!("memory probe printed `{}`: {e}", stdout.trim()))
}

/// The child side of [`memory`]: in this fresh process, load `module` in runtime `who` (`ours`
/// or a Wasmtime engine name), instantiate it once in a throw-away store (one-time costs such as
/// lazily built memory images are not per instance), then measure the RSS growth of `count`
/// instances alive in one store. Returns bytes per instance.
pub fn memory_probe(who: &str, module: &WasmModule, count: usize) -> Result<f64, String> {
    let per_instance = |before: u64, after: u64| (after as f64 - before as f64) / count as f64;
    if who == "ours" {
        let m = aot_runtime::Module::from_embedded(module.aot).map_err(err_str)?;
        aot_runtime::Instance::new(&mut aot_runtime::Store::new(()), &m, &[]).map_err(err_str)?;
        let mut store = aot_runtime::Store::new(());
        let before = rss_bytes()?;
        for _ in 0..count {
            aot_runtime::Instance::new(&mut store, &m, &[]).map_err(err_str)?;
        }
        return Ok(per_instance(before, rss_bytes()?));
    }
    let engine = wt::engines()?
        .into_iter()
        .find(|e| e.name == who)
        .ok_or_else(|| format!("unknown runtime `{who}`"))?
        .engine;
    let cwasm = engine.precompile_module(module.wasm).map_err(err_str)?;
    let m = wt::deserialize(&engine, &cwasm)?;
    wasmtime::Instance::new(&mut wasmtime::Store::new(&engine, ()), &m, &[]).map_err(err_str)?;
    let mut store = wasmtime::Store::new(&engine, ());
    let before = rss_bytes()?;
    for _ in 0..count {
        wasmtime::Instance::new(&mut store, &m, &[]).map_err(err_str)?;
    }
    Ok(per_instance(before, rss_bytes()?))
}
