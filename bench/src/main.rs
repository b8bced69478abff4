//! The side-by-side benchmark of issue 5: aot-runtime against Wasmtime 48 (its default
//! configuration and the one closest to ours) and native code, in one process, every measurement
//! interleaved (A, B, C, A, B, C, ...), reported as medians and ratios (ours / theirs, so below 1
//! is better for us).
//!
//! ```text
//! cargo run --release -- [--quick] [--out results.json] [--only exec,calls,...]
//! ```
//!
//! It prints one table per measurement and writes `results.json` (next to Cargo.toml unless
//! `--out` says otherwise); `report.py` turns that file into the results section of README.md.
//! Nothing here asserts a timing: a wrong result or a failure is reported, never a slow one.

mod bench;
mod component;
mod modules;
mod stats;
mod wt;

use bench::{Ctx, Params, Section};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Instant;

/// Every section, in the order they run.
const SECTIONS: &[&str] = &[
    "binary_size",
    "artifact_size",
    "compile",
    "load",
    "instantiate",
    "calls",
    "component_call",
    "memory_per_instance",
    "exec",
];

/// The ratio keys results.json always has (null when not measured).
const RATIO_KEYS: &[&str] = &[
    "exec_geomean_vs_wasmtime",
    "exec_worst_vs_wasmtime",
    "load_vs_wasmtime",
    "instantiate_vs_wasmtime",
    "instantiate_funcs_vs_wasmtime",
    "call_vs_wasmtime",
    "component_call_vs_wasmtime",
    "binary_size_vs_wasmtime",
    "compile_vs_wasmtime",
];

struct Args {
    quick: bool,
    dump: Option<PathBuf>,
    out: PathBuf,
    only: Option<Vec<String>>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        dump: None,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results.json"),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--dump" => args.dump = Some(it.next().ok_or("--dump needs a directory")?.into()),
            "--out" => args.out = it.next().ok_or("--out needs a path")?.into(),
            "--only" => {
                let list: Vec<String> = it
                    .next()
                    .ok_or("--only needs a comma-separated list of sections")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = list.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!(
                        "unknown section `{bad}`: sections are {}",
                        SECTIONS.join(", ")
                    ));
                }
                args.only = Some(list);
            }
            "-h" | "--help" => {
                println!(
                    "usage: aot-bench [--quick] [--out results.json] [--only {}] [--dump DIR]\n\
                     --dump DIR writes every artifact (ours .aot, Wasmtime .cwasm) to DIR and exits",
                    SECTIONS.join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--memory-probe") {
        // The child process of the memory measurement (see `bench::memory`).
        match memory_probe(&argv[2..]) {
            Ok(bytes) => println!("{bytes}"),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// `--memory-probe <runtime> <module> <count>`: bytes per instance, measured in this process.
fn memory_probe(args: &[String]) -> Result<f64, String> {
    let [who, module, count] = args else {
        return Err("usage: --memory-probe <runtime> <module> <count>".into());
    };
    let count: usize = count
        .parse()
        .map_err(|e| format!("bad count `{count}`: {e}"))?;
    let modules = modules::instantiation();
    let module = modules
        .iter()
        .find(|m| m.name == module)
        .ok_or_else(|| format!("unknown module `{module}`"))?;
    bench::memory_probe(who, module, count)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let started = Instant::now();
    let params = if args.quick {
        Params::quick()
    } else {
        Params::full()
    };
    let wanted = |s: &str| args.only.as_ref().is_none_or(|o| o.iter().any(|x| x == s));

    let kernels = modules::kernels();
    let calls = modules::calls();
    let instantiation = modules::instantiation();
    let component = modules::component();
    let mut all: Vec<&modules::WasmModule> = kernels.iter().map(|k| &k.module).collect();
    all.push(&calls);
    all.extend(instantiation.iter());
    // `funcs_10k` is only timed by `instantiate`: Wasmtime precompiles it (and `--dump` writes
    // it) with the others, but the load and artifact size sections keep their modules.
    let funcs = modules::funcs_10k();
    let mut precompiled = all.clone();
    precompiled.push(&funcs);

    let meta = meta(args.quick);
    println!(
        "aot-runtime vs Wasmtime 48 vs native ({} mode) on {}, load average {}",
        if args.quick { "quick" } else { "full" },
        meta["cpu"].as_str().unwrap_or("?"),
        meta["load_average_at_start"].as_str().unwrap_or("?"),
    );
    println!("ratios are ours / theirs: below 1.00x is better for us\n");
    let setup = Instant::now();
    let cx = Ctx::new(wt::engines()?, &precompiled)?;
    println!(
        "(Wasmtime precompiled {} modules for 2 configurations in {})\n",
        precompiled.len(),
        bench::fmt_ns(setup.elapsed().as_nanos() as f64)
    );

    if let Some(dir) = &args.dump {
        return dump(&cx, &precompiled, dir);
    }

    let mut sections = Vec::new();
    for &name in SECTIONS {
        if !wanted(name) {
            continue;
        }
        let section = match name {
            "binary_size" => bench::binary_size(
                &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("binary_size.json"),
            ),
            "artifact_size" => bench::sizes(&cx, &all),
            "compile" => bench::compile(&params, &cx, &kernels),
            "load" => bench::load(&params, &cx, &all),
            "instantiate" => bench::instantiate(&params, &cx, &instantiation, &funcs),
            "calls" => bench::calls(&params, &cx, &calls),
            "component_call" => component::component_call(&params, &cx, &component),
            "memory_per_instance" => bench::memory(&params, &cx, &instantiation),
            "exec" => bench::exec(&params, &cx, &kernels),
            _ => unreachable!("SECTIONS lists every section"),
        };
        print_section(&section);
        sections.push(section);
    }

    let results = results_json(meta, &sections, started.elapsed().as_secs_f64());
    println!("ratios (ours / wasmtime default):");
    if let Some(Value::Object(ratios)) = results.get("ratios") {
        for (k, v) in ratios {
            println!(
                "  {k:32} {}",
                v.as_f64().map_or("null".into(), |r| format!("{r:.3}"))
            );
        }
    }
    let problems = results["problems"].as_array().map_or(0, Vec::len);
    if problems > 0 {
        println!("\n{problems} problem(s):");
        for p in results["problems"].as_array().into_iter().flatten() {
            println!("  {}", p.as_str().unwrap_or_default());
        }
    }
    let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, text + "\n")
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!(
        "\nwrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `--dump DIR`: every artifact as a file, for disassembly (`objdump -d`).
fn dump(cx: &Ctx, modules: &[&modules::WasmModule], dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for m in modules {
        let mut files = vec![(format!("{}.aot", m.name), m.aot.bytes())];
        for (i, e) in cx.engines.iter().enumerate() {
            files.push((format!("{}.{}.cwasm", m.name, e.name), cx.cwasm(m.name, i)));
        }
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::write(&path, bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    println!(
        "wrote {} modules' artifacts to {}",
        modules.len(),
        dir.display()
    );
    Ok(())
}

/// Prints a section as an aligned table.
fn print_section(section: &Section) {
    println!("## {}", section.title);
    let columns = section.header.len();
    let mut widths: Vec<usize> = section.header.iter().map(|h| h.chars().count()).collect();
    for row in &section.rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths.get(i).copied().unwrap_or(0);
            if i == 0 {
                out.push_str(&format!("{cell:<pad$}"));
            } else {
                out.push_str(&format!("  {cell:>pad$}"));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&section.header);
    for row in &section.rows {
        line(row);
    }
    for p in &section.problems {
        println!("PROBLEM: {p}");
    }
    println!();
}

/// Machine and run description.
fn meta(quick: bool) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({
        "mode": if quick { "quick" } else { "full" },
        "cpu": cpu,
        "threads": threads,
        "load_average_at_start": load,
        "arch": std::env::consts::ARCH,
        "wasmtime": "48",
        "native_compiler": "system C compiler through the cc crate, -O2 -fno-math-errno",
        "wasm_compiler": "clang-16 -O2 (kernels/build.sh)",
        "unit": "nanoseconds (times), bytes (sizes and memory)",
        "ratios": "ours / theirs: below 1 is better for us",
        "wasmtime_configs": {
            "wasmtime": "Config::new() (defaults: host CPU features, copy-on-write memory images, parallel compilation)",
            "wasmtime_closest": "no epoch interruption, no fuel, signals-based traps, default guard pages, cranelift_opt_level(Speed), CPU baseline x86-64-v2 like ours",
        },
        "notes": {
            "component_call_vs_wasmtime": "worst of echo-string, echo-records and sum-records (64-byte string, 16 records)",
            "binary_size_vs_wasmtime": "from binary_size.json, written by binsize/measure.sh (run by run.sh in full mode)",
        },
    })
}

/// results.json: meta, the two ratio objects, every section, problems.
fn results_json(mut meta: Value, sections: &[Section], seconds: f64) -> Value {
    meta["duration_seconds"] = json!(seconds);
    let mut ratios: Map<String, Value> = RATIO_KEYS
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect();
    let mut closest: Map<String, Value> = ratios.clone();
    let mut root = Map::new();
    let mut problems = Vec::new();
    for s in sections {
        for (k, v) in &s.ratios {
            ratios.insert(k.to_string(), json!(v));
        }
        for (k, v) in &s.ratios_closest {
            closest.insert(k.to_string(), json!(v));
        }
        root.insert(s.key.to_string(), s.json.clone());
        problems.extend(s.problems.iter().cloned());
    }
    let mut out = Map::new();
    out.insert("meta".into(), meta);
    out.insert("ratios".into(), Value::Object(ratios));
    out.insert("ratios_closest".into(), Value::Object(closest));
    out.extend(root);
    out.entry("binary_size").or_insert(Value::Null);
    out.entry("component_call").or_insert(Value::Null);
    out.insert("problems".into(), json!(problems));
    Value::Object(out)
}
