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
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

/// Above this many remembered keys, those whose budget is full again are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// Forgetting walks every key: at most this often, however many keys there are (a flood of
/// new addresses must not make every request walk the whole map).
const FORGET_EVERY: Duration = Duration::from_secs(10);

/// A budget of `per_minute` requests a minute per key, refilled steadily, with up to a
/// minute's worth at once (a burst after a quiet spell is normal). `None` turns it off.
struct Budget<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    clock: DefaultClock,
    forgot_at: Mutex<Option<Instant>>,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    fn per_minute(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            forgot_at: Mutex::new(None),
        }
    }

    fn spend(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > FORGET_ABOVE {
            let due = self.forgot_at.try_lock().ok().and_then(|mut at| {
                let due = at.is_none_or(|t| t.elapsed() >= FORGET_EVERY);
                if due {
                    *at = Some(Instant::now());
                }
                due.then_some(())
            });
            if due.is_some() {
                limiter.retain_recent();
            }
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

    /// Spends one request of the address's budget for requests without a valid sign-in. An
    /// IPv6 address is counted by its /64, the block one subscriber is given: counting each
    /// address would give a client 2^64 budgets.
    ///
    /// # Errors
    /// How long until the next such request would be allowed, when the budget is spent.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        let key = match address.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        };
        self.budget.spend(&key)
    }
}

/// The load balancers and proxies in front of the service (`UCP_TRUSTED_PROXIES`): a request
/// from one of them is counted against the address it says it forwards for, the last entry
/// of `X-Forwarded-For` that is not itself a trusted proxy. From anyone else the header is
/// ignored, since any client can write it.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("UCP_TRUSTED_PROXIES entry {e:?} is not an address or network")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|n| n.contains(&addr))
    }

    /// The client of a connection from `peer` that carried `forwarded_for` headers: walking
    /// back from the last hop, the first that is not a trusted proxy. A hop is read with or
    /// without a port (`203.0.113.7:51234`, `[2001:db8::1]:443`); the first untrusted hop that
    /// cannot be read ends the walk at the peer, so that an entry the client wrote itself, to
    /// the left of it, is never taken instead.
    #[must_use]
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .iter()
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            match hop_address(hop) {
                Some(addr) if self.trusts(addr) => {}
                Some(addr) => return addr,
                None => return peer,
            }
        }
        peer
    }
}

/// One `X-Forwarded-For` hop: an address, optionally with a port (IPv6 then in brackets).
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
}

/// The address a request's budget for requests without a valid sign-in is counted against.
#[must_use]
pub fn client_address(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(trusted) = req.app_data::<web::Data<TrustedProxies>>() else {
        return Some(peer);
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    Some(trusted.client(peer, &forwarded))
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
    fn an_ipv6_client_is_counted_by_its_64() {
        let limit = AnonymousRateLimit::per_minute(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:ffff::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert!(limit.check(a).is_ok() && limit.check(b).is_ok());
        assert!(limit.check(a).is_err(), "the same /64 shares one budget");
        assert!(limit.check(other).is_ok());
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted: TrustedProxies = "10.0.0.0/8, 192.0.2.1".parse().unwrap_or_default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0; 4]));
        // From the balancer: the last hop it did not add itself.
        assert_eq!(
            trusted.client(ip("10.0.0.5"), &["203.0.113.9, 198.51.100.7", "10.0.0.9"]),
            ip("198.51.100.7")
        );
        // A client writing the header itself, straight to the service: ignored.
        assert_eq!(
            trusted.client(ip("203.0.113.50"), &["198.51.100.7"]),
            ip("203.0.113.50")
        );
        // Nothing forwarded: the balancer itself.
        assert_eq!(trusted.client(ip("192.0.2.1"), &[]), ip("192.0.2.1"));
        // A balancer that writes the client's port, in either address family.
        assert_eq!(
            trusted.client(ip("10.0.0.5"), &["198.51.100.1, 203.0.113.9:51234"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.5"), &["[2001:db8::7]:443"]),
            ip("2001:db8::7")
        );
        // A hop the balancer wrote that cannot be read: the peer, never the client's own entry
        // to its left.
        assert_eq!(
            trusted.client(ip("10.0.0.5"), &["198.51.100.1, client-ip:unknown"]),
            ip("10.0.0.5")
        );
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
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
