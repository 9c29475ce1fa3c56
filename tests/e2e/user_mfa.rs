//! Seed 03 `/api/user/mfa*`: a TOTP flow computed from the returned secret.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, enrol_totp, TestApp};

const PASSWORD: &str = "the owner's own passphrase";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

async fn totp_enrollment_codes_and_backup_codes(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(&app, reqwest::Method::GET, "/api/user/mfa", &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        json!({"data": {"enabled": false, "methods": [], "backup_codes_remaining": 0}})
    );

    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/enable",
        &key,
        Some(json!({"method": "sms"})),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    // An API key alone cannot bind a second factor: a leaked key would otherwise lock the user
    // out with a device of the leaker's. Without a password, there is nothing to prove yet.
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/enable",
        &key,
        Some(json!({"method": "totp"})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "REAUTH_REQUIRED");
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    for body in [
        json!({"method": "totp"}),
        json!({"method": "totp", "password": "not the password at all"}),
    ] {
        let (status, err) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/mfa/enable",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 403, "{body}: {err}");
        assert_eq!(
            app.query_texts("SELECT user_id AS t FROM user_mfa"),
            Vec::<String>::new(),
            "a refused enrollment stores nothing"
        );
    }
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/enable",
        &key,
        Some(json!({"method": "totp", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let secret = doc["data"]["secret"].as_str().expect("secret").to_owned();
    let enrollment = doc["data"]["enrollment_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(enrollment.starts_with("mfaenr_"));
    let uri = doc["data"]["otpauth_uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/Tenantry:owner%40localhost?secret=")
            && uri.contains(&secret),
        "{uri}"
    );

    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/verify",
        &key,
        Some(json!({"enrollment_id": enrollment, "code": "000000"})),
    )
    .await;
    assert!(
        status == 422 || tenantry_security::code_for(&secret, now()).as_deref() == Some("000000"),
        "{err}"
    );
    let code = tenantry_security::code_for(&secret, now()).expect("code");
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/verify",
        &key,
        Some(json!({"enrollment_id": enrollment, "code": code})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let backup: Vec<String> = doc["data"]["backup_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(backup.len(), 10);

    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/mfa", &key, None).await;
    assert_eq!(
        doc["data"],
        json!({"enabled": true, "methods": ["totp"], "backup_codes_remaining": 10})
    );
    let v2: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["security"]["two_factor"]["backup_codes"], 10);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/enable",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409);

    // Nothing secret is stored in clear.
    let stored = app.query_texts("SELECT secret_sealed AS t FROM user_mfa UNION ALL SELECT code_hash AS t FROM mfa_backup_codes");
    assert!(stored
        .iter()
        .all(|row| !row.contains(&secret) && backup.iter().all(|b| !row.contains(b.as_str()))));

    // Disabling needs the password and a code; the verified code's time step is spent (replay
    // refused), a backup code works.
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"current_password": PASSWORD, "new_password": "mfa-test-passphrase-1"})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/disable",
        &key,
        Some(json!({"password": "wrong", "code": backup[0]})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/disable",
        &key,
        Some(json!({"password": "mfa-test-passphrase-1", "code": code})),
    )
    .await;
    assert_eq!(status, 422, "the same code a second time: {err}");
    assert_eq!(err["error"]["code"], "INVALID_CODE");
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/disable",
        &key,
        Some(json!({"password": "mfa-test-passphrase-1", "code": backup[0]})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/mfa", &key, None).await;
    assert_eq!(doc["data"]["enabled"], false);
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/mfa/disable",
        &key,
        Some(json!({"password": "mfa-test-passphrase-1", "code": backup[1]})),
    )
    .await;
    assert_eq!(status, 409, "nothing to disable");
    let audited = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action LIKE 'user.mfa_%' ORDER BY created_at",
    );
    assert_eq!(audited, ["user.mfa_enabled", "user.mfa_disabled"]);
}

on_both_backends!(totp_enrollment_codes_and_backup_codes);

/// In an account that requires MFA, the keys of members without it keep working, but no new
/// secret is handed out to them (create, regenerate) until they enrol; deleting stays allowed.
async fn api_keys_under_required_mfa(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let account = app.default_account_id().await;
    let member = app.add_member(&account, "developer");
    let key_request = |name: &str| json!({"name": name, "scopes": ["settings:read"]});
    let mut held = Vec::new();
    for name in ["before-1", "before-2"] {
        let (status, doc) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/api-keys",
            &owner,
            Some(key_request(name)),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
        held.push((
            doc["data"]["id"].as_str().expect("id").to_owned(),
            doc["data"]["secret"].as_str().expect("secret").to_owned(),
        ));
    }

    let res = app
        .put(
            "/v2/accounts/settings/security",
            &owner,
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Keys keep working: machines cannot answer a TOTP challenge.
    for key in [owner.as_str(), member.as_str(), held[0].1.as_str()] {
        assert_eq!(app.get("/api/organization", Some(key)).await.status(), 200);
    }
    // But a member without MFA gets no new secret, whichever key asks.
    for caller in [&owner, &member] {
        let (status, err) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/api-keys",
            caller,
            Some(key_request("after")),
        )
        .await;
        assert_eq!(status, 403, "{err}");
        assert_eq!(err["error"]["code"], "MFA_ENROLLMENT_REQUIRED");
        assert!(err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/api/user/mfa/enable")));
    }
    let regenerate = |id: &str| format!("/api/user/api-keys/{id}/regenerate");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        &regenerate(&held[0].0),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "MFA_ENROLLMENT_REQUIRED");
    assert_eq!(
        app.get("/api/organization", Some(&held[0].1))
            .await
            .status(),
        200,
        "the refused regeneration left the secret as it was"
    );
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/user/api-keys/{}", held[1].0),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 204, "cleaning up is allowed");

    // Once the owner has enrolled, the owner's credentials may create and regenerate again;
    // the member, still without MFA, may not. Enrolling through a key proves the password.
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    enrol_totp(&app, &owner, Some(PASSWORD)).await;
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(key_request("after-enrolling")),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        &regenerate(&held[0].0),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &member,
        Some(key_request("still-not")),
    )
    .await;
    assert_eq!(status, 403, "{err}");

    // Without the requirement, MFA is not asked for.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &owner,
            &json!({"two_factor": {"enabled": false}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, doc) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &member,
        Some(key_request("no-requirement")),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
}

on_both_backends!(api_keys_under_required_mfa);

/// Turning MFA off cannot be guessed: wrong passwords and codes are counted with the sign-in's
/// budget, and once it is spent even the right password and a valid backup code are refused
/// (429), so a stolen session or key cannot try every code.
async fn guesses_at_turning_mfa_off_are_throttled(app: TestApp) {
    let key = app.owner_key().to_owned();
    let post = |path: &'static str, body: Value| {
        let app = &app;
        let key = key.clone();
        async move { call(app, reqwest::Method::POST, path, &key, Some(body)).await }
    };
    let (status, _) = post("/api/user/password", json!({"new_password": PASSWORD})).await;
    assert_eq!(status, 204);
    let mut enrolment = enrol_totp(&app, &key, Some(PASSWORD)).await;
    let backup = enrolment.backup_codes.swap_remove(0);

    let mut refused = None;
    for attempt in 0..10 {
        let body = if attempt % 2 == 0 {
            json!({"password": PASSWORD, "code": "not-a-code"})
        } else {
            json!({"password": "a wrong guess at the password", "code": "000000"})
        };
        let (status, doc) = post("/api/user/mfa/disable", body).await;
        if status == 429 {
            assert_eq!(doc["error"]["code"], "RATE_LIMITED", "{doc}");
            refused = Some(attempt);
            break;
        }
        assert!(status == 422 || status == 403, "{status}: {doc}");
    }
    let refused = refused.expect("guesses at turning MFA off are throttled");
    assert!(refused <= 5, "refused only after {refused} guesses");
    let (status, doc) = post(
        "/api/user/mfa/disable",
        json!({"password": PASSWORD, "code": backup}),
    )
    .await;
    assert_eq!(status, 429, "the right proof waits too: {doc}");
    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/mfa", &key, None).await;
    assert_eq!(doc["data"]["enabled"], true, "MFA stays on: {doc}");
}

on_both_backends!(guesses_at_turning_mfa_off_are_throttled);

/// Second-factor guesses have one budget per user, whatever the client address (decision
/// 0036's sibling in the sign-in throttle): a password holder spreading wrong codes over many
/// addresses (each far below the per-address limits) is stopped after the budget, then even
/// the right code gets 429 from the API, and the console, drawing on the same budget, says
/// to wait. The addresses come through a trusted proxy (`X-Forwarded-For`).
async fn code_guesses_spread_over_addresses_spend_one_budget(app: TestApp) {
    let key = app.owner_key().to_owned();
    let post = |path: &'static str, body: Value| {
        let app = &app;
        let key = key.clone();
        async move { call(app, reqwest::Method::POST, path, &key, Some(body)).await }
    };
    let (status, _) = post("/api/user/password", json!({"new_password": PASSWORD})).await;
    assert_eq!(status, 204);
    let secret = enrol_totp(&app, &key, Some(PASSWORD)).await.secret;
    let (_, profile) = call(&app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    let email = profile["data"]["email"].as_str().expect("email").to_owned();

    let login = |from: String, code: String| {
        let app = &app;
        let email = email.clone();
        async move {
            let res = app
                .client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", from)
                .json(&json!({ "email": email, "password": PASSWORD, "code": code }))
                .send()
                .await
                .expect("login");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let budget = tenantry_security::MAX_SECOND_FACTOR_FAILURES;
    for n in 0..budget {
        let (status, doc) = login(format!("198.51.100.{n}"), "000000x".into()).await;
        assert_eq!(status, 401, "guess {n}: {doc}");
    }
    let right = tenantry_security::code_for(&secret, now()).expect("code");
    let (status, doc) = login("203.0.113.9".into(), right.clone()).await;
    assert_eq!(status, 429, "the budget is spent: {doc}");
    assert_eq!(doc["error"]["code"], "RATE_LIMITED", "{doc}");

    // The console's sign-in, from yet another address, draws on the same budget.
    let mut visitor = crate::console::Visitor::new(&app);
    let step = visitor.sign_in(&email, PASSWORD).await;
    assert_eq!(step.status, 200, "{}", step.body);
    let refused = visitor
        .post(
            "/console/login",
            &[
                ("csrf", step.hidden("csrf").as_str()),
                ("email", email.as_str()),
                ("ticket", step.hidden("ticket").as_str()),
                ("code", right.as_str()),
            ],
        )
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.body.contains("Too many attempts"),
        "{}",
        refused.body
    );
    assert!(visitor.session().is_none());
}

on_both_backends!(env [("TENANTRY_TRUSTED_PROXIES", "127.0.0.1/32")];
    code_guesses_spread_over_addresses_spend_one_budget);
