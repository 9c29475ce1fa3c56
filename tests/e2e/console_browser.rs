//! The console in a real headless Chromium (browser.rs): every flow a person follows, each
//! page checked for console errors, foreign requests, serious axe-core violations and sideways
//! scrolling at 375 px. SQLite only: the plain-HTTP tests (console.rs, console_links.rs) run
//! the same flows on both backends.

use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::console::{now, set_owner_password, PASSWORD};
use crate::support::{call, token_in, Backend, TestApp, TestDb};

async fn app() -> TestApp {
    TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await
}

async fn sign_in(browser: &Browser, email: &str, password: &str) {
    browser.goto("/console/login").await;
    browser.fill("Email", email).await;
    browser.fill("Password", password).await;
    browser.click("Sign in").await;
}

#[tokio::test]
async fn browser_sign_in_wrong_password_sign_out_and_back_button() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.check_page("sign-in").await;
    sign_in(&browser, "owner@localhost", "not-the-password-1").await;
    assert!(browser
        .text()
        .await
        .contains("password or code is not right"));
    browser.check_page("wrong password").await;
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    assert!(
        browser.url().await.ends_with("/console"),
        "{}",
        browser.url().await
    );
    let home = browser.text().await;
    assert!(
        home.contains("owner@localhost") && home.contains("Your account"),
        "{home}"
    );
    browser.check_page("home").await;
    browser.click("Sign out").await;
    assert!(browser.url().await.ends_with("/console/login"));
    browser.back().await;
    let after = browser.text().await;
    assert!(
        !after.contains("owner@localhost"),
        "the back button shows no data: {after}"
    );
    assert!(browser.url().await.ends_with("/console/login"));
}

#[tokio::test]
async fn browser_mfa_enrol_sign_in_with_totp_and_backup_code_then_disable() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.goto("/console/account/mfa").await;
    browser.check_page("MFA off").await;
    browser.click("Set up two-factor authentication").await;
    browser.check_page("MFA enrolment").await;
    let secret = browser
        .execute("return document.querySelector('.secret').textContent;")
        .await
        .as_str()
        .expect("secret")
        .to_owned();
    let has_qr = browser
        .execute("return !!document.querySelector('.qr svg');")
        .await;
    assert_eq!(has_qr, json!(true));
    let previous = tenantry_security::code_for(&secret, now() - 30).expect("code");
    browser.fill("Code", &previous).await;
    browser.click("Verify and turn on").await;
    let text = browser.text().await;
    assert!(text.contains("Your backup codes"), "{text}");
    browser.check_page("backup codes").await;
    let backup = browser
        .execute("return document.querySelector('ul.codes li').textContent;")
        .await
        .as_str()
        .expect("backup code")
        .to_owned();
    browser.click("Sign out").await;

    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.check_page("code step").await;
    browser
        .fill(
            "Code",
            &tenantry_security::code_for(&secret, now()).expect("code"),
        )
        .await;
    browser.click("Sign in").await;
    assert!(browser.url().await.ends_with("/console"), "TOTP sign-in");
    browser.click("Sign out").await;

    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.fill("Code", &backup).await;
    browser.click("Sign in").await;
    assert!(
        browser.url().await.ends_with("/console"),
        "backup-code sign-in"
    );

    browser.goto("/console/account/mfa").await;
    browser.check_page("MFA on").await;
    browser.fill("Password", PASSWORD).await;
    browser
        .fill(
            "Code",
            &tenantry_security::code_for(&secret, now() + 30).expect("code"),
        )
        .await;
    browser.click("Turn off two-factor authentication").await;
    assert!(browser
        .text()
        .await
        .contains("Two-factor authentication is off."));
}

#[tokio::test]
async fn browser_required_mfa_forces_enrolment() {
    let app = app().await;
    set_owner_password(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    assert!(browser.url().await.ends_with("/console/account/mfa"));
    assert!(browser
        .text()
        .await
        .contains("requires two-factor authentication"));
    browser.check_page("forced enrolment").await;
    browser.goto("/console").await;
    assert!(
        browser.url().await.ends_with("/console/account/mfa"),
        "nothing else"
    );
}

#[tokio::test]
async fn browser_invitation_links_new_person_existing_user_and_closed() {
    let app = app().await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "newcomer@example.com", "role": "developer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let eml = app.wait_for_eml("newcomer@example.com").await;
    let link = format!("{}/invite/{}", app.base, token_in(&eml, "tnt_inv_"));
    assert!(eml.contains(&link));
    browser.goto(&link).await;
    browser.check_page("invitation").await;
    let text = browser.text().await;
    assert!(
        text.contains("developer") && text.contains("owner@localhost"),
        "{text}"
    );
    browser.fill("Name", "Ada Lovelace").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Accept and create my sign-in").await;
    assert!(
        browser.url().await.ends_with("/console"),
        "{}",
        browser.url().await
    );
    assert!(browser.text().await.contains("newcomer@example.com"));
    browser.click("Sign out").await;
    browser.goto(&link).await;
    assert!(browser.text().await.contains("already been accepted"));
    browser.check_page("used invitation").await;

    // An existing user: signs in with their current password.
    set_owner_password(&app).await;
    let second = app.create_account("second", "boss@example.com").await;
    let boss = second["owner_api_key"].as_str().expect("key");
    let (status, _) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        boss,
        Some(json!({ "email": "owner@localhost", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201);
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_inv_")
        .await;
    browser
        .goto(&format!("/invite/{}", token_in(&eml, "tnt_inv_")))
        .await;
    browser.fill("Current password", PASSWORD).await;
    browser.click("Sign in and accept").await;
    assert!(browser.url().await.ends_with("/console"));
    assert!(browser.text().await.contains("second"));
    browser.click("Sign out").await;

    // Expired.
    let (status, _) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "late@example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201);
    let eml = app.wait_for_eml("late@example.com").await;
    app.db
        .execute("UPDATE invitations SET expires_at = 1 WHERE email = 'late@example.com'");
    browser
        .goto(&format!("/invite/{}", token_in(&eml, "tnt_inv_")))
        .await;
    assert!(browser.text().await.contains("This invitation has expired"));
    browser.check_page("expired invitation").await;
}

#[tokio::test]
async fn browser_reset_password_from_the_email_link() {
    let app = app().await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    let link = browser
        .execute("return document.querySelector('a[href=\"/console/forgot-password\"]').href;")
        .await;
    browser.goto(link.as_str().expect("link")).await;
    browser.check_page("forgot password").await;
    browser.fill("Email", "owner@localhost").await;
    browser.click("Send the link").await;
    let eml = app
        .wait_for_eml_containing("owner@localhost", "tnt_pwr_")
        .await;
    browser
        .goto(&format!("/reset-password/{}", token_in(&eml, "tnt_pwr_")))
        .await;
    browser.check_page("choose a password").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Set my password").await;
    assert!(browser.text().await.contains("Your password is set"));
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    assert!(browser.url().await.ends_with("/console"));
}

#[tokio::test]
async fn browser_create_an_api_key_see_its_secret_once_and_use_it() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.goto("/console/account/api-keys").await;
    browser.check_page("API keys").await;
    browser.fill("Name", "browser key").await;
    browser
        .execute("document.querySelector('input[value=\"keys:read\"]').click();")
        .await;
    browser.fill("Expires after (days)", "soon").await;
    browser.click("Create key").await;
    assert!(browser
        .text()
        .await
        .contains("Use a number of days from 1 to 3650"));
    browser.check_page("API key refused").await;
    browser.fill("Expires after (days)", "7").await;
    browser.click("Create key").await;
    browser.check_page("API key secret").await;
    let secret = browser
        .execute("return document.getElementById('new-secret').textContent;")
        .await
        .as_str()
        .expect("secret")
        .to_owned();
    let copy = browser
        .execute("return !!document.querySelector('button.copy');")
        .await;
    assert_eq!(copy, json!(true), "the script adds a copy button");
    let (status, doc) = call(&app, Method::GET, "/api/user/api-keys", &secret, None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(doc.to_string().contains("browser key"));
    browser.goto("/console/account/api-keys").await;
    let listed = browser.text().await;
    assert!(
        listed.contains("browser key") && !listed.contains(&secret),
        "{listed}"
    );
    browser.check_page("API keys listed").await;
}

#[tokio::test]
async fn browser_end_a_session_and_see_the_other_browser_signed_out() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(mine) = Browser::start(&app.base).await else {
        return;
    };
    let Some(theirs) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&theirs, "owner@localhost", PASSWORD).await;
    assert!(theirs.url().await.ends_with("/console"));
    sign_in(&mine, "owner@localhost", PASSWORD).await;
    mine.goto("/console/account/sessions").await;
    let text = mine.text().await;
    assert!(text.contains("This session"), "{text}");
    mine.check_page("sessions").await;
    mine.click("End session").await;
    assert!(mine.text().await.contains("The session was ended."));
    mine.check_page("session ended").await;
    theirs.goto("/console").await;
    assert!(
        theirs.url().await.ends_with("/console/login"),
        "{}",
        theirs.url().await
    );
    mine.goto("/console").await;
    assert!(mine.url().await.ends_with("/console"), "this one stays");
}

#[tokio::test]
async fn browser_change_the_password_then_sign_in_with_the_new_one() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    let renewed = "browser-renewed-passphrase-5";
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.goto("/console/account/password").await;
    browser.check_page("password").await;
    browser.fill("Current password", PASSWORD).await;
    browser.fill("New password", renewed).await;
    browser
        .fill("Repeat the new password", "not-the-same-one-at-all")
        .await;
    browser.click("Change password").await;
    assert!(browser
        .text()
        .await
        .contains("The two new passwords differ"));
    browser.check_page("password refused").await;
    browser.fill("Current password", PASSWORD).await;
    browser.fill("New password", renewed).await;
    browser.fill("Repeat the new password", renewed).await;
    browser.click("Change password").await;
    assert!(browser.text().await.contains("Your password is changed."));
    browser.check_page("password changed").await;
    browser.click("Sign out").await;
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    assert!(
        browser.url().await.ends_with("/console/login"),
        "the old one fails"
    );
    sign_in(&browser, "owner@localhost", renewed).await;
    assert!(
        browser.url().await.ends_with("/console"),
        "{}",
        browser.url().await
    );
}

#[tokio::test]
async fn browser_profile_name_and_email_change() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.goto("/console/account/profile").await;
    browser.check_page("profile").await;
    browser.fill("Name", "Ada Owner").await;
    browser.click("Save name").await;
    assert!(browser.text().await.contains("Your name is saved."));
    browser.fill("New email address", "moved@example.com").await;
    browser.fill("Current password", "not-the-password-3").await;
    browser.click("Change email address").await;
    assert!(browser
        .text()
        .await
        .contains("This is not your current password"));
    browser.check_page("email refused").await;
    browser.fill("Current password", PASSWORD).await;
    browser.click("Change email address").await;
    assert!(browser.text().await.contains("A message is on its way"));
    browser.check_page("email asked").await;
    let eml = app.wait_for_eml("moved@example.com").await;
    browser
        .goto(&format!("/confirm-email/{}", token_in(&eml, "tnt_emc_")))
        .await;
    browser.check_page("confirm email").await;
    let (_, profile) = call(
        &app,
        Method::GET,
        "/api/user/profile",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(profile["data"]["display_name"], "Ada Owner");
}

#[tokio::test]
async fn browser_settings_edit_a_section_and_see_the_allowlist_address() {
    let app = app().await;
    set_owner_password(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    sign_in(&browser, "owner@localhost", PASSWORD).await;
    browser.goto("/console/settings").await;
    browser.check_page("settings").await;
    browser.goto("/console/settings/billing").await;
    browser.check_page("billing settings").await;
    browser.fill("Billing address: city", "Lyon").await;
    browser.click("Save").await;
    assert!(browser.text().await.contains("Saved."));
    browser.check_page("billing saved").await;
    let (status, doc) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/billing",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["billing_address"]["city"], "Lyon");
    browser.goto("/console/settings/security").await;
    browser.check_page("security settings").await;
    let text = browser.text().await;
    assert!(
        text.contains("Your address: 127.0.0.1 — NOT covered by this list"),
        "{text}"
    );
    browser
        .fill("API access: IP whitelist", "127.0.0.0/8")
        .await;
    browser.click("Save").await;
    let text = browser.text().await;
    assert!(
        text.contains("Your address: 127.0.0.1 — covered by this list"),
        "{text}"
    );
    browser.check_page("allowlist saved").await;
}

/// The strength the invitation page's meter shows, and the word beside it.
async fn strength(browser: &Browser) -> (i64, String) {
    let shown = browser
        .execute("var m = document.getElementById('strength'); return [m.value, m.nextElementSibling.textContent];")
        .await;
    (
        shown[0].as_i64().expect("meter value"),
        shown[1].as_str().expect("word").to_owned(),
    )
}

#[tokio::test]
async fn browser_invitation_password_strength_feedback_then_accept() {
    let app = app().await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "typist@example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let eml = app.wait_for_eml("typist@example.com").await;
    browser
        .goto(&format!("/invite/{}", token_in(&eml, "tnt_inv_")))
        .await;
    assert_eq!(
        strength(&browser).await,
        (0, String::new()),
        "nothing typed"
    );

    // The script scores as the person types.
    browser.fill("Password", "hunter2").await;
    assert_eq!(strength(&browser).await, (0, "too short".to_owned()));
    browser.fill("Password", "lowercaseonly").await;
    assert_eq!(strength(&browser).await, (1, "weak".to_owned()));
    browser.check_page("weak password typed").await;
    let strong = "Quiet-Harbour-Lantern-42";
    browser.fill("Password", strong).await;
    assert_eq!(strength(&browser).await, (4, "strong".to_owned()));
    browser.check_page("strong password typed").await;

    // The server decides: a short one is refused whatever the meter said, then the strong one.
    browser.fill("Name", "Tess Typist").await;
    browser.fill("Password", "hunter2").await;
    browser.click("Accept and create my sign-in").await;
    let alert = browser
        .execute("var a = document.querySelector('[role=alert]'); return a && a.textContent;")
        .await;
    assert!(
        alert.as_str().is_some_and(|a| a.starts_with("Password ")),
        "{alert}"
    );
    assert!(browser.url().await.contains("/invite/"));
    browser.check_page("short password refused").await;
    assert_eq!(strength(&browser).await.0, 0, "a fresh page, a fresh meter");
    browser.fill("Name", "Tess Typist").await;
    browser.fill("Password", strong).await;
    browser.click("Accept and create my sign-in").await;
    assert!(
        browser.url().await.ends_with("/console"),
        "{}",
        browser.url().await
    );
    let home = browser.text().await;
    assert!(home.contains("typist@example.com"), "{home}");
    browser.check_page("signed in after accepting").await;
    browser.click("Sign out").await;
    sign_in(&browser, "typist@example.com", strong).await;
    assert!(
        browser.url().await.ends_with("/console"),
        "the password works"
    );
}
