//! Resource limits and interruption: the store's [`ResourceLimiter`] (with the ready-made
//! [`StoreLimits`]), fuel ([`Store::set_fuel`], [`Store::get_fuel`]) and epochs
//! ([`Store::set_epoch_deadline`], [`EpochHandle`]).
//!
//! **Limiter.** [`Store::limiter`] installs a closure that lends a [`ResourceLimiter`] out of the
//! store's data. It is asked before every memory or table growth (from Wasm or from the host),
//! for the initial size of every memory and table an instantiation or the host creates, and for
//! how many instances, memories and tables the store may hold. Without a limiter nothing is
//! limited beyond the runtime's own bounds (4 GiB memories, `10_000_000`-element tables).
//!
//! **Fuel.** Code compiled with `aot_build::Config::consume_fuel(true)` (recorded in the
//! artifact) counts one unit of fuel per Wasm operator (`nop`, `drop`, `block`, `loop`, `else`,
//! `end`, `return` and `unreachable` are free), Wasmtime's scheme: `VMStoreContext::fuel_consumed`
//! holds minus the fuel left; the code keeps it in a register, adds each basic block's operator
//! count at the block's end, writes it back around calls, and checks it at function entry and
//! at every loop header. Once it is no longer negative the code traps with
//! [`Trap::OutOfFuel`] (there is no refuelling callback). Checks happen only at those points, so
//! a function may run one straight-line stretch past the end of its fuel. Fuel saturates at
//! [`MAX_FUEL`] (`i64::MAX`). **A store starts with no fuel**, like in Wasmtime: fuel-metered
//! code traps at once until [`Store::set_fuel`] is called. Code compiled without fuel consumes
//! none.
//!
//! **Epochs.** Code compiled with `aot_build::Config::epoch_interruption(true)` compares, at
//! function entry and at every loop header, the epoch counter with the store's deadline and
//! traps with [`Trap::Interrupt`] once the counter reaches it. The counter is **one
//! process-wide `AtomicU64`** (this runtime has no `Engine`): every store's `VMStoreContext`
//! points at it, [`EpochHandle::increment`] advances it from any thread, and
//! [`Store::set_epoch_deadline`] sets a deadline relative to its current value. Incrementing it
//! therefore brings every store of the process one tick closer to its deadline, as incrementing
//! a Wasmtime `Engine`'s epoch does for every store of that engine. **A store's deadline starts
//! at 0** (as in Wasmtime): epoch-checking code traps at once until a deadline is set.
//!
//! [`Trap::OutOfFuel`]: crate::Trap::OutOfFuel
//! [`Trap::Interrupt`]: crate::Trap::Interrupt

use crate::artifact::format::{WASM_PAGE_SIZE, WASM32_MAX_PAGES};
use crate::artifact::header::FLAG_CONSUME_FUEL;
use crate::error::{Error, Result};
use crate::memory::MemoryData;
use crate::module::Module;
use crate::prelude::*;
use crate::store::{Store, StoreContextMut, StoreInner, StoreOpaque};
use crate::table::{MAX_TABLE_ELEMENTS, TableData};
use core::any::Any;
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// The most fuel a store holds: [`Store::set_fuel`] saturates at `i64::MAX` (the counter compiled
/// code updates is an `i64`), about 290 years of execution at 10^9 operators per second.
pub const MAX_FUEL: u64 = i64::MAX as u64;

/// Default of [`ResourceLimiter::instances`] and of [`StoreLimitsBuilder::instances`].
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// Default of [`ResourceLimiter::tables`] and of [`StoreLimitsBuilder::tables`].
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// Default of [`ResourceLimiter::memories`] and of [`StoreLimitsBuilder::memories`].
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// A policy deciding how far the memories and tables of a store may grow and how many of them
/// (and of instances) it may hold; installed with [`Store::limiter`].
///
/// A growth the limiter refuses (`Ok(false)`) fails: `memory.grow`/`table.grow` return -1,
/// [`crate::Memory::grow`]/[`crate::Table::grow`] return an error, and an instantiation whose
/// memory or table minimum is refused fails. An `Err` instead becomes the error of the whole
/// operation: for a growth from Wasm, the Wasm call fails with it (as a trap would).
pub trait ResourceLimiter {
    /// A memory wants to grow from `current` to `desired` bytes (`current` is 0 when the memory
    /// is being created); `maximum` is the memory's declared maximum in bytes, if any. Called
    /// before the runtime checks the maximum itself.
    ///
    /// # Errors
    /// An error to report instead of failing the growth.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A memory growth the limiter allowed failed anyway (past the memory's maximum, or out of
    /// address space). The default ignores it, so the growth fails normally.
    ///
    /// # Errors
    /// An error to report instead of failing the growth.
    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table wants to grow from `current` to `desired` elements (`current` is 0 when the
    /// table is being created); `maximum` is its declared maximum, if any.
    ///
    /// # Errors
    /// An error to report instead of failing the growth.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A table growth the limiter allowed failed anyway. The default ignores it.
    ///
    /// # Errors
    /// An error to report instead of failing the growth.
    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// How many core instances the store may hold (each core instance of a component counts).
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// How many tables the store may hold (defined by instances or created by the host).
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// How many linear memories the store may hold (defined by instances or created by the
    /// host).
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// The usual [`ResourceLimiter`]: fixed bounds on each memory's size, each table's length and
/// the number of instances, memories and tables. Built with [`StoreLimitsBuilder`].
///
/// ```
/// use aot_runtime::{Store, StoreLimits, StoreLimitsBuilder};
///
/// struct Host {
///     limits: StoreLimits,
/// }
/// let mut store = Store::new(Host {
///     limits: StoreLimitsBuilder::new().memory_size(1 << 20).instances(4).build(),
/// });
/// store.limiter(|host| &mut host.limits);
/// ```
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.memory_size.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing trap when growing memory to {desired} bytes"
            )));
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error)
        } else {
            Ok(())
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.table_elements.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing trap when growing table to {desired} elements"
            )));
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error)
        } else {
            Ok(())
        }
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Builds a [`StoreLimits`]; every bound not set is unlimited (sizes) or 10 000 (counts).
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No limits beyond the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest size in bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The largest number of elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// How many core instances the store may hold.
    pub fn instances(mut self, instances: usize) -> Self {
        self.0.instances = instances;
        self
    }

    /// How many tables the store may hold.
    pub fn tables(mut self, tables: usize) -> Self {
        self.0.tables = tables;
        self
    }

    /// How many linear memories the store may hold.
    pub fn memories(mut self, memories: usize) -> Self {
        self.0.memories = memories;
        self
    }

    /// Whether a growth beyond a limit (or one that fails for another reason) traps instead of
    /// returning -1 to the Wasm code (or an error to the host). Default: `false`.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// The closure [`Store::limiter`] installs, for a store of data type `T`.
type LimiterFn<T> = Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync>;

/// The limiter and fuel state of a store that compiled code does not read.
#[derive(Default)]
pub(crate) struct LimitsState {
    /// A `LimiterFn<T>` for the store's `T`, taken out while it is lent.
    limiter: Option<Box<dyn Any + Send + Sync>>,
    /// Whether `set_fuel` was called.
    fuel_set: bool,
    /// How many instances `fuel_code` accounts for (instances are never removed).
    fuel_scanned: Cell<usize>,
    /// Whether one of those instances runs fuel-metered code.
    fuel_code: Cell<bool>,
}

impl<T: 'static> StoreInner<T> {
    /// Runs `f` with the type-erased store and its resource limiter, if it has one.
    pub(crate) fn with_limiter<R>(
        &mut self,
        f: impl FnOnce(&mut StoreOpaque, Option<&mut dyn ResourceLimiter>) -> R,
    ) -> R {
        let Some(mut boxed) = self.opaque.limits.limiter.take() else {
            return f(&mut self.opaque, None);
        };
        let run = catch_unwind(AssertUnwindSafe(|| {
            let make = boxed
                .downcast_mut::<LimiterFn<T>>()
                .expect("the limiter closure is of the store's data type");
            f(&mut self.opaque, Some(make(&mut self.data)))
        }));
        // Put the limiter back even if `f` panicked: a caught panic must not lift the limits.
        self.opaque.limits.limiter = Some(boxed);
        run.unwrap_or_else(|payload| resume_unwind(payload))
    }
}

/// Bytes of `pages` Wasm pages, saturating.
fn page_bytes(pages: u64) -> usize {
    usize::try_from(pages.saturating_mul(WASM_PAGE_SIZE)).unwrap_or(usize::MAX)
}

/// A count as `usize`, saturating.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Asks the limiter whether a new memory of `min` pages (maximum `max`) may be created.
fn check_new_memory(limiter: &mut dyn ResourceLimiter, min: u64, max: Option<u64>) -> Result<()> {
    if limiter.memory_growing(0, page_bytes(min), max.map(page_bytes))? {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "memory minimum size of {min} pages exceeds memory limits"
        )))
    }
}

/// Asks the limiter whether a new table of `min` elements (maximum `max`) may be created.
fn check_new_table(limiter: &mut dyn ResourceLimiter, min: u64, max: Option<u64>) -> Result<()> {
    if limiter.table_growing(0, to_usize(min), max.map(to_usize))? {
        Ok(())
    } else {
        Err(Error::msg(format!(
            "table minimum size of {min} elements exceeds table limits"
        )))
    }
}

/// Checks a count against its limit.
fn check_count(have: usize, adding: usize, limit: usize, what: &str) -> Result<()> {
    let total = have.saturating_add(adding);
    if total > limit {
        return Err(Error::msg(format!(
            "resource limit exceeded: {what} count too high at {total}"
        )));
    }
    Ok(())
}

/// Checks, before instantiating `module` in `store`, the store's limits: the number of
/// instances, memories and tables, and the minimum size of each defined memory and table.
pub(crate) fn check_instantiation<T: 'static>(
    store: &mut StoreInner<T>,
    module: &Module,
) -> Result<()> {
    store.with_limiter(|opaque, limiter| {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        let info = module.info();
        let memories = &info.memories[info.num_imported.memories as usize..];
        let tables = &info.tables[info.num_imported.tables as usize..];
        check_count(opaque.instances.len(), 1, limiter.instances(), "instance")?;
        check_count(
            opaque.memories.len(),
            memories.len(),
            limiter.memories(),
            "memory",
        )?;
        check_count(opaque.tables.len(), tables.len(), limiter.tables(), "table")?;
        for ty in memories {
            check_new_memory(limiter, ty.limits.min, ty.limits.max)?;
        }
        for ty in tables {
            check_new_table(limiter, ty.limits.min, ty.limits.max)?;
        }
        Ok(())
    })
}

/// Checks the store's limits before the host creates a memory of type `ty`.
pub(crate) fn check_host_memory<T: 'static>(
    store: &mut StoreInner<T>,
    ty: &crate::artifact::MemoryType,
) -> Result<()> {
    store.with_limiter(|opaque, limiter| {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        check_count(opaque.memories.len(), 1, limiter.memories(), "memory")?;
        check_new_memory(limiter, ty.limits.min, ty.limits.max)
    })
}

/// Checks the store's limits before the host creates a table of type `ty`.
pub(crate) fn check_host_table<T: 'static>(
    store: &mut StoreInner<T>,
    ty: &crate::artifact::TableType,
) -> Result<()> {
    store.with_limiter(|opaque, limiter| {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        check_count(opaque.tables.len(), 1, limiter.tables(), "table")?;
        check_new_table(limiter, ty.limits.min, ty.limits.max)
    })
}

impl MemoryData {
    /// `memory.grow` under the store's limiter: the old size in pages, `None` when the growth
    /// fails, or the limiter's error. Growing by 0 always succeeds, without asking.
    pub(crate) fn grow_limited(
        &mut self,
        delta: u64,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let Some(limiter) = limiter else {
            return Ok(self.grow(delta));
        };
        let old = self.pages();
        if delta == 0 {
            return Ok(Some(old));
        }
        let desired = page_bytes(old.saturating_add(delta));
        let maximum = self.ty.limits.max.map(page_bytes);
        if !limiter.memory_growing(page_bytes(old), desired, maximum)? {
            return Ok(None);
        }
        match self.grow(delta) {
            Some(old) => Ok(Some(old)),
            None => {
                let max = self.ty.limits.max.unwrap_or(WASM32_MAX_PAGES);
                limiter.memory_grow_failed(Error::msg(format!(
                    "cannot grow memory of {old} pages by {delta} pages (maximum {max} pages)"
                )))?;
                Ok(None)
            }
        }
    }
}

impl TableData {
    /// `table.grow` under the store's limiter: the old size, `None` when the growth fails, or
    /// the limiter's error. Growing by 0 always succeeds, without asking.
    pub(crate) fn grow_limited(
        &mut self,
        delta: u64,
        init: usize,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let Some(limiter) = limiter else {
            return Ok(self.grow(delta, init));
        };
        let old = self.elements.len() as u64;
        if delta == 0 {
            return Ok(Some(old));
        }
        let desired = to_usize(old.saturating_add(delta));
        let maximum = self.ty.limits.max.map(to_usize);
        if !limiter.table_growing(to_usize(old), desired, maximum)? {
            return Ok(None);
        }
        match self.grow(delta, init) {
            Some(old) => Ok(Some(old)),
            None => {
                let max = self.ty.limits.max.unwrap_or(MAX_TABLE_ELEMENTS);
                limiter.table_grow_failed(Error::msg(format!(
                    "cannot grow table of {old} elements by {delta} (maximum {max} elements)"
                )))?;
                Ok(None)
            }
        }
    }
}

/// The process-wide epoch counter every store's `VMStoreContext::epoch_ptr` points at.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// The address compiled code receives as `epoch_ptr`.
pub(crate) fn epoch_counter_addr() -> usize {
    &EPOCH as *const AtomicU64 as usize
}

/// A handle to the epoch counter, which another thread uses to interrupt Wasm code compiled with
/// `aot_build::Config::epoch_interruption(true)` (see [`Store::set_epoch_deadline`]).
///
/// The counter is process-wide (see the module docs of `limits`): every handle designates the
/// same one, and incrementing it advances every store of the process towards its deadline.
///
/// ```
/// use aot_runtime::EpochHandle;
///
/// let epoch = EpochHandle::new();
/// let before = epoch.current();
/// std::thread::spawn(move || epoch.increment()).join().unwrap();
/// assert!(EpochHandle::new().current() > before);
/// ```
#[derive(Clone, Debug, Default)]
pub struct EpochHandle {
    _private: (),
}

impl EpochHandle {
    /// A handle to the process-wide epoch counter.
    pub fn new() -> Self {
        Self { _private: () }
    }

    /// Advances the epoch by one tick. Wasm code whose store's deadline this reaches traps with
    /// [`crate::Trap::Interrupt`] at its next function entry or loop header. Lock-free and
    /// async-signal-safe.
    pub fn increment(&self) {
        EPOCH.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub fn current(&self) -> u64 {
        EPOCH.load(Ordering::Relaxed)
    }
}

/// Why fuel cannot be used in a store.
fn fuel_not_enabled() -> Error {
    Error::msg(
        "fuel is not enabled in this store: no module instantiated in it was compiled with \
         `aot_build::Config::consume_fuel(true)`",
    )
}

impl StoreOpaque {
    /// Whether an instance of this store runs fuel-metered code (checks new instances only).
    fn has_fuel_code(&self) -> bool {
        let limits = &self.limits;
        if !limits.fuel_code.get() {
            let new = &self.instances[limits.fuel_scanned.get()..];
            let found = new
                .iter()
                .any(|inst| inst.module.compat_flags() & FLAG_CONSUME_FUEL != 0);
            limits.fuel_code.set(found);
            limits.fuel_scanned.set(self.instances.len());
        }
        limits.fuel_code.get()
    }

    /// The fuel left: what `fuel_consumed` still holds (it may have gone past zero by the
    /// length of a straight-line stretch of code: then none is left).
    fn fuel_left(&self) -> u64 {
        let consumed = self.vm_store.fuel_consumed.get();
        consumed.checked_neg().map_or(0, |left| left.max(0) as u64)
    }

    fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        if !self.instances.is_empty() && !self.has_fuel_code() {
            return Err(fuel_not_enabled());
        }
        let fuel = fuel.min(MAX_FUEL);
        self.vm_store.fuel_consumed.set(-(fuel as i64));
        self.limits.fuel_set = true;
        Ok(())
    }

    fn get_fuel(&self) -> Result<u64> {
        if !self.limits.fuel_set && !self.has_fuel_code() {
            return Err(fuel_not_enabled());
        }
        Ok(self.fuel_left())
    }

    /// The `NewEpoch` builtin: whether the deadline is still ahead of the epoch (it may have
    /// been moved since the code compared them); `false` means interrupt.
    pub(crate) fn epoch_deadline_moved(&self) -> bool {
        EPOCH.load(Ordering::Relaxed) < self.vm_store.epoch_deadline.get()
    }

    fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        let deadline = EPOCH
            .load(Ordering::Relaxed)
            .saturating_add(ticks_beyond_current);
        self.vm_store.epoch_deadline.set(deadline);
    }
}

impl<T: 'static> Store<T> {
    /// Installs the store's resource limiter: `limiter` lends it out of the store's data each
    /// time it is consulted (see [`ResourceLimiter`] and [`StoreLimits`]). It applies to
    /// instances, memories and tables created from now on and to every later growth.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let boxed: LimiterFn<T> = Box::new(limiter);
        self.inner.opaque.limits.limiter = Some(Box::new(boxed));
        self.inner
            .opaque
            .vm_store
            .limiter_hook
            .set(Some(crate::vm::limiter_hook::<T>()));
    }
}

impl<T> Store<T> {
    /// Sets the fuel left for fuel-metered code (compiled with
    /// `aot_build::Config::consume_fuel(true)`). A store starts with none, so such code traps
    /// with [`crate::Trap::OutOfFuel`] until this is called. After an out-of-fuel trap the store
    /// stays usable: set fuel again and call again.
    ///
    /// # Errors
    /// If the store already holds instances and none of them was compiled with fuel metering.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.set_fuel(fuel)
    }

    /// The fuel left (0 after an out-of-fuel trap).
    ///
    /// # Errors
    /// If fuel is not enabled in this store: [`Store::set_fuel`] was never called and no
    /// instance of the store was compiled with fuel metering.
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.get_fuel()
    }

    /// Sets the epoch deadline of code compiled with `aot_build::Config::epoch_interruption`
    /// to `ticks_beyond_current` ticks after the current epoch (see [`EpochHandle`]). Such code
    /// traps with [`crate::Trap::Interrupt`] at its first function entry or loop header once
    /// the epoch reaches the deadline. The deadline starts at 0, so such code traps at once
    /// until this is called; after the trap the store stays usable with a new deadline.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.inner.opaque.set_epoch_deadline(ticks_beyond_current);
    }

    /// A handle to the epoch counter this store's deadline is measured on (the process-wide
    /// one), for another thread to [`EpochHandle::increment`].
    pub fn epoch_handle(&self) -> EpochHandle {
        EpochHandle::new()
    }
}

impl<T> StoreContextMut<'_, T> {
    /// [`Store::set_fuel`], from a borrowed store (for example in a host function).
    ///
    /// # Errors
    /// See [`Store::set_fuel`].
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.0.opaque.set_fuel(fuel)
    }

    /// [`Store::get_fuel`], from a borrowed store.
    ///
    /// # Errors
    /// See [`Store::get_fuel`].
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.opaque.get_fuel()
    }

    /// [`Store::set_epoch_deadline`], from a borrowed store.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.0.opaque.set_epoch_deadline(ticks_beyond_current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuel_saturates_and_never_reads_negative() {
        let mut store = Store::new(());
        store.set_fuel(u64::MAX).unwrap();
        assert_eq!(store.get_fuel().unwrap(), MAX_FUEL);
        let o = &mut store.inner.opaque;
        assert_eq!(o.vm_store.fuel_consumed.get(), -i64::MAX);
        // The code ran past the end of its fuel by 5.
        o.vm_store.fuel_consumed.set(5);
        assert_eq!(store.get_fuel().unwrap(), 0);
        store.set_fuel(7).unwrap();
        assert_eq!(store.get_fuel().unwrap(), 7);
    }

    #[test]
    fn epoch_deadline_is_relative_to_the_current_epoch() {
        let mut store = Store::new(());
        assert!(!store.inner.opaque.epoch_deadline_moved(), "starts at 0");
        store.set_epoch_deadline(1 << 40);
        assert!(store.inner.opaque.epoch_deadline_moved());
        let epoch = store.epoch_handle();
        let now = epoch.current();
        store.set_epoch_deadline(0);
        assert!(store.inner.opaque.vm_store.epoch_deadline.get() >= now);
        assert!(!store.inner.opaque.epoch_deadline_moved());
        assert_eq!(
            store.inner.opaque.vm_store.epoch_ptr.get(),
            epoch_counter_addr()
        );
    }

    #[test]
    fn store_limits_decide_like_wasmtime() {
        let mut l = StoreLimitsBuilder::new()
            .memory_size(100)
            .table_elements(10)
            .build();
        assert!(l.memory_growing(0, 100, None).unwrap());
        assert!(!l.memory_growing(0, 101, None).unwrap());
        assert!(!l.memory_growing(0, 50, Some(40)).unwrap());
        assert!(l.table_growing(5, 10, None).unwrap());
        assert!(!l.table_growing(5, 11, None).unwrap());
        assert!(l.memory_grow_failed(Error::msg("x")).is_ok());
        assert_eq!(l.instances(), DEFAULT_INSTANCE_LIMIT);
        let mut l = StoreLimitsBuilder::new()
            .memory_size(100)
            .trap_on_grow_failure(true)
            .instances(3)
            .memories(4)
            .tables(5)
            .build();
        assert!(l.memory_growing(0, 101, None).is_err());
        assert!(l.memory_grow_failed(Error::msg("x")).is_err());
        assert_eq!((l.instances(), l.memories(), l.tables()), (3, 4, 5));
    }

    #[test]
    fn a_panicking_limiter_stays_installed() {
        struct Panics;
        impl ResourceLimiter for Panics {
            fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
                panic!("limiter bug")
            }
            fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
                Ok(false)
            }
        }
        let mut store = Store::new(Panics);
        store.limiter(|p| p);
        let r = catch_unwind(AssertUnwindSafe(|| {
            store
                .inner
                .with_limiter(|_, l| l.map(|l| l.memory_growing(0, 1, None)))
        }));
        assert!(r.is_err());
        let refused = store
            .inner
            .with_limiter(|_, l| l.map(|l| l.table_growing(0, 1, None).unwrap()));
        assert_eq!(refused, Some(false));
    }
}
