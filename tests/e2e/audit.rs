use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

async fn every_change_is_audited_and_listed_for_admins(app: TestApp) {
    let key = app.owner_key().to_owned();
    assert_eq!(
        app.put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"max_api_keys": 9}})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.put(
            "/v2/accounts/settings/preferences",
            &key,
            &json!({"theme": "dark"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.put(
            "/v2/accounts/settings/billing",
            &key,
            &json!({"currency": "EUR"})
        )
        .await
        .status(),
        200
    );
    // A refused change leaves no entry.
    assert_eq!(
        app.put(
            "/v2/accounts/settings/billing",
            &key,
            &json!({"currency": "XXX"})
        )
        .await
        .status(),
        422
    );

    let res = app.get("/v2/accounts/audit-logs", Some(&key)).await;
    assert_eq!(res.status(), 200);
    let log: Value = res.json().await.expect("json");
    let entries = log["audit_logs"].as_array().expect("entries");
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "settings.updated",
            "preferences.updated",
            "settings.updated",
            "account.created"
        ]
    );
    let billing = &entries[0];
    assert_eq!(billing["target"], "billing");
    assert_eq!(billing["ip"], "127.0.0.1");
    assert!(billing["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("usr_")));
    assert_eq!(
        billing["details"]["changes"],
        json!([{"path": "currency", "before": "USD", "after": "EUR"}])
    );

    let filtered: Value = app
        .get(
            "/v2/accounts/audit-logs?action=preferences.updated",
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["audit_logs"].as_array().map(Vec::len), Some(1));
    let actor = billing["actor"].as_str().expect("actor");
    let mine: Value = app
        .get(
            &format!("/v2/accounts/audit-logs?actor={actor}"),
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    // The request audit (on by default) writes its `api.request` entries in the background,
    // so how many of them are there yet depends on timing; the changes are what is counted.
    let changes = mine["audit_logs"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] != "api.request")
        .count();
    assert_eq!(changes, 3, "{mine}");
    let future: Value = app
        .get(
            "/v2/accounts/audit-logs?since=2999-01-01T00:00:00Z",
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(future["audit_logs"], json!([]));
    let past: Value = app
        .get(
            "/v2/accounts/audit-logs?until=2000-01-01T00:00:00Z",
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(past["audit_logs"], json!([]));
    assert_eq!(
        app.get("/v2/accounts/audit-logs?since=yesterday", Some(&key))
            .await
            .status(),
        422
    );

    // Pages of 2: newest first, nothing skipped or repeated.
    let first: Value = app
        .get("/v2/accounts/audit-logs?limit=2", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second: Value = app
        .get(
            &format!("/v2/accounts/audit-logs?limit=2&cursor={cursor}"),
            Some(&key),
        )
        .await
        .json()
        .await
        .expect("json");
    let paged: Vec<&str> = first["audit_logs"]
        .as_array()
        .expect("a")
        .iter()
        .chain(second["audit_logs"].as_array().expect("b"))
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(paged, actions);
    assert!(second.get("next_cursor").is_none());

    let account = app.default_account_id().await;
    let developer = app.add_member(&account, "developer");
    let res = app.get("/v2/accounts/audit-logs", Some(&developer)).await;
    assert_eq!(res.status(), 403);

    // Another account sees only its own trail.
    let other = app.create_account("other-co", "o@other.test").await;
    let other_log: Value = app
        .get(
            "/v2/accounts/audit-logs",
            Some(other["owner_api_key"].as_str().expect("key")),
        )
        .await
        .json()
        .await
        .expect("json");
    let other_actions: Vec<&str> = other_log["audit_logs"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(other_actions, ["account.created"]);
}

on_both_backends!(every_change_is_audited_and_listed_for_admins);
