//! Host-reported usage feeds the billing section's cost alerts and auto-recharge: a weekly
//! threshold fires once in the week it is crossed and again the next week; a budget warning
//! fires at 80 %; a balance falling below the auto-recharge threshold requests a recharge once
//! per fall. The events reach a real webhook receiver through the rules.

use std::time::Duration;

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, Receiver, TestApp};

const USAGE: &str = "/v2/accounts/usage";

on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"), ("TENANTRY_OUTBOX_POLL_MS", "50")];
    cost_alerts_fire_once_per_period_and_recharges_once_per_fall);

async fn post(app: &TestApp, records: Value) -> Value {
    let (status, doc) = call(
        app,
        Method::POST,
        USAGE,
        app.owner_key(),
        Some(json!({ "records": records })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

fn fired(doc: &Value) -> Vec<String> {
    doc["alerts_fired"]
        .as_array()
        .expect("alerts_fired")
        .iter()
        .map(|a| a["type"].as_str().expect("type").to_owned())
        .collect()
}

async fn cost_alerts_fire_once_per_period_and_recharges_once_per_fall(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let res = app.put("/v2/accounts/settings/billing", &owner, &json!({
        "payment_method": { "type": "credit_card", "last_four": "4242", "expires": "12/29", "brand": "visa" },
        "auto_recharge": { "enabled": true, "threshold": 50.0, "amount": 100.0 },
        "cost_alerts": [ { "threshold": 250.0, "period": "weekly", "enabled": true } ],
    })).await;
    assert_eq!(res.status(), 200);
    let receiver = Receiver::start(200, "ok").await;
    let (status, channel) = call(&app, Method::POST, "/api/notifications/channels", &owner, Some(json!({
        "type": "webhook", "name": "billing", "config": { "url": format!("{}/billing", receiver.url) }
    }))).await;
    assert_eq!(status, 201, "{channel}");
    let id = channel["data"]["id"].as_str().expect("id");
    for event in [
        "cost.threshold_exceeded",
        "cost.budget_warning",
        "billing.auto_recharge_requested",
        "sentinel.delivered",
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/api/notifications/rules",
            &owner,
            Some(json!({
                "name": event, "event": event, "channel_ids": [id]
            })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }

    // Two weeks ago (UTC is the billing time zone by default): Monday 00:00 of that week.
    let two_weeks_ago = Utc::now() - chrono::Duration::days(14);
    let monday = (two_weeks_ago
        - chrono::Duration::days(i64::from(two_weeks_ago.weekday().num_days_from_monday())))
    .date_naive()
    .and_hms_opt(12, 0, 0)
    .expect("noon")
    .and_utc();
    let day = |n: i64| (monday + chrono::Duration::days(n)).to_rfc3339();

    let doc = post(&app, json!([{ "id": "u-a", "cost": 100.0, "occurred_at": day(0) }, { "id": "u-b", "cost": 100.0, "occurred_at": day(1) }])).await;
    assert_eq!(
        fired(&doc),
        ["cost.budget_warning"],
        "200 of 250 is 80 %: {doc}"
    );
    let doc = post(
        &app,
        json!([{ "id": "u-c", "cost": 100.0, "occurred_at": day(2) }]),
    )
    .await;
    assert_eq!(fired(&doc), ["cost.threshold_exceeded"], "{doc}");
    assert_eq!(doc["alerts_fired"][0]["total"], 300.0);
    let doc = post(
        &app,
        json!([{ "id": "u-d", "cost": 50.0, "occurred_at": day(3) }]),
    )
    .await;
    assert!(fired(&doc).is_empty(), "once per week: {doc}");
    let doc = post(
        &app,
        json!([{ "id": "u-c", "cost": 100.0, "occurred_at": day(2) }]),
    )
    .await;
    assert_eq!(
        (doc["recorded"].clone(), doc["duplicates"].clone()),
        (json!(0), json!(1))
    );
    // The next week starts from zero.
    let doc = post(
        &app,
        json!([{ "id": "u-e", "cost": 300.0, "occurred_at": day(8) }]),
    )
    .await;
    assert_eq!(
        fired(&doc),
        ["cost.budget_warning", "cost.threshold_exceeded"],
        "{doc}"
    );

    // Auto-recharge: once when the balance falls below 50, not again while it stays below.
    let doc = post(&app, json!([{ "id": "b-1", "cost": 0.0, "balance": 40.0 }])).await;
    assert_eq!(
        doc["auto_recharge_requested"],
        json!({ "amount": 100.0 }),
        "{doc}"
    );
    let doc = post(&app, json!([{ "id": "b-2", "cost": 0.0, "balance": 30.0 }])).await;
    assert_eq!(doc["auto_recharge_requested"], Value::Null);
    post(
        &app,
        json!([{ "id": "b-3", "cost": 0.0, "balance": 140.0 }]),
    )
    .await;
    let doc = post(&app, json!([{ "id": "b-4", "cost": 0.0, "balance": 20.0 }])).await;
    assert_eq!(doc["auto_recharge_requested"], json!({ "amount": 100.0 }));

    // Six events, each delivered once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = receiver.received().await.len();
        if got >= 6 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "got {got} of 6 deliveries"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // No duplicates: a sentinel event sent after the six arrives, and by then any second copy of
    // them would have too (the outbox delivers in order).
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/notifications/events",
        &owner,
        Some(json!({ "event": "sentinel.delivered", "data": {} })),
    )
    .await;
    assert!((200..300).contains(&status), "{doc}");
    let is_sentinel = |r: &crate::support::Received| r.body.contains("sentinel.delivered");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !receiver.received().await.iter().any(is_sentinel) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sentinel never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got: Vec<_> = receiver
        .received()
        .await
        .into_iter()
        .filter(|r| !is_sentinel(r))
        .collect();
    assert_eq!(got.len(), 6, "no duplicates");
    let types: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("json")["type"]
                .as_str()
                .expect("type")
                .to_owned()
        })
        .collect();
    for (kind, n) in [
        ("cost.budget_warning", 2),
        ("cost.threshold_exceeded", 2),
        ("billing.auto_recharge_requested", 2),
    ] {
        assert_eq!(
            types.iter().filter(|t| *t == kind).count(),
            n,
            "{kind}: {types:?}"
        );
    }
    let recharge = got
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).expect("json"))
        .find(|b| b["type"] == "billing.auto_recharge_requested")
        .expect("recharge");
    assert_eq!(recharge["data"]["amount"], 100.0);
    assert_eq!(recharge["data"]["currency"], "USD");

    // Bad input is refused whole; only admins report usage.
    for records in [
        json!([]),
        json!([{ "id": "x", "cost": -1.0 }]),
        json!([{ "id": "bad id", "cost": 1.0 }]),
        json!([{ "id": "y", "cost": 1.0, "occurred_at": "2999-01-01T00:00:00Z" }]),
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            USAGE,
            &owner,
            Some(json!({ "records": records })),
        )
        .await;
        assert_eq!(status, 422, "{records}: {doc}");
    }
    let account = app.default_account_id().await;
    let dev = app.add_member(&account, "developer");
    let (status, _) = call(
        &app,
        Method::POST,
        USAGE,
        &dev,
        Some(json!({ "records": [{ "id": "z", "cost": 1.0 }] })),
    )
    .await;
    assert_eq!(status, 403);
}

/// Amounts are exact (decision 0025): ten costs of 0.1 reach a threshold of 1 (in floating
/// point they sum to 0.9999999999999999 and never would), and an amount with more than six
/// decimals is refused rather than rounded.
async fn amounts_add_up_exactly(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            &owner,
            &json!({ "cost_alerts": [ { "threshold": 1.0, "period": "daily", "enabled": true } ] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut seen = Vec::new();
    for i in 0..10 {
        let doc = post(&app, json!([{ "id": format!("tenth-{i}"), "cost": 0.1 }])).await;
        seen.extend(fired(&doc));
        if i == 9 {
            assert_eq!(doc["alerts_fired"][0]["total"], json!(1.0), "{doc}");
        }
    }
    assert_eq!(seen, ["cost.budget_warning", "cost.threshold_exceeded"]);
    let (status, doc) = call(
        &app,
        Method::POST,
        USAGE,
        &owner,
        Some(json!({ "records": [{ "id": "fine", "cost": 0.0000001 }] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/billing",
        &owner,
        Some(json!({ "cost_alerts": [ { "threshold": 0.1234567, "period": "daily" } ] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
}

on_both_backends!(amounts_add_up_exactly);

/// Usage reports are refused in the account settings API's error shape, naming the record at
/// fault under `records` (the service's checks and the handler's parsing alike), and a role
/// below admin is refused before anything is recorded.
async fn usage_refusals_keep_the_account_settings_error_bodies(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let refusal = |message: &str| {
        json!({
            "error": "VALIDATION_ERROR",
            "message": "Invalid value for records",
            "details": { "fields": [ { "field": "records", "message": message } ] },
        })
    };
    for (records, message) in [
        (json!([]), "must hold 1-1000 records"),
        (
            json!([{ "id": "ok", "cost": 1.0 }, { "id": "x", "cost": -1.0 }]),
            "records[1].cost must be 0-1000000000",
        ),
        (
            json!([{ "id": "bad id", "cost": 1.0 }]),
            "records[0].id must be 1-128 characters of letters, digits, `.`, `_`, `:` or `-`",
        ),
        (
            json!([{ "id": "y", "cost": 1.0, "occurred_at": "2999-01-01T00:00:00Z" }]),
            "records[0].occurred_at is in the future",
        ),
        (
            json!([{ "id": "z", "cost": 0.0000001 }]),
            "records[0].cost must have at most 6 digits after the decimal point",
        ),
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            USAGE,
            &owner,
            Some(json!({ "records": records })),
        )
        .await;
        assert_eq!((status, doc), (422, refusal(message)), "{records}");
    }
    let account = app.default_account_id().await;
    for role in ["developer", "viewer"] {
        let key = app.add_member(&account, role);
        let (status, doc) = call(
            &app,
            Method::POST,
            USAGE,
            &key,
            Some(json!({ "records": [{ "id": "z", "cost": 1.0 }] })),
        )
        .await;
        assert_eq!(status, 403, "{role}: {doc}");
        assert_eq!(doc["error"], "INSUFFICIENT_PERMISSIONS", "{role}: {doc}");
        assert_eq!(doc["details"]["requiredRole"], "admin", "{role}: {doc}");
    }
    // Nothing refused was recorded: the same ids are new to a report the owner may make.
    let doc = post(
        &app,
        json!([{ "id": "ok", "cost": 1.0 }, { "id": "z", "cost": 1.0 }]),
    )
    .await;
    assert_eq!(
        (doc["recorded"].clone(), doc["duplicates"].clone()),
        (json!(2), json!(0))
    );
}

on_both_backends!(usage_refusals_keep_the_account_settings_error_bodies);
