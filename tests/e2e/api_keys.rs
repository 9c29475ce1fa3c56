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

/// A key made by `key` with `scopes` (`None`: no scopes, i.e. `*`): (id, secret).
async fn make_key(app: &TestApp, key: &str, scopes: Option<&[&str]>) -> (String, String) {
    let body = match scopes {
        Some(scopes) => json!({"name": "made", "scopes": scopes}),
        None => json!({"name": "made"}),
    };
    let (status, created) = call(
        app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        key,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    (
        created["data"]["id"].as_str().expect("id").to_owned(),
        created["data"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    )
}

/// The ids of the owner's live keys, and how many keys the audit log has seen created.
async fn key_state(app: &TestApp) -> (Vec<String>, usize) {
    let (status, list) = call(
        app,
        reqwest::Method::GET,
        "/api/user/api-keys",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let mut ids: Vec<String> = list["data"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    let created = app
        .query_texts("SELECT action AS t FROM audit_log WHERE action = 'api_key.created'")
        .len();
    (ids, created)
}

async fn a_key_never_makes_a_key_stronger_than_itself(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (_, keys_write) = make_key(&app, &owner, Some(&["keys:write"])).await;
    let (full_id, full) = make_key(&app, &owner, None).await;
    let before = key_state(&app).await;

    // The finding: an unscoped key from a `keys:write` key, which could then write security
    // settings. Refused, and so is a `security:write` key; nothing is written.
    for (body, exceeding) in [
        (json!({"name": "escalate"}), json!(["*"])),
        (json!({"name": "escalate", "scopes": ["*"]}), json!(["*"])),
        (
            json!({"name": "escalate", "scopes": ["keys:read", "security:write"]}),
            json!(["security:write"]),
        ),
    ] {
        let (status, err) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/api-keys",
            &keys_write,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 403, "{body}: {err}");
        assert_eq!(err["error"]["code"], "SCOPE_EXCEEDS_CREDENTIAL", "{err}");
        assert_eq!(err["error"]["details"]["exceeding_scopes"], exceeding);
        assert_eq!(
            err["error"]["details"]["credential_scopes"],
            json!(["keys:write"])
        );
        assert!(!err.to_string().contains("tnt_live_"), "no secret");
    }
    // Authorization before validation: an invalid name does not tell a refused caller more.
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &keys_write,
        Some(json!({"name": "", "scopes": ["security:write"]})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(key_state(&app).await, before, "no key and no audit entry");

    // Nor can it take over (regenerate) or remove an unscoped key.
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/user/api-keys/{full_id}/regenerate"),
        &keys_write,
        None,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "SCOPE_EXCEEDS_CREDENTIAL");
    assert_eq!(err["error"]["details"]["exceeding_scopes"], json!(["*"]));
    assert!(err["data"]["secret"].is_null());
    let (status, err) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/user/api-keys/{full_id}"),
        &keys_write,
        None,
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "SCOPE_EXCEEDS_CREDENTIAL");
    assert_eq!(
        app.get("/v2/accounts/settings/security", Some(&full))
            .await
            .status(),
        200,
        "the old secret still works"
    );
    assert_eq!(key_state(&app).await, before);
    let regenerated = app.query_texts(
        "SELECT action AS t FROM audit_log WHERE action IN ('api_key.regenerated', 'api_key.deleted')",
    );
    assert!(regenerated.is_empty(), "{regenerated:?}");

    // Within its own scopes it manages keys as before.
    let (weaker, _) = make_key(&app, &keys_write, Some(&["keys:read"])).await;
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/user/api-keys/{weaker}/regenerate"),
        &keys_write,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/user/api-keys/{weaker}"),
        &keys_write,
        None,
    )
    .await;
    assert_eq!(status, 204);

    // A key holding `keys:write` and `settings:read` may hand out `settings:read`, not more.
    let (_, key_and_reader) = make_key(&app, &owner, Some(&["keys:write", "settings:read"])).await;
    let (_, reader) = make_key(&app, &key_and_reader, Some(&["settings:read"])).await;
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&reader))
            .await
            .status(),
        200
    );
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/api-keys",
        &key_and_reader,
        Some(json!({"name": "writer", "scopes": ["settings:write"]})),
    )
    .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(
        err["error"]["details"]["exceeding_scopes"],
        json!(["settings:write"])
    );
}

const PASSWORD: &str = "api-keys-test-passphrase-7";

async fn sign_in(app: &TestApp) -> String {
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "owner@localhost", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.expect("json");
    doc["data"]["token"].as_str().expect("token").to_owned()
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_micros() as i64
}

async fn a_stale_session_cannot_regenerate_a_key(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({"new_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 204);
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &owner,
            &json!({"session": {"require_reauth_for_sensitive": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (id, secret) = make_key(&app, &owner, None).await;
    let session = sign_in(&app).await;
    let twenty_minutes_ago = now_micros() - 20 * 60 * 1_000_000;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {twenty_minutes_ago}"
    ));

    // Creating needs a recent sign-in, and so does regenerating: both hand out a secret.
    for path in [
        "/api/user/api-keys".to_owned(),
        format!("/api/user/api-keys/{id}/regenerate"),
    ] {
        let body = (path == "/api/user/api-keys").then(|| json!({"name": "stale"}));
        let (status, err) = call(&app, reqwest::Method::POST, &path, &session, body).await;
        assert_eq!(status, 403, "{path}: {err}");
        assert_eq!(err["error"]["code"], "REAUTH_REQUIRED", "{path}");
    }
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&secret))
            .await
            .status(),
        200,
        "the old secret still works"
    );
    assert!(app
        .query_texts("SELECT action AS t FROM audit_log WHERE action = 'api_key.regenerated'")
        .is_empty());

    // Signing in again is the way.
    let fresh = sign_in(&app).await;
    let (status, rotated) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/user/api-keys/{id}/regenerate"),
        &fresh,
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(
        app.get("/v2/accounts/settings/preferences", Some(&secret))
            .await
            .status(),
        401
    );
}

on_both_backends!(
    api_key_examples_replay,
    scopes_narrow_what_a_key_may_do,
    max_api_keys_and_expiry_are_enforced,
    a_key_never_makes_a_key_stronger_than_itself,
    a_stale_session_cannot_regenerate_a_key
);

async fn the_key_list_honours_limit_and_cursor(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for name in ["a", "b", "c"] {
        let (status, doc) = call(
            &app,
            reqwest::Method::POST,
            "/api/user/api-keys",
            &owner,
            Some(json!({ "name": name })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    crate::notification_rules::assert_pages_like_the_whole(&app, "/api/user/api-keys", &owner)
        .await;
}
on_both_backends!(the_key_list_honours_limit_and_cursor);
