//! Secret hygiene: every kind of secret the service handles is created here with a unique value;
//! afterwards no response (other than the one that shows it once), no log line and no database
//! column holds any of them in clear.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, Backend, TestApp};

on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"), ("TENANTRY_OUTBOX_POLL_MS", "50")];
    no_secret_is_kept_or_shown_in_clear);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}

/// Every non-null value of every column of every table, as text.
fn database_dump(app: &TestApp) -> Vec<String> {
    let (tables_sql, columns_sql): (&str, fn(&str) -> String) = match app.db.backend {
        Backend::Sqlite => (
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            |t| format!("SELECT name AS t FROM pragma_table_info('{t}')"),
        ),
        Backend::Postgres => (
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
            |t| format!("SELECT column_name::text AS t FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{t}'"),
        ),
    };
    let mut out = Vec::new();
    for table in app.query_texts(tables_sql) {
        for column in app.query_texts(&columns_sql(&table)) {
            out.extend(app.query_texts(&format!(
                "SELECT CAST(\"{column}\" AS TEXT) AS t FROM \"{table}\" WHERE \"{column}\" IS NOT NULL"
            )));
        }
    }
    out
}

async fn no_secret_is_kept_or_shown_in_clear(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let mut secrets: Vec<String> = Vec::new();
    let mut later_responses: Vec<String> = Vec::new();

    // Integration tokens and the seed 01 webhook secret.
    let github = unique("ghp_");
    let docker = unique("dckr_pat_");
    let webhook_secret = unique("whsec_seed01_");
    let res = app.put("/v2/accounts/settings/integrations", &owner, &json!({
        "github": { "enabled": true, "access_token": github },
        "docker": { "enabled": true, "registries": [{ "url": "registry.hub.docker.com", "username": "u", "access_token": docker }] },
    })).await;
    assert_eq!(res.status(), 200);
    later_responses.push(res.text().await.expect("body"));
    let res = app.put("/v2/accounts/settings/notifications", &owner, &json!({
        "webhook": { "enabled": true, "url": "https://hooks.example.com/x", "secret": webhook_secret, "events": ["endpoint.failed"] },
    })).await;
    assert_eq!(res.status(), 200);
    later_responses.push(res.text().await.expect("body"));
    secrets.extend([github, docker, webhook_secret]);

    // A seed 03 channel's signing secret.
    let channel_secret = unique("whsec_channel_");
    let (status, doc) = call(&app, Method::POST, "/api/notifications/channels", &owner, Some(json!({
        "type": "webhook", "name": "hooked", "config": { "url": "https://hooks.example.com/y", "secret": channel_secret }
    }))).await;
    assert_eq!(status, 201, "{doc}");
    later_responses.push(doc.to_string());
    secrets.push(channel_secret);

    // A password, a TOTP seed, an API key and an invitation token: each shown once, where
    // legitimately returned (those responses are not scanned).
    let password = unique("pass-phrase-");
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/user/password",
        &owner,
        Some(json!({ "new_password": password })),
    )
    .await;
    assert_eq!(status, 204);
    secrets.push(password.clone());
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/mfa/enable",
        &owner,
        Some(json!({ "method": "totp", "password": password })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    secrets.push(
        doc["data"]["secret"]
            .as_str()
            .expect("totp secret")
            .to_owned(),
    );
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({ "name": "ci" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let token = doc["data"]["secret"]
        .as_str()
        .expect("key token")
        .to_owned();
    let key_secret = token.rsplit('_').next().expect("secret part").to_owned();
    secrets.push(key_secret);
    let (status, doc) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        &owner,
        Some(json!({ "email": "new@example.com", "role": "viewer" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    assert!(
        !doc.to_string().contains("tnt_inv_"),
        "the inviter never sees the secret link: {doc}"
    );
    let invitation_token =
        crate::support::token_in(&app.wait_for_eml("new@example.com").await, "tnt_inv_");
    // The link is used: preview and a failed acceptance go through the log too.
    let path = format!("/v2/invitations/{invitation_token}");
    let res = app.get(&path, None).await;
    assert_eq!(res.status(), 200);
    later_responses.push(res.text().await.expect("body"));
    secrets.push(invitation_token);

    // Slack incoming-webhook URLs: the URL is the credential. Seed 01's (saved, never sent),
    // a seed 03 channel's and a seed 01 test's, both sent to a closed port so the transport's
    // error (which quotes the URL it was given) reaches the delivery log, the outbox and the
    // server log.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let slack_seed01 = unique("SlackSeedOne");
    let res = app.put("/v2/accounts/settings/notifications", &owner, &json!({
        "slack": { "enabled": true, "webhook_url": format!("https://hooks.slack.com/services/T0/B0/{slack_seed01}") },
    })).await;
    assert_eq!(res.status(), 200);
    later_responses.push(res.text().await.expect("body"));
    let slack_channel = unique("SlackChannel");
    let (status, doc) = call(&app, Method::POST, "/api/notifications/channels", &owner, Some(json!({
        "type": "slack", "name": "sealed", "config": { "webhook_url": format!("http://127.0.0.1:{port}/services/T0/B0/{slack_channel}") }
    }))).await;
    assert_eq!(status, 201, "{doc}");
    later_responses.push(doc.to_string());
    let path = format!(
        "/api/notifications/channels/{}/test",
        doc["data"]["id"].as_str().expect("id")
    );
    let (status, doc) = call(&app, Method::POST, &path, &owner, None).await;
    assert_eq!(status, 202, "{doc}");
    let delivery = format!(
        "/api/notifications/deliveries/{}",
        doc["data"]["delivery_id"].as_str().expect("delivery id")
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, doc) = call(&app, Method::GET, &delivery, &owner, None).await;
        if let Some(error) = doc["data"]["attempts"][0]["error"].as_str() {
            // The transport's error quoted the URL; the log shows the mask in its place.
            assert!(error.contains("[Slack webhook URL]"), "{error}");
            later_responses.push(doc.to_string());
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt: {doc}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let slack_test = unique("SlackTest");
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/notifications/test"))
        .bearer_auth(&owner)
        .json(&json!({ "type": "slack", "webhook_url": format!("http://127.0.0.1:{port}/services/T0/B0/{slack_test}") }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    later_responses.push(res.text().await.expect("body"));
    secrets.extend([slack_seed01, slack_channel, slack_test]);

    // Everything that reads settings back.
    for path in [
        "/v2/accounts/settings",
        "/v2/accounts/settings/integrations",
        "/v2/accounts/settings/notifications",
        "/v2/accounts/settings/export",
        "/v2/accounts/settings/integrations/history",
        "/v2/accounts/audit-logs",
        "/api/notifications/channels",
        "/api/notifications/rules",
        "/api/notifications/deliveries",
        "/v2/accounts/settings/notifications/history",
        "/api/user/api-keys",
        "/api/user/mfa",
        "/v2/accounts/team/members",
    ] {
        let res = app.get(path, Some(&owner)).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        later_responses.push(res.text().await.expect("body"));
    }
    // Let the outbox deliver what it can and write its logs.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let log = app.server_log().await;
    let dump = database_dump(&app);
    assert!(
        dump.len() > 100,
        "the dump read the database: {} values",
        dump.len()
    );
    for secret in &secrets {
        for (i, body) in later_responses.iter().enumerate() {
            assert!(
                !body.contains(secret.as_str()),
                "response {i} shows a secret: {body}"
            );
        }
        assert!(
            !log.contains(secret.as_str()),
            "the server log shows a secret ({})",
            &secret[..8]
        );
        if let Some(value) = dump.iter().find(|v| v.contains(secret.as_str())) {
            panic!("a database column holds a secret in clear: {value}");
        }
    }
    let _: Value = Value::Null;
}
