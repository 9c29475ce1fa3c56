//! Key activity written off the request path (decision 0015): a key's `last_used_at` and its
//! member's `last_active_at` are stored shortly after a use and by a graceful stop, at most
//! once a minute per key; reads answered from memory still follow every local write at once.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(
    key_use_is_stored_shortly_after_and_once_a_minute,
    a_graceful_stop_stores_queued_key_uses,
    reads_from_memory_follow_local_writes_at_once,
);

fn recorded_uses(app: &TestApp, key_id: &str) -> Vec<String> {
    app.query_texts(&format!(
        "SELECT CAST(k.last_used_at AS TEXT) || ' ' || CAST(m.last_active_at AS TEXT) AS t \
         FROM api_keys k JOIN memberships m ON m.account_id = k.account_id AND m.user_id = k.user_id \
         WHERE k.id = '{key_id}' AND k.last_used_at IS NOT NULL AND m.last_active_at IS NOT NULL"
    ))
}

/// The key id of a `tnt_live_<id>_<secret>` token, as stored.
fn key_id(token: &str) -> String {
    tenantry_security::ApiKeyToken::parse(token)
        .expect("a key token")
        .id
        .to_string()
}

async fn key_use_is_stored_shortly_after_and_once_a_minute(app: TestApp) {
    let account = app.default_account_id().await;
    let key = app.add_member(&account, "developer");
    let id = key_id(&key);
    assert!(recorded_uses(&app, &id).is_empty(), "never used yet");
    let (status, _) = call(&app, Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(status, 200);
    let mut stored = Vec::new();
    for _ in 0..40 {
        stored = recorded_uses(&app, &id);
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored.len(), 1, "the use is stored within 4 s");
    // More uses within the minute do not move it (one write per key and minute).
    for _ in 0..5 {
        let (status, _) = call(&app, Method::GET, "/api/user/profile", &key, None).await;
        assert_eq!(status, 200);
    }
    // A sentinel: a first use of another key, queued after those five. Once it is stored,
    // anything queued before it has been written too.
    let sentinel = app.add_member(&account, "viewer");
    let (status, _) = call(&app, Method::GET, "/api/user/profile", &sentinel, None).await;
    assert_eq!(status, 200);
    let sentinel_id = key_id(&sentinel);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while recorded_uses(&app, &sentinel_id).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the sentinel's use was never stored"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded_uses(&app, &id), stored);
}

async fn a_graceful_stop_stores_queued_key_uses(app: TestApp) {
    let account = app.default_account_id().await;
    let keys: Vec<String> = (0..5).map(|_| app.add_member(&account, "viewer")).collect();
    for key in &keys {
        let (status, _) = call(&app, Method::GET, "/v2/accounts/settings", key, None).await;
        assert_eq!(status, 200);
    }
    let mut app = app;
    assert!(app.terminate().await.success());
    for key in &keys {
        assert_eq!(
            recorded_uses(&app, &key_id(key)).len(),
            1,
            "queued use stored before exit"
        );
    }
}

async fn reads_from_memory_follow_local_writes_at_once(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let get = |app: &TestApp| {
        let owner = owner.clone();
        let url = app.url("/v2/accounts/settings");
        let client = app.client.clone();
        async move {
            let res = client
                .get(url)
                .bearer_auth(owner)
                .send()
                .await
                .expect("request");
            let etag = res
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: serde_json::Value = res.json().await.expect("json");
            (etag, body)
        }
    };
    // Twice: the second read is the one served from memory.
    let (first_tag, _) = get(&app).await;
    let (etag, before) = get(&app).await;
    assert_eq!(etag, first_tag);
    let theme = if before["preferences"]["theme"] == "dark" {
        "light"
    } else {
        "dark"
    };
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/preferences",
        &owner,
        Some(json!({ "theme": theme })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (after_tag, after) = get(&app).await;
    assert_eq!(after["preferences"]["theme"], theme, "{after}");
    assert_ne!(after_tag, etag, "a new version, a new ETag");
    // Another dialect's write to the same domain field shows in seed 01's document at once
    // too: seed 03's absolute session lifetime is seed 01's `security.session.timeout` (hours).
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/api/session-timeout",
        &owner,
        Some(json!({ "idle_timeout_minutes": 30, "absolute_timeout_minutes": 720, "extend_on_activity": true })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (_, last) = get(&app).await;
    assert_eq!(last["security"]["session"]["timeout"], 12, "{last}");
}
