//! The component call benchmark (issue 5): host-to-guest calls of a component's exports through
//! typed functions, passing and returning a string and a list of records
//! (`wat/component.wat`), in our runtime and both Wasmtime configurations, interleaved.
//!
//! Each call lowers its arguments into guest memory (through the guest's `cabi_realloc`), runs
//! the core function, lifts the results back into Rust values and runs `post-return`. Every
//! result is checked against the input before any timing, and the last call of every sample is
//! checked again.

use crate::bench::{Ctx, Params, Section, fmt_ns, fmt_ratio};
use crate::modules::WasmComponent;
use crate::stats::{Sampler, Summary, interleave};
use serde_json::{Map, Value, json};
use std::hint::black_box;
use std::time::Instant;

/// The 64-byte string argument (UTF-8, two characters outside ASCII).
const STRING: &str = "a component call, héllo wörld: 0123456789 abcdefghijklmnopqrst";

/// How many records the list arguments hold.
const RECORDS: usize = 16;

/// Calls per timed sample.
const CALLS_PER_SAMPLE: u32 = 200;

/// Our Rust counterpart of `record point { x: f64, y: f64, label: string }`.
mod ours {
    use aot_runtime::component::{ComponentType, Lift, Lower};

    /// `point`, for aot-runtime.
    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
    #[component(record)]
    pub struct Point {
        pub x: f64,
        pub y: f64,
        pub label: String,
    }
}

/// Wasmtime's counterpart of the same record.
mod wt {
    use wasmtime::component::{ComponentType, Lift, Lower};

    /// `point`, for Wasmtime.
    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
    #[component(record)]
    pub struct Point {
        pub x: f64,
        pub y: f64,
        pub label: String,
    }
}

/// The measured functions.
#[derive(Copy, Clone)]
enum Call {
    /// `echo-string(s)`, `s` of 64 bytes.
    EchoString,
    /// `echo-records(l)`, 16 records.
    EchoRecords,
    /// `sum-records(l)`, 16 records.
    SumRecords,
}

impl Call {
    const ALL: [Call; 3] = [Call::EchoString, Call::EchoRecords, Call::SumRecords];

    /// The export's name, also the key in results.json.
    fn name(self) -> &'static str {
        match self {
            Call::EchoString => "echo-string",
            Call::EchoRecords => "echo-records",
            Call::SumRecords => "sum-records",
        }
    }
}

/// The arguments, and what every runtime must answer.
struct Inputs {
    /// `(x, y, label)` of each record.
    points: Vec<(f64, f64, String)>,
    /// The same records for our runtime.
    ours: Vec<ours::Point>,
    /// The same records for Wasmtime.
    wt: Vec<wt::Point>,
    /// The sum `sum-records` computes: x + y + label length, over the records.
    sum: f64,
}

impl Inputs {
    fn new() -> Inputs {
        let points: Vec<(f64, f64, String)> = (0..RECORDS)
            .map(|i| {
                let i = i as f64;
                (i * 1.5 + 0.25, -i / 4.0, format!("point-{i:02}"))
            })
            .collect();
        // The guest adds in the same order: ((x + y) + len) into the running sum.
        let sum = points
            .iter()
            .fold(0.0, |acc, (x, y, l)| acc + ((x + y) + l.len() as f64));
        let ours = points
            .iter()
            .map(|(x, y, label)| ours::Point {
                x: *x,
                y: *y,
                label: label.clone(),
            })
            .collect();
        let wt = points
            .iter()
            .map(|(x, y, label)| wt::Point {
                x: *x,
                y: *y,
                label: label.clone(),
            })
            .collect();
        Inputs {
            points,
            ours,
            wt,
            sum,
        }
    }

    /// Checks an `echo-records` result, given as `(x, y, label)` triples.
    fn check_points<'a>(
        &self,
        got: impl ExactSizeIterator<Item = (f64, f64, &'a str)>,
    ) -> Result<(), String> {
        if got.len() != self.points.len() {
            return Err(format!(
                "echo-records returned {} records, not {}",
                got.len(),
                self.points.len()
            ));
        }
        for (i, ((x, y, label), want)) in got.zip(&self.points).enumerate() {
            if x.to_bits() != want.0.to_bits() || y.to_bits() != want.1.to_bits() || label != want.2
            {
                return Err(format!(
                    "echo-records: record {i} came back as ({x}, {y}, {label:?}), not {want:?}"
                ));
            }
        }
        Ok(())
    }

    fn check_string(&self, got: &str) -> Result<(), String> {
        if got == STRING {
            Ok(())
        } else {
            Err(format!("echo-string returned {got:?}, not {STRING:?}"))
        }
    }

    fn check_sum(&self, got: f64) -> Result<(), String> {
        if got.to_bits() == self.sum.to_bits() {
            Ok(())
        } else {
            Err(format!("sum-records returned {got}, not {}", self.sum))
        }
    }
}

/// The same code for both runtimes, whose typed functions have the same shape but different
/// types: the struct holding one instance and its three typed functions, and its methods.
macro_rules! subject {
    ($name:ident, $store:ty, $typed:ident, $point:ty, $field:ident, $error:ty) => {
        /// One instance of the component, with its typed functions.
        struct $name<'a> {
            /// Who this is, in messages.
            who: &'static str,
            inputs: &'a Inputs,
            store: $store,
            echo_string: $typed<(&'static str,), (String,)>,
            echo_records: $typed<(&'a [$point],), (Vec<$point>,)>,
            sum_records: $typed<(&'a [$point],), (f64,)>,
        }

        impl<'a> $name<'a> {
            /// One call of `what`, its result checked.
            fn call_checked(&mut self, what: Call) -> Result<(), String> {
                let who = self.who;
                let e = |e: $error| format!("{who}: {}: {e}", what.name());
                let inputs: &'a Inputs = self.inputs;
                let points = inputs.$field.as_slice();
                match what {
                    Call::EchoString => {
                        let (s,) = self
                            .echo_string
                            .call(&mut self.store, (STRING,))
                            .map_err(e)?;
                        inputs.check_string(&s)
                    }
                    Call::EchoRecords => {
                        let (l,) = self
                            .echo_records
                            .call(&mut self.store, (points,))
                            .map_err(e)?;
                        inputs.check_points(l.iter().map(|p| (p.x, p.y, p.label.as_str())))
                    }
                    Call::SumRecords => {
                        let (sum,) = self
                            .sum_records
                            .call(&mut self.store, (points,))
                            .map_err(e)?;
                        inputs.check_sum(sum)
                    }
                }
            }

            /// Nanoseconds for `batch` calls of `what`: `batch - 1` calls whose results are only
            /// dropped, then one whose result is checked once the clock is read.
            fn sample(&mut self, what: Call, batch: u32) -> Result<f64, String> {
                let who = self.who;
                let e = |e: $error| format!("{who}: {}: {e}", what.name());
                let inputs: &'a Inputs = self.inputs;
                let points = inputs.$field.as_slice();
                let start = Instant::now();
                for _ in 1..batch {
                    match what {
                        Call::EchoString => {
                            let r = self.echo_string.call(&mut self.store, (black_box(STRING),));
                            black_box(r.map_err(e)?);
                        }
                        Call::EchoRecords => {
                            let r = self
                                .echo_records
                                .call(&mut self.store, (black_box(points),));
                            black_box(r.map_err(e)?);
                        }
                        Call::SumRecords => {
                            let r = self.sum_records.call(&mut self.store, (black_box(points),));
                            black_box(r.map_err(e)?);
                        }
                    }
                }
                let last = match what {
                    Call::EchoString => self
                        .echo_string
                        .call(&mut self.store, (STRING,))
                        .map(|(s,)| LastResult::String(s)),
                    Call::EchoRecords => self
                        .echo_records
                        .call(&mut self.store, (points,))
                        .map(|(l,)| LastResult::Points(l)),
                    Call::SumRecords => self
                        .sum_records
                        .call(&mut self.store, (points,))
                        .map(|(sum,)| LastResult::Sum(sum)),
                };
                let ns = start.elapsed().as_nanos() as f64;
                match last.map_err(e)? {
                    LastResult::String(s) => inputs.check_string(&s)?,
                    LastResult::Points(l) => {
                        inputs.check_points(l.iter().map(|p| (p.x, p.y, p.label.as_str())))?
                    }
                    LastResult::Sum(sum) => inputs.check_sum(sum)?,
                }
                Ok(ns)
            }
        }
    };
}

/// The result of the last call of a sample, checked after the clock is read.
enum LastResult<P> {
    String(String),
    Points(Vec<P>),
    Sum(f64),
}

use aot_runtime::component::TypedFunc as OursTypedFunc;
use wasmtime::component::TypedFunc as WtTypedFunc;

subject!(
    Ours,
    aot_runtime::Store<()>,
    OursTypedFunc,
    ours::Point,
    ours,
    aot_runtime::Error
);
subject!(
    Theirs,
    wasmtime::Store<()>,
    WtTypedFunc,
    wt::Point,
    wt,
    wasmtime::Error
);

impl<'a> Ours<'a> {
    fn new(c: &WasmComponent, inputs: &'a Inputs) -> Result<Ours<'a>, String> {
        use aot_runtime::component::{Component, Linker};
        let e = |e: aot_runtime::Error| format!("ours: {e}");
        let component = Component::from_embedded(c.aot).map_err(e)?;
        let mut store = aot_runtime::Store::new(());
        let instance = Linker::<()>::new()
            .instantiate(&mut store, &component)
            .map_err(e)?;
        Ok(Ours {
            who: "ours",
            inputs,
            echo_string: instance
                .get_typed_func(&mut store, "echo-string")
                .map_err(e)?,
            echo_records: instance
                .get_typed_func(&mut store, "echo-records")
                .map_err(e)?,
            sum_records: instance
                .get_typed_func(&mut store, "sum-records")
                .map_err(e)?,
            store,
        })
    }
}

impl<'a> Theirs<'a> {
    fn new(
        who: &'static str,
        component: &wasmtime::component::Component,
        inputs: &'a Inputs,
    ) -> Result<Theirs<'a>, String> {
        let e = |e: wasmtime::Error| format!("{who}: {e}");
        let engine = component.engine();
        let mut store = wasmtime::Store::new(engine, ());
        let instance = wasmtime::component::Linker::<()>::new(engine)
            .instantiate(&mut store, component)
            .map_err(e)?;
        Ok(Theirs {
            who,
            inputs,
            echo_string: instance
                .get_typed_func(&mut store, "echo-string")
                .map_err(e)?,
            echo_records: instance
                .get_typed_func(&mut store, "echo-records")
                .map_err(e)?,
            sum_records: instance
                .get_typed_func(&mut store, "sum-records")
                .map_err(e)?,
            store,
        })
    }
}

/// The component call section: one table row per function, the worst ratio as
/// `component_call_vs_wasmtime`.
pub fn component_call(p: &Params, cx: &Ctx, c: &WasmComponent) -> Section {
    let mut section = Section {
        title: "Component call: 64-byte string, list of 16 records (median per call)",
        key: "component_call",
        header: [
            "function",
            "ours",
            "wasmtime",
            "wt closest",
            "ours/wt",
            "ours/wt closest",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        json: Value::Object(Map::new()),
        ratios: Vec::new(),
        ratios_closest: Vec::new(),
        problems: Vec::new(),
    };
    if let Err(e) = measure(p, cx, c, &mut section) {
        section.problems.push(format!("component_call: {e}"));
        section
            .rows
            .push(vec!["component_call".into(), format!("FAILED: {e}")]);
        section.ratios = vec![("component_call_vs_wasmtime", None)];
        section.ratios_closest = vec![("component_call_vs_wasmtime", None)];
    }
    section
}

fn measure(p: &Params, cx: &Ctx, c: &WasmComponent, section: &mut Section) -> Result<(), String> {
    if STRING.len() != 64 {
        return Err(format!(
            "the string argument has {} bytes, not 64",
            STRING.len()
        ));
    }
    // Short samples (well under a millisecond even for Wasmtime's `echo-records`), many of them:
    // on a loaded machine a sample lasting a few milliseconds is preempted more often than not,
    // and the median then includes a whole time slice (with 2 000-call samples, a stable +2 µs
    // per call on whichever runtime the scheduler hit).
    let batch = CALLS_PER_SAMPLE;
    let rounds = p.call_rounds * 5;
    let inputs = Inputs::new();
    let mut ours = Ours::new(c, &inputs)?;
    let mut theirs = Vec::new();
    for e in &cx.engines {
        let component = wasmtime::component::Component::new(&e.engine, c.wat)
            .map_err(|err| format!("{}: cannot compile {}: {err}", e.name, c.name))?;
        theirs.push(Theirs::new(e.name, &component, &inputs)?);
    }
    // A benchmark of a broken call is worthless: every function must answer right first.
    for what in Call::ALL {
        ours.call_checked(what)?;
        for t in &mut theirs {
            t.call_checked(what)?;
        }
    }

    let subjects: Vec<&str> = std::iter::once("ours")
        .chain(cx.engines.iter().map(|e| e.name))
        .collect();
    let mut worst = [Some(0.0f64), Some(0.0f64)];
    let mut entries = Map::new();
    for what in Call::ALL {
        let mut samplers: Vec<Sampler<'_>> = vec![Box::new(|| ours.sample(what, batch))];
        for t in &mut theirs {
            samplers.push(Box::new(move || t.sample(what, batch)));
        }
        let outcomes = interleave(rounds, 1, samplers);
        let mut entry = Map::new();
        let mut medians = Vec::new();
        for (name, outcome) in subjects.iter().zip(&outcomes) {
            match outcome {
                Ok(s) => {
                    let s = s.scaled(f64::from(batch));
                    entry.insert(name.to_string(), summary_json(&s));
                    medians.push(Some(s.median));
                }
                Err(e) => {
                    section
                        .problems
                        .push(format!("component_call: {}: {name}: {e}", what.name()));
                    entry.insert(name.to_string(), Value::Null);
                    medians.push(None);
                }
            }
        }
        let ratios: Vec<Option<f64>> = medians[1..].iter().map(|t| ratio(medians[0], *t)).collect();
        entry.insert("ours_vs_wasmtime".into(), json!(ratios[0]));
        entry.insert("ours_vs_wasmtime_closest".into(), json!(ratios[1]));
        entries.insert(what.name().to_string(), Value::Object(entry));
        for (w, r) in worst.iter_mut().zip(&ratios) {
            *w = w.zip(*r).map(|(a, b)| a.max(b));
        }
        let cell = |m: &Option<f64>| m.map_or_else(|| "FAILED".to_string(), fmt_ns);
        let mut row = vec![what.name().to_string()];
        row.extend(medians.iter().map(cell));
        row.extend(ratios.iter().map(|r| fmt_ratio(*r)));
        section.rows.push(row);
    }
    section.rows.push(vec![
        "worst".into(),
        String::new(),
        String::new(),
        String::new(),
        fmt_ratio(worst[0]),
        fmt_ratio(worst[1]),
    ]);
    entries.insert(
        "arguments".into(),
        json!({ "string_bytes": STRING.len(), "records": RECORDS, "calls_per_sample": batch }),
    );
    section.json = Value::Object(entries);
    section.ratios = vec![("component_call_vs_wasmtime", worst[0])];
    section.ratios_closest = vec![("component_call_vs_wasmtime", worst[1])];
    Ok(())
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
