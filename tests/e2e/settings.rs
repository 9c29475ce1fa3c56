use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

/// The structure (keys, recursively; arrays by their element shape) of a JSON value.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        _ => json!(null),
    }
}

/// Seed 01's `GET /v2/accounts/settings` example, with values replaced by null: the fields a
/// client of seed 01 relies on.
fn seed_shape() -> Value {
    shape(&json!({
        "notifications": {
            "email": {
                "enabled": 1,
                "alerts": {"cost_alerts": 1, "usage_warnings": 1, "security_notifications": 1, "system_updates": 1, "marketing_emails": 1},
                "frequency": 1,
                "email": 1
            },
            "slack": {"enabled": 1, "webhook_url": 1, "channel": 1, "alerts": {"endpoint_failures": 1, "cost_thresholds": 1, "cluster_events": 1}},
            "webhook": {"enabled": 1, "url": 1, "events": 1, "secret": 1}
        },
        "billing": {
            "currency": 1,
            "timezone": 1,
            "payment_method": 1,
            "billing_address": {"name": 1, "company": 1, "address": 1, "city": 1, "state": 1, "zip": 1, "country": 1},
            "auto_recharge": {"enabled": 1, "threshold": 1, "amount": 1},
            "cost_alerts": 1
        },
        "security": {
            "two_factor": {"enabled": 1, "method": 1, "backup_codes": 1},
            // Plus the one field Tenantry adds to the seed's document: the account's own
            // portal return origins (decision 0030).
            "api_access": {"ip_whitelist": 1, "require_ip_whitelist": 1, "max_api_keys": 1, "portal_return_origins": 1},
            "session": {"timeout": 1, "require_reauth_for_sensitive": 1, "concurrent_sessions": 1},
            "audit": {"log_api_requests": 1, "log_resource_access": 1, "retention_days": 1}
        },
        "integrations": {
            "github": {"enabled": 1, "username": 1, "repositories": 1},
            "docker": {"enabled": 1, "registries": 1},
            "monitoring": {"datadog": {"enabled": 1, "api_key": 1}, "grafana": {"enabled": 1, "url": 1, "dashboard_id": 1}}
        },
        "preferences": {"timezone": 1, "language": 1, "theme": 1, "date_format": 1, "number_format": 1, "default_region": 1}
    }))
}

async fn settings_document_has_the_seed_shape_and_defaults(app: TestApp) {
    let res = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await;
    assert_eq!(res.status(), 200);
    let etag = res
        .headers()
        .get("etag")
        .expect("ETag header")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong validator: {etag}"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(shape(&body), seed_shape());

    // API-MAP.md defaults, in seed 01's units.
    assert_eq!(body["security"]["session"]["timeout"], json!(24));
    assert_eq!(body["security"]["session"]["concurrent_sessions"], json!(5));
    assert_eq!(body["security"]["api_access"]["max_api_keys"], json!(20));
    assert_eq!(body["security"]["api_access"]["ip_whitelist"], json!([]));
    assert_eq!(
        body["security"]["api_access"]["require_ip_whitelist"],
        json!(false)
    );
    assert_eq!(body["security"]["audit"]["retention_days"], json!(90));
    assert_eq!(
        body["security"]["two_factor"],
        json!({"enabled": false, "method": "totp", "backup_codes": 0})
    );
    assert_eq!(body["preferences"]["theme"], json!("auto"));
    assert_eq!(body["preferences"]["timezone"], json!("UTC"));
    assert_eq!(body["preferences"]["default_region"], json!("us-east-1"));
    assert_eq!(body["billing"]["currency"], json!("USD"));
    assert_eq!(body["notifications"]["webhook"]["secret"], Value::Null);

    // Same state, same validator.
    let again = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await;
    assert_eq!(
        again
            .headers()
            .get("etag")
            .expect("etag")
            .to_str()
            .expect("ascii"),
        etag
    );
}

async fn stored_state_shows_through_and_changes_the_etag(app: TestApp) {
    let before = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await;
    let etag_before = before
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    let account: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    let account_id = account["accounts"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // No write endpoint exists yet for these; set them in the database as a later issue will.
    app.db.execute(&format!(
        "INSERT INTO ip_allowlist_entries (id, account_id, cidr, label, created_at) \
         VALUES ('ipw_01jd0000000000000000000000', '{account_id}', '203.0.113.0/24', 'office', 1)"
    ));
    app.db.execute(&format!(
        "UPDATE settings_documents SET document = '{{\"absolute_session_minutes\": 90, \"ip_allowlist_enforced\": false}}', version = 2 \
         WHERE account_id = '{account_id}' AND section = 'security'"
    ));
    // Written behind the service's back (as another instance would): read snapshots show it
    // within their 2 s bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let res = loop {
        let res = app
            .get("/v2/accounts/settings", Some(app.owner_key()))
            .await;
        let etag = res
            .headers()
            .get("etag")
            .expect("etag")
            .to_str()
            .expect("ascii")
            .to_owned();
        if etag != etag_before {
            break res;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the change never showed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["security"]["api_access"]["ip_whitelist"],
        json!(["203.0.113.0/24"])
    );
    // 90 minutes read in seed 01's hours, exactly.
    assert_eq!(body["security"]["session"]["timeout"], json!(1.5));
    // Fields absent from the stored document keep their defaults.
    assert_eq!(body["security"]["api_access"]["max_api_keys"], json!(20));
}

on_both_backends!(
    settings_document_has_the_seed_shape_and_defaults,
    stored_state_shows_through_and_changes_the_etag,
);
