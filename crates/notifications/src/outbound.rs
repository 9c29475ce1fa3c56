//! Where outbound deliveries may go (the SSRF guard's rules), and the transport ports.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

/// The operator's outbound policy. By default only `https` to globally routable addresses is
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

    /// Explicitly allowed by the operator (which also permits plain `http`).
    pub fn operator_allows(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Whether a delivery may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.operator_allows(ip) || is_global(ip)
    }
}

/// Globally routable: not loopback, private, link-local, CGNAT, unspecified, multicast,
/// broadcast, documentation or unique-local (IPv4-mapped IPv6 judged as IPv4).
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_global(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// The first KiB of the body, as text.
    pub body: String,
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
    fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpReply, DeliveryError>;
}

/// Sends an email; returns the message id.
pub trait MailTransport: Send + Sync {
    fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, DeliveryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
