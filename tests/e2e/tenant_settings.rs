//! Seed 05 `/tenants/{id}/settings`, and the same domain fields read through seed 01.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

pub(crate) async fn tenant_path(app: &TestApp) -> String {
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    let uuid = list["accounts"][0]["tenant_id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    format!("/tenants/{uuid}/settings")
}

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> (u16, Value, String) {
    let res = app
        .client
        .patch(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    (status, res.json().await.expect("json"), ct)
}

fn defaults() -> Value {
    json!({
        "security": {"mfaRequired": false, "passwordExpiryDays": 90, "maxConcurrentSessions": 5, "allowedIpRanges": []},
        "features": {"auditLogRetentionDays": 90, "maxOrganizations": 10, "maxUsersPerOrganization": 100},
        "branding": {"primaryColor": "#6366f1", "logoUrl": null, "supportEmail": null}
    })
}

async fn seed_05_examples_replay(app: TestApp) {
    let path = tenant_path(&app).await;
    let key = app.owner_key().to_owned();
    let res = app.get(&path, Some(&key)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.expect("json"), defaults());

    // Update Tenant Settings example.
    let (status, doc, _) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"mfaRequired": true}, "features": {"auditLogRetentionDays": 365}}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let mut expected = defaults();
    expected["security"]["mfaRequired"] = json!(true);
    expected["features"]["auditLogRetentionDays"] = json!(365);
    assert_eq!(doc, expected);

    // cURL example, then branding.
    let (status, doc, _) = patch(&app, &path, &key, json!({"security": {"mfaRequired": true, "passwordExpiryDays": 60}, "branding": {"supportEmail": "support@acme.com", "primaryColor": "#FF0000"}})).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["security"]["passwordExpiryDays"], 60);
    assert_eq!(
        doc["features"]["auditLogRetentionDays"], 365,
        "merged, not replaced"
    );
    assert_eq!(doc["branding"]["supportEmail"], "support@acme.com");
    assert_eq!(doc["branding"]["primaryColor"], "#ff0000");

    // RFC 7396: null removes the member, which reads as its default.
    let (status, doc, _) = patch(&app, &path, &key, json!({"branding": {"primaryColor": null, "supportEmail": null}, "security": {"passwordExpiryDays": 0}})).await;
    assert_eq!(status, 200);
    assert_eq!(doc["branding"]["primaryColor"], "#6366f1");
    assert_eq!(doc["branding"]["supportEmail"], Value::Null);
    assert_eq!(doc["security"]["passwordExpiryDays"], 0, "0 = never");

    // Settings Validation example.
    let (status, err, ct) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"passwordExpiryDays": -1}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(err["type"], "https://tenantry.dev/errors/validation");
    // Sentence case, acronyms kept (decision 0023); the document's example reads "Validation Error".
    assert_eq!(err["title"], "Validation error");
    assert_eq!(err["status"], 400);
    assert_eq!(
        err["detail"],
        "passwordExpiryDays must be a non-negative number"
    );
    assert_eq!(err["errors"][0]["field"], "security.passwordExpiryDays");

    for (body, field) in [
        (
            json!({"branding": {"primaryColor": "blue"}}),
            "branding.primaryColor",
        ),
        (
            json!({"branding": {"logoUrl": "http://insecure.example.com/logo.png"}}),
            "branding.logoUrl",
        ),
        (
            json!({"branding": {"supportEmail": "nope"}}),
            "branding.supportEmail",
        ),
        (
            json!({"features": {"maxUsersPerOrganization": 101}}),
            "features.maxUsersPerOrganization",
        ),
        (
            json!({"security": {"maxConcurrentSessions": 0}}),
            "security.maxConcurrentSessions",
        ),
        (
            json!({"security": {"mfaRequired": "yes"}}),
            "security.mfaRequired",
        ),
    ] {
        let (status, err, _) = patch(&app, &path, &key, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["errors"][0]["field"], field, "{body}");
    }
    let (status, err, _) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"allowedIpRanges": ["300.1.1.1"]}}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let (status, _, _) = patch(&app, &path, &key, json!({"theme": {}})).await;
    assert_eq!(status, 400);
}

async fn tenant_ids_and_roles_are_checked(app: TestApp) {
    let path = tenant_path(&app).await;
    let other = app.create_account("other-co", "o@other.test").await;
    let other_path = format!(
        "/tenants/{}/settings",
        other["tenant_id"].as_str().expect("uuid")
    );
    for p in [
        other_path.as_str(),
        "/tenants/not-a-uuid/settings",
        "/tenants/00000000-0000-0000-0000-000000000000/settings",
    ] {
        let res = app.get(p, Some(app.owner_key())).await;
        assert_eq!(res.status(), 404, "{p}");
        assert_eq!(
            res.headers().get("content-type").expect("ct"),
            "application/problem+json"
        );
    }
    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    assert_eq!(app.get(&path, Some(&viewer)).await.status(), 200);
    let (status, _, _) = patch(
        &app,
        &path,
        &viewer,
        json!({"security": {"mfaRequired": true}}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(app.get(&path, None).await.status(), 401);
}

async fn one_domain_across_dialects(app: TestApp) {
    let path = tenant_path(&app).await;
    let key = app.owner_key().to_owned();
    // Written through seed 05, read through seed 01 (with unit conversion).
    let (status, _, _) = patch(&app, &path, &key, json!({"security": {"allowedIpRanges": ["127.0.0.1", "10.0.0.0/8"], "mfaRequired": true, "maxConcurrentSessions": 3}, "features": {"auditLogRetentionDays": 120}})).await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        v2["security"]["api_access"]["ip_whitelist"],
        json!(["127.0.0.1/32", "10.0.0.0/8"])
    );
    assert_eq!(
        v2["security"]["api_access"]["require_ip_whitelist"], true,
        "a non-empty list written through 05 enforces"
    );
    assert_eq!(v2["security"]["two_factor"]["enabled"], true);
    assert_eq!(v2["security"]["session"]["concurrent_sessions"], 3);
    assert_eq!(v2["security"]["audit"]["retention_days"], 120);

    // Written through seed 01, read through seed 05.
    let res = app.put("/v2/accounts/settings/security", &key, &json!({"api_access": {"ip_whitelist": ["127.0.0.0/8"]}, "audit": {"retention_days": 200}, "two_factor": {"enabled": false}})).await;
    assert_eq!(res.status(), 200);
    let t: Value = app.get(&path, Some(&key)).await.json().await.expect("json");
    assert_eq!(t["security"]["allowedIpRanges"], json!(["127.0.0.0/8"]));
    assert_eq!(t["features"]["auditLogRetentionDays"], 200);
    assert_eq!(t["security"]["mfaRequired"], false);

    // Lockout guard applies here too; an empty list turns enforcement off.
    let (status, err, _) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"allowedIpRanges": ["10.0.0.0/8"]}}),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["code"], "WOULD_LOCK_OUT");
    let (status, _, _) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"allowedIpRanges": []}}),
    )
    .await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["security"]["api_access"]["require_ip_whitelist"], false);

    // Enforcement answers in seed 05's format on its routes.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["127.0.0.1"], "require_ip_whitelist": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let two = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let res = two
        .get(app.url(&path))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers().get("content-type").expect("ct"),
        "application/problem+json"
    );
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "IP_NOT_ALLOWED");
}

/// Seed 05 has no enforcement flag; a patch that does not set `allowedIpRanges` must leave
/// enforcement as seed 03's toggle left it (found by the authorization matrix: a branding change
/// used to switch enforcement on).
async fn patches_without_ranges_keep_enforcement(app: TestApp) {
    let path = tenant_path(&app).await;
    let key = app.owner_key().to_owned();
    let (status, doc) = crate::support::call(
        &app,
        reqwest::Method::POST,
        "/api/settings/ip-whitelist",
        &key,
        Some(json!({ "cidr": "192.0.2.0/24" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let (status, doc, _) = patch(
        &app,
        &path,
        &key,
        json!({"branding": {"primaryColor": "#112233"}}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    // The entry exists but is not in force: tenant settings show the ranges in force.
    assert_eq!(doc["security"]["allowedIpRanges"], json!([]));
    let (_, status_doc) = crate::support::call(
        &app,
        reqwest::Method::GET,
        "/api/settings/ip-whitelist/status",
        &key,
        None,
    )
    .await;
    assert_eq!(
        status_doc["data"]["enabled"], false,
        "still off: {status_doc}"
    );
    // Setting the ranges through seed 05 does decide enforcement (here: a list without the
    // caller, refused by the lockout guard rather than applied).
    let (status, doc, _) = patch(
        &app,
        &path,
        &key,
        json!({"security": {"allowedIpRanges": ["192.0.2.0/24"]}}),
    )
    .await;
    assert_eq!(status, 409, "{doc}");
}

on_both_backends!(
    seed_05_examples_replay,
    tenant_ids_and_roles_are_checked,
    one_domain_across_dialects,
    patches_without_ranges_keep_enforcement
);
