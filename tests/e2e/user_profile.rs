//! Seed 03 `/api/user/profile` and `/api/user/password`.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

async fn profile_examples_replay_and_share_seed_01_preferences(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, doc) = call(&app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(status, 200);
    let p = &doc["data"];
    assert_eq!(p["email"], "owner@localhost");
    assert_eq!(p["timezone"], "UTC");
    assert_eq!(p["locale"], "en-US");
    assert_eq!(p["roles"], json!(["owner"]));
    assert_eq!(p["organization_id"], json!(app.default_account_id().await));
    assert!(p["id"].as_str().is_some_and(|i| i.starts_with("usr_")));

    let (status, doc) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user/profile",
        &key,
        Some(
            json!({"display_name": "Alex Morgan", "timezone": "America/Denver", "locale": "en-US"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["display_name"], "Alex Morgan");
    assert_eq!(doc["data"]["timezone"], "America/Denver");
    assert!(doc["data"]["updated_at"].as_str().is_some());
    let v2: Value = app
        .get("/v2/accounts/settings/preferences", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["timezone"], "America/Denver");

    // Locale ↔ seed 01 language, both ways.
    let (_, doc) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user/profile",
        &key,
        Some(json!({"locale": "ja_jp"})),
    )
    .await;
    assert_eq!(doc["data"]["locale"], "ja-JP");
    let v2: Value = app
        .get("/v2/accounts/settings/preferences", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["language"], "ja");
    let res = app
        .put(
            "/v2/accounts/settings/preferences",
            &key,
            &json!({"language": "de", "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(doc["data"]["locale"], "de");
    assert_eq!(doc["data"]["timezone"], "Europe/Berlin");

    for body in [
        json!({"timezone": "Mars/Base"}),
        json!({"locale": "klingon-tongue"}),
        json!({"avatar_url": "http://x.test/a.png"}),
        json!({"display_name": "x".repeat(101)}),
    ] {
        let (status, _) = call(
            &app,
            reqwest::Method::PUT,
            "/api/user/profile",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
    // Names that disguise themselves: bidi controls reorder what follows, invisible-only names
    // look blank. Refused on the field, and the stored name stays.
    for name in [
        "Bob\u{202E}nimdA",
        "\u{2066}Alex\u{2069}",
        "Alex\u{200F}",
        "\u{200B}",
        "\u{200B}\u{2060}\u{FEFF}",
        "\u{3164}",
        "\u{115F}\u{1160}",
        "\u{00AD} \u{200B}",
    ] {
        let (status, doc) = call(
            &app,
            reqwest::Method::PUT,
            "/api/user/profile",
            &key,
            Some(json!({ "display_name": name })),
        )
        .await;
        assert_eq!(status, 422, "{name:?}: {doc}");
        assert_eq!(doc["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(
            doc["error"]["details"]["fields"][0]["field"], "display_name",
            "{doc}"
        );
    }
    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(doc["data"]["display_name"], "Alex Morgan");
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/api/user/profile",
        &key,
        Some(json!({"nickname": "al"})),
    )
    .await;
    assert_eq!(status, 400);
}

async fn passwords_are_argon2_and_the_profile_does_not_set_the_email(app: TestApp) {
    let key = app.owner_key().to_owned();
    // The bootstrap owner has no password yet: the first one needs no current password.
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"new_password": "first-Passphrase-42!"})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"new_password": "second-Passphrase-42!"})),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "INVALID_CURRENT_PASSWORD");
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"current_password": "wrong", "new_password": "second-Passphrase-42!"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, err) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"current_password": "first-Passphrase-42!", "new_password": "short"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["details"]["fields"][0]["field"],
        "new_password"
    );
    let (status, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/user/password",
        &key,
        Some(json!({"current_password": "first-Passphrase-42!", "new_password": "password1234"})),
    )
    .await;
    assert_eq!(status, 422, "a common password");
    let (status, _) = call(&app, reqwest::Method::POST, "/api/user/password", &key, Some(json!({"current_password": "first-Passphrase-42!", "new_password": "second-Passphrase-42!"}))).await;
    assert_eq!(status, 204);

    let hashes =
        app.query_texts("SELECT password_hash AS t FROM users WHERE password_hash IS NOT NULL");
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!hashes[0].contains("Passphrase"));
    assert!(!app.server_log().await.contains("Passphrase"));
    let audited =
        app.query_texts("SELECT action AS t FROM audit_log WHERE action = 'user.password_changed'");
    assert_eq!(audited.len(), 2);

    // The profile no longer sets the address, with or without the password, taken or not: a
    // change goes through POST /api/user/email and a link to the new mailbox (email_change.rs).
    app.create_account("other-co", "taken@example.com").await;
    for body in [
        json!({"email": "alex@example.com"}),
        json!({"email": "alex@example.com", "current_password": "second-Passphrase-42!"}),
        json!({"email": "taken@example.com", "current_password": "second-Passphrase-42!"}),
    ] {
        let (status, err) = call(
            &app,
            reqwest::Method::PUT,
            "/api/user/profile",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["details"]["fields"][0]["field"], "email");
        assert!(
            err["error"]["details"]["fields"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("POST /api/user/email")),
            "{err}"
        );
    }
    let (_, doc) = call(&app, reqwest::Method::GET, "/api/user/profile", &key, None).await;
    assert_eq!(doc["data"]["email"], "owner@localhost");
}

on_both_backends!(
    profile_examples_replay_and_share_seed_01_preferences,
    passwords_are_argon2_and_the_profile_does_not_set_the_email
);
