//! The IP allowlist as enforced: networks compiled into sorted, merged address ranges per family,
//! so a lookup is a binary search (O(log n), ~tens of ns at 1,000 entries) instead of a scan.

use std::net::IpAddr;

use crate::Cidr;

/// A compiled set of networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpMatcher {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn merge<T: Ord + Copy + num_like::Succ>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            // Overlapping or adjacent: extend the previous range.
            Some(last) if start <= last.1.succ_saturating() => {
                if end > last.1 {
                    last.1 = end;
                }
            }
            _ => out.push((start, end)),
        }
    }
    out
}

mod num_like {
    pub trait Succ {
        fn succ_saturating(self) -> Self;
    }
    impl Succ for u32 {
        fn succ_saturating(self) -> Self {
            self.saturating_add(1)
        }
    }
    impl Succ for u128 {
        fn succ_saturating(self) -> Self {
            self.saturating_add(1)
        }
    }
}

fn contains<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    // The last range starting at or before x is the only one that can contain it.
    let idx = ranges.partition_point(|(start, _)| *start <= x);
    idx > 0 && x <= ranges[idx - 1].1
}

impl IpMatcher {
    /// A matcher for `networks` (overlapping and adjacent ones merged).
    pub fn new(networks: &[Cidr]) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for cidr in networks {
            match cidr.network() {
                ipnetwork::IpNetwork::V4(n) => {
                    v4.push((u32::from(n.network()), u32::from(n.broadcast())));
                }
                ipnetwork::IpNetwork::V6(n) => {
                    let start = u128::from(n.network());
                    let host_bits = 128 - u32::from(n.prefix());
                    let span = if host_bits == 128 {
                        u128::MAX
                    } else {
                        (1u128 << host_bits) - 1
                    };
                    v6.push((start, start | span));
                }
            }
        }
        Self {
            v4: merge(v4),
            v6: merge(v6),
        }
    }

    /// Whether `ip` is in any of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => contains(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
                Some(v4) => contains(&self.v4, u32::from(v4)),
                None => contains(&self.v6, u128::from(v6)),
            },
        }
    }

    /// Whether no network is listed.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// An account's allowlist policy as the request path applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowlistPolicy {
    /// Whether the allowlist is on; off admits every address.
    pub enforced: bool,
    /// The listed networks.
    pub matcher: IpMatcher,
}

impl AllowlistPolicy {
    /// The policy of an allowlist that is `enforced` or not, listing `networks`.
    pub fn new(enforced: bool, networks: &[Cidr]) -> Self {
        Self {
            enforced,
            matcher: IpMatcher::new(networks),
        }
    }

    /// Whether a request from `ip` may proceed. Enforcement with an unknown client address
    /// refuses: the policy cannot be shown to hold.
    pub fn allows(&self, ip: Option<IpAddr>) -> bool {
        !self.enforced || ip.is_some_and(|ip| self.matcher.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(list: &[&str]) -> IpMatcher {
        IpMatcher::new(
            &list
                .iter()
                .map(|c| Cidr::parse(c).expect("cidr"))
                .collect::<Vec<_>>(),
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn networks_match_exactly_their_addresses() {
        let matcher = m(&[
            "203.0.113.0/24",
            "198.51.100.50",
            "2001:db8::/32",
            "10.0.0.0/8",
        ]);
        for yes in [
            "203.0.113.0",
            "203.0.113.255",
            "198.51.100.50",
            "10.255.255.255",
            "2001:db8::1",
            "2001:db8:ffff::",
            "::ffff:203.0.113.9",
        ] {
            assert!(matcher.contains(ip(yes)), "{yes}");
        }
        for no in [
            "203.0.114.0",
            "198.51.100.51",
            "11.0.0.0",
            "2001:db9::",
            "::1",
            "127.0.0.1",
        ] {
            assert!(!matcher.contains(ip(no)), "{no}");
        }
    }

    #[test]
    fn overlapping_and_adjacent_networks_merge() {
        let matcher = m(&["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/24", "0.0.0.0/0"]);
        assert_eq!(matcher.v4, vec![(0, u32::MAX)]);
        let all6 = m(&["::/0"]);
        assert!(all6.contains(ip("ffff::1")));
        assert!(!all6.contains(ip("1.2.3.4")));
    }

    #[test]
    fn the_policy_only_refuses_when_enforced() {
        let open = AllowlistPolicy::new(false, &[]);
        assert!(open.allows(Some(ip("8.8.8.8"))));
        assert!(open.allows(None));
        let closed = AllowlistPolicy::new(true, &[Cidr::parse("127.0.0.1").expect("cidr")]);
        assert!(closed.allows(Some(ip("127.0.0.1"))));
        assert!(!closed.allows(Some(ip("127.0.0.2"))));
        assert!(!closed.allows(None));
        assert!(!AllowlistPolicy::new(true, &[]).allows(Some(ip("127.0.0.1"))));
    }

    #[test]
    fn matches_a_linear_scan_on_many_networks() {
        use tenantry_kernel::{OsRandom, RandomSource};
        let mut nets = Vec::new();
        for _ in 0..300 {
            let mut b = [0u8; 5];
            OsRandom.fill(&mut b);
            let prefix = 8 + b[4] % 25;
            let n = ipnetwork::Ipv4Network::new(
                std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]),
                prefix,
            )
            .expect("prefix");
            nets.push(Cidr::parse(&format!("{}/{prefix}", n.network())).expect("cidr"));
        }
        let matcher = IpMatcher::new(&nets);
        for _ in 0..5000 {
            let mut b = [0u8; 4];
            OsRandom.fill(&mut b);
            let addr = IpAddr::from(b);
            assert_eq!(
                matcher.contains(addr),
                nets.iter().any(|n| n.contains(addr)),
                "{addr}"
            );
        }
    }
}
