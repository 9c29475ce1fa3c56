//! Seed 03 `/api/user-preferences`, and the display preferences shared with seed 01.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

async fn user_preference_examples_replay(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc, json!({"data": {}}));
    for (k, v) in [
        ("canvas.snap_to_grid", json!(true)),
        ("canvas.show_minimap", json!(false)),
        ("notifications.email_digest", json!("weekly")),
    ] {
        let (status, doc) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/user-preferences/{k}"),
            &key,
            Some(json!({"value": v})),
        )
        .await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(doc["data"]["key"], k);
        assert_eq!(doc["data"]["value"], v);
        assert!(doc["data"]["updated_at"].as_str().is_some());
    }
    let (_, doc) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences",
        &key,
        None,
    )
    .await;
    assert_eq!(
        doc,
        json!({"data": {"canvas.show_minimap": false, "canvas.snap_to_grid": true, "notifications.email_digest": "weekly"}})
    );
    let (status, doc) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user-preferences/canvas.snap_to_grid",
        &key,
        Some(json!({"value": false})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["data"]["value"], false);
    let (_, one) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences/canvas.snap_to_grid",
        &key,
        None,
    )
    .await;
    assert_eq!(one["data"]["value"], false);
    // Any JSON value.
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user-preferences/canvas.layout",
        &key,
        Some(json!({"value": {"panes": [1, 2], "ratio": 0.5}})),
    )
    .await;
    assert_eq!(status, 200);

    let res = app
        .client
        .delete(app.url("/api/user-preferences/canvas.layout"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let (status, err) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences/canvas.layout",
        &key,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "NOT_FOUND");
    let res = app
        .client
        .delete(app.url("/api/user-preferences/canvas.layout"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}

async fn display_preferences_are_seed_01_preferences(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user-preferences/display.theme",
        &key,
        Some(json!({"value": "dark"})),
    )
    .await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings/preferences", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["theme"], "dark");
    let res = app
        .put(
            "/v2/accounts/settings/preferences",
            &key,
            &json!({"date_format": "DD/MM/YYYY", "timezone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences",
        &key,
        None,
    )
    .await;
    assert_eq!(list["data"]["display.date_format"], "DD/MM/YYYY");
    assert_eq!(list["data"]["display.theme"], "dark");
    assert!(
        list["data"].get("profile.timezone").is_none(),
        "profile values belong to the profile"
    );

    for (k, body) in [
        ("display.theme", json!({"value": "blue"})),
        ("display.font", json!({"value": "serif"})),
        ("profile.timezone", json!({"value": "UTC"})),
        ("Bad Key", json!({"value": 1})),
        ("canvas.big", json!({"value": "x".repeat(5000)})),
    ] {
        let (status, err) = call(
            &app,
            reqwest::Method::PUT,
            &format!("/api/user-preferences/{}", k.replace(' ', "%20")),
            &key,
            Some(body),
        )
        .await;
        assert_eq!(status, 422, "{k}: {err}");
    }
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user-preferences/canvas.x",
        &key,
        Some(json!({"val": 1})),
    )
    .await;
    assert_eq!(status, 400);

    // Per user.
    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    let (_, list) = call(
        &app,
        reqwest::Method::GET,
        "/api/user-preferences",
        &viewer,
        None,
    )
    .await;
    assert_eq!(list, json!({"data": {}}));
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user-preferences/display.theme",
        &viewer,
        Some(json!({"value": "light"})),
    )
    .await;
    assert_eq!(status, 200);
    let v2: Value = app
        .get("/v2/accounts/settings/preferences", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["theme"], "dark", "the owner's own stays");
}

on_both_backends!(
    user_preference_examples_replay,
    display_preferences_are_seed_01_preferences
);
