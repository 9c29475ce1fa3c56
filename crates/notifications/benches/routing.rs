//! Routing cost: one event through an account's rules and channels (the worker's per-event cost
//! before any delivery), and the Standard Webhooks signature of a 1 KiB body.
//! Run: `cargo bench -p tenantry-notifications --bench routing`.

#![allow(clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Map};
use tenantry_notifications::{route, sign, Channel, ChannelTarget, Event, Rule};

fn channels(n: usize) -> Vec<Channel> {
    (0..n)
        .map(|i| Channel {
            id: format!("nch_{i}"),
            name: format!("channel {i}"),
            enabled: true,
            target: ChannelTarget::Webhook {
                url: format!("https://hooks.example.com/{i}"),
                secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            },
            builtin: false,
            digest: None,
            created_at: None,
            updated_at: None,
            previous_secret: None,
        })
        .collect()
}

fn rules(n: usize, channels: usize) -> Vec<Rule> {
    (0..n)
        .map(|i| Rule {
            id: format!("nrl_{i}"),
            name: format!("rule {i}"),
            event: if i % 10 == 0 {
                "pipeline.run.failed".into()
            } else {
                format!("event.kind_{i}")
            },
            channel_ids: vec![format!("nch_{}", (i / 10) % channels)],
            filters: json!({ "pipeline_ids": ["pl_1", "pl_2", "pl_3"], "threshold": 10 })
                .as_object()
                .cloned()
                .unwrap_or_else(Map::new),
            enabled: true,
            builtin: false,
            created_at: None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let event = Event {
        id: "evt_01jq8test".into(),
        event_type: "pipeline.run.failed".into(),
        account_id: "acc_01jq8test".into(),
        occurred_at: "2026-11-25T00:00:00Z".into(),
        data: json!({ "pipeline_id": "pl_2", "value": 42, "severity": "high" }),
    };
    let chans = channels(20);
    let rules = rules(100, 20);
    assert_eq!(
        route(&event, &rules, &chans).len(),
        10,
        "every tenth rule matches"
    );
    c.bench_function("routing/100 rules, 20 channels, 10 matches", |b| {
        b.iter(|| route(black_box(&event), black_box(&rules), black_box(&chans)).len())
    });
    let body = vec![b'x'; 1024];
    c.bench_function("signing/standard webhooks, 1 KiB body", |b| {
        b.iter(|| {
            sign(
                black_box("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                "evt_01jq8test",
                1_764_000_000,
                black_box(&body),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
