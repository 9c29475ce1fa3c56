//! Seed 03 `/api/user/api-keys`: scoped keys, shown once, limited by the account's policy.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{call, TestApp};

async fn api_key_examples_replay(app: TestApp) {
    let owner = app.owner_key().to_owned();
    // A key's use is written off the request path, in batches every 250 ms (decision 0015):
    // it shows shortly after, not in the response to the request that used it.
    let mut list = serde_json::Value::Null;
    for _ in 0..40 {
        let (status, body) = call(
            &app,
            reqwest::Method::GET,
            "/api/user/api-keys",
            &owner,
            None,
        )
        .await;
        assert_eq!(status, 200);
        list = body;
        if list["data"][0]["last_used_at"].as_str().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(1),
        "the bootstrap key"
    );
    assert!(
        list["data"][0]["last_used_at"].as_str().is_some(),
        "use is recorded within 4 s: {list}"
    );

    let (status, created) = call(&app, reqwest::Method::POST, "/api/user/api-keys", &owner, Some(json!({"name": "GitHub Actions deploy", "scopes": ["settings:read", "keys:read"], "expires_in_days": 90}))).await;
    assert_eq!(status, 201, "{created}");
    let data = &created["data"];
    let secret = data["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert!(secret.starts_with(data["prefix"].as_str().expect("prefix")));
    assert_eq!(data["scopes"], json!(["settings:read", "keys:read"]));
    assert!(data["expires_at"].as_str().is_some());
    let id = data["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("key_"));

    // The secret never appears again, nor in the database.
    let (_, meta) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/user/api-keys/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(meta["data"]["name"], "GitHub Actions deploy");
    assert!(meta["data"].get("secret").is_none());
    let stored = app.query_texts("SELECT secret_hash || display_prefix || name AS t FROM api_keys");
    let secret_part = secret.rsplit('_').next().expect("secret part");
    assert!(stored.iter().all(|row| !row.contains(secret_part)));

    // Regenerate: the old secret stops at once, the new one works.
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&secret))
            .await
            .status(),
        200
    );
    let (status, rotated) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/user/api-keys/{id}/regenerate"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(rotated["data"]["id"], json!(id));
    assert!(rotated["data"]["rotated_at"].as_str().is_some());
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&secret))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&new_secret))
            .await
            .status(),
        200
    );

    // Delete: gone at once.
    let res = app
        .client
        .delete(app.url(&format!("/api/user/api-keys/{id}")))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&new_secret))
            .await
            .status(),
        401
    );
    let (status, err) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/user/api-keys/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "NOT_FOUND");
    let audited = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action LIKE 'api_key.%' ORDER BY created_at",
    );
    assert_eq!(
        audited,
        ["api_key.created", "api_key.regenerated", "api_key.deleted"]
    );
}

async fn scopes_narrow_what_a_key_may_do(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (_, created) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": "reader", "scopes": ["settings:read"]})),
    )
    .await;
    let reader = created["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&reader))
            .await
            .status(),
        200
    );
    assert_eq!(app.get("/api/settings", Some(&reader)).await.status(), 200);
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/v2/accounts/settings/preferences",
            Some(json!({"theme": "dark"})),
        ),
        (reqwest::Method::GET, "/v2/accounts/settings", None),
        (reqwest::Method::GET, "/v2/accounts/settings/security", None),
        (reqwest::Method::GET, "/v2/accounts/audit-logs", None),
        (reqwest::Method::GET, "/api/user/api-keys", None),
        (reqwest::Method::GET, "/api/settings/ip-whitelist", None),
    ] {
        let (status, err) = call(&app, method.clone(), path, &reader, body).await;
        assert_eq!(status, 403, "{method} {path}: {err}");
    }
    let (_, err) = call(
        &app,
        reqwest::Method::GET,
        "/v2/accounts/audit-logs",
        &reader,
        None,
    )
    .await;
    assert_eq!(err["error"], "INSUFFICIENT_SCOPE");
    assert_eq!(err["details"]["requiredScopes"], json!(["audit:read"]));

    // A key never exceeds its owner's role.
    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &viewer,
        Some(json!({"name": "too much", "scopes": ["settings:write"]})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": "bad", "scopes": ["root:everything"]})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(err["error"]["details"]["allowed_scopes"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("billing:write"))));
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!(status, 422);
}

async fn max_api_keys_and_expiry_are_enforced(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &owner,
            &json!({"api_access": {"max_api_keys": 3}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut secrets = Vec::new();
    for i in 0..2 {
        let (status, created) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/api-keys",
            &owner,
            Some(json!({"name": format!("k{i}"), "expires_in_days": 1})),
        )
        .await;
        assert_eq!(status, 201);
        secrets.push(
            created["data"]["secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        );
    }
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": "one too many"})),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "API_KEY_LIMIT");
    assert_eq!(err["error"]["details"]["max_api_keys"], 3);

    // An expired key is refused at once and no longer counts.
    app.db
        .execute("UPDATE api_keys SET expires_at = 1 WHERE name = 'k0'");
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&secrets[0]))
            .await
            .status(),
        401
    );
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": "replacement"})),
    )
    .await;
    assert_eq!(status, 201);
}

on_both_backends!(
    api_key_examples_replay,
    scopes_narrow_what_a_key_may_do,
    max_api_keys_and_expiry_are_enforced
);
