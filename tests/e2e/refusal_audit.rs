//! A wrong current password on the member's own password or address change is an attempt by
//! that member, not a sign-in by nobody: the account's log names the member and the attempt
//! (`password_change.failed`, `email_change.failed`), and never the password tried.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{call, TestApp};

const PASSWORD: &str = "a long enough passphrase for refusals";
const GUESS: &str = "a guessed passphrase that is wrong";

/// The owner's user id, after setting their first password.
async fn owner_with_password(app: &TestApp) -> String {
    let key = crate::email_change::owner_with_password(app, PASSWORD).await;
    crate::team_members::user_id(app, &key).await
}

/// `(actor, diff)` of every entry of `action`.
fn entries(app: &TestApp, action: &str) -> Vec<(String, String)> {
    let actors = app.query_texts(&format!(
        "SELECT actor AS t FROM audit_log WHERE action = '{action}' ORDER BY created_at, id"
    ));
    let diffs = app.query_texts(&format!(
        "SELECT COALESCE(diff, '') AS t FROM audit_log WHERE action = '{action}' ORDER BY created_at, id"
    ));
    actors.into_iter().zip(diffs).collect()
}

async fn a_wrong_current_password_on_a_password_change_is_audited_as_the_member(app: TestApp) {
    let owner = owner_with_password(&app).await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(json!({ "current_password": GUESS, "new_password": "another long passphrase 7" })),
    )
    .await;
    assert_eq!(status, 403);
    let audited = entries(&app, "password_change.failed");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].0, owner, "names the signed-in member");
    assert!(!audited[0].1.contains(GUESS), "never the password tried");
    let account = app.default_account_id().await;
    let accounts = app.query_texts(
        "SELECT account_id AS t FROM audit_log WHERE action = 'password_change.failed'",
    );
    assert_eq!(accounts, [account], "in the member's account's log");
}

async fn a_wrong_current_password_on_an_email_change_is_audited_as_the_member(app: TestApp) {
    let owner = owner_with_password(&app).await;
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/email",
        app.owner_key(),
        Some(json!({ "email": "elsewhere@example.com", "current_password": GUESS })),
    )
    .await;
    assert_eq!(status, 403, "{doc}");
    let audited = entries(&app, "email_change.failed");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].0, owner, "names the signed-in member");
    assert!(!audited[0].1.contains(GUESS), "never the password tried");
    assert_eq!(entries(&app, "login.failed"), [], "nobody tried to sign in");
}

on_both_backends!(
    a_wrong_current_password_on_a_password_change_is_audited_as_the_member,
    a_wrong_current_password_on_an_email_change_is_audited_as_the_member,
);
