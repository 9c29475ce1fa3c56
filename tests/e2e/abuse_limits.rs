//! Abuse limits: per-address and per-credential rate limits answer 429 with `Retry-After` in
//! the dialect's format; a client too slow to send its request head is cut off.

use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "60"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "30"),
    ("TENANTRY_CLIENT_TIMEOUT_MS", "500"),
]; rate_limits_answer_429_with_retry_after, slow_clients_are_cut_off);

async fn rate_limits_answer_429_with_retry_after(app: TestApp) {
    // Per key: a burst of 5 (30 a minute), then 429 until a token comes back.
    let owner = app.owner_key().to_owned();
    for i in 0..5 {
        let (status, doc) = call(&app, Method::GET, "/v2/accounts/settings", &owner, None).await;
        assert_eq!(status, 200, "request {i}: {doc}");
    }
    let res = app.get("/v2/accounts/settings", Some(&owner)).await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let doc: serde_json::Value = res.json().await.expect("json");
    assert_eq!(doc["error"], "RATE_LIMITED");
    // Seed 03's dialect for its paths.
    let (status, doc) = call(&app, Method::GET, "/api/user/profile", &owner, None).await;
    assert_eq!(status, 429);
    assert_eq!(doc["error"]["code"], "RATE_LIMITED");

    // A forged key with the owner's id but not its secret spends only the address's budget, and
    // the address's own limit (burst 10, with 7 spent) then stops everyone from it.
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings",
        "tnt_live_bogus",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings",
        "tnt_live_bogus",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let mut limited = false;
    for _ in 0..3 {
        let (status, _) = call(
            &app,
            Method::GET,
            "/v2/accounts/settings",
            "tnt_live_bogus",
            None,
        )
        .await;
        limited |= status == 429;
    }
    assert!(limited, "the address runs out after its burst");
    // Health probes are never limited.
    assert_eq!(app.get("/healthz", None).await.status(), 200);
}

async fn slow_clients_are_cut_off(app: TestApp) {
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    // Half a request head, then nothing.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let started = std::time::Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a silent client for 10 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

on_both_backends!(oversized_and_deeply_nested_requests_are_refused);

/// A body nested deeper than the JSON parser's recursion limit (128) is a 400 in the dialect's
/// format, not a stack overflow; a request with more headers than the HTTP parser takes (96) or
/// a head larger than its buffer is refused before any handler runs; the server keeps serving.
async fn oversized_and_deeply_nested_requests_are_refused(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let body = format!(r#"{{"theme": {deep}}}"#);
    let res = app
        .client
        .put(app.url("/v2/accounts/settings/preferences"))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let doc: serde_json::Value = res.json().await.expect("json");
    assert_eq!(doc["error"], "INVALID_JSON", "{doc}");

    let mut req = app
        .client
        .get(app.url("/v2/accounts/settings"))
        .bearer_auth(&owner);
    for i in 0..120 {
        req = req.header(format!("x-padding-{i}"), "x");
    }
    let status = req.send().await.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(400 | 431) | Err(_)),
        "too many headers must be refused: {status:?}"
    );
    let huge = "x".repeat(64 * 1024);
    let status = app
        .client
        .get(app.url("/v2/accounts/settings"))
        .bearer_auth(&owner)
        .header("x-huge", huge)
        .send()
        .await
        .map(|r| r.status().as_u16());
    // actix's parser may close the connection first (its head buffer is 32 KiB); either way
    // the request is refused. Below that buffer, our own limit answers in the dialect's format.
    assert!(
        matches!(status, Ok(431) | Err(_)),
        "an oversized head must be refused: {status:?}"
    );
    let res = app
        .client
        .get(app.url("/api/user/profile"))
        .bearer_auth(&owner)
        .header("x-large", "y".repeat(20 * 1024))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 431);
    let doc: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        doc["error"]["code"], "HEADERS_TOO_LARGE",
        "in the dialect's format: {doc}"
    );
    let (status, _) = call(&app, Method::GET, "/v2/accounts/settings", &owner, None).await;
    assert_eq!(status, 200, "the server still serves");
}
