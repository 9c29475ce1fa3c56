//! Account settings history: every write is a version, and a rollback restores a version's
//! exact document.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::settings_write::body;
use crate::support::TestApp;

on_both_backends!(history_and_rollback_restore_exact_documents,);

async fn history_and_rollback_restore_exact_documents(app: TestApp) {
    let key = app.owner_key().to_owned();
    let original = app
        .get("/v2/accounts/settings/security", Some(&key))
        .await
        .json::<Value>()
        .await
        .expect("json");
    let (_, v2) = body(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["10.0.0.0/8"], "max_api_keys": 5}}),
        )
        .await,
    )
    .await;
    let (_, v3) = body(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["192.0.2.0/24"]}, "session": {"timeout": 2}}),
        )
        .await,
    )
    .await;
    assert_ne!(v2, v3);

    let history: Value = app
        .get("/v2/accounts/settings/security/history", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let versions: Vec<i64> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["version"].as_i64())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let v2_changes = &history["history"][1]["changes"];
    assert!(
        v2_changes
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["path"] == "max_api_keys" && c["after"] == 5),
        "{v2_changes}"
    );
    assert!(history["history"][0]["updated_by"]
        .as_str()
        .is_some_and(|u| u.starts_with("usr_")));
    let page: Value = app
        .get("/v2/accounts/settings/security/history?limit=2", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["history"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("next page");
    let rest: Value = app
        .get(
            &format!("/v2/accounts/settings/security/history?limit=2&cursor={cursor}"),
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rest["history"][0]["version"], 1);

    let (status, doc) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 2}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc, v2);
    let (status, doc) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 1}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let mut expected = original.clone();
    expected["two_factor"]
        .as_object_mut()
        .expect("object")
        .remove("backup_codes");
    assert_eq!(doc, expected);
    let res = app.get("/v2/accounts/settings/security", Some(&key)).await;
    assert_eq!(
        res.headers().get("etag").expect("etag"),
        "\"s5\"",
        "a rollback is a new version"
    );
    let (status, _) = body(
        app.client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&json!({"version": 99}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 404);
}
