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
    assert_eq!(body["error"]["details"]["duplicateKey"], "display_name");

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
