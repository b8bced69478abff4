#!/usr/bin/env python3
"""Turns bench/results.json into the results section of bench/README.md.

Usage: python3 report.py [results.json] [README.md]

The section between the `<!-- results:begin -->` and `<!-- results:end -->` markers of the README
is replaced (the markers are added at the end if missing); with `-` as the README path the
section is printed instead. Goals are those of issue 5; a missed goal is shown, never an error.
"""

import json
import sys
from pathlib import Path

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"

# (ratio key, what it compares, goal: ours / wasmtime at most this)
GOALS = [
    ("exec_geomean_vs_wasmtime", "execution, geometric mean over kernels", 1.05),
    ("exec_worst_vs_wasmtime", "execution, worst kernel", 1.15),
    ("load_vs_wasmtime", "load (from_embedded vs deserialize), worst module", 0.5),
    ("instantiate_vs_wasmtime", "instantiation, worst of the four modules (funcs_10k included)", 0.5),
    ("call_vs_wasmtime", "host-to-Wasm call (TypedFunc, empty function)", 1.0),
    ("component_call_vs_wasmtime", "component call (string and records)", 1.0),
    ("binary_size_vs_wasmtime", "stripped compiler-free binary", 0.5),
    ("compile_vs_wasmtime", "build-time compilation, sum over kernels", 1.0),
]

EXTRA = [
    ("instantiate_funcs_vs_wasmtime", "instantiation of funcs_10k alone (10,000-entry funcref table)"),
    ("wasm_to_host_call_vs_wasmtime", "Wasm-to-host call (empty import)"),
    ("artifact_size_vs_wasmtime", "artifact size, code modules"),
    ("memory_per_instance_vs_wasmtime", "memory per instance, worst module"),
    ("exec_geomean_vs_native", "execution vs native, geometric mean"),
]

RUNTIMES = ["ours", "wasmtime", "wasmtime_closest"]


def ratio(r):
    return "n/a" if r is None else f"{r:.2f}x"


def ns(v):
    if v is None:
        return "failed"
    if v < 1e3:
        return f"{v:.1f} ns"
    if v < 1e6:
        return f"{v / 1e3:.2f} µs"
    if v < 1e9:
        return f"{v / 1e6:.2f} ms"
    return f"{v / 1e9:.2f} s"


def size(v):
    if v is None:
        return "failed"
    if abs(v) < 10_000:
        return f"{v:.0f} B"
    if abs(v) < 10_000_000:
        return f"{v / 1024:.1f} KiB"
    return f"{v / 1048576:.1f} MiB"


def median(entry, who):
    value = (entry or {}).get(who)
    return None if value is None else value["median"]


def div(a, b):
    return None if a is None or b in (None, 0) else a / b


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def timing_table(section, fmt=ns, first="module", exclude=("total",)):
    rows = []
    for name, entry in section.items():
        if name in exclude or not isinstance(entry, dict):
            continue
        ours, wt, wtc = (median(entry, r) for r in RUNTIMES)
        rows.append([name, fmt(ours), fmt(wt), fmt(wtc), ratio(div(ours, wt)), ratio(div(ours, wtc))])
    return table([first, "ours", "Wasmtime", "Wasmtime closest", "ours/Wasmtime", "ours/closest"], rows)


def render(results):
    meta = results.get("meta", {})
    ratios = results.get("ratios", {})
    closest = results.get("ratios_closest", {})
    out = [
        f"Measured with `{'run.sh --quick' if meta.get('mode') == 'quick' else 'run.sh'}` "
        f"({meta.get('mode', '?')} mode) on {meta.get('cpu', '?')} ({meta.get('threads', '?')} threads, "
        f"load average {meta.get('load_average_at_start', '?')} at start), "
        f"in {meta.get('duration_seconds', 0):.0f} s. Ratios are ours / theirs (below 1 is better "
        "for us), medians of interleaved samples.",
        "",
        "### Ratios and goals",
        "",
    ]
    rows = []
    for key, what, goal in GOALS:
        r = ratios.get(key)
        met = "not measured" if r is None else ("yes" if r <= goal else "**no**")
        rows.append([f"`{key}`", what, ratio(r), ratio(closest.get(key)), f"≤ {goal:.2f}x", met])
    for key, what in EXTRA:
        if key in ratios:
            rows.append([f"`{key}`", what, ratio(ratios.get(key)), ratio(closest.get(key)), "", ""])
    out += table(["key", "what", "vs Wasmtime", "vs closest config", "goal", "met"], rows)

    exec_ = results.get("exec")
    if exec_:
        out += ["", "### Execution (one `run(n)` call, median)", ""]
        rows = []
        for name, e in exec_.items():
            if e is None:
                rows.append([name, "", "failed", "", "", "", "", "", "", ""])
                continue
            ours, wt, wtc, nat = (median(e, r) for r in RUNTIMES + ["native"])
            rows.append([
                name, e.get("n", ""), ns(ours), ns(wt), ns(wtc), ns(nat),
                ratio(e.get("ours_vs_wasmtime")), ratio(e.get("ours_vs_wasmtime_closest")),
                ratio(e.get("ours_vs_native")), ratio(e.get("wasmtime_vs_native")),
            ])
        out += table(["kernel", "n", "ours", "Wasmtime", "Wasmtime closest", "native", "ours/Wasmtime",
                      "ours/closest", "ours/native", "Wasmtime/native"], rows)

    compile_ = results.get("compile")
    if compile_:
        out += ["", "### Build-time compilation (aot-build vs `Engine::precompile_module`, opt level speed, median)", ""]
        out += timing_table(compile_)
        total = compile_.get("total", {})
        if total:
            t = [total.get(r) for r in RUNTIMES]
            out.append(f"| **total** | {ns(t[0])} | {ns(t[1])} | {ns(t[2])} | "
                       f"{ratio(div(t[0], t[1]))} | {ratio(div(t[0], t[2]))} |")

    for key, title in [
        ("load", "Load: artifact bytes in memory to a ready module (`Module::from_embedded` vs `Module::deserialize`, median)"),
        ("instantiate", "Instantiation: new store + instance (median)"),
    ]:
        if results.get(key):
            out += ["", f"### {title}", ""]
            out += timing_table(results[key])

    calls = results.get("calls")
    if calls:
        out += ["", "### Call overhead (per call, median)", ""]
        out += timing_table(calls, first="call")

    component = results.get("component_call")
    if component:
        args = component.get("arguments", {})
        out += ["", f"### Component call (typed functions, a {args.get('string_bytes', '?')}-byte string "
                f"and a list of {args.get('records', '?')} records, per call, median)", ""]
        out += timing_table(component, first="function", exclude=("arguments",))

    memory = results.get("memory_per_instance")
    if memory:
        out += ["", "### Memory per instance (RSS growth in a fresh process / instances, median)", ""]
        out += timing_table(memory, fmt=size)

    sizes = results.get("artifact_size")
    if sizes:
        out += ["", "### Artifact size (ours `.aot`, Wasmtime `.cwasm`)", ""]
        rows = []
        for name, s in sizes.items():
            rows.append([name, size(s["wasm"]), size(s["ours"]), size(s["wasmtime"]),
                         size(s["wasmtime_closest"]), ratio(div(s["ours"], s["wasmtime"])),
                         ratio(div(s["ours"], s["wasmtime_closest"]))])
        out += table(["module", "wasm", "ours", "Wasmtime", "Wasmtime closest", "ours/Wasmtime",
                      "ours/closest"], rows)

    binary = results.get("binary_size")
    if binary:
        out += ["", f"### Stripped compiler-free release binary (`binsize/measure.sh`, measured {binary.get('measured_at', '?')})", ""]
        out += table(["program", "ours", "Wasmtime runtime-only", "ours/Wasmtime"],
                     [["hello", size(binary.get("ours")), size(binary.get("wasmtime")),
                       ratio(div(binary.get("ours"), binary.get("wasmtime")))]])

    problems = results.get("problems") or []
    out += ["", "### Problems found", ""]
    out += [f"- {p}" for p in problems] if problems else ["None: every kernel returned the native result in every runtime."]
    return "\n".join(out) + "\n"


def main(argv):
    here = Path(__file__).resolve().parent
    results_path = Path(argv[1]) if len(argv) > 1 else here / "results.json"
    readme_path = argv[2] if len(argv) > 2 else str(here / "README.md")
    section = render(json.loads(Path(results_path).read_text()))
    if readme_path == "-":
        sys.stdout.write(section)
        return 0
    readme = Path(readme_path)
    text = readme.read_text() if readme.exists() else ""
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)
    print(f"updated the results section of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
