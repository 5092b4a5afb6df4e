//! Where the time comes from: the [`Clock`] trait, the system clock for the service and a
//! settable clock for tests. Nothing else in intake reads the wall clock (`clippy.toml` bans
//! `Utc::now` and `SystemTime::now` everywhere but [`SystemClock::now`]).

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// The current time, for stamping decisions, outbox rows and retries. Shared between the
/// sends in flight, hence `Send + Sync`.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place intake reads the wall clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise (tests: decisions, retry times and
/// rendered dates do not depend on when the test runs).
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }

    /// Sets the time shown.
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// Moves the time shown forward by `by` (backward when negative).
    pub fn advance(&self, by: Duration) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap();
        let c = FixedClock::new(t);
        assert_eq!(c.now(), t);
        assert_eq!(c.now(), t);
        c.advance(Duration::seconds(90));
        assert_eq!(c.now(), t + Duration::seconds(90));
        c.set(t);
        assert_eq!(c.now(), t);
    }

    #[test]
    fn the_system_clock_moves() {
        let c = SystemClock;
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
    }
}
