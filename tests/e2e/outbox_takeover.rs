//! Two `tenantry serve` processes on one PostgreSQL share an outbox backlog; one is killed
//! (SIGKILL) in the middle of a delivery, and the other delivers everything it had claimed
//! within the lease bound (`LEASE_SECS` after the death, plus a poll), the killed attempt
//! showing in the delivery log as interrupted.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, webhook_sink, Backend, Receiver, TestApp, TestDb};

const ENV: [(&str, &str); 4] = [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
];
const EVENTS: usize = 40;
/// `tenantry_notifications::LEASE_SECS`: how long a dead instance's claims stay its own.
const LEASE_SECS: u64 = 10;

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
#[tokio::test]
async fn a_killed_instances_claims_are_delivered_by_the_other_within_the_lease_bound() {
    let Some(db) = TestDb::create(Backend::Postgres) else {
        return;
    };
    let second_db = db.sibling();
    // The first delivery is answered only after 60 s: its sender is mid-send when killed.
    let receiver = Receiver::holding_first(Duration::from_secs(60)).await;
    let a = TestApp::start(db, &ENV).await;
    let owner = a.owner_key().to_owned();
    webhook_sink(&a, &owner, &receiver, "backlog.item").await;
    for i in 0..EVENTS {
        let (status, doc) = call(
            &a,
            Method::POST,
            "/api/notifications/events",
            &owner,
            Some(json!({ "event": "backlog.item", "data": { "item": i } })),
        )
        .await;
        assert_eq!(status, 202, "{doc}");
    }
    // Only the first instance runs yet: the held request is its own.
    wait_until("a first delivery", Duration::from_secs(20), || async {
        !receiver.received().await.is_empty()
    })
    .await;
    let held_since = Instant::now();
    let held = receiver.received().await[0]
        .header("webhook-id")
        .expect("webhook-id")
        .to_owned();

    // The second instance shares the backlog while the first is stuck on its delivery.
    let b = TestApp::start(second_db, &ENV).await;
    wait_until(
        "the second instance delivering",
        Duration::from_secs(20),
        || async { receiver.received().await.len() >= 3 },
    )
    .await;
    let db = a.stop().await;
    let killed = Instant::now();
    assert!(
        killed - held_since < Duration::from_secs(14),
        "the kill came after the transport's 15 s timeout: the attempt was not in flight"
    );
    let delivered_before = receiver.received().await.len();
    assert!(
        delivered_before < EVENTS,
        "everything was delivered before the kill; nothing was taken over"
    );

    let ids_received = || async {
        receiver
            .received()
            .await
            .iter()
            .filter_map(|r| r.header("webhook-id").map(str::to_owned))
            .fold(HashMap::<String, usize>::new(), |mut seen, id| {
                *seen.entry(id).or_default() += 1;
                seen
            })
    };
    let bound = Duration::from_secs(LEASE_SECS + 10);
    // Every event, and the interrupted one a second time: the other events may all arrive
    // before its lease ends, and the interrupted one is sent again only then.
    wait_until("every event delivered after the kill", bound, || async {
        let ids = ids_received().await;
        ids.len() == EVENTS && ids.get(&held).copied().unwrap_or(0) >= 2
    })
    .await;
    eprintln!(
        "{delivered_before} delivered before the kill, the rest {:?} after it",
        killed.elapsed()
    );
    let repeated: HashSet<String> = ids_received()
        .await
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        repeated,
        HashSet::from([held.clone()]),
        "only the interrupted delivery was sent twice"
    );

    // The delivery log shows the killed attempt, then the one that delivered.
    let (status, log) = call(
        &b,
        Method::GET,
        "/api/notifications/deliveries?limit=200",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let deliveries = log["data"].as_array().expect("list");
    assert_eq!(deliveries.len(), EVENTS, "{log}");
    assert!(
        deliveries.iter().all(|d| d["status"] == "delivered"),
        "{log}"
    );
    let taken_over: &Value = deliveries
        .iter()
        .find(|d| d["event_id"] == held.as_str())
        .expect("the interrupted delivery");
    let attempts = taken_over["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2, "{taken_over}");
    assert_eq!(
        (&attempts[0]["attempt"], &attempts[0]["state"]),
        (&json!(1), &json!("interrupted")),
        "{taken_over}"
    );
    assert_eq!(attempts[0]["response_code"], Value::Null);
    assert_eq!(
        (&attempts[1]["attempt"], &attempts[1]["state"]),
        (&json!(2), &json!("completed")),
        "{taken_over}"
    );
    assert_eq!(attempts[1]["response_code"], 200);
    for d in deliveries.iter().filter(|d| d["event_id"] != held.as_str()) {
        assert!(
            d["attempts"]
                .as_array()
                .expect("attempts")
                .iter()
                .all(|a| a["state"] == "completed"),
            "{d}"
        );
    }
    drop((b, db));
}
