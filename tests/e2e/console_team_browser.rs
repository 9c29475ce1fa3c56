//! The team page and portal links in a real headless Chromium (browser.rs): each page checked
//! for console errors, foreign requests, serious axe-core violations and sideways scrolling at
//! 375 px. SQLite only: console_team.rs and console_portal.rs run the same flows over plain
//! HTTP on both backends.

use serde_json::json;

use crate::browser::Browser;
use crate::console::{set_owner_password, Member, PASSWORD};
use crate::console_portal::mint;
use crate::console_team::api_member;
use crate::support::{Backend, TestApp, TestDb};

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
