//! Seed 01 writes: every curl example replayed, every validation rule, secrets, concurrency,
//! history and rollback.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

pub(crate) async fn body(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

const VISA: &str = r#"{"payment_method": {"type": "credit_card", "last_four": "4242", "expires": "12/29", "brand": "visa"}}"#;

async fn seed_curl_examples_replay_with_documented_status_and_shape(app: TestApp) {
    let key = app.owner_key().to_owned();
    // Update Notification Settings
    let (status, doc) = body(app.put("/v2/accounts/settings/notifications", &key, &json!({
        "email": {"enabled": true, "alerts": {"cost_alerts": true, "usage_warnings": true, "security_notifications": true, "system_updates": false}, "frequency": "daily_digest"},
        "slack": {"enabled": true, "webhook_url": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "channel": "#ai-alerts", "alerts": {"endpoint_failures": true, "cost_thresholds": true, "cluster_events": false}}
    })).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["email"]["frequency"], "daily_digest");
    assert_eq!(doc["slack"]["channel"], "#ai-alerts");
    assert_eq!(doc["slack"]["alerts"]["cluster_events"], false);
    assert_eq!(
        doc["email"]["alerts"]["marketing_emails"], false,
        "absent fields keep their value"
    );
    assert_eq!(
        doc["webhook"],
        json!({"enabled": false, "url": null, "events": [], "secret": null})
    );

    // Update Billing Settings: enabling auto-recharge needs a card on file first.
    let billing = json!({
        "currency": "EUR", "timezone": "Europe/London",
        "auto_recharge": {"enabled": true, "threshold": 75.00, "amount": 300.00},
        "cost_alerts": [{"threshold": 250.00, "period": "weekly", "enabled": true}, {"threshold": 1000.00, "period": "monthly", "enabled": true}]
    });
    let (status, err) = body(
        app.put("/v2/accounts/settings/billing", &key, &billing)
            .await,
    )
    .await;
    assert_eq!(status, 402, "{err}");
    assert_eq!(
        err,
        json!({"error": "PAYMENT_METHOD_REQUIRED", "message": "Valid payment method required for auto-recharge", "details": {"feature": "auto_recharge", "action": "add_payment_method"}})
    );
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/billing",
            &key,
            &serde_json::from_str(VISA).expect("json"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, doc) = body(
        app.put("/v2/accounts/settings/billing", &key, &billing)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["currency"], "EUR");
    assert_eq!(
        doc["auto_recharge"],
        json!({"enabled": true, "threshold": 75.0, "amount": 300.0})
    );
    assert_eq!(doc["cost_alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["payment_method"]["last_four"], "4242");

    // Update Security Settings
    let (status, doc) = body(app.put("/v2/accounts/settings/security", &key, &json!({
        "two_factor": {"enabled": true, "method": "totp"},
        "api_access": {"ip_whitelist": ["203.0.113.0/24", "198.51.100.0/24"], "require_ip_whitelist": false, "max_api_keys": 15},
        "session": {"timeout": 8, "require_reauth_for_sensitive": true, "concurrent_sessions": 2}
    })).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["api_access"]["ip_whitelist"],
        json!(["203.0.113.0/24", "198.51.100.0/24"])
    );
    assert_eq!(
        doc["session"],
        json!({"timeout": 8, "require_reauth_for_sensitive": true, "concurrent_sessions": 2})
    );
    assert_eq!(doc["audit"]["retention_days"], 90);

    // Configure Integrations
    let (status, doc) = body(app.put("/v2/accounts/settings/integrations", &key, &json!({
        "github": {"enabled": true, "access_token": "ghp_xxxxxxxxxxxxxxxxxxxx", "repositories": ["user/ml-models", "user/ai-research"]},
        "docker": {"enabled": true, "registries": [{"url": "registry.hub.docker.com", "username": "dockeruser", "access_token": "dckr_pat_xxxxxxxxxxxx"}]}
    })).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["github"],
        json!({"enabled": true, "username": null, "repositories": ["user/ml-models", "user/ai-research"]})
    );
    assert_eq!(
        doc["docker"]["registries"],
        json!([{"url": "registry.hub.docker.com", "username": "dockeruser"}])
    );

    // Update User Preferences
    let (status, doc) = body(app.put("/v2/accounts/settings/preferences", &key, &json!({
        "timezone": "Asia/Tokyo", "language": "ja", "theme": "light", "date_format": "YYYY/MM/DD", "number_format": "1.234,56", "default_region": "ap-northeast-1"
    })).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc,
        json!({"timezone": "Asia/Tokyo", "language": "ja", "theme": "light", "date_format": "YYYY/MM/DD", "number_format": "1.234,56", "default_region": "ap-northeast-1"})
    );

    // Get Account Settings reflects all of it.
    let all: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["billing"]["currency"], "EUR");
    assert_eq!(all["preferences"]["language"], "ja");
    assert_eq!(
        all["security"]["two_factor"],
        json!({"enabled": true, "method": "totp", "backup_codes": 0})
    );
}

async fn every_validation_rule_has_a_failing_case(app: TestApp) {
    let key = app.owner_key().to_owned();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "security",
            json!({"api_access": {"max_api_keys": 0}}),
            "api_access.max_api_keys",
        ),
        (
            "security",
            json!({"api_access": {"max_api_keys": 51}}),
            "api_access.max_api_keys",
        ),
        (
            "security",
            json!({"session": {"timeout": 0}}),
            "session.timeout",
        ),
        (
            "security",
            json!({"session": {"timeout": 169}}),
            "session.timeout",
        ),
        (
            "security",
            json!({"session": {"concurrent_sessions": 11}}),
            "session.concurrent_sessions",
        ),
        (
            "security",
            json!({"audit": {"retention_days": 29}}),
            "audit.retention_days",
        ),
        (
            "security",
            json!({"audit": {"retention_days": 366}}),
            "audit.retention_days",
        ),
        (
            "security",
            json!({"two_factor": {"method": "email"}}),
            "two_factor.method",
        ),
        (
            "security",
            json!({"two_factor": {"method": "sms"}}),
            "two_factor.method",
        ),
        ("billing", json!({"currency": "CHF"}), "currency"),
        ("billing", json!({"timezone": "Mars/Olympus"}), "timezone"),
        (
            "billing",
            json!({"billing_address": {"country": "XX"}}),
            "billing_address.country",
        ),
        (
            "billing",
            json!({"cost_alerts": [{"threshold": 0, "period": "weekly"}]}),
            "cost_alerts[0].threshold",
        ),
        (
            "billing",
            json!({"cost_alerts": [{"threshold": 10, "period": "hourly"}]}),
            "cost_alerts[0].period",
        ),
        (
            "billing",
            json!({"auto_recharge": {"threshold": -5}}),
            "auto_recharge.threshold",
        ),
        (
            "billing",
            json!({"auto_recharge": {"amount": 0}}),
            "auto_recharge.amount",
        ),
        ("preferences", json!({"language": "pt"}), "language"),
        ("preferences", json!({"theme": "blue"}), "theme"),
        (
            "preferences",
            json!({"date_format": "YYYY-MM-DD"}),
            "date_format",
        ),
        (
            "preferences",
            json!({"number_format": "1234.56"}),
            "number_format",
        ),
        (
            "preferences",
            json!({"default_region": "us-central-1"}),
            "default_region",
        ),
        (
            "preferences",
            json!({"timezone": "Nowhere/City"}),
            "timezone",
        ),
        (
            "notifications",
            json!({"email": {"frequency": "hourly"}}),
            "email.frequency",
        ),
        (
            "notifications",
            json!({"email": {"email": "not-an-email"}}),
            "email.email",
        ),
        // A missing URL stays a validation error; a refused one is INVALID_WEBHOOK_URL
        // (account_settings_conformance.rs).
        (
            "notifications",
            json!({"slack": {"enabled": true}}),
            "slack.webhook_url",
        ),
        (
            "notifications",
            json!({"webhook": {"events": ["no.such_event"]}}),
            "webhook.events[0]",
        ),
        (
            "notifications",
            json!({"email": {"enabled": "yes"}}),
            "email.enabled",
        ),
        (
            "integrations",
            json!({"github": {"repositories": ["not a repo"]}}),
            "github.repositories[0]",
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"url": "ftp://grafana"}}}),
            "monitoring.grafana.url",
        ),
    ];
    let before: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    for (section, patch, field) in cases {
        let (status, err) = body(
            app.put(&format!("/v2/accounts/settings/{section}"), &key, &patch)
                .await,
        )
        .await;
        assert_eq!(status, 422, "{section} {patch}: {err}");
        assert_eq!(err["error"], "VALIDATION_ERROR", "{err}");
        let fields: Vec<&str> = err["details"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{section} {patch}");
    }
    // Every refusal left everything as it was.
    let after: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(before, after);

    // Several problems at once are all named, with the allowed values.
    let (status, err) = body(
        app.put(
            "/v2/accounts/settings/preferences",
            &key,
            &json!({"language": "pt", "theme": "blue"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["details"]["fields"][0]["allowed"],
        json!(["en", "es", "fr", "de", "ja", "zh"])
    );
    assert_eq!(err["details"]["fields"][1]["field"], "theme");
    let (_, err) = body(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"max_api_keys": 99}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        err["details"]["fields"][0]["allowed"],
        json!({"minimum": 1.0, "maximum": 50.0})
    );
}

async fn passing_cases_and_null_clearing(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = body(app.put("/v2/accounts/settings/security", &key, &json!({"api_access": {"max_api_keys": 50}, "session": {"timeout": 1.5, "concurrent_sessions": 10}, "audit": {"retention_days": 365}})).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["session"]["timeout"], json!(1.5));
    let (status, doc) = body(app.put("/v2/accounts/settings/billing", &key, &json!({"billing_address": {"name": "John Doe", "country": "US"}, "cost_alerts": [{"threshold": 0.01, "period": "daily"}]})).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["cost_alerts"],
        json!([{"threshold": 0.01, "period": "daily", "enabled": true}])
    );
    let (status, doc) = body(
        app.put(
            "/v2/accounts/settings/billing",
            &key,
            &json!({"billing_address": {"name": null}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["billing_address"]["name"], Value::Null);
    assert_eq!(doc["billing_address"]["country"], "US");
    // null on a field that cannot be empty is a validation error, not a silent reset.
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/billing",
            &key,
            &json!({"currency": null}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
}

async fn invalid_ip_whitelist_lists_every_bad_entry(app: TestApp) {
    let (status, err) = body(app.put("/v2/accounts/settings/security", app.owner_key(), &json!({
        "api_access": {"ip_whitelist": ["10.0.0.0/8", "192.168.1.256/24", "invalid-ip", "2001:db8::/32"]}
    })).await).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"], "INVALID_IP_WHITELIST");
    assert_eq!(err["message"], "IP whitelist contains invalid CIDR blocks");
    assert_eq!(
        err["details"]["invalidEntries"],
        json!(["192.168.1.256/24", "invalid-ip"])
    );
    assert!(err["details"]["validFormat"].as_str().is_some());
    let all: Value = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["security"]["api_access"]["ip_whitelist"], json!([]));
}

async fn unknown_fields_are_rejected_never_dropped(app: TestApp) {
    for (section, patch, field) in [
        (
            "notifications",
            json!({"email": {"enabled": true, "colour": "red"}}),
            "email.colour",
        ),
        ("preferences", json!({"font": "serif"}), "font"),
        ("billing", json!({"webhook": {}}), "webhook"),
        (
            "integrations",
            json!({"github": {"access_token": {"$sealed": "v1.x.y"}}}),
            "$sealed",
        ),
    ] {
        let (status, err) = body(
            app.put(
                &format!("/v2/accounts/settings/{section}"),
                app.owner_key(),
                &patch,
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{section}: {err}");
        assert_eq!(err["error"], "UNKNOWN_FIELD");
        assert_eq!(err["details"]["fields"], json!([field]));
    }
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/nonsense",
            app.owner_key(),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}

async fn roles_gate_each_section(app: TestApp) {
    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let viewer = app.add_member(&account, "viewer");
    let admin = app.add_member(&account, "admin");

    let (status, err) = body(
        app.put(
            "/v2/accounts/settings/billing",
            &developer,
            &json!({"currency": "EUR"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        err,
        json!({"error": "INSUFFICIENT_PERMISSIONS", "message": "Billing settings require admin role", "details": {"requiredRole": "admin", "currentRole": "developer"}})
    );
    for section in ["security", "integrations"] {
        let (status, _) = body(
            app.put(
                &format!("/v2/accounts/settings/{section}"),
                &developer,
                &json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "{section}");
    }
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/notifications",
            &viewer,
            &json!({"email": {"frequency": "weekly_digest"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/notifications",
            &developer,
            &json!({"email": {"frequency": "weekly_digest"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = body(
        app.put(
            "/v2/accounts/settings/billing",
            &admin,
            &json!({"currency": "GBP"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    // Preferences are each member's own: a viewer edits theirs, nobody else's changes.
    let (status, doc) = body(
        app.put(
            "/v2/accounts/settings/preferences",
            &viewer,
            &json!({"theme": "dark"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["theme"], "dark");
    let owner: Value = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(owner["preferences"]["theme"], "auto");
    assert_eq!(owner["billing"]["currency"], "GBP");
}

async fn secrets_are_sealed_and_never_shown(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = body(
        app.put(
            "/v2/accounts/settings/integrations",
            &key,
            &json!({
                "github": {"enabled": true, "access_token": "ghp_TOPSECRETTOKEN123"},
                "monitoring": {"datadog": {"enabled": true, "api_key": "dd_api_key_TOPSECRET456"}}
            }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["monitoring"]["datadog"]["api_key"],
        json!({"configured": true})
    );
    let (status, doc) = body(app.put("/v2/accounts/settings/notifications", &key, &json!({
        "webhook": {"enabled": true, "url": "https://api.myapp.com/tensorone-webhook", "events": ["endpoint.failed", "cost.threshold_exceeded"], "secret": "webhook_secret_TOPSECRET789"}
    })).await).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["webhook"]["secret"], json!({"configured": true}));

    // A later write that does not mention the secret keeps it.
    let (_, doc) = body(
        app.put(
            "/v2/accounts/settings/notifications",
            &key,
            &json!({"webhook": {"events": ["endpoint.failed"]}}),
        )
        .await,
    )
    .await;
    assert_eq!(doc["webhook"]["secret"], json!({"configured": true}));

    let text = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .text()
        .await
        .expect("text");
    let stored = app.query_texts("SELECT document AS t FROM settings_documents UNION ALL SELECT document AS t FROM settings_history");
    let audit = app.query_texts("SELECT diff AS t FROM audit_log WHERE diff IS NOT NULL");
    for secret in ["TOPSECRETTOKEN123", "TOPSECRET456", "TOPSECRET789"] {
        assert!(!text.contains(secret), "GET shows {secret}");
        assert!(
            stored.iter().all(|d| !d.contains(secret)),
            "stored in clear: {secret}"
        );
        assert!(
            audit.iter().all(|d| !d.contains(secret)),
            "audit shows {secret}"
        );
        assert!(
            !app.server_log().await.contains(secret),
            "log shows {secret}"
        );
    }
    assert!(
        audit.iter().any(|d| d.contains("[secret]")),
        "the change of a secret is audited, masked"
    );

    // Clearing with null: the write succeeds, and a fresh read shows the secret gone.
    let (_, before) = body(
        app.get("/v2/accounts/settings/integrations", Some(&key))
            .await,
    )
    .await;
    assert_ne!(
        before["monitoring"]["datadog"]["api_key"],
        Value::Null,
        "a secret is configured before the clear: {before}"
    );
    let (status, doc) = body(
        app.put(
            "/v2/accounts/settings/integrations",
            &key,
            &json!({"monitoring": {"datadog": {"enabled": false, "api_key": null}}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["monitoring"]["datadog"]["api_key"], Value::Null);
    let (status, after) = body(
        app.get("/v2/accounts/settings/integrations", Some(&key))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        after["monitoring"]["datadog"]["api_key"],
        Value::Null,
        "{after}"
    );
}

on_both_backends!(
    seed_curl_examples_replay_with_documented_status_and_shape,
    every_validation_rule_has_a_failing_case,
    passing_cases_and_null_clearing,
    invalid_ip_whitelist_lists_every_bad_entry,
    unknown_fields_are_rejected_never_dropped,
    roles_gate_each_section,
    secrets_are_sealed_and_never_shown,
);
