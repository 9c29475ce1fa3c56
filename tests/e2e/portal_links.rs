//! Portal links (decision 0030): who may mint one for whom, what `returnUrl` may be, what each
//! mint and redemption leaves in the audit log, and that the session a link opens is never
//! stronger than its member nor the credential that minted it. Redemption goes through the
//! portal service on the server's own database (the console's one call); everything else, and
//! every use of the session, through HTTP.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};
use crate::team_members::user_id;

const ORIGIN: &str = "https://app.example.test";

async fn mint(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    call(
        app,
        Method::POST,
        "/v2/accounts/portal-links",
        key,
        Some(body),
    )
    .await
}

/// Mints through the operator API's route for `account`, with `key`.
async fn mint_as_operator(app: &TestApp, key: &str, account: &str, body: Value) -> (u16, Value) {
    call(
        app,
        Method::POST,
        &format!("/admin/accounts/{account}/portal-links"),
        key,
        Some(body),
    )
    .await
}

/// The session token a redemption of the minted `link` opens.
fn session_of(app: &TestApp, link: &Value) -> String {
    app.redeem_portal_link(link["url"].as_str().expect("url"), None)
        .expect("redeemed")
        .session
        .token
}

fn link_for(user: &str, intent: &str) -> Value {
    json!({ "userId": user, "intent": intent, "returnUrl": format!("{ORIGIN}/settings?tab=team") })
}

async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, log) = call(
        app,
        Method::GET,
        &format!("/v2/accounts/audit-logs?action={action}"),
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    log["audit_logs"].as_array().expect("entries").clone()
}

async fn minting_is_refused_above_the_minter_and_for_strangers(app: TestApp) {
    let account = app.default_account_id().await;
    let admin = app.add_member(&account, "admin");
    let developer = app.add_member(&account, "developer");
    let (admin_id, developer_id, owner_id) = (
        user_id(&app, &admin).await,
        user_id(&app, &developer).await,
        user_id(&app, app.owner_key()).await,
    );

    // An admin for a developer: a single-use URL under the public URL, five minutes, uncached.
    let res = app
        .client
        .post(app.url("/v2/accounts/portal-links"))
        .bearer_auth(&admin)
        .json(&link_for(&developer_id, "team"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = res.json().await.expect("json");
    let url = body["url"].as_str().expect("url");
    let prefix = format!("{}/console/portal/tnt_ptl_", app.base);
    assert!(url.starts_with(&prefix), "{url}");
    let expires = chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().expect("at"))
        .expect("rfc 3339");
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        left <= chrono::Duration::minutes(5) && left > chrono::Duration::minutes(4),
        "{left}"
    );
    // Only the token's hash is stored.
    let token = url.rsplit('/').next().expect("token");
    let stored = app.query_texts("SELECT token_hash AS t FROM portal_links");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(app
        .query_texts(&format!(
            "SELECT id AS t FROM portal_links WHERE token_hash = '{token}' OR return_url LIKE '%{token}%'"
        ))
        .is_empty());

    // An admin for the owner: refused (only the operator may), and the attempt is audited.
    let (status, err) = mint(&app, &admin, link_for(&owner_id, "settings")).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS", "{err}");
    assert_eq!(err["details"]["requiredRole"], "owner");
    let refused = audit(&app, "portal_link.refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["target"], owner_id.as_str());
    // An admin for another admin (same rank) is fine; a developer mints nothing.
    assert_eq!(
        mint(&app, &admin, link_for(&admin_id, "audit")).await.0,
        201
    );
    let (status, err) = mint(&app, &developer, link_for(&developer_id, "api-keys")).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS");

    // Unknown, foreign and suspended members get one and the same 404.
    let other = app
        .create_account("portal-other", "o@portal-other.test")
        .await;
    let stranger = user_id(&app, other["owner_api_key"].as_str().expect("key")).await;
    let suspended = app.add_member(&account, "viewer");
    let suspended_id = user_id(&app, &suspended).await;
    app.db.execute(&format!(
        "UPDATE memberships SET status = 'suspended' WHERE user_id = '{suspended_id}'"
    ));
    let mut answers = Vec::new();
    for target in [
        json!({ "userId": "usr_01hzzzzzzzzzzzzzzzzzzzzzzz" }),
        json!({ "userId": stranger }),
        json!({ "userId": suspended_id }),
        json!({ "email": "nobody@example.test" }),
        json!({ "email": "o@portal-other.test" }),
    ] {
        let mut body = target.clone();
        body["intent"] = json!("team");
        body["returnUrl"] = json!(ORIGIN);
        let (status, err) = mint(&app, &admin, body).await;
        assert_eq!(status, 404, "{target}: {err}");
        answers.push((err["error"].clone(), err["message"].clone()));
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");

    // The operator may mint for the owner, in any account; the cap is the owner's own role.
    let (status, body) = mint_as_operator(
        &app,
        app.operator_key(),
        &account,
        link_for(&owner_id, "settings"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // A member key is no operator key.
    let (status, _) =
        mint_as_operator(&app, &admin, &account, link_for(&owner_id, "settings")).await;
    assert_eq!(status, 401);

    // Every mint is audited: who, for whom, which credential, intent and cap.
    let created = audit(&app, "portal_link.created").await;
    assert_eq!(created.len(), 3, "{created:?}");
    let first = created.last().expect("oldest last");
    assert_eq!(first["actor"], admin_id.as_str());
    assert_eq!(first["target"], developer_id.as_str());
    assert_eq!(first["details"]["intent"], "team");
    assert_eq!(
        first["details"]["cap"],
        json!({ "role": "developer", "scopes": [] })
    );
    assert!(first["details"]["credential"]
        .as_str()
        .is_some_and(|c| c.starts_with("key_")));
    assert_eq!(created[0]["actor"], "operator:env");
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    minting_is_refused_above_the_minter_and_for_strangers);

async fn return_urls_must_be_on_an_allowed_origin(app: TestApp) {
    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let developer_id = user_id(&app, &developer).await;
    let owner = app.owner_key();
    let with_return =
        |url: &str| json!({ "userId": developer_id, "intent": "security", "returnUrl": url });
    for (url, why) in [
        ("http://app.example.test/", "http outside loopback"),
        ("javascript:alert(1)", "not https"),
        ("/relative/path", "relative"),
        ("https://user:pw@app.example.test/", "credentials"),
        ("https://app.example.test.evil.test/", "a look-alike host"),
        (
            "https://evil.test/?next=https://app.example.test",
            "another origin",
        ),
        ("https://app.example.test:8443/", "another port"),
    ] {
        let (status, err) = mint(&app, owner, with_return(url)).await;
        assert_eq!(status, 422, "{why}: {err}");
        assert_eq!(err["error"], "VALIDATION_ERROR");
        assert_eq!(err["details"]["fields"][0]["field"], "returnUrl", "{err}");
    }
    // Loopback http on the operator's list is fine.
    assert_eq!(
        mint(&app, owner, with_return("http://localhost:3000/back"))
            .await
            .0,
        201
    );
    // The account adds its own origin through its security settings; the API shows it back,
    // and a malformed one is refused there.
    let (status, err) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        owner,
        Some(json!({ "api_access": { "portal_return_origins": ["https://evil.test/path"] } })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        owner,
        Some(
            json!({ "api_access": { "portal_return_origins": ["https://Partner.Example.test"] } }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (_, doc) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/security",
        owner,
        None,
    )
    .await;
    assert_eq!(
        doc["api_access"]["portal_return_origins"],
        json!(["https://partner.example.test"]),
        "{doc}"
    );
    assert_eq!(
        mint(&app, owner, with_return("https://partner.example.test/x"))
            .await
            .0,
        201
    );
    // The export carries it, as every other security field.
    let (status, export) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/export",
        owner,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        export.to_string().contains("https://partner.example.test"),
        "{export}"
    );
    // Bad bodies: both targets, no target, unknown intent.
    for body in [
        json!({ "email": "a@b.test", "userId": developer_id, "intent": "team", "returnUrl": "http://localhost/" }),
        json!({ "intent": "team", "returnUrl": "http://localhost/" }),
        json!({ "userId": developer_id, "intent": "billing", "returnUrl": "http://localhost/" }),
    ] {
        assert_eq!(mint(&app, owner, body.clone()).await.0, 422, "{body}");
    }
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "http://localhost:3000")];
    return_urls_must_be_on_an_allowed_origin);

async fn a_portal_session_is_capped_by_its_minting_credential(app: TestApp) {
    let account = app.default_account_id().await;
    let minter = app.add_member(&account, "admin");
    let target = app.add_member(&account, "admin");
    let target_id = user_id(&app, &target).await;
    // The minting credential: an admin's key scoped like a developer's work (team and settings,
    // not security).
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &minter,
        Some(json!({ "name": "embedding", "scopes": ["team:write", "settings:write"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let scoped = created["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let (status, link) = mint(&app, &scoped, link_for(&target_id, "settings")).await;
    assert_eq!(status, 201, "{link}");
    let redeemed = app
        .redeem_portal_link(
            link["url"].as_str().expect("url"),
            Some([127, 0, 0, 9].into()),
        )
        .expect("redeemed");
    assert_eq!(redeemed.intent.as_str(), "settings");
    assert_eq!(redeemed.return_url, format!("{ORIGIN}/settings?tab=team"));
    let session = redeemed.session.token;
    assert!(session.starts_with("tnt_ses_"));

    // What the scopes cover works; an admin-only security setting does not, although the member
    // is an admin (their own key may change it).
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/members",
        &session,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let change = json!({ "session": { "concurrent_sessions": 4 } });
    let (status, err) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &session,
        Some(change.clone()),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_SCOPE", "{err}");
    let (status, _) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &target,
        Some(change),
    )
    .await;
    assert_eq!(status, 200);
    // The session mints no link of its own: nobody showed a password for it (decision 0048).
    let (status, err) = mint(&app, &session, link_for(&target_id, "team")).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "REAUTH_REQUIRED", "{err}");

    // Single use: the second redemption is refused and audited, as the first was.
    let again = app.redeem_portal_link(link["url"].as_str().expect("url"), None);
    assert_eq!(
        again.err(),
        Some(tenantry_security::SecurityError::PortalLinkUsed)
    );
    let redeemed_log = audit(&app, "portal_link.redeemed").await;
    assert_eq!(redeemed_log.len(), 1);
    assert_eq!(redeemed_log[0]["ip"], "127.0.0.9");
    assert_eq!(redeemed_log[0]["actor"], target_id.as_str());
    let failed = audit(&app, "portal_link.redemption_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["details"]["reason"], "used");
    assert!(app
        .redeem_portal_link("tnt_ptl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None)
        .is_err_and(|e| e == tenantry_security::SecurityError::PortalLinkUnknown));
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_portal_session_is_capped_by_its_minting_credential);

async fn a_portal_session_follows_the_members_role_down_and_never_reauthenticates(app: TestApp) {
    let account = app.default_account_id().await;
    let minter = app.add_member(&account, "admin");
    let target = app.add_member(&account, "admin");
    let target_id = user_id(&app, &target).await;
    let (status, link) = mint(&app, &minter, link_for(&target_id, "audit")).await;
    assert_eq!(status, 201, "{link}");
    let session = session_of(&app, &link);
    let audit_log = |s: String| {
        let app = &app;
        async move {
            call(app, Method::GET, "/v2/accounts/audit-logs", &s, None)
                .await
                .0
        }
    };
    assert_eq!(audit_log(session.clone()).await, 200);
    // Creating a key needs a recent sign-in (the account's default policy); a link is none.
    let (status, err) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &session,
        Some(json!({ "name": "from a link" })),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "REAUTH_REQUIRED", "{err}");
    // The member becomes a developer: the session's power drops with them at once.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{target_id}"),
        app.owner_key(),
        Some(json!({ "role": "developer" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(audit_log(session.clone()).await, 403);
    // And a restored role never exceeds the link's ceiling (admin), so it comes back to admin.
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{target_id}"),
        app.owner_key(),
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(audit_log(session.clone()).await, 200);
    // A suspended member's portal session ends.
    app.db.execute(&format!(
        "UPDATE memberships SET status = 'suspended' WHERE user_id = '{target_id}'"
    ));
    assert_eq!(audit_log(session).await, 401);
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_portal_session_follows_the_members_role_down_and_never_reauthenticates);

#[tokio::test]
async fn a_bad_return_origin_stops_the_start_named() {
    let db = crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite");
    let mut command = db.command(&["serve", "--bind", "127.0.0.1:0"]);
    command.env(
        "TENANTRY_PORTAL_RETURN_ORIGINS",
        "https://ok.example.test,http://plain.example.test",
    );
    let out = tokio::time::timeout(std::time::Duration::from_secs(20), command.output())
        .await
        .expect("the server refuses to start instead of serving")
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TENANTRY_PORTAL_RETURN_ORIGINS") && stderr.contains("plain.example.test"),
        "{stderr}"
    );
}

async fn a_link_never_hands_over_permissions_its_minter_lacks(app: TestApp) {
    let account = app.default_account_id().await;
    let narrow = app.add_member(&account, "admin");
    let full = app.add_member(&account, "admin");
    let viewer = app.add_member(&account, "viewer");
    let (narrow_id, full_id, viewer_id) = (
        user_id(&app, &narrow).await,
        user_id(&app, &full).await,
        user_id(&app, &viewer).await,
    );
    // The owner narrows one admin to reading and managing the team.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{narrow_id}"),
        app.owner_key(),
        Some(json!({ "permissions": ["read", "manage_team"] })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    // A link for a full admin would hand over write and execute: refused, and audited.
    let (status, err) = mint(&app, &narrow, link_for(&full_id, "settings")).await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"], "INSUFFICIENT_PERMISSIONS");
    assert_eq!(
        err["details"]["missingPermissions"],
        json!(["write", "execute"])
    );
    assert_eq!(audit(&app, "portal_link.refused").await.len(), 1);
    // A viewer holds only what the narrowed admin holds too.
    assert_eq!(
        mint(&app, &narrow, link_for(&viewer_id, "audit")).await.0,
        201
    );
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_link_never_hands_over_permissions_its_minter_lacks);

/// A change made in a session an operator's link opened is the operator's doing as much as the
/// member's: the audit log names the member and the operator credential whose link it was. A
/// member-minted link's session names the member alone (their admin lent them nothing they did
/// not have); neither changes what the session may do.
async fn changes_through_an_operator_link_name_the_operator(app: TestApp) {
    let account = app.default_account_id().await;
    let owner_id = user_id(&app, app.owner_key()).await;
    let (status, link) = mint_as_operator(
        &app,
        app.operator_key(),
        &account,
        link_for(&owner_id, "settings"),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let session = session_of(&app, &link);
    let frequency =
        |f: &'static str| json!({ "email": { "frequency": f, "email": "ops@example.com" } });
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/notifications",
        &session,
        Some(frequency("daily_digest")),
    )
    .await;
    assert_eq!(status, 200, "the session's power is the owner's: {doc}");

    let admin = app.add_member(&account, "admin");
    let admin_id = user_id(&app, &admin).await;
    let (status, link) = mint(&app, app.owner_key(), link_for(&admin_id, "settings")).await;
    assert_eq!(status, 201, "{link}");
    let session = session_of(&app, &link);
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/notifications",
        &session,
        Some(frequency("immediate")),
    )
    .await;
    assert_eq!(status, 200, "{doc}");

    let updated = audit(&app, "settings.updated").await;
    let actors: Vec<&str> = updated.iter().filter_map(|e| e["actor"].as_str()).collect();
    assert_eq!(
        actors[..2],
        [
            admin_id.clone(),
            format!("{owner_id} via operator portal link operator:env")
        ],
        "newest first: {updated:?}"
    );
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    changes_through_an_operator_link_name_the_operator);

/// A portal session never proved who holds it (nobody showed a password for it), so it makes
/// no credential of its own: it mints no portal link (which would shed the operator's audit
/// tag), and it sets no first password (which would turn it into a full sign-in). The owner's
/// API key still sets the first password.
async fn a_portal_session_mints_no_link_and_sets_no_first_password(app: TestApp) {
    let account = app.default_account_id().await;
    let owner_id = user_id(&app, app.owner_key()).await;
    let (status, link) = mint_as_operator(
        &app,
        app.operator_key(),
        &account,
        link_for(&owner_id, "settings"),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let session = session_of(&app, &link);

    let (status, doc) = mint(&app, &session, link_for(&owner_id, "settings")).await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"], "REAUTH_REQUIRED", "{doc}");

    let first = json!({ "new_password": "a first password of my own 7" });
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &session,
        Some(first.clone()),
    )
    .await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"]["code"], "REAUTH_REQUIRED", "{doc}");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(first),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_portal_session_mints_no_link_and_sets_no_first_password);

/// A portal session acts within its account: what the member holds in every account (their
/// profile, their preferences) and credentials that would outlive the link (API keys) are not
/// the link's to change, whoever minted it.
async fn a_portal_session_leaves_what_is_the_members_everywhere(app: TestApp) {
    let account = app.default_account_id().await;
    let member = app.add_member(&account, "admin");
    let member_id = user_id(&app, &member).await;
    let (status, link) = mint(&app, app.owner_key(), link_for(&member_id, "settings")).await;
    assert_eq!(status, 201, "{link}");
    let session = session_of(&app, &link);
    let before = app.query_texts(&format!(
        "SELECT COALESCE(display_name, '') AS t FROM users WHERE id = '{member_id}'"
    ));

    for (method, path, body) in [
        (
            Method::PUT,
            "/api/user/profile",
            json!({ "display_name": "Renamed By Link" }),
        ),
        (
            Method::PUT,
            "/v2/accounts/settings/preferences",
            json!({ "theme": "dark" }),
        ),
        (
            Method::PUT,
            "/api/user-preferences/theme",
            json!({ "value": "dark" }),
        ),
        (Method::DELETE, "/api/user-preferences/theme", Value::Null),
        (
            Method::POST,
            "/api/user/api-keys",
            json!({ "name": "outlives the link" }),
        ),
    ] {
        let body = (!body.is_null()).then_some(body);
        let (status, doc) = call(&app, method.clone(), path, &session, body).await;
        assert_eq!(status, 403, "{method} {path}: {doc}");
        let code = doc["error"]["code"].as_str().or(doc["error"].as_str());
        assert_eq!(code, Some("REAUTH_REQUIRED"), "{method} {path}: {doc}");
    }
    assert_eq!(
        app.query_texts(&format!(
            "SELECT COALESCE(display_name, '') AS t FROM users WHERE id = '{member_id}'"
        )),
        before
    );
    assert!(app
        .query_texts(&format!(
            "SELECT pref_key AS t FROM user_preferences WHERE user_id = '{member_id}'"
        ))
        .is_empty());
    // The member's own key still changes all three.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/api/user/profile",
        &member,
        Some(json!({ "display_name": "Renamed By Myself" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    a_portal_session_leaves_what_is_the_members_everywhere);
