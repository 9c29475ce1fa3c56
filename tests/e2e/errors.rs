use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

async fn post_admin(app: &TestApp, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/admin/accounts"))
        .bearer_auth(app.operator_key())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json error body"))
}

async fn malformed_json_is_400_with_its_position(app: TestApp) {
    let (status, body) = post_admin(&app, "{\n  \"name\": \"acme\",\n  \"owner_email\": ").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], json!("INVALID_JSON"));
    assert_eq!(body["details"]["line"], json!(3));
    assert!(body["details"]["column"].as_u64().is_some());

    let (status, body) = post_admin(
        &app,
        r#"{"name": "acme", "owner_email": "a@b.co", "plan": "gold"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], json!("UNKNOWN_FIELD"));

    let (status, body) = post_admin(&app, r#"{"name": 5, "owner_email": "a@b.co"}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], json!("VALIDATION_ERROR"));

    // Nothing was created by any of these.
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["accounts"].as_array().map(Vec::len), Some(1));
}

async fn oversized_body_is_413(app: TestApp) {
    let padding = "x".repeat(70 * 1024);
    let (status, body) = post_admin(
        &app,
        format!(r#"{{"name": "acme", "owner_email": "a@b.co", "display_name": "{padding}"}}"#),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], json!("PAYLOAD_TOO_LARGE"));
    assert_eq!(body["details"]["limitBytes"], json!(65536));
}

async fn invalid_fields_are_422_naming_each(app: TestApp) {
    let (status, body) = post_admin(&app, r#"{"name": "Bad Name", "owner_email": "nope"}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], json!("VALIDATION_ERROR"));
    let fields: Vec<&str> = body["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "owner_email"]);
}

async fn unknown_routes_answer_in_their_dialect(app: TestApp) {
    let res = app
        .get("/v2/accounts/nothing-here", Some(app.owner_key()))
        .await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], json!("NOT_FOUND"));

    let res = app.get("/api/nothing-here", None).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], json!("NOT_FOUND"));

    let res = app.get("/tenants/x/nothing", None).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.headers().get("content-type").expect("ct"),
        "application/problem+json"
    );

    let res = app
        .client
        .delete(app.url("/v2/accounts/settings"))
        .bearer_auth(app.owner_key())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], json!("METHOD_NOT_ALLOWED"));
}

/// A raw JSON body (duplicate keys cannot be written with `json!`): status, content type, body.
async fn send_raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    content_type: &str,
    body: &'static str,
) -> (u16, String, Value) {
    let res = app
        .client
        .request(method, app.url(path))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, res.json().await.unwrap_or(Value::Null))
}

/// `{"a": 1, "a": 2}` means the last value to serde_json and the first to many proxies: every
/// dialect refuses it as malformed JSON, at any depth, naming the key, and changes nothing.
async fn duplicate_keys_are_400_in_every_dialect(app: TestApp) {
    use reqwest::Method;
    let key = app.owner_key().to_owned();
    let json = "application/json";
    let (_, _, before) = send_raw(&app, Method::GET, "/v2/accounts/settings", &key, json, "").await;

    // Seed 01 (took the last value).
    let (status, _, body) = send_raw(
        &app,
        Method::PUT,
        "/v2/accounts/settings/preferences",
        &key,
        json,
        r#"{"theme": "dark", "theme": "light"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "INVALID_JSON");
    assert_eq!(body["details"]["duplicateKey"], "theme");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(r#"duplicate key "theme""#)),
        "{body}"
    );
    // Nested, where a proxy would look for the switch.
    let (status, _, body) = send_raw(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &key,
        json,
        r#"{"api_access": {"require_ip_whitelist": false, "require_ip_whitelist": true}}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "INVALID_JSON");
    assert_eq!(body["details"]["object"], "/api_access");
    let (_, _, after) = send_raw(&app, Method::GET, "/v2/accounts/settings", &key, json, "").await;
    assert_eq!(after["preferences"], before["preferences"]);
    assert_eq!(after["security"], before["security"]);

    // Seed 01 import, JSON and YAML.
    let (status, _, body) = send_raw(
        &app,
        Method::POST,
        "/v2/accounts/settings/import",
        &key,
        json,
        r#"{"settings": {"preferences": {"theme": "dark"}}, "settings": {}}"#,
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("INVALID_JSON")),
        "{body}"
    );
    let (status, _, body) = send_raw(
        &app,
        Method::POST,
        "/v2/accounts/settings/import",
        &key,
        "application/yaml",
        "settings:\n  preferences:\n    theme: dark\n    theme: light\n",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("INVALID_YAML")),
        "{body}"
    );

    // Seed 02 (a typed body: was 422 `duplicate field`).
    let (status, _, body) = send_raw(
        &app,
        Method::PUT,
        "/v2/accounts/team/members/usr_01arz3ndektsv4rrffq69g5fav",
        &key,
        json,
        r#"{"role": "viewer", "role": "admin"}"#,
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("INVALID_JSON")),
        "{body}"
    );
    assert_eq!(body["details"]["duplicateKey"], "role");

    // Seed 03.
    let (status, _, body) = send_raw(
        &app,
        Method::PUT,
        "/api/user/profile",
        &key,
        json,
        r#"{"display_name": "Alex", "timezone": "UTC", "display_name": "Admin"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "INVALID_JSON");
    assert_eq!(body["error"]["details"]["duplicate_key"], "display_name");

    // Seed 04 (took the last value), including the telemetry test that reads its own body.
    let (status, _, body) = send_raw(
        &app,
        Method::PATCH,
        "/accounts/default/settings/SECURITY_PREFERENCES",
        &key,
        json,
        r#"{"securityPreferences": {"requireMFA": false, "requireMFA": true}}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], 40001);
    assert!(
        body[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains(r#""requireMFA""#)),
        "{body}"
    );
    let (status, _, body) = send_raw(
        &app,
        Method::POST,
        "/accounts/default/telemetryWebhook/test",
        &key,
        json,
        r#"{"url": "https://a.example/hook", "url": "https://b.example/hook"}"#,
    )
    .await;
    assert_eq!(
        (status, &body[0]["errorCode"]),
        (400, &json!(40001)),
        "{body}"
    );

    // Seed 05 (took the last value).
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    let tenant = format!(
        "/tenants/{}/settings",
        list["accounts"][0]["tenant_id"].as_str().expect("uuid")
    );
    let (status, ct, body) = send_raw(
        &app,
        Method::PATCH,
        &tenant,
        &key,
        json,
        r#"{"security": {"mfaRequired": false}, "security": {"mfaRequired": true}}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["code"], "INVALID_JSON");
    assert_eq!(body["status"], 400);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|m| m.contains(r#"duplicate key "security""#)),
        "{body}"
    );
    let (_, _, doc) = send_raw(&app, Method::GET, &tenant, &key, json, "").await;
    assert_eq!(doc["security"]["mfaRequired"], false, "{doc}");

    // The operator API.
    let (status, body) = post_admin(
        &app,
        r#"{"name": "acme", "owner_email": "a@b.co", "name": "evil"}"#,
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("INVALID_JSON")),
        "{body}"
    );
    assert_eq!(body["details"]["duplicateKey"], "name");
}

/// Two `Authorization` headers are no credential (401 in the dialect's format), even when the
/// first one is valid: a proxy and the server must not disagree about who is calling.
async fn two_authorization_headers_are_401(app: TestApp) {
    let key = format!("Bearer {}", app.owner_key());
    let operator = format!("Bearer {}", app.operator_key());
    let twice = |path: &str, first: &str, second: &str| {
        app.client
            .get(app.url(path))
            .header("authorization", first.to_owned())
            .header("authorization", second.to_owned())
    };
    // Each alone is accepted.
    let res = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await;
    assert_eq!(res.status(), 200);

    for second in [key.as_str(), "Bearer tnt_nope", "Basic dXNlcjpwYXNz"] {
        let res = twice("/v2/accounts/settings", &key, second)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401, "second: {second}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "UNAUTHORIZED");
    }
    let res = twice("/api/user/profile", &key, &key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let res = twice(
        "/accounts/default/settings/SECURITY_PREFERENCES",
        &key,
        &key,
    )
    .send()
    .await
    .expect("request");
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["errorCode"], 60001);
    // The operator extractor too.
    let res = twice("/admin/accounts", &operator, &operator)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let res = twice("/admin/accounts", &operator, "Bearer tnt_nope")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "UNAUTHORIZED");
}

on_both_backends!(
    duplicate_keys_are_400_in_every_dialect,
    two_authorization_headers_are_401,
    malformed_json_is_400_with_its_position,
    oversized_body_is_413,
    invalid_fields_are_422_naming_each,
    unknown_routes_answer_in_their_dialect,
);

/// The matrix's rows as (method, operation) -> (request path, body, the ten cells).
fn matrix_rows() -> std::collections::BTreeMap<(String, String), (String, String, Vec<String>)> {
    let text = std::fs::read_to_string(
        crate::support::workspace().join("tests/e2e/authorization_matrix.md"),
    )
    .expect("matrix source");
    text.lines()
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with("| "))
        .map(|line| {
            line.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|f| f.len() == 14 && f[0] != "method")
        .map(|f| {
            (
                (f[0].clone(), f[1].clone()),
                (f[2].clone(), f[3].clone(), f[4..].to_vec()),
            )
        })
        .collect()
}

/// Every string of a JSON value replaced by one no field accepts (the shape stays, so typed
/// bodies still parse and the handler's own validation is what refuses them).
fn strings_broken(v: &Value) -> Value {
    match v {
        Value::String(_) => json!("\u{1}not valid\u{1}"),
        Value::Array(items) => Value::Array(items.iter().map(strings_broken).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), strings_broken(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Invalid bodies of every kind a body can fail in: (content type, body, what it is).
fn invalid_bodies(matrix_body: Option<&Value>) -> Vec<(&'static str, String, &'static str)> {
    let mut bodies = vec![
        (
            "application/json",
            "{\"settings\": ".to_owned(),
            "malformed JSON",
        ),
        ("application/json", "[]".to_owned(), "a JSON array"),
        (
            "application/json",
            r#"{"a": 1, "a": 2}"#.to_owned(),
            "a duplicate key",
        ),
        (
            "text/plain",
            "hello".to_owned(),
            "an unsupported media type",
        ),
        (
            "application/json",
            format!(r#"{{"padding": "{}"}}"#, "x".repeat(70 * 1024)),
            "an oversized body",
        ),
    ];
    if let Some(Value::Object(map)) = matrix_body {
        let mut extra = map.clone();
        extra.insert("tenantry_unknown_field".into(), json!(true));
        bodies.push((
            "application/json",
            Value::Object(extra).to_string(),
            "an unknown field",
        ));
        bodies.push((
            "application/json",
            strings_broken(&Value::Object(map.clone())).to_string(),
            "invalid values",
        ));
    }
    bodies
}

/// Authorization before validation: for every write operation of the OpenAPI document, a
/// caller the matrix refuses (a role below the route's, a key whose scopes lack the area) gets
/// that same refusal whatever body it sends, never the 400/413/415/422 that would tell it how
/// the request is validated. Callers the matrix lets through are not refused by a bad body.
/// Operations without a request body are sent only by refused callers (the others would act).
async fn refused_callers_get_their_refusal_whatever_the_body(app: TestApp) {
    use reqwest::Method;
    let rows = matrix_rows();
    let account_id = app.default_account_id().await;
    let owner = app.owner_key().to_owned();
    let tenant = app
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tenant id:"))
        .expect("tenant id printed")
        .trim()
        .to_owned();
    let callers = [
        ("owner", 0, owner.clone()),
        ("admin", 1, app.add_member(&account_id, "admin")),
        ("developer", 2, app.add_member(&account_id, "developer")),
        ("viewer", 3, app.add_member(&account_id, "viewer")),
    ];
    let created = |path: &'static str, body: Value| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let (status, doc) =
                crate::support::call(app, Method::POST, path, &owner, Some(body)).await;
            assert!((200..300).contains(&status), "setup {path}: {status} {doc}");
            doc
        }
    };
    let scoped = created(
        "/api/user/api-keys",
        json!({ "name": "audit only", "scopes": ["audit:read"] }),
    )
    .await["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let member_key = app.add_member(&account_id, "developer");
    let key_id = |token: &str| {
        format!(
            "key_{}",
            token
                .strip_prefix("tnt_live_")
                .and_then(|rest| rest.split('_').next())
                .expect("API key format")
        )
    };
    let user_of = |token: &str| {
        app.query_texts(&format!(
            "SELECT user_id AS t FROM api_keys WHERE id = '{}'",
            key_id(token)
        ))[0]
            .clone()
    };
    let member = user_of(&member_key);
    let owner_user = user_of(&owner);
    let invitation = created(
        "/v2/accounts/team/members/invite",
        json!({ "email": "pending@errors.test", "role": "viewer" }),
    )
    .await["invitation"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let channel = created(
        "/api/notifications/channels",
        json!({ "type": "webhook", "name": "target", "config": { "url": "https://hooks.example.com/target" } }),
    )
    .await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let entry = created(
        "/api/settings/ip-whitelist",
        json!({ "cidr": "192.0.2.0/24" }),
    )
    .await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let key = created("/api/user/api-keys", json!({ "name": "target" })).await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let fill = |s: &str| {
        s.replace("{account}", "default")
            .replace("{account_id}", &account_id)
            .replace("{tenant}", &tenant)
            .replace("{member}", &member)
            .replace("{invitation}", &invitation)
            .replace("{channel}", &channel)
            .replace("{entry}", &entry)
            .replace("{key}", &key)
            .replace("{owner_user}", &owner_user)
    };

    let mut differences = Vec::new();
    let mut refusals_checked = 0;
    for (method, operation, op) in crate::support::served_operations(&app).await {
        if method == "GET" {
            continue;
        }
        // A row missing from the matrix fails the matrix's own test; nothing to compare here.
        let Some((path, body, cells)) = rows.get(&(method.clone(), operation.clone())) else {
            continue;
        };
        let path = fill(path);
        let matrix_body = (!body.is_empty())
            .then(|| serde_json::from_str::<Value>(&fill(body)).expect("row body is JSON"));
        // Public operations refuse no one: their 401s judge the credentials in the body.
        if op["security"] == json!([]) {
            continue;
        }
        let reads_body = op.get("requestBody").is_some();
        let mut as_callers: Vec<(&str, usize, &str)> = callers
            .iter()
            .map(|(name, column, key)| (*name, *column, key.as_str()))
            .collect();
        as_callers.push(("scoped key", 4, &scoped));
        for (caller, column, credential) in as_callers {
            let expected = &cells[column];
            // Refused: every member on an operator route; elsewhere 401/403 where the owner is
            // let through (an owner's 403 judges the body, e.g. a wrong current password), or
            // 404 where the owner gets something else (hidden, not absent).
            let denies = |cell: &str| cell == "401" || cell == "403";
            let refused = op["security"] == json!([{ "operatorKey": [] }])
                || (denies(expected) && !denies(&cells[0]))
                || (expected == "404" && cells[0] != "404");
            if !refused && !reads_body {
                continue;
            }
            for (content_type, invalid, what) in invalid_bodies(matrix_body.as_ref()) {
                let res = app
                    .client
                    .request(
                        Method::from_bytes(method.as_bytes()).expect("method"),
                        app.url(&path),
                    )
                    .bearer_auth(credential)
                    .header("content-type", content_type)
                    .body(invalid)
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16().to_string();
                let wrong = if refused {
                    refusals_checked += 1;
                    &status != expected
                } else {
                    // A caller the matrix lets through is not refused over its body (where the
                    // owner is refused too, the row's body is what fails: nothing to compare).
                    !denies(expected) && denies(&status)
                };
                if wrong {
                    let answer = res.text().await.unwrap_or_default();
                    differences.push(format!(
                        "{method} {operation} as {caller} with {what}: matrix {expected}, got {status} {}",
                        &answer[..answer.len().min(160)]
                    ));
                }
            }
        }
    }
    assert!(
        refusals_checked > 100,
        "only {refusals_checked} refusals checked"
    );
    assert!(
        differences.is_empty(),
        "{} answers put validation before authorization:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
]; refused_callers_get_their_refusal_whatever_the_body);

/// The catalog dialect's integer for each code these tests expect (docs/api/errors.md).
fn catalog_code(code: &str) -> u64 {
    match code {
        "INVALID_JSON" => 40001,
        "INVALID_REQUEST" => 40003,
        "NOT_FOUND" => 40401,
        "PAYLOAD_TOO_LARGE" => 41301,
        "UNSUPPORTED_MEDIA_TYPE" => 41501,
        "HEADERS_TOO_LARGE" => 43101,
        other => panic!("no catalog code listed for {other}"),
    }
}

/// Sends `req` and checks the answer is `status` with `code` in the body format of `dialect`
/// (`v2` also for the operator API, `api`, `catalog`, `tenant`).
async fn assert_refused_in(
    dialect: &str,
    what: &str,
    req: reqwest::RequestBuilder,
    status: u16,
    code: &str,
) {
    let res = req.send().await.expect("request");
    let got = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{dialect} {what}: {got} {ct} is not JSON: {text}"));
    assert_eq!(got, status, "{dialect} {what}: {text}");
    let ok = match dialect {
        "v2" => ct == "application/json" && body["error"] == code,
        "api" => ct == "application/json" && body["error"]["code"] == code,
        "catalog" => ct == "application/json" && body[0]["errorCode"] == catalog_code(code),
        "tenant" => {
            ct == "application/problem+json" && body["code"] == code && body["status"] == status
        }
        other => panic!("unknown dialect {other}"),
    };
    assert!(
        ok,
        "{dialect} {what}: expected {code} in the dialect's format, got {ct} {text}"
    );
}

/// Requests that fail before a handler judges them (headers over the limit, a path parameter
/// that is no valid percent-encoding, a query that does not deserialize, a refused content type,
/// malformed or oversized JSON) are answered in the error format of the dialect the path
/// belongs to, never in actix's plain text.
async fn malformed_requests_answer_in_their_dialect(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let operator = app.operator_key().to_owned();
    let tenant = app
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tenant id:"))
        .expect("tenant id printed")
        .trim()
        .to_owned();
    let tenant_path = format!("/tenants/{tenant}/settings");
    // (dialect, credential, a route with a query, a path with a bad escape, a JSON write).
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        (reqwest::Method, &'a str),
    );
    let dialects: [Case; 5] = [
        (
            "v2",
            &owner,
            Some("/v2/accounts/team/members?limit=1&limit=2"),
            "/v2/accounts/settings/%E0%A4%A",
            (reqwest::Method::PUT, "/v2/accounts/settings/preferences"),
        ),
        (
            "v2",
            &operator,
            Some("/admin/accounts?limit=1&limit=2"),
            "/admin/accounts/%ZZ",
            (reqwest::Method::POST, "/admin/accounts"),
        ),
        (
            "api",
            &owner,
            Some("/api/notifications/deliveries?limit=x&limit=y"),
            "/api/user/api-keys/%ZZ",
            (reqwest::Method::PUT, "/api/user/profile"),
        ),
        (
            "catalog",
            &owner,
            Some("/accounts/default/telemetryWebhook/test?telemetryEventId=a&telemetryEventId=b"),
            "/accounts/%ZZ/settings",
            (
                reqwest::Method::PATCH,
                "/accounts/default/settings/SECURITY_PREFERENCES",
            ),
        ),
        // Seed 05 reads no query string.
        (
            "tenant",
            &owner,
            None,
            "/tenants/%ZZ/settings",
            (reqwest::Method::PATCH, &tenant_path),
        ),
    ];
    for (dialect, key, query, bad_path, (method, write)) in dialects {
        let c = &app.client;
        let write_req = || c.request(method.clone(), app.url(write)).bearer_auth(key);
        assert_refused_in(
            dialect,
            "oversized headers",
            c.get(app.url(bad_path))
                .bearer_auth(key)
                .header("x-padding", "p".repeat(20 * 1024)),
            431,
            "HEADERS_TOO_LARGE",
        )
        .await;
        let method_of_bad_path = if dialect == "v2" && bad_path.starts_with("/admin") {
            reqwest::Method::PATCH
        } else {
            reqwest::Method::GET
        };
        assert_refused_in(
            dialect,
            "bad percent-encoding",
            c.request(method_of_bad_path, app.url(bad_path))
                .bearer_auth(key)
                .json(&json!({ "tier": "pro" })),
            404,
            "NOT_FOUND",
        )
        .await;
        if let Some(query) = query {
            // Seed 04's only query is on a POST (the telemetry test's verify call).
            let req = if dialect == "catalog" {
                c.post(app.url(query))
            } else {
                c.get(app.url(query))
            };
            assert_refused_in(
                dialect,
                "a repeated query parameter",
                req.bearer_auth(key),
                400,
                "INVALID_REQUEST",
            )
            .await;
        }
        assert_refused_in(
            dialect,
            "a text/plain body",
            write_req().header("content-type", "text/plain").body("{}"),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        assert_refused_in(
            dialect,
            "malformed JSON",
            write_req()
                .header("content-type", "application/json")
                .body("{\""),
            400,
            "INVALID_JSON",
        )
        .await;
        assert_refused_in(
            dialect,
            "an oversized body",
            write_req()
                .header("content-type", "application/json")
                .body(format!(r#"{{"a": "{}"}}"#, "x".repeat(70 * 1024))),
            413,
            "PAYLOAD_TOO_LARGE",
        )
        .await;
    }
    // The export's query, the review's example: `sections` twice.
    assert_refused_in(
        "v2",
        "sections twice",
        app.client
            .get(app.url("/v2/accounts/settings/export?sections=a&sections=b"))
            .bearer_auth(&owner),
        400,
        "INVALID_REQUEST",
    )
    .await;
}

on_both_backends!(malformed_requests_answer_in_their_dialect);
