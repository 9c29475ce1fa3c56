//! What a client reads is what is enforced and stored (decision 0021): a session's expiry as the
//! request path applies it, an idle timeout never shorter than configured, a key's last use,
//! and a built-in notification channel's switch as the account settings hold it.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(
    a_built_in_channel_switch_is_the_account_settings_field,
    a_new_key_of_an_active_member_shows_its_use,
    the_listed_session_expiry_follows_the_policy_now,
    an_unrecorded_use_within_the_minute_still_extends_the_idle_timeout,
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

const PASSWORD: &str = "as-enforced-passphrase-7";

/// The owner's password set, and a session signed in with it: `(token, sign-in answer)`.
async fn signed_in_owner(app: &TestApp) -> (String, Value) {
    let (status, _) = call(
        app,
        Method::POST,
        "/api/user/password",
        app.owner_key(),
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204);
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    let token = doc["data"]["token"].as_str().expect("token").to_owned();
    (token, doc)
}

async fn set_session_timeout(app: &TestApp, idle: u32, absolute: u32) {
    let (status, doc) = call(
        app,
        Method::PUT,
        "/api/session-timeout",
        app.owner_key(),
        Some(json!({
            "idle_timeout_minutes": idle,
            "absolute_timeout_minutes": absolute,
            "extend_on_activity": true,
        })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("a timestamp: {v}"))
}

/// The one session listed: `(created_at, last_seen_at, expires_at)`.
async fn listed_session(
    app: &TestApp,
    token: &str,
) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let (status, list) = call(app, Method::GET, "/api/auth/sessions", token, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    let s = &list["data"][0];
    (
        time(&s["created_at"]),
        time(&s["last_seen_at"]),
        time(&s["expires_at"]),
    )
}

/// The `sessions` row id of a `tnt_ses_<id>_<secret>` token.
fn session_row(token: &str) -> String {
    format!("ses_{}", token.split('_').nth(2).expect("a session token"))
}

fn micros_ago(d: Duration) -> i64 {
    (Utc::now() - d).timestamp_micros()
}

async fn the_listed_session_expiry_follows_the_policy_now(app: TestApp) {
    set_session_timeout(&app, 0, 720).await;
    let (token, signed_in) = signed_in_owner(&app).await;
    let (created, _, expires) = listed_session(&app, &token).await;
    assert_eq!(expires, created + Duration::minutes(720));
    assert_eq!(
        time(&signed_in["data"]["expires_at"]),
        expires,
        "sign-in shows the same"
    );

    // Shortened: the live session's expiry moves with it (the request path applies it now).
    set_session_timeout(&app, 0, 60).await;
    let (_, _, expires) = listed_session(&app, &token).await;
    assert_eq!(expires, created + Duration::minutes(60), "expires_at moved");
    // Lengthened: never beyond the lifetime it was signed in with.
    set_session_timeout(&app, 0, 2880).await;
    let (_, _, expires) = listed_session(&app, &token).await;
    assert_eq!(expires, created + Duration::minutes(720));
    // An idle timeout that ends it first: last activity + timeout + the recording granularity.
    set_session_timeout(&app, 10, 2880).await;
    let (_, seen, expires) = listed_session(&app, &token).await;
    assert_eq!(expires, seen + Duration::minutes(11));

    // And the request path refuses from that instant: an absolute lifetime that has run out
    // (sign-in moved back) leaves the session neither accepted nor listed.
    set_session_timeout(&app, 0, 60).await;
    app.db.execute(&format!(
        "UPDATE sessions SET created_at = {} WHERE id = '{}'",
        micros_ago(Duration::minutes(61)),
        session_row(&token)
    ));
    let (status, _) = call(&app, Method::GET, "/api/auth/sessions", &token, None).await;
    assert_eq!(status, 401);
}

/// Activity is recorded at most once a minute: a use 30 s after the recorded one is not
/// written, and the idle timeout must still count from it.
async fn an_unrecorded_use_within_the_minute_still_extends_the_idle_timeout(app: TestApp) {
    set_session_timeout(&app, 10, 1440).await;
    let (token, _) = signed_in_owner(&app).await;
    let row = session_row(&token);
    // Recorded activity 10 min 30 s ago; a use 30 s after it (unrecorded) was 10 min ago.
    app.db.execute(&format!(
        "UPDATE sessions SET last_seen_at = {} WHERE id = '{row}'",
        micros_ago(Duration::seconds(630))
    ));
    let (status, _) = call(&app, Method::GET, "/api/user/profile", &token, None).await;
    assert_eq!(status, 200, "not refused before the last use + 10 min");
    // Beyond the granularity: no unrecorded use can be that late, so the session is over.
    app.db.execute(&format!(
        "UPDATE sessions SET last_seen_at = {} WHERE id = '{row}'",
        micros_ago(Duration::seconds(661))
    ));
    let (status, _) = call(&app, Method::GET, "/api/user/profile", &token, None).await;
    assert_eq!(
        status, 401,
        "refused once last recorded + 10 min + 1 min has passed"
    );
}
