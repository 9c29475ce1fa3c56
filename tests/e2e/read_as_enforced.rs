//! What a client reads is what is enforced and stored (decision 0021): a session's expiry as the
//! request path applies it, an idle timeout never shorter than configured, a key's last use,
//! and a built-in notification channel's switch as the account settings hold it.

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(
    a_built_in_channel_switch_is_the_account_settings_field,
    a_new_key_of_an_active_member_shows_its_use,
);

const WEBHOOK: &str = "/api/notifications/channels/nch_webhook";
const NOTIFICATIONS: &str = "/v2/accounts/settings/notifications";

/// `(webhook.enabled in the account settings, nch_webhook's enabled in the channel list)`.
async fn webhook_switch(app: &TestApp, key: &str) -> (Value, Value) {
    let (status, settings) = call(app, Method::GET, NOTIFICATIONS, key, None).await;
    assert_eq!(status, 200, "{settings}");
    let (status, channel) = call(app, Method::GET, WEBHOOK, key, None).await;
    assert_eq!(status, 200, "{channel}");
    (
        settings["webhook"]["enabled"].clone(),
        channel["data"]["enabled"].clone(),
    )
}

async fn put_channel(app: &TestApp, key: &str, path: &str, enabled: bool) -> (u16, Value) {
    call(
        app,
        Method::PUT,
        path,
        key,
        Some(json!({ "enabled": enabled })),
    )
    .await
}

async fn a_built_in_channel_switch_is_the_account_settings_field(app: TestApp) {
    let owner = app.owner_key().to_owned();
    assert_eq!(
        webhook_switch(&app, &owner).await,
        (json!(false), json!(false))
    );

    // No URL yet: turning the channel on is refused, naming what is missing, and nothing moves.
    for (path, field) in [
        (WEBHOOK, "webhook.url"),
        ("/api/notifications/channels/nch_slack", "slack.webhook_url"),
    ] {
        let (status, err) = put_channel(&app, &owner, path, true).await;
        assert_eq!(status, 422, "{path}: {err}");
        assert_eq!(err["error"]["code"], "VALIDATION_ERROR", "{err}");
        let fields = &err["error"]["details"]["fields"];
        assert_eq!(fields[0]["field"], "enabled", "{err}");
        assert!(
            fields[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{path}: the message names {field}: {err}"
        );
    }
    assert_eq!(
        webhook_switch(&app, &owner).await,
        (json!(false), json!(false))
    );

    // With a URL: the notifications channels API writes the settings field, both directions.
    let res = app
        .put(
            NOTIFICATIONS,
            &owner,
            &json!({ "webhook": { "enabled": false, "url": "https://hooks.example.com/tenantry" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        webhook_switch(&app, &owner).await,
        (json!(false), json!(false))
    );
    let (status, doc) = put_channel(&app, &owner, WEBHOOK, true).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["data"]["enabled"], true,
        "the answer is what was asked: {doc}"
    );
    assert_eq!(
        webhook_switch(&app, &owner).await,
        (json!(true), json!(true))
    );
    let (status, doc) = put_channel(&app, &owner, WEBHOOK, false).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["enabled"], false, "{doc}");
    assert_eq!(
        webhook_switch(&app, &owner).await,
        (json!(false), json!(false))
    );

    // And the account settings write the channel's switch, both directions.
    for on in [true, false] {
        let res = app
            .put(
                NOTIFICATIONS,
                &owner,
                &json!({ "webhook": { "enabled": on } }),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(webhook_switch(&app, &owner).await, (json!(on), json!(on)));
    }
}

/// The key's `last_used_at` as `GET /api/user/api-keys` lists it, once it is set, polling for up
/// to 5 s (uses are written off the request path, in batches); `None` if it never is.
async fn listed_last_use(app: &TestApp, reader: &str, id: &str) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, list) = call(app, Method::GET, "/api/user/api-keys", reader, None).await;
        assert_eq!(status, 200, "{list}");
        let key = list["data"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["id"] == id).cloned())
            .unwrap_or_else(|| panic!("{id} is listed: {list}"));
        if let Some(at) = key["last_used_at"].as_str() {
            return Some(at.to_owned());
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The member is active through one key; a key they create next still shows its own first use
/// (whether a use is due to be recorded was decided on the member's activity, not the key's).
async fn a_new_key_of_an_active_member_shows_its_use(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, list) = call(&app, Method::GET, "/api/user/api-keys", &owner, None).await;
    assert_eq!(status, 200, "{list}");
    let owner_id = list["data"][0]["id"]
        .as_str()
        .expect("the bootstrap key")
        .to_owned();
    assert!(
        listed_last_use(&app, &owner, &owner_id).await.is_some(),
        "the member's first key shows its use"
    );

    let (status, created) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({ "name": "second" })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().expect("id").to_owned();
    let second = created["data"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let (_, fresh) = call(
        &app,
        Method::GET,
        &format!("/api/user/api-keys/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(
        fresh["data"]["last_used_at"],
        Value::Null,
        "never used yet: {fresh}"
    );

    let (status, _) = call(&app, Method::GET, "/api/user/profile", &second, None).await;
    assert_eq!(status, 200);
    let shown = listed_last_use(&app, &owner, &id).await;
    assert!(shown.is_some(), "the second key's use is listed within 5 s");
    let (_, one) = call(
        &app,
        Method::GET,
        &format!("/api/user/api-keys/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(
        one["data"]["last_used_at"].as_str(),
        shown.as_deref(),
        "{one}"
    );
}
