//! The console's "my account" pages over plain HTTP: API keys and sessions (password and
//! profile: console_password_profile.rs). Every refusal (no form token,
//! another session's token, an oversized field, a key above the visitor's role, a restricted
//! session, no session) is checked to have changed nothing, through the API.

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, signed_in_as, signed_in_member, Visitor, PASSWORD};
use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(
    console_api_keys_create_show_once_use_regenerate_delete,
    console_api_key_refusals_change_nothing,
    console_api_keys_stay_out_of_reach_of_a_restricted_session,
    a_stale_console_session_gets_no_new_key_secret,
    console_sessions_list_end_one_and_end_all_others,
    console_session_refusals_change_nothing,
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
    let (mut viewer, viewer_member) = signed_in_member(&app, "viewer").await;
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
    assert_eq!(
        key_names(&app, &viewer_member.key).await,
        vec!["test".to_owned()]
    );
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

pub(crate) async fn signed_in_owner(app: &TestApp) -> Visitor<'_> {
    signed_in_as(app, "owner@localhost").await
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
    let (mut viewer, _) = signed_in_member(&app, "viewer").await;
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
