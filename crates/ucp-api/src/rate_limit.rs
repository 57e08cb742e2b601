//! A request budget per token subject. One misbehaving client (a dispatch integration in a
//! retry loop, a leaked token) must not take the service from the crews: past its budget it
//! gets 429 with `Retry-After`, and everyone else is served as before. Keyed by the token's
//! `sub`, not the address: many users share one NHS network address.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Above this many remembered subjects, those whose budget is full again are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// The budget: `per_minute` requests a minute, refilled steadily, with up to a minute's worth
/// at once (a burst after a quiet spell is normal). `None` turns it off.
pub struct SubjectRateLimit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for SubjectRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRateLimit")
            .field("enabled", &self.limiter.is_some())
            .finish()
    }
}

impl SubjectRateLimit {
    /// `0` turns the limit off.
    #[must_use]
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// Spends one request of the subject's budget.
    ///
    /// # Errors
    /// How long until the next request would be allowed, when the budget is spent.
    pub fn check(&self, subject: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&subject.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_past_its_budget_waits_and_others_do_not() {
        let limit = SubjectRateLimit::per_minute(3);
        for _ in 0..3 {
            assert_eq!(limit.check("a"), Ok(()));
        }
        let wait = limit.check("a").err().unwrap_or_default();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "one request in 20 s refills: {wait:?}"
        );
        assert_eq!(
            limit.check("b"),
            Ok(()),
            "another subject has its own budget"
        );
    }

    #[test]
    fn zero_turns_it_off() {
        let limit = SubjectRateLimit::per_minute(0);
        assert!((0..10_000).all(|_| limit.check("a").is_ok()));
    }
}
