//! Changing the sign-in address (`POST /api/user/email`, `POST /api/user/email/confirm/{token}`):
//! the current password to ask, the new mailbox to confirm, a notice to the old one, no oracle
//! for other identities, and no way onto an address another identity signs in with.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, token_in, TestApp};
use crate::team_invitations::anon;

crate::on_both_backends!(
    the_new_mailbox_confirms_the_change_and_the_old_one_is_told,
    asking_is_no_oracle_and_a_taken_address_stays_with_its_identity,
    a_newer_request_voids_the_earlier_links,
);

const PASSWORD: &str = "owner's own passphrase 1";

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    anon(
        app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

/// Gives the bootstrap owner (`owner@localhost`, no password yet) `password`.
pub(crate) async fn owner_with_password(app: &TestApp, password: &str) -> String {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/user/password",
        &key,
        Some(json!({ "new_password": password })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    key
}

async fn ask(app: &TestApp, key: &str, email: &str, password: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "email": email });
    if let Some(password) = password {
        body["current_password"] = json!(password);
    }
    call(app, Method::POST, "/api/user/email", key, Some(body)).await
}

async fn confirm(app: &TestApp, token: &str) -> (u16, Value) {
    anon(
        app,
        Method::POST,
        &format!("/api/user/email/confirm/{token}"),
        None,
    )
    .await
}

async fn profile_email(app: &TestApp, key: &str) -> Value {
    let (status, doc) = call(app, Method::GET, "/api/user/profile", key, None).await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]["email"].clone()
}

fn mail_with<'a>(mails: &'a [String], subject: &str) -> Vec<&'a String> {
    mails
        .iter()
        .filter(|m| m.contains(&format!("Subject: {subject}")))
        .collect()
}

/// The whole flow: the password guards the request, the link in the new mailbox applies it,
/// the old address is told and stops signing in, the new one signs in. A new password voids a
/// pending link; sessions stay.
async fn the_new_mailbox_confirms_the_change_and_the_old_one_is_told(app: TestApp) {
    let key = owner_with_password(&app, "first passphrase of the owner").await;

    // Without the current password, or with a wrong one: refused, nothing sent.
    for password in [None, Some("not the password 123")] {
        let (status, doc) = ask(&app, &key, "moved@example.com", password).await;
        assert_eq!(status, 403, "{doc}");
        assert_eq!(doc["error"]["code"], "INVALID_CURRENT_PASSWORD", "{doc}");
    }
    let (status, doc) = ask(
        &app,
        &key,
        "owner@localhost",
        Some("first passphrase of the owner"),
    )
    .await;
    assert_eq!(status, 422, "the address already is the caller's: {doc}");

    // A link asked for before a password change is void after it.
    let (status, doc) = ask(
        &app,
        &key,
        "stale@example.com",
        Some("first passphrase of the owner"),
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    let stale = token_in(&app.wait_for_eml("stale@example.com").await, "tnt_emc_");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &key,
        Some(json!({ "current_password": "first passphrase of the owner", "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (status, doc) = confirm(&app, &stale).await;
    assert_eq!(status, 404, "{doc}");
    assert_eq!(doc["error"]["code"], "EMAIL_LINK_INVALID", "{doc}");

    let (status, signed_in) = login(&app, "owner@localhost", PASSWORD).await;
    assert_eq!(status, 200, "{signed_in}");
    let session = signed_in["data"]["token"]
        .as_str()
        .expect("session")
        .to_owned();

    let (status, doc) = ask(&app, &session, "Moved@Example.com", Some(PASSWORD)).await;
    assert_eq!(status, 202, "{doc}");
    assert_eq!(
        profile_email(&app, &key).await,
        "owner@localhost",
        "nothing changes before the link is used"
    );

    // The new mailbox gets the link; the old one a notice naming the new address, no link.
    let to_new = app.wait_for_eml("moved@example.com").await;
    assert!(
        to_new.contains("Subject: Confirm your new sign-in address"),
        "{to_new}"
    );
    assert!(!to_new.contains("owner@localhost"), "{to_new}");
    let token = token_in(&to_new, "tnt_emc_");
    assert!(
        to_new.contains(&format!("{}/confirm-email/{token}", app.base)),
        "{to_new}"
    );
    let owner_mails = app.wait_for_emls("owner@localhost", 3).await;
    let notices = mail_with(&owner_mails, "Your sign-in address is about to change");
    assert_eq!(notices.len(), 2, "one per request: {owner_mails:?}");
    assert!(notices.iter().all(|n| !n.contains("tnt_emc_")));
    assert!(
        notices.iter().any(|n| n.contains("moved@example.com")),
        "{notices:?}"
    );
    let stored = app.query_texts("SELECT token_hash AS t FROM email_changes");
    assert!(stored.iter().all(|h| !h.contains(&token)), "only the hash");
    assert!(!app.server_log().await.contains(&token), "never logged");
    let (status, _) = login(&app, "moved@example.com", PASSWORD).await;
    assert_eq!(status, 401, "the new address does not sign in yet");

    // The link: no bearer needed, single use, the address changes.
    let (status, doc) = confirm(&app, &token).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["email"], "moved@example.com");
    let (status, doc) = confirm(&app, &token).await;
    assert_eq!(status, 404, "single use: {doc}");
    assert_eq!(doc["error"]["code"], "EMAIL_LINK_INVALID");
    let (status, doc) = confirm(&app, "tnt_emc_malformed").await;
    assert_eq!(
        (status, &doc["error"]["code"]),
        (404, &json!("EMAIL_LINK_INVALID"))
    );
    assert_eq!(profile_email(&app, &key).await, "moved@example.com");

    let (status, doc) = login(&app, "moved@example.com", PASSWORD).await;
    assert_eq!(status, 200, "the new address signs in: {doc}");
    let (status, doc) = login(&app, "owner@localhost", PASSWORD).await;
    assert_eq!(status, 401, "the old address no longer does: {doc}");
    let (status, _) = call(&app, Method::GET, "/api/auth/sessions", &session, None).await;
    assert_eq!(status, 200, "sessions stay: the password did not change");

    // Audited in the user's account: the request and the change.
    let audited = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action IN ('user.email_change_requested', 'user.email_changed') ORDER BY created_at, id",
    );
    assert_eq!(
        audited,
        [
            "user.email_change_requested",
            "user.email_change_requested",
            "user.email_changed"
        ],
        "{audited:?}"
    );
}

/// A taken address and a free one get the same answer; the taken one is never moved to, not
/// even when it became taken between the request and the link; the profile endpoint no longer
/// sets the address (nor answers `EMAIL_TAKEN`).
async fn asking_is_no_oracle_and_a_taken_address_stays_with_its_identity(app: TestApp) {
    let key = owner_with_password(&app, PASSWORD).await;
    app.create_account("other-co", "taken@example.com").await;
    let taken_user = app.query_texts("SELECT id AS t FROM users WHERE email = 'taken@example.com'");
    assert_eq!(taken_user.len(), 1);

    let taken = ask(&app, &key, "taken@example.com", Some(PASSWORD)).await;
    let free = ask(&app, &key, "free@example.com", Some(PASSWORD)).await;
    assert_eq!(taken.0, 202, "{taken:?}");
    assert_eq!(
        taken, free,
        "the same answer whether or not the address is taken"
    );
    // The profile endpoint refuses any new address alike (it used to answer EMAIL_TAKEN).
    let mut answers = Vec::new();
    for email in ["taken@example.com", "unused@example.com"] {
        answers.push(
            call(
                &app,
                Method::PUT,
                "/api/user/profile",
                &key,
                Some(json!({ "email": email, "current_password": PASSWORD })),
            )
            .await,
        );
    }
    assert_eq!(answers[0].0, 422, "{answers:?}");
    assert_eq!(answers[0], answers[1]);
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/api/user/profile",
        &key,
        Some(json!({ "email": "OWNER@localhost", "display_name": "Owner" })),
    )
    .await;
    assert_eq!(status, 200, "PUT back what GET showed: {doc}");

    // The taken address's holder is told, without a link; the requester's notices are alike.
    let to_taken = app.wait_for_emls("taken@example.com", 2).await;
    let told = mail_with(&to_taken, "Someone asked to sign in with your address");
    assert_eq!(told.len(), 1, "{to_taken:?}");
    assert!(!told[0].contains("tnt_emc_"), "{}", told[0]);
    let owner_mails = app.wait_for_emls("owner@localhost", 3).await;
    assert_eq!(
        mail_with(&owner_mails, "Your sign-in address is about to change").len(),
        2,
        "{owner_mails:?}"
    );

    // The free address is taken before its link is used: the change fails, nothing moves.
    let link = token_in(&app.wait_for_eml("free@example.com").await, "tnt_emc_");
    app.create_account("third-co", "free@example.com").await;
    let (status, doc) = confirm(&app, &link).await;
    assert_eq!(status, 409, "{doc}");
    assert_eq!(doc["error"]["code"], "EMAIL_TAKEN", "{doc}");
    assert_eq!(profile_email(&app, &key).await, "owner@localhost");
    assert_eq!(
        app.query_texts("SELECT id AS t FROM users WHERE email = 'taken@example.com'"),
        taken_user
    );
    assert_eq!(
        app.query_texts("SELECT email AS t FROM users ORDER BY email"),
        ["free@example.com", "owner@localhost", "taken@example.com"]
    );
    let (status, _) = login(&app, "owner@localhost", PASSWORD).await;
    assert_eq!(status, 200);
    assert!(app
        .query_texts("SELECT action AS t FROM audit_log WHERE action = 'user.email_changed'")
        .is_empty());

    // Asking again and again: at most three open links, so at most three notices.
    for _ in 0..3 {
        let answer = ask(&app, &key, "free@example.com", Some(PASSWORD)).await;
        assert_eq!(answer, free, "still the same answer");
    }
    let open = app.query_texts("SELECT token_hash AS t FROM email_changes WHERE used_at IS NULL");
    assert_eq!(open.len(), 3, "{open:?}");
}

/// Only the latest request's link confirms: a user who asked again (say, to correct a typo)
/// leaves no earlier link that whoever holds the mistyped mailbox could still use.
async fn a_newer_request_voids_the_earlier_links(app: TestApp) {
    let key = owner_with_password(&app, PASSWORD).await;
    let (status, doc) = ask(&app, &key, "typo@exmaple.com", Some(PASSWORD)).await;
    assert_eq!(status, 202, "{doc}");
    let mistyped = token_in(&app.wait_for_eml("typo@exmaple.com").await, "tnt_emc_");
    let (status, doc) = ask(&app, &key, "right@example.com", Some(PASSWORD)).await;
    assert_eq!(status, 202, "{doc}");
    let right = token_in(&app.wait_for_eml("right@example.com").await, "tnt_emc_");

    let (status, doc) = confirm(&app, &mistyped).await;
    assert_eq!(status, 404, "{doc}");
    assert_eq!(doc["error"]["code"], "EMAIL_LINK_INVALID", "{doc}");
    assert_eq!(profile_email(&app, &key).await, "owner@localhost");
    let (status, doc) = confirm(&app, &right).await;
    assert!((200..300).contains(&status), "{doc}");
    assert_eq!(profile_email(&app, &key).await, "right@example.com");
}
