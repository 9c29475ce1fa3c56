//! Seed 01 export and import: envelope, secrets, YAML, validate_only, all-or-nothing, round trip.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

async fn body(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

async fn import(app: &TestApp, key: &str, request: Value) -> (u16, Value) {
    body(
        app.client
            .post(app.url("/v2/accounts/settings/import"))
            .bearer_auth(key)
            .json(&request)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn configure_secrets(app: &TestApp) {
    let res = app.put("/v2/accounts/settings/integrations", app.owner_key(), &json!({
        "github": {"enabled": true, "access_token": "ghp_EXPORTSECRET1", "repositories": ["org/ml-models"]},
        "monitoring": {"datadog": {"enabled": true, "api_key": "dd_EXPORTSECRET2"}}
    })).await;
    assert_eq!(res.status(), 200);
    let res = app.put("/v2/accounts/settings/notifications", app.owner_key(), &json!({
        "webhook": {"enabled": true, "url": "https://cost-monitor.company.com/webhook", "events": ["cost.threshold_exceeded", "cost.budget_warning"], "secret": "whsec_EXPORTSECRET3"}
    })).await;
    assert_eq!(res.status(), 200);
}

async fn export_has_the_seed_envelope_and_hides_secrets(app: TestApp) {
    configure_secrets(&app).await;
    let (status, doc) = body(
        app.get(
            "/v2/accounts/settings/export?format=json&include_secrets=false",
            Some(app.owner_key()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let export = &doc["export"];
    assert_eq!(export["format"], "json");
    assert_eq!(export["include_secrets"], false);
    assert!(export["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(export["metadata"]["version"], "2.0");
    assert_eq!(
        export["metadata"]["account_id"],
        json!(app.default_account_id().await)
    );
    assert!(export["metadata"]["exported_by"]
        .as_str()
        .is_some_and(|u| u.starts_with("usr_")));
    let keys: Vec<&str> = export["settings"]
        .as_object()
        .expect("settings")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "notifications",
            "billing",
            "security",
            "integrations",
            "preferences"
        ]
    );
    assert_eq!(
        export["settings"]["integrations"]["github"]["access_token"],
        json!({"configured": true})
    );
    let text = doc.to_string();
    assert!(!text.contains("EXPORTSECRET"), "{text}");

    let (_, only) = body(
        app.get(
            "/v2/accounts/settings/export?sections=notifications,preferences",
            Some(app.owner_key()),
        )
        .await,
    )
    .await;
    let keys: Vec<&str> = only["export"]["settings"]
        .as_object()
        .expect("settings")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["notifications", "preferences"]);

    for bad in [
        "format=xml",
        "include_secrets=maybe",
        "sections=notifications,nope",
    ] {
        let res = app
            .get(
                &format!("/v2/accounts/settings/export?{bad}"),
                Some(app.owner_key()),
            )
            .await;
        assert_eq!(res.status(), 422, "{bad}");
    }

    let res = app
        .get(
            "/v2/accounts/settings/export?format=yaml",
            Some(app.owner_key()),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("content-type").expect("ct"),
        "application/yaml"
    );
    let yaml = res.text().await.expect("text");
    assert!(yaml.contains("include_secrets: false"), "{yaml}");
    assert!(!yaml.contains("EXPORTSECRET"));
}

async fn secrets_export_only_for_admins_and_is_audited(app: TestApp) {
    configure_secrets(&app).await;
    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let (status, err) = body(
        app.get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&developer),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        err["details"],
        json!({"requiredRole": "admin", "currentRole": "developer"})
    );
    // Without secrets, a developer may export.
    assert_eq!(
        app.get("/v2/accounts/settings/export", Some(&developer))
            .await
            .status(),
        200
    );

    let (status, doc) = body(
        app.get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(app.owner_key()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let s = &doc["export"]["settings"];
    assert_eq!(
        s["integrations"]["github"]["access_token"],
        "ghp_EXPORTSECRET1"
    );
    assert_eq!(
        s["integrations"]["monitoring"]["datadog"]["api_key"],
        "dd_EXPORTSECRET2"
    );
    assert_eq!(
        s["notifications"]["webhook"]["secret"],
        "whsec_EXPORTSECRET3"
    );
    let audited = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action = 'settings.exported_with_secrets'",
    );
    assert_eq!(audited.len(), 1);
    assert!(!app.server_log().await.contains("EXPORTSECRET"));
}

async fn validate_only_reports_and_changes_nothing(app: TestApp) {
    let key = app.owner_key().to_owned();
    let before = app.get("/v2/accounts/settings", Some(&key)).await;
    let etag = before.headers().get("etag").expect("etag").clone();
    let before: Value = before.json().await.expect("json");
    let (status, doc) = import(
        &app,
        &key,
        json!({
            "settings": {"preferences": {"theme": "dark"}, "security": {"session": {"timeout": 4}}},
            "merge_strategy": "merge",
            "validate_only": true
        }),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["import"]["validate_only"], true);
    assert_eq!(doc["import"]["applied"], false);
    let prefs = doc["import"]["sections"]["preferences"]["changes"]
        .as_array()
        .expect("changes");
    assert_eq!(
        prefs,
        &vec![json!({"path": "theme", "before": "auto", "after": "dark"})]
    );
    let sec = doc["import"]["sections"]["security"]["changes"]
        .as_array()
        .expect("changes");
    assert_eq!(
        sec,
        &vec![json!({"path": "absolute_session_minutes", "before": 1440, "after": 240})]
    );

    let after = app.get("/v2/accounts/settings", Some(&key)).await;
    assert_eq!(after.headers().get("etag").expect("etag"), &etag);
    assert_eq!(after.json::<Value>().await.expect("json"), before);
}

async fn an_import_with_one_invalid_section_changes_nothing(app: TestApp) {
    let key = app.owner_key().to_owned();
    let before: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let (status, err) = import(
        &app,
        &key,
        json!({
            "settings": {
                "notifications": {"email": {"frequency": "weekly_digest"}},
                "preferences": {"theme": "dark"},
                "billing": {"currency": "CHF"}
            }
        }),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["details"]["fields"][0]["field"], "billing.currency");
    let after: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after, before);

    let (status, err) = import(&app, &key, json!({"settings": {"nonsense": {}}})).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"], "UNKNOWN_FIELD");
    let (status, _) = import(
        &app,
        &key,
        json!({"settings": {"billing": {}}, "merge_strategy": "append"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, err) = import(&app, &key, json!({"settings": {"billing": {}}, "extra": 1})).await;
    assert_eq!(status, 400, "{err}");
}

async fn a_real_import_writes_every_section_at_once(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = import(
        &app,
        &key,
        json!({
            "settings": {
                "notifications": {"email": {"frequency": "weekly_digest"}},
                "preferences": {"theme": "dark", "language": "fr"},
                "security": {"api_access": {"ip_whitelist": ["198.51.100.0/24"]}}
            }
        }),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["import"]["applied"], true);
    assert_eq!(doc["import"]["sections"]["notifications"]["version"], 2);
    assert_eq!(doc["import"]["sections"]["security"]["version"], 2);
    let all: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["notifications"]["email"]["frequency"], "weekly_digest");
    assert_eq!(all["preferences"]["language"], "fr");
    assert_eq!(
        all["security"]["api_access"]["ip_whitelist"],
        json!(["198.51.100.0/24"])
    );

    // YAML, overwrite: absent fields return to their defaults.
    let yaml = "settings:\n  notifications:\n    slack:\n      channel: '#alerts'\nmerge_strategy: overwrite\n";
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/import"))
        .bearer_auth(&key)
        .header("content-type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let all: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(all["notifications"]["slack"]["channel"], "#alerts");
    assert_eq!(all["notifications"]["email"]["frequency"], "immediate");
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/import"))
        .bearer_auth(&key)
        .header("content-type", "application/yaml")
        .body("settings: [unclosed")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
}

/// Export then import of the same document changes nothing, whatever state the settings are in.
async fn export_then_import_is_a_no_op(app: TestApp) {
    let key = app.owner_key().to_owned();
    let states: Vec<(&str, Value)> = vec![
        (
            "preferences",
            json!({"timezone": "Asia/Tokyo", "theme": "light"}),
        ),
        (
            "billing",
            json!({"payment_method": {"type": "credit_card", "last_four": "4242", "expires": "12/29", "brand": "visa"}, "auto_recharge": {"enabled": true, "threshold": 10, "amount": 20.5}, "cost_alerts": [{"threshold": 99.99, "period": "monthly"}], "billing_address": {"country": "DE", "city": "Berlin"}}),
        ),
        (
            "security",
            json!({"api_access": {"ip_whitelist": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]}, "session": {"timeout": 1.5}}),
        ),
        (
            "integrations",
            json!({"github": {"enabled": true, "access_token": "ghp_ROUNDTRIP"}, "docker": {"registries": [{"url": "ghcr.io", "access_token": "tok"}]}}),
        ),
        (
            "notifications",
            json!({"webhook": {"enabled": true, "url": "https://example.com/h", "secret": "whsec_RT"}, "email": {"email": "ops@example.com"}}),
        ),
    ];
    for (section, patch) in states {
        let res = app
            .put(&format!("/v2/accounts/settings/{section}"), &key, &patch)
            .await;
        assert_eq!(res.status(), 200, "{section}");
        for include_secrets in [false, true] {
            for strategy in ["merge", "overwrite"] {
                let exported: Value = app
                    .get(
                        &format!("/v2/accounts/settings/export?include_secrets={include_secrets}"),
                        Some(&key),
                    )
                    .await
                    .json()
                    .await
                    .expect("json");
                let before_res = app.get("/v2/accounts/settings", Some(&key)).await;
                let before: Value = before_res.json().await.expect("json");
                let (status, doc) = import(
                    &app,
                    &key,
                    json!({"settings": exported["export"]["settings"], "merge_strategy": strategy}),
                )
                .await;
                assert_eq!(status, 200, "{section} {strategy} {include_secrets}: {doc}");
                for (name, outcome) in doc["import"]["sections"].as_object().expect("sections") {
                    let changes = outcome["changes"].as_array().expect("changes");
                    // Re-sealing a secret with the same value shows as a (masked) change of the
                    // ciphertext; nothing else may change.
                    assert!(
                        changes.iter().all(|c| c["after"] == "[secret]"),
                        "{section} {strategy} {include_secrets} {name}: {changes:?}"
                    );
                }
                let after: Value = app
                    .get("/v2/accounts/settings", Some(&key))
                    .await
                    .json()
                    .await
                    .expect("json");
                assert_eq!(after, before, "{section} {strategy} {include_secrets}");
            }
        }
    }
    // The secrets survived every round trip.
    let (_, exported) = body(
        app.get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&key),
        )
        .await,
    )
    .await;
    assert_eq!(
        exported["export"]["settings"]["integrations"]["github"]["access_token"],
        "ghp_ROUNDTRIP"
    );
    assert_eq!(
        exported["export"]["settings"]["notifications"]["webhook"]["secret"],
        "whsec_RT"
    );
}

on_both_backends!(
    export_has_the_seed_envelope_and_hides_secrets,
    secrets_export_only_for_admins_and_is_audited,
    validate_only_reports_and_changes_nothing,
    an_import_with_one_invalid_section_changes_nothing,
    a_real_import_writes_every_section_at_once,
    export_then_import_is_a_no_op,
);

async fn schemas_are_served_and_guard_imports(app: TestApp) {
    for section in [
        "notifications",
        "billing",
        "security",
        "integrations",
        "preferences",
    ] {
        let res = app
            .get(
                &format!("/v2/accounts/settings/schema/{section}"),
                Some(app.owner_key()),
            )
            .await;
        assert_eq!(res.status(), 200, "{section}");
        assert_eq!(
            res.headers().get("content-type").expect("ct"),
            "application/schema+json"
        );
        let schema: Value = res.json().await.expect("json");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["additionalProperties"], false);
    }
    let security: Value = app
        .get(
            "/v2/accounts/settings/schema/security",
            Some(app.owner_key()),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        security["properties"]["api_access"]["properties"]["max_api_keys"],
        json!({"type": "integer", "minimum": 1, "maximum": 50})
    );
    assert_eq!(
        app.get("/v2/accounts/settings/schema/nope", Some(app.owner_key()))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get("/v2/accounts/settings/schema/billing", None)
            .await
            .status(),
        401
    );

    // An import the schema refuses names every violation, across sections, and changes nothing.
    let (status, err) = import(
        &app,
        app.owner_key(),
        json!({"settings": {
            "billing": {"cost_alerts": [{"threshold": 5, "period": "hourly"}]},
            "preferences": {"theme": "neon"}
        }}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["billing.cost_alerts[0].period", "preferences.theme"]
    );
}

on_both_backends!(schemas_are_served_and_guard_imports);

async fn unknown_fields_in_an_import_are_400_like_put(app: TestApp) {
    let (status, err) = import(
        &app,
        app.owner_key(),
        json!({"settings": {"security": {"session": {"idle": 5}}}}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "UNKNOWN_FIELD");
    assert_eq!(err["details"]["fields"], json!(["security.session.idle"]));
}

on_both_backends!(unknown_fields_in_an_import_are_400_like_put);

/// The export document is accepted by import as it is: into the same account it changes
/// nothing; into another account, the secrets it could only show as configured are left unset
/// there and named in `import.warnings`, everything else is taken.
async fn an_export_imports_as_it_is_here_and_elsewhere(app: TestApp) {
    configure_secrets(&app).await;
    let owner = app.owner_key().to_owned();
    let (status, export) = body(app.get("/v2/accounts/settings/export", Some(&owner)).await).await;
    assert_eq!(status, 200, "{export}");
    let versions = app.query_texts("SELECT CAST(COUNT(*) AS TEXT) AS t FROM settings_history");
    let (status, doc) = import(&app, &owner, export.clone()).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["import"]["warnings"], json!([]), "{doc}");
    assert_eq!(
        app.query_texts("SELECT CAST(COUNT(*) AS TEXT) AS t FROM settings_history"),
        versions,
        "the same document again writes nothing"
    );

    let other = app.create_account("other", "owner@other.test").await;
    let other_key = other["owner_api_key"].as_str().expect("key").to_owned();
    let (status, doc) = import(&app, &other_key, export).await;
    assert_eq!(status, 200, "{doc}");
    let mut warned: Vec<String> = doc["import"]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["field"].as_str().expect("field").to_owned())
        .collect();
    warned.sort();
    assert_eq!(
        warned,
        [
            "integrations.github.access_token",
            "integrations.monitoring.datadog.api_key",
            "notifications.webhook.secret",
        ],
        "{doc}"
    );
    let (_, settings) = body(app.get("/v2/accounts/settings", Some(&other_key)).await).await;
    assert_eq!(
        settings["notifications"]["webhook"]["url"],
        "https://cost-monitor.company.com/webhook"
    );
    assert_eq!(settings["notifications"]["webhook"]["secret"], Value::Null);
    assert_eq!(
        settings["notifications"]["webhook"]["enabled"], false,
        "a webhook without its signing secret does not run"
    );
    assert_eq!(
        settings["integrations"]["monitoring"]["datadog"]["enabled"],
        false
    );
    // Both documents at once, or neither, is a clear refusal.
    let (status, _) = import(
        &app,
        &other_key,
        json!({ "settings": {}, "export": {"settings": {}} }),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = import(&app, &other_key, json!({})).await;
    assert_eq!(status, 422);
}

on_both_backends!(an_export_imports_as_it_is_here_and_elsewhere);
