//! Measurement primitives: timing one action, running several subjects interleaved (A, B, C, A,
//! B, C, ... with the starting subject rotating every round), and summarizing samples by their
//! median and quartiles. No timing is ever asserted.

use std::time::Instant;

/// Nanoseconds spent in `f`, and its result.
pub fn time<R>(f: impl FnOnce() -> R) -> (f64, R) {
    let start = Instant::now();
    let result = f();
    let ns = start.elapsed().as_nanos() as f64;
    (ns, std::hint::black_box(result))
}

/// Median and quartiles of a set of samples.
#[derive(Copy, Clone, Debug)]
pub struct Summary {
    /// The median.
    pub median: f64,
    /// The first quartile.
    pub p25: f64,
    /// The third quartile.
    pub p75: f64,
    /// How many samples.
    pub samples: usize,
}

impl Summary {
    /// Summarizes `samples` (at least one).
    pub fn of(mut samples: Vec<f64>) -> Summary {
        assert!(!samples.is_empty(), "a summary needs samples");
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (samples.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            samples[lo] + (samples[hi] - samples[lo]) * (pos - lo as f64)
        };
        Summary {
            median: at(0.5),
            p25: at(0.25),
            p75: at(0.75),
            samples: samples.len(),
        }
    }

    /// The same summary with every value divided by `by` (for example per call of a batch).
    pub fn scaled(self, by: f64) -> Summary {
        Summary {
            median: self.median / by,
            p25: self.p25 / by,
            p75: self.p75 / by,
            samples: self.samples,
        }
    }

    /// The interquartile range relative to the median: how noisy the samples were.
    pub fn spread(&self) -> f64 {
        (self.p75 - self.p25) / self.median
    }
}

/// One thing being measured: each call takes one sample (nanoseconds) or fails.
pub type Sampler<'a> = Box<dyn FnMut() -> Result<f64, String> + 'a>;

/// Takes `warmup` discarded samples and then `rounds` samples of each sampler, interleaved; a
/// sampler that fails is not called again and its outcome is its first error.
pub fn interleave(
    rounds: usize,
    warmup: usize,
    mut samplers: Vec<Sampler<'_>>,
) -> Vec<Result<Summary, String>> {
    let count = samplers.len();
    let mut samples: Vec<Result<Vec<f64>, String>> =
        (0..count).map(|_| Ok(Vec::with_capacity(rounds))).collect();
    for round in 0..warmup + rounds {
        for i in 0..count {
            let which = (round + i) % count;
            if let Ok(list) = &mut samples[which] {
                match samplers[which]() {
                    Ok(ns) if round >= warmup => list.push(ns),
                    Ok(_) => {}
                    Err(e) => samples[which] = Err(e),
                }
            }
        }
    }
    samples.into_iter().map(|s| s.map(Summary::of)).collect()
}

/// The geometric mean of positive values.
pub fn geomean(values: &[f64]) -> f64 {
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

/// The resident set size of this process, in bytes (Linux, `/proc/self/status`).
pub fn rss_bytes() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .ok_or_else(|| "no VmRSS line in /proc/self/status".to_string())
}
