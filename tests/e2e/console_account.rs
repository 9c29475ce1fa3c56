//! The console's "my account" pages over plain HTTP: API keys, sessions, password,
//! profile. Every refusal (no form token,
//! another session's token, an oversized field, a key above the visitor's role, a restricted
//! session, no session) is checked to have changed nothing, through the API.

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, Visitor, PASSWORD};
use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};

on_both_backends!(
    console_api_keys_create_show_once_use_regenerate_delete,
    console_api_key_refusals_change_nothing,
    console_api_keys_stay_out_of_reach_of_a_restricted_session,
    a_stale_console_session_gets_no_new_key_secret,
    console_sessions_list_end_one_and_end_all_others,
    console_session_refusals_change_nothing,
    console_password_change_and_its_refusals,
    an_expired_password_reaches_only_the_password_page,
    console_profile_name_and_email_change_with_confirmation,
    console_profile_refusals_change_nothing,
);

/// The secret a key page shows once.
fn shown_secret(body: &str) -> String {
    let marker = "data-copy=\"new-secret\">";
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no secret in:\n{body}"))
        + marker.len();
    body[at..at + body[at..].find('<').expect("end")].to_owned()
}

/// The names of the live keys the API lists for `key`'s holder.
async fn key_names(app: &TestApp, key: &str) -> Vec<String> {
    let (status, doc) = call(app, Method::GET, "/api/user/api-keys", key, None).await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|k| k["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn console_api_keys_create_show_once_use_regenerate_delete(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    let page = visitor.get("/console/account/api-keys").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.headers.get("cache-control").expect("cache-control"),
        "no-store"
    );
    assert!(page
        .body
        .contains("href=\"/console/account/api-keys\" aria-current=\"page\""));
    let csrf = page.hidden("csrf");
    let created = visitor
        .post(
            "/console/account/api-keys",
            &[
                ("csrf", &csrf),
                ("name", "deploy bot"),
                ("scopes", "keys:read"),
                ("scopes", "team:read"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = shown_secret(&created.body);
    // The key is the API's: it reads within its scopes, and nothing beyond them.
    let (status, doc) = call(&app, Method::GET, "/api/user/api-keys", &secret, None).await;
    assert_eq!(status, 200, "{doc}");
    let key = doc["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|k| k["name"] == "deploy bot")
        .expect("the new key")
        .clone();
    assert_eq!(key["scopes"], json!(["keys:read", "team:read"]));
    assert!(key["expires_at"].is_string());
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &secret,
        Some(json!({ "name": "more" })),
    )
    .await;
    assert_eq!(status, 403, "a keys:read key writes no keys");
    // Shown once: the listing names the key and never shows its secret again.
    let listed = visitor.get("/console/account/api-keys").await;
    assert!(listed.body.contains("deploy bot"));
    assert!(!listed.body.contains(&secret));

    let id = key["id"].as_str().expect("id");
    let regenerated = visitor
        .post(
            &format!("/console/account/api-keys/{id}/regenerate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.body);
    let renewed = shown_secret(&regenerated.body);
    assert_ne!(renewed, secret);
    assert_eq!(
        app.get("/api/user/api-keys", Some(&secret)).await.status(),
        401,
        "the old secret stopped working"
    );
    assert_eq!(
        app.get("/api/user/api-keys", Some(&renewed)).await.status(),
        200
    );

    let deleted = visitor
        .post(
            &format!("/console/account/api-keys/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(deleted.body.contains("The key was deleted"));
    assert_eq!(
        app.get("/api/user/api-keys", Some(&renewed)).await.status(),
        401
    );
    assert!(!key_names(&app, app.owner_key())
        .await
        .contains(&"deploy bot".to_owned()));
}

async fn console_api_key_refusals_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let before = key_names(&app, app.owner_key()).await;
    let mut visitor = Visitor::new(&app);
    let mut other = Visitor::new(&app);
    // Anonymous: the sign-in page, no key.
    let anonymous = visitor
        .post("/console/account/api-keys", &[("name", "x")])
        .await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.location(), "/console/login");
    assert_eq!(visitor.get("/console/account/api-keys").await.status, 303);

    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    assert_eq!(other.sign_in("owner@localhost", PASSWORD).await.status, 303);
    let csrf = visitor
        .get("/console/account/api-keys")
        .await
        .hidden("csrf");
    let foreign = other.get("/console/account/api-keys").await.hidden("csrf");
    for form in [
        vec![("name", "no token")],
        vec![("csrf", foreign.as_str()), ("name", "foreign token")],
    ] {
        let res = visitor.post("/console/account/api-keys", &form).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.body.contains("This form has expired"));
    }
    let long_name = "n".repeat(201);
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", &long_name)],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Name is longer than"), "{}", res.body);
    let huge = "s".repeat(20_000);
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "big"), ("scopes", &huge)],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "a"), ("name", "b")],
        )
        .await;
    assert_eq!(res.status, 400, "a field sent twice");
    // Refused by the service's rules: shown beside the field, with what was typed kept.
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[
                ("csrf", &csrf),
                ("name", "bad days"),
                ("expires_in_days", "0"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"days-error\""), "{}", res.body);
    assert!(res.body.contains("value=\"bad days\""));
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[
                ("csrf", &csrf),
                ("name", "words"),
                ("expires_in_days", "soon"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "  "), ("scopes", "keys:read")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"name-error\""), "{}", res.body);
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "odd"), ("scopes", "root:write")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"scopes-error\""), "{}", res.body);

    // A viewer: a key above the role is refused beside the scopes; so is deleting the owner's
    // key by its id (not theirs) and regenerating it.
    let account = app.default_account_id().await;
    let viewer_key = app.add_member(&account, "viewer");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &viewer_key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (_, profile) = call(&app, Method::GET, "/api/user/profile", &viewer_key, None).await;
    let viewer_email = profile["data"]["email"]
        .as_str()
        .or_else(|| profile["email"].as_str())
        .unwrap_or_else(|| panic!("email in {profile}"))
        .to_owned();
    let mut viewer = Visitor::new(&app);
    assert_eq!(viewer.sign_in(&viewer_email, PASSWORD).await.status, 303);
    let viewer_csrf = viewer.get("/console/account/api-keys").await.hidden("csrf");
    let res = viewer
        .post(
            "/console/account/api-keys",
            &[
                ("csrf", &viewer_csrf),
                ("name", "escalate"),
                ("scopes", "team:write"),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res
        .body
        .contains("A viewer cannot hold a key with scope team:write"));
    assert!(res.body.contains("id=\"scopes-error\""));
    let (_, owner_keys) = call(
        &app,
        Method::GET,
        "/api/user/api-keys",
        app.owner_key(),
        None,
    )
    .await;
    let owner_key_id = owner_keys["data"][0]["id"].as_str().expect("id").to_owned();
    for action in ["regenerate", "delete"] {
        let res = viewer
            .post(
                &format!("/console/account/api-keys/{owner_key_id}/{action}"),
                &[("csrf", &viewer_csrf)],
            )
            .await;
        assert_eq!(res.status, 303, "{action}: {}", res.body);
        assert!(!res.body.contains("data-copy"));
    }
    // Another session's token does not delete either.
    let res = visitor
        .post(
            &format!("/console/account/api-keys/{owner_key_id}/delete"),
            &[("csrf", &foreign)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(key_names(&app, app.owner_key()).await, before);
    assert_eq!(key_names(&app, &viewer_key).await, vec!["test".to_owned()]);
    assert_eq!(
        app.get("/api/user/api-keys", Some(app.owner_key()))
            .await
            .status(),
        200
    );
}

async fn console_api_keys_stay_out_of_reach_of_a_restricted_session(app: TestApp) {
    set_owner_password(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let before = key_names(&app, app.owner_key()).await;
    let mut visitor = Visitor::new(&app);
    assert_eq!(
        visitor
            .sign_in("owner@localhost", PASSWORD)
            .await
            .location(),
        "/console/account/mfa"
    );
    let page = visitor.get("/console/account/api-keys").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/console/account/mfa");
    let csrf = visitor.get("/console/account/mfa").await.hidden("csrf");
    let res = visitor
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "sneaky")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(key_names(&app, app.owner_key()).await, before);
}

/// The id of the session `token` (as the API lists it).
async fn session_id(app: &TestApp, token: &str) -> String {
    let (status, list) = call(app, Method::GET, "/api/auth/sessions", token, None).await;
    assert_eq!(status, 200, "{list}");
    list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .expect("current session")
        .to_owned()
}

async fn signed_in_owner(app: &TestApp) -> Visitor<'_> {
    let mut visitor = Visitor::new(app);
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    visitor
}

async fn console_sessions_list_end_one_and_end_all_others(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let page = me.get("/console/account/sessions").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body.matches("<dt>Signed in</dt>").count(), 2);
    assert_eq!(page.body.matches("This session").count(), 1);
    let other_id = session_id(&app, other.session().expect("session")).await;
    let mine = session_id(&app, me.session().expect("session")).await;
    assert!(page
        .body
        .contains(&format!("/console/account/sessions/{other_id}/revoke")));
    assert!(
        !page
            .body
            .contains(&format!("/console/account/sessions/{mine}/revoke")),
        "the session in use ends by signing out"
    );
    let csrf = page.hidden("csrf");
    let ended = me
        .post(
            &format!("/console/account/sessions/{other_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    assert!(ended.body.contains("The session was ended."));
    assert_eq!(other.get("/console").await.location(), "/console/login");
    assert!(other.session().is_none());

    let mut third = signed_in_owner(&app).await;
    let mut fourth = signed_in_owner(&app).await;
    let third_token = third.session().expect("session").to_owned();
    let all = me
        .post(
            "/console/account/sessions/others/revoke",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(
        all.body.contains("2 other sessions were ended."),
        "{}",
        all.body
    );
    assert_eq!(third.get("/console").await.status, 303);
    assert_eq!(fourth.get("/console").await.status, 303);
    assert_eq!(
        app.get("/api/auth/sessions", Some(&third_token))
            .await
            .status(),
        401,
        "ended for the API too"
    );
    assert_eq!(me.get("/console").await.status, 200, "this one stays");
    assert!(!all.body.contains("End all other sessions"));
}

async fn console_session_refusals_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let anonymous = Visitor::new(&app)
        .post("/console/account/sessions/others/revoke", &[])
        .await;
    assert_eq!(anonymous.location(), "/console/login");
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let other_id = session_id(&app, other.session().expect("session")).await;
    let foreign = other.get("/console/account/sessions").await.hidden("csrf");
    let revoke = format!("/console/account/sessions/{other_id}/revoke");
    for form in [vec![], vec![("csrf", foreign.as_str())]] {
        for path in [revoke.as_str(), "/console/account/sessions/others/revoke"] {
            let res = me.post(path, &form).await;
            assert_eq!(res.status, 403, "{path}: {}", res.body);
            assert!(res.body.contains("This form has expired"));
        }
    }
    let csrf = me.get("/console/account/sessions").await.hidden("csrf");
    let long = format!("/console/account/sessions/{}/revoke", "s".repeat(150));
    let res = me.post(&long, &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 400, "{}", res.body);
    // Another member cannot end the owner's session by its id.
    let account = app.default_account_id().await;
    let viewer_key = app.add_member(&account, "viewer");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &viewer_key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (_, profile) = call(&app, Method::GET, "/api/user/profile", &viewer_key, None).await;
    let viewer_email = profile["data"]["email"]
        .as_str()
        .or_else(|| profile["email"].as_str())
        .expect("email")
        .to_owned();
    let mut viewer = Visitor::new(&app);
    assert_eq!(viewer.sign_in(&viewer_email, PASSWORD).await.status, 303);
    let viewer_csrf = viewer.get("/console/account/sessions").await.hidden("csrf");
    let res = viewer.post(&revoke, &[("csrf", &viewer_csrf)]).await;
    assert_eq!(res.status, 303);
    let res = viewer
        .post(
            "/console/account/sessions/others/revoke",
            &[("csrf", &viewer_csrf)],
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("0 other sessions were ended."),
        "{}",
        res.body
    );
    assert_eq!(other.get("/console").await.status, 200, "still signed in");
    assert_eq!(me.get("/console").await.status, 200, "still signed in");

    // A session restricted to enrolling MFA reaches none of it.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut restricted = Visitor::new(&app);
    restricted.sign_in("owner@localhost", PASSWORD).await;
    let mfa_csrf = restricted.get("/console/account/mfa").await.hidden("csrf");
    assert_eq!(
        restricted.get("/console/account/sessions").await.location(),
        "/console/account/mfa"
    );
    let count = |doc: serde_json::Value| doc["data"].as_array().map_or(0, Vec::len);
    let (_, before) = call(
        &app,
        Method::GET,
        "/api/auth/sessions",
        app.owner_key(),
        None,
    )
    .await;
    let res = restricted
        .post(
            "/console/account/sessions/others/revoke",
            &[("csrf", &mfa_csrf)],
        )
        .await;
    assert_eq!(res.location(), "/console/account/mfa");
    let (_, after) = call(
        &app,
        Method::GET,
        "/api/auth/sessions",
        app.owner_key(),
        None,
    )
    .await;
    assert!(count(before.clone()) >= 3, "{before}");
    assert_eq!(count(before), count(after), "no session was ended");
}

const NEW_PASSWORD: &str = "a-fresh-console-passphrase-8";

async fn console_password_change_and_its_refusals(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let page = me.get("/console/account/password").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<label>Current password"));
    let csrf = page.hidden("csrf");
    let foreign = other.get("/console/account/password").await.hidden("csrf");
    let change = |current: &'static str, new: &'static str, repeat: &'static str| {
        vec![
            ("current_password", current),
            ("new_password", new),
            ("repeat_password", repeat),
        ]
    };
    let good = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    for token in ["", foreign.as_str()] {
        let form = [&[("csrf", token)][..], &good[..]].concat();
        let res = me.post("/console/account/password", &form).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.body.contains("This form has expired"));
    }
    let long = "p".repeat(1025);
    let res = me
        .post(
            "/console/account/password",
            &[
                ("csrf", csrf.as_str()),
                ("current_password", PASSWORD),
                ("new_password", &long),
                ("repeat_password", &long),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    for (form, status, field) in [
        (
            change("not-the-password-77", NEW_PASSWORD, NEW_PASSWORD),
            403,
            "current_password-error",
        ),
        (
            change("", NEW_PASSWORD, NEW_PASSWORD),
            403,
            "current_password-error",
        ),
        (
            change(PASSWORD, NEW_PASSWORD, "something-else-entirely-1"),
            422,
            "repeat_password-error",
        ),
        (
            change(PASSWORD, "short", "short"),
            422,
            "new_password-error",
        ),
    ] {
        let form = [&[("csrf", csrf.as_str())][..], &form[..]].concat();
        let res = me.post("/console/account/password", &form).await;
        assert_eq!(res.status, status, "{}", res.body);
        assert!(
            res.body.contains(&format!("id=\"{field}\"")),
            "{field}: {}",
            res.body
        );
        assert!(res.body.contains("Nothing was changed."));
    }
    // Nothing changed: the old password still signs in, the other session still works.
    assert_eq!(other.get("/console").await.status, 200);
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", PASSWORD)
            .await
            .status,
        303
    );

    let form = [&[("csrf", csrf.as_str())][..], &good[..]].concat();
    let done = me.post("/console/account/password", &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Your password is changed."));
    assert_eq!(me.get("/console").await.status, 200, "this session stays");
    assert_eq!(other.get("/console").await.status, 303, "the others end");
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        Visitor::new(&app)
            .sign_in("owner@localhost", NEW_PASSWORD)
            .await
            .status,
        303
    );
}

async fn an_expired_password_reaches_only_the_password_page(app: TestApp) {
    set_owner_password(&app).await;
    let res = app
        .client
        .patch(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
        .bearer_auth(app.owner_key())
        .json(&json!({"securityPreferences": {"requireMFA": false, "passwordExpiration": 30}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let now_micros = i64::try_from(crate::console::now()).expect("time") * 1_000_000;
    let forty_days_ago = now_micros - 40 * 86_400 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE users SET password_changed_at = {forty_days_ago}"
    ));
    let mut me = Visitor::new(&app);
    let signed = me.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(signed.location(), "/console/account/password");
    for page in [
        "/console",
        "/console/account/api-keys",
        "/console/account/sessions",
        "/console/account/mfa",
    ] {
        let res = me.get(page).await;
        assert_eq!(res.status, 303, "{page}");
        assert_eq!(res.location(), "/console/account/password", "{page}");
    }
    let page = me.get("/console/account/password").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Your password has expired"));
    assert!(
        !page.body.contains("aria-label=\"Console\""),
        "no navigation"
    );
    let csrf = page.hidden("csrf");
    let done = me
        .post(
            "/console/account/password",
            &[
                ("csrf", csrf.as_str()),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Sign in again"));
    // As the API's: the restriction stays with this session; a new sign-in is a full one.
    assert_eq!(
        me.get("/console").await.location(),
        "/console/account/password"
    );
    me.post("/console/logout", &[("csrf", &csrf)]).await;
    let again = me.sign_in("owner@localhost", NEW_PASSWORD).await;
    assert_eq!(again.location(), "/console");
    assert_eq!(me.get("/console").await.status, 200);
}

async fn owner_profile(app: &TestApp) -> serde_json::Value {
    let (status, doc) = call(app, Method::GET, "/api/user/profile", app.owner_key(), None).await;
    assert_eq!(status, 200, "{doc}");
    doc["data"].clone()
}

async fn console_profile_name_and_email_change_with_confirmation(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let page = me.get("/console/account/profile").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    let saved = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", "Ada <Owner>")],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(
        saved.body.contains("value=\"Ada &lt;Owner&gt;\""),
        "{}",
        saved.body
    );
    assert_eq!(owner_profile(&app).await["display_name"], "Ada <Owner>");

    let asked = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "moved@example.com"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("A message is on its way"));
    assert_eq!(
        owner_profile(&app).await["email"],
        "owner@localhost",
        "not before the link"
    );
    let eml = app.wait_for_eml("moved@example.com").await;
    let token = token_in(&eml, "tnt_emc_");
    let link = format!("/confirm-email/{token}");
    let confirm = me.get(&link).await;
    assert_eq!(confirm.status, 200);
    let done = me.post(&link, &[("csrf", &confirm.hidden("csrf"))]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(owner_profile(&app).await["email"], "moved@example.com");
}

async fn console_profile_refusals_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let csrf = me.get("/console/account/profile").await.hidden("csrf");
    let foreign = other.get("/console/account/profile").await.hidden("csrf");
    for token in ["", foreign.as_str()] {
        let res = me
            .post(
                "/console/account/profile",
                &[("csrf", token), ("display_name", "Forged")],
            )
            .await;
        assert_eq!(res.status, 403);
        let res = me
            .post(
                "/console/account/profile/email",
                &[
                    ("csrf", token),
                    ("email", "elsewhere@example.com"),
                    ("current_password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status, 403);
        assert!(res.body.contains("This form has expired"));
    }
    let long_name = "n".repeat(201);
    let res = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", &long_name)],
        )
        .await;
    assert_eq!(res.status, 400);
    let long_email = "e".repeat(400) + "@example.com";
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", &long_email),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "elsewhere@example.com"),
                ("current_password", "not-the-password-11"),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("id=\"password-error\""));
    assert!(res.body.contains("value=\"elsewhere@example.com\""));
    let res = me
        .post(
            "/console/account/profile/email",
            &[
                ("csrf", &csrf),
                ("email", "not an address"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"email-error\""));
    let res = me
        .post(
            "/console/account/profile",
            &[("csrf", &csrf), ("display_name", "bad\u{202e}name")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"name-error\""));
    let profile = owner_profile(&app).await;
    assert_eq!(profile["email"], "owner@localhost");
    assert_eq!(
        profile["display_name"],
        serde_json::Value::Null,
        "{profile}"
    );
    assert!(
        app.query_texts("SELECT new_email AS t FROM email_changes")
            .is_empty(),
        "no change was opened"
    );
}

async fn a_stale_console_session_gets_no_new_key_secret(app: TestApp) {
    set_owner_password(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"session": {"require_reauth_for_sensitive": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, keys) = call(
        &app,
        Method::GET,
        "/api/user/api-keys",
        app.owner_key(),
        None,
    )
    .await;
    let id = keys["data"][0]["id"].as_str().expect("id").to_owned();
    let mut me = signed_in_owner(&app).await;
    let csrf = me.get("/console/account/api-keys").await.hidden("csrf");
    let twenty_minutes_ago =
        i64::try_from(crate::console::now()).expect("time") * 1_000_000 - 20 * 60 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {twenty_minutes_ago}"
    ));
    let before = key_names(&app, app.owner_key()).await;
    let created = me
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "stale")],
        )
        .await;
    assert_eq!(created.status, 403, "{}", created.body);
    assert!(created.body.contains("sign in again"), "{}", created.body);
    assert!(created.body.contains("value=\"stale\""));
    let regenerated = me
        .post(
            &format!("/console/account/api-keys/{id}/regenerate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(regenerated.status, 403);
    assert!(!regenerated.body.contains("data-copy"));
    assert_eq!(key_names(&app, app.owner_key()).await, before);
    assert_eq!(
        app.get("/api/user/api-keys", Some(app.owner_key()))
            .await
            .status(),
        200,
        "the key was not regenerated"
    );
    // Signing in again is the way.
    let mut fresh = signed_in_owner(&app).await;
    let csrf = fresh.get("/console/account/api-keys").await.hidden("csrf");
    let res = fresh
        .post(
            "/console/account/api-keys",
            &[("csrf", &csrf), ("name", "fresh")],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
}
