//! The per-caller limit on credential requests: each runner key, and each
//! OIDC token subject, gets a budget per minute (GCRA, from `governor`), so
//! a leaked key or a runaway pipeline cannot turn the broker into an STS
//! hammer. The limit is per replica: N replicas allow up to N times it
//! (sharing it through the store would cost a write on every vend).
//!
//! A refusal is logged once per caller per minute, with the count of the
//! ones not logged since: a runaway pipeline must not flood the logs it is
//! looked for in.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Callers are forgotten once idle; this many tracked callers triggers the
/// sweep.
const SWEEP_ABOVE: usize = 10_000;

/// How often a caller's refusals are logged at most.
const LOG_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    /// Per refused caller: when a refusal was last logged, and how many
    /// were not logged since.
    logged: Mutex<HashMap<String, (Instant, u64)>>,
}

/// A request over its caller's budget.
#[derive(Debug)]
pub struct Refused {
    /// Seconds until the caller may ask again (at least one).
    pub wait: u64,
    /// `Some(n)` when this refusal is to be logged, `n` being the refusals
    /// of this caller not logged since the last one that was.
    pub log: Option<u64>,
}

impl RateLimit {
    /// `per_minute` requests a minute per caller, all of which may come at
    /// once; zero turns the limit off.
    pub fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            logged: Mutex::default(),
        }
    }

    /// Takes one request from `caller`'s budget, or says how long to wait
    /// for the next and whether to log this refusal.
    pub fn check(&self, caller: &str) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > SWEEP_ABOVE {
            limiter.retain_recent();
        }
        let Err(not_until) = limiter.check_key(&caller.to_string()) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(self.clock.now());
        let wait = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        Err(Refused {
            wait,
            log: self.log_refusal(caller),
        })
    }

    fn log_refusal(&self, caller: &str) -> Option<u64> {
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if logged.len() > SWEEP_ABOVE {
            logged.retain(|_, (at, _)| now.duration_since(*at) < LOG_EVERY);
        }
        match logged.get_mut(caller) {
            Some((at, unlogged)) if now.duration_since(*at) < LOG_EVERY => {
                *unlogged += 1;
                None
            }
            Some((at, unlogged)) => {
                let since = *unlogged;
                (*at, *unlogged) = (now, 0);
                Some(since)
            }
            None => {
                logged.insert(caller.to_string(), (now, 0));
                Some(0)
            }
        }
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
        let refused = limit.check("key:a").unwrap_err();
        assert!((1..=30).contains(&refused.wait), "{refused:?}");
        assert_eq!(refused.log, Some(0), "the first refusal is logged");
        let again = limit.check("key:a").unwrap_err();
        assert_eq!(again.log, None, "not the next within the minute");
        assert!(
            limit.check("key:b").is_ok(),
            "another caller is not held up"
        );
        let off = RateLimit::per_minute(0);
        assert!((0..1000).all(|_| off.check("key:a").is_ok()));
    }
}
