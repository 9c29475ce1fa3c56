//! A portal link is its minter's power lent (decision 0036): when the credential that minted
//! it dies, in any of the ways a credential dies, its unused links are no longer redeemable and
//! the sessions its links opened end at their next request, each audited with the reason.
//! Every case first shows the link and the session working, then kills the minter.

use reqwest::Method;
use serde_json::{json, Value};
use tenantry_security::SecurityError;

use crate::on_both_backends;
use crate::support::{call, TestApp};
use crate::team_members::user_id;

const ORIGIN: &str = "https://app.example.test";
const PASSWORD: &str = "a long enough passphrase for minters";

/// What one minter lent: a link left unused and the session another link opened.
struct Lent {
    unused: String,
    session: String,
}

fn body(user: &str) -> Value {
    json!({ "userId": user, "intent": "team", "returnUrl": format!("{ORIGIN}/back") })
}

async fn team_list(app: &TestApp, session: &str) -> u16 {
    call(app, Method::GET, "/v2/accounts/team/members", session, None)
        .await
        .0
}

/// Two links for `target` minted at `path` with `credential`: one redeemed (its session shown
/// to work), one kept unused.
async fn lend_at(app: &TestApp, path: &str, credential: &str, target: &str) -> Lent {
    let mut urls = Vec::new();
    for _ in 0..2 {
        let (status, link) = call(app, Method::POST, path, credential, Some(body(target))).await;
        assert_eq!(status, 201, "{link}");
        urls.push(link["url"].as_str().expect("url").to_owned());
    }
    let session = app
        .redeem_portal_link(&urls[0], None)
        .expect("a live minter's link is redeemed")
        .session
        .token;
    assert_eq!(
        team_list(app, &session).await,
        200,
        "a live minter's session"
    );
    Lent {
        unused: urls.swap_remove(1),
        session,
    }
}

async fn lend(app: &TestApp, credential: &str, target: &str) -> Lent {
    lend_at(app, "/v2/accounts/portal-links", credential, target).await
}

async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, log) = call(
        app,
        Method::GET,
        &format!("/v2/accounts/audit-logs?action={action}&limit=200"),
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    log["audit_logs"].as_array().expect("entries").clone()
}

/// The session is refused from its next request and revoked with an audit entry naming
/// `reason` (or one of `|`-separated reasons); the unused link is refused and its refusal
/// audited with such a reason too.
async fn assert_ended(app: &TestApp, lent: &Lent, reason: &str) {
    let reasons: Vec<&str> = reason.split('|').collect();
    assert_eq!(
        team_list(app, &lent.session).await,
        401,
        "{reason}: session"
    );
    let session_id = session_id(&lent.session);
    let ended = audit(app, "portal_link.session_ended").await;
    let entry = ended
        .iter()
        .find(|e| e["target"] == session_id.as_str())
        .unwrap_or_else(|| panic!("{reason}: no session_ended entry in {ended:?}"));
    assert!(
        reasons.iter().any(|r| entry["details"]["reason"] == *r),
        "{reason}: {entry}"
    );
    assert_eq!(entry["actor"], "system");
    // Once ended it stays ended (revoked, not only refused).
    assert_eq!(team_list(app, &lent.session).await, 401);

    let before = audit(app, "portal_link.redemption_failed").await.len();
    assert_eq!(
        app.redeem_portal_link(&lent.unused, None).err(),
        Some(SecurityError::Unauthenticated),
        "{reason}: unused link"
    );
    let failed = audit(app, "portal_link.redemption_failed").await;
    assert_eq!(failed.len(), before + 1);
    assert!(
        reasons.iter().any(|r| failed[0]["details"]["reason"] == *r),
        "{reason}: {}",
        failed[0]
    );
}

/// A new key of the member whose key is `holder`: (its id, its secret).
async fn new_key(app: &TestApp, holder: &str, extra: Value) -> (String, String) {
    let mut request = json!({ "name": "embedding" });
    if let (Some(r), Some(e)) = (request.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    let (status, created) = call(
        app,
        Method::POST,
        "/api/user/api-keys",
        holder,
        Some(request),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    (
        created["data"]["id"].as_str().expect("id").to_owned(),
        created["data"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    )
}

async fn minting_keys_deleted_regenerated_or_expired_end_their_links(app: TestApp) {
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let target = user_id(&app, &app.add_member(&account, "developer")).await;

    let (deleted_id, deleted) = new_key(&app, &admin, json!({})).await;
    let (regenerated_id, regenerated) = new_key(&app, &admin, json!({})).await;
    let (expiring_id, expiring) = new_key(&app, &admin, json!({})).await;
    let (_, kept) = new_key(&app, &admin, json!({})).await;
    let by_deleted = lend(&app, &deleted, &target).await;
    let by_regenerated = lend(&app, &regenerated, &target).await;
    let by_expiring = lend(&app, &expiring, &target).await;
    let by_kept = lend(&app, &kept, &target).await;

    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("/api/user/api-keys/{deleted_id}"),
        &admin,
        None,
    )
    .await;
    assert!(status == 204 || status == 200, "{status} {doc}");
    assert_ended(&app, &by_deleted, "minter_revoked").await;

    // Regenerated: the same key id with a new secret is another credential.
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("/api/user/api-keys/{regenerated_id}/regenerate"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_ended(&app, &by_regenerated, "minter_rotated").await;

    // Expired: nothing happens at the expiry, and yet the link and the session end.
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).timestamp_micros();
    app.db.execute(&format!(
        "UPDATE api_keys SET expires_at = {past} WHERE id = '{expiring_id}'"
    ));
    assert_ended(&app, &by_expiring, "minter_expired").await;

    // The key left alone still vouches for what it lent.
    assert_eq!(team_list(&app, &by_kept.session).await, 200);
    assert!(app.redeem_portal_link(&by_kept.unused, None).is_ok());
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    minting_keys_deleted_regenerated_or_expired_end_their_links);

/// Gives the member whose key is `key` a password (once per member).
async fn set_password(app: &TestApp, key: &str) {
    let (status, _) = call(
        app,
        Method::POST,
        "/api/user/password",
        key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204);
}

/// A new sign-in session of the member whose key is `key` (their password set).
async fn signed_in(app: &TestApp, key: &str) -> String {
    let (_, profile) = call(app, Method::GET, "/api/user/profile", key, None).await;
    let email = profile["data"]["email"].as_str().expect("email").to_owned();
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    doc["data"]["token"].as_str().expect("token").to_owned()
}

fn session_id(token: &str) -> String {
    format!(
        "ses_{}",
        token
            .strip_prefix("tnt_ses_")
            .and_then(|rest| rest.split('_').next())
            .expect("session token")
    )
}

async fn minting_sessions_and_members_signed_out_suspended_removed_or_demoted_end_their_links(
    app: TestApp,
) {
    let account = app.default_account_id().await;
    let target = user_id(&app, &app.add_member(&account, "developer")).await;
    let member = |path: String, change: Value| {
        let app = &app;
        async move {
            let (status, doc) = call(app, Method::PUT, &path, app.owner_key(), Some(change)).await;
            assert_eq!(status, 200, "{doc}");
        }
    };

    // An admin's sign-in session: signed out, or revoked from another of their sessions.
    let admin = app.add_member(&account, "admin");
    set_password(&app, &admin).await;
    let signed_out = signed_in(&app, &admin).await;
    let revoked = signed_in(&app, &admin).await;
    let by_signed_out = lend(&app, &signed_out, &target).await;
    let by_revoked = lend(&app, &revoked, &target).await;
    let (status, _) = call(&app, Method::POST, "/api/auth/logout", &signed_out, None).await;
    assert_eq!(status, 204);
    assert_ended(&app, &by_signed_out, "minter_revoked").await;
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("/api/auth/sessions/{}", session_id(&revoked)),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204, "{doc}");
    assert_ended(&app, &by_revoked, "minter_revoked").await;

    // The minting member suspended, removed, or demoted below what minting needs. Suspension
    // and removal revoke the member's keys too; either reason ends the link.
    for (change, reason) in [
        (
            Some(json!({ "status": "suspended" })),
            "minter_revoked|minter_inactive",
        ),
        (None, "minter_revoked|minter_inactive|minter_gone"),
        (Some(json!({ "role": "developer" })), "minter_demoted"),
    ] {
        let minter = app.add_member(&account, "admin");
        let minter_id = user_id(&app, &minter).await;
        let lent = lend(&app, &minter, &target).await;
        let path = format!("/v2/accounts/team/members/{minter_id}");
        match change {
            Some(change) => member(path, change).await,
            None => {
                let (status, doc) = call(&app, Method::DELETE, &path, app.owner_key(), None).await;
                assert!(status == 204 || status == 200, "{status} {doc}");
            }
        }
        assert_ended(&app, &lent, reason).await;
    }

    // Demoted below the member the link signs in: an admin's link for another admin dies when
    // the minter is an admin no more, even as the member stays one.
    let minter = app.add_member(&account, "admin");
    let minter_id = user_id(&app, &minter).await;
    let admin_target = user_id(&app, &app.add_member(&account, "admin")).await;
    let lent = lend(&app, &minter, &admin_target).await;
    member(
        format!("/v2/accounts/team/members/{minter_id}"),
        json!({ "role": "viewer" }),
    )
    .await;
    assert_ended(&app, &lent, "minter_demoted").await;
    // Ended for good: promoting the minter again does not bring the link back.
    member(
        format!("/v2/accounts/team/members/{minter_id}"),
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(
        app.redeem_portal_link(&lent.unused, None).err(),
        Some(SecurityError::PortalLinkUsed)
    );
    // So does a suspended member's: reactivating them does not revive the link.
    let minter = app.add_member(&account, "admin");
    let suspended = user_id(&app, &app.add_member(&account, "developer")).await;
    let lent = lend(&app, &minter, &suspended).await;
    let path = format!("/v2/accounts/team/members/{suspended}");
    member(path.clone(), json!({ "status": "suspended" })).await;
    assert_eq!(
        app.redeem_portal_link(&lent.unused, None).err(),
        Some(SecurityError::Unauthenticated)
    );
    member(path, json!({ "status": "active" })).await;
    assert_eq!(
        app.redeem_portal_link(&lent.unused, None).err(),
        Some(SecurityError::PortalLinkUsed)
    );

    // A session that keeps its power keeps vouching.
    let steady = app.add_member(&account, "admin");
    set_password(&app, &steady).await;
    let steady_session = signed_in(&app, &steady).await;
    let by_steady = lend(&app, &steady_session, &target).await;
    assert_eq!(team_list(&app, &by_steady.session).await, 200);
    assert!(app.redeem_portal_link(&by_steady.unused, None).is_ok());
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    minting_sessions_and_members_signed_out_suspended_removed_or_demoted_end_their_links);

async fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = app.db.command(args).output().await.expect("run tenantry");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The id and the secret `operators create` printed.
fn printed_key(stdout: &str) -> (String, String) {
    let field = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
    };
    (field("key id:"), field("operator key:"))
}

async fn minting_operator_keys_rotated_or_revoked_end_their_links(app: TestApp) {
    let account = app.default_account_id().await;
    let target = user_id(&app, &app.add_member(&account, "admin")).await;
    let path = format!("/admin/accounts/{account}/portal-links");
    let (rotated_id, rotated) =
        printed_key(&cli(&app, &["operators", "create", "--name", "rotated"]).await);
    let (revoked_id, revoked) =
        printed_key(&cli(&app, &["operators", "create", "--name", "revoked"]).await);
    let by_rotated = lend_at(&app, &path, &rotated, &target).await;
    let by_revoked = lend_at(&app, &path, &revoked, &target).await;
    let by_instance = lend_at(&app, &path, app.operator_key(), &target).await;

    cli(&app, &["operators", "rotate", &rotated_id]).await;
    assert_ended(&app, &by_rotated, "minter_rotated").await;
    cli(&app, &["operators", "revoke", &revoked_id]).await;
    assert_ended(&app, &by_revoked, "minter_revoked").await;
    let redeemed = audit(&app, "portal_link.redeemed").await;
    assert!(redeemed
        .iter()
        .any(|e| e["details"]["mintedBy"] == format!("operator:{rotated_id}")));

    // The instance's own operator key is configuration: its links live on.
    assert_eq!(team_list(&app, &by_instance.session).await, 200);
    assert!(app.redeem_portal_link(&by_instance.unused, None).is_ok());
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    minting_operator_keys_rotated_or_revoked_end_their_links);
