//! Conditional writes (RFC 9110 §13.1.1 `If-Match`, §13.1.2 `If-None-Match`) on every write
//! route whose resource has an ETag, and unknown query parameters refused on every route that
//! takes a query.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::tenant_settings::tenant_path;

/// One request with optional conditional headers: (status, ETag, content type, JSON body).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Option<String>, String, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(key);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("request");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    let etag = header("etag");
    let ct = header("content-type").unwrap_or_default();
    let status = res.status().as_u16();
    (status, etag, ct, res.json().await.unwrap_or(Value::Null))
}

async fn etag_of(app: &TestApp, path: &str, key: &str) -> String {
    let (status, etag, _, _) = send(app, Method::GET, path, key, &[], None).await;
    assert_eq!(status, 200, "{path}");
    etag.unwrap_or_else(|| panic!("{path} sends no ETag"))
}

const BILLING: &str = "/v2/accounts/settings/billing";

/// `PUT` of the billing currency with one conditional header.
async fn put_currency(
    app: &TestApp,
    header: &str,
    value: &str,
    currency: &str,
) -> (u16, Option<String>, String, Value) {
    send(
        app,
        Method::PUT,
        BILLING,
        app.owner_key(),
        &[(header, value)],
        Some(json!({ "currency": currency })),
    )
    .await
}

/// The billing section's current version, from its ETag `"b<version>"`.
async fn billing_version(app: &TestApp) -> i64 {
    let etag = etag_of(app, BILLING, app.owner_key()).await;
    etag.trim_matches('"')
        .strip_prefix('b')
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("billing ETag {etag}"))
}

async fn v2_if_match_with_a_tag_never_issued_is_412_and_only_bad_syntax_is_400(app: TestApp) {
    let key = app.owner_key().to_owned();
    let v = billing_version(&app).await;
    // Well-formed but never issued for this section: unknown text, another section's tag, the
    // current one weak (If-Match compares strongly) or spelt with a leading zero.
    let weak = format!("W/\"b{v}\"");
    let padded = format!("\"b0{v}\"");
    let other_section = format!("\"s{v}\"");
    for unknown in ["\"zzz\"", &other_section, &weak, &padded] {
        let (status, _, _, err) = put_currency(&app, "if-match", unknown, "JPY").await;
        assert_eq!(status, 412, "If-Match: {unknown}");
        assert_eq!(err["error"], "VERSION_CONFLICT", "{unknown}");
        assert_eq!(err["details"]["currentVersion"], v, "{unknown}");
    }
    // Not valid syntax at all; a field naming no tag (empty, or only commas) is refused too.
    for malformed in ["zzz", "\"b0", "*, \"b0\"", "", " , "] {
        let (status, _, _, err) = put_currency(&app, "if-match", malformed, "JPY").await;
        assert_eq!(status, 400, "If-Match: {malformed}");
        assert_eq!(err["error"], "INVALID_REQUEST");
        assert_eq!(err["details"]["header"], "If-Match");
    }
    let (_, _, _, doc) = send(&app, Method::GET, BILLING, &key, &[], None).await;
    assert_ne!(doc["currency"], "JPY", "no refused write was applied");

    // The current tag, alone or among unknown ones, applies the write.
    let current = etag_of(&app, BILLING, &key).await;
    let list = format!("\"zzz\", {current}");
    let (status, etag, _, doc) = put_currency(&app, "if-match", &list, "JPY").await;
    assert_eq!(status, 200);
    assert_eq!(doc["currency"], "JPY");
    assert_eq!(etag, Some(format!("\"b{}\"", v + 1)));
}

async fn v2_rollback_honours_if_match(app: TestApp) {
    let key = app.owner_key().to_owned();
    let v = billing_version(&app).await;
    for currency in ["JPY", "EUR"] {
        let res = app
            .put(BILLING, &key, &json!({ "currency": currency }))
            .await;
        assert_eq!(res.status(), 200);
    }
    let rollback = format!("{BILLING}/rollback");
    // Version v + 1 holds JPY; v + 2 (EUR) is current.
    let body = json!({ "version": v + 1 });
    let stale = format!("\"b{}\"", v + 1);
    let current = format!("\"b{}\"", v + 2);
    for stale in ["\"zzz\"", stale.as_str()] {
        let (status, _, _, err) = send(
            &app,
            Method::POST,
            &rollback,
            &key,
            &[("if-match", stale)],
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 412, "{stale}");
        assert_eq!(err["details"]["currentVersion"], v + 2);
    }
    let (status, _, _, _) = send(
        &app,
        Method::POST,
        &rollback,
        &key,
        &[("if-match", current.trim_matches('"'))],
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 400);
    let (status, etag, _, doc) = send(
        &app,
        Method::POST,
        &rollback,
        &key,
        &[("if-match", current.as_str())],
        Some(body),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["currency"], "JPY");
    assert_eq!(etag, Some(format!("\"b{}\"", v + 3)));
}

async fn v2_if_none_match_on_writes_fails_when_it_matches(app: TestApp) {
    let key = app.owner_key().to_owned();
    let current = etag_of(&app, BILLING, &key).await;
    let document_etag = etag_of(&app, "/v2/accounts/settings", &key).await;
    let weak_current = format!("W/{current}");
    for matching in [
        current.as_str(),
        "*",
        weak_current.as_str(),
        document_etag.as_str(),
    ] {
        let (status, _, _, err) = put_currency(&app, "if-none-match", matching, "JPY").await;
        assert_eq!(status, 412, "If-None-Match: {matching}");
        assert_eq!(err["error"], "VERSION_CONFLICT");
        assert_eq!(err["details"]["header"], "If-None-Match");
        assert_eq!(err["details"]["currentETag"], current);
    }
    // A tag that is not current does not stop the write.
    let other = format!("\"b{}\", \"zzz\"", billing_version(&app).await + 5);
    let (status, etag, _, doc) = put_currency(&app, "if-none-match", &other, "JPY").await;
    assert_eq!(status, 200);
    assert_eq!(doc["currency"], "JPY");
    let (written, etag) = (billing_version(&app).await, etag.expect("ETag"));

    // Rollback: `*` always matches an existing section, the current tag too.
    for matching in ["*", etag.as_str()] {
        let (status, _, _, err) = send(
            &app,
            Method::POST,
            &format!("{BILLING}/rollback"),
            &key,
            &[("if-none-match", matching)],
            Some(json!({ "version": written })),
        )
        .await;
        assert_eq!(status, 412, "{matching}: {err}");
        assert_eq!(err["details"]["header"], "If-None-Match");
    }
}

async fn tenant_patch_honours_if_match_and_if_none_match(app: TestApp) {
    let key = app.owner_key().to_owned();
    let path = tenant_path(&app).await;
    let patch = |headers: Vec<(&'static str, String)>, color: &'static str| {
        let (app, key, path) = (&app, key.clone(), path.clone());
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let body = json!({ "branding": { "primaryColor": color } });
            send(app, Method::PATCH, &path, &key, &headers, Some(body)).await
        }
    };
    let first = etag_of(&app, &path, &key).await;

    // Unknown, weak and stale tags: 412 in seed 05's problem+json, nothing written.
    for unknown in ["\"zzz\"", "\"s0\"", "W/\"x\""] {
        let (status, _, ct, err) = patch(vec![("if-match", unknown.into())], "#111111").await;
        assert_eq!(status, 412, "{unknown}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(err["status"], 412);
        assert_eq!(err["code"], "VERSION_CONFLICT");
        assert_eq!(err["errors"][0]["field"], "If-Match");
    }
    let (status, _, ct, err) = patch(vec![("if-match", "zzz".into())], "#111111").await;
    assert_eq!(status, 400);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(err["errors"][0]["field"], "If-Match");
    assert_eq!(
        etag_of(&app, &path, &key).await,
        first,
        "nothing was written"
    );

    // If-None-Match naming the current document (or `*`): 412.
    for matching in [first.clone(), "*".into()] {
        let (status, _, _, err) = patch(vec![("if-none-match", matching.clone())], "#111111").await;
        assert_eq!(status, 412, "{matching}");
        assert_eq!(err["errors"][0]["field"], "If-None-Match");
    }

    // The current tag applies the patch; the answer carries the new tag, which GET repeats.
    let (status, second, _, doc) = patch(vec![("if-match", first.clone())], "#222222").await;
    assert_eq!(status, 200);
    assert_eq!(doc["branding"]["primaryColor"], "#222222");
    let second = second.expect("PATCH sends the new ETag");
    assert_ne!(second, first);
    assert_eq!(etag_of(&app, &path, &key).await, second);

    // The old tag is now stale.
    let (status, _, _, _) = patch(vec![("if-match", first.clone())], "#333333").await;
    assert_eq!(status, 412);

    // A write through another dialect makes the tag stale too.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({ "api_access": { "max_api_keys": 12 } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, _, _, _) = patch(vec![("if-match", second.clone())], "#333333").await;
    assert_eq!(status, 412);
    let third = etag_of(&app, &path, &key).await;
    let (status, _, _, doc) = patch(
        vec![
            ("if-match", third.clone()),
            ("if-none-match", second.clone()),
        ],
        "#333333",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["branding"]["primaryColor"], "#333333");
}

/// An unknown parameter on each route taking a query, in each dialect that has one (seed 05 has
/// none); known parameters still answered; routes taking no query ignore one.
async fn unknown_query_parameters_are_refused_and_named(app: TestApp) {
    let key = app.owner_key().to_owned();
    let operator = app.operator_key().to_owned();
    let v2 = [
        ("/v2/accounts/team/members?department=Ops", "department"),
        ("/v2/accounts/team/members?limit=5&roles=admin", "roles"),
        ("/v2/accounts/settings/billing/history?page=2", "page"),
        (
            "/v2/accounts/settings/export?format=json&secrets=1",
            "secrets",
        ),
        ("/v2/accounts/audit-logs?user=x", "user"),
        ("/v2/accounts/team/activity?days=7", "days"),
    ];
    for (path, parameter) in v2 {
        let (status, _, _, err) = send(&app, Method::GET, path, &key, &[], None).await;
        assert_eq!(status, 400, "{path}: {err}");
        assert_eq!(err["error"], "INVALID_REQUEST", "{path}");
        assert_eq!(err["details"]["parameter"], parameter, "{path}");
    }
    let (status, _, _, err) = send(
        &app,
        Method::GET,
        "/admin/accounts?sort=name",
        &operator,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["details"]["parameter"], "sort");

    let (status, _, _, err) = send(
        &app,
        Method::GET,
        "/api/notifications/deliveries?status=failed",
        &key,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "INVALID_REQUEST");
    assert_eq!(err["error"]["details"]["parameter"], "status");

    let (status, _, _, err) = send(
        &app,
        Method::POST,
        "/accounts/default/telemetryWebhook/test?eventId=1",
        &key,
        &[],
        Some(json!({ "url": "https://example.test/hook" })),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err[0]["errorCode"], 40003);
    assert_eq!(
        err[0]["errorMessage"],
        "eventId: is not a parameter of this route"
    );

    // Known parameters still work.
    for path in [
        "/v2/accounts/team/members?limit=5&role=owner",
        "/v2/accounts/settings/billing/history?limit=1",
        "/v2/accounts/audit-logs?limit=1&action=settings.updated",
        "/v2/accounts/team/activity?period=7d",
        "/api/notifications/deliveries?limit=1",
    ] {
        let (status, _, _, body) = send(&app, Method::GET, path, &key, &[], None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _, _, _) = send(
        &app,
        Method::GET,
        "/admin/accounts?limit=1",
        &operator,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Routes that take no query ignore one (cache-busting `?_=`): nothing they answer depends
    // on it.
    let tenant = tenant_path(&app).await;
    for path in [
        "/v2/accounts/settings?_=123".to_owned(),
        "/v2/accounts/settings/billing?_=123".to_owned(),
        format!("{tenant}?_=123"),
        "/api/user/profile?_=123".to_owned(),
        "/accounts/default/settings?_=123".to_owned(),
    ] {
        let (status, _, _, body) = send(&app, Method::GET, &path, &key, &[], None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}

on_both_backends!(
    v2_if_match_with_a_tag_never_issued_is_412_and_only_bad_syntax_is_400,
    v2_rollback_honours_if_match,
    v2_if_none_match_on_writes_fails_when_it_matches,
    tenant_patch_honours_if_match_and_if_none_match,
    unknown_query_parameters_are_refused_and_named,
);

/// A write with `If-Match` to a route whose representation has only the weak, body-derived
/// tag is refused (412), never performed unconditionally; `If-Match: *` passes.
async fn if_match_that_cannot_be_verified_refuses_the_write(app: TestApp) {
    let key = app.owner_key().to_owned();
    let profile = "/api/user/profile";
    let (_, weak, _, _) = send(&app, Method::GET, profile, &key, &[], None).await;
    let weak = weak.expect("a derived ETag");
    assert!(weak.starts_with("W/"), "{weak}");
    let strong_looking = weak.trim_start_matches("W/").to_owned();
    for tag in [weak.as_str(), strong_looking.as_str()] {
        let (status, _, _, body) = send(
            &app,
            Method::PUT,
            profile,
            &key,
            &[("if-match", tag)],
            Some(json!({ "display_name": "Changed" })),
        )
        .await;
        assert_eq!(status, 412, "{tag}: {body}");
        assert_eq!(body["error"]["code"], "VERSION_CONFLICT", "{body}");
    }
    let (_, _, _, body) = send(&app, Method::GET, profile, &key, &[], None).await;
    assert_ne!(
        body["data"]["display_name"], "Changed",
        "nothing was written"
    );
    let (status, _, _, body) = send(
        &app,
        Method::PUT,
        profile,
        &key,
        &[("if-match", "*")],
        Some(json!({ "display_name": "Changed" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The catalog answers in its own format.
    let (status, _, _, body) = send(
        &app,
        Method::PATCH,
        "/accounts/default/settings/SECURITY_PREFERENCES",
        &key,
        &[("if-match", "\"x\"")],
        Some(json!({ "securityPreferences": { "requireMFA": true } })),
    )
    .await;
    assert_eq!(status, 412, "{body}");
    assert!(body[0]["errorCode"].is_number(), "{body}");
}

on_both_backends!(if_match_that_cannot_be_verified_refuses_the_write);
