//! Who can become whom: invitation links and password set-up/reset links, tried as an attacker
//! would. The regression of the cross-account takeover (an admin of one account inviting the
//! password-less owner of another, accepting with a chosen password, then signing in as them)
//! lives here, with a test for each path that creates or links a user.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, token_in, TestApp};
use crate::team_invitations::anon;

async fn login(app: &TestApp, email: &str, password: &str, account: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "email": email, "password": password });
    if let Some(account) = account {
        body["account"] = json!(account);
    }
    anon(app, Method::POST, "/api/auth/login", Some(body)).await
}

/// Rows that show whether anything of the victim changed: their password hash and sessions.
fn identity_state(app: &TestApp, email: &str) -> Vec<String> {
    let mut rows = app.query_texts(&format!(
        "SELECT COALESCE(password_hash, 'none') AS t FROM users WHERE email = '{email}'"
    ));
    rows.extend(app.query_texts(&format!(
        "SELECT id AS t FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = '{email}')"
    )));
    rows
}

crate::on_both_backends!(
    an_admin_of_one_account_cannot_take_over_the_owner_of_another,
    password_reset_is_mailed_single_use_and_ends_every_session,
    the_reset_endpoint_is_no_oracle_for_identities,
    addresses_are_one_identity_whatever_their_case,
    an_operator_created_owner_gets_a_set_up_link_and_nobody_else_does,
);

/// The reported attack, step by step through the public API: every step now fails, and the
/// victim's identity is untouched.
async fn an_admin_of_one_account_cannot_take_over_the_owner_of_another(app: TestApp) {
    // The victim: the password-less owner of an account the operator created.
    let victim = app.create_account("victim", "victim@example.com").await;
    assert!(
        !victim.to_string().contains("tnt_pwr_"),
        "the operator never holds the set-up link: {victim}"
    );
    let before = identity_state(&app, "victim@example.com");

    // The attacker: an admin of the default account.
    let account = app.default_account_id().await;
    let attacker = app.add_member(&account, "admin");

    // 1. Invite the victim's address: the response carries no secret.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members",
        &attacker,
        Some(json!({ "email": "victim@example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let invite_url = doc["inviteUrl"].as_str().expect("inviteUrl");
    let invitation = doc["invitationId"].as_str().expect("id");
    assert!(!doc.to_string().contains("tnt_inv_"), "{doc}");
    assert!(
        invite_url.ends_with(&format!("/invite/{invitation}")),
        "{invite_url}"
    );

    // 2. The page the response names tells nothing and accepts nothing.
    let page = app.get(&format!("/invite/{invitation}"), None).await;
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.expect("html");
    assert!(html.contains("email"), "{html}");
    assert!(!html.contains("tnt_inv_"), "{html}");
    for path in [
        format!("/v2/invitations/{invitation}/accept"),
        format!("/invite/{invitation}/accept"),
    ] {
        let (status, doc) = anon(
            &app,
            Method::POST,
            &path,
            Some(json!({ "password": "the attacker's choice 123" })),
        )
        .await;
        assert!(
            status == 404 || status == 405,
            "{path}: the id is no credential: {status} {doc}"
        );
    }

    // 3. Even holding the mailed link (a leaked or forwarded email), choosing a password for
    //    an existing identity is refused.
    // The victim's set-up mail came first; the invitation is the one with an invitation token.
    let mails = app.wait_for_emls("victim@example.com", 2).await;
    let invitation_mail = mails
        .iter()
        .find(|m| m.contains("tnt_inv_"))
        .expect("the invitation email");
    let link = crate::team_invitations::mailed_link(invitation_mail);
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("{link}/accept"),
        Some(json!({ "password": "the attacker's choice 123", "name": "pwned" })),
    )
    .await;
    assert_eq!(status, 401, "{doc}");
    assert_eq!(doc["error"], "SIGN_IN_REQUIRED");

    // 4. Signing in as the victim with the chosen password fails; nothing of theirs changed.
    let (status, doc) = login(
        &app,
        "victim@example.com",
        "the attacker's choice 123",
        Some("victim"),
    )
    .await;
    assert_eq!(status, 401, "{doc}");
    assert_eq!(identity_state(&app, "victim@example.com"), before);
    let actions = app.query_texts("SELECT action AS t FROM audit_log");
    assert!(
        !actions.iter().any(|a| a == "team.invitation_accepted"),
        "{actions:?}"
    );
}

/// The flow a password-less owner uses: ask, receive the link by mail, choose a password.
async fn password_reset_is_mailed_single_use_and_ends_every_session(app: TestApp) {
    app.create_account("resetting", "reset-me@example.com")
        .await;
    // The set-up link of account creation, then a reset link on request.
    let (status, doc) = anon(
        &app,
        Method::POST,
        "/api/auth/password-reset",
        Some(json!({ "email": "Reset-Me@Example.com " })),
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    // Both mails, told apart by what they say (two files written in one instant have no order).
    let setup_mail = app
        .wait_for_eml_containing("reset-me@example.com", "Set up your password")
        .await;
    let reset_mail = app
        .wait_for_eml_containing("reset-me@example.com", "Reset your password")
        .await;
    let setup = token_in(&setup_mail, "tnt_pwr_");
    let reset = token_in(&reset_mail, "tnt_pwr_");
    assert!(
        reset_mail.contains(&format!("/reset-password/{reset}")),
        "{reset_mail}"
    );
    // Only the hash is stored.
    let stored = app.query_texts("SELECT token_hash AS t FROM password_resets");
    assert!(stored
        .iter()
        .all(|h| !h.contains(&reset) && !h.contains(&setup)));

    // A weak password is refused and the link stays usable.
    let path = format!("/api/auth/password-reset/{reset}");
    let (status, doc) = anon(
        &app,
        Method::POST,
        &path,
        Some(json!({ "password": "short" })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = anon(
        &app,
        Method::POST,
        &path,
        Some(json!({ "password": "my own passphrase 1" })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (status, first) = login(&app, "reset-me@example.com", "my own passphrase 1", None).await;
    assert_eq!(status, 200, "{first}");
    let session = first["data"]["token"].as_str().expect("token").to_owned();

    // Single use; the other open link (the set-up one) died with it.
    for token in [&reset, &setup] {
        let (status, doc) = anon(
            &app,
            Method::POST,
            &format!("/api/auth/password-reset/{token}"),
            Some(json!({ "password": "someone else's choice 2" })),
        )
        .await;
        assert_eq!(status, 404, "{doc}");
        assert_eq!(doc["error"]["code"], "RESET_LINK_INVALID", "{doc}");
    }

    // A second reset ends the session the first password opened.
    let (status, _) = anon(
        &app,
        Method::POST,
        "/api/auth/password-reset",
        Some(json!({ "email": "reset-me@example.com" })),
    )
    .await;
    assert_eq!(status, 202);
    let mails = app.wait_for_emls("reset-me@example.com", 3).await;
    let again = mails
        .iter()
        .map(|m| token_in(m, "tnt_pwr_"))
        .find(|t| *t != setup && *t != reset)
        .expect("a third link");
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("/api/auth/password-reset/{again}"),
        Some(json!({ "password": "my newer passphrase 2" })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (status, _) = call(&app, Method::GET, "/api/auth/sessions", &session, None).await;
    assert_eq!(status, 401, "the old session ended");
    let (status, doc) = login(&app, "reset-me@example.com", "my own passphrase 1", None).await;
    assert_eq!(status, 401, "{doc}");
    let (status, doc) = login(&app, "reset-me@example.com", "my newer passphrase 2", None).await;
    assert_eq!(status, 200, "{doc}");
    let audited =
        app.query_texts("SELECT action AS t FROM audit_log WHERE action = 'user.password_reset'");
    assert_eq!(audited.len(), 2, "{audited:?}");
}

/// Known address, unknown address, another spelling of the known one: the same status and body.
async fn the_reset_endpoint_is_no_oracle_for_identities(app: TestApp) {
    app.create_account("known", "known@example.com").await;
    let (status, doc) = anon(
        &app,
        Method::POST,
        "/api/auth/password-reset",
        Some(json!({ "email": "not an address" })),
    )
    .await;
    assert_eq!(
        status, 422,
        "no address at all is a validation error: {doc}"
    );
    let mut answers = Vec::new();
    for email in [
        "known@example.com",
        "unknown@example.com",
        "KNOWN@example.com",
    ] {
        answers.push(
            anon(
                &app,
                Method::POST,
                "/api/auth/password-reset",
                Some(json!({ "email": email })),
            )
            .await,
        );
    }
    assert_eq!(answers[0].0, 202, "{:?}", answers[0]);
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    // Asking again and again does not flood the mailbox: at most three open links per user.
    for _ in 0..5 {
        anon(
            &app,
            Method::POST,
            "/api/auth/password-reset",
            Some(json!({ "email": "known@example.com" })),
        )
        .await;
    }
    let open = app.query_texts(
        "SELECT token_hash AS t FROM password_resets WHERE used_at IS NULL AND user_id IN (SELECT id FROM users WHERE email = 'known@example.com')",
    );
    assert!(open.len() <= 3, "{}", open.len());
}

/// `JSmith@Example.com` and `jsmith@example.com` are one address: one identity, one throttle.
async fn addresses_are_one_identity_whatever_their_case(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        &owner,
        Some(json!({ "email": "JSmith@Example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["invitation"]["email"], "jsmith@example.com");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        &owner,
        Some(json!({ "email": "jsmith@example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 409, "the same address is already invited: {doc}");
    let link = crate::team_invitations::mailed_link(&app.wait_for_eml("jsmith@example.com").await);
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("{link}/accept"),
        Some(json!({ "password": "a long and unusual passphrase" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let (status, doc) = login(
        &app,
        "  JSMITH@example.COM",
        "a long and unusual passphrase",
        None,
    )
    .await;
    assert_eq!(status, 200, "another spelling signs in: {doc}");

    // Failures under any spelling share one budget: after five, the right password in a
    // sixth spelling is throttled too.
    for spelling in [
        "jsmith@example.com",
        " jsmith@example.com",
        "JSMITH@example.com",
        "jsmith@EXAMPLE.com ",
        "JSmith@Example.Com",
    ] {
        let (status, _) = login(&app, spelling, "wrong password here", None).await;
        assert_eq!(status, 401, "{spelling}");
    }
    let (status, doc) = login(
        &app,
        " Jsmith@example.com",
        "a long and unusual passphrase",
        None,
    )
    .await;
    assert_eq!(status, 429, "{doc}");
}

/// `POST /admin/accounts` mails the set-up link to the owner; the response says so, and holds
/// nothing that sets a password. An owner who already has a password gets no link.
async fn an_operator_created_owner_gets_a_set_up_link_and_nobody_else_does(app: TestApp) {
    let created = app.create_account("fresh", "fresh@example.com").await;
    assert_eq!(
        created["owner"]["password_setup_link_sent"], true,
        "{created}"
    );
    let mail = app.wait_for_eml("fresh@example.com").await;
    let token = token_in(&mail, "tnt_pwr_");
    assert!(!created.to_string().contains(&token));
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("/api/auth/password-reset/{token}"),
        Some(json!({ "password": "the owner's own passphrase" })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let page = app.get(&format!("/reset-password/{token}"), None).await;
    assert_eq!(page.status(), 200);
    let log = app.server_log().await;
    assert!(
        !log.contains(&token),
        "the link is never logged, not even the paths that carry it"
    );
    let second = app.create_account("second", "fresh@example.com").await;
    assert_eq!(
        second["owner"]["password_setup_link_sent"], false,
        "an owner with a password signs in: {second}"
    );
    // The first start printed that the bootstrap owner's link was sent, never the link.
    assert!(
        app.stdout
            .iter()
            .any(|l| l.starts_with("password:") && l.contains("set-up link was sent")),
        "{:?}",
        app.stdout
    );
    assert!(app.stdout.iter().all(|l| !l.contains("tnt_pwr_")));
}
