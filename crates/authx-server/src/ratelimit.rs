//! Login rate limits per client address and per username (governor's
//! GCRA, keyed), each set by flag and relaxable (0 = unlimited) for load
//! tests that log in many times from one address.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Clone)]
pub(crate) struct LoginLimiter {
    per_ip: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    per_user: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").finish_non_exhaustive()
    }
}

fn limiter(per_minute: u32) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
    NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

impl LoginLimiter {
    pub(crate) fn new(per_ip: u32, per_user: u32) -> Self {
        Self {
            per_ip: limiter(per_ip),
            per_user: limiter(per_user),
        }
    }

    /// `Err(wait)` when either limit is exhausted.
    pub(crate) fn check(&self, ip: &str, username: &str) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        for (limiter, key) in [(&self.per_ip, ip), (&self.per_user, username)] {
            if let Some(l) = limiter
                && let Err(not_until) = l.check_key(&key.to_owned())
            {
                return Err(not_until.wait_time_from(now));
            }
        }
        Ok(())
    }

    /// Drops idle keys so memory stays bounded.
    pub(crate) fn housekeeping(&self) {
        for l in [&self.per_ip, &self.per_user].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}
