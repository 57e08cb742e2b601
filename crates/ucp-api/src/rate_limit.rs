//! Request budgets. One misbehaving client (a dispatch integration in a retry loop, a leaked
//! token) must not take the service from the crews: past its budget it gets 429 with
//! `Retry-After`, and everyone else is served as before.
//!
//! - A signed-in caller's budget is keyed by the issuer that vouched for them and their `sub`,
//!   not the address (many users share one NHS network address) and not the `sub` alone (two
//!   issuers may give the same `sub` to different people).
//! - Requests that do not sign in (no token, a forged or expired one) spend the budget of
//!   their client address: without it anyone could write unlimited refusals into a named
//!   person's access log. Past it they are answered 429 without a handler being reached (their
//!   access-log entries are then folded into one per window and person, see
//!   `ucp_app::audit::refusals`). A valid token from the same address is never held back by
//!   it: an NHS site's users share one address.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Above this many remembered keys, those whose budget is full again are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// A budget of `per_minute` requests a minute per key, refilled steadily, with up to a
/// minute's worth at once (a burst after a quiet spell is normal). `None` turns it off.
struct Budget<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    fn per_minute(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    fn spend(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The budget of signed-in callers, per issuer and subject (`UCP_RATE_LIMIT`).
pub struct SubjectRateLimit {
    budget: Budget<(String, String)>,
}

impl std::fmt::Debug for SubjectRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRateLimit")
            .field("enabled", &self.budget.limiter.is_some())
            .finish()
    }
}

impl SubjectRateLimit {
    /// `0` turns the limit off.
    #[must_use]
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            budget: Budget::per_minute(per_minute),
        }
    }

    /// Spends one request of the budget of `subject` as vouched for by `issuer`.
    ///
    /// # Errors
    /// How long until the next request would be allowed, when the budget is spent.
    pub fn check(&self, issuer: &str, subject: &str) -> Result<(), Duration> {
        self.budget.spend(&(issuer.to_owned(), subject.to_owned()))
    }
}

/// The budget of requests that do not sign in, per client address
/// (`UCP_RATE_LIMIT_ANONYMOUS`).
pub struct AnonymousRateLimit {
    budget: Budget<IpAddr>,
}

impl std::fmt::Debug for AnonymousRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnonymousRateLimit")
            .field("enabled", &self.budget.limiter.is_some())
            .finish()
    }
}

impl AnonymousRateLimit {
    /// `0` turns the limit off.
    #[must_use]
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            budget: Budget::per_minute(per_minute),
        }
    }

    /// Spends one request of the address's budget for requests without a valid sign-in.
    ///
    /// # Errors
    /// How long until the next such request would be allowed, when the budget is spent.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.budget.spend(&address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_past_its_budget_waits_and_others_do_not() {
        let limit = SubjectRateLimit::per_minute(3);
        for _ in 0..3 {
            assert_eq!(limit.check("cis2", "a"), Ok(()));
        }
        let wait = limit.check("cis2", "a").err().unwrap_or_default();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "one request in 20 s refills: {wait:?}"
        );
        assert_eq!(
            limit.check("cis2", "b"),
            Ok(()),
            "another subject has its own budget"
        );
        assert_eq!(
            limit.check("nhs-login", "a"),
            Ok(()),
            "the same sub from another issuer is another person, with a budget of their own"
        );
    }

    #[test]
    fn zero_turns_it_off() {
        let limit = SubjectRateLimit::per_minute(0);
        assert!((0..10_000).all(|_| limit.check("i", "a").is_ok()));
        let anonymous = AnonymousRateLimit::per_minute(0);
        let here = IpAddr::from([127, 0, 0, 1]);
        assert!((0..10_000).all(|_| anonymous.check(here).is_ok()));
    }

    #[test]
    fn an_address_past_its_anonymous_budget_waits_and_others_do_not() {
        let limit = AnonymousRateLimit::per_minute(2);
        let here = IpAddr::from([10, 0, 0, 1]);
        assert!(limit.check(here).is_ok() && limit.check(here).is_ok());
        assert!(limit.check(here).is_err());
        assert!(limit.check(IpAddr::from([10, 0, 0, 2])).is_ok());
    }
}
