//! Allowlist check cost at 10, 1,000 and 100,000 entries (the request path's cost per request
//! when the policy is cached), against a linear scan at 1,000.
//! Run: `cargo bench -p tenantry-security --bench ip_allowlist`.

#![allow(clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_security::{AllowlistPolicy, Cidr};

/// `n` distinct random IPv4 networks of /16 to /32.
fn networks(n: usize) -> Vec<Cidr> {
    let mut seen = std::collections::HashSet::new();
    let mut cidrs = Vec::with_capacity(n);
    while cidrs.len() < n {
        let mut b = [0u8; 5];
        OsRandom.fill(&mut b);
        let prefix = 16 + b[4] % 17;
        let net = ipnetwork::Ipv4Network::new(Ipv4Addr::new(b[0], b[1], b[2], b[3]), prefix)
            .expect("prefix");
        let cidr = Cidr::parse(&format!("{}/{prefix}", net.network())).expect("cidr");
        if seen.insert(cidr.to_string()) {
            cidrs.push(cidr);
        }
    }
    cidrs
}

fn bench(c: &mut Criterion) {
    let outside = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    for n in [10, 1000, 100_000] {
        let cidrs = networks(n);
        let policy = AllowlistPolicy::new(true, &cidrs);
        let inside = cidrs[n / 2].network().ip();
        c.bench_function(&format!("ip_allowlist/{n} entries, allowed address"), |b| {
            b.iter(|| policy.allows(black_box(Some(inside))))
        });
        c.bench_function(&format!("ip_allowlist/{n} entries, refused address"), |b| {
            b.iter(|| policy.allows(black_box(Some(outside))))
        });
        if n == 1000 {
            c.bench_function("ip_allowlist/linear scan baseline, 1000 entries", |b| {
                b.iter(|| cidrs.iter().any(|n| n.contains(black_box(outside))))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
