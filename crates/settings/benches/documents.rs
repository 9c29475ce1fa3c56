//! The settings write path's pure parts: RFC 7396 merge of a 5 KiB document (seed 05 PATCH and
//! every merge-style PUT) and the validation of a whole billing section (currency, time zone
//! among ~600 names, country, 20 cost alerts). Run:
//! `cargo bench -p tenantry-settings --bench documents -- --warm-up-time 1 --measurement-time 3`.

#![allow(clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Map, Value};
use tenantry_settings::tenant::rfc7396_merge;
use tenantry_settings::{billing_document, Fields};

/// About 5 KiB of JSON: 50 groups of 5 settings each.
fn document() -> Value {
    let mut root = Map::new();
    for g in 0..50 {
        root.insert(
            format!("group_{g:02}"),
            json!({
                "enabled": g % 2 == 0,
                "threshold": g * 10,
                "label": format!("settings group number {g}"),
                "targets": ["alpha", "beta"],
                "owner": null,
            }),
        );
    }
    Value::Object(root)
}

fn billing() -> Value {
    let alerts: Vec<Value> = (1..=20)
        .map(|i| {
            let period = ["daily", "weekly", "monthly"][i % 3];
            json!({ "threshold": i * 50, "period": period, "enabled": true })
        })
        .collect();
    json!({
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "payment_method": { "type": "credit_card", "last_four": "4242", "expires": "12/29", "brand": "visa" },
        "billing_address": { "name": "Jane Doe", "company": "Acme", "address": "1 Main St", "city": "Berlin", "state": null, "zip": "10115", "country": "DE" },
        "auto_recharge": { "enabled": true, "threshold": 100, "amount": 500 },
        "cost_alerts": alerts,
    })
}

fn bench(c: &mut Criterion) {
    let doc = document();
    assert!(doc.to_string().len() >= 5 * 1024, "the document is 5 KiB");
    let patch = json!({
        "group_03": { "enabled": true, "owner": "ops" },
        "group_17": { "targets": ["gamma"], "label": null },
        "group_49": null,
        "group_50": { "enabled": false },
    });
    c.bench_function("merge_patch/rfc7396, 5 KiB document, 4-group patch", |b| {
        b.iter_batched(
            || doc.clone(),
            |mut target| {
                rfc7396_merge(&mut target, black_box(&patch));
                target
            },
            BatchSize::SmallInput,
        )
    });
    let billing = billing();
    c.bench_function("validate/billing section, 20 cost alerts", |b| {
        b.iter(|| {
            let mut fields = Fields::default();
            let parsed = billing_document::read(black_box(&billing), &mut fields);
            assert!(fields.errors.is_empty(), "{:?}", fields.errors);
            parsed
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
