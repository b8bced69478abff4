//! The clocks a WASI guest reads: [`HostWallClock`] (time since the Unix epoch, may jump) and
//! [`HostMonotonicClock`] (nanoseconds that never go backwards), with the host's clocks as
//! defaults ([`SystemWallClock`], [`SystemMonotonicClock`]).
//!
//! Both are traits so an embedder can replace them, for example with fixed values for
//! deterministic tests. Sleeping (`poll_oneoff` in preview 1) always waits in real time: a
//! replaced clock changes what the guest reads, not how long the host sleeps.

use std::time::{Duration, Instant, SystemTime};

/// A wall clock: the time since the Unix epoch (1970-01-01T00:00:00Z). It may jump (the host's
/// time can be set), so it is for telling the time, not measuring durations.
pub trait HostWallClock: Send + Sync {
    /// The clock's resolution.
    fn resolution(&self) -> Duration;
    /// The time since the Unix epoch.
    fn now(&self) -> Duration;
}

/// A monotonic clock: nanoseconds since an arbitrary start, never decreasing.
pub trait HostMonotonicClock: Send + Sync {
    /// The clock's resolution in nanoseconds.
    fn resolution(&self) -> u64;
    /// Nanoseconds since the clock's (arbitrary) start.
    fn now(&self) -> u64;
}

/// The host's real-time clock (`SystemTime`). Its resolution is reported as 1 ns, which is what
/// Linux reports for `CLOCK_REALTIME` with high-resolution timers.
#[derive(Copy, Clone, Debug, Default)]
pub struct SystemWallClock;

impl HostWallClock for SystemWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        // A host clock set before 1970 reads as the epoch itself.
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// The host's monotonic clock (`Instant`), counting from the moment this value was created.
/// Its resolution is reported as 1 ns (Linux `CLOCK_MONOTONIC` with high-resolution timers).
#[derive(Copy, Clone, Debug)]
pub struct SystemMonotonicClock {
    start: Instant,
}

impl SystemMonotonicClock {
    /// A clock reading 0 now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for SystemMonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HostMonotonicClock for SystemMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        // 2^64 ns is 584 years: saturating is only theoretical.
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A point in wall-clock time as WASI 0.2 spells it (`wasi:clocks/wall-clock.datetime`): whole
/// seconds since the Unix epoch plus nanoseconds (always below 1e9). File timestamps use it too.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct Datetime {
    /// Seconds since the Unix epoch.
    pub(crate) seconds: u64,
    /// Nanoseconds within the second (`< 1_000_000_000`).
    pub(crate) nanoseconds: u32,
}

impl Datetime {
    /// The datetime `d` after the epoch.
    pub(crate) fn from_duration(d: Duration) -> Self {
        Self {
            seconds: d.as_secs(),
            nanoseconds: d.subsec_nanos(),
        }
    }

    /// The time since the epoch.
    pub(crate) fn to_duration(self) -> Duration {
        Duration::new(self.seconds, self.nanoseconds)
    }

    /// Nanoseconds since the epoch (preview 1 `timestamp`), or `None` past the year 2554.
    pub(crate) fn to_nanos(self) -> Option<u64> {
        self.seconds
            .checked_mul(1_000_000_000)?
            .checked_add(u64::from(self.nanoseconds))
    }

    /// The datetime `nanos` nanoseconds after the epoch.
    pub(crate) fn from_nanos(nanos: u64) -> Self {
        Self::from_duration(Duration::from_nanos(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clocks() {
        let wall = SystemWallClock;
        // 2020-01-01T00:00:00Z.
        assert!(wall.now() > Duration::from_secs(1_577_836_800));
        assert_eq!(wall.resolution(), Duration::from_nanos(1));
        let mono = SystemMonotonicClock::new();
        let a = mono.now();
        std::thread::sleep(Duration::from_millis(2));
        let b = mono.now();
        assert!(b >= a + 2_000_000, "{a} {b}");
        assert_eq!(mono.resolution(), 1);
    }

    #[test]
    fn datetime_conversions() {
        let d = Datetime::from_nanos(1_500_000_000_123);
        assert_eq!(
            d,
            Datetime {
                seconds: 1500,
                nanoseconds: 123
            }
        );
        assert_eq!(d.to_nanos(), Some(1_500_000_000_123));
        assert_eq!(d.to_duration(), Duration::new(1500, 123));
        let far = Datetime {
            seconds: u64::MAX / 1_000_000_000 + 1,
            nanoseconds: 0,
        };
        assert_eq!(far.to_nanos(), None);
        assert_eq!(Datetime::from_duration(Duration::ZERO), Datetime::default());
    }
}
