//! `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` for WASI 0.2, over the context's
//! clocks ([`HostMonotonicClock`](crate::wasi::HostMonotonicClock),
//! [`HostWallClock`](crate::wasi::HostWallClock)), and [`Datetime`], the WIT `datetime` record
//! (shared with `wasi:filesystem`, whose timestamps use it).
//!
//! `subscribe-instant` and `subscribe-duration` make [`Pollable::Deadline`]s on the monotonic
//! clock; `poll` sleeps in real time until they are due (see `streams.rs`).

use super::streams::{Pollable, define_io_resource};
use crate::component::{ComponentType, Lift, Linker, Lower};
use crate::error::Result;
use crate::wasi::{WasiView, clocks};

/// `wasi:clocks/wall-clock.datetime`: seconds since the Unix epoch and nanoseconds (< 1e9).
#[derive(ComponentType, Lift, Lower, Copy, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub(crate) struct Datetime {
    /// Whole seconds since the epoch.
    pub(crate) seconds: u64,
    /// Nanoseconds within the second.
    pub(crate) nanoseconds: u32,
}

impl From<clocks::Datetime> for Datetime {
    fn from(d: clocks::Datetime) -> Self {
        Self {
            seconds: d.seconds,
            nanoseconds: d.nanoseconds,
        }
    }
}

impl From<Datetime> for clocks::Datetime {
    fn from(d: Datetime) -> Self {
        Self {
            seconds: d.seconds,
            nanoseconds: d.nanoseconds,
        }
    }
}

/// Defines `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` at 0.2.6.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<()> {
    let mut mono = linker.instance("wasi:clocks/monotonic-clock@0.2.6")?;
    define_io_resource(&mut mono, "pollable")?;
    mono.func_wrap("now", |mut store, (): ()| {
        Ok((store.data_mut().ctx().monotonic_clock.now(),))
    })?;
    mono.func_wrap("resolution", |mut store, (): ()| {
        Ok((store.data_mut().ctx().monotonic_clock.resolution(),))
    })?;
    mono.func_wrap("subscribe-instant", |mut store, (when,): (u64,)| {
        Ok((store
            .data_mut()
            .ctx()
            .table
            .push(Pollable::Deadline(when))?,))
    })?;
    mono.func_wrap("subscribe-duration", |mut store, (duration,): (u64,)| {
        let ctx = store.data_mut().ctx();
        let when = ctx.monotonic_clock.now().saturating_add(duration);
        Ok((ctx.table.push(Pollable::Deadline(when))?,))
    })?;

    let mut wall = linker.instance("wasi:clocks/wall-clock@0.2.6")?;
    wall.func_wrap("now", |mut store, (): ()| {
        let now = store.data_mut().ctx().wall_clock.now();
        Ok((Datetime::from(clocks::Datetime::from_duration(now)),))
    })?;
    wall.func_wrap("resolution", |mut store, (): ()| {
        let res = store.data_mut().ctx().wall_clock.resolution();
        Ok((Datetime::from(clocks::Datetime::from_duration(res)),))
    })
}
