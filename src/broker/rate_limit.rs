//! The per-caller limit on credential requests: each runner key, and each
//! OIDC token subject, gets a budget per minute (GCRA, from `governor`), so
//! a leaked key or a runaway pipeline cannot turn the broker into an STS
//! hammer. The limit is per replica: N replicas allow up to N times it.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Callers are forgotten once idle; this many tracked callers triggers the
/// sweep.
const SWEEP_ABOVE: usize = 10_000;

pub struct RateLimit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl RateLimit {
    /// `per_minute` requests a minute per caller, all of which may come at
    /// once; zero turns the limit off.
    pub fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from `caller`'s budget, or says how many seconds
    /// to wait (at least one) for the next.
    pub fn check(&self, caller: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > SWEEP_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&caller.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
            .map(|_| ())
            .map_err(|secs| secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caller_has_its_own_budget_and_zero_means_no_limit() {
        let limit = RateLimit::per_minute(2);
        assert!(limit.check("key:a").is_ok());
        assert!(limit.check("key:a").is_ok());
        let wait = limit.check("key:a").unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(
            limit.check("key:b").is_ok(),
            "another caller is not held up"
        );
        let off = RateLimit::per_minute(0);
        assert!((0..1000).all(|_| off.check("key:a").is_ok()));
    }
}
