//! Allowlist check cost at 1,000 entries (the request path's cost per request when the policy
//! is cached). Run: `cargo bench -p tenantry-security --bench ip_allowlist`.

#![allow(clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_security::{AllowlistPolicy, Cidr};

fn bench(c: &mut Criterion) {
    let mut cidrs = Vec::new();
    while cidrs.len() < 1000 {
        let mut b = [0u8; 5];
        OsRandom.fill(&mut b);
        let prefix = 16 + b[4] % 17;
        let net = ipnetwork::Ipv4Network::new(Ipv4Addr::new(b[0], b[1], b[2], b[3]), prefix)
            .expect("prefix");
        let cidr = Cidr::parse(&format!("{}/{prefix}", net.network())).expect("cidr");
        if !cidrs.contains(&cidr) {
            cidrs.push(cidr);
        }
    }
    let policy = AllowlistPolicy::new(true, &cidrs);
    let inside = cidrs[500].network().ip();
    let outside = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    c.bench_function("ip_allowlist/1000 entries, allowed address", |b| {
        b.iter(|| policy.allows(black_box(Some(inside))))
    });
    c.bench_function("ip_allowlist/1000 entries, refused address", |b| {
        b.iter(|| policy.allows(black_box(Some(outside))))
    });
    c.bench_function("ip_allowlist/linear scan baseline, 1000 entries", |b| {
        b.iter(|| cidrs.iter().any(|n| n.contains(black_box(outside))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
