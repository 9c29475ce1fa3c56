//! Slack webhook URLs are secrets: sealed at rest (also those stored in clear before sealing
//! existed, at start), shown as configured, kept across writes that leave them out, and exported
//! only when asked.

use reqwest::Method;
use serde_json::{json, Value};

use crate::notifications::{
    create_channel, delivery_settled, test_delivery, unique, wait_requests, CHANNELS,
};
use crate::support::{call, Receiver, TestApp};

/// The environment of the Slack tests (also for their restart).
const SLACK_ENV: [(&str, &str); 2] = [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
];

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
]; slack_urls_are_sealed_shown_as_configured_and_kept, slack_urls_stored_in_clear_are_sealed_at_start);

/// Every text column of the tables a Slack URL is written to.
fn stored_texts(app: &TestApp) -> Vec<String> {
    [
        "SELECT document AS t FROM settings_documents",
        "SELECT document AS t FROM settings_history",
        "SELECT config AS t FROM notification_channels",
        "SELECT COALESCE(secret_sealed, '') AS t FROM notification_channels",
        "SELECT COALESCE(diff, '') AS t FROM audit_log",
    ]
    .iter()
    .flat_map(|sql| app.query_texts(sql))
    .collect()
}

async fn export(app: &TestApp, secrets: bool) -> Value {
    let res = app
        .get(
            &format!("/v2/accounts/settings/export?include_secrets={secrets}"),
            Some(app.owner_key()),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("json")["export"]["settings"].clone()
}

/// A Slack URL, in seed 01's settings and in a seed 03 channel, is sealed at rest and reads
/// `{"configured": true}` for everyone everywhere, except in an export asked with secrets by an
/// admin; sending `{"configured": true}` back keeps it; credentials and other shapes are refused
/// even on an address the operator opened.
async fn slack_urls_are_sealed_shown_as_configured_and_kept(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let configured = json!({ "configured": true });

    // Seed 01.
    let secret = unique("SeedOne");
    let url = format!("https://hooks.slack.com/services/T0SEAL/B0SEAL/{secret}");
    let res = app
        .put(
            "/v2/accounts/settings/notifications",
            &owner,
            &json!({
                "slack": { "enabled": true, "webhook_url": url, "channel": "#ops" }
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["slack"]["webhook_url"], configured, "{doc}");
    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    for (path, key, pointer) in [
        (
            "/v2/accounts/settings/notifications",
            &owner,
            "/slack/webhook_url",
        ),
        (
            "/v2/accounts/settings",
            &viewer,
            "/notifications/slack/webhook_url",
        ),
        (
            "/v2/accounts/settings/export",
            &owner,
            "/export/settings/notifications/slack/webhook_url",
        ),
    ] {
        let res = app.get(path, Some(key)).await;
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.expect("body");
        assert!(!text.contains(&secret), "{path} shows the URL: {text}");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc.pointer(pointer), Some(&configured), "{path}: {doc}");
    }
    let (_, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    assert!(!list.to_string().contains(&secret), "{list}");
    let builtin = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == "nch_slack")
        .cloned()
        .expect("nch_slack");
    assert_eq!(builtin["config"]["webhook_url"], configured, "{builtin}");
    assert_eq!(builtin["enabled"], true);
    // Sent back as read, it is kept; an export with secrets (an admin's) shows it.
    let res = app
        .put(
            "/v2/accounts/settings/notifications",
            &owner,
            &json!({
                "slack": { "webhook_url": { "configured": true }, "channel": "#other" }
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        export(&app, true).await["notifications"]["slack"]["webhook_url"],
        url.as_str()
    );
    // Re-importing an export without secrets keeps it too.
    let plain = export(&app, false).await;
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/import"))
        .bearer_auth(&owner)
        .json(&json!({ "settings": { "notifications": plain["notifications"] }, "merge_strategy": "merge" }))
        .send()
        .await
        .expect("import");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        export(&app, true).await["notifications"]["slack"]["webhook_url"],
        url.as_str()
    );
    for bad in [
        json!("https://hooks.slack.com@127.0.0.5/services/T0/B0/X"),
        json!("https://hooks.slack.com/services/T0/B0"),
        json!({ "configured": false }),
    ] {
        let res = app
            .put(
                "/v2/accounts/settings/notifications",
                &owner,
                &json!({ "slack": { "webhook_url": bad } }),
            )
            .await;
        // Seed 01: a refused Slack URL is INVALID_WEBHOOK_URL.
        assert_eq!(res.status(), 400, "{bad}");
    }

    // Seed 03: a Slack channel on the local receiver (the operator opened loopback).
    let slack = Receiver::start(200, "ok").await;
    let host = slack.url.trim_start_matches("http://").to_owned();
    let channel_secret = unique("SeedThree");
    let created = create_channel(
        &app,
        json!({ "type": "slack", "name": "sealed", "config": {
        "webhook_url": format!("{}/services/T0/B0/{channel_secret}", slack.url), "channel": "#x"
    } }),
    )
    .await;
    assert_eq!(created["config"]["webhook_url"], configured, "{created}");
    assert!(!created.to_string().contains(&channel_secret));
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{CHANNELS}/{id}"),
        &owner,
        Some(json!({
            "config": { "webhook_url": { "configured": true }, "channel": "#y" }
        })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (_, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    assert!(!list.to_string().contains(&channel_secret), "{list}");
    let listed = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(
        listed["config"],
        json!({ "webhook_url": configured, "channel": "#y", "workspace": null })
    );
    // The sealed URL still delivers.
    let d = test_delivery(&app, &id).await;
    assert_eq!(delivery_settled(&app, &d).await["status"], "delivered");
    let got = slack.received().await;
    assert_eq!(got[0].path, format!("/services/T0/B0/{channel_secret}"));
    assert_eq!(
        serde_json::from_str::<Value>(&got[0].body).expect("json")["channel"],
        "#y"
    );

    // Refused, even on the opened address: credentials, and any other path.
    for url in [
        format!("http://hooks.slack.com@{host}/services/T0/B0/X"),
        format!("http://u:p@{host}/services/T0/B0/X"),
        format!("{}/hooks.slack.com/services/x", slack.url),
        format!("{}/services/T0/B0", slack.url),
        "https://example.com/services/T0/B0/X".to_owned(),
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            CHANNELS,
            &owner,
            Some(json!({
                "type": "slack", "name": "bad", "config": { "webhook_url": url }
            })),
        )
        .await;
        assert_eq!(status, 422, "{url}: {doc}");
        assert_eq!(
            doc["error"]["details"]["fields"][0]["field"],
            "config.webhook_url"
        );
    }
    let (status, doc) = call(&app, Method::POST, CHANNELS, &owner, Some(json!({
        "type": "webhook", "name": "bad", "config": { "url": format!("http://user:pw@{host}/x") }
    }))).await;
    assert_eq!(status, 422, "{doc}");
    assert_eq!(doc["error"]["details"]["fields"][0]["field"], "config.url");
    assert_eq!(
        slack.received().await.len(),
        1,
        "nothing reached the receiver but the test"
    );

    for text in stored_texts(&app) {
        assert!(
            !text.contains(&secret) && !text.contains(&channel_secret),
            "stored in clear: {text}"
        );
    }
}

/// URLs written in clear before they were sealed (seed 01's document and its history, a seed 03
/// channel) are sealed when the server starts, and keep working.
async fn slack_urls_stored_in_clear_are_sealed_at_start(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let slack = Receiver::start(200, "ok").await;
    let secret = unique("LegacyOne");
    let url = format!("https://hooks.slack.com/services/T0OLD/B0OLD/{secret}");
    let res = app.put("/v2/accounts/settings/notifications", &owner, &json!({
        "slack": { "enabled": true, "webhook_url": "https://hooks.slack.com/services/T0/B0/Placeholder", "channel": "#ops" }
    })).await;
    assert_eq!(res.status(), 200);
    let channel_secret = unique("LegacyThree");
    let channel_url = format!("{}/services/T0/B0/{channel_secret}", slack.url);
    let created = create_channel(&app, json!({ "type": "slack", "name": "old", "config": { "webhook_url": "http://127.0.0.1:9/services/T0/B0/Placeholder" } })).await;
    let id = created["id"].as_str().expect("id").to_owned();

    // Rewrite them as an older version stored them: the URL in clear.
    let legacy = |doc: &str| -> String {
        let mut doc: Value = serde_json::from_str(doc).expect("json");
        let slack = doc["slack"].as_object_mut().expect("slack");
        slack.remove("webhook_url_sealed");
        slack.insert("webhook_url".into(), json!(url));
        doc.to_string().replace('\'', "''")
    };
    let current = app.query_texts(
        "SELECT document AS t FROM settings_documents WHERE section = 'notifications'",
    );
    let history = app.query_texts(
        "SELECT CAST(version AS TEXT) AS t FROM settings_history WHERE section = 'notifications'",
    );
    let mut sql = format!(
        "UPDATE settings_documents SET document = '{}' WHERE section = 'notifications';",
        legacy(&current[0])
    );
    for version in &history {
        let doc = app.query_texts(&format!(
            "SELECT document AS t FROM settings_history WHERE section = 'notifications' AND version = {version}"
        ));
        sql.push_str(&format!(
            "UPDATE settings_history SET document = '{}' WHERE section = 'notifications' AND version = {version};",
            legacy(&doc[0])
        ));
    }
    sql.push_str(&format!(
        "UPDATE notification_channels SET secret_sealed = NULL, config = '{}' WHERE id = '{id}';",
        json!({ "webhook_url": channel_url, "channel": "#legacy", "workspace": null })
    ));
    app.db.execute(&sql);
    assert!(stored_texts(&app).iter().any(|t| t.contains(&secret)));
    assert!(stored_texts(&app)
        .iter()
        .any(|t| t.contains(&channel_secret)));

    let app = app.restart_with(&SLACK_ENV).await;
    for text in stored_texts(&app) {
        assert!(
            !text.contains(&secret) && !text.contains(&channel_secret),
            "still in clear after start: {text}"
        );
    }
    // Shown as configured, kept, and still the same URLs.
    let doc: Value = app
        .get("/v2/accounts/settings/notifications", Some(&owner))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        doc["slack"]["webhook_url"],
        json!({ "configured": true }),
        "{doc}"
    );
    let res = app
        .get(
            "/v2/accounts/settings/export?include_secrets=true",
            Some(&owner),
        )
        .await;
    let exported: Value = res.json().await.expect("json");
    assert_eq!(
        exported["export"]["settings"]["notifications"]["slack"]["webhook_url"],
        url.as_str()
    );
    let (_, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    assert!(!list.to_string().contains(&channel_secret), "{list}");
    let (status, test) = call(
        &app,
        Method::POST,
        &format!("{CHANNELS}/{id}/test"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 202, "{test}");
    // (The restarted server printed no owner key: the helpers that read it are not used here.)
    let got = wait_requests(&slack, 1).await;
    assert_eq!(got[0].path, format!("/services/T0/B0/{channel_secret}"));
}
