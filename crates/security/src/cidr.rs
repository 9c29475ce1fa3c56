//! CIDR networks for the IP allowlist.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// An IPv4 or IPv6 network in CIDR form. A bare address is a /32 (IPv4) or /128 (IPv6) network.
/// A network whose host bits are set (`192.168.1.5/24`) is refused rather than silently widened
/// or narrowed: the writer meant something and should say which.
///
/// ```
/// use tenantry_security::Cidr;
/// let c: Cidr = "198.51.100.50".parse().unwrap();
/// assert_eq!(c.to_string(), "198.51.100.50/32");
/// assert!(c.contains("198.51.100.50".parse().unwrap()));
/// assert!("192.168.1.256/24".parse::<Cidr>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(IpNetwork);

impl Cidr {
    /// Parses `a.b.c.d/n`, an IPv6 network or a bare address; the error says why a value is refused
    /// (host bits set, prefix too long, not an address).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 {
            return Err("expected an IP address or CIDR block".into());
        }
        let network = if s.contains('/') {
            let net = IpNetwork::from_str(s).map_err(|e| e.to_string())?;
            if net.network() != net.ip() {
                return Err(format!(
                    "host bits are set; the network is {}/{}",
                    net.network(),
                    net.prefix()
                ));
            }
            net
        } else {
            let ip = IpAddr::from_str(s).map_err(|e| e.to_string())?;
            IpNetwork::from(ip)
        };
        Ok(Self(network))
    }

    /// Whether `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The network.
    pub fn network(&self) -> IpNetwork {
        self.0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.network() {
            // Every rendering of the settings and each write through the tenant settings API formats the whole
            // allowlist, up to 1,000 entries, several times; four `u8` Display calls through
            // `fmt::write` per address were a tenth of a tenant-settings PATCH's time, spent
            // holding the database's write lock. The digits are written by hand instead.
            IpAddr::V4(address) => {
                let mut text = [0u8; 18]; // "255.255.255.255/32"
                let mut len = 0;
                for (i, octet) in address.octets().into_iter().enumerate() {
                    if i > 0 {
                        text[len] = b'.';
                        len += 1;
                    }
                    len += decimal(octet, &mut text[len..]);
                }
                text[len] = b'/';
                len += 1;
                len += decimal(self.0.prefix(), &mut text[len..]);
                f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
            }
            address @ IpAddr::V6(_) => write!(f, "{address}/{}", self.0.prefix()),
        }
    }
}

/// Writes `n` in decimal at the start of `out` (room for three digits), returning the length.
fn decimal(n: u8, out: &mut [u8]) -> usize {
    let digits = [n / 100, n / 10 % 10, n % 10];
    let skip = if n >= 100 {
        0
    } else if n >= 10 {
        1
    } else {
        2
    };
    for (slot, digit) in out.iter_mut().zip(&digits[skip..]) {
        *slot = b'0' + digit;
    }
    3 - skip
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_networks_parse_and_normalise() {
        assert_eq!(
            Cidr::parse("203.0.113.0/24").map(|c| c.to_string()),
            Ok("203.0.113.0/24".into())
        );
        assert_eq!(
            Cidr::parse("10.0.0.1").map(|c| c.to_string()),
            Ok("10.0.0.1/32".into())
        );
        assert_eq!(
            Cidr::parse("2001:db8::/32").map(|c| c.to_string()),
            Ok("2001:db8::/32".into())
        );
        assert_eq!(
            Cidr::parse("2001:DB8::1").map(|c| c.to_string()),
            Ok("2001:db8::1/128".into())
        );
        assert_eq!(
            Cidr::parse(" 0.0.0.0/0 ").map(|c| c.to_string()),
            Ok("0.0.0.0/0".into())
        );
    }

    #[test]
    fn ipv4_text_is_what_the_standard_library_writes() {
        // Every octet value in every position, and every prefix length.
        for n in 0..=255u8 {
            for address in [
                [n, 0, 0, 0],
                [0, n, 0, 0],
                [0, 0, n, 0],
                [0, 0, 0, n],
                [n; 4],
            ] {
                let ip = std::net::Ipv4Addr::from(address);
                let c = Cidr::parse(&ip.to_string()).expect("an address");
                assert_eq!(c.to_string(), format!("{ip}/32"));
            }
        }
        for prefix in 0..=32u8 {
            let network = IpNetwork::new(IpAddr::from([10, 0, 0, 0]), prefix).expect("prefix");
            let c = Cidr::parse(&format!("{}/{prefix}", network.network())).expect("a network");
            assert_eq!(c.to_string(), format!("{}/{prefix}", network.network()));
        }
        assert_eq!(
            Cidr::parse("2001:db8::/32").map(|c| c.to_string()),
            Ok("2001:db8::/32".into())
        );
    }

    #[test]
    fn invalid_entries_are_refused() {
        for bad in [
            "",
            "invalid-ip",
            "192.168.1.256/24",
            "192.168.1.5/24",
            "10.0.0.0/33",
            "::/129",
            "1.2.3",
            "1.2.3.4/",
            "/24",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn containment_respects_the_prefix() {
        let c = Cidr::parse("203.0.113.0/24").expect("valid");
        assert!(c.contains("203.0.113.200".parse().expect("ip")));
        assert!(!c.contains("203.0.114.1".parse().expect("ip")));
        assert!(!c.contains("::1".parse().expect("ip")));
    }
}
