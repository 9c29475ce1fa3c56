//! The team page and portal links in a real headless Chromium (browser.rs): each page checked
//! for console errors, foreign requests, serious axe-core violations and sideways scrolling at
//! 375 px. SQLite only: console_team.rs and console_portal.rs run the same flows over plain
//! HTTP on both backends.

use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::console::{set_owner_password, Member, PASSWORD};
use crate::console_portal::mint;
use crate::console_team::api_member;
use crate::support::{call, token_in, Backend, TestApp, TestDb};
use crate::team_invitations::anon;

async fn app(env: &[(&str, &str)]) -> TestApp {
    TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), env).await
}

#[tokio::test]
async fn browser_team_invite_change_a_role_and_suspend_selected_members() {
    let app = app(&[]).await;
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let Member {
        id: dev_id,
        email: dev,
        ..
    } = Member::new(&app, &account, "developer").await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto("/console/team").await;
    browser.check_page("team").await;

    browser.fill("Email", "not an address").await;
    browser.click("Send invitation").await;
    assert!(browser.text().await.contains("Enter an email address."));
    browser.check_page("invitation refused").await;
    browser.fill("Email", "newcomer@example.com").await;
    browser.click("Send invitation").await;
    let text = browser.text().await;
    assert!(
        text.contains("An invitation was sent to newcomer@example.com as viewer."),
        "{text}"
    );
    browser.check_page("invitation sent").await;
    app.wait_for_eml("newcomer@example.com").await;

    browser
        .execute(&format!(
            "document.querySelector('form[action=\"/console/team/members/{dev_id}/role\"] select').value = 'viewer';"
        ))
        .await;
    browser.click("Change role").await;
    assert!(browser
        .text()
        .await
        .contains(&format!("{dev} is now viewer")));
    assert_eq!(api_member(&app, &dev).await["role"], "viewer");

    let ticked = browser
        .execute(&format!(
            "var box = document.querySelector('input[name=members][value=\"{dev_id}\"]'); box.click(); return box.checked;"
        ))
        .await;
    assert_eq!(ticked, json!(true));
    browser.click("Apply to selected").await;
    let text = browser.text().await;
    assert!(
        text.contains("1 of 1 selected members done; 0 refused.")
            && text.contains(&format!("{dev}: suspended")),
        "{text}"
    );
    browser.check_page("selected members suspended").await;
    assert_eq!(api_member(&app, &dev).await["status"], "suspended");
}

#[tokio::test]
async fn browser_portal_link_lands_on_the_team_page_with_a_way_back() {
    let app = app(&[("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")]).await;
    let account = app.default_account_id().await;
    let Member {
        id: admin_id,
        email: admin,
        ..
    } = Member::new(&app, &account, "admin").await;
    let path = mint(&app, app.owner_key(), &admin_id, "team").await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    browser.goto(&path).await;
    browser.check_page("portal link").await;
    browser.click("Continue").await;
    assert!(
        browser.url().await.ends_with("/console/team"),
        "{}",
        browser.url().await
    );
    let text = browser.text().await;
    assert!(text.contains("Back to app.example.test"), "{text}");
    assert!(text.contains(&admin), "{text}");
    let href = browser
        .execute("return document.querySelector('header a.back').getAttribute('href');")
        .await;
    assert_eq!(href, json!("https://app.example.test/settings?tab=team"));
    browser.check_page("team page of a portal session").await;

    // The link is spent: opening it again says so.
    browser.goto(&path).await;
    browser.click("Continue").await;
    assert!(browser.text().await.contains("This link no longer works"));
    browser.check_page("spent portal link").await;
}

/// `emails` join the default account with `role` the way the team API offers: the owner
/// invites each, then each emailed link is accepted through the JSON endpoint.
async fn join_through_the_team_api(app: &TestApp, emails: &[String], role: &str) {
    for email in emails {
        let (status, doc) = call(
            app,
            Method::POST,
            "/v2/accounts/team/members/invite",
            app.owner_key(),
            Some(json!({ "email": email, "role": role })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    for email in emails {
        let eml = app.wait_for_eml(email).await;
        let (status, doc) = anon(
            app,
            Method::POST,
            &format!("/v2/invitations/{}/accept", token_in(&eml, "tnt_inv_")),
            Some(json!({ "name": email, "password": PASSWORD })),
        )
        .await;
        assert_eq!(status, 201, "{email}: {doc}");
    }
}

/// The addresses of the members the page lists, in order.
async fn listed_members(browser: &Browser) -> Vec<String> {
    let found = browser
        .execute(
            "return Array.from(document.querySelectorAll('input[name=members]'))\
               .map(function (box) { return box.parentElement.textContent.trim().replace(/^Select /, ''); });",
        )
        .await;
    serde_json::from_value(found).expect("addresses")
}

#[tokio::test]
async fn browser_team_filters_pages_invitations_suspension_and_selected_results() {
    let app = app(&[("TENANTRY_OUTBOX_POLL_MS", "50")]).await;
    set_owner_password(&app).await;
    // 1 owner + 2 developers + 24 viewers: more than the page's 25.
    let devs: Vec<String> = (0..2).map(|n| format!("dev{n}@example.com")).collect();
    let viewers: Vec<String> = (0..24).map(|n| format!("viewer{n}@example.com")).collect();
    join_through_the_team_api(&app, &devs, "developer").await;
    join_through_the_team_api(&app, &viewers, "viewer").await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;

    // Paging: 25, then the other 2, each member once.
    browser.goto("/console/team").await;
    browser.check_page("team, first page").await;
    let first = listed_members(&browser).await;
    assert_eq!(first.len(), 25, "{first:?}");
    browser.follow("Next page").await;
    browser.check_page("team, second page").await;
    let second = listed_members(&browser).await;
    assert_eq!(second.len(), 2, "{second:?}");
    let mut everyone: Vec<String> = first.iter().chain(&second).cloned().collect();
    everyone.sort();
    everyone.dedup();
    assert_eq!(everyone.len(), 27, "none twice: {first:?} {second:?}");
    let text = browser.text().await;
    assert!(
        text.contains("First page") && !text.contains("Next page"),
        "{text}"
    );
    browser.follow("First page").await;
    assert_eq!(listed_members(&browser).await, first);

    // Filters: by role, then suspend one and find them by status; reactivate.
    browser.choose("Filter by role", "developer").await;
    browser.click("Filter").await;
    assert_eq!(listed_members(&browser).await, devs);
    browser.check_page("developers").await;
    browser.press("Suspend dev0@example.com").await;
    let text = browser.text().await;
    assert!(
        text.contains("dev0@example.com is now developer (suspended)."),
        "{text}"
    );
    browser.check_page("member suspended").await;
    assert_eq!(
        api_member(&app, "dev0@example.com").await["status"],
        "suspended"
    );
    browser.choose("Filter by status", "suspended").await;
    browser.click("Filter").await;
    assert_eq!(listed_members(&browser).await, vec![devs[0].clone()]);
    browser.choose("Filter by role", "viewer").await;
    browser.click("Filter").await;
    assert!(browser.text().await.contains("No members match."));
    browser.check_page("no suspended viewer").await;
    browser.choose("Filter by role", "Any role").await;
    browser.click("Filter").await;
    browser.press("Reactivate dev0@example.com").await;
    let text = browser.text().await;
    assert!(
        text.contains("dev0@example.com is now developer (active)."),
        "{text}"
    );
    assert_eq!(
        api_member(&app, "dev0@example.com").await["status"],
        "active"
    );

    // A role, chosen in the member's own list.
    browser.choose("Role for dev1@example.com", "admin").await;
    browser.press("Change role of dev1@example.com").await;
    let text = browser.text().await;
    assert!(
        text.contains("dev1@example.com is now admin (active)."),
        "{text}"
    );
    browser.check_page("role changed").await;
    assert_eq!(api_member(&app, "dev1@example.com").await["role"], "admin");

    // An invitation: sent, sent again (a second mail), cancelled (its link then says so).
    browser.fill("Email", "pending@example.com").await;
    browser.choose("Role", "developer").await;
    browser.click("Send invitation").await;
    let text = browser.text().await;
    assert!(
        text.contains("An invitation was sent to pending@example.com as developer."),
        "{text}"
    );
    app.wait_for_eml("pending@example.com").await;
    browser
        .press("Resend the invitation to pending@example.com")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("The invitation to pending@example.com was sent again."),
        "{text}"
    );
    browser.check_page("invitation resent").await;
    let mails = app.wait_for_emls("pending@example.com", 2).await;
    browser
        .press("Cancel the invitation to pending@example.com")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("The invitation was cancelled.")
            && text.contains("No invitations are pending."),
        "{text}"
    );
    browser.check_page("invitation cancelled").await;
    let (status, doc) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/invitations?status=pending",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert!(!doc.to_string().contains("pending@example.com"), "{doc}");
    browser
        .goto(&format!("/invite/{}", token_in(&mails[1], "tnt_inv_")))
        .await;
    assert!(browser
        .text()
        .await
        .contains("This invitation was cancelled"));
    browser.check_page("cancelled invitation link").await;

    // Selected members: each one's own result, the owner's refusal beside the others' changes.
    browser.goto("/console/team").await;
    for email in ["owner@localhost", "dev0@example.com", "viewer0@example.com"] {
        browser.tick(&format!("Select {email}")).await;
    }
    browser.choose("Action", "Suspend").await;
    browser.click("Apply to selected").await;
    let text = browser.text().await;
    assert!(
        text.contains("2 of 3 selected members done; 1 refused.")
            && text.contains("owner@localhost: refused: The account owner cannot be changed")
            && text.contains("dev0@example.com: suspended")
            && text.contains("viewer0@example.com: suspended"),
        "{text}"
    );
    browser.check_page("selected members, one refused").await;
    for email in [
        "dev0@example.com",
        "viewer0@example.com",
        "viewer1@example.com",
    ] {
        browser.tick(&format!("Select {email}")).await;
    }
    browser.choose("Action", "Reactivate").await;
    browser.click("Apply to selected").await;
    let text = browser.text().await;
    assert!(
        text.contains("3 of 3 selected members done; 0 refused.")
            && text.contains("dev0@example.com: reactivated")
            && text.contains("viewer0@example.com: reactivated")
            && text.contains("viewer1@example.com: already active"),
        "{text}"
    );
    browser.check_page("selected members reactivated").await;
    assert_eq!(
        api_member(&app, "owner@localhost").await["status"],
        "active"
    );
    assert_eq!(
        api_member(&app, "viewer0@example.com").await["status"],
        "active"
    );
}
