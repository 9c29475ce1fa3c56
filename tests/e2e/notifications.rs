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

const CHANNELS: &str = "/api/notifications/channels";
const RULES: &str = "/api/notifications/rules";
const WAIT: Duration = Duration::from_secs(20);
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

async fn wait_requests(receiver: &Receiver, n: usize) -> Vec<Received> {
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

async fn create_channel(app: &TestApp, body: Value) -> Value {
    let (status, doc) = call(app, Method::POST, CHANNELS, app.owner_key(), Some(body)).await;
    assert_eq!(status, 201, "{doc}");
    doc["data"].clone()
}

async fn delivery_settled(app: &TestApp, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, doc) = call(
            app,
            Method::GET,
            &format!("/api/notifications/deliveries/{id}"),
            app.owner_key(),
            None,
        )
        .await;
        assert_eq!(status, 200, "{doc}");
        if matches!(doc["data"]["status"].as_str(), Some("delivered" | "failed")) {
            return doc["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery {id} did not settle: {doc}"
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
fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new())
}

async fn delivery(app: &TestApp, id: &str) -> Value {
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

async fn test_delivery(app: &TestApp, channel: &str) -> String {
    let (status, doc) = call(
        app,
        Method::POST,
        &format!("{CHANNELS}/{channel}/test"),
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    doc["data"]["delivery_id"]
        .as_str()
        .expect("delivery id")
        .to_owned()
}

/// Waits until the delivery's first attempt failed and it waits for its retry.
async fn wait_retrying(app: &TestApp, id: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = delivery(app, id).await;
        if d["status"] == "retrying" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} never retried: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn webhook(name: &str, receiver: &Receiver) -> Value {
    json!({ "type": "webhook", "name": name, "config": { "url": format!("{}/{name}", receiver.url) } })
}

/// A receiver that holds every request until released: while it holds one, the rest of the
/// worker's claimed batch waits behind it.
struct HeldReceiver {
    url: String,
    arrived: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    release: tokio::sync::watch::Sender<bool>,
}

impl HeldReceiver {
    async fn start() -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let arrived = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let count = arrived.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let count = count.clone();
                let mut released = released.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    let _ = socket.read(&mut buf).await;
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = released.wait_for(|r| *r).await;
                    let _ = socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                });
            }
        });
        Self {
            url,
            arrived,
            release,
        }
    }

    async fn wait_arrived(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.arrived.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            assert!(tokio::time::Instant::now() < deadline, "nothing arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
    ("TENANTRY_RETRY_SCHEDULE", "1,1"),
]; deleted_and_disabled_channels_stop_receiving);

/// A sentinel for absence: a delivery to a new channel queued now, whose receiver fails twice
/// before accepting, so the worker reaches its last attempt only two retry delays from now,
/// after anything already waiting for one retry was due. Returns once it arrived.
async fn sentinel_arrives(app: &TestApp) {
    let sentinel = Receiver::scripted(vec![500, 500, 200], "ok").await;
    let id = create_channel(app, webhook("sentinel", &sentinel)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let d = test_delivery(app, &id).await;
    let settled = delivery_settled(app, &d).await;
    assert_eq!(settled["status"], "delivered", "{settled}");
    assert_eq!(sentinel.received().await.len(), 3);
}

/// A message waiting for its retry, or claimed by the worker and not yet sent, never reaches
/// a channel deleted or disabled in the meantime; absence is shown by a later sentinel
/// delivery on another channel, not by sleeping.
async fn deleted_and_disabled_channels_stop_receiving(app: TestApp) {
    let owner = app.owner_key().to_owned();

    // Deleted while its message waits for a retry (the receiver failed the first attempt).
    let deleted = Receiver::scripted(vec![500, 200], "ok").await;
    let id = create_channel(&app, webhook("deleted", &deleted)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let waiting = test_delivery(&app, &id).await;
    wait_retrying(&app, &waiting).await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("{CHANNELS}/{id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        delivery(&app, &waiting).await["status"],
        "cancelled",
        "cancelled with the delete, before any worker looks at it"
    );
    sentinel_arrives(&app).await;
    assert_eq!(
        deleted.received().await.len(),
        1,
        "no retry after the delete"
    );

    // Disabled while its message waits for a retry.
    let disabled = Receiver::scripted(vec![500, 200], "ok").await;
    let id = create_channel(&app, webhook("disabled", &disabled)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let waiting = test_delivery(&app, &id).await;
    wait_retrying(&app, &waiting).await;
    let (status, doc) = call(
        &app,
        Method::PUT,
        &format!("{CHANNELS}/{id}"),
        &owner,
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(delivery(&app, &waiting).await["status"], "cancelled");
    sentinel_arrives(&app).await;
    assert_eq!(
        disabled.received().await.len(),
        1,
        "no retry after disabling"
    );
    // A test asked for while the channel is off is what the admin wants: it goes out.
    let asked = test_delivery(&app, &id).await;
    assert_eq!(delivery_settled(&app, &asked).await["status"], "delivered");
    assert_eq!(disabled.received().await.len(), 2);

    // A built-in channel (a PUSH_NOTIFICATIONS webhook) switched off through its own settings,
    // which cancel nothing themselves: the worker's check before the retry does.
    let push = Receiver::scripted(vec![500, 200], "ok").await;
    let push_doc = |enable: bool| json!({ "webhooks": [ { "enable": enable, "url": format!("{}/push", push.url), "include": { "AUTHENTICATION_EVENTS": true } } ] });
    let at = "/accounts/default/settings/PUSH_NOTIFICATIONS";
    let (status, doc) = call(&app, Method::POST, at, &owner, Some(push_doc(true))).await;
    assert_eq!(status, 200, "{doc}");
    let waiting = test_delivery(&app, "nch_catalog_push_1").await;
    wait_retrying(&app, &waiting).await;
    let (status, doc) = call(&app, Method::PUT, at, &owner, Some(push_doc(false))).await;
    assert_eq!(status, 200, "{doc}");
    sentinel_arrives(&app).await;
    assert_eq!(push.received().await.len(), 1, "no retry after disabling");
    assert_eq!(delivery(&app, &waiting).await["status"], "cancelled");

    // Claimed by the worker and waiting in its batch behind a slow receiver when the channel
    // is deleted: the worker checks again right before sending.
    let held = HeldReceiver::start().await;
    let slow = create_channel(&app, json!({ "type": "webhook", "name": "slow", "config": { "url": format!("{}/slow", held.url) } })).await;
    let behind = Receiver::start(200, "ok").await;
    let behind_id = create_channel(&app, webhook("behind", &behind)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, rule) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({
            "name": "both", "event": "batch.test", "channel_ids": [slow["id"], behind_id]
        })),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/notifications/events",
        &owner,
        Some(json!({ "event": "batch.test" })),
    )
    .await;
    assert_eq!(status, 202, "{doc}");
    held.wait_arrived().await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("{CHANNELS}/{behind_id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 204);
    held.release.send_replace(true);
    sentinel_arrives(&app).await;
    assert!(
        behind.received().await.is_empty(),
        "a claimed message to a deleted channel is not sent"
    );
    let (_, log) = call(
        &app,
        Method::GET,
        "/api/notifications/deliveries",
        &owner,
        None,
    )
    .await;
    let of_behind: Vec<&Value> = log["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|d| d["channel_id"] == behind_id.as_str())
        .collect();
    assert_eq!(of_behind.len(), 1, "{log}");
    assert_eq!(of_behind[0]["status"], "cancelled", "{log}");
    assert_eq!(of_behind[0]["attempts"], json!([]), "never attempted");
    // The worker itself cancelled exactly two messages it held: the built-in channel's retry
    // and the claimed one (the others were cancelled with the delete or disable, unclaimed).
    assert_eq!(
        app.server_log()
            .await
            .matches("outbox message cancelled")
            .count(),
        2
    );
}

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

crate::on_both_backends!(
    a_rule_created_under_an_existing_name_replaces_it,
    rules_are_read_replaced_and_deleted_one_by_one,
    a_channel_is_read_by_its_id,
);

fn custom_rules(list: &Value) -> Vec<Value> {
    list["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| r["builtin"] == false)
        .cloned()
        .collect()
}

/// The API document's "Create or replace": the name keys a rule.
async fn a_rule_created_under_an_existing_name_replaces_it(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, first) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "Ops", "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = call(&app, Method::POST, RULES, &owner, Some(json!({ "name": "Ops", "event": "member.removed", "channel_ids": ["nch_email"], "enabled": false }))).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["data"]["id"], first["data"]["id"]);
    assert_eq!(second["data"]["created_at"], first["data"]["created_at"]);
    let (_, list) = call(&app, Method::GET, RULES, &owner, None).await;
    let custom = custom_rules(&list);
    assert_eq!(custom.len(), 1, "{list}");
    assert_eq!(custom[0]["event"], "member.removed");
    assert_eq!(custom[0]["enabled"], false);
    // A built-in rule's name is not taken over.
    let builtin = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["builtin"] == true)
        .expect("a built-in rule")["name"]
        .clone();
    let (status, doc) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": builtin, "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    assert_eq!(
        doc["error"]["details"]["fields"][0]["field"], "name",
        "{doc}"
    );
}

async fn rules_are_read_replaced_and_deleted_one_by_one(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (_, a) = call(&app, Method::POST, RULES, &owner, Some(json!({ "name": "A", "event": "member.invited", "channel_ids": ["nch_email"], "filters": { "severity": "high" } }))).await;
    let (_, b) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "B", "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    let a_url = format!("{RULES}/{}", a["data"]["id"].as_str().expect("id"));
    let b_url = format!("{RULES}/{}", b["data"]["id"].as_str().expect("id"));

    let (status, got) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["name"], "A");
    assert_eq!(got["data"]["filters"], json!({ "severity": "high" }));

    // PUT replaces the whole rule: absent filters are cleared.
    let (status, put) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "A2", "event": "member.removed", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    let (_, got) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(got["data"]["name"], "A2");
    assert_eq!(got["data"]["event"], "member.removed");
    assert_eq!(got["data"]["filters"], json!({}));

    // Names key "create or replace", so one rule cannot take another's.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "B", "event": "member.removed", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "A3", "event": "member.removed", "channel_ids": ["nch_nope"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");

    // Built-in rules are seed 01's settings: read here, changed there.
    let builtin = format!("{RULES}/nrl_email_cost_alerts_1");
    let (status, doc) = call(&app, Method::GET, &builtin, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["builtin"], true);
    let (status, doc) = call(&app, Method::DELETE, &builtin, &owner, None).await;
    assert_eq!(status, 409, "{doc}");
    assert_eq!(doc["error"]["code"], "BUILTIN_CHANNEL", "{doc}");

    let (status, _) = call(&app, Method::DELETE, &a_url, &owner, None).await;
    assert_eq!(status, 204);
    let (status, doc) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(status, 404, "{doc}");
    let (status, _) = call(&app, Method::DELETE, &a_url, &owner, None).await;
    assert_eq!(status, 404);
    let (_, list) = call(&app, Method::GET, RULES, &owner, None).await;
    let custom = custom_rules(&list);
    assert_eq!(custom.len(), 1, "{list}");
    assert_eq!(custom[0]["id"], b["data"]["id"]);
    let (status, _) = call(&app, Method::GET, &b_url, &owner, None).await;
    assert_eq!(status, 200);

    // Another account sees none of them.
    let other = app.create_account("rules-other", "o@rules.test").await;
    let other = other["owner_api_key"].as_str().expect("key").to_owned();
    let (status, _) = call(&app, Method::GET, &b_url, &other, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, Method::DELETE, &b_url, &other, None).await;
    assert_eq!(status, 404);
}

async fn a_channel_is_read_by_its_id(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let created = create_channel(&app, json!({ "type": "email", "name": "Ops mail", "config": { "recipients": ["ops@example.com"] } })).await;
    let url = format!("{CHANNELS}/{}", created["id"].as_str().expect("id"));
    let (status, doc) = call(&app, Method::GET, &url, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["name"], "Ops mail");
    assert_eq!(doc["data"]["builtin"], false);
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{CHANNELS}/nch_email"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["builtin"], true);
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{CHANNELS}/nch_nope"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{doc}");
    assert_eq!(doc["error"]["code"], "NOT_FOUND", "{doc}");
}

/// Follows `next_cursor` from the first page of `path` at `limit` rows a page: the rows in
/// order and the number of pages. Checks each page's size and that a cursor ends every page
/// but the last.
pub(crate) async fn walk_pages(
    app: &TestApp,
    path: &str,
    key: &str,
    limit: u32,
) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let (status, doc) = call(app, Method::GET, &url, key, None).await;
        assert_eq!(status, 200, "{url}: {doc}");
        let page = doc["data"].as_array().expect("list").clone();
        assert!(page.len() <= limit as usize, "{url}: {doc}");
        pages += 1;
        rows.extend(page);
        match doc["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (rows, pages),
        }
        assert!(pages < 100, "{path} does not end");
    }
}

/// The whole list in one page, then walked two rows at a time: the same rows, once each, in
/// the same order; a malformed limit or cursor and an unknown parameter are 400.
pub(crate) async fn assert_pages_like_the_whole(app: &TestApp, path: &str, key: &str) {
    let ids = |rows: &[Value]| rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    let (whole, pages) = walk_pages(app, path, key, 200).await;
    assert_eq!(pages, 1);
    assert!(whole.len() >= 3, "{path}: too few rows to page");
    let (walked, pages) = walk_pages(app, path, key, 2).await;
    assert_eq!(ids(&walked), ids(&whole), "{path}");
    assert_eq!(pages, whole.len().div_ceil(2), "{path}");
    for bad in ["limit=0", "limit=many", "cursor=zz", "colour=red"] {
        let (status, doc) = call(app, Method::GET, &format!("{path}?{bad}"), key, None).await;
        assert_eq!(status, 400, "{path}?{bad}: {doc}");
    }
}

crate::on_both_backends!(notification_lists_honour_limit_and_cursor);

async fn notification_lists_honour_limit_and_cursor(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for name in ["one", "two", "three"] {
        create_channel(&app, json!({ "type": "email", "name": name, "config": { "recipients": ["ops@example.com"] } })).await;
        let (status, doc) = call(
            &app,
            Method::POST,
            RULES,
            &owner,
            Some(json!({ "name": name, "event": "member.invited", "channel_ids": ["nch_email"] })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    assert_pages_like_the_whole(&app, CHANNELS, &owner).await;
    assert_pages_like_the_whole(&app, RULES, &owner).await;
}
