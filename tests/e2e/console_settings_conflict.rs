//! A conflicting edit of a console settings page over plain HTTP and in a real browser: each
//! differing field shows its value when the form was opened, what is saved now and what was
//! sent, marked as someone else's change, the visitor's only, or both; nothing is written; the
//! form shown holds the saved values plus the visitor's uncontested changes, so one more submit
//! applies them; secrets never appear (decision 0035, addendum). Every outcome is checked
//! through the account settings API.

use serde_json::{json, Value};

use crate::console::set_owner_password;
use crate::console_account::signed_in_owner;
use crate::console_settings::{api_section, form_pairs, secrets, with};
use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends!(
    console_settings_conflict_names_whose_change_each_field_is,
    console_settings_conflict_never_shows_secrets,
    console_settings_refused_form_keeps_its_version,
);

/// How the conflict page names the change of `field`: "theirs", "yours", "conflict", or none.
fn change_of<'b>(body: &'b str, field: &str) -> Option<&'b str> {
    let marker = format!("data-field=\"{field}\" data-change=\"");
    let at = body.find(&marker)? + marker.len();
    body[at..].split('"').next()
}

/// The conflict page's entry for `field`: its text, tags removed.
fn entry(body: &str, field: &str) -> String {
    let tag = body
        .find(&format!("data-field=\"{field}\""))
        .unwrap_or_else(|| panic!("no entry for {field}:\n{body}"));
    let at = tag + body[tag..].find('>').expect("tag end") + 1;
    let end = at + body[at..].find("</li>").expect("entry end");
    let mut text = String::new();
    let mut in_tag = false;
    for c in body[at..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn console_settings_conflict_names_whose_change_each_field_is(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            app.owner_key(),
            &json!({ "currency": "USD", "billing_address": { "name": "Opened Ltd", "city": "Paris" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let path = "/console/settings/billing";
    let page = me.get(path).await;
    let opened = form_pairs(&page.body, path);
    // Someone else changes the currency and the name meanwhile.
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            app.owner_key(),
            &json!({ "currency": "GBP", "billing_address": { "name": "Theirs Ltd" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let theirs = api_section(&app, "billing").await;
    // The visitor changes the name too, differently, and the city, which nobody else touched.
    let res = me
        .post_pairs(
            path,
            &with(
                &opened,
                &[
                    ("billing_address.name", "Mine SA"),
                    ("billing_address.city", "Lyon"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.body);
    assert_eq!(
        api_section(&app, "billing").await,
        theirs,
        "nothing overwritten"
    );
    assert!(res.body.contains("Nothing was saved:"), "{}", res.body);
    assert!(
        res.body.contains("save it to apply them"),
        "the page says how to apply the rest: {}",
        res.body
    );
    assert_eq!(change_of(&res.body, "currency"), Some("theirs"));
    assert_eq!(change_of(&res.body, "billing_address.city"), Some("yours"));
    assert_eq!(
        change_of(&res.body, "billing_address.name"),
        Some("conflict")
    );
    assert_eq!(
        change_of(&res.body, "timezone"),
        None,
        "an unchanged field is not listed"
    );
    assert_eq!(
        entry(&res.body, "billing_address.name"),
        "Billing address: name : changed by you and by someone else: the form shows the saved \
         value When you opened it Opened Ltd Saved now Theirs Ltd You sent Mine SA"
    );
    assert_eq!(
        entry(&res.body, "currency"),
        "Currency : changed by someone else: the form shows the saved value When you opened it \
         USD Saved now GBP You sent USD"
    );
    // The form holds the saved values plus the visitor's own change, under the new version.
    let again = form_pairs(&res.body, path);
    let value = |name: &str| {
        again
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(value("currency").as_deref(), Some("GBP"));
    assert_eq!(value("billing_address.name").as_deref(), Some("Theirs Ltd"));
    assert_eq!(value("billing_address.city").as_deref(), Some("Lyon"));
    assert_eq!(value("etag").as_deref(), Some(theirs.0.as_str()));
    // One more submit applies the visitor's change over the other one.
    let res = me.post_pairs(path, &again).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let (_, body) = api_section(&app, "billing").await;
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["currency"], "GBP");
    assert_eq!(doc["billing_address"]["name"], "Theirs Ltd");
    assert_eq!(doc["billing_address"]["city"], "Lyon");
}

/// Secrets are write-only: neither the stored ones nor those the visitor typed appear in the
/// page, in the values the form carries, or in a conflict page; a conflict saves none.
async fn console_settings_conflict_never_shows_secrets(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/integrations",
            app.owner_key(),
            &json!({ "github": { "username": "octo", "access_token": "ghp_storedsecret123" },
                     "docker": { "registries": [{ "url": "r.example.test", "username": "u", "access_token": "dockerstored9" }] } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let path = "/console/settings/integrations";
    let page = me.get(path).await;
    let base = page.hidden("base");
    assert!(
        base.contains("octo"),
        "the base holds the shown values: {base}"
    );
    for secret in ["ghp_storedsecret123", "dockerstored9"] {
        assert!(!page.body.contains(secret), "{secret} in the page");
    }
    assert!(
        !base.contains("access_token") && !base.contains("configured"),
        "{base}"
    );
    let opened = form_pairs(&page.body, path);
    let res = app
        .put(
            "/v2/accounts/settings/integrations",
            app.owner_key(),
            &json!({ "github": { "username": "someone" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let stored = secrets(&app).await;
    let res = me
        .post_pairs(
            path,
            &with(
                &opened,
                &[
                    ("github.access_token", "ghp_typednew456"),
                    ("docker.registries[0].access_token", "dockertyped7"),
                    ("docker.registries[0].username", "v"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status, 412, "{}", res.body);
    for secret in [
        "ghp_storedsecret123",
        "dockerstored9",
        "ghp_typednew456",
        "dockertyped7",
    ] {
        assert!(!res.body.contains(secret), "{secret} in the conflict page");
    }
    assert!(
        res.body
            .contains("The secrets you typed were not saved and are not shown again"),
        "{}",
        res.body
    );
    assert_eq!(change_of(&res.body, "github.username"), Some("theirs"));
    assert_eq!(change_of(&res.body, "docker.registries"), Some("yours"));
    assert_eq!(change_of(&res.body, "github.access_token"), None);
    assert_eq!(secrets(&app).await, stored, "no secret saved");
}

/// A form shown again for a field error keeps the version it was drawn from: an edit made
/// meanwhile makes its corrected submit a conflict, not an overwrite.
async fn console_settings_refused_form_keeps_its_version(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let path = "/console/settings/billing";
    let page = me.get(path).await;
    let opened = form_pairs(&page.body, path);
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            app.owner_key(),
            &json!({ "currency": "JPY" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let theirs = api_section(&app, "billing").await;
    let res = me
        .post_pairs(
            path,
            &with(
                &opened,
                &[("auto_recharge.amount", "abc"), ("currency", "EUR")],
            ),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let shown = form_pairs(&res.body, path);
    for field in ["etag", "base"] {
        assert_eq!(
            shown.iter().find(|(k, _)| k == field),
            opened.iter().find(|(k, _)| k == field),
            "{field} carried"
        );
    }
    let res = me
        .post_pairs(path, &with(&shown, &[("auto_recharge.amount", "")]))
        .await;
    assert_eq!(res.status, 412, "{}", res.body);
    assert_eq!(change_of(&res.body, "currency"), Some("conflict"));
    assert_eq!(
        api_section(&app, "billing").await,
        theirs,
        "nothing overwritten"
    );
}

/// A conflict in a real browser, driven by labels: the visitor opens the billing page, someone
/// changes the section through the API meanwhile, the visitor's save shows the other change
/// and saves nothing, and saving the page it shows applies both changes.
#[tokio::test]
async fn browser_settings_conflict_then_both_changes_saved() {
    let app = TestApp::start(
        crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite"),
        &[],
    )
    .await;
    set_owner_password(&app).await;
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", crate::console::PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto("/console/settings/billing").await;
    browser.check_page("billing settings").await;
    browser.fill("Billing address: city", "Lyon").await;
    let res = app
        .put(
            "/v2/accounts/settings/billing",
            app.owner_key(),
            &json!({ "billing_address": { "name": "Other Co" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let theirs = api_section(&app, "billing").await;
    browser.click("Save").await;
    let text = browser.text().await;
    assert!(text.contains("Nothing was saved:"), "{text}");
    assert!(
        text.contains("Billing address: name: changed by someone else"),
        "{text}"
    );
    assert!(
        text.contains("Billing address: city: changed by you only"),
        "{text}"
    );
    browser.check_page("settings conflict").await;
    assert_eq!(
        api_section(&app, "billing").await,
        theirs,
        "nothing saved yet"
    );
    browser.click("Save").await;
    let text = browser.text().await;
    assert!(text.contains("Saved."), "{text}");
    let (_, body) = api_section(&app, "billing").await;
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["billing_address"]["name"], "Other Co");
    assert_eq!(doc["billing_address"]["city"], "Lyon");
}
