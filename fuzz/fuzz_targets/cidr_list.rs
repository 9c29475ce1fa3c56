//! An allowlist as a client sends it (one CIDR or address a line): parsing never panics, what
//! parses prints back to itself, and the compiled policy (binary search over merged ranges)
//! answers exactly like a linear scan of the list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tenantry_security::{AllowlistPolicy, Cidr};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cidrs: Vec<Cidr> = text.lines().filter_map(|l| Cidr::parse(l).ok()).collect();
    for c in &cidrs {
        assert_eq!(
            Cidr::parse(&c.to_string()).as_ref(),
            Ok(c),
            "{c} does not read back"
        );
    }
    let policy = AllowlistPolicy::new(true, &cidrs);
    // Probe addresses derived from the input and the networks' own edges.
    let mut probes = vec![
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    for chunk in data.chunks(4).take(16) {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        probes.push(IpAddr::V4(Ipv4Addr::from(b)));
    }
    probes.extend(cidrs.iter().map(|c| c.network().ip()));
    for ip in probes {
        let linear = cidrs.iter().any(|c| c.contains(ip));
        assert_eq!(policy.allows(Some(ip)), linear, "{ip} against {cidrs:?}");
    }
});
