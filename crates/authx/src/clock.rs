//! An injectable clock: production reads the system time, tests move time
//! instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in milliseconds since the Unix epoch.
///
/// ```
/// use authx::clock::{Clock, SystemClock};
/// assert!(SystemClock.now_millis() > 1_700_000_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;

    /// Seconds since the Unix epoch, with millisecond precision.
    fn now_secs_f64(&self) -> f64 {
        self.now_millis() as f64 / 1000.0
    }
}

/// The system clock.
///
/// ```
/// use authx::clock::{Clock, SystemClock};
/// let a = SystemClock.now_millis();
/// assert!(SystemClock.now_millis() >= a);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        // A clock before 1970 is a broken host; clamp rather than panic.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use authx::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::at_secs(1_000);
/// clock.advance(Duration::from_millis(1_500));
/// assert_eq!(clock.now_millis(), 1_001_500);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock fixed at `millis` milliseconds after the epoch.
    ///
    /// ```
    /// # use authx::clock::{Clock, ManualClock};
    /// assert_eq!(ManualClock::at_millis(5).now_millis(), 5);
    /// ```
    #[must_use]
    pub fn at_millis(millis: i64) -> Self {
        Self(Arc::new(AtomicI64::new(millis)))
    }

    /// A clock fixed at `secs` seconds after the epoch.
    ///
    /// ```
    /// # use authx::clock::{Clock, ManualClock};
    /// assert_eq!(ManualClock::at_secs(2).now_millis(), 2_000);
    /// ```
    #[must_use]
    pub fn at_secs(secs: i64) -> Self {
        Self::at_millis(secs.saturating_mul(1000))
    }

    /// A clock fixed at the current system time.
    ///
    /// ```
    /// # use authx::clock::{Clock, ManualClock};
    /// assert!(ManualClock::now().now_millis() > 0);
    /// ```
    #[must_use]
    pub fn now() -> Self {
        Self::at_millis(SystemClock.now_millis())
    }

    /// Moves the clock forward.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use authx::clock::{Clock, ManualClock};
    /// let c = ManualClock::at_secs(0);
    /// c.advance(Duration::from_secs(3));
    /// assert_eq!(c.now_millis(), 3_000);
    /// ```
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `millis` milliseconds after the epoch.
    ///
    /// ```
    /// # use authx::clock::{Clock, ManualClock};
    /// let c = ManualClock::at_secs(0);
    /// c.set_millis(42);
    /// assert_eq!(c.now_millis(), 42);
    /// ```
    pub fn set_millis(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
