//! Where outbound deliveries may go (the SSRF guard's rules), and the transport ports.
//!
//! The rule: a delivery may connect to an address only when the IANA special-purpose address
//! registries call it *globally reachable* (or the operator opened its network, see
//! [`OutboundPolicy`]). Forms that carry an IPv4 address inside an IPv6 one (IPv4-mapped,
//! IPv4-compatible, NAT64, 6to4) are judged by the IPv4 address they lead to, because that is
//! where the packets end up. Host names under `localhost` are loopback and never asked of DNS.

mod special_addresses;

pub use special_addresses::is_global;
#[cfg(test)]
use special_addresses::{Embedding, Reach, IPV4_SPECIAL, IPV6_SPECIAL};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use ipnetwork::IpNetwork;

/// The operator's outbound policy. By default only `https` to globally reachable addresses is
/// allowed; `TENANTRY_OUTBOUND_ALLOW` lists networks (and thereby plain `http`) that may be
/// reached anyway, e.g. `127.0.0.0/8` for tests or an internal receiver.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<IpNetwork>,
}

impl OutboundPolicy {
    /// Parses the comma-separated CIDR list of `TENANTRY_OUTBOUND_ALLOW`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let allowed = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<IpNetwork>().map_err(|e| format!("`{s}`: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Explicitly allowed by the operator (which also permits plain `http`). The address is
    /// matched as given: an operator who opens `127.0.0.0/8` opens neither `::1` nor
    /// `::ffff:127.0.0.1`.
    pub fn operator_allows(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Whether a delivery may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.operator_allows(ip) || is_global(ip)
    }

    /// Whether `host` is a localhost name (RFC 6761 §6.3): `localhost` or any name under it,
    /// in any letter case, with or without the trailing dot of a fully qualified name
    /// (`LOCALHOST`, `localhost.`, `foo.localhost.`). Such names mean the loopback interface
    /// and must not be asked of DNS, whose answer an attacker may control.
    pub fn is_localhost_name(host: &str) -> bool {
        // All trailing dots go: `localhost..` is no valid name, and erring towards loopback
        // (refused unless opened) is the safe side.
        host.trim_end_matches('.')
            .rsplit('.')
            .next()
            .is_some_and(|label| label.eq_ignore_ascii_case("localhost"))
    }

    /// The addresses a delivery to `host:port` would connect to, for checking with
    /// [`OutboundPolicy::allows`] before connecting. IP literals (bracketed IPv6 included) are
    /// taken as they are; localhost names are answered with the loopback addresses
    /// (`127.0.0.1`, then `::1`) without any lookup; other names go to the system resolver.
    pub fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if Self::is_localhost_name(bare) {
            return Ok(vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]);
        }
        Ok((bare, port).to_socket_addrs()?.collect())
    }
}

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// The HTTP status.
    pub status: u16,
    /// The first KiB of the body, as text.
    pub body: String,
    /// How long the receiver took to answer.
    pub latency_ms: u64,
    /// The receiver's `Retry-After`, in seconds (delta form).
    pub retry_after_secs: Option<u64>,
}

/// Why a delivery did not reach a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The URL or its resolved address is not allowed (SSRF guard, scheme).
    Refused(String),
    /// DNS, connection, TLS or timeout failure.
    Unreachable(String),
    /// Writing a message locally failed.
    Local(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::Refused(m) | DeliveryError::Unreachable(m) | DeliveryError::Local(m) => {
                f.write_str(m)
            }
        }
    }
}

/// Sends an HTTP POST with a JSON body, applying the outbound policy (scheme, resolved address),
/// a 15-second timeout and no redirects.
pub trait HttpTransport: Send + Sync {
    /// Posts `body` to `url` with `headers`. Returns the reply whatever its status (a 4xx or 5xx is
    /// a reply, not an error); `DeliveryError::Refused` when the policy forbids the URL or its
    /// address, `DeliveryError::Unreachable` when no reply came.
    fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpReply, DeliveryError>;
}

/// What a GET answered: its status, declared content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedBody {
    /// The HTTP status.
    pub status: u16,
    /// The declared `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body, at most the `max_bytes` asked for.
    pub body: Vec<u8>,
}

/// Fetches a resource with GET under the same outbound policy as [`HttpTransport`] (scheme,
/// every resolved address, a timeout, redirects not followed), reading at most `max_bytes` of
/// the body: a longer body is `DeliveryError::Refused`, never truncated into something else.
pub trait HttpGet: Send + Sync {
    /// Fetches `url`. `DeliveryError::Refused` when the policy forbids it or the body is longer
    /// than `max_bytes`, `DeliveryError::Unreachable` when no reply came.
    fn get(&self, url: &str, max_bytes: usize) -> Result<FetchedBody, DeliveryError>;
}

/// Sends an email; returns the message id.
pub trait MailTransport: Send + Sync {
    /// Sends a plain-text mail and returns its message id; `DeliveryError::Unreachable` when the
    /// mail server cannot be reached or refuses it, `DeliveryError::Local` when writing it locally
    /// failed.
    fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, DeliveryError>;

    /// Sends `text` with `html` as its alternative (`multipart/alternative`, text first), with
    /// the errors of [`MailTransport::send`]. The default sends the text alone: a transport
    /// written before HTML mail (an embedder's) keeps delivering everything it did.
    fn send_with_html(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<String, DeliveryError> {
        let _ = html;
        self.send(to, subject, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn private_and_special_addresses_are_not_global() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "203.0.113.5",
        ] {
            assert!(!is_global(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_global(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn operator_allow_list_opens_named_networks_only() {
        let p = OutboundPolicy::parse("127.0.0.0/8, 10.9.0.0/16").expect("valid");
        assert!(p.allows("127.0.0.1".parse().expect("ip")));
        assert!(p.allows("10.9.3.4".parse().expect("ip")));
        assert!(!p.allows("10.8.0.1".parse().expect("ip")));
        assert!(OutboundPolicy::parse("nonsense").is_err());
        assert!(!OutboundPolicy::default().allows("127.0.0.1".parse().expect("ip")));
        // Opening a network opens those addresses as written, nothing embedding them.
        assert!(!p.allows(ip("::ffff:127.0.0.1")));
        assert!(!p.allows(ip("64:ff9b::7f00:1")));
        assert!(p.operator_allows(ip("127.0.0.1")));
        assert!(!p.operator_allows(ip("8.8.8.8")));
        assert!(p.allows(ip("8.8.8.8")));
    }

    /// The table's own verdict for an address, found independently of the classifier
    /// (`ipnetwork` containment, then the longest prefix).
    fn table_v4(a: Ipv4Addr) -> bool {
        IPV4_SPECIAL
            .iter()
            .filter(|e| network(IpAddr::V4(e.net), e.len).contains(IpAddr::V4(a)))
            .max_by_key(|e| e.len)
            .is_none_or(|e| e.reach == Reach::True)
    }

    fn table_v6(a: Ipv6Addr) -> bool {
        let Some(e) = IPV6_SPECIAL
            .iter()
            .filter(|e| network(IpAddr::V6(e.net), e.len).contains(IpAddr::V6(a)))
            .max_by_key(|e| e.len)
        else {
            return true;
        };
        let o = a.octets();
        let embedded = match e.embeds {
            None => None,
            Some(Embedding::Low32) => Some([o[12], o[13], o[14], o[15]]),
            Some(Embedding::SixToFour) => Some([o[2], o[3], o[4], o[5]]),
            Some(Embedding::LocalNat64) => o[6..12]
                .iter()
                .all(|&b| b == 0)
                .then_some([o[12], o[13], o[14], o[15]]),
        };
        embedded.map_or(e.reach == Reach::True, |v4| table_v4(Ipv4Addr::from(v4)))
    }

    fn network(net: IpAddr, len: u8) -> IpNetwork {
        let n = IpNetwork::new(net, len).expect("valid prefix length");
        assert_eq!(n.network(), net, "{net}/{len} has host bits set");
        n
    }

    fn last(n: IpNetwork) -> IpAddr {
        match n {
            IpNetwork::V4(n) => IpAddr::V4(n.broadcast()),
            IpNetwork::V6(n) => {
                let host = u128::MAX.checked_shr(u32::from(n.prefix())).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) | host))
            }
        }
    }

    #[test]
    fn every_ipv4_registry_entry_is_classified_as_the_table_says() {
        for e in IPV4_SPECIAL {
            let n = network(IpAddr::V4(e.net), e.len);
            for a in [n.network(), last(n)] {
                let IpAddr::V4(v4) = a else { unreachable!() };
                assert_eq!(is_global(a), table_v4(v4), "{a} in {} ({})", n, e.name);
            }
            // Without a more specific entry inside, the row's own column decides.
            let inner = IPV4_SPECIAL
                .iter()
                .any(|o| o.len > e.len && n.contains(IpAddr::V4(o.net)));
            if !inner {
                assert_eq!(is_global(n.network()), e.reach == Reach::True, "{}", e.name);
                assert_eq!(is_global(last(n)), e.reach == Reach::True, "{}", e.name);
            }
        }
    }

    #[test]
    fn every_ipv6_registry_entry_is_classified_as_the_table_says() {
        for e in IPV6_SPECIAL {
            let n = network(IpAddr::V6(e.net), e.len);
            for a in [n.network(), last(n)] {
                let IpAddr::V6(v6) = a else { unreachable!() };
                assert_eq!(is_global(a), table_v6(v6), "{a} in {} ({})", n, e.name);
            }
            let inner = IPV6_SPECIAL
                .iter()
                .any(|o| o.len > e.len && n.contains(IpAddr::V6(o.net)));
            if !inner && e.embeds.is_none() {
                assert_eq!(is_global(n.network()), e.reach == Reach::True, "{}", e.name);
                assert_eq!(is_global(last(n)), e.reach == Reach::True, "{}", e.name);
            }
        }
    }

    #[test]
    fn more_specific_entries_override_their_enclosing_block() {
        for (a, global) in [
            ("192.0.0.9", true),
            ("192.0.0.10", true),
            ("192.0.0.11", false),
            ("192.0.0.8", false),
            ("192.88.99.1", false),
            ("192.88.99.2", false),
            ("192.31.196.1", true),
            ("192.52.193.1", true),
            ("192.175.48.1", true),
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("255.255.255.255", false),
            ("2001:1::1", true),
            ("2001:1::2", true),
            ("2001:1::3", true),
            ("2001:1::4", false),
            ("2001:3::1", true),
            ("2001:4:112::1", true),
            ("2001:4:113::1", false),
            ("2001:20::1", true),
            ("2001:30::1", true),
            ("2001:10::1", false),
            ("2001::1", false),
            ("2001:2::1", false),
            ("2001:db8::1", false),
            ("2001:200::1", true),
            ("2620:4f:8000::1", true),
            ("3fff::1", false),
            ("5f00::1", false),
            ("100::1", false),
            ("100:0:0:1::1", false),
            ("fec0::1", false),
            ("ff02::1", false),
            ("ff0e::1", false),
        ] {
            assert_eq!(is_global(ip(a)), global, "{a}");
        }
    }

    #[test]
    fn embedded_ipv4_forms_are_judged_by_the_ipv4_address() {
        for (a, global) in [
            // NAT64 well-known prefix /96.
            ("64:ff9b::808:808", true),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::c000:9", true),
            // Local-use NAT64 /48, canonical /96 reading.
            ("64:ff9b:1::808:808", true),
            ("64:ff9b:1::a00:1", false),
            ("64:ff9b:1::7f00:1", false),
            // ...and any other reading falls back to the registry (not reachable).
            ("64:ff9b:1:7f00:0:100:808:808", false),
            ("64:ff9b:1:0:1::808:808", false),
            // 6to4: bits 16..48, whatever the subnet and interface bits.
            ("2002:808:808::1", true),
            ("2002:808:808:ffff:1:2:3:4", true),
            ("2002:7f00:1::1", false),
            ("2002:a9fe:a9fe::", false),
            ("2002:c0a8:101:1::1", false),
            ("2002:c000:9:ffff::1", true),
            ("2002:c000:8:ffff::1", false),
            // IPv4-mapped.
            ("::ffff:8.8.8.8", true),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:192.0.0.9", true),
            // IPv4-compatible (deprecated).
            ("::8.8.8.8", true),
            ("::127.0.0.1", false),
            ("::169.254.169.254", false),
            ("::", false),
            ("::1", false),
            // Teredo embeds addresses but is refused outright.
            ("2001:0:808:808::1", false),
        ] {
            assert_eq!(is_global(ip(a)), global, "{a}");
        }
    }

    #[test]
    fn localhost_names_are_loopback_in_any_spelling() {
        for host in [
            "localhost",
            "localhost.",
            "LOCALHOST",
            "LocalHost.",
            "foo.localhost",
            "foo.localhost.",
            "a.b.FOO.Localhost",
            "localhost..",
        ] {
            assert!(OutboundPolicy::is_localhost_name(host), "{host}");
        }
        for host in [
            "localhost.example.com",
            "notlocalhost",
            "localhost-1",
            "mylocalhost.",
            "localhost.com.",
            "example.com",
            "",
            ".",
        ] {
            assert!(!OutboundPolicy::is_localhost_name(host), "{host}");
        }
    }

    #[test]
    fn localhost_names_resolve_to_loopback_without_a_lookup() {
        let loopback: Vec<SocketAddr> = vec![
            "127.0.0.1:443".parse().expect("addr"),
            "[::1]:443".parse().expect("addr"),
        ];
        for host in [
            "localhost",
            "localhost.",
            "LOCALHOST",
            "foo.localhost",
            "foo.localhost.",
        ] {
            // The system resolver here maps `localhost` to 127.0.0.1 only, so both addresses
            // coming back also shows that no lookup happened.
            assert_eq!(
                OutboundPolicy::resolve(host, 443).expect("no lookup"),
                loopback,
                "{host}"
            );
            let refused = OutboundPolicy::default();
            let opened = OutboundPolicy::parse("127.0.0.0/8, ::1/128").expect("valid");
            for a in &loopback {
                assert!(!refused.allows(a.ip()), "{host}");
                assert!(opened.allows(a.ip()), "{host}");
            }
        }
        assert_eq!(
            OutboundPolicy::resolve("[::1]", 80).expect("literal"),
            vec!["[::1]:80".parse::<SocketAddr>().expect("addr")]
        );
        assert_eq!(
            OutboundPolicy::resolve("127.0.0.1", 80).expect("literal"),
            vec!["127.0.0.1:80".parse::<SocketAddr>().expect("addr")]
        );
    }

    /// IPv4 addresses for the property: uniform ones, and ones at and just beside the edges
    /// of every table entry, where a misplaced bit would show (uniform draws almost never land
    /// on a /32 entry such as 192.0.0.9).
    fn ipv4_address() -> impl Strategy<Value = Ipv4Addr> {
        let near_an_edge =
            (0..IPV4_SPECIAL.len(), any::<bool>(), -2i32..=2).prop_map(|(i, end, offset)| {
                let e = &IPV4_SPECIAL[i];
                let host = u32::MAX.checked_shr(u32::from(e.len)).unwrap_or(0);
                let edge = if end {
                    u32::from(e.net) | host
                } else {
                    u32::from(e.net)
                };
                edge.wrapping_add_signed(offset)
            });
        prop_oneof![any::<u32>(), near_an_edge].prop_map(Ipv4Addr::from)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Every form that embeds an IPv4 address is classified exactly as the address is.
        #[test]
        fn embedded_forms_follow_their_ipv4_address(
            a in ipv4_address(),
            subnet in any::<u16>(),
            interface in any::<u64>(),
        ) {
            let o = a.octets();
            let expected = is_global(IpAddr::V4(a));
            let [hi, lo] = [u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([o[2], o[3]])];
            let [i0, i1, i2, i3] = [48u32, 32, 16, 0].map(|s| {
                u16::try_from((interface >> s) & 0xffff).unwrap_or(0)
            });
            for form in [
                a.to_ipv6_mapped(),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
                Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo),
                Ipv6Addr::new(0x2002, hi, lo, subnet, i0, i1, i2, i3),
            ] {
                prop_assert_eq!(is_global(IpAddr::V6(form)), expected, "{} vs {}", form, a);
            }
            prop_assert_eq!(is_global(IpAddr::V6(a.to_ipv6_compatible())), expected, "{}", a);
        }
    }
}
