use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

async fn created_account_has_its_own_working_owner_key_and_defaults(app: TestApp) {
    let created = app.create_account("acme", "jane@acme.test").await;
    let id = created["id"].as_str().expect("id");
    assert!(id.starts_with("acc_"));
    assert_eq!(created["tenant_id"].as_str().map(str::len), Some(36));
    assert_eq!(created["owner"]["email"], json!("jane@acme.test"));
    let key = created["owner_api_key"].as_str().expect("key");
    assert!(key.starts_with("tnt_live_"));

    let res = app.get("/v2/accounts/settings", Some(key)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["security"]["audit"]["retention_days"], json!(90));

    // The name is unique.
    let res = app
        .client
        .post(app.url("/admin/accounts"))
        .bearer_auth(app.operator_key())
        .json(&json!({"name": "acme", "owner_email": "other@acme.test"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], json!("ACCOUNT_EXISTS"));
}

async fn accounts_are_listed_with_cursor_pagination(app: TestApp) {
    for i in 0..4 {
        app.create_account(&format!("acct-{i}"), &format!("o{i}@example.test"))
            .await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/admin/accounts?limit=2&cursor={c}"),
            None => "/admin/accounts?limit=2".to_owned(),
        };
        let body: Value = app
            .get(&path, Some(app.operator_key()))
            .await
            .json()
            .await
            .expect("json");
        pages += 1;
        for a in body["accounts"].as_array().expect("accounts") {
            names.push(a["name"].as_str().expect("name").to_owned());
        }
        match body.get("next_cursor").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["default", "acct-0", "acct-1", "acct-2", "acct-3"]);

    for bad in [
        "/admin/accounts?limit=0",
        "/admin/accounts?limit=201",
        "/admin/accounts?cursor=zz",
    ] {
        let res = app.get(bad, Some(app.operator_key())).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}

/// An account's display name follows the display-name rules (here with 200 characters):
/// no bidi controls, not only invisible characters; a valid one is stored trimmed.
async fn account_display_names_refuse_disguised_text(app: TestApp) {
    let post = |body: Value| {
        app.client
            .post(app.url("/admin/accounts"))
            .bearer_auth(app.operator_key())
            .json(&body)
            .send()
    };
    for bad in [
        "Acme\u{202E}lagel",
        "\u{200B}\u{3164}",
        "a\nb",
        &"x".repeat(201),
    ] {
        let res = post(json!({"name": "acme", "owner_email": "o@acme.test", "display_name": bad}))
            .await
            .expect("request");
        assert_eq!(res.status(), 422, "{bad:?}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "VALIDATION_ERROR");
        assert_eq!(
            body["details"]["fields"][0]["field"], "display_name",
            "{body}"
        );
    }
    let res =
        post(json!({"name": "acme", "owner_email": "o@acme.test", "display_name": "  Acme Inc. "}))
            .await
            .expect("request");
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    let path = format!("/admin/accounts/{}", created["id"].as_str().expect("id"));
    let patch = |body: Value| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(app.operator_key())
            .json(&body)
            .send()
    };
    for bad in ["\u{2067}Acme", "\u{FEFF}", "", &"é".repeat(201)] {
        let res = patch(json!({"display_name": bad})).await.expect("request");
        assert_eq!(res.status(), 422, "{bad:?}");
    }
    let res = patch(json!({"display_name": " Acme Corp "}))
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["display_name"], "Acme Corp");
}

on_both_backends!(
    account_display_names_refuse_disguised_text,
    created_account_has_its_own_working_owner_key_and_defaults,
    accounts_are_listed_with_cursor_pagination,
);
