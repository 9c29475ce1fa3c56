//! An account's branding on its console pages and in its emails: the primary colour as a
//! style sheet of this origin, the logo fetched by the server through the outbound guard from
//! a local https host whose certificate a CA of the test issued (trusted through
//! `TENANTRY_OUTBOUND_CA_FILE`), and the support address as the emails' contact line.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, Visitor, PASSWORD};
use crate::on_both_backends;
use crate::support::{call, token_in, TestApp};

/// A real 1×1 PNG.
pub(crate) const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

pub(crate) fn png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .expect("base64")
}

/// The https logo host of this test process: a CA made here, a certificate for 127.0.0.1
/// signed by it, and a listener on loopback answering by path.
pub(crate) struct LogoHost {
    pub port: u16,
    /// The PEM file of the CA, for `TENANTRY_OUTBOUND_CA_FILE`.
    pub ca_file: String,
    /// Requests per path.
    hits: Arc<std::sync::Mutex<Vec<String>>>,
}

impl LogoHost {
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests asked for `path` (a path unique to one test keeps tests apart).
    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

/// What the host answers for a path: `/<anything>.png` a PNG, `.svg` an SVG, `/big/…` a PNG
/// over the size limit, `/moved/…` a redirect to a PNG, `/lying/…` HTML called a PNG.
fn answer(path: &str) -> Vec<u8> {
    let head = |status: &str, ct: &str, extra: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    if path.starts_with("/moved/") {
        return head("302 Found", "text/plain", "location: /logo.png\r\n", b"");
    }
    if path.starts_with("/lying/") {
        return head(
            "200 OK",
            "image/png",
            "",
            b"<html><script>alert(1)</script></html>",
        );
    }
    if path.starts_with("/big/") {
        // One byte over the limit (32 KiB, decision 0037): a logo the old 256 KiB let through.
        let mut big = png();
        big.resize(32 * 1024 + 1, 0);
        return head("200 OK", "image/png", "", &big);
    }
    if path.ends_with(".svg") {
        return head(
            "200 OK",
            "image/svg+xml",
            "",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        );
    }
    if path.ends_with(".png") {
        return head("200 OK", "image/png", "", &png());
    }
    head("404 Not Found", "text/plain", "", b"")
}

pub(crate) fn logo_host() -> &'static LogoHost {
    static HOST: OnceLock<LogoHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Tenantry e2e logo CA");
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(dir).expect("tmp dir");
        let ca_file = dir.join(format!("logo-ca-{}.pem", std::process::id()));
        std::fs::write(&ca_file, ca.pem()).expect("write CA");

        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .expect("server config"),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(std::sync::Mutex::new(Vec::new()));
        let h = hits.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, hits) = (config.clone(), h.clone());
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    hits.lock().expect("hits").push(path.clone());
                    let _ = tls.write_all(&answer(&path));
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        LogoHost {
            port,
            ca_file: ca_file.to_string_lossy().into_owned(),
            hits,
        }
    })
}

/// The CA file's path, for the server's environment.
pub(crate) fn ca_file() -> &'static str {
    &logo_host().ca_file
}

on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"), ("TENANTRY_OUTBOUND_CA_FILE", crate::console_branding::ca_file())];
    a_branded_account_wears_its_colour_and_logo_from_this_origin,
    a_logo_that_cannot_be_had_leaves_the_account_name,
    the_invitation_page_and_emails_wear_the_inviting_account_branding,
);
on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")];
    without_the_ca_file_the_logo_host_is_not_believed,
);
on_both_backends!(env [("TENANTRY_OUTBOUND_CA_FILE", crate::console_branding::ca_file())];
    the_ca_file_does_not_open_private_addresses,
);

async fn set_branding(app: &TestApp, branding: serde_json::Value) {
    let path = crate::tenant_settings::tenant_path(app).await;
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(app.owner_key())
        .json(&json!({ "branding": branding }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

async fn signed_in(app: &TestApp) -> Visitor<'_> {
    set_owner_password(app).await;
    let mut v = Visitor::new(app);
    let res = v.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    v
}

/// The `href`/`src` that starts with `prefix` on `body`.
fn link(body: &str, prefix: &str) -> Option<String> {
    let at = body.find(prefix)?;
    Some(body[at..at + body[at..].find('"')?].replace("&amp;", "&"))
}

async fn a_branded_account_wears_its_colour_and_logo_from_this_origin(app: TestApp) {
    let host = logo_host();
    let path = format!("/ok-{}.png", ulid::Ulid::new());
    let account = app.default_account_id().await;
    let mut v = signed_in(&app).await;

    // Before branding: the default colours of the account, no logo.
    let home = v.get("/console").await;
    assert!(home
        .body
        .contains(&format!("/console/brand/{account}.css?v=")));
    assert!(!home.body.contains("/logo?v="));
    assert!(home.body.contains(">Tenantry</a>"));

    set_branding(
        &app,
        json!({ "primaryColor": "#ffcc00", "logoUrl": host.url(&path) }),
    )
    .await;
    for page in [
        "/console",
        "/console/account/mfa",
        "/console/account/profile",
        "/console/settings",
    ] {
        let res = v.get(page).await;
        assert_eq!(res.status, 200, "{page}");
        assert!(
            !res.body.contains(&format!("127.0.0.1:{}", host.port)),
            "{page} names the logo's host"
        );
        assert!(!res.body.contains("style="), "{page}: no inline style");
        let css = link(&res.body, &format!("/console/brand/{account}.css?v=")).expect("css");
        let logo = link(&res.body, &format!("/console/brand/{account}/logo?v=")).expect("logo");
        assert!(
            res.body.contains("alt=\"Default account\""),
            "{page}: {}",
            res.body
        );

        let sheet = v.get(&css).await;
        assert_eq!(sheet.status, 200);
        assert_eq!(sheet.headers["content-type"], "text/css; charset=utf-8");
        assert!(
            sheet.body.contains("--brand:#ffcc00;--on-brand:#000000"),
            "{}",
            sheet.body
        );
        let etag = sheet.headers["etag"].to_str().expect("etag").to_owned();
        let again = v
            .client
            .get(app.url(&css))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);

        let image = v.client.get(app.url(&logo)).send().await.expect("request");
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/png");
        assert_eq!(image.headers()["x-content-type-options"], "nosniff");
        let etag = image.headers()["etag"].to_str().expect("etag").to_owned();
        assert_eq!(image.bytes().await.expect("bytes").to_vec(), png());
        let again = v
            .client
            .get(app.url(&logo))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
    }
    assert_eq!(
        host.hits(&path),
        1,
        "fetched once, then served from the cache"
    );

    // Anyone may read an account's branding (the invitation page wears it), nothing else:
    // an unknown account or a malformed name is not found.
    let anonymous = reqwest::Client::new();
    let sheet = anonymous
        .get(app.url(&format!("/console/brand/{account}.css")))
        .send()
        .await
        .expect("request");
    assert_eq!(sheet.status(), 200);
    for missing in [
        "/console/brand/acc_01h00000000000000000000000.css".to_owned(),
        "/console/brand/acc_01h00000000000000000000000/logo".to_owned(),
        "/console/brand/nothing.css".to_owned(),
        format!("/console/brand/{account}.js"),
    ] {
        let res = anonymous
            .get(app.url(&missing))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 404, "{missing}");
    }
}

async fn a_logo_that_cannot_be_had_leaves_the_account_name(app: TestApp) {
    let host = logo_host();
    let account = app.default_account_id().await;
    let mut v = signed_in(&app).await;
    let unique = ulid::Ulid::new();
    for (why, path) in [
        ("SVG", format!("/svg-{unique}.svg")),
        ("a redirect", format!("/moved/{unique}.png")),
        ("over the size limit", format!("/big/{unique}.png")),
        ("HTML called a PNG", format!("/lying/{unique}.png")),
        ("not found", format!("/missing-{unique}")),
    ] {
        set_branding(&app, json!({ "logoUrl": host.url(&path) })).await;
        let res = v.get("/console").await;
        assert_eq!(res.status, 200, "{why}");
        assert!(!res.body.contains("/logo?v="), "{why}: no logo");
        assert!(
            res.body
                .contains("<a class=\"brand\" href=\"/console\">Default account</a>"),
            "{why}: the account's name stands in: {}",
            res.body
        );
        let logo = v
            .client
            .get(app.url(&format!("/console/brand/{account}/logo")))
            .send()
            .await
            .expect("request");
        assert_eq!(logo.status(), 404, "{why}");
        assert_eq!(host.hits(&path), 1, "{why}: the failure is remembered");
    }
    // A redirect is never followed to its target.
    assert!(app.server_log().await.contains("302"));
}

async fn without_the_ca_file_the_logo_host_is_not_believed(app: TestApp) {
    let host = logo_host();
    let path = format!("/untrusted-{}.png", ulid::Ulid::new());
    let mut v = signed_in(&app).await;
    set_branding(&app, json!({ "logoUrl": host.url(&path) })).await;
    let res = v.get("/console").await;
    assert_eq!(res.status, 200);
    assert!(
        !res.body.contains("/logo?v="),
        "an unknown issuer is refused"
    );
    assert!(res.body.contains(">Default account</a>"));
    assert!(app.server_log().await.contains("could not be fetched"));
}

async fn the_ca_file_does_not_open_private_addresses(app: TestApp) {
    let host = logo_host();
    let path = format!("/private-{}.png", ulid::Ulid::new());
    let mut v = signed_in(&app).await;
    set_branding(&app, json!({ "logoUrl": host.url(&path) })).await;
    let res = v.get("/console").await;
    assert_eq!(res.status, 200);
    assert!(!res.body.contains("/logo?v="));
    assert_eq!(
        host.hits(&path),
        0,
        "loopback is not reached without the operator's allow"
    );
}

async fn the_invitation_page_and_emails_wear_the_inviting_account_branding(app: TestApp) {
    let host = logo_host();
    let path = format!("/invite-{}.png", ulid::Ulid::new());
    let account = app.default_account_id().await;
    set_branding(
        &app,
        json!({ "primaryColor": "#0b57d0", "logoUrl": host.url(&path), "supportEmail": "help@brand.example" }),
    )
    .await;
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
    assert!(
        eml.contains("Questions? Write to help@brand.example"),
        "the support line: {eml}"
    );
    let token = token_in(&eml, "tnt_inv_");
    // The text and, as its alternative, the HTML in the account's colour with white text (the
    // console's contrast rule), the logo from the console's own route and the link as a button.
    assert!(
        eml.contains("Content-Type: multipart/alternative;"),
        "{eml}"
    );
    let text = mime_part(&eml, "text/plain");
    assert!(
        text.contains(&format!("{}/invite/{token}", app.base)),
        "{text}"
    );
    let html = mime_part(&eml, "text/html");
    assert!(html.contains("background:#0b57d0;color:#ffffff"), "{html}");
    assert!(
        html.contains(&format!(
            "<img src=\"{}/console/brand/{account}/logo\"",
            app.base
        )),
        "{html}"
    );
    assert!(html.contains(&format!("<a href=\"{}/invite/{token}\"", app.base)));
    assert!(html.contains("mailto:help@brand.example"));
    assert!(
        !html.contains(&format!("127.0.0.1:{}", host.port)),
        "never the logo's host"
    );

    // Someone not yet a member sees the account they are joining.
    let mut stranger = Visitor::new(&app);
    let page = stranger.get(&format!("/invite/{token}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let css = link(&page.body, &format!("/console/brand/{account}.css?v=")).expect("css");
    assert!(link(&page.body, &format!("/console/brand/{account}/logo?v=")).is_some());
    let sheet = stranger.get(&css).await;
    assert!(sheet.body.contains("--brand:#0b57d0;--on-brand:#ffffff"));

    // Pages without an account keep the default.
    let login = stranger.get("/console/login").await;
    assert!(!login.body.contains("/console/brand/"));

    // The public password reset is about a sign-in, not one account: it names no account's
    // support (decision 0037).
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/password-reset"))
        .json(&json!({ "email": "owner@localhost" }))
        .send()
        .await
        .expect("request");
    assert!(res.status().is_success(), "{}", res.status());
    let reset = app
        .wait_for_eml_containing("owner@localhost", "Reset your password")
        .await;
    assert!(!reset.contains("Questions?"), "{reset}");
    assert!(
        !reset.contains("text/html"),
        "no account, no branding: {reset}"
    );

    // The operator's reset of a member is sent on behalf of the account: it carries the line.
    let (ok, _, stderr) = crate::operator_access::cli(
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
    let by_operator = app
        .wait_for_eml_containing("owner@localhost", "Questions? Write to help@brand.example")
        .await;
    assert!(by_operator.contains("Reset your password"), "{by_operator}");
    let html = mime_part(&by_operator, "text/html");
    assert!(html.contains("background:#0b57d0;color:#ffffff"), "{html}");
    assert!(
        html.contains(&format!("{}/reset-password/tnt_", app.base)),
        "{html}"
    );
}

/// The body of the part of `eml` whose content type is `content_type` (8-bit, as the `.eml`
/// files hold it).
fn mime_part(eml: &str, content_type: &str) -> String {
    let start = eml
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in {eml}"));
    let body = &eml[start..];
    let body = &body[body.find("\r\n\r\n").expect("part headers") + 4..];
    body[..body.find("\r\n--").unwrap_or(body.len())].to_owned()
}

/// Over SMTP (lettre's `multipart/alternative`, as a real mail server receives it): the
/// invitation of an account whose name is markup carries it escaped in the HTML, in the colour
/// and black text the console would use, with the logo on the public URL, which serves it.
#[tokio::test]
async fn a_branded_invitation_over_smtp_carries_text_and_escaped_html() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let db = crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite");
    let app = TestApp::start(
        db,
        &[
            ("TENANTRY_SMTP_URL", smtp.url().as_str()),
            ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
            ("TENANTRY_OUTBOUND_CA_FILE", ca_file()),
        ],
    )
    .await;
    let host = logo_host();
    let account = app.default_account_id().await;
    let name = "Acme <script>alert(1)</script> & \"Co\"";
    let res = app
        .client
        .patch(app.url(&format!("/admin/accounts/{account}")))
        .bearer_auth(app.operator_key())
        .json(&json!({ "display_name": name }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    set_branding(
        &app,
        json!({ "primaryColor": "#ffcc00", "logoUrl": host.url(&format!("/smtp-{}.png", ulid::Ulid::new())) }),
    )
    .await;
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        app.owner_key(),
        Some(json!({ "email": "smtp-newcomer@example.com", "role": "developer", "message": "<b>Welcome</b>\nsee you" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let mail = smtp
        .wait_for_to(
            "smtp-newcomer@example.com",
            1,
            std::time::Duration::from_secs(20),
        )
        .await
        .remove(0);
    let content_type = mail.header("content-type").expect("content type");
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let body = mail.text();
    let plain_at = body.find("Content-Type: text/plain").expect("text part");
    let html_at = body.find("Content-Type: text/html").expect("html part");
    assert!(plain_at < html_at, "the text comes first: {body}");
    let (plain, html) = body.split_at(html_at);
    assert!(plain.contains(name), "the text part is plain text: {plain}");
    assert!(html.contains("background:#ffcc00;color:#000000"), "{html}");
    assert!(
        html.contains("Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;b&gt;Welcome&lt;/b&gt;<br>see you"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    let logo = format!("{}/console/brand/{account}/logo", app.base);
    assert!(html.contains(&format!("<img src=\"{logo}\"")), "{html}");
    let image = reqwest::get(&logo).await.expect("request");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
}

/// In a real browser: the logo comes from this origin and is drawn, the colour is on the
/// buttons with readable text, no request leaves the origin, and axe finds nothing serious.
#[tokio::test]
async fn browser_a_branded_account_page_shows_its_logo_and_colour() {
    let db = crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite");
    let app = TestApp::start(
        db,
        &[
            ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
            ("TENANTRY_OUTBOUND_CA_FILE", ca_file()),
        ],
    )
    .await;
    let host = logo_host();
    set_owner_password(&app).await;
    set_branding(
        &app,
        json!({ "primaryColor": "#ffcc00", "logoUrl": host.url(&format!("/browser-{}.png", ulid::Ulid::new())) }),
    )
    .await;
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto("/console/account/mfa").await;
    browser.check_page("branded MFA page").await;
    let drawn = browser
        .execute(
            "const img = document.querySelector('header.top img.logo');\
             const button = document.querySelector('main button');\
             const bar = getComputedStyle(document.querySelector('header.top'));\
             return [img && img.complete && img.naturalWidth, img && new URL(img.src).origin,\
                     img && img.alt, getComputedStyle(button).backgroundColor,\
                     getComputedStyle(button).color, bar.borderTopColor];",
        )
        .await;
    assert_eq!(
        drawn,
        json!([
            1,
            app.base,
            "Default account",
            "rgb(255, 204, 0)",
            "rgb(0, 0, 0)",
            "rgb(255, 204, 0)"
        ]),
        "logo drawn from this origin, colour on the button with black text"
    );
}
