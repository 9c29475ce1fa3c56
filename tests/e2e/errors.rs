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

on_both_backends!(
    malformed_json_is_400_with_its_position,
    oversized_body_is_413,
    invalid_fields_are_422_naming_each,
    unknown_routes_answer_in_their_dialect,
);
