//! What an attacker who knew only the README found in the team, permission and transfer
//! features, each replayed: two changes that are each allowed must not combine into one that is
//! not; a stale session cannot lift the re-authentication rule; a transfer hands over the
//! owner's whole power; resending an invitation stays within the sender's own permissions;
//! every password proven (invitation, password change, email change) draws on the sign-in's
//! budget.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

const PASSWORD: &str = "a long enough passphrase for regressions";

async fn user_id(app: &TestApp, key: &str) -> String {
    let (_, profile) = call(app, Method::GET, "/api/user/profile", key, None).await;
    profile["data"]["id"].as_str().expect("id").to_owned()
}

async fn set_permissions(app: &TestApp, user: &str, body: Value) {
    let (status, doc) = call(
        app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{user}"),
        app.owner_key(),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
}

fn member_row(app: &TestApp, user: &str) -> (String, String) {
    let role = app
        .query_texts(&format!(
            "SELECT role AS t FROM memberships WHERE user_id = '{user}'"
        ))
        .remove(0);
    let permissions = app
        .query_texts(&format!(
            "SELECT COALESCE(permissions, 'null') AS t FROM memberships WHERE user_id = '{user}'"
        ))
        .remove(0);
    (role, permissions)
}

/// A narrowed admin races a role raise (bulk) against a reset of the member's narrowing list
/// (PUT): each alone is within the admin's power, together they made a full admin. The member
/// row is now checked against what each change was authorized for, so one of them loses.
async fn two_allowed_changes_never_combine_into_a_forbidden_one(app: TestApp) {
    let account = app.default_account_id().await;
    let narrowed = app.add_member(&account, "admin");
    let narrowed_id = user_id(&app, &narrowed).await;
    set_permissions(
        &app,
        &narrowed_id,
        json!({ "permissions": ["read", "manage_team"] }),
    )
    .await;
    let target_key = app.add_member(&account, "viewer");
    let target = user_id(&app, &target_key).await;
    let target_path = format!("/v2/accounts/team/members/{target}");
    for round in 0..12 {
        set_permissions(
            &app,
            &target,
            json!({ "role": "viewer", "permissions": [] }),
        )
        .await;
        let raise = call(
            &app,
            Method::POST,
            "/v2/accounts/team/members/bulk",
            &narrowed,
            Some(
                json!({ "operation": "update_role", "members": [target], "data": { "role": "admin" } }),
            ),
        );
        let reset = call(
            &app,
            Method::PUT,
            &target_path,
            &narrowed,
            Some(json!({ "permissions": null })),
        );
        let ((s1, d1), (s2, d2)) = tokio::join!(raise, reset);
        let (role, permissions) = member_row(&app, &target);
        assert!(
            !(role == "admin" && permissions == "null"),
            "round {round}: the member became a full admin ({s1} {d1}; {s2} {d2})"
        );
    }
}

/// A session older than the re-authentication window cannot switch the rule off (and then
/// mint an unscoped key and transfer the account with it).
async fn a_stale_session_cannot_lift_reauthentication(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    let session = doc["data"]["token"].as_str().expect("token").to_owned();
    // Signed in eleven minutes ago (before the session's first use, so nothing has cached it).
    app.db.execute(
        "UPDATE sessions SET created_at = created_at - 660000000, last_seen_at = last_seen_at - 60000000",
    );
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &session,
        Some(json!({ "session": { "require_reauth_for_sensitive": false } })),
    )
    .await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"], "REAUTH_REQUIRED", "{doc}");
    let (_, security) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/security",
        &owner,
        None,
    )
    .await;
    assert_eq!(security["session"]["require_reauth_for_sensitive"], true);
    // Other security changes from the same session are not sensitive in themselves.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &session,
        Some(json!({ "session": { "concurrent_sessions": 4 } })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
}

/// The new owner holds the owner's whole power, whatever narrowing they had as an admin; and a
/// narrowed admin cannot resend an invitation that grants more than they hold.
async fn transfer_and_resend_stay_within_power(app: TestApp) {
    let account = app.default_account_id().await;
    let narrowed = app.add_member(&account, "admin");
    let narrowed_id = user_id(&app, &narrowed).await;
    set_permissions(
        &app,
        &narrowed_id,
        json!({ "permissions": ["read", "manage_team"] }),
    )
    .await;

    let (status, invitation) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "full-admin@example.test", "role": "admin" })),
    )
    .await;
    assert!(status == 200 || status == 201, "{invitation}");
    let id = invitation["invitation"]["id"]
        .as_str()
        .or_else(|| invitation["id"].as_str())
        .expect("invitation id")
        .to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("/v2/accounts/team/invitations/{id}/resend"),
        &narrowed,
        None,
    )
    .await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"], "PERMISSIONS_EXCEED_OWN", "{doc}");

    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/transfer-ownership",
        app.owner_key(),
        Some(json!({ "userId": narrowed_id })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (role, permissions) = member_row(&app, &narrowed_id);
    assert_eq!((role.as_str(), permissions.as_str()), ("owner", "null"));
}

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
]; two_allowed_changes_never_combine_into_a_forbidden_one);
on_both_backends!(
    a_stale_session_cannot_lift_reauthentication,
    transfer_and_resend_stay_within_power,
    invitation_passwords_share_the_sign_in_throttle,
    current_passwords_share_the_sign_in_throttle,
    email_change_refusals_are_throttled_and_keep_the_caches,
);

/// A leaked invitation link is no way around the sign-in throttle: the password of an
/// existing user given to accept draws on the same budget as a sign-in, so guesses through
/// the link are refused like guesses at the sign-in, and a sign-in after them is too.
async fn invitation_passwords_share_the_sign_in_throttle(app: TestApp) {
    let other = app.create_account("other", "someone@example.com").await;
    let other_key = other["owner_api_key"].as_str().expect("key").to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &other_key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "someone@example.com", "role": "admin" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let mail = app
        .wait_for_eml_containing("someone@example.com", "tnt_inv_")
        .await;
    let link = crate::team_invitations::mailed_link(&mail);
    let accept = format!("{link}/accept");
    let mut refused = None;
    for attempt in 0..10 {
        let (status, doc) = crate::team_invitations::anon(
            &app,
            Method::POST,
            &accept,
            Some(json!({ "password": format!("guess number {attempt} of many") })),
        )
        .await;
        if status == 429 {
            assert_eq!(doc["error"], "RATE_LIMITED", "{doc}");
            refused = Some(attempt);
            break;
        }
        assert_eq!(status, 401, "{doc}");
    }
    let refused = refused.expect("guesses through the link are throttled");
    assert!(refused <= 5, "refused only after {refused} guesses");
    // The right password is refused too while the budget is spent, through the link and at
    // the sign-in alike.
    let (status, doc) = crate::team_invitations::anon(
        &app,
        Method::POST,
        &accept,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 429, "{doc}");
    let (status, doc) = crate::team_invitations::anon(
        &app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": "someone@example.com", "password": PASSWORD, "account": "other" })),
    )
    .await;
    assert_eq!(status, 429, "the sign-in shares the budget: {doc}");
    let actions = app.query_texts("SELECT action AS t FROM audit_log");
    assert!(
        !actions.iter().any(|a| a == "team.invitation_accepted"),
        "{actions:?}"
    );
}

/// A stolen credential is no way to guess the current password either: the password change
/// and the email change prove it behind the sign-in's throttle, with one budget for the three.
async fn current_passwords_share_the_sign_in_throttle(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let mut refused = None;
    for attempt in 0..10 {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/api/user/password",
            &key,
            Some(json!({
                "current_password": format!("guess number {attempt} of many"),
                "new_password": "the password an attacker would choose"
            })),
        )
        .await;
        if status == 429 {
            assert_eq!(doc["error"]["code"], "RATE_LIMITED", "{doc}");
            refused = Some(attempt);
            break;
        }
        assert_eq!(status, 403, "{doc}");
    }
    let refused = refused.expect("guesses at the current password are throttled");
    assert!(refused <= 5, "refused only after {refused} guesses");
    // The email change and the sign-in are refused too, even with the right password.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/email",
        &key,
        Some(json!({ "email": "attacker@example.com", "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 429, "the email change shares the budget: {doc}");
    let (status, doc) = crate::team_invitations::anon(
        &app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": "owner@localhost", "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 429, "the sign-in shares the budget: {doc}");
    let actions = app.query_texts("SELECT action AS t FROM audit_log");
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "user.password_changed")
            .count(),
        1,
        "only the first password was set: {actions:?}"
    );
}

/// An email change without the current password is a failed proof like a wrong one: it draws
/// on the sign-in's budget, so refusals (each an audit entry) cannot be had for free. And a
/// refusal changes nothing a cache holds, so it moves no epoch: a stream of them cannot keep
/// every tenant's caches cold (the change feed would carry a global change to every instance).
async fn email_change_refusals_are_throttled_and_keep_the_caches(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let global_changes =
        || app.query_texts("SELECT scope AS t FROM cache_changes WHERE scope = 'global'");
    let before = global_changes().len();
    let mut refused = None;
    for attempt in 0..10 {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/api/user/email",
            &key,
            Some(json!({ "email": "attacker@example.com" })),
        )
        .await;
        if status == 429 {
            assert_eq!(doc["error"]["code"], "RATE_LIMITED", "{doc}");
            refused = Some(attempt);
            break;
        }
        assert_eq!(status, 403, "{doc}");
    }
    let refused = refused.expect("email changes without a password are throttled");
    assert!(refused <= 5, "refused only after {refused} attempts");
    let failed =
        app.query_texts("SELECT action AS t FROM audit_log WHERE action = 'email_change.failed'");
    assert_eq!(
        failed.len(),
        refused,
        "one entry per refusal, none when throttled"
    );
    assert_eq!(
        global_changes().len(),
        before,
        "refusals move no cache epoch"
    );
}
