//! Channels deleted or disabled while a message waits for them: the message never reaches them,
//! whether it waits for a retry or is claimed by the worker and not yet sent.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::notifications::{
    create_channel, delivery, delivery_settled, test_delivery, CHANNELS, RULES, WAIT,
};
use crate::support::{call, Receiver, TestApp};

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
