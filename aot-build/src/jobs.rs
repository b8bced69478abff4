//! Parallel compilation of one module's functions: a work queue shared by the calling thread and
//! helper threads, and the policy that decides how many helpers may run.
//!
//! # Work queue
//!
//! The functions are numbered in function order. Every thread (the calling one and each helper)
//! takes the next number from an atomic counter, compiles that function with its own
//! translator, compiler and validator allocations, and stores the result in the function's
//! slot. Every function is compiled independently of the others, so the output does not depend
//! on the number of threads nor on which thread compiled what. After a failure, functions with
//! a larger number are no longer compiled, and the error returned is the one of the first
//! failing function in function order, whatever the thread count.
//!
//! # How many threads
//!
//! - A build script runs as one of Cargo's jobs and holds one implicit token of Cargo's
//!   jobserver (passed in `CARGO_MAKEFLAGS`): the calling thread works with that one. Between two
//!   functions it asks the jobserver for another token without blocking ([`try_acquire`]) while
//!   work remains and fewer than [`max_threads`] threads are compiling; with a token it starts a
//!   helper that keeps it until the queue is empty. It never waits for a token, so a build with
//!   `-j1` or a busy build simply compiles on the calling thread, and the build script never
//!   runs more threads than Cargo granted it.
//! - Without a jobserver (not under Cargo, for example the `aot` CLI or tests), or when its
//!   tokens cannot be taken without blocking, the module gets [`max_threads`] threads, at most
//!   Cargo's `NUM_JOBS` when set, all started at once.
//! - Modules with less than [`PARALLEL_THRESHOLD`] bytes of function bodies compile on the
//!   calling thread only: threads would cost more than they save.
//! - `Config`'s test-only `threads` field forces a thread count (the jobserver is then not
//!   used), and [`compile_bytes_with`] lets tests choose the workers and see what they did.
//!
//! [`try_acquire`]: jobserver::Client::try_acquire

use crate::{Config, Error};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::ScopedJoinHandle;

/// Below this many bytes of function bodies, compiling on the calling thread is cheaper than
/// starting helpers.
pub(crate) const PARALLEL_THRESHOLD: usize = 64 * 1024;

/// The most threads compiling one module's functions: the machine's parallelism, at most 16.
pub(crate) fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16)
}

/// How the functions of one module are spread over threads.
#[derive(Debug)]
pub(crate) enum Plan<'a> {
    /// Exactly this many threads (the calling one included), started at once.
    Threads(usize),
    /// The calling thread, plus one helper per token taken from `client` without blocking; at
    /// most `max` threads in all.
    Jobserver {
        client: &'a jobserver::Client,
        max: usize,
    },
}

/// Decides how to compile a module with `total` bytes of function bodies (see the module docs).
pub(crate) fn plan(config: &Config, total: usize) -> Plan<'_> {
    if let Some(hook) = &config.jobs_hook {
        return match &hook.workers {
            Workers::Threads(n) => Plan::Threads(*n),
            Workers::Jobserver { client, max } => {
                let client = match client {
                    Some(client) => supports_try_acquire(client).then_some(client),
                    None => environment_jobserver(),
                };
                tokens_or_threads(client, *max)
            }
        };
    }
    match config.threads {
        Some(n) => Plan::Threads(n),
        None if total < PARALLEL_THRESHOLD => Plan::Threads(1),
        None => tokens_or_threads(environment_jobserver(), max_threads()),
    }
}

/// With a usable jobserver, tokens from it; else `max` threads, at most Cargo's `NUM_JOBS`.
fn tokens_or_threads(client: Option<&jobserver::Client>, max: usize) -> Plan<'_> {
    match client {
        Some(client) => Plan::Jobserver { client, max },
        None => {
            let jobs = std::env::var("NUM_JOBS")
                .ok()
                .and_then(|j| j.parse().ok())
                .unwrap_or(max);
            Plan::Threads(max.min(jobs))
        }
    }
}

/// The jobserver of this process's environment (Cargo's, in a build script), connected once per
/// process; `None` when there is none or its tokens cannot be taken without blocking.
fn environment_jobserver() -> Option<&'static jobserver::Client> {
    static CLIENT: OnceLock<Option<jobserver::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| connect_from_env().filter(supports_try_acquire))
        .as_ref()
}

/// Connects to the jobserver named in this process's environment (`CARGO_MAKEFLAGS`, `MAKEFLAGS`
/// or `MFLAGS`), if any. Called once per process, by [`environment_jobserver`].
#[allow(
    unsafe_code,
    reason = "the only unsafe call of aot-build: connecting to Cargo's jobserver"
)]
fn connect_from_env() -> Option<jobserver::Client> {
    // SAFETY: `from_env_ext` is unsafe because it reads (and duplicates or reopens) the file
    // descriptors named in the environment, which must be the jobserver's and stay open while it
    // runs. They are: Cargo (or make) created them for this process, which inherited them, and
    // nothing else in this process closes or reuses them; `check_pipe` refuses descriptors that
    // are not pipes (as when make runs a recipe without `+` and the numbers were reused for
    // other files). This runs once per process, the client being cached in a `OnceLock` by
    // `environment_jobserver`.
    let from_env = unsafe { jobserver::Client::from_env_ext(true) };
    from_env.client.ok()
}

/// Whether tokens can be taken from `client` without blocking (jobserver 0.1 cannot on every
/// platform, nor with every kind of jobserver). Asks for one token and gives it back at once.
fn supports_try_acquire(client: &jobserver::Client) -> bool {
    // A token obtained here is released when dropped, at the end of the statement.
    client.try_acquire().is_ok()
}

/// Compiles `items` on the threads `plan` allows: `work` compiles item `i` with the state of the
/// thread running it (made by `new_state`, one per thread). Returns the results in item order,
/// or the error of the first failing item, and what the threads did.
pub(crate) fn run<T, S, R>(
    plan: &Plan<'_>,
    items: Vec<T>,
    new_state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, T) -> Result<R, Error> + Sync,
) -> (Result<Vec<R>, Error>, ParallelStats)
where
    T: Send,
    R: Send,
{
    let queue = Queue {
        results: std::iter::repeat_with(|| Mutex::new(None))
            .take(items.len())
            .collect(),
        items: items.into_iter().map(|t| Mutex::new(Some(t))).collect(),
        next: AtomicUsize::new(0),
        first_failure: AtomicUsize::new(usize::MAX),
        active: AtomicUsize::new(0),
        max_active: AtomicUsize::new(0),
        helpers: AtomicUsize::new(0),
    };
    let mut stats = ParallelStats {
        jobserver: matches!(plan, Plan::Jobserver { .. }),
        ..ParallelStats::default()
    };
    std::thread::scope(|scope| {
        let mut handles: Vec<ScopedJoinHandle<'_, ()>> = Vec::new();
        let mut spawn = |token: Option<jobserver::Acquired>| {
            queue.helpers.fetch_add(1, Relaxed);
            let (queue, new_state, work) = (&queue, &new_state, &work);
            let spawned = std::thread::Builder::new()
                .name("aot-build-compile".into())
                .spawn_scoped(scope, move || {
                    queue.drain(&mut new_state(), work);
                    // The queue is empty: give the token back before the thread ends.
                    drop(token);
                    queue.helpers.fetch_sub(1, Relaxed);
                });
            match spawned {
                Ok(handle) => {
                    handles.push(handle);
                    stats.helpers += 1;
                }
                // No thread (resource limits): the token, if any, was dropped with the closure,
                // and the calling thread does the work.
                Err(_) => {
                    queue.helpers.fetch_sub(1, Relaxed);
                }
            }
        };
        let mut state = new_state();
        match *plan {
            Plan::Threads(n) => {
                for _ in 1..n.min(queue.items.len()) {
                    spawn(None);
                }
                queue.drain(&mut state, &work);
            }
            Plan::Jobserver { client, max } => {
                let mut ask = true;
                loop {
                    if ask && 1 + queue.helpers.load(Relaxed) < max && queue.work_for_two() {
                        match client.try_acquire() {
                            Ok(Some(token)) => spawn(Some(token)),
                            Ok(None) => {}
                            // The jobserver broke: carry on with the threads we have.
                            Err(_) => ask = false,
                        }
                    }
                    if !queue.step(&mut state, &work) {
                        break;
                    }
                }
            }
        }
        for handle in handles {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
    stats.max_concurrent = queue.max_active.into_inner();
    let mut results = Vec::with_capacity(queue.results.len());
    for slot in queue.results {
        let result = slot
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .expect("every item before the first failure is done");
        match result {
            Ok(r) => results.push(r),
            Err(e) => return (Err(e), stats),
        }
    }
    (Ok(results), stats)
}

/// The items, their results and the counters shared by the threads of [`run`].
struct Queue<T, R> {
    /// Each item, taken by the thread that compiles it.
    items: Vec<Mutex<Option<T>>>,
    /// Each item's result, in item order.
    results: Vec<Mutex<Option<Result<R, Error>>>>,
    /// The next item to take.
    next: AtomicUsize,
    /// The smallest failed item (`usize::MAX`: none): larger ones are no longer compiled.
    first_failure: AtomicUsize,
    /// Threads compiling an item right now, and the most seen at once.
    active: AtomicUsize,
    max_active: AtomicUsize,
    /// Helper threads started and not finished.
    helpers: AtomicUsize,
}

impl<T, R> Queue<T, R> {
    /// Whether at least two items remain: one for the calling thread, one for a new helper.
    fn work_for_two(&self) -> bool {
        let end = self.items.len().min(self.first_failure.load(Relaxed));
        end.saturating_sub(self.next.load(Relaxed)) >= 2
    }

    /// Takes and does the next item; `false` when none is left.
    fn step<S>(&self, state: &mut S, work: &impl Fn(&mut S, usize, T) -> Result<R, Error>) -> bool {
        let i = self.next.fetch_add(1, Relaxed);
        // Items after a failure are not needed: the first failure in item order is reported,
        // and every item before `first_failure` is taken (the counter only grows) and done.
        if i >= self.items.len() || i > self.first_failure.load(Relaxed) {
            return false;
        }
        let item = self.items[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("each item is taken once");
        let active = self.active.fetch_add(1, Relaxed) + 1;
        self.max_active.fetch_max(active, Relaxed);
        let result = work(state, i, item);
        self.active.fetch_sub(1, Relaxed);
        if result.is_err() {
            self.first_failure.fetch_min(i, Relaxed);
        }
        *self.results[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(result);
        true
    }

    /// Does items until none is left.
    fn drain<S>(&self, state: &mut S, work: &impl Fn(&mut S, usize, T) -> Result<R, Error>) {
        while self.step(state, work) {}
    }
}

/// Who compiles the functions, for [`compile_bytes_with`] (tests; not part of the API).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum Workers {
    /// Exactly this many threads, the calling one included, whatever the module's size; no
    /// jobserver.
    Threads(usize),
    /// The calling thread plus one helper per token taken from `client` without blocking (`None`:
    /// the jobserver of the environment, as in a build script), at most `max` threads in all.
    /// Without a usable jobserver: `max` threads, at most `NUM_JOBS`.
    Jobserver {
        /// The jobserver; `None`: this process's environment's.
        client: Option<jobserver::Client>,
        /// The most threads at once.
        max: usize,
    },
}

/// What the threads did, over all the modules of a [`compile_bytes_with`] (tests; not part of the
/// API).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParallelStats {
    /// Whether tokens were taken from a jobserver (else a fixed number of threads was used).
    pub jobserver: bool,
    /// Helper threads started.
    pub helpers: usize,
    /// The most threads compiling a function at the same time.
    pub max_concurrent: usize,
}

/// The test hook carried by [`Config`]: the workers to use and what they did.
#[derive(Debug)]
pub(crate) struct Hook {
    workers: Workers,
    stats: Mutex<ParallelStats>,
}

/// Adds what the threads compiling one module did to the hook's statistics, if any.
pub(crate) fn record(config: &Config, stats: ParallelStats) {
    if let Some(hook) = &config.jobs_hook {
        let mut total = hook.stats.lock().unwrap_or_else(PoisonError::into_inner);
        total.jobserver |= stats.jobserver;
        total.helpers += stats.helpers;
        total.max_concurrent = total.max_concurrent.max(stats.max_concurrent);
    }
}

/// [`Config::compile_bytes`] with every module's functions compiled by `workers`, whatever the
/// module's size, and what the threads did (tests; not part of the API).
///
/// # Errors
/// As [`Config::compile_bytes`].
#[doc(hidden)]
pub fn compile_bytes_with(
    config: &Config,
    wasm_or_wat: &[u8],
    workers: Workers,
) -> Result<(Vec<u8>, ParallelStats), Error> {
    let hook = Arc::new(Hook {
        workers,
        stats: Mutex::new(ParallelStats::default()),
    });
    let mut config = config.clone();
    config.jobs_hook = Some(Arc::clone(&hook));
    let artifact = config.compile_bytes(wasm_or_wat)?;
    let stats = *hook.stats.lock().unwrap_or_else(PoisonError::into_inner);
    Ok((artifact, stats))
}
