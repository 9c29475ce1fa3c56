//! An invitation link is no way around a second factor: in an account that requires one, a
//! member who joins without it gets no API key (they sign in, which confines them to enrolling);
//! an existing user who has one accepts only signed in with it, never with a password alone;
//! and a portal session, which nobody signed in to, proves no identity to accept with.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, enrol_totp, TestApp};
use crate::team_invitations::{anon, mailed_link};
use crate::team_members::user_id;

const PASSWORD: &str = "a long enough passphrase for invitations";

async fn invite(app: &TestApp, email: &str, role: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": email, "role": role })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let mail = app.wait_for_eml_containing(email, "tnt_inv_").await;
    mailed_link(&mail)
}

async fn keys_of(app: &TestApp, user: &str) -> Vec<String> {
    app.query_texts(&format!(
        "SELECT id AS t FROM api_keys WHERE user_id = '{user}'"
    ))
}

/// Gives the owner of `key` a password and an enabled authenticator; returns a backup code.
async fn enrol(app: &TestApp, key: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/user/password",
        key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let mut enrolment = enrol_totp(app, key, Some(PASSWORD)).await;
    enrolment.backup_codes.swap_remove(0)
}

async fn status_of(app: &TestApp, link: &str) -> Value {
    let (status, preview) = anon(app, Method::GET, link, None).await;
    assert_eq!(status, 200, "{preview}");
    preview["invitation"]["status"].clone()
}

async fn invitations_never_bypass_a_second_factor(app: TestApp) {
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // A new person joins an account that requires a second factor: a member, no key.
    let link = invite(&app, "newbie@example.com", "admin").await;
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("{link}/accept"),
        Some(json!({ "name": "New Person", "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["apiKey"], Value::Null, "{doc}");
    assert_eq!(doc["mfaEnrollmentRequired"], true, "{doc}");
    let newbie = doc["member"]["id"].as_str().expect("id").to_owned();
    assert_eq!(keys_of(&app, &newbie).await, Vec::<String>::new());
    let (status, session) = anon(
        &app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": "newbie@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let token = session["data"]["token"].as_str().expect("token").to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &token,
        Some(json!({ "name": "mine" })),
    )
    .await;
    assert_eq!(status, 403, "the sign-in is confined to enrolling: {doc}");

    // An existing user with an authenticator: their password alone does not accept.
    let other = app.create_account("other", "someone@example.com").await;
    let other_key = other["owner_api_key"].as_str().expect("key").to_owned();
    let backup = enrol(&app, &other_key).await;
    let someone = user_id(&app, &other_key).await;
    let link = invite(&app, "someone@example.com", "developer").await;
    let accept = format!("{link}/accept");
    let (status, doc) = anon(
        &app,
        Method::POST,
        &accept,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 401, "{doc}");
    assert_eq!(doc["error"], "SIGN_IN_REQUIRED", "{doc}");
    assert_eq!(doc["details"]["reason"], "second_factor", "{doc}");
    assert_eq!(status_of(&app, &link).await, "pending");
    assert_eq!(keys_of(&app, &someone).await.len(), 1, "only their own key");

    // Signed in with a code, they accept with that session and hold a key of the account.
    let (status, session) = anon(
        &app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": "someone@example.com", "password": PASSWORD, "code": backup, "account": "other" })),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let token = session["data"]["token"].as_str().expect("token").to_owned();
    let (status, doc) = call(&app, Method::POST, &accept, &token, Some(json!({}))).await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["mfaEnrollmentRequired"], false, "{doc}");
    let key = doc["apiKey"]["key"].as_str().expect("a key").to_owned();
    assert_eq!(app.get("/api/organization", Some(&key)).await.status(), 200);
}

/// Someone who may mint portal links for a member (an admin of one of their accounts) must not
/// turn the link's session into the member's identity elsewhere: accepting an invitation sent
/// to the member would hand that minter a full key in the inviting account.
async fn a_portal_session_cannot_accept_an_invitation(app: TestApp) {
    let other = app.create_account("other", "someone@example.com").await;
    let other_key = other["owner_api_key"].as_str().expect("key").to_owned();
    let someone = user_id(&app, &other_key).await;
    let link = invite(&app, "someone@example.com", "developer").await;
    let (status, minted) = call(
        &app,
        Method::POST,
        "/v2/accounts/portal-links",
        &other_key,
        Some(json!({ "userId": someone, "intent": "settings", "returnUrl": "https://app.example.test/" })),
    )
    .await;
    assert_eq!(status, 201, "{minted}");
    let session = app
        .redeem_portal_link(minted["url"].as_str().expect("url"), None)
        .expect("redeemed")
        .session
        .token;
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("{link}/accept"),
        &session,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"], "REAUTH_REQUIRED", "{doc}");
    assert_eq!(status_of(&app, &link).await, "pending");
}

on_both_backends!(invitations_never_bypass_a_second_factor);
on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_portal_session_cannot_accept_an_invitation);
