//! Sign-in sessions: login, policy (concurrency cap, idle and absolute timeouts), logout,
//! password change, MFA at login, several accounts.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, enrol_totp, TestApp, TotpEnrolment};

const PASSWORD: &str = "session-test-passphrase-7";

async fn login(app: &TestApp, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn set_password(app: &TestApp) {
    let (status, _) = call(
        app,
        reqwest::Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
}

async fn token(app: &TestApp) -> String {
    let (status, doc) = login(
        app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]["token"].as_str().expect("token").to_owned()
}

async fn login_logout_and_the_session_list(app: TestApp) {
    set_password(&app).await;
    for body in [
        json!({"email": "owner@localhost", "password": "wrong-password-1234"}),
        json!({"email": "nobody@localhost", "password": PASSWORD}),
        json!({"email": "not an email", "password": PASSWORD}),
    ] {
        let (status, err) = login(&app, body.clone()).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(err["error"]["code"], "UNAUTHORIZED");
    }
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    let t = doc["data"]["token"].as_str().expect("token").to_owned();
    assert!(t.starts_with("tnt_ses_"));
    assert!(doc["data"]["expires_at"].as_str().is_some());
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&t)).await.status(),
        200
    );
    let (_, list) = call(&app, reqwest::Method::GET, "/api/auth/sessions", &t, None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["data"][0]["current"], true);
    assert_eq!(list["data"][0]["ip"], "127.0.0.1");
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&t)).await.status(),
        401
    );
    let stored = app.query_texts("SELECT secret_hash AS t FROM sessions");
    assert!(stored.iter().all(|h| !t.ends_with(h.as_str())));
}

async fn the_session_policy_is_enforced(app: TestApp) {
    set_password(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"session": {"concurrent_sessions": 2}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let first = token(&app).await;
    let second = token(&app).await;
    let third = token(&app).await;
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&first))
            .await
            .status(),
        401,
        "the oldest is signed out"
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&second))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&third))
            .await
            .status(),
        200
    );

    // Idle: last seen beyond the idle timeout (60 minutes by default).
    let two_hours_ago = now_micros() - 2 * 3600 * 1_000_000;
    let second_id = second.split('_').nth(2).expect("id").to_ascii_uppercase();
    app.db.execute(&format!(
        "UPDATE sessions SET last_seen_at = {two_hours_ago} WHERE id = 'ses_{}'",
        second_id.to_ascii_lowercase()
    ));
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&second))
            .await
            .status(),
        401,
        "idle timeout"
    );
    // Absolute: shortening the lifetime applies to live sessions.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"session": {"timeout": 1}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.db
        .execute(&format!("UPDATE sessions SET created_at = {two_hours_ago}"));
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&third))
            .await
            .status(),
        401,
        "absolute lifetime"
    );
}

async fn a_password_change_signs_out_the_other_sessions(app: TestApp) {
    set_password(&app).await;
    let mine = token(&app).await;
    let other = token(&app).await;
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &mine,
        Some(json!({"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-8"})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&other))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get("/v2/accounts/settings", Some(&mine)).await.status(),
        200,
        "the session that changed it stays"
    );
    let (status, _) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401, "the old password is gone");
}

async fn mfa_is_required_at_login_once_enrolled(app: TestApp) {
    set_password(&app).await;
    let TotpEnrolment {
        secret,
        mut backup_codes,
    } = enrol_totp(&app, app.owner_key(), Some(PASSWORD)).await;
    let backup = backup_codes.swap_remove(0);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs()
    };

    let (status, err) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "MFA_REQUIRED");
    let code = tenantry_security::code_for(&secret, now()).expect("code");
    let (status, _) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(status, 401, "the same code a second time");
    let (status, _) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "code": backup}),
    )
    .await;
    assert_eq!(status, 200, "a backup code");
    let (status, _) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "code": backup}),
    )
    .await;
    assert_eq!(status, 401, "a backup code works once");
}

async fn users_of_several_accounts_choose_one(app: TestApp) {
    set_password(&app).await;
    let second = app.create_account("second-co", "owner@localhost").await;
    let (status, err) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["details"]["accounts"],
        json!(["default", "second-co"])
    );
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "account": "second-co"}),
    )
    .await;
    assert_eq!(status, 200);
    let t = doc["data"]["token"].as_str().expect("token").to_owned();
    let (_, org) = call(&app, reqwest::Method::GET, "/api/organization", &t, None).await;
    assert_eq!(org["data"]["slug"], "second-co");
    // The account may be named by its id too, as the document says.
    let id = second["id"].as_str().expect("id");
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD, "account": id}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["account_id"], id);
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_micros() as i64
}

on_both_backends!(
    login_logout_and_the_session_list,
    the_session_policy_is_enforced,
    a_password_change_signs_out_the_other_sessions,
    mfa_is_required_at_login_once_enrolled,
    users_of_several_accounts_choose_one,
);

async fn failed_logins_are_limited_and_audited(app: TestApp) {
    set_password(&app).await;
    for _ in 0..5 {
        let (status, _) = login(
            &app,
            json!({"email": "owner@localhost", "password": "not-the-password-123"}),
        )
        .await;
        assert_eq!(status, 401);
    }
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "owner@localhost", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        429,
        "even the right password waits out the window"
    );
    let retry: i64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry > 0 && retry <= 900);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    let failed = app.query_texts("SELECT target AS t FROM audit_log WHERE action = 'login.failed'");
    assert_eq!(failed, vec!["owner@localhost"; 5]);
    // The failures of one address do not lock the user out elsewhere: whoever fails on purpose
    // from their own address cannot keep the owner from signing in from theirs.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client");
    let res = elsewhere
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "owner@localhost", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "the owner signs in from another address");
}

on_both_backends!(failed_logins_are_limited_and_audited);

async fn expired_passwords_and_required_mfa_give_restricted_sessions(app: TestApp) {
    set_password(&app).await;
    // The account requires MFA (seed 04), the owner has none: the session can only enrol.
    let res = app
        .client
        .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
        .bearer_auth(app.owner_key())
        .json(&json!({"securityPreferences": {"requireMFA": true}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["data"]["restricted"], "mfa_enrollment");
    let t = doc["data"]["token"].as_str().expect("token").to_owned();
    let res = app.get("/v2/accounts/settings", Some(&t)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "SESSION_RESTRICTED"
    );
    let (status, _) = call(&app, reqwest::Method::GET, "/api/user/mfa", &t, None).await;
    assert_eq!(status, 200, "enrolment is allowed");

    // Passwords older than the expiry (seed 05 passwordExpiryDays) restrict to a change.
    let res = app
        .client
        .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
        .bearer_auth(app.owner_key())
        .json(&json!({"securityPreferences": {"requireMFA": false, "passwordExpiration": 30}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let forty_days_ago = now_micros() - 40 * 86_400 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE users SET password_changed_at = {forty_days_ago}"
    ));
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["restricted"], "password_change");
    let t = doc["data"]["token"].as_str().expect("token").to_owned();
    assert_eq!(app.get("/api/user/profile", Some(&t)).await.status(), 403);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &t,
        Some(json!({"current_password": PASSWORD, "new_password": "renewed-passphrase-99"})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, doc) = login(
        &app,
        json!({"email": "owner@localhost", "password": "renewed-passphrase-99"}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["data"]["restricted"],
        Value::Null,
        "a fresh password signs in fully"
    );
    let full = doc["data"]["token"].as_str().expect("token");
    assert_eq!(
        app.get("/api/user/profile", Some(full)).await.status(),
        200,
        "and the session works"
    );
}

on_both_backends!(expired_passwords_and_required_mfa_give_restricted_sessions);

async fn sensitive_operations_need_a_recent_sign_in(app: TestApp) {
    set_password(&app).await;
    let t = token(&app).await;
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &t,
        Some(json!({"name": "fresh"})),
    )
    .await;
    assert_eq!(status, 201, "a fresh sign-in may");
    let twenty_minutes_ago = now_micros() - 20 * 60 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {twenty_minutes_ago}"
    ));
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &t,
        Some(json!({"name": "stale"})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "REAUTH_REQUIRED");
    let res = app
        .get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&t),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "REAUTH_REQUIRED"
    );
    assert_eq!(
        app.get("/v2/accounts/settings/export", Some(&t))
            .await
            .status(),
        200,
        "without secrets it is not sensitive"
    );
    // API keys are credentials of their own: no re-authentication for them.
    assert_eq!(
        app.get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(app.owner_key())
        )
        .await
        .status(),
        200
    );
    // The policy can turn it off.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"session": {"require_reauth_for_sensitive": false}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &t,
        Some(json!({"name": "allowed"})),
    )
    .await;
    assert_eq!(status, 201);
}

on_both_backends!(sensitive_operations_need_a_recent_sign_in);

/// How the owner turns "MFA required" on or off in each dialect (one domain value).
#[derive(Debug, Clone, Copy)]
enum MfaSwitch {
    /// Seed 01 `PUT /v2/accounts/settings/security` `two_factor.enabled`.
    AccountSettings,
    /// Seed 04 `PATCH /accounts/{name}/settings/SECURITY_PREFERENCES` `requireMFA`.
    Catalog,
    /// Seed 05 `PATCH /tenants/{id}/settings` `security.mfaRequired`.
    Tenant,
}

async fn require_mfa(app: &TestApp, through: MfaSwitch, on: bool) {
    let owner = app.owner_key();
    let res = match through {
        MfaSwitch::AccountSettings => {
            app.put(
                "/v2/accounts/settings/security",
                owner,
                &json!({"two_factor": {"enabled": on}}),
            )
            .await
        }
        MfaSwitch::Catalog => app
            .client
            .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
            .bearer_auth(owner)
            .json(&json!({"securityPreferences": {"requireMFA": on}}))
            .send()
            .await
            .expect("request"),
        MfaSwitch::Tenant => app
            .client
            .patch(app.url(&crate::tenant_settings::tenant_path(app).await))
            .bearer_auth(owner)
            .json(&json!({"security": {"mfaRequired": on}}))
            .send()
            .await
            .expect("request"),
    };
    assert_eq!(res.status(), 200, "{through:?} {on}");
}

/// A new member of the default account with a password, signed in: (email, session token).
async fn signed_in_member(app: &TestApp, account: &str, role: &str) -> (String, String) {
    let key = app.add_member(account, role);
    let (status, profile) = call(app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(status, 200, "{profile}");
    let email = profile["data"]["email"].as_str().expect("email").to_owned();
    let (status, _) = call(
        app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, doc) = login(app, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["restricted"], Value::Null);
    let token = doc["data"]["token"].as_str().expect("token").to_owned();
    (email, token)
}

/// 403 `SESSION_RESTRICTED` (mfa_enrollment) on ordinary routes of two dialects, while the
/// MFA routes stay reachable.
async fn assert_restricted_to_enrollment(app: &TestApp, token: &str, context: &str) {
    let (status, err) = call(app, reqwest::Method::GET, "/api/user/profile", token, None).await;
    assert_eq!(status, 403, "{context}: {err}");
    assert_eq!(err["error"]["code"], "SESSION_RESTRICTED", "{context}");
    assert_eq!(
        err["error"]["details"]["restriction"], "mfa_enrollment",
        "{context}"
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sign in again")),
        "{context}: {err}"
    );
    let res = app.get("/v2/accounts/settings", Some(token)).await;
    assert_eq!(res.status(), 403, "{context}");
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"],
        "SESSION_RESTRICTED"
    );
    let (status, doc) = call(app, reqwest::Method::GET, "/api/user/mfa", token, None).await;
    assert_eq!(status, 200, "{context}: enrolment stays reachable: {doc}");
}

async fn ordinary_routes_work(app: &TestApp, token: &str, context: &str) {
    let (status, doc) = call(app, reqwest::Method::GET, "/api/user/profile", token, None).await;
    assert_eq!(status, 200, "{context}: {doc}");
}

async fn requiring_mfa_restricts_live_sessions_of_members_without_it(app: TestApp) {
    let account = app.default_account_id().await;
    // PostgreSQL: a second server on the same database, which must apply the change made
    // through the first within the 2 s bound of decision 0011.
    let other_node = match app.db.backend {
        crate::support::Backend::Postgres => Some(TestApp::start(app.db.sibling(), &[]).await),
        crate::support::Backend::Sqlite => None,
    };
    let switches = [
        MfaSwitch::AccountSettings,
        MfaSwitch::Catalog,
        MfaSwitch::Tenant,
    ];
    let mut caught = Vec::new();
    for (i, through) in switches.into_iter().enumerate() {
        let context = format!("{through:?}");
        let (email, token) = signed_in_member(&app, &account, "developer").await;
        let elsewhere = match &other_node {
            Some(_) => Some(signed_in_member(&app, &account, "viewer").await.1),
            None => None,
        };
        ordinary_routes_work(&app, &token, &context).await;

        require_mfa(&app, through, true).await;
        // The very next request on this node is restricted.
        assert_restricted_to_enrollment(&app, &token, &context).await;
        if let (Some(node), Some(t)) = (&other_node, &elsewhere) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            loop {
                let (status, _) =
                    call(node, reqwest::Method::GET, "/api/user/profile", t, None).await;
                if status == 403 {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{context}: the other node still serves the session"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_restricted_to_enrollment(node, t, &context).await;
        }
        // API keys of members without MFA keep working (decision 0016, addendum).
        assert_eq!(
            app.get("/v2/accounts/settings", Some(app.owner_key()))
                .await
                .status(),
            200,
            "{context}: the owner's key"
        );
        caught.push((email, token));
        if i + 1 < switches.len() {
            require_mfa(&app, through, false).await;
            // Like a restricted sign-in, a restricted session stays so: turning the
            // requirement off again does not lift it.
            for (_, t) in &caught {
                assert_restricted_to_enrollment(&app, t, "requirement off again").await;
            }
            let (_, fresh) = signed_in_member(&app, &account, "developer").await;
            ordinary_routes_work(&app, &fresh, "a sign-in without the requirement").await;
        }
    }

    // The requirement is on. The last member enrols through the restricted session; as for a
    // restricted sign-in, the session stays restricted and a sign-in with the code is full.
    let (email, token) = caught.pop().expect("a member");
    let secret = enrol_totp(&app, &token, None).await.secret;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs()
    };
    assert_restricted_to_enrollment(&app, &token, "enrolled, not signed in again").await;
    let (status, err) = login(&app, json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "MFA_REQUIRED");
    let code = tenantry_security::code_for(&secret, now()).expect("code");
    let (status, doc) = login(
        &app,
        json!({"email": email, "password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["restricted"], Value::Null);
    let full = doc["data"]["token"].as_str().expect("token").to_owned();
    ordinary_routes_work(&app, &full, "signed in with the code").await;
    // An enrolled member's session is not restricted by the requirement either.
    ordinary_routes_work(&app, &full, "the next request").await;
    drop(other_node);
}

on_both_backends!(requiring_mfa_restricts_live_sessions_of_members_without_it);
