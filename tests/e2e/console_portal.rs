//! Portal links in the console over plain HTTP: opening a link redeems nothing (link scanners
//! fetch it first), "Continue" redeems it once with its form token and lands on the link's
//! page signed in, the top bar leads back to the platform; used, expired, unknown and
//! tampered links get one page; the session is capped as the link says.

use reqwest::Method;
use serde_json::{json, Value};

use crate::console::{set_owner_password, Answer, Member, Visitor};
use crate::console_account::signed_in_owner;
use crate::on_both_backends;
use crate::support::{call, TestApp};

const RETURN: &str = "https://app.example.test/settings?tab=team";

/// A link for `user` to `intent`, minted with `key`: the path of its URL.
pub(crate) async fn mint(app: &TestApp, key: &str, user: &str, intent: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        "/v2/accounts/portal-links",
        key,
        Some(json!({ "userId": user, "intent": intent, "returnUrl": RETURN })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let url = doc["url"].as_str().expect("url");
    url.strip_prefix(&app.base)
        .expect("under the public URL")
        .to_owned()
}

/// Opens the link and presses "Continue".
async fn redeem(v: &mut Visitor<'_>, path: &str) -> Answer {
    let page = v.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    v.post(path, &[("csrf", &csrf)]).await
}

async fn redemptions(app: &TestApp) -> Vec<Value> {
    let (status, log) = call(
        app,
        Method::GET,
        "/v2/accounts/audit-logs?action=portal_link.redeemed",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    log["audit_logs"].as_array().expect("entries").clone()
}

fn assert_gone(res: &Answer, what: &str) {
    assert_eq!(res.status, 410, "{what}: {}", res.body);
    assert!(res.body.contains("This link no longer works"), "{what}");
    assert!(
        res.set_cookies()
            .iter()
            .all(|c| !c.starts_with("tenantry_session=")),
        "{what}"
    );
}

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    console_portal_link_opens_its_page_once_with_a_way_back,
    console_portal_spent_expired_unknown_and_tampered_links_read_the_same,
    console_portal_sessions_keep_the_links_ceiling,
);

async fn console_portal_link_opens_its_page_once_with_a_way_back(app: TestApp) {
    let account = app.default_account_id().await;
    let Member {
        id: admin_id,
        email: admin,
        ..
    } = Member::new(&app, &account, "admin").await;
    let path = mint(&app, app.owner_key(), &admin_id, "team").await;

    // What a link scanner does: fetch it, twice. Nothing is spent.
    let mut scanner = Visitor::new(&app);
    for _ in 0..2 {
        let page = scanner.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(">Continue</button>"));
        assert!(scanner.session().is_none());
    }
    assert!(redemptions(&app).await.is_empty());

    // A post without the form token, or with another visitor's, spends nothing either.
    let mut v = Visitor::new(&app);
    let page = v.get(&path).await;
    let csrf = page.hidden("csrf");
    assert_eq!(v.post(&path, &[]).await.status, 403);
    let other_csrf = scanner.get(&path).await.hidden("csrf");
    assert_ne!(csrf, other_csrf);
    assert_eq!(v.post(&path, &[("csrf", &other_csrf)]).await.status, 403);
    assert!(redemptions(&app).await.is_empty());

    let res = v.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/console/team");
    let cookie = res
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tenantry_session="))
        .expect("a session cookie");
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    let team = v.get("/console/team").await;
    assert_eq!(team.status, 200, "{}", team.body);
    assert!(team.body.contains(&admin));
    assert!(
        team.body.contains(
            "<a class=\"back\" href=\"https://app.example.test/settings?tab=team\">Back to app.example.test</a>"
        ),
        "{}",
        team.body
    );
    let home = v.get("/console").await;
    assert!(home.body.contains("Back to app.example.test"));
    assert_eq!(redemptions(&app).await.len(), 1);

    // Every intent lands on its page.
    for (intent, page) in [
        ("api-keys", "/console/account/api-keys"),
        ("security", "/console/account/mfa"),
        ("settings", "/console/settings"),
        ("audit", "/console/audit"),
    ] {
        let path = mint(&app, app.owner_key(), &admin_id, intent).await;
        let res = redeem(&mut Visitor::new(&app), &path).await;
        assert_eq!(res.status, 303, "{intent}: {}", res.body);
        assert_eq!(res.location(), page, "{intent}");
    }

    // A session opened by signing in has no way back.
    set_owner_password(&app).await;
    let mut owner = signed_in_owner(&app).await;
    let page = owner.get("/console/team").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Back to"));
}

async fn console_portal_spent_expired_unknown_and_tampered_links_read_the_same(app: TestApp) {
    let account = app.default_account_id().await;
    let admin_id = Member::new(&app, &account, "admin").await.id;
    let used = mint(&app, app.owner_key(), &admin_id, "team").await;
    assert_eq!(redeem(&mut Visitor::new(&app), &used).await.status, 303);
    assert_gone(&redeem(&mut Visitor::new(&app), &used).await, "used");

    let expired = mint(&app, app.owner_key(), &admin_id, "team").await;
    app.db
        .execute("UPDATE portal_links SET expires_at = 0 WHERE used_at IS NULL");
    assert_gone(&redeem(&mut Visitor::new(&app), &expired).await, "expired");

    let fresh = mint(&app, app.owner_key(), &admin_id, "team").await;
    let mut tampered = fresh.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    assert_gone(
        &redeem(&mut Visitor::new(&app), &tampered).await,
        "tampered",
    );
    assert_gone(
        &redeem(&mut Visitor::new(&app), "/console/portal/tnt_ptl_unknown").await,
        "unknown",
    );
    let long = format!("/console/portal/{}", "x".repeat(500));
    assert_gone(&redeem(&mut Visitor::new(&app), &long).await, "oversized");

    // A member suspended after the mint: the same page.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{admin_id}"),
        app.owner_key(),
        Some(json!({ "status": "suspended" })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_gone(
        &redeem(&mut Visitor::new(&app), &fresh).await,
        "member suspended",
    );
    assert_eq!(redemptions(&app).await.len(), 1);
}

async fn console_portal_sessions_keep_the_links_ceiling(app: TestApp) {
    let account = app.default_account_id().await;
    let dev_id = Member::new(&app, &account, "developer").await.id;
    let admin_key = Member::new(&app, &account, "admin").await.key;
    let other_admin_id = Member::new(&app, &account, "admin").await.id;

    // A developer's link reaches no team page.
    let path = mint(&app, app.owner_key(), &dev_id, "team").await;
    let mut v = Visitor::new(&app);
    assert_eq!(redeem(&mut v, &path).await.location(), "/console/team");
    let res = v.get("/console/team").await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("Not available to your role"));

    // A link minted by a scoped key carries its scopes; `team:write` (which minting needs)
    // reaches the team page.
    let (status, key) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &admin_key,
        Some(json!({ "name": "portal minter", "scopes": ["team:write", "keys:read"] })),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let scoped = key["data"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("secret in {key}"))
        .to_owned();
    let path = mint(&app, &scoped, &other_admin_id, "team").await;
    let mut capped = Visitor::new(&app);
    assert_eq!(redeem(&mut capped, &path).await.status, 303);
    assert_eq!(
        capped.get("/console/team").await.status,
        200,
        "team:write reaches it"
    );
}
