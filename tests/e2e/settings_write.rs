//! Seed 01 writes: every curl example replayed, every validation rule, secrets, concurrency,
//! history and rollback.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

async fn body(res: reqwest::Response) -> (u16, Value) {
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

async fn if_match_prevents_lost_updates(app: TestApp) {
    let key = app.owner_key().to_owned();
    let res = app.get("/v2/accounts/settings/security", Some(&key)).await;
    let etag = res
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    let put = |value: u32| {
        let req = app
            .client
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&key)
            .header("if-match", &etag)
            .json(&json!({"api_access": {"max_api_keys": value}}));
        async move { req.send().await.expect("request").status().as_u16() }
    };
    let (a, b) = tokio::join!(put(11), put(12));
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);

    let (status, err) = body(
        app.client
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&key)
            .header("if-match", &etag)
            .json(&json!({}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(err["error"], "VERSION_CONFLICT");
    assert_eq!(err["details"]["currentVersion"], 2);

    // The whole-document ETag works for any section too.
    let res = app.get("/v2/accounts/settings", Some(&key)).await;
    let doc_etag = res
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    let res = app
        .client
        .put(app.url("/v2/accounts/settings/billing"))
        .bearer_auth(&key)
        .header("if-match", &doc_etag)
        .json(&json!({"currency": "JPY"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/v2/accounts/settings/billing"))
        .bearer_auth(&key)
        .header("if-match", "garbage")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
}

/// 50 concurrent writers, each changing a different field, without If-Match: every change lands.
async fn concurrent_writes_to_different_fields_all_land(app: TestApp) {
    let key = app.owner_key().to_owned();
    let writes: Vec<(&str, Value, &str, Value)> = vec![
        (
            "notifications",
            json!({"email": {"enabled": false}}),
            "/notifications/email/enabled",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"cost_alerts": false}}}),
            "/notifications/email/alerts/cost_alerts",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"usage_warnings": false}}}),
            "/notifications/email/alerts/usage_warnings",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"security_notifications": false}}}),
            "/notifications/email/alerts/security_notifications",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"system_updates": true}}}),
            "/notifications/email/alerts/system_updates",
            json!(true),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"marketing_emails": true}}}),
            "/notifications/email/alerts/marketing_emails",
            json!(true),
        ),
        (
            "notifications",
            json!({"email": {"frequency": "weekly_digest"}}),
            "/notifications/email/frequency",
            json!("weekly_digest"),
        ),
        (
            "notifications",
            json!({"email": {"email": "ops@example.com"}}),
            "/notifications/email/email",
            json!("ops@example.com"),
        ),
        (
            "notifications",
            json!({"slack": {"channel": "#ops"}}),
            "/notifications/slack/channel",
            json!("#ops"),
        ),
        (
            "notifications",
            json!({"slack": {"webhook_url": "https://hooks.slack.com/services/T1/B1/X1"}}),
            "/notifications/slack/webhook_url",
            json!({"configured": true}),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"endpoint_failures": false}}}),
            "/notifications/slack/alerts/endpoint_failures",
            json!(false),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"cost_thresholds": false}}}),
            "/notifications/slack/alerts/cost_thresholds",
            json!(false),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"cluster_events": false}}}),
            "/notifications/slack/alerts/cluster_events",
            json!(false),
        ),
        (
            "notifications",
            json!({"webhook": {"url": "https://hooks.example.com/x"}}),
            "/notifications/webhook/url",
            json!("https://hooks.example.com/x"),
        ),
        (
            "notifications",
            json!({"webhook": {"events": ["cluster.event"]}}),
            "/notifications/webhook/events",
            json!(["cluster.event"]),
        ),
        (
            "notifications",
            json!({"webhook": {"secret": "s3cr3t-value"}}),
            "/notifications/webhook/secret",
            json!({"configured": true}),
        ),
        (
            "billing",
            json!({"currency": "GBP"}),
            "/billing/currency",
            json!("GBP"),
        ),
        (
            "billing",
            json!({"timezone": "Europe/Paris"}),
            "/billing/timezone",
            json!("Europe/Paris"),
        ),
        (
            "billing",
            json!({"billing_address": {"name": "N"}}),
            "/billing/billing_address/name",
            json!("N"),
        ),
        (
            "billing",
            json!({"billing_address": {"company": "C"}}),
            "/billing/billing_address/company",
            json!("C"),
        ),
        (
            "billing",
            json!({"billing_address": {"address": "A"}}),
            "/billing/billing_address/address",
            json!("A"),
        ),
        (
            "billing",
            json!({"billing_address": {"city": "Ci"}}),
            "/billing/billing_address/city",
            json!("Ci"),
        ),
        (
            "billing",
            json!({"billing_address": {"state": "S"}}),
            "/billing/billing_address/state",
            json!("S"),
        ),
        (
            "billing",
            json!({"billing_address": {"zip": "Z"}}),
            "/billing/billing_address/zip",
            json!("Z"),
        ),
        (
            "billing",
            json!({"billing_address": {"country": "FR"}}),
            "/billing/billing_address/country",
            json!("FR"),
        ),
        (
            "billing",
            json!({"cost_alerts": [{"threshold": 5, "period": "daily"}]}),
            "/billing/cost_alerts/0/threshold",
            json!(5.0),
        ),
        (
            "security",
            json!({"two_factor": {"enabled": true}}),
            "/security/two_factor/enabled",
            json!(true),
        ),
        (
            "security",
            json!({"two_factor": {"method": "totp"}}),
            "/security/two_factor/method",
            json!("totp"),
        ),
        (
            "security",
            json!({"api_access": {"max_api_keys": 7}}),
            "/security/api_access/max_api_keys",
            json!(7),
        ),
        (
            "security",
            json!({"api_access": {"ip_whitelist": ["10.1.0.0/16"]}}),
            "/security/api_access/ip_whitelist",
            json!(["10.1.0.0/16"]),
        ),
        (
            "security",
            json!({"session": {"timeout": 12}}),
            "/security/session/timeout",
            json!(12),
        ),
        (
            "security",
            json!({"session": {"require_reauth_for_sensitive": false}}),
            "/security/session/require_reauth_for_sensitive",
            json!(false),
        ),
        (
            "security",
            json!({"session": {"concurrent_sessions": 9}}),
            "/security/session/concurrent_sessions",
            json!(9),
        ),
        (
            "security",
            json!({"audit": {"log_api_requests": false}}),
            "/security/audit/log_api_requests",
            json!(false),
        ),
        (
            "security",
            json!({"audit": {"log_resource_access": false}}),
            "/security/audit/log_resource_access",
            json!(false),
        ),
        (
            "security",
            json!({"audit": {"retention_days": 200}}),
            "/security/audit/retention_days",
            json!(200),
        ),
        (
            "integrations",
            json!({"github": {"enabled": true}}),
            "/integrations/github/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"github": {"username": "octo"}}),
            "/integrations/github/username",
            json!("octo"),
        ),
        (
            "integrations",
            json!({"github": {"repositories": ["octo/repo"]}}),
            "/integrations/github/repositories",
            json!(["octo/repo"]),
        ),
        (
            "integrations",
            json!({"docker": {"enabled": true}}),
            "/integrations/docker/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"docker": {"registries": [{"url": "ghcr.io"}]}}),
            "/integrations/docker/registries/0/url",
            json!("ghcr.io"),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"enabled": true}}}),
            "/integrations/monitoring/grafana/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"url": "https://grafana.example.com"}}}),
            "/integrations/monitoring/grafana/url",
            json!("https://grafana.example.com/"),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"dashboard_id": "dash-1"}}}),
            "/integrations/monitoring/grafana/dashboard_id",
            json!("dash-1"),
        ),
        (
            "preferences",
            json!({"timezone": "Asia/Tokyo"}),
            "/preferences/timezone",
            json!("Asia/Tokyo"),
        ),
        (
            "preferences",
            json!({"language": "de"}),
            "/preferences/language",
            json!("de"),
        ),
        (
            "preferences",
            json!({"theme": "dark"}),
            "/preferences/theme",
            json!("dark"),
        ),
        (
            "preferences",
            json!({"date_format": "DD/MM/YYYY"}),
            "/preferences/date_format",
            json!("DD/MM/YYYY"),
        ),
        (
            "preferences",
            json!({"number_format": "1 234,56"}),
            "/preferences/number_format",
            json!("1 234,56"),
        ),
        (
            "preferences",
            json!({"default_region": "eu-west-1"}),
            "/preferences/default_region",
            json!("eu-west-1"),
        ),
    ];
    assert_eq!(writes.len(), 50);
    let results = join_vec(
        writes
            .iter()
            .map(|(section, patch, _, _)| {
                let req = app
                    .client
                    .put(app.url(&format!("/v2/accounts/settings/{section}")))
                    .bearer_auth(&key)
                    .json(patch);
                Box::pin(async move { req.send().await.expect("request").status().as_u16() })
            })
            .collect(),
    )
    .await;
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    let doc: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    for (_, _, pointer, expected) in &writes {
        assert_eq!(doc.pointer(pointer), Some(expected), "{pointer}");
    }
}

/// Drives all futures concurrently on this task (no extra dependency for `join_all`).
async fn join_vec<F: std::future::Future<Output = u16> + Unpin>(mut futures: Vec<F>) -> Vec<u16> {
    let mut results = vec![None; futures.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if results[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(|r| r.unwrap_or(0)).collect()
}

async fn history_and_rollback_restore_exact_documents(app: TestApp) {
    let key = app.owner_key().to_owned();
    let original = app
        .get("/v2/accounts/settings/security", Some(&key))
        .await
        .json::<Value>()
        .await
        .expect("json");
    let (_, v2) = body(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["10.0.0.0/8"], "max_api_keys": 5}}),
        )
        .await,
    )
    .await;
    let (_, v3) = body(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["192.0.2.0/24"]}, "session": {"timeout": 2}}),
        )
        .await,
    )
    .await;
    assert_ne!(v2, v3);

    let history: Value = app
        .get("/v2/accounts/settings/security/history", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let versions: Vec<i64> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["version"].as_i64())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let v2_changes = &history["history"][1]["changes"];
    assert!(
        v2_changes
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["path"] == "max_api_keys" && c["after"] == 5),
        "{v2_changes}"
    );
    assert!(history["history"][0]["updated_by"]
        .as_str()
        .is_some_and(|u| u.starts_with("usr_")));
    let page: Value = app
        .get("/v2/accounts/settings/security/history?limit=2", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["history"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("next page");
    let rest: Value = app
        .get(
            &format!("/v2/accounts/settings/security/history?limit=2&cursor={cursor}"),
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rest["history"][0]["version"], 1);

    let (status, doc) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 2}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc, v2);
    let (status, doc) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 1}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let mut expected = original.clone();
    expected["two_factor"]
        .as_object_mut()
        .expect("object")
        .remove("backup_codes");
    assert_eq!(doc, expected);
    let res = app.get("/v2/accounts/settings/security", Some(&key)).await;
    assert_eq!(
        res.headers().get("etag").expect("etag"),
        "\"s5\"",
        "a rollback is a new version"
    );
    let (status, _) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 99}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 404);
}

on_both_backends!(
    seed_curl_examples_replay_with_documented_status_and_shape,
    every_validation_rule_has_a_failing_case,
    passing_cases_and_null_clearing,
    invalid_ip_whitelist_lists_every_bad_entry,
    unknown_fields_are_rejected_never_dropped,
    roles_gate_each_section,
    secrets_are_sealed_and_never_shown,
    if_match_prevents_lost_updates,
    concurrent_writes_to_different_fields_all_land,
    history_and_rollback_restore_exact_documents,
);
