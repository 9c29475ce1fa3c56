//! Two `tenantry serve` processes on one PostgreSQL database: no lost update between them, an
//! allowlist change made through one is enforced by the other within the cache bound (2 s),
//! the outbox is drained once between them, and both purging the same expired audit entries is
//! harmless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::support::{call, webhook_sink, Backend, Receiver, TestApp, TestDb};

const ENV: [(&str, &str); 5] = [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
    ("TENANTRY_PURGE_INTERVAL", "1"),
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
];

#[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
#[tokio::test]
async fn two_instances_share_one_postgresql() {
    let Some(db) = TestDb::create(Backend::Postgres) else {
        return;
    };
    let second_db = db.sibling();
    let a = TestApp::start(db, &ENV).await;
    let b = TestApp::start(second_db, &ENV).await;
    let owner = a.owner_key().to_owned();

    // 1. Concurrent If-Match writers on both instances: exactly one wins.
    let res = a.get("/v2/accounts/settings/security", Some(&owner)).await;
    let etag = res.headers()["etag"].to_str().expect("ascii").to_owned();
    let puts = (0..10).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let req = app
            .client
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&owner)
            .header("if-match", &etag)
            .json(&json!({ "api_access": { "max_api_keys": 30 + i } }));
        tokio::spawn(async move { (i, req.send().await.expect("request").status().as_u16()) })
    });
    let mut results = Vec::new();
    for handle in puts.collect::<Vec<_>>() {
        results.push(handle.await.expect("join"));
    }
    let winners: Vec<_> = results.iter().filter(|(_, s)| *s == 200).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(_, s)| *s == 200 || *s == 412),
        "{results:?}"
    );
    let (_, doc) = call(
        &b,
        Method::GET,
        "/v2/accounts/settings/security",
        &owner,
        None,
    )
    .await;
    assert_eq!(
        doc["api_access"]["max_api_keys"],
        30 + winners[0].0,
        "the winner's value, read through the other instance"
    );

    // 2. The outbox is drained once between the two workers.
    let receiver = Receiver::start(200, "ok").await;
    webhook_sink(&a, &owner, &receiver, "shared.item.done").await;
    webhook_sink(&a, &owner, &receiver, "shared.sentinel").await;
    const EVENTS: usize = 200;
    for i in 0..EVENTS {
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, doc) = call(
            app,
            Method::POST,
            "/api/notifications/events",
            &owner,
            Some(json!({ "event": "shared.item.done", "data": { "item": i } })),
        )
        .await;
        assert_eq!(status, 202, "{doc}");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = receiver.received().await.len();
        if n >= EVENTS {
            break;
        }
        assert!(Instant::now() < deadline, "{n} of {EVENTS} delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A sentinel through each instance, sent after the 200: once both arrived, each worker has
    // polled past the 200, so a second copy of any of them would have arrived too.
    for app in [&a, &b] {
        let (status, doc) = call(
            app,
            Method::POST,
            "/api/notifications/events",
            &owner,
            Some(json!({ "event": "shared.sentinel", "data": {} })),
        )
        .await;
        assert_eq!(status, 202, "{doc}");
    }
    let is_sentinel = |r: &crate::support::Received| r.body.contains("shared.sentinel");
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver
        .received()
        .await
        .iter()
        .filter(|r| is_sentinel(r))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the sentinels never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for r in receiver.received().await.iter().filter(|r| !is_sentinel(r)) {
        *per_id
            .entry(r.header("webhook-id").expect("webhook-id").to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(per_id.len(), EVENTS);
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");

    // 3. Both instances purge the same expired audit entries: all go, nothing else does, and
    //    neither reports an error.
    let account = a.default_account_id().await;
    let (status, doc) = call(
        &a,
        Method::PUT,
        "/api/settings/log-retention",
        &owner,
        Some(json!({ "audit_logs_days": 30 })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let old = (chrono::Utc::now() - chrono::Duration::days(100)).timestamp_micros();
    let rows: Vec<String> = (0..500)
        .map(|i| {
            format!(
                "('aud_old{i:05}', '{account}', 'test', 'test.old', {})",
                old + i
            )
        })
        .collect();
    a.db.execute(&format!(
        "INSERT INTO audit_log (id, account_id, actor, action, created_at) VALUES {}",
        rows.join(", ")
    ));
    let recent_before = a.query_texts(
        "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_log WHERE action <> 'test.old'",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = a.query_texts(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_log WHERE action = 'test.old'",
        );
        if left == ["0"] {
            break;
        }
        assert!(Instant::now() < deadline, "{left:?} expired entries left");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recent_after = a.query_texts("SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_log WHERE action <> 'test.old' AND action <> 'audit.purged'");
    assert!(
        recent_after.first().and_then(|n| n.parse::<u64>().ok())
            >= recent_before.first().and_then(|n| n.parse::<u64>().ok()),
        "entries inside the retention were kept: {recent_before:?} -> {recent_after:?}"
    );

    // 4. An allowlist enforced through one instance applies on the other within the bound.
    let (_, doc) = call(&b, Method::GET, "/v2/accounts/settings", &owner, None).await;
    assert!(
        doc.get("security").is_some(),
        "b serves (and caches) the key before the change"
    );
    let (status, doc) = call(
        &a,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({ "cidr": "10.0.0.0/8" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    // Switched on from the one address the list admits (no override of the lockout guard).
    let (status, doc) = call(
        &a,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({ "cidr": "127.0.0.2/32" })),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let res = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client")
        .post(a.url("/api/settings/ip-whitelist/toggle"))
        .bearer_auth(&owner)
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let changed = Instant::now();
    loop {
        let (status, _) = call(&b, Method::GET, "/v2/accounts/settings", &owner, None).await;
        if status == 403 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            changed.elapsed() < Duration::from_secs(4),
            "the other instance still allows the caller after {:?}",
            changed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "allowlist enforced by the other instance after {:?} (bound: 2 s cache)",
        changed.elapsed()
    );

    let log = a.server_log().await;
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "errors logged by the instances:\n{}",
        errors.join("\n")
    );
    drop(b);
}
