//! The operator's way back in for a member who lost their credentials, from the command line
//! beside a running server: a password reset link to the member's own mailbox, or a new API key
//! printed once, bounded by the member's role; both audited with the actor `operator:cli`.

use reqwest::Method;
use serde_json::json;

use crate::support::{call, token_in, TestApp};
use crate::team_invitations::anon;

/// Runs the binary on the app's database; (success, stdout, stderr).
pub(crate) async fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = app
        .db
        .command(args)
        .env("TENANTRY_PUBLIC_URL", &app.base)
        .output()
        .await
        .expect("run tenantry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn a_lost_owner_gets_the_reset_link_from_the_operator(app: TestApp) {
    let (ok, stdout, stderr) = cli(
        &app,
        &[
            "users",
            "reset-password",
            "--account",
            "default",
            "--email",
            "owner@localhost",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("sent to owner@localhost"), "{stdout}");
    assert!(
        !stdout.contains("tnt_pwr_"),
        "the link is printed: {stdout}"
    );

    // The first mail is the set-up link of the first start; the second, the operator's.
    let mails = app.wait_for_emls("owner@localhost", 2).await;
    let reset = mails
        .iter()
        .find(|m| m.contains("Reset your password"))
        .expect("a reset mail");
    assert!(
        reset.contains(&app.base),
        "the link points at the service: {reset}"
    );
    let token = token_in(reset, "tnt_pwr_");
    let (status, doc) = anon(
        &app,
        Method::POST,
        &format!("/api/auth/password-reset/{token}"),
        Some(json!({ "password": "a brand new passphrase 9" })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    let (status, doc) = anon(
        &app,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": "owner@localhost", "password": "a brand new passphrase 9" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let actors = app
        .query_texts("SELECT actor AS t FROM audit_log WHERE action = 'user.password_reset_sent'");
    assert_eq!(actors, ["operator:cli"], "audited as the operator");

    // Only a member of the named account: not an address of another account's owner.
    app.create_account("other", "other-owner@example.com").await;
    for email in ["other-owner@example.com", "nobody@example.com"] {
        let (ok, _, stderr) = cli(
            &app,
            &[
                "users",
                "reset-password",
                "--account",
                "default",
                "--email",
                email,
            ],
        )
        .await;
        assert!(!ok, "{email}");
        assert!(stderr.contains("is not a member of `default`"), "{stderr}");
    }
    let sent = app
        .query_texts("SELECT actor AS t FROM audit_log WHERE action = 'user.password_reset_sent'");
    assert_eq!(sent.len(), 1, "a refused request is not audited: {sent:?}");
}

async fn the_operator_issues_a_key_bounded_by_the_members_role(app: TestApp) {
    let (ok, stdout, stderr) = cli(
        &app,
        &[
            "api-keys",
            "create",
            "--account",
            "default",
            "--email",
            "owner@localhost",
            "--scopes",
            "settings:read",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("API key:"))
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|| panic!("no key printed: {stdout}"));
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/preferences",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200, "the new key reads");
    let (status, _) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/preferences",
        &key,
        Some(json!({ "theme": "dark" })),
    )
    .await;
    assert_eq!(status, 403, "and does no more than its scopes");
    let actors =
        app.query_texts("SELECT actor AS t FROM audit_log WHERE action = 'api_key.created'");
    assert_eq!(actors, ["operator:cli"], "audited as the operator");

    // A viewer gets no scope above a viewer's, even from the operator.
    let account = app.default_account_id().await;
    app.add_member(&account, "viewer");
    let viewer = app
        .query_texts("SELECT email AS t FROM users WHERE email LIKE 'viewer-%'")
        .remove(0);
    let (ok, _, stderr) = cli(
        &app,
        &[
            "api-keys",
            "create",
            "--account",
            "default",
            "--email",
            &viewer,
            "--scopes",
            "team:write",
        ],
    )
    .await;
    assert!(!ok, "a viewer got team:write");
    assert!(stderr.contains("team:write"), "{stderr}");
    // Nor a key in an account they are not a member of.
    app.create_account("other", "other-owner@example.com").await;
    let (ok, _, stderr) = cli(
        &app,
        &[
            "api-keys",
            "create",
            "--account",
            "other",
            "--email",
            &viewer,
            "--scopes",
            "*",
        ],
    )
    .await;
    assert!(!ok);
    assert!(stderr.contains("is not a member of `other`"), "{stderr}");
    let created =
        app.query_texts("SELECT actor AS t FROM audit_log WHERE action = 'api_key.created'");
    assert_eq!(created.len(), 1, "refusals create nothing: {created:?}");
}

crate::on_both_backends!(
    a_lost_owner_gets_the_reset_link_from_the_operator,
    the_operator_issues_a_key_bounded_by_the_members_role,
);
