//! Seed 03's organization half, and its fields through seeds 01 and 05.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

async fn organization_settings_examples_replay(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(&app, reqwest::Method::GET, "/api/settings", &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        json!({"data": {"default_timezone": "UTC", "require_sso": false, "data_residency": "us"}})
    );

    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings",
        &key,
        // `require_sso: true` is refused while there is no SSO (decision 0023).
        Some(json!({"default_timezone": "America/New_York", "require_sso": false})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["default_timezone"], "America/New_York");
    assert_eq!(doc["data"]["require_sso"], false);
    assert!(doc["data"]["updated_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let (_, all) = call(&app, reqwest::Method::GET, "/api/settings/all", &key, None).await;
    assert_eq!(all["data"]["data_residency"], "us");
    assert_eq!(all["data"]["feature_flags"]["audit_log"], true);
    assert_eq!(
        all["data"]["feature_flags"]["sso"], false,
        "the free tier has no SSO"
    );

    // The organization's default timezone is what members without their own read in seed 01.
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["preferences"]["timezone"], "America/New_York");

    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings",
        &key,
        Some(json!({"default_timezone": "Nowhere/Else", "data_residency": "mars"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        err["error"]["details"]["fields"].as_array().map(Vec::len),
        Some(2)
    );
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings",
        &key,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(status, 400, "{err}");

    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings",
        &developer,
        Some(json!({"require_sso": false})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "INSUFFICIENT_PERMISSIONS");
    assert_eq!(
        call(
            &app,
            reqwest::Method::GET,
            "/api/settings",
            &developer,
            None
        )
        .await
        .0,
        200
    );
}

async fn ip_whitelist_entries_status_and_toggle(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist",
        &key,
        Some(json!({"cidr": "198.51.100.10/32", "label": "CI runner static IP"})),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let ci = doc["data"].clone();
    assert!(ci["id"].as_str().is_some_and(|i| i.starts_with("ipw_")));
    assert_eq!(ci["label"], "CI runner static IP");
    assert_eq!(ci["cidr"], "198.51.100.10/32");

    // Enforcement without the caller's address is refused...
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist/toggle",
        &key,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "WOULD_LOCK_OUT");
    // ...and accepted once it is in.
    let (status, office) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist",
        &key,
        Some(json!({"cidr": "127.0.0.1", "label": "office"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist/toggle",
        &key,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["enabled"], true);

    let (_, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/settings/ip-whitelist",
        &key,
        None,
    )
    .await;
    let cidrs: Vec<&str> = list["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["cidr"].as_str())
        .collect();
    assert_eq!(cidrs, ["198.51.100.10/32", "127.0.0.1/32"]);
    let (_, status_doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/settings/ip-whitelist/status",
        &key,
        None,
    )
    .await;
    assert_eq!(status_doc["data"]["enabled"], true);
    assert_eq!(status_doc["data"]["entry_count"], 2);
    assert_eq!(status_doc["data"]["applies_to"], json!(["api"]));
    assert!(
        status_doc["data"]["last_evaluated_at"].as_str().is_some(),
        "{status_doc}"
    );

    // The same list and flag through seed 01; a seed 01 write keeps ids and labels.
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        v2["security"]["api_access"]["ip_whitelist"],
        json!(["198.51.100.10/32", "127.0.0.1/32"])
    );
    assert_eq!(v2["security"]["api_access"]["require_ip_whitelist"], true);
    let res = app.put("/v2/accounts/settings/security", &key, &json!({"api_access": {"ip_whitelist": ["198.51.100.10/32", "127.0.0.1/32", "10.0.0.0/8"]}})).await;
    assert_eq!(res.status(), 200);
    let (_, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/settings/ip-whitelist",
        &key,
        None,
    )
    .await;
    assert_eq!(list["data"][0]["id"], ci["id"]);
    assert_eq!(list["data"][0]["label"], "CI runner static IP");
    assert_eq!(list["data"][2]["label"], "");

    // Removing the caller's own entry while enforced is refused; another entry is fine.
    let office_id = office["data"]["id"].as_str().expect("id").to_owned();
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/settings/ip-whitelist/{office_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 409);
    let ci_id = ci["id"].as_str().expect("id").to_owned();
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/settings/ip-whitelist/{ci_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, err) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/settings/ip-whitelist/{ci_id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "NOT_FOUND");

    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist",
        &key,
        Some(json!({"cidr": "invalid-ip"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["details"]["invalid_entries"],
        json!(["invalid-ip"])
    );

    // Turning enforcement off needs no confirmation.
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist/toggle",
        &key,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    assert_eq!(
        call(
            &app,
            reqwest::Method::GET,
            "/api/settings/ip-whitelist",
            &developer,
            None
        )
        .await
        .0,
        403
    );
}

async fn log_retention_is_one_field_with_seed_01_and_05(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (_, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/settings/log-retention",
        &key,
        None,
    )
    .await;
    assert_eq!(
        doc,
        json!({"data": {"run_logs_days": 30, "audit_logs_days": 90, "diagnostic_artifacts_days": 7}})
    );
    let (status, doc) = call(
        &app,
        reqwest::Method::PUT,
        "/api/settings/log-retention",
        &key,
        Some(json!({"run_logs_days": 14, "diagnostic_artifacts_days": 14})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["data"]["run_logs_days"], 14);
    assert_eq!(doc["data"]["audit_logs_days"], 90);
    assert_eq!(doc["data"]["diagnostic_artifacts_days"], 14);
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/settings/log-retention",
        &key,
        Some(json!({"audit_logs_days": 365})),
    )
    .await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["security"]["audit"]["retention_days"], 365);
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/settings/log-retention",
        &key,
        Some(json!({"run_logs_days": 0})),
    )
    .await;
    assert_eq!(status, 422);
}

async fn organization_and_entitlements(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, org) = call(&app, reqwest::Method::GET, "/api/organization", &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(org["data"]["id"], json!(app.default_account_id().await));
    assert_eq!(org["data"]["slug"], "default");
    assert_eq!(org["data"]["name"], "Default account");
    assert_eq!(org["data"]["plan"], "free");
    let (_, features) = call(&app, reqwest::Method::GET, "/api/features", &key, None).await;
    assert!(features["data"]["features"]
        .as_array()
        .is_some_and(|f| f.contains(&json!("audit_log"))));
    let (_, limits) = call(
        &app,
        reqwest::Method::GET,
        "/api/features/limits",
        &key,
        None,
    )
    .await;
    assert_eq!(limits["data"]["max_users_per_organization"], 100);
    assert_eq!(limits["data"]["max_api_keys_per_user"], 20);
    let (_, tier) = call(&app, reqwest::Method::GET, "/api/tier", &key, None).await;
    assert_eq!(tier["data"]["tier"], "free");
    let (status, err) = call(
        &app,
        reqwest::Method::GET,
        "/api/tier",
        "tnt_live_bad",
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "UNAUTHORIZED");
}

on_both_backends!(
    organization_settings_examples_replay,
    ip_whitelist_entries_status_and_toggle,
    log_retention_is_one_field_with_seed_01_and_05,
    organization_and_entitlements,
);

async fn the_operator_sets_the_tier_and_entitlements_follow(app: TestApp) {
    let key = app.owner_key().to_owned();
    let id = app.default_account_id().await;
    let res = app
        .client
        .patch(app.url(&format!("/admin/accounts/{id}")))
        .bearer_auth(app.operator_key())
        .json(&json!({"tier": "enterprise"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let (_, tier) = call(&app, reqwest::Method::GET, "/api/tier", &key, None).await;
    assert_eq!(tier["data"]["tier"], "enterprise");
    let (_, all) = call(&app, reqwest::Method::GET, "/api/settings/all", &key, None).await;
    assert_eq!(all["data"]["feature_flags"]["sso"], true);
    let (_, org) = call(&app, reqwest::Method::GET, "/api/organization", &key, None).await;
    assert_eq!(org["data"]["plan"], "enterprise");
    // The enterprise limits admit what the free tier refused.
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    let tenant = format!(
        "/tenants/{}/settings",
        list["accounts"][0]["tenant_id"].as_str().expect("uuid")
    );
    let res = app
        .client
        .patch(app.url(&tenant))
        .bearer_auth(&key)
        .json(&json!({"features": {"maxUsersPerOrganization": 5000}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);

    for (body, status) in [
        (json!({"tier": "platinum"}), 422),
        (json!({"plan": "pro"}), 400),
    ] {
        let res = app
            .client
            .patch(app.url(&format!("/admin/accounts/{id}")))
            .bearer_auth(app.operator_key())
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), status, "{body}");
    }
    let res = app
        .client
        .patch(app.url("/admin/accounts/acc_01jd0000000000000000000000"))
        .bearer_auth(app.operator_key())
        .json(&json!({"tier": "pro"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .patch(app.url(&format!("/admin/accounts/{id}")))
        .bearer_auth(&key)
        .json(&json!({"tier": "pro"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401, "owners cannot raise their own tier");
    let audited =
        app.query_texts("SELECT actor AS t FROM audit_log WHERE action = 'account.updated'");
    assert_eq!(audited, ["operator:env"], "the bootstrap key");
}

on_both_backends!(the_operator_sets_the_tier_and_entitlements_follow);

async fn session_timeout_is_the_shared_session_policy(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/session-timeout",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        json!({"data": {"idle_timeout_minutes": 60, "absolute_timeout_minutes": 1440, "extend_on_activity": true}})
    );
    let (status, doc) = call(&app, reqwest::Method::PUT, "/api/session-timeout", &key, Some(json!({"idle_timeout_minutes": 30, "absolute_timeout_minutes": 720, "extend_on_activity": true}))).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["idle_timeout_minutes"], 30);
    assert!(doc["data"]["updated_at"].as_str().is_some());
    // Absolute lifetime = seed 01 session.timeout (hours); idle = seed 04 inactivityTimeout.
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["security"]["session"]["timeout"], 12);
    let (_, prefs) = call(
        &app,
        reqwest::Method::GET,
        "/accounts/default/settings/SECURITY_PREFERENCES",
        &key,
        None,
    )
    .await;
    assert_eq!(prefs["securityPreferences"]["inactivityTimeout"], 30);
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"session": {"timeout": 1.5}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/session-timeout",
        &key,
        None,
    )
    .await;
    assert_eq!(doc["data"]["absolute_timeout_minutes"], 90);

    for body in [
        json!({"absolute_timeout_minutes": 30}),
        json!({"idle_timeout_minutes": 2000}),
        json!({"extend_on_activity": "yes"}),
    ] {
        let (status, _) = call(
            &app,
            reqwest::Method::PUT,
            "/api/session-timeout",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/session-timeout",
        &key,
        Some(json!({"idle_timeout_minutes": 0})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, prefs) = call(
        &app,
        reqwest::Method::GET,
        "/accounts/default/settings/SECURITY_PREFERENCES",
        &key,
        None,
    )
    .await;
    assert_eq!(prefs["securityPreferences"]["inactivityTimeout"], 0);
}

on_both_backends!(session_timeout_is_the_shared_session_policy);

async fn the_allowlist_honours_limit_and_cursor(app: TestApp) {
    let key = app.owner_key().to_owned();
    for cidr in ["198.51.100.1", "198.51.100.2/32", "203.0.113.0/24"] {
        let (status, doc) = call(
            &app,
            reqwest::Method::POST,
            "/api/settings/ip-whitelist",
            &key,
            Some(json!({ "cidr": cidr })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    crate::notification_rules::assert_pages_like_the_whole(
        &app,
        "/api/settings/ip-whitelist",
        &key,
    )
    .await;
}
on_both_backends!(the_allowlist_honours_limit_and_cursor);
