//! The change feed in the running server (decision 0047): it follows what other processes
//! write (here the command line), reports how fresh the feed is in `/metrics`, and a key revoked
//! from the command line is refused within the 2 s bound.

use std::time::{Duration, Instant};

use reqwest::Method;

use crate::on_both_backends;
use crate::support::{call, TestApp};

/// `tenantry_cache_feed_age_seconds` from `/metrics`.
async fn feed_age(app: &TestApp) -> f64 {
    let res = app.get("/metrics", Some(app.operator_key())).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let line = text
        .lines()
        .find(|l| l.starts_with("tenantry_cache_feed_age_seconds "))
        .unwrap_or_else(|| panic!("no feed age in {text}"));
    line.rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

on_both_backends!(the_server_follows_the_change_feed_and_applies_the_clis_writes);

async fn the_server_follows_the_change_feed_and_applies_the_clis_writes(app: TestApp) {
    // Followed: confirmed within a poll or two of now, over several scrapes.
    let start = Instant::now();
    while feed_age(&app).await >= 1.0 {
        assert!(start.elapsed() < Duration::from_secs(5), "never followed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let age = feed_age(&app).await;
    assert!(age < 1.0, "the feed went stale: {age}");

    // A named operator key made and revoked by another process (the command line).
    let out = app
        .db
        .command(&["operators", "create", "--name", "feed"])
        .output()
        .await
        .expect("run tenantry");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
    };
    let (id, key) = (field("key id:"), field("operator key:"));
    let (status, _) = call(&app, Method::GET, "/admin/accounts", &key, None).await;
    assert_eq!(status, 200);
    let out = app
        .db
        .command(&["operators", "revoke", &id])
        .output()
        .await
        .expect("run tenantry");
    assert!(out.status.success());
    let revoked = Instant::now();
    loop {
        let (status, _) = call(&app, Method::GET, "/admin/accounts", &key, None).await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked.elapsed() < Duration::from_secs(2),
            "still accepted after {:?}",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
