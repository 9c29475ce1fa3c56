//! Seed 03 notifications end to end: events (Tenantry's own and host-reported) reach the right
//! channels per the rules, over real receivers started here; webhook signatures are checked
//! with this file's own HMAC code (not the production signer); failing receivers are retried,
//! `410 Gone` disables a channel, private addresses are refused when saved and when delivered;
//! seed 01's settings and seed 03's channels are one configuration.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::smtp::SmtpServer;
use crate::support::{call, Backend, Received, Receiver, TestApp, TestDb};

pub(crate) const CHANNELS: &str = "/api/notifications/channels";
pub(crate) const RULES: &str = "/api/notifications/rules";
pub(crate) const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn start(db: TestDb, smtp: &SmtpServer) -> TestApp {
    TestApp::start(
        db,
        &[
            ("TENANTRY_SMTP_URL", &smtp.url()),
            ("TENANTRY_OUTBOX_POLL_MS", "50"),
            ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
        ],
    )
    .await
}

macro_rules! with_receivers {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test]
                async fn sqlite() {
                    let smtp = SmtpServer::start().await;
                    let db = TestDb::create(Backend::Sqlite).expect("sqlite");
                    super::$name(start(db, &smtp).await, smtp).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(db) = TestDb::create(Backend::Postgres) {
                        let smtp = SmtpServer::start().await;
                        super::$name(start(db, &smtp).await, smtp).await;
                    }
                }
            }
        )*
    };
}

/// Standard Webhooks verification written from the specification, independently of the
/// server's signer: base64(HMAC-SHA256(base64-decoded secret, "id.timestamp.body")).
fn signature_ok(r: &Received, secret: &str) -> bool {
    let (Some(id), Some(ts), Some(sig)) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    ) else {
        return false;
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    sig.split(' ').any(|s| s == format!("v1,{expected}"))
}

pub(crate) async fn wait_requests(receiver: &Receiver, n: usize) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = receiver.received().await;
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} requests, got {}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn create_channel(app: &TestApp, body: Value) -> Value {
    let (status, doc) = call(app, Method::POST, CHANNELS, app.owner_key(), Some(body)).await;
    assert_eq!(status, 201, "{doc}");
    doc["data"].clone()
}

/// The delivery `id` as the API shows it.
pub(crate) async fn delivery(app: &TestApp, id: &str) -> Value {
    let (status, doc) = call(
        app,
        Method::GET,
        &format!("/api/notifications/deliveries/{id}"),
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["data"].clone()
}

pub(crate) async fn delivery_settled(app: &TestApp, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = delivery(app, id).await;
        if matches!(d["status"].as_str(), Some("delivered" | "failed")) {
            return d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery {id} did not settle: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

with_receivers!(
    events_reach_the_channels_their_rules_name,
    failing_receivers_are_retried_and_gone_ones_disabled,
);

async fn events_reach_the_channels_their_rules_name(app: TestApp, smtp: SmtpServer) {
    let owner = app.owner_key().to_owned();
    let hook = Receiver::start(200, "ok").await;
    let slack = Receiver::start(200, "ok").await;
    let webhook = create_channel(
        &app,
        json!({ "type": "webhook", "name": "Ops hook", "config": { "url": format!("{}/hook", hook.url), "secret": SECRET } }),
    )
    .await;
    assert_eq!(
        webhook["config"]["secret"],
        json!({ "configured": true }),
        "{webhook}"
    );
    assert!(
        webhook.get("secret").is_none(),
        "a given secret is not echoed"
    );
    let slack_channel = create_channel(
        &app,
        json!({ "type": "slack", "name": "#data-alerts", "config": { "webhook_url": format!("{}/services/T/B/X", slack.url), "channel": "C01234567", "workspace": "acme" } }),
    )
    .await;
    let (wid, sid) = (
        webhook["id"].as_str().expect("id"),
        slack_channel["id"].as_str().expect("id"),
    );

    let (status, rule) = call(&app, Method::POST, RULES, &owner, Some(json!({
        "name": "Keys to the hook", "event": "api_key.created", "channel_ids": [wid], "enabled": true
    }))).await;
    assert_eq!(status, 201, "{rule}");
    assert!(rule["data"]["id"]
        .as_str()
        .is_some_and(|i| i.starts_with("nrl_")));
    let (status, rule) = call(&app, Method::POST, RULES, &owner, Some(json!({
        "name": "Pipeline failure to Slack", "event": "pipeline.run.failed",
        "channel_ids": [sid, wid], "filters": { "pipeline_ids": ["pl_01hqxyz"] }, "enabled": true
    }))).await;
    assert_eq!(status, 201, "{rule}");

    // Tenantry's own event: a key is created.
    let (status, key) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({ "name": "ci" })),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let got = wait_requests(&hook, 1).await;
    let first = &got[0];
    assert_eq!(first.path, "/hook");
    assert!(
        signature_ok(first, SECRET),
        "signature does not verify: {first:?}"
    );
    let body: Value = serde_json::from_str(&first.body).expect("json body");
    assert_eq!(body["type"], "api_key.created");
    assert_eq!(first.header("webhook-id"), body["id"].as_str());

    // A host event: matching filter goes to both channels, a non-matching one nowhere.
    for pipeline in ["pl_other", "pl_01hqxyz"] {
        let (status, doc) = call(&app, Method::POST, "/api/notifications/events", &owner, Some(json!({
            "event": "pipeline.run.failed", "data": { "pipeline_id": pipeline, "severity": "high", "message": "run 42 failed" }
        }))).await;
        assert_eq!(status, 202, "{doc}");
    }
    let slack_got = wait_requests(&slack, 1).await;
    let text: Value = serde_json::from_str(&slack_got[0].body).expect("slack json");
    assert!(
        text["text"]
            .as_str()
            .is_some_and(|t| t.contains("pipeline.run.failed") && t.contains("run 42 failed")),
        "{text}"
    );
    assert_eq!(text["channel"], "C01234567");
    let got = wait_requests(&hook, 2).await;
    let second: Value = serde_json::from_str(&got[1].body).expect("json");
    assert_eq!(second["data"]["pipeline_id"], "pl_01hqxyz");
    assert!(signature_ok(&got[1], SECRET));

    // Security events go to the built-in email channel: a failed sign-in reaches the admins.
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({ "email": "owner@localhost", "password": "definitely not it" }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);
    let mail = smtp
        .wait_for_subject("owner@localhost", "login.failed", WAIT)
        .await;
    assert!(
        !mail.text().contains("definitely not it"),
        "a password never travels in a notification"
    );

    // Reserved names cannot be forged by a host key.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/notifications/events",
        &owner,
        Some(json!({ "event": "login.failed" })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");

    // The delivery log: status, response code and latency per attempt.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, log) = call(
        &app,
        Method::GET,
        "/api/notifications/deliveries",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let delivered: Vec<&Value> = log["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|d| d["channel_id"] == wid)
        .collect();
    assert_eq!(delivered.len(), 2, "{log}");
    for d in delivered {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["response_code"], 200);
        assert_eq!(d["attempts"][0]["attempt"], 1);
        assert!(d["attempts"][0]["latency_ms"].is_u64());
    }
    // Exactly the expected requests: nothing for the filtered-out pipeline.
    assert_eq!(hook.received().await.len(), 2);
    assert_eq!(slack.received().await.len(), 1);

    // Only admins manage notifications.
    let account = app.default_account_id().await;
    let dev = app.add_member(&account, "developer");
    let (status, doc) = call(&app, Method::GET, CHANNELS, &dev, None).await;
    assert_eq!(status, 403, "{doc}");
    assert_eq!(doc["error"]["code"], "INSUFFICIENT_PERMISSIONS");
}

async fn failing_receivers_are_retried_and_gone_ones_disabled(app: TestApp, _smtp: SmtpServer) {
    let owner = app.owner_key().to_owned();

    // 500, then 200: delivered on the retry (5 s later), both attempts logged.
    let flaky = Receiver::scripted(vec![500, 200], "ok").await;
    let channel = create_channel(&app, json!({ "type": "webhook", "name": "flaky", "config": { "url": format!("{}/x", flaky.url) } })).await;
    let secret = channel["secret"]
        .as_str()
        .expect("a generated secret is shown once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = channel["id"].as_str().expect("id").to_owned();
    let (status, test) = call(
        &app,
        Method::POST,
        &format!("{CHANNELS}/{id}/test"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 202, "{test}");
    assert_eq!(test["data"]["status"], "queued");
    let delivery = test["data"]["delivery_id"]
        .as_str()
        .expect("delivery id")
        .to_owned();
    let settled = delivery_settled(&app, &delivery).await;
    assert_eq!(settled["status"], "delivered", "{settled}");
    assert_eq!(
        settled["attempts"].as_array().expect("attempts").len(),
        2,
        "{settled}"
    );
    assert_eq!(settled["attempts"][0]["response_code"], 500);
    assert_eq!(settled["attempts"][1]["response_code"], 200);
    let got = flaky.received().await;
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "one event id across retries"
    );
    assert!(signature_ok(&got[1], &secret));

    // 410 Gone: failed at once, and the channel is switched off.
    let gone = Receiver::start(410, "gone").await;
    let channel = create_channel(&app, json!({ "type": "webhook", "name": "gone", "config": { "url": format!("{}/x", gone.url) } })).await;
    let id = channel["id"].as_str().expect("id").to_owned();
    let (_, test) = call(
        &app,
        Method::POST,
        &format!("{CHANNELS}/{id}/test"),
        &owner,
        None,
    )
    .await;
    let settled = delivery_settled(&app, test["data"]["delivery_id"].as_str().expect("id")).await;
    assert_eq!(settled["status"], "failed");
    assert_eq!(settled["response_code"], 410);
    let (_, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    let listed = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(listed["enabled"], false, "{listed}");

    // Redelivery makes a new delivery of the same event.
    let (status, again) = call(
        &app,
        Method::POST,
        &format!("/api/notifications/deliveries/{delivery}/redeliver"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 202, "{again}");
    let redelivered =
        delivery_settled(&app, again["data"]["delivery_id"].as_str().expect("id")).await;
    assert_eq!(redelivered["status"], "delivered");
    assert_eq!(
        redelivered["event_id"],
        settled_event(&app, &delivery).await
    );

    // Private addresses are refused when saved.
    for url in [
        "http://10.1.2.3/x",
        "https://169.254.169.254/latest",
        "ftp://example.com/x",
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            CHANNELS,
            &owner,
            Some(json!({ "type": "webhook", "name": "bad", "config": { "url": url } })),
        )
        .await;
        assert_eq!(status, 422, "{url}: {doc}");
        assert_eq!(doc["error"]["details"]["fields"][0]["field"], "config.url");
    }
}

async fn settled_event(app: &TestApp, delivery: &str) -> Value {
    let (_, doc) = call(
        app,
        Method::GET,
        &format!("/api/notifications/deliveries/{delivery}"),
        app.owner_key(),
        None,
    )
    .await;
    doc["data"]["event_id"].clone()
}

crate::on_both_backends!(
    a_name_resolving_to_a_private_address_is_refused_at_delivery,
    seed_01_settings_are_the_built_in_channels,
);

/// No operator allowance here: `localhost` passes the save-time check (it is a name), and the
/// delivery refuses it once it resolves to loopback.
async fn a_name_resolving_to_a_private_address_is_refused_at_delivery(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let channel = create_channel(&app, json!({ "type": "webhook", "name": "sneaky", "config": { "url": "https://localhost:9/x" } })).await;
    let (_, test) = call(
        &app,
        Method::POST,
        &format!("{CHANNELS}/{}/test", channel["id"].as_str().expect("id")),
        &owner,
        None,
    )
    .await;
    let settled = delivery_settled(&app, test["data"]["delivery_id"].as_str().expect("id")).await;
    assert_eq!(settled["status"], "failed", "{settled}");
    assert!(
        settled["attempts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("may not reach")),
        "{settled}"
    );
}

async fn seed_01_settings_are_the_built_in_channels(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let res = app.put("/v2/accounts/settings/notifications", &owner, &json!({
        "webhook": { "enabled": true, "url": "https://hooks.example.com/tenantry", "events": ["endpoint.failed", "cost.threshold_exceeded"], "secret": "webhook_secret_key_123" },
        "slack": { "enabled": false }
    })).await;
    assert_eq!(res.status(), 200);
    let (status, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    assert_eq!(status, 200, "{list}");
    let by_id = |id: &str| {
        list["data"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {list}"))
    };
    let webhook = by_id("nch_webhook");
    assert_eq!(
        webhook["config"]["url"],
        "https://hooks.example.com/tenantry"
    );
    assert_eq!(webhook["config"]["secret"], json!({ "configured": true }));
    assert_eq!(webhook["enabled"], true);
    assert_eq!(webhook["builtin"], true);
    assert_eq!(by_id("nch_slack")["enabled"], false);
    assert_eq!(by_id("nch_email")["enabled"], true);
    let (_, rules) = call(&app, Method::GET, RULES, &owner, None).await;
    let events: Vec<&str> = rules["data"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["channel_ids"][0] == "nch_webhook")
        .filter_map(|r| r["event"].as_str())
        .collect();
    assert_eq!(events, ["endpoint.failed", "cost.threshold_exceeded"]);

    // Seed 03 turns the built-in email channel off; seed 01 shows it.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{CHANNELS}/nch_email"),
        &owner,
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["enabled"], false);
    let settings: Value = app
        .get("/v2/accounts/settings/notifications", Some(&owner))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(settings["email"]["enabled"], false, "{settings}");
    // Built-ins are changed, never renamed or deleted through seed 03.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{CHANNELS}/nch_email"),
        &owner,
        Some(json!({ "name": "x" })),
    )
    .await;
    assert_eq!(status, 409, "{doc}");
    assert_eq!(doc["error"]["code"], "BUILTIN_CHANNEL");
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("{CHANNELS}/nch_webhook"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 409);

    // Custom channels: update, delete, 404 after.
    let created = create_channel(&app, json!({ "type": "email", "name": "Data platform on-call", "config": { "recipients": ["oncall@example.com"], "severity_filter": ["high", "critical"] } })).await;
    let id = created["id"].as_str().expect("id");
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{CHANNELS}/{id}"),
        &owner,
        Some(json!({ "name": "Data platform on-call (updated)", "enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["name"], "Data platform on-call (updated)");
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("{CHANNELS}/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, doc) = call(
        &app,
        Method::DELETE,
        &format!("{CHANNELS}/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{doc}");
    // Bad input.
    for (body, field) in [
        (json!({ "type": "pager", "name": "x" }), "type"),
        (
            json!({ "type": "email", "name": "x", "config": { "recipients": [] } }),
            "config.recipients",
        ),
        (
            json!({ "type": "email", "name": "x", "config": { "recipients": ["nope"] } }),
            "config.recipients",
        ),
        (
            json!({ "type": "email", "name": "x", "config": { "recipients": ["a@example.com"], "severity_filter": ["urgent"] } }),
            "config.severity_filter",
        ),
        (
            json!({ "type": "slack", "name": "x", "config": {} }),
            "config.webhook_url",
        ),
        (
            json!({ "type": "webhook", "name": "", "config": { "url": "https://example.com" } }),
            "name",
        ),
    ] {
        let (status, doc) = call(&app, Method::POST, CHANNELS, &owner, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {doc}");
        assert_eq!(
            doc["error"]["details"]["fields"][0]["field"], field,
            "{doc}"
        );
    }
    let (status, doc) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "r", "event": "x.y", "channel_ids": ["nch_nope"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "r", "event": "Not An Event", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");

    // Host events: bad names, data and severities are refused, and nothing is queued.
    let outbox_before = app.query_texts("SELECT id AS t FROM outbox").len();
    for (body, field) in [
        (json!({ "event": "nodots" }), "event"),
        (
            json!({ "event": "pipeline.run.failed", "data": [1, 2] }),
            "data",
        ),
        (
            json!({ "event": "pipeline.run.failed", "data": { "severity": "apocalyptic" } }),
            "data.severity",
        ),
    ] {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/api/notifications/events",
            &owner,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {doc}");
        assert_eq!(
            doc["error"]["details"]["fields"][0]["field"], field,
            "{doc}"
        );
    }
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/notifications/events",
        &owner,
        Some(json!({ "event": "a.b", "extra": 1 })),
    )
    .await;
    assert_eq!(status, 400, "unknown field: {doc}");
    assert_eq!(
        app.query_texts("SELECT id AS t FROM outbox").len(),
        outbox_before
    );

    // Deliveries that do not exist, or ids that cannot be ones.
    for path in [
        "/api/notifications/deliveries/ndl_01jq8nope0000000000000000",
        "/api/notifications/deliveries/garbage",
    ] {
        let (status, doc) = call(&app, Method::GET, path, &owner, None).await;
        assert_eq!(status, 404, "{path}: {doc}");
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("{path}/redeliver"),
            &owner,
            None,
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/notifications/channels/nch_nope/test",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

/// A receiver that fails every attempt (a short retry schedule here) gets its channel disabled,
/// and the admins are told by email.
async fn a_persistently_failing_channel_is_disabled_and_admins_told(db: TestDb) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::start(
        db,
        &[
            ("TENANTRY_SMTP_URL", &smtp.url()),
            ("TENANTRY_OUTBOX_POLL_MS", "50"),
            ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
            ("TENANTRY_RETRY_SCHEDULE", "1,1"),
        ],
    )
    .await;
    let owner = app.owner_key().to_owned();
    let broken = Receiver::start(500, "down").await;
    let channel = create_channel(&app, json!({ "type": "webhook", "name": "broken", "config": { "url": format!("{}/x", broken.url) } })).await;
    let id = channel["id"].as_str().expect("id").to_owned();
    let (_, test) = call(
        &app,
        Method::POST,
        &format!("{CHANNELS}/{id}/test"),
        &owner,
        None,
    )
    .await;
    let settled = delivery_settled(&app, test["data"]["delivery_id"].as_str().expect("id")).await;
    assert_eq!(settled["status"], "failed", "{settled}");
    assert_eq!(
        settled["attempts"].as_array().expect("attempts").len(),
        3,
        "first try and two retries: {settled}"
    );
    assert_eq!(broken.received().await.len(), 3);
    let (_, list) = call(&app, Method::GET, CHANNELS, &owner, None).await;
    let listed = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(listed["enabled"], false, "{listed}");
    let mail = smtp
        .wait_for_subject("owner@localhost", "was disabled", WAIT)
        .await;
    assert!(mail.text().contains(&id), "{}", mail.text());
}

#[tokio::test]
async fn a_persistently_failing_channel_is_disabled_sqlite() {
    a_persistently_failing_channel_is_disabled_and_admins_told(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
    )
    .await;
}

#[tokio::test]
async fn a_persistently_failing_channel_is_disabled_postgres() {
    if let Some(db) = TestDb::create(Backend::Postgres) {
        a_persistently_failing_channel_is_disabled_and_admins_told(db).await;
    }
}

/// A letters-and-digits value no other test uses (Slack's secret part allows nothing else).
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new())
}

/// A test notification of `channel`, sent through the API as the owner: its delivery's id.
pub(crate) async fn test_delivery(app: &TestApp, channel: &str) -> String {
    test_delivery_as(app, app.owner_key(), channel).await
}

/// A test notification of `channel`, sent through the API with `key`: its delivery's id.
pub(crate) async fn test_delivery_as(app: &TestApp, key: &str, channel: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        &format!("{CHANNELS}/{channel}/test"),
        key,
        None,
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    doc["data"]["delivery_id"]
        .as_str()
        .expect("delivery id")
        .to_owned()
}
