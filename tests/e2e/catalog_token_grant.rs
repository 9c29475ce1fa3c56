//! The settings catalog's token grant (`/authorization/token`, decision 0024), exercised the way
//! the catalog API's existing clients use it: a form-encoded password grant, calls with the
//! Bearer token, a 401 `60001` answered by a refresh and a retry, refresh token rotation and
//! reuse detection; and every way to get it wrong.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, enrol_totp, Backend, TestApp, TestDb};

const PASSWORD: &str = "catalog-client-passphrase-9";
const OWNER: &str = "owner@localhost";

async fn set_password(app: &TestApp) {
    let (status, _) = call(
        app,
        reqwest::Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
}

/// A form-encoded grant, as the clients send it; status, headers and JSON body.
async fn grant(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = app
        .client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn password_grant(app: &TestApp, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", OWNER),
        ("password", PASSWORD),
    ];
    form.extend_from_slice(extra);
    let (status, headers, doc) = grant(app, "/v1/authorization/token", &form).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(headers["cache-control"], "no-store");
    doc
}

async fn refresh(app: &TestApp, token: &str) -> (u16, Value) {
    let (status, _, doc) = grant(
        app,
        "/v1/authorization/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    (status, doc)
}

fn text<'a>(doc: &'a Value, field: &str) -> &'a str {
    doc[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {doc}"))
}

const PREFERENCES: &str = "/v1/accounts/default/settings/SECURITY_PREFERENCES";

async fn status_with(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    call(app, reqwest::Method::GET, path, token, None).await
}

/// What a vendor SDK does: sign in, call, get 401 60001 for a bad token, refresh, retry; and
/// what happens when a refresh token is stolen and used twice.
async fn a_catalog_client_signs_in_refreshes_and_reuse_revokes_the_family(app: TestApp) {
    set_password(&app).await;
    let doc = password_grant(&app, &[]).await;
    for (camel, snake) in [
        ("accessToken", "access_token"),
        ("refreshToken", "refresh_token"),
        ("tokenType", "token_type"),
        ("expiresIn", "expires_in"),
    ] {
        assert_eq!(doc[camel], doc[snake], "{camel} and {snake} in {doc}");
    }
    assert_eq!(doc["tokenType"], "Bearer");
    assert!(doc["expiresIn"].as_i64().is_some_and(|s| s > 0), "{doc}");
    let access = text(&doc, "accessToken").to_owned();
    let first_refresh = text(&doc, "refreshToken").to_owned();
    assert!(first_refresh.starts_with("tnt_rft_"));
    // Only the hash of the refresh token is stored.
    let secret = first_refresh.rsplit('_').next().expect("secret");
    let stored = app.query_texts("SELECT secret_hash AS t FROM refresh_tokens");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(secret));

    // Calls on the catalog paths, with and without the version.
    for path in [
        PREFERENCES,
        "/accounts/default/settings/SECURITY_PREFERENCES",
    ] {
        let (status, body) = status_with(&app, path, &access).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    // An invalid access token: the single 60001 object clients answer by refreshing.
    let (status, err) = status_with(&app, PREFERENCES, "tnt_ses_not_a_real_token").await;
    assert_eq!(status, 401);
    assert_eq!(err["errorCode"], 60001, "{err}");
    assert!(text(&err, "errorMessage").starts_with("invalid_grant: "));
    // Refresh, then retry: it works, and the token pair rotated.
    let (status, next) = refresh(&app, &first_refresh).await;
    assert_eq!(status, 200, "{next}");
    let next_access = text(&next, "access_token").to_owned();
    let next_refresh = text(&next, "refresh_token").to_owned();
    assert_ne!(next_refresh, first_refresh);
    let (status, _) = status_with(&app, PREFERENCES, &next_access).await;
    assert_eq!(status, 200);
    // The session the old refresh token came with ends with the rotation.
    let (status, _) = status_with(&app, PREFERENCES, &access).await;
    assert_eq!(status, 401);

    // The first refresh token again: someone else holds it. The whole family is revoked: the
    // current access and refresh tokens stop working too.
    let (status, err) = refresh(&app, &first_refresh).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "invalid_grant");
    let (status, _) = status_with(&app, PREFERENCES, &next_access).await;
    assert_eq!(status, 401, "the family's live session is revoked");
    let (status, err) = refresh(&app, &next_refresh).await;
    assert_eq!(
        status, 400,
        "the family's live refresh token is revoked: {err}"
    );
    let audited = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action IN ('session.refreshed', 'session.refresh_reused') ORDER BY action",
    );
    assert_eq!(audited, ["session.refresh_reused", "session.refreshed"]);
    // A new sign-in works as before.
    password_grant(&app, &[]).await;
}

on_both_backends!(a_catalog_client_signs_in_refreshes_and_reuse_revokes_the_family);

/// Every malformed grant is a 400 in both vocabularies (never a 401, which would send clients
/// into a refresh loop), and none creates a session or a refresh token.
async fn bad_grants_are_400s_that_create_nothing(app: TestApp) {
    set_password(&app).await;
    let sessions = || app.query_texts("SELECT id AS t FROM sessions").len();
    let before = sessions();
    let long = "x".repeat(10 * 1024);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("username", OWNER), ("password", PASSWORD)],
            "invalid_request",
        ),
        (
            vec![("grant_type", "client_credentials")],
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "password"), ("username", OWNER)],
            "invalid_request",
        ),
        (
            vec![("grant_type", "password"), ("password", PASSWORD)],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", OWNER),
                ("password", &long),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("grant_type", "refresh_token"),
                ("username", OWNER),
                ("password", PASSWORD),
            ],
            "invalid_request",
        ),
        (vec![("grant_type", "refresh_token")], "invalid_request"),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "tnt_rft_forged_token"),
            ],
            "invalid_grant",
        ),
    ];
    for (form, error) in &cases {
        for path in ["/authorization/token", "/v1/authorization/token"] {
            let (status, _, err) = grant(&app, path, form).await;
            assert_eq!(status, 400, "{form:?}: {err}");
            assert_eq!(err["error"], *error, "{form:?}: {err}");
            assert!(err["error_description"].is_string(), "{err}");
            assert!(
                err["errorCode"].as_u64().is_some_and(|c| c != 60001),
                "{err}"
            );
            assert!(text(&err, "errorMessage").starts_with(error), "{err}");
        }
    }
    // JSON instead of a form: refused the same way, telling the client what to send.
    let res = app
        .client
        .post(app.url("/v1/authorization/token"))
        .json(&json!({"grant_type": "password", "username": OWNER, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"], "invalid_request");
    assert!(text(&err, "error_description").contains("x-www-form-urlencoded"));
    // A session token is no refresh token, and a refresh token no access token.
    let (_, _, doc) = grant(
        &app,
        "/authorization/token",
        &[
            ("grant_type", "password"),
            ("username", OWNER),
            ("password", PASSWORD),
        ],
    )
    .await;
    let access = text(&doc, "accessToken").to_owned();
    let refresh_token = text(&doc, "refreshToken").to_owned();
    let (status, err) = refresh(&app, &access).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, err) = status_with(&app, PREFERENCES, &refresh_token).await;
    assert_eq!((status, err["errorCode"].as_u64()), (401, Some(60001)));
    assert_eq!(
        sessions(),
        before + 1,
        "only the one good grant opened a session"
    );
    // Other methods: 405 in the catalog's format.
    let res = app.get("/v1/authorization/token", None).await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}

on_both_backends!(bad_grants_are_400s_that_create_nothing);

/// An unknown user, a wrong password and an account the user is not a member of get the same
/// answer; the throttle of `/api/auth/login` counts the failures and answers 429 with
/// `Retry-After`.
async fn grant_failures_reveal_nobody_and_are_throttled(app: TestApp) {
    set_password(&app).await;
    let attempt =
        |username: &'static str, password: &'static str, account: Option<&'static str>| {
            let app = &app;
            async move {
                let mut form = vec![
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ];
                if let Some(account) = account {
                    form.push(("account", account));
                }
                grant(app, "/authorization/token", &form).await
            }
        };
    let app_other = app
        .create_account("other-co", "someone-else@example.test")
        .await;
    assert!(app_other["id"].is_string());
    let (s1, _, unknown) = attempt("nobody@example.test", PASSWORD, None).await;
    let (s2, _, wrong) = attempt(OWNER, "wrong-password-12345", None).await;
    let (s3, _, foreign) = attempt(OWNER, PASSWORD, Some("other-co")).await;
    assert_eq!((s1, s2, s3), (400, 400, 400));
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, foreign);
    assert_eq!(unknown["error"], "invalid_grant");
    // The same user in another spelling is the same user (canonical email).
    let (status, _, doc) = attempt("  Owner@LOCALHOST ", PASSWORD, None).await;
    assert_eq!(status, 200, "{doc}");
    // Failures for one address from one place: after the login throttle's budget, 429.
    let mut last = (0, None);
    for _ in 0..8 {
        let (status, headers, _) = attempt(OWNER, "wrong-password-12345", None).await;
        last = (
            status,
            headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok()),
        );
    }
    assert_eq!(last.0, 429);
    assert!(last.1.is_some_and(|s| s > 0), "Retry-After on 429");
    // Even the right password waits.
    let (status, _, err) = attempt(OWNER, PASSWORD, None).await;
    assert_eq!(status, 429, "{err}");
    assert_eq!(err["errorCode"], 42901);
}

on_both_backends!(grant_failures_reveal_nobody_and_are_throttled);

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs()
}

/// A user with MFA sends the current code as `otp`; the account is the one named, or the
/// first joined; a token never reaches another account.
async fn mfa_and_the_account_of_a_grant(app: TestApp) {
    set_password(&app).await;
    app.create_account("second-co", OWNER).await;
    // Without `account`: the first-joined account (default), not an error.
    let doc = password_grant(&app, &[]).await;
    let access = text(&doc, "accessToken").to_owned();
    assert_eq!(status_with(&app, PREFERENCES, &access).await.0, 200);
    let (status, err) = status_with(
        &app,
        "/v1/accounts/second-co/settings/SECURITY_PREFERENCES",
        &access,
    )
    .await;
    assert_eq!(
        status, 404,
        "a token of one account never reaches another: {err}"
    );
    let doc = password_grant(&app, &[("account", "second-co")]).await;
    let second = text(&doc, "accessToken").to_owned();
    let (status, _) = status_with(
        &app,
        "/v1/accounts/second-co/settings/SECURITY_PREFERENCES",
        &second,
    )
    .await;
    assert_eq!(status, 200);

    // MFA: enrol, then the grant needs `otp`.
    let secret = enrol_totp(&app, app.owner_key(), Some(PASSWORD))
        .await
        .secret;
    let (status, _, err) = grant(
        &app,
        "/authorization/token",
        &[
            ("grant_type", "password"),
            ("username", OWNER),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"], "invalid_grant");
    assert!(text(&err, "error_description").contains("otp"), "{err}");
    let code = tenantry_security::code_for(&secret, unix_now()).expect("code");
    password_grant(&app, &[("otp", &code)]).await;
}

on_both_backends!(mfa_and_the_account_of_a_grant);

fn micros_ago(minutes: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_micros() as i64;
    now - minutes * 60 * 1_000_000
}

/// A refresh is no sign-in: the new session keeps the original sign-in time (so it cannot pass
/// a re-authentication check the original could not, nor outlive the absolute lifetime), and
/// a refresh token dies with its session (sign-out).
async fn a_refresh_never_outlives_or_outranks_its_sign_in(app: TestApp) {
    set_password(&app).await;
    let doc = password_grant(&app, &[]).await;
    // Signed in 20 minutes ago: past the re-authentication window.
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {}",
        micros_ago(20)
    ));
    let (status, next) = refresh(&app, text(&doc, "refreshToken")).await;
    assert_eq!(status, 200, "{next}");
    let access = text(&next, "accessToken").to_owned();
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &access,
        Some(json!({"name": "via-refresh"})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "REAUTH_REQUIRED");

    // Signed in longer ago than the absolute lifetime (24 h by default): no refresh.
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {}",
        micros_ago(25 * 60)
    ));
    let (status, err) = refresh(&app, text(&next, "refreshToken")).await;
    assert_eq!(status, 400, "{err}");

    // Signed out: the refresh token ends with the session.
    let doc = password_grant(&app, &[]).await;
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .bearer_auth(text(&doc, "accessToken"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let (status, err) = refresh(&app, text(&doc, "refreshToken")).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "invalid_grant");
}

on_both_backends!(a_refresh_never_outlives_or_outranks_its_sign_in);

/// The calls a catalog client makes first: the version, and the accounts its token can act on,
/// in the catalog's style and error format, with and without `/v1`.
async fn the_account_list_and_version_answer_in_the_catalogs_style(app: TestApp) {
    set_password(&app).await;
    app.create_account("second-co", OWNER).await;
    for path in ["/version", "/v1/version"] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), 200);
        let doc: Value = res.json().await.expect("json");
        assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    }
    let access = text(&password_grant(&app, &[]).await, "accessToken").to_owned();
    for path in ["/accounts", "/v1/accounts"] {
        let (status, doc) = status_with(&app, path, &access).await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(
            doc["resultInfo"],
            json!({"totalCount": 1, "offset": 0, "returnedCount": 1})
        );
        let account = &doc["accounts"][0];
        assert_eq!(account["accountName"], "default", "{doc}");
        assert_eq!(account["ownerUserName"], OWNER);
        assert_eq!(account["accountHolderUserName"], OWNER);
        assert_eq!(account["numberOfUsers"], 1);
        assert!(account["accountType"].is_string());
    }
    let (_, doc) = status_with(&app, "/v1/accounts?offset=1", &access).await;
    assert_eq!(doc["resultInfo"]["returnedCount"], 0);
    assert_eq!(doc["accounts"], json!([]));
    // Errors in the catalog's format on these paths.
    let (status, err) = status_with(&app, "/v1/accounts?limit=0", &access).await;
    assert_eq!(status, 400);
    assert_eq!(err[0]["errorCode"], 40003, "{err}");
    let res = app.get("/v1/accounts", None).await;
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["errorCode"], 60001);
    let res = app.get("/v1/no-such-thing", None).await;
    assert_eq!(res.status(), 404);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err[0]["errorCode"], 40401, "{err}");
}

on_both_backends!(the_account_list_and_version_answer_in_the_catalogs_style);

/// A throwaway certificate for 127.0.0.1 and localhost in `db`'s directory: the paths of the
/// certificate and key files, and a client that trusts the certificate.
fn throwaway_certificate(db: &TestDb) -> (String, String, reqwest::Client) {
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let cert = db.dir.join("tls-cert.pem");
    let key = db.dir.join("tls-key.pem");
    std::fs::write(&cert, issued.cert.pem()).expect("write cert");
    std::fs::write(&key, issued.key_pair.serialize_pem()).expect("write key");
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(issued.cert.pem().as_bytes()).expect("pem"),
        )
        .build()
        .expect("client");
    (
        cert.display().to_string(),
        key.display().to_string(),
        client,
    )
}

/// The vendor client's whole round over HTTPS: `serve` with `TENANTRY_TLS_CERT`/`_KEY` answers
/// TLS only, and the grant, the calls, the refresh and reuse detection work the same.
async fn over_tls(backend: Backend) {
    let Some(db) = TestDb::create(backend) else {
        return;
    };
    let (cert, key, client) = throwaway_certificate(&db);
    let mut app = TestApp::start(
        db,
        &[
            ("TENANTRY_TLS_CERT", cert.as_str()),
            ("TENANTRY_TLS_KEY", key.as_str()),
        ],
    )
    .await;
    assert!(app.base.starts_with("https://"), "{}", app.base);
    // Plain HTTP to the TLS port gets no answer.
    let plain = app.base.replacen("https://", "http://", 1);
    assert!(
        !reqwest::get(format!("{plain}/version"))
            .await
            .is_ok_and(|r| r.status().is_success()),
        "plain HTTP is not served on the TLS port"
    );
    app.client = client;
    a_catalog_client_signs_in_refreshes_and_reuse_revokes_the_family(app).await;
}

mod over_tls {
    use crate::support::Backend;

    #[tokio::test]
    async fn sqlite() {
        super::over_tls(Backend::Sqlite).await;
    }

    #[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
    #[tokio::test]
    async fn postgres() {
        super::over_tls(Backend::Postgres).await;
    }
}

/// `config check` and `serve` load the certificate and key: an unreadable file, a file that is
/// no PEM, a key of another certificate, or one of the two alone are each refused, named.
#[tokio::test]
async fn bad_tls_settings_are_refused_by_config_check_and_serve() {
    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
    let (cert, key, _) = throwaway_certificate(&db);
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let other_key = db.dir.join("other-key.pem");
    std::fs::write(&other_key, other.key_pair.serialize_pem()).expect("write");
    let other_key = other_key.display().to_string();
    let missing = db.dir.join("absent.pem").display().to_string();
    let run = |command: &'static [&'static str], env: Vec<(&'static str, String)>| {
        let mut cmd = db.command(command);
        cmd.env("TENANTRY_BIND", "127.0.0.1:0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        async move {
            let out = tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
                .await
                .expect("finished")
                .expect("ran");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (ok, stderr) = run(
        &["config", "check"],
        vec![
            ("TENANTRY_TLS_CERT", cert.clone()),
            ("TENANTRY_TLS_KEY", key.clone()),
        ],
    )
    .await;
    assert!(ok, "a certificate and its key pass: {stderr}");
    let cases = [
        (
            vec![("TENANTRY_TLS_CERT", cert.clone())],
            "without TENANTRY_TLS_KEY",
        ),
        (
            vec![("TENANTRY_TLS_KEY", key.clone())],
            "without TENANTRY_TLS_CERT",
        ),
        (
            vec![
                ("TENANTRY_TLS_CERT", missing.clone()),
                ("TENANTRY_TLS_KEY", key.clone()),
            ],
            "cannot read",
        ),
        (
            vec![
                ("TENANTRY_TLS_CERT", key.clone()),
                ("TENANTRY_TLS_KEY", key.clone()),
            ],
            "no PEM certificate",
        ),
        (
            vec![
                ("TENANTRY_TLS_CERT", cert.clone()),
                ("TENANTRY_TLS_KEY", cert.clone()),
            ],
            "not a PEM private key",
        ),
        (
            vec![
                ("TENANTRY_TLS_CERT", cert.clone()),
                ("TENANTRY_TLS_KEY", other_key.clone()),
            ],
            "do not make a certificate and its key",
        ),
    ];
    for (env, reason) in cases {
        for command in [&["config", "check"][..], &["serve"]] {
            let (ok, stderr) = run(command, env.clone()).await;
            assert!(!ok, "{command:?} {env:?} passed");
            assert!(stderr.contains(reason), "{command:?} {env:?}: {stderr}");
            assert!(
                stderr.contains("TENANTRY_TLS_"),
                "the source is named: {stderr}"
            );
        }
    }
}
