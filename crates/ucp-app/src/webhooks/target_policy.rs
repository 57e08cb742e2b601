//! Where deliveries may go. A webhook target is chosen by an admin, but the server makes the
//! connection from inside the network it runs in: without a check, a subscription could point
//! the server at itself, at the cloud's metadata service (which hands out credentials) or at
//! anything else only the server can reach, and receive patient data or probe the network.
//!
//! `UCP_WEBHOOK_ALLOW` is a comma-separated list of host names (`hooks.example.org`), name
//! suffixes (`*.nhs.uk`), addresses (`10.1.2.3`, `::1`) and networks (`10.0.0.0/8`).
//! - Empty (the default): any host, except those whose addresses are loopback, link-local,
//!   unspecified, multicast or a cloud metadata service.
//! - Not empty: only targets that match an entry. A match also lifts the refusal above, so
//!   `localhost` or `127.0.0.0/8` admits a receiver on the same machine.
//!
//! The check runs when a subscription is made (a clear 422) and again on every connection:
//! the client resolves names through [`PolicyResolver`], so a name that later resolves
//! somewhere refused (DNS rebinding) is not connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;

/// One entry of the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AllowEntry {
    /// An exact host name, lower case.
    Host(String),
    /// `*.example.org`: any name ending in `.example.org` (not `example.org` itself).
    Suffix(String),
    /// An address or a network.
    Net(IpNet),
}

/// The parsed `UCP_WEBHOOK_ALLOW`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    entries: Vec<AllowEntry>,
}

/// Why `UCP_WEBHOOK_ALLOW` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("UCP_WEBHOOK_ALLOW entry {entry:?} is not a host name, *.suffix, address or network")]
pub struct PolicyParseError {
    pub entry: String,
}

/// Why a target is refused, in words an admin can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetRefused {
    #[error("{host} is not in this server's webhook allow-list (UCP_WEBHOOK_ALLOW)")]
    NotAllowed { host: String },
    #[error(
        "{host} resolves to {addr}, a {kind} address; deliveries do not go there unless \
         UCP_WEBHOOK_ALLOW names it"
    )]
    Reserved {
        host: String,
        addr: IpAddr,
        kind: &'static str,
    },
    #[error("{host} does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
}

impl FromStr for TargetPolicy {
    type Err = PolicyParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut entries = Vec::new();
        for raw in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = raw.to_ascii_lowercase();
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            let parsed = if let Ok(net) = bare.parse::<IpNet>() {
                AllowEntry::Net(net)
            } else if let Ok(addr) = bare.parse::<IpAddr>() {
                AllowEntry::Net(IpNet::from(addr))
            } else if let Some(suffix) = entry.strip_prefix("*.") {
                if !is_host_name(suffix) {
                    return Err(PolicyParseError { entry: raw.into() });
                }
                AllowEntry::Suffix(format!(".{suffix}"))
            } else if is_host_name(&entry) {
                AllowEntry::Host(entry)
            } else {
                return Err(PolicyParseError { entry: raw.into() });
            };
            entries.push(parsed);
        }
        Ok(Self { entries })
    }
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The kind of a reserved address, or `None` for an ordinary one. Private ranges (10/8 and
/// the like) are ordinary: NHS receivers commonly sit on private networks (HSCN). An IPv6
/// address that carries an IPv4 one (mapped, compatible, translated, NAT64, 6to4, Teredo) is
/// judged by the IPv4 address too: `[::127.0.0.1]` is the loopback however it is written.
#[must_use]
pub fn reserved_kind(addr: IpAddr) -> Option<&'static str> {
    match addr.to_canonical() {
        IpAddr::V4(v4) => reserved_v4(v4),
        IpAddr::V6(v6) => {
            reserved_v6(v6).or_else(|| embedded_v4(v6).into_iter().find_map(reserved_v4))
        }
    }
}

/// The IPv4 addresses an IPv6 address carries, by every standard way of carrying one.
#[must_use]
pub fn embedded_v4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let last32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let mut found = Vec::new();
    // ::a.b.c.d (compatible, deprecated), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d
    // (translated, RFC 2765).
    if s[..5] == [0; 5] && (s[5] == 0 || s[5] == 0xffff) {
        found.push(last32);
    }
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        found.push(last32);
    }
    // NAT64, the well-known 64:ff9b::/96 (the local-use 64:ff9b:1::/48 may carry the address
    // at any of several offsets, so it is refused whole: see `reserved_v6`).
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        found.push(last32);
    }
    // ISATAP: an interface id of 0000:5efe or 0200:5efe carries the address in its last 32 bits.
    if (s[4] == 0 || s[4] == 0x0200) && s[5] == 0x5efe {
        found.push(last32);
    }
    // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    if s[0] == 0x2002 {
        found.push(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    // Teredo: 2001:0::/32 carries the server (bits 32-63) and the client, inverted (the last 32).
    if s[0] == 0x2001 && s[1] == 0 {
        found.push(Ipv4Addr::new(o[4], o[5], o[6], o[7]));
        found.push(Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]));
    }
    found
}

/// Whether a receiver at this address sits on a network that is not the public internet
/// (RFC 1918, shared address space, loopback, link-local; IPv6 unique-local, site-local,
/// link-local, loopback), directly or inside an IPv6 form — also when `UCP_WEBHOOK_ALLOW`
/// admits it. The admin is then told only that a delivery failed, never the status that came
/// back, so that subscriptions cannot be used to map what answers inside the network.
#[must_use]
pub fn is_private(addr: IpAddr) -> bool {
    let v4_private = |v4: Ipv4Addr| {
        v4.is_private()
            || v4.is_loopback()
            || v4.is_link_local()
            || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
    };
    match addr.to_canonical() {
        IpAddr::V4(v4) => v4_private(v4),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || first & 0xffc0 == 0xfec0
                || embedded_v4(v6).into_iter().any(v4_private)
        }
    }
}

fn reserved_v4(v4: Ipv4Addr) -> Option<&'static str> {
    // Alibaba Cloud's metadata service; AWS, GCP and Azure use 169.254.169.254 (link-local).
    if v4 == Ipv4Addr::new(169, 254, 169, 254) || v4 == Ipv4Addr::new(100, 100, 100, 200) {
        Some("cloud metadata")
    } else if v4.is_loopback() {
        Some("loopback")
    } else if v4.is_link_local() {
        Some("link-local")
    } else if v4.is_unspecified() || v4.octets()[0] == 0 {
        Some("unspecified")
    } else if v4.is_multicast() || v4.is_broadcast() {
        Some("multicast or broadcast")
    } else {
        None
    }
}

fn reserved_v6(v6: Ipv6Addr) -> Option<&'static str> {
    let first = v6.segments()[0];
    // AWS's IPv6 metadata service.
    if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("cloud metadata")
    } else if v6.is_loopback() {
        Some("loopback")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xffc0 == 0xfec0 {
        // Deprecated (RFC 3879), but still routed by some stacks inside a site.
        Some("site-local")
    } else if v6.segments()[..3] == [0x64, 0xff9b, 1] {
        // Local-use NAT64 (RFC 8215): the IPv4 address may sit at any RFC 6052 offset.
        Some("local-use NAT64")
    } else if v6.is_unspecified() {
        Some("unspecified")
    } else if v6.is_multicast() {
        Some("multicast or broadcast")
    } else {
        None
    }
}

impl TargetPolicy {
    /// Whether `host` (a name or an address literal) may be connected to at `addr`.
    ///
    /// # Errors
    /// The reason, when it may not.
    pub fn permits(&self, host: &str, addr: IpAddr) -> Result<(), TargetRefused> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let addr = addr.to_canonical();
        let named = self.entries.iter().any(|e| match e {
            AllowEntry::Host(h) => *h == host,
            AllowEntry::Suffix(s) => host.ends_with(s.as_str()),
            AllowEntry::Net(n) => n.contains(&addr),
        });
        if named {
            return Ok(());
        }
        if !self.entries.is_empty() {
            return Err(TargetRefused::NotAllowed { host });
        }
        match reserved_kind(addr) {
            Some(kind) => Err(TargetRefused::Reserved { host, addr, kind }),
            None => Ok(()),
        }
    }

    /// Checks a target URL's host now: an address literal directly, a name by resolving it
    /// (every address it resolves to must be permitted).
    ///
    /// # Errors
    /// The reason the target is refused.
    pub async fn check(&self, url: &reqwest::Url) -> Result<(), TargetRefused> {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(_) => return self.check_literal(url),
            None => {
                return Err(TargetRefused::Unresolved {
                    host: String::new(),
                    reason: "the URL has no host".into(),
                })
            }
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| TargetRefused::Unresolved {
                host: host.clone(),
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(TargetRefused::Unresolved {
                host,
                reason: "no addresses".into(),
            });
        }
        addrs.iter().try_for_each(|a| self.permits(&host, a.ip()))
    }

    /// Whether an address-literal target is permitted; names are checked at connection by
    /// [`PolicyResolver`] (reqwest does not resolve literals, so they are checked here).
    ///
    /// # Errors
    /// The reason the target is refused.
    pub fn check_literal(&self, url: &reqwest::Url) -> Result<(), TargetRefused> {
        match url.host() {
            Some(url::Host::Ipv4(a)) => self.permits(&a.to_string(), IpAddr::V4(a)),
            Some(url::Host::Ipv6(a)) => self.permits(&a.to_string(), IpAddr::V6(a)),
            _ => Ok(()),
        }
    }
}

/// The webhook client's resolver: the system's, with every refused address removed. A name
/// left with no permitted address fails to resolve, so nothing is sent.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    pub policy: Arc<TargetPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match policy.permits(&host, a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refusal.get_or_insert(e);
                        false
                    }
                })
                .collect();
            if permitted.is_empty() {
                let reason: Box<dyn std::error::Error + Send + Sync> = match refusal {
                    Some(e) => Box::new(e),
                    None => format!("{host} does not resolve").into(),
                };
                return Err(reason);
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    fn policy(text: &str) -> TargetPolicy {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} is an address: {e}"))
    }

    #[test]
    fn by_default_reserved_addresses_are_refused_and_others_allowed() {
        let p = TargetPolicy::default();
        for (addr, kind) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("169.254.169.254", "cloud metadata"),
            ("100.100.100.200", "cloud metadata"),
            ("fd00:ec2::254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("224.0.0.1", "multicast or broadcast"),
        ] {
            match p.permits("h", ip(addr)) {
                Err(TargetRefused::Reserved { kind: k, .. }) => assert_eq!(k, kind, "{addr}"),
                other => panic!("{addr} should be refused as {kind}: {other:?}"),
            }
        }
        for addr in ["203.0.113.7", "10.1.2.3", "192.168.0.9", "2001:db8::1"] {
            assert_eq!(p.permits("h", ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn ipv6_forms_that_carry_a_reserved_ipv4_address_are_refused_as_it() {
        let p = TargetPolicy::default();
        for (addr, kind) in [
            ("::127.0.0.1", "loopback"),
            ("::ffff:0:7f00:1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b:1::7f00:1", "local-use NAT64"),
            ("64:ff9b:1:7f00:0:100:808:808", "local-use NAT64"),
            ("2001:db8::5efe:7f00:1", "loopback"),
            ("2002:7f00:1::", "loopback"),
            ("2002:a9fe:a9fe::1", "cloud metadata"),
            // Teredo: server 127.0.0.1, or client 127.0.0.1 (inverted: 80ff:fffe).
            ("2001:0:7f00:1::1", "loopback"),
            ("2001:0:cb00:7107::80ff:fffe", "loopback"),
            ("::169.254.169.254", "cloud metadata"),
            ("64:ff9b::a9fe:101", "link-local"),
            ("fec0::1", "site-local"),
            ("fed0::1", "site-local"),
        ] {
            match p.permits("h", ip(addr)) {
                Err(TargetRefused::Reserved { kind: k, .. }) => assert_eq!(k, kind, "{addr}"),
                other => panic!("{addr} should be refused as {kind}: {other:?}"),
            }
        }
        // Ordinary global addresses in the same families pass.
        for addr in ["64:ff9b::cb00:7107", "2002:cb00:7107::1", "2001:db8::1"] {
            assert_eq!(p.permits("h", ip(addr)), Ok(()), "{addr}");
        }
    }

    #[test]
    fn private_receivers_are_known_in_every_form() {
        for addr in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd12::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::",
        ] {
            assert!(is_private(ip(addr)), "{addr}");
        }
        for addr in ["127.0.0.1", "::1", "fe80::1", "fec0::1", "169.254.0.1"] {
            assert!(
                is_private(ip(addr)),
                "{addr}: an allow-listed local receiver is private too"
            );
        }
        for addr in ["203.0.113.7", "2001:db8::1", "100.128.0.1"] {
            assert!(!is_private(ip(addr)), "{addr}");
        }
    }

    #[test]
    fn an_allow_list_admits_only_what_it_names_and_lifts_the_reserved_refusal() {
        let p = policy(" hooks.example.org, *.nhs.uk ,127.0.0.0/8, [::1], 10.0.0.5 ");
        assert_eq!(p.permits("hooks.example.org", ip("203.0.113.7")), Ok(()));
        assert_eq!(p.permits("HOOKS.example.org", ip("203.0.113.7")), Ok(()));
        assert_eq!(p.permits("a.b.nhs.uk", ip("203.0.113.7")), Ok(()));
        assert_eq!(p.permits("anything", ip("127.0.0.1")), Ok(()));
        assert_eq!(p.permits("::1", ip("::1")), Ok(()));
        assert_eq!(p.permits("10.0.0.5", ip("10.0.0.5")), Ok(()));
        assert!(matches!(
            p.permits("nhs.uk", ip("203.0.113.7")),
            Err(TargetRefused::NotAllowed { .. })
        ));
        assert!(matches!(
            p.permits("other.example.org", ip("203.0.113.7")),
            Err(TargetRefused::NotAllowed { .. })
        ));
        assert!(matches!(
            p.permits("10.0.0.6", ip("10.0.0.6")),
            Err(TargetRefused::NotAllowed { .. })
        ));
        // A named host is trusted at whatever address it has.
        let p = policy("localhost");
        assert_eq!(p.permits("localhost", ip("127.0.0.1")), Ok(()));
    }

    #[test]
    fn entries_that_are_not_hosts_or_networks_are_refused() {
        for bad in [
            "http://x",
            "a b",
            "10.0.0.0/33",
            "*.",
            "under_score.org",
            "*",
        ] {
            assert!(
                bad.parse::<TargetPolicy>().is_err(),
                "{bad:?} should not parse"
            );
        }
        assert_eq!(policy(""), TargetPolicy::default());
    }

    #[tokio::test]
    async fn a_url_is_checked_by_its_literal_address_or_every_resolved_address() {
        let p = TargetPolicy::default();
        let url = |s: &str| reqwest::Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(matches!(
            p.check(&url("http://169.254.169.254/latest/meta-data"))
                .await,
            Err(TargetRefused::Reserved {
                kind: "cloud metadata",
                ..
            })
        ));
        assert!(matches!(
            p.check(&url("https://localhost:9/hook")).await,
            Err(TargetRefused::Reserved {
                kind: "loopback",
                ..
            })
        ));
        assert!(p.check_literal(&url("http://[::1]:9/")).is_err());
        assert_eq!(p.check_literal(&url("https://localhost/")), Ok(()));
        assert_eq!(
            policy("localhost")
                .check(&url("https://localhost:9/"))
                .await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn the_resolver_connects_to_no_refused_address() {
        let refusing = PolicyResolver {
            policy: Arc::new(TargetPolicy::default()),
        };
        let name = |s: &str| {
            s.parse::<reqwest::dns::Name>()
                .unwrap_or_else(|_| panic!("{s} is a name"))
        };
        let refused = refusing.resolve(name("localhost")).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("loopback"), "{message:?}");

        let allowing = PolicyResolver {
            policy: Arc::new(policy("localhost")),
        };
        let addrs: Vec<SocketAddr> = allowing
            .resolve(name("localhost"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
