//! The user & organization API (`/api/...`), the settings catalog (`/accounts/{name}/...`) and
//! tenant settings (`/tenants/{id}/settings`) where they used to depart from their documents
//! (decision 0023).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, webhook_sink, Receiver, TestApp};

const WAIT: Duration = Duration::from_secs(20);

/// The `settings.updated` events the receiver got, as JSON, once there are at least `n`.
async fn settings_events(receiver: &Receiver, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let events: Vec<Value> = receiver
            .received()
            .await
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter(|e| e["type"] == "settings.updated")
            .collect();
        if events.len() >= n {
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} settings.updated events, got {}: {events:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn adding_an_existing_allowlist_block_conflicts_and_entry_changes_emit_events(app: TestApp) {
    let key = app.owner_key().to_owned();
    let receiver = Receiver::start(200, "ok").await;
    webhook_sink(&app, &key, &receiver, "settings.updated").await;

    let path = "/api/settings/ip-whitelist";
    let (status, first) = call(
        &app,
        Method::POST,
        path,
        &key,
        Some(json!({"cidr": "198.51.100.10", "label": "CI runner"})),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let id = first["data"]["id"].as_str().expect("id").to_owned();
    let added = settings_events(&receiver, 1).await;
    assert_eq!(added[0]["data"]["target"], "security", "{added:?}");

    // The same block, spelled as a /32 and with another label: refused, nothing relabelled.
    let (status, err) = call(
        &app,
        Method::POST,
        path,
        &key,
        Some(json!({"cidr": "198.51.100.10/32", "label": "overwritten?"})),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "IP_WHITELIST_ENTRY_EXISTS");
    assert_eq!(err["error"]["details"]["existing_id"], id.as_str());
    assert_eq!(err["error"]["details"]["cidr"], "198.51.100.10/32");
    let (_, list) = call(&app, Method::GET, path, &key, None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["data"][0]["label"], "CI runner");

    let (status, _) = call(&app, Method::DELETE, &format!("{path}/{id}"), &key, None).await;
    assert_eq!(status, 204);
    let events = settings_events(&receiver, 2).await;
    // The refused add emitted nothing: the second event is the removal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(settings_events(&receiver, 2).await.len(), 2, "{events:?}");

    // The organization section through the same API emits too.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"data_residency": "eu"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let events = settings_events(&receiver, 3).await;
    assert_eq!(events[2]["data"]["target"], "organization", "{events:?}");
}

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
]; adding_an_existing_allowlist_block_conflicts_and_entry_changes_emit_events);
