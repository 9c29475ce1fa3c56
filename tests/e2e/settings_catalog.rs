//! Seed 04 `SECURITY_PREFERENCES`, and its fields read through seeds 01 and 05.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

const PATH: &str = "/accounts/default/settings/SECURITY_PREFERENCES";

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn security_preferences_examples_replay(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = send(&app, reqwest::Method::GET, PATH, Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        json!({"securityPreferences": {"requireMFA": false, "inactivityTimeout": 60, "passwordExpiration": 90, "inactivityUserLockThreshold": 0}})
    );

    let example = json!({"securityPreferences": {"inactivityTimeout": 40, "passwordExpiration": 50, "inactivityUserLockThreshold": 0}});
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
    ] {
        let (status, doc) = send(
            &app,
            method.clone(),
            PATH,
            Some(&key),
            Some(example.clone()),
        )
        .await;
        assert_eq!(status, 200, "{method}: {doc}");
        assert_eq!(doc["securityPreferences"]["inactivityTimeout"], 40);
        assert_eq!(doc["securityPreferences"]["passwordExpiration"], 50);
    }
    let (status, doc) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"requireMFA": true}})),
    )
    .await;
    assert_eq!(status, 200);
    // The "Retrieve" example of seed 04, exactly.
    assert_eq!(
        doc,
        json!({"securityPreferences": {"requireMFA": true, "inactivityTimeout": 40, "passwordExpiration": 50, "inactivityUserLockThreshold": 0}})
    );
    let (_, doc) = send(&app, reqwest::Method::GET, PATH, Some(&key), None).await;
    assert_eq!(doc["securityPreferences"]["requireMFA"], true);
    // PUT replaces: each numeric field it leaves out is reported, all of them, and nothing
    // changes; `requireMFA` left out keeps its value (never silently turns mandatory MFA off).
    let (status, errors) = send(
        &app,
        reqwest::Method::PUT,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityUserLockThreshold": 90}})),
    )
    .await;
    assert_eq!(status, 422, "{errors}");
    let messages = errors.to_string();
    assert!(
        messages.contains("inactivityTimeout") && messages.contains("passwordExpiration"),
        "{errors}"
    );
    let (status, errors) = send(
        &app,
        reqwest::Method::PUT,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {}})),
    )
    .await;
    assert_eq!(status, 422, "{errors}");
    assert_eq!(errors.as_array().map(Vec::len), Some(3), "{errors}");
    let (_, doc) = send(
        &app,
        reqwest::Method::PUT,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityTimeout": 0, "passwordExpiration": 0, "inactivityUserLockThreshold": 90}})),
    )
    .await;
    assert_eq!(
        doc,
        json!({"securityPreferences": {"requireMFA": true, "inactivityTimeout": 0, "passwordExpiration": 0, "inactivityUserLockThreshold": 90}})
    );
    // PATCH with null: RFC 7396 removes the value, which reads as the default.
    let (status, doc) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityTimeout": null, "requireMFA": null}})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc,
        json!({"securityPreferences": {"requireMFA": false, "inactivityTimeout": 60, "passwordExpiration": 0, "inactivityUserLockThreshold": 90}})
    );
    // A wrong JSON type is a type error, not a range message.
    let (status, errors) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityTimeout": "40"}})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        errors[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("not a string")),
        "{errors}"
    );

    let (status, _) = send(&app, reqwest::Method::DELETE, PATH, Some(&key), None).await;
    assert_eq!(status, 400);
}

async fn security_preferences_validation_and_access(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, errors) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityTimeout": 5, "passwordExpiration": 400}})),
    )
    .await;
    assert_eq!(status, 422);
    let list = errors.as_array().expect("an array of errors");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["errorCode"], 42201);
    assert!(
        list[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("inactivityTimeout must be 0 or between 10 and 120")),
        "{errors}"
    );
    for body in [
        json!({"securityPreferences": {"inactivityUserLockThreshold": 59}}),
        json!({"securityPreferences": {"requireMFA": 1}}),
        json!({"other": {}}),
        json!({}),
    ] {
        let (status, _) = send(
            &app,
            reqwest::Method::PATCH,
            PATH,
            Some(&key),
            Some(body.clone()),
        )
        .await;
        assert!(status == 422 || status == 400, "{body}: {status}");
    }
    // Nothing above changed anything.
    let (_, doc) = send(&app, reqwest::Method::GET, PATH, Some(&key), None).await;
    assert_eq!(doc["securityPreferences"]["inactivityTimeout"], 60);

    let (status, body) = send(&app, reqwest::Method::GET, PATH, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["errorCode"], 60001);
    assert!(body["errorMessage"]
        .as_str()
        .is_some_and(|m| m.starts_with("invalid_grant")));

    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let (status, errors) = send(&app, reqwest::Method::GET, PATH, Some(&developer), None).await;
    assert_eq!(status, 403);
    assert_eq!(errors[0]["errorCode"], 40301);
    app.create_account("globex", "g@globex.test").await;
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/accounts/globex/settings/SECURITY_PREFERENCES",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 404, "another account's name reads as unknown");
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/accounts/default/settings/NOT_A_SETTING",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn security_preferences_are_the_shared_policy(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"requireMFA": true, "passwordExpiration": 50}})),
    )
    .await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["security"]["two_factor"]["enabled"], true);
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
    let t: Value = app
        .get(&tenant, Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(t["security"]["mfaRequired"], true);
    assert_eq!(t["security"]["passwordExpiryDays"], 50);

    // Written through 05 (0 = never), read through 04 (0 = not set).
    let res = app
        .client
        .patch(app.url(&tenant))
        .bearer_auth(&key)
        .json(&json!({"security": {"passwordExpiryDays": 0, "mfaRequired": false}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let (_, doc) = send(&app, reqwest::Method::GET, PATH, Some(&key), None).await;
    assert_eq!(doc["securityPreferences"]["passwordExpiration"], 0);
    assert_eq!(doc["securityPreferences"]["requireMFA"], false);
}

on_both_backends!(
    security_preferences_examples_replay,
    security_preferences_validation_and_access,
    security_preferences_are_the_shared_policy,
);

/// `inactivityUserLockThreshold` is enforced: the maintenance job suspends members inactive that
/// long (never the owner), and their keys stop working.
#[tokio::test]
async fn inactive_members_are_suspended() {
    use crate::support::{Backend, TestDb};
    let app = TestApp::start(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
        &[("TENANTRY_PURGE_INTERVAL", "1")],
    )
    .await;
    let key = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let active = app.add_member(&account, "developer");
    let dormant = app.add_member(&account, "developer");
    let lapsed = app.add_member(&account, "viewer");
    // `active` and `lapsed` use the API now (recorded as activity); `dormant` never does.
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&active))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&lapsed))
            .await
            .status(),
        200
    );
    // Activity is written in batches off the request path (decision 0015): wait until both
    // uses are stored, so the lapse written below is not overtaken by them.
    for _ in 0..50 {
        let recorded = app.query_texts(
            "SELECT role AS t FROM memberships WHERE role IN ('developer', 'viewer') AND last_active_at IS NOT NULL",
        );
        if recorded.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let sixty_one_days_ago = (chrono_now_micros()) - 61 * 86_400 * 1_000_000;
    app.db.execute(&format!("UPDATE memberships SET last_active_at = {sixty_one_days_ago} WHERE role IN ('viewer', 'owner')"));

    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityUserLockThreshold": 60}})),
    )
    .await;
    assert_eq!(status, 200);
    // Watch the database, not the API: a request with a dormant key would itself be activity.
    let mut suspended = Vec::new();
    for _ in 0..50 {
        suspended = app.query_texts(
            "SELECT role AS t FROM memberships WHERE status = 'suspended' ORDER BY role",
        );
        if suspended.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        suspended,
        ["developer", "viewer"],
        "the never-active and the lapsed member"
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&dormant))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&lapsed))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&active))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&key)).await.status(),
        200,
        "never the owner"
    );
    let audited = app
        .query_texts("SELECT actor AS t FROM audit_log WHERE action = 'member.suspended_inactive'");
    assert_eq!(audited, ["system", "system"]);
    // Like every suspension, it ended their keys: reactivated, the member needs a new key.
    let revoked = app.query_texts(
        "SELECT m.role AS t FROM api_keys k JOIN memberships m ON m.user_id = k.user_id AND m.account_id = k.account_id WHERE k.revoked_at IS NOT NULL ORDER BY m.role",
    );
    assert_eq!(revoked, ["developer", "viewer"]);
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        PATH,
        Some(&key),
        Some(json!({"securityPreferences": {"inactivityUserLockThreshold": 0}})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, members) = crate::support::call(
        &app,
        reqwest::Method::GET,
        "/v2/accounts/team/members?status=suspended",
        &key,
        None,
    )
    .await;
    for member in members["members"].as_array().expect("members") {
        let id = member["id"].as_str().expect("id");
        let (status, doc) = crate::support::call(
            &app,
            reqwest::Method::PUT,
            &format!("/v2/accounts/team/members/{id}"),
            &key,
            Some(json!({"status": "active"})),
        )
        .await;
        assert_eq!(status, 200, "{doc}");
    }
    for old_key in [&dormant, &lapsed] {
        assert_eq!(
            app.get("/v2/accounts/settings", Some(old_key))
                .await
                .status(),
            401,
            "a key ended by the suspension stays ended"
        );
    }
}

fn chrono_now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64
}
