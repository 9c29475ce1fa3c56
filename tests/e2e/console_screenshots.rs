//! The console's screenshots (`cargo xtask screenshots`, shown in docs/console.md): the key
//! pages in headless Chromium (browser.rs) at a desktop and a phone width, on a demo account
//! that is set up only through the public APIs, as a platform or a person would.
//!
//! With `TENANTRY_SCREENSHOTS_DIR` set (the xtask sets `docs/console`), the PNGs are written
//! there. Without it the suite takes the same pictures and writes nothing: every picture must
//! still show its page (its expected text), be a PNG exactly as wide as the window, and weigh at
//! most [`MAX_BYTES`], so the command cannot rot between two runs of it.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::console::PASSWORD;
use crate::support::{call, token_in, Backend, TestApp, TestDb};

/// The widths taken, with their window heights: a laptop and a phone (the viewport is the
/// window less what headless Chromium keeps for its own frame).
const SIZES: [(u32, u32); 2] = [(1280, 960), (375, 812)];
/// The most a committed screenshot may weigh: the documentation stays light to clone.
const MAX_BYTES: usize = 200 * 1024;

const OWNER: &str = "olivia@northwind.example";

/// The demo account's people: (address, name, role); all accept their invitation but the last,
/// which stays pending.
const PEOPLE: [(&str, &str, &str); 5] = [
    ("ada@northwind.example", "Ada Park", "admin"),
    ("grace@northwind.example", "Grace Chen", "developer"),
    ("sam@northwind.example", "Sam Rivera", "developer"),
    ("noor@northwind.example", "Noor Haddad", "viewer"),
    ("lee@northwind.example", "Lee Okafor", "developer"),
];

/// The demo account through the public APIs: the operator creates it, its owner sets a
/// password and a name, invites the team (four accept, one is pending), changes settings and
/// creates an API key; the audit log records all of it. Returns the pending invitation's link.
async fn demo_account(app: &TestApp) -> String {
    let ok = |what: &str, status: u16, doc: &Value, want: u16| {
        assert_eq!(status, want, "{what}: {doc}");
    };
    let (status, created) = call(
        app,
        Method::POST,
        "/admin/accounts",
        app.operator_key(),
        Some(json!({
            "name": "northwind",
            "display_name": "Northwind Robotics",
            "owner_email": OWNER,
        })),
    )
    .await;
    ok("the account", status, &created, 201);
    let owner = created["owner_api_key"].as_str().expect("owner key");
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/user/password",
        owner,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    ok("owner's password", status, &doc, 204);
    let (status, doc) = call(
        app,
        Method::PUT,
        "/api/user/profile",
        owner,
        Some(json!({ "display_name": "Olivia Brandt" })),
    )
    .await;
    ok("owner's name", status, &doc, 200);
    let mut pending = String::new();
    for (i, (email, name, role)) in PEOPLE.into_iter().enumerate() {
        let (status, doc) = call(
            app,
            Method::POST,
            "/v2/accounts/team/members",
            owner,
            Some(json!({ "email": email, "role": role })),
        )
        .await;
        ok("invitation", status, &doc, 201);
        let token = token_in(&app.wait_for_eml(email).await, "tnt_inv_");
        if i == PEOPLE.len() - 1 {
            pending = format!("/invite/{token}");
            break;
        }
        let res = app
            .client
            .post(app.url(&format!("/v2/invitations/{token}/accept")))
            .json(&json!({ "name": name, "password": PASSWORD }))
            .send()
            .await
            .expect("accept");
        assert_eq!(res.status(), 201, "accepting {email}");
    }
    for (section, body) in [
        (
            "billing",
            json!({ "currency": "EUR", "timezone": "Europe/Berlin" }),
        ),
        ("preferences", json!({ "theme": "dark" })),
    ] {
        let res = app
            .put(&format!("/v2/accounts/settings/{section}"), owner, &body)
            .await;
        assert_eq!(res.status(), 200, "settings {section}");
    }
    let (status, doc) = call(
        app,
        Method::POST,
        "/api/user/api-keys",
        owner,
        Some(json!({
            "name": "GitHub Actions deploy",
            "scopes": ["settings:read", "keys:read"],
            "expires_in_days": 90,
        })),
    )
    .await;
    ok("API key", status, &doc, 201);
    pending
}

/// The width a PNG declares (its IHDR chunk), `None` if the bytes are not a PNG.
fn png_width(png: &[u8]) -> Option<u32> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || !png.starts_with(SIGNATURE) || &png[12..16] != b"IHDR" {
        return None;
    }
    Some(u32::from_be_bytes(png[16..20].try_into().ok()?))
}

struct Shots {
    dir: Option<PathBuf>,
    taken: Vec<String>,
}

impl Shots {
    /// The page now open, at every width, as `<name>-<width>.png`; `shows` must be on it. With
    /// `from`, the picture starts at the heading that reads so (the part of a long page worth
    /// showing).
    async fn take(&mut self, browser: &Browser, name: &str, shows: &str, from: Option<&str>) {
        let text = browser.text().await;
        assert!(
            text.contains(shows),
            "{name}: `{shows}` is not on {}:\n{text}",
            browser.url().await
        );
        for (width, height) in SIZES {
            browser.resize(width, height).await;
            if let Some(heading) = from {
                let found = browser
                    .execute(&format!(
                        "var h = Array.from(document.querySelectorAll('h2'))\
                           .find(function (e) {{ return e.textContent.trim() === '{heading}'; }});\
                         if (h) {{ h.scrollIntoView(); }} return !!h;"
                    ))
                    .await;
                assert_eq!(found, json!(true), "{name}: no heading {heading}");
            }
            let png = browser.screenshot().await;
            let file = format!("{name}-{width}.png");
            assert_eq!(png_width(&png), Some(width), "{file}: a PNG {width} wide");
            assert!(
                png.len() <= MAX_BYTES,
                "{file}: {} bytes, more than {MAX_BYTES}",
                png.len()
            );
            if let Some(dir) = &self.dir {
                std::fs::write(dir.join(&file), &png).expect("write the screenshot");
            }
            self.taken.push(file);
        }
    }
}

#[tokio::test]
async fn console_screenshots_show_the_key_pages_at_desktop_and_phone_widths() {
    let app = TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await;
    let invitation = demo_account(&app).await;
    let Some(browser) = Browser::start(&app.base).await else {
        return;
    };
    let dir = std::env::var_os("TENANTRY_SCREENSHOTS_DIR").map(PathBuf::from);
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir).expect("the screenshots directory");
    }
    let mut shots = Shots {
        dir,
        taken: Vec::new(),
    };

    browser.goto("/console/login").await;
    shots.take(&browser, "sign-in", "Password", None).await;
    browser.goto(&invitation).await;
    shots
        .take(&browser, "invitation", "Northwind Robotics", None)
        .await;

    browser.goto("/console/login").await;
    browser.fill("Email", OWNER).await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    assert!(browser.url().await.ends_with("/console"), "signed in");
    browser.goto("/console/team").await;
    shots.take(&browser, "team", "Grace Chen", None).await;
    browser.goto("/console/settings/billing").await;
    shots.take(&browser, "settings-billing", "EUR", None).await;
    browser.goto("/console/audit").await;
    shots
        .take(&browser, "audit", "team.invitation", Some("Entries"))
        .await;
    browser.goto("/console/account/api-keys").await;
    shots
        .take(&browser, "api-keys", "GitHub Actions deploy", None)
        .await;
    browser.goto("/console/account/mfa").await;
    browser.click("Set up two-factor authentication").await;
    shots.take(&browser, "mfa-enrolment", "Code", None).await;

    assert_eq!(shots.taken.len(), 7 * SIZES.len());
}

#[test]
fn png_width_reads_the_header_and_refuses_what_is_not_a_png() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&1280u32.to_be_bytes());
    png.extend_from_slice(&800u32.to_be_bytes());
    assert_eq!(png_width(&png), Some(1280));
    assert_eq!(png_width(&png[..20]), None);
    png[1] = b'J';
    assert_eq!(png_width(&png), None);
}
