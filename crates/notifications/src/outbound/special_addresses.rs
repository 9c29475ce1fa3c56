//! The IANA special-purpose address registries (IPv4 and IPv6) with their "Globally Reachable"
//! column, and the classifier over them: an address is globally reachable when the most specific
//! entry containing it says so (an address in no entry is ordinary unicast); IPv6 forms that
//! carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by that IPv4
//! address, because that is where the packets end up.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Globally reachable, and therefore a destination deliveries may use without the operator's
/// say-so: the verdict of the most specific entry of `IPV4_SPECIAL` / `IPV6_SPECIAL`
/// containing `ip` (addresses in no entry are ordinary unicast, hence reachable). IPv6 forms
/// that embed an IPv4 address are judged by that IPv4 address (see `Embedding`).
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    most_specific(IPV4_SPECIAL, |e| e.contains(ip)).is_none_or(|e| e.reach == Reach::True)
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let Some(entry) = most_specific(IPV6_SPECIAL, |e| e.contains(ip)) else {
        return true;
    };
    match entry.embeds.and_then(|embedding| embedding.ipv4(ip)) {
        Some(v4) => is_global_v4(v4),
        None => entry.reach == Reach::True,
    }
}

/// Longest-prefix match: a more specific entry overrides the one enclosing it (192.0.0.9/32
/// is reachable inside the unreachable 192.0.0.0/24).
fn most_specific<E: Prefix>(table: &[E], matches: impl Fn(&E) -> bool) -> Option<&E> {
    table
        .iter()
        .filter(|e| matches(e))
        .max_by_key(|e| e.prefix_len())
}

trait Prefix {
    fn prefix_len(&self) -> u8;
}

/// The registries' "Globally Reachable" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    True,
    False,
    /// Empty or "N/A" (deprecated blocks, Teredo, 6to4): not a destination we vouch for, so
    /// refused unless the entry embeds an IPv4 address to judge instead.
    NotApplicable,
}

/// Where an IPv6 form carries the IPv4 address its packets are delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Embedding {
    /// The last 32 bits: IPv4-mapped and IPv4-compatible (RFC 4291 §2.5.5) and the NAT64
    /// well-known prefix, which RFC 6052 §2.1 allows only as a /96.
    Low32,
    /// Bits 16..48, the 6to4 router's IPv4 address (RFC 3056 §2): the relay tunnels there.
    SixToFour,
    /// The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) is not globally reachable itself;
    /// it reaches whatever the operator's translator maps it to. A translator's prefix may be
    /// anywhere from /48 to /96 inside it, and RFC 6052 §2.2 then puts the IPv4 address at a
    /// different place for each length. We judge the last 32 bits (the /96 reading) only when
    /// bits 48..96 are zero, where every other reading yields an unroutable 0.0.0.0/8 address;
    /// anything else gets the registry's verdict (not reachable) instead of a guess.
    LocalNat64,
}

impl Embedding {
    fn ipv4(self, ip: Ipv6Addr) -> Option<Ipv4Addr> {
        let o = ip.octets();
        let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
        match self {
            Embedding::Low32 => Some(low32),
            Embedding::SixToFour => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
            Embedding::LocalNat64 => o[6..12].iter().all(|&b| b == 0).then_some(low32),
        }
    }
}

pub(super) struct V4Special {
    pub(super) net: Ipv4Addr,
    pub(super) len: u8,
    /// The registry's name and reference; documents the row (the tests report it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) name: &'static str,
    pub(super) reach: Reach,
}

impl V4Special {
    fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX
            .checked_shl(32u32.saturating_sub(u32::from(self.len)))
            .unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.net)
    }
}

impl Prefix for V4Special {
    fn prefix_len(&self) -> u8 {
        self.len
    }
}

pub(super) struct V6Special {
    pub(super) net: Ipv6Addr,
    pub(super) len: u8,
    /// The registry's name and reference; documents the row (the tests report it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) name: &'static str,
    pub(super) reach: Reach,
    /// When set, the embedded IPv4 address decides instead of `reach`.
    pub(super) embeds: Option<Embedding>,
}

impl V6Special {
    fn contains(&self, ip: Ipv6Addr) -> bool {
        let mask = u128::MAX
            .checked_shl(128u32.saturating_sub(u32::from(self.len)))
            .unwrap_or(0);
        u128::from(ip) & mask == u128::from(self.net)
    }
}

impl Prefix for V6Special {
    fn prefix_len(&self) -> u8 {
        self.len
    }
}

const fn v4(o: [u8; 4], len: u8, name: &'static str, reach: Reach) -> V4Special {
    V4Special {
        net: Ipv4Addr::new(o[0], o[1], o[2], o[3]),
        len,
        name,
        reach,
    }
}

const fn v6(
    s: [u16; 8],
    len: u8,
    name: &'static str,
    reach: Reach,
    embeds: Option<Embedding>,
) -> V6Special {
    V6Special {
        net: Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        len,
        name,
        reach,
        embeds,
    }
}

/// The IANA IPv4 Special-Purpose Address Registry (RFC 6890, updated by RFC 8190;
/// <https://www.iana.org/assignments/iana-ipv4-special-registry/>): every entry with its
/// "Globally Reachable" column. Rows marked "not in the registry" are added here and say why.
pub(super) const IPV4_SPECIAL: &[V4Special] = &[
    v4([0, 0, 0, 0], 8, "\"This network\" (RFC 791)", Reach::False),
    v4(
        [0, 0, 0, 0],
        32,
        "\"This host on this network\" (RFC 1122)",
        Reach::False,
    ),
    v4([10, 0, 0, 0], 8, "Private-Use (RFC 1918)", Reach::False),
    v4(
        [100, 64, 0, 0],
        10,
        "Shared Address Space (RFC 6598)",
        Reach::False,
    ),
    v4([127, 0, 0, 0], 8, "Loopback (RFC 1122)", Reach::False),
    v4([169, 254, 0, 0], 16, "Link Local (RFC 3927)", Reach::False),
    v4([172, 16, 0, 0], 12, "Private-Use (RFC 1918)", Reach::False),
    v4(
        [192, 0, 0, 0],
        24,
        "IETF Protocol Assignments (RFC 6890)",
        Reach::False,
    ),
    v4(
        [192, 0, 0, 0],
        29,
        "IPv4 Service Continuity Prefix (RFC 7335)",
        Reach::False,
    ),
    v4(
        [192, 0, 0, 8],
        32,
        "IPv4 dummy address (RFC 7600)",
        Reach::False,
    ),
    v4(
        [192, 0, 0, 9],
        32,
        "Port Control Protocol Anycast (RFC 7723)",
        Reach::True,
    ),
    v4(
        [192, 0, 0, 10],
        32,
        "Traversal Using Relays around NAT Anycast (RFC 8155)",
        Reach::True,
    ),
    v4(
        [192, 0, 0, 170],
        32,
        "NAT64/DNS64 Discovery (RFC 8880)",
        Reach::False,
    ),
    v4(
        [192, 0, 0, 171],
        32,
        "NAT64/DNS64 Discovery (RFC 8880)",
        Reach::False,
    ),
    v4(
        [192, 0, 2, 0],
        24,
        "Documentation (TEST-NET-1) (RFC 5737)",
        Reach::False,
    ),
    v4([192, 31, 196, 0], 24, "AS112-v4 (RFC 7535)", Reach::True),
    v4([192, 52, 193, 0], 24, "AMT (RFC 7450)", Reach::True),
    v4(
        [192, 88, 99, 0],
        24,
        "Deprecated (6to4 Relay Anycast) (RFC 7526)",
        Reach::NotApplicable,
    ),
    v4(
        [192, 88, 99, 2],
        32,
        "6a44-relay anycast address (RFC 6751)",
        Reach::False,
    ),
    v4([192, 168, 0, 0], 16, "Private-Use (RFC 1918)", Reach::False),
    v4(
        [192, 175, 48, 0],
        24,
        "Direct Delegation AS112 Service (RFC 7534)",
        Reach::True,
    ),
    v4([198, 18, 0, 0], 15, "Benchmarking (RFC 2544)", Reach::False),
    v4(
        [198, 51, 100, 0],
        24,
        "Documentation (TEST-NET-2) (RFC 5737)",
        Reach::False,
    ),
    v4(
        [203, 0, 113, 0],
        24,
        "Documentation (TEST-NET-3) (RFC 5737)",
        Reach::False,
    ),
    // Not in the special-purpose registry (it has its own): multicast is no unicast
    // destination, and a delivery must not be fanned out to a group.
    v4(
        [224, 0, 0, 0],
        4,
        "Multicast (RFC 5771), not in the registry",
        Reach::False,
    ),
    v4([240, 0, 0, 0], 4, "Reserved (RFC 1112)", Reach::False),
    v4(
        [255, 255, 255, 255],
        32,
        "Limited Broadcast (RFC 8190)",
        Reach::False,
    ),
];

/// The IANA IPv6 Special-Purpose Address Registry (RFC 6890, updated by RFC 8190;
/// <https://www.iana.org/assignments/iana-ipv6-special-registry/>): every entry with its
/// "Globally Reachable" column, plus where an IPv4 address is embedded. Rows marked "not in the
/// registry" are added here and say why.
pub(super) const IPV6_SPECIAL: &[V6Special] = &[
    v6(
        [0, 0, 0, 0, 0, 0, 0, 1],
        128,
        "Loopback Address (RFC 4291)",
        Reach::False,
        None,
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        128,
        "Unspecified Address (RFC 4291)",
        Reach::False,
        None,
    ),
    // Deprecated by RFC 4291 §2.5.5.1 and no longer listed, but stacks may still route
    // ::a.b.c.d to a.b.c.d, so the embedded address decides (:: and ::1 stay refused above).
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4-compatible Address (RFC 4291), not in the registry",
        Reach::NotApplicable,
        Some(Embedding::Low32),
    ),
    // The registry says False (it is no wire address), but a socket connecting to it reaches
    // the IPv4 address, so that decides.
    v6(
        [0, 0, 0, 0, 0, 0xffff, 0, 0],
        96,
        "IPv4-mapped Address (RFC 4291)",
        Reach::False,
        Some(Embedding::Low32),
    ),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4-IPv6 Translat. (RFC 6052)",
        Reach::True,
        Some(Embedding::Low32),
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "IPv4-IPv6 Translat. (RFC 8215)",
        Reach::False,
        Some(Embedding::LocalNat64),
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        "Discard-Only Address Block (RFC 6666)",
        Reach::False,
        None,
    ),
    v6(
        [0x100, 0, 0, 1, 0, 0, 0, 0],
        64,
        "Dummy IPv6 Prefix (RFC 9780)",
        Reach::False,
        None,
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF Protocol Assignments (RFC 2928)",
        Reach::False,
        None,
    ),
    // Teredo embeds an obfuscated client address and a server address; neither says where
    // the relay will deliver, so the registry's N/A stands: refused.
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        32,
        "TEREDO (RFC 4380)",
        Reach::NotApplicable,
        None,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        "Port Control Protocol Anycast (RFC 7723)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 2],
        128,
        "Traversal Using Relays around NAT Anycast (RFC 8155)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 3],
        128,
        "DNS-SD Service Registration Protocol Anycast (RFC 9665)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        "Benchmarking (RFC 5180)",
        Reach::False,
        None,
    ),
    v6(
        [0x2001, 3, 0, 0, 0, 0, 0, 0],
        32,
        "AMT (RFC 7450)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 4, 0x112, 0, 0, 0, 0, 0],
        48,
        "AS112-v6 (RFC 7535)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 0x10, 0, 0, 0, 0, 0, 0],
        28,
        "Deprecated (previously ORCHID) (RFC 4843)",
        Reach::NotApplicable,
        None,
    ),
    v6(
        [0x2001, 0x20, 0, 0, 0, 0, 0, 0],
        28,
        "ORCHIDv2 (RFC 7343)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)",
        Reach::True,
        None,
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "Documentation (RFC 3849)",
        Reach::False,
        None,
    ),
    // 6to4 traffic is tunnelled to the IPv4 address in bits 16..48, so that decides.
    v6(
        [0x2002, 0, 0, 0, 0, 0, 0, 0],
        16,
        "6to4 (RFC 3056)",
        Reach::NotApplicable,
        Some(Embedding::SixToFour),
    ),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "Direct Delegation AS112 Service (RFC 7534)",
        Reach::True,
        None,
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "Documentation (RFC 9637)",
        Reach::False,
        None,
    ),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "Segment Routing (SRv6) SIDs (RFC 9602)",
        Reach::False,
        None,
    ),
    v6(
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        "Unique-Local (RFC 4193)",
        Reach::False,
        None,
    ),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Link-Local Unicast (RFC 4291)",
        Reach::False,
        None,
    ),
    // Not in the registry: site-local was deprecated by RFC 3879, yet older networks may
    // still route it internally.
    v6(
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Site-Local (deprecated, RFC 3879), not in the registry",
        Reach::False,
        None,
    ),
    // Not in the registry: multicast is no unicast destination.
    v6(
        [0xff00, 0, 0, 0, 0, 0, 0, 0],
        8,
        "Multicast (RFC 4291), not in the registry",
        Reach::False,
        None,
    ),
];
