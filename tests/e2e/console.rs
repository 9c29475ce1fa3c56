//! The console over plain HTTP: security headers, cookies, form tokens, sign-in (password,
//! TOTP, backup code), forced MFA enrollment, MFA enroll/verify/disable, sign-out and
//! revocation through the API. Each test drives the real binary with a small cookie-keeping
//! client that follows no redirects, so every answer is seen as the browser receives it.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{call, TestApp};

pub(crate) const PASSWORD: &str = "console-test-passphrase-7";
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A browser without a browser: keeps cookies (by name), follows nothing.
pub(crate) struct Visitor<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

/// One answer: status, headers, body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The value of the hidden field `name` (the first one on the page).
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in:\n{}", self.body))
            + marker.len();
        self.body[at..at + self.body[at..].find('"').expect("quote")].to_owned()
    }
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `req` with this visitor's cookies and keeps the ones it sets.
    pub async fn answer(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header(reqwest::header::COOKIE, self.cookie_header())
        };
        let res = req.send().await.expect("request");
        let answer = Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        };
        for cookie in answer.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').expect("cookie pair");
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        answer
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.client.get(self.app.url(path));
        self.answer(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.client.post(self.app.url(path)).form(form);
        self.answer(req).await
    }

    /// The session token the cookie carries.
    pub fn session(&self) -> Option<&str> {
        self.cookies.get("tenantry_session").map(String::as_str)
    }

    /// Signs in with the form; returns the answer to the password step.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/console/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.hidden("csrf");
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}

pub(crate) async fn set_owner_password(app: &TestApp) {
    let (status, doc) = call(
        app,
        reqwest::Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204, "{doc}");
}

/// A member with the console password [`PASSWORD`]: their API key, user id and sign-in address.
pub(crate) struct Member {
    pub key: String,
    pub id: String,
    pub email: String,
}

impl Member {
    /// A new member of `account` with `role`, whose password is set with their own key (a member
    /// always manages their own sign-in), so they can sign in to the console.
    pub async fn new(app: &TestApp, account: &str, role: &str) -> Self {
        let key = app.add_member(account, role);
        let (status, doc) = call(
            app,
            reqwest::Method::POST,
            "/api/user/password",
            &key,
            Some(json!({ "new_password": PASSWORD })),
        )
        .await;
        assert_eq!(status, 204, "{doc}");
        let (status, profile) =
            call(app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
        assert_eq!(status, 200, "{profile}");
        let data = if profile["data"].is_object() {
            &profile["data"]
        } else {
            &profile
        };
        let field = |name: &str| {
            data[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {profile}"))
                .to_owned()
        };
        Self {
            id: field("id"),
            email: field("email"),
            key,
        }
    }

    /// A visitor signed in to the console as this member.
    pub async fn signed_in<'a>(&self, app: &'a TestApp) -> Visitor<'a> {
        signed_in_as(app, &self.email).await
    }
}

/// A visitor signed in to the console as `email` (whose password is [`PASSWORD`]).
pub(crate) async fn signed_in_as<'a>(app: &'a TestApp, email: &str) -> Visitor<'a> {
    let mut visitor = Visitor::new(app);
    let answer = visitor.sign_in(email, PASSWORD).await;
    assert_eq!(answer.status, 303, "signing in as {email}: {}", answer.body);
    visitor
}

/// A new member of the default account with `role`, signed in to the console.
pub(crate) async fn signed_in_member<'a>(app: &'a TestApp, role: &str) -> (Visitor<'a>, Member) {
    let account = app.default_account_id().await;
    let member = Member::new(app, &account, role).await;
    (member.signed_in(app).await, member)
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs()
}

fn assert_page_headers(answer: &Answer, what: &str) {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header(CONTENT_SECURITY_POLICY.as_str()), CSP, "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header("cache-control"), "no-store", "{what}");
}

on_both_backends!(
    pages_and_assets_carry_the_security_headers,
    password_sign_in_lands_home_and_sign_out_ends_the_session,
    forms_without_their_token_or_with_bad_fields_change_nothing,
    a_session_revoked_through_the_api_is_signed_out_of_the_console,
    the_api_sign_in_throttle_holds_for_the_console,
    mfa_enrol_sign_in_with_code_and_backup_code_then_disable,
    required_mfa_forces_enrolment_before_anything_else,
    forms_another_site_posts_are_refused,
);

async fn pages_and_assets_carry_the_security_headers(app: TestApp) {
    let mut visitor = Visitor::new(&app);
    let login = visitor.get("/console/login").await;
    assert_eq!(login.status, 200);
    assert_page_headers(&login, "the sign-in page");
    assert!(login.body.contains("<label>Email"), "{}", login.body);
    let form_cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tenantry_form="))
        .expect("a pre-session form cookie");
    assert!(form_cookie.contains("HttpOnly") && form_cookie.contains("SameSite=Lax"));
    assert!(form_cookie.contains("Path=/") && !form_cookie.contains("Secure"));
    // Signed-out visitors of a page go to the sign-in page; unknown pages are HTML 404s.
    let home = visitor.get("/console").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/console/login");
    let missing = visitor.get("/console/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert_page_headers(&missing, "a 404");
    assert!(missing.body.contains("Page not found"));

    // The style sheet and script: content-hashed names, cached for a year, revalidated by ETag.
    for (marker, kind) in [
        ("rel=\"stylesheet\" href=\"", "text/css"),
        ("script src=\"", "text/javascript"),
    ] {
        let at = login.body.find(marker).expect(marker) + marker.len();
        let path = &login.body[at..at + login.body[at..].find('"').expect("quote")];
        assert!(path.starts_with("/console/assets/console."), "{path}");
        let asset = visitor.get(path).await;
        assert_eq!(asset.status, 200, "{path}");
        assert!(asset.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert_eq!(
            asset.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(asset.headers["x-content-type-options"], "nosniff");
        let etag = asset.headers["etag"].to_str().unwrap().to_owned();
        assert!(
            path.contains(etag.trim_matches('"')),
            "the name carries the hash"
        );
        let again = visitor
            .client
            .get(app.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
    }
    assert_eq!(
        visitor.get("/console/assets/console.0000.css").await.status,
        404
    );

    // Behind an https public URL: Secure cookies under the __Host- prefix.
    let https = TestApp::start(
        crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite"),
        &[("TENANTRY_PUBLIC_URL", "https://console.example.test")],
    )
    .await;
    let login = Visitor::new(&https).get("/console/login").await;
    let cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-tenantry_form="))
        .expect("a __Host- cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
}

async fn password_sign_in_lands_home_and_sign_out_ends_the_session(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    let wrong = visitor
        .sign_in("owner@localhost", "not-the-password-123")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong
        .body
        .contains("The email address, password or code is not right."));
    assert!(visitor.session().is_none());
    let unknown = visitor.sign_in("nobody@localhost", PASSWORD).await;
    assert_eq!(unknown.status, 401);
    assert_eq!(
        unknown.body.replace("nobody@localhost", "owner@localhost"),
        wrong.body,
        "an unknown address reads as a wrong password"
    );

    let signed = visitor.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location(), "/console");
    let cookie = signed
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tenantry_session="))
        .expect("session cookie");
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    let token = visitor.session().expect("session").to_owned();
    assert!(token.starts_with("tnt_ses_"));
    // The very session the API knows: it lists itself there.
    let (status, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/auth/sessions",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["data"][0]["current"], true);

    let home = visitor.get("/console").await;
    assert_eq!(home.status, 200);
    assert_page_headers(&home, "home");
    assert!(home.body.contains("owner@localhost"));
    assert!(home.body.contains("owner"), "the role");
    // Signed in, the sign-in page sends home.
    assert_eq!(visitor.get("/console/login").await.location(), "/console");

    let csrf = home.hidden("csrf");
    let out = visitor.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/console/login");
    assert!(visitor.session().is_none(), "the cookie is cleared");
    assert_eq!(
        app.get("/api/auth/sessions", Some(&token)).await.status(),
        401,
        "signing out ended the session"
    );
    // The old cookie, replayed: the sign-in page, no data.
    visitor.cookies.insert("tenantry_session".into(), token);
    let replay = visitor.get("/console").await;
    assert_eq!(replay.status, 303);
    assert!(!replay.body.contains("owner@localhost"));
}

async fn forms_without_their_token_or_with_bad_fields_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    let page = visitor.get("/console/login").await;
    let csrf = page.hidden("csrf");
    let creds = [("email", "owner@localhost"), ("password", PASSWORD)];
    // No token, a wrong token, a token without its cookie: 403, no session.
    for form in [
        creds.to_vec(),
        [&creds[..], &[("csrf", "x".repeat(43).as_str())]].concat(),
    ] {
        let res = visitor.post("/console/login", &form).await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert!(res.body.contains("This form has expired"));
        assert!(visitor.session().is_none());
    }
    let mut stranger = Visitor::new(&app);
    let res = stranger
        .post(
            "/console/login",
            &[&creds[..], &[("csrf", csrf.as_str())]].concat(),
        )
        .await;
    assert_eq!(res.status, 403, "a token without its cookie");
    assert!(stranger.session().is_none());
    // Oversized and malformed fields: 400 pages.
    let long = "a".repeat(400) + "@x.test";
    let res = visitor
        .post(
            "/console/login",
            &[("csrf", &csrf), ("email", &long), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Email is longer than"));
    let huge = "p".repeat(20_000);
    let res = visitor
        .post(
            "/console/login",
            &[
                ("csrf", &csrf),
                ("email", "owner@localhost"),
                ("password", &huge),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(
        res.body.contains("This form could not be read"),
        "{}",
        res.body
    );
    assert_page_headers(&res, "an unreadable form");
    let res = visitor
        .answer(
            visitor
                .client
                .post(app.url("/console/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "csrf={csrf}&email=a%40x.test&email=b%40x.test&password=p"
                )),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(visitor.session().is_none());
    let (_, sessions) = call(
        &app,
        reqwest::Method::GET,
        "/v2/accounts/audit-logs?limit=50",
        app.owner_key(),
        None,
    )
    .await;
    assert!(
        !sessions.to_string().contains("session.created")
            && !sessions.to_string().contains("login.succeeded"),
        "no sign-in happened: {sessions}"
    );

    // Signed in: another session's form token does not sign this one out.
    let mut other = Visitor::new(&app);
    assert_eq!(other.sign_in("owner@localhost", PASSWORD).await.status, 303);
    let other_csrf = other.get("/console").await.hidden("csrf");
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    let res = visitor
        .post("/console/logout", &[("csrf", &other_csrf)])
        .await;
    assert_eq!(res.status, 403);
    let res = visitor.post("/console/logout", &[]).await;
    assert_eq!(res.status, 403);
    assert_eq!(visitor.get("/console").await.status, 200, "still signed in");
    // Nor starts an MFA enrollment.
    let res = visitor
        .post("/console/account/mfa/enroll", &[("csrf", &other_csrf)])
        .await;
    assert_eq!(res.status, 403);
    let (_, mfa) = call(
        &app,
        reqwest::Method::GET,
        "/api/user/mfa",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(mfa["data"]["enabled"], false);
}

async fn a_session_revoked_through_the_api_is_signed_out_of_the_console(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    assert_eq!(visitor.get("/console").await.status, 200);
    let token = visitor.session().expect("session").to_owned();
    let (_, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/auth/sessions",
        &token,
        None,
    )
    .await;
    let id = list["data"][0]["id"].as_str().expect("id").to_owned();
    // Revoked by the user's API key, from elsewhere.
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/auth/sessions/{id}"),
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let after = visitor.get("/console").await;
    assert_eq!(after.status, 303);
    assert_eq!(after.location(), "/console/login");
    assert!(visitor.session().is_none(), "the stale cookie is cleared");
}

async fn mfa_enrol_sign_in_with_code_and_backup_code_then_disable(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    assert_eq!(
        visitor.sign_in("owner@localhost", PASSWORD).await.status,
        303
    );
    let page = visitor.get("/console/account/mfa").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("is <strong>off</strong>"));
    let csrf = page.hidden("csrf");
    // Signed in moments ago: no password needed to start.
    let started = visitor
        .post(
            "/console/account/mfa/enroll",
            &[("csrf", &csrf), ("password", "")],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(
        started.body.contains("<svg role=\"img\""),
        "a QR code inline"
    );
    let secret = started.hidden("secret");
    let enrollment = started.hidden("enrollment_id");
    let uri = started.hidden("uri");
    assert!(started
        .body
        .contains(&format!("<span class=\"secret\">{secret}</span>")));
    let wrong = visitor
        .post(
            "/console/account/mfa/verify",
            &[
                ("csrf", &csrf),
                ("enrollment_id", &enrollment),
                ("secret", &secret),
                ("uri", &uri),
                ("code", "000000x"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    // The previous step's code, so the current one is free for the sign-in.
    let previous = tenantry_security::code_for(&secret, now() - 30).expect("code");
    let verified = visitor
        .post(
            "/console/account/mfa/verify",
            &[
                ("csrf", &csrf),
                ("enrollment_id", &enrollment),
                ("secret", &secret),
                ("uri", &uri),
                ("code", &previous),
            ],
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let codes_at = verified
        .body
        .find("<ul class=\"codes\">")
        .expect("backup codes");
    let backup: String = verified.body[codes_at..]
        .split("<li>")
        .nth(1)
        .and_then(|s| s.split("</li>").next())
        .expect("a backup code")
        .to_owned();
    let again = visitor.get("/console/account/mfa").await;
    assert!(again.body.contains("is <strong>on</strong>"));
    assert!(!again.body.contains(&backup), "backup codes are shown once");
    let out = visitor.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);

    // Password, then the code step; a wrong code fails generically.
    let step = visitor.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(step.status, 200);
    assert!(step.body.contains("<label>Code"));
    assert!(visitor.session().is_none());
    // The page asking for the code holds a ticket, never the password.
    assert!(
        !step.body.contains(PASSWORD),
        "the password came back in the page"
    );
    let ticket = step.hidden("ticket");
    assert!(!ticket.is_empty());
    let form_csrf = step.hidden("csrf");
    let code = tenantry_security::code_for(&secret, now()).expect("code");
    let with_ticket = |ticket: &str, code: &str| {
        vec![
            ("csrf".to_owned(), form_csrf.clone()),
            ("email".to_owned(), "owner@localhost".to_owned()),
            ("ticket".to_owned(), ticket.to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    for (what, form) in [
        ("a wrong code", with_ticket(&ticket, "123")),
        (
            "an edited ticket",
            with_ticket(&format!("{ticket}x"), &code),
        ),
        (
            "another time in the ticket",
            with_ticket(&ticket.replacen('1', "2", 1), &code),
        ),
        ("an empty code", with_ticket(&ticket, "")),
    ] {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let wrong = visitor.post("/console/login", &pairs).await;
        assert!(visitor.session().is_none(), "{what} signed in");
        assert!(
            wrong.status == 401 || (what == "an empty code" && wrong.status == 200),
            "{what}: {}",
            wrong.status
        );
    }
    // The ticket is bound to this browser's form cookie: copied, with a current code, into
    // another browser (its own form cookie and token), it is refused like a wrong password.
    let mut elsewhere = Visitor::new(&app);
    let their_csrf = elsewhere.get("/console/login").await.hidden("csrf");
    assert_ne!(their_csrf, form_csrf);
    let copied = elsewhere
        .post(
            "/console/login",
            &[
                ("csrf", their_csrf.as_str()),
                ("email", "owner@localhost"),
                ("ticket", ticket.as_str()),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(copied.status, 401, "a copied ticket: {}", copied.body);
    assert!(elsewhere.session().is_none(), "a copied ticket signed in");
    let pairs = with_ticket(&ticket, &code);
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let ok = visitor.post("/console/login", &pairs).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(visitor.session().is_some());
    let csrf = visitor.get("/console").await.hidden("csrf");
    visitor.post("/console/logout", &[("csrf", &csrf)]).await;

    // A backup code works once.
    let step = visitor.sign_in("owner@localhost", PASSWORD).await;
    let form_csrf = step.hidden("csrf");
    let with_backup = [
        ("csrf", form_csrf.as_str()),
        ("email", "owner@localhost"),
        ("password", PASSWORD),
        ("code", backup.as_str()),
    ];
    let ok = visitor.post("/console/login", &with_backup).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let mut second = Visitor::new(&app);
    let step = second.sign_in("owner@localhost", PASSWORD).await;
    let second_csrf = step.hidden("csrf");
    let reused = second
        .post(
            "/console/login",
            &[
                ("csrf", second_csrf.as_str()),
                ("email", "owner@localhost"),
                ("password", PASSWORD),
                ("code", backup.as_str()),
            ],
        )
        .await;
    assert_eq!(reused.status, 401, "a used backup code");

    // Turning it off needs the password and a current code.
    let csrf = visitor.get("/console/account/mfa").await.hidden("csrf");
    let refused = visitor
        .post(
            "/console/account/mfa/disable",
            &[
                ("csrf", &csrf),
                ("password", "wrong-password-123"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(refused.status, 401);
    let (_, mfa) = call(
        &app,
        reqwest::Method::GET,
        "/api/user/mfa",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(mfa["data"]["enabled"], true, "nothing changed");
    let next = tenantry_security::code_for(&secret, now() + 30).expect("code");
    let off = visitor
        .post(
            "/console/account/mfa/disable",
            &[("csrf", &csrf), ("password", PASSWORD), ("code", &next)],
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert!(off.body.contains("Two-factor authentication is off."));
    let (_, mfa) = call(
        &app,
        reqwest::Method::GET,
        "/api/user/mfa",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(mfa["data"]["enabled"], false);
}

async fn required_mfa_forces_enrolment_before_anything_else(app: TestApp) {
    set_owner_password(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/security",
            app.owner_key(),
            &json!({"two_factor": {"enabled": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut visitor = Visitor::new(&app);
    let signed = visitor.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(signed.status, 303);
    assert_eq!(signed.location(), "/console/account/mfa");
    // Nothing else: home sends back to the enrollment.
    let home = visitor.get("/console").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/console/account/mfa");
    let page = visitor.get("/console/account/mfa").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("requires two-factor authentication"));
    assert!(
        !page.body.contains("aria-label=\"Console\""),
        "no navigation"
    );
    let csrf = page.hidden("csrf");
    let started = visitor
        .post("/console/account/mfa/enroll", &[("csrf", &csrf)])
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.hidden("secret");
    let previous = tenantry_security::code_for(&secret, now() - 30).expect("code");
    let done = visitor
        .post(
            "/console/account/mfa/verify",
            &[
                ("csrf", &csrf),
                ("enrollment_id", &started.hidden("enrollment_id")),
                ("secret", &secret),
                ("uri", &started.hidden("uri")),
                ("code", &previous),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Sign in again"));
    // Still restricted until signing in again with the new factor (as the API's sessions).
    assert_eq!(
        visitor.get("/console").await.location(),
        "/console/account/mfa"
    );
    visitor.post("/console/logout", &[("csrf", &csrf)]).await;
    let step = visitor.sign_in("owner@localhost", PASSWORD).await;
    let code = tenantry_security::code_for(&secret, now()).expect("code");
    let ok = visitor
        .post(
            "/console/login",
            &[
                ("csrf", &step.hidden("csrf")),
                ("email", "owner@localhost"),
                ("password", PASSWORD),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/console");
    assert_eq!(visitor.get("/console").await.status, 200);
}

async fn the_api_sign_in_throttle_holds_for_the_console(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    // Five failures for the address (tenantry_security::MAX_FAILURES_PER_EMAIL), then refusal,
    // even for the right password: the sign-in's own throttle, shared with the API.
    for _ in 0..5 {
        let wrong = visitor
            .sign_in("owner@localhost", "not-the-password-99")
            .await;
        assert_eq!(wrong.status, 401);
    }
    let refused = visitor.sign_in("owner@localhost", PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.headers.contains_key("retry-after"));
    assert!(refused.body.contains("Too many attempts"));
    assert!(visitor.session().is_none());
    // The API answers the same address the same way: one budget.
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 429);
}

/// A form another site made a browser post is refused even when it carries a valid form token
/// and cookie (a sibling site on plain http can plant the pre-session cookie): the browser's
/// `Sec-Fetch-Site`, or lacking it a foreign `Origin`, stops it, and nothing is signed in. The
/// console's own posts (`same-origin`, `Origin: null` under its no-referrer policy) go through.
async fn forms_another_site_posts_are_refused(app: TestApp) {
    set_owner_password(&app).await;
    let mut visitor = Visitor::new(&app);
    let page = visitor.get("/console/login").await;
    let csrf = page.hidden("csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "owner@localhost"),
        ("password", PASSWORD),
    ];
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
    ] {
        let req = visitor
            .client
            .post(app.url("/console/login"))
            .header(header, value)
            .form(&form);
        let answer = visitor.answer(req).await;
        assert_eq!(answer.status, 403, "{header}: {value}: {}", answer.body);
        assert!(answer.body.contains("This form came from another site"));
        assert!(visitor.session().is_none(), "{header}: {value} signed in");
    }
    let req = visitor
        .client
        .post(app.url("/console/login"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", "null")
        .form(&form);
    let answer = visitor.answer(req).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(visitor.session().is_some());
}
