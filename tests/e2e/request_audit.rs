//! The audit of API requests (`security.audit.log_api_requests`, on by default): every
//! authenticated request becomes an `api.request` entry (method and path, status, address,
//! request id), written in batches off the request path; turning the policy off stops them; a
//! graceful shutdown writes what was queued.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(api_requests_are_audited_per_policy);

async fn api_request_entries(app: &TestApp, key: &str) -> Vec<Value> {
    let (status, doc) = call(
        app,
        Method::GET,
        "/v2/accounts/audit-logs?action=api.request&limit=100",
        key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["audit_logs"].as_array().cloned().unwrap_or_default()
}

/// Waits until a request of another account (whose policy records requests) is written: the
/// writer takes records in order, so everything queued before this sentinel is written too.
/// Absence is then shown by the sentinel's presence, never by sleeping.
async fn flush_with_sentinel(app: &TestApp, sentinel_key: &str) {
    let before = api_request_entries(app, sentinel_key).await.len();
    let (status, _) = call(app, Method::GET, "/api/user/profile", sentinel_key, None).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while api_request_entries(app, sentinel_key).await.len() <= before {
        assert!(Instant::now() < deadline, "the sentinel was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn api_requests_are_audited_per_policy(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for _ in 0..3 {
        let (status, _) = call(&app, Method::GET, "/api/user/profile", &owner, None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/members/usr_nonexistent1",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        Method::GET,
        "/api/user/profile",
        "tnt_live_bogus",
        None,
    )
    .await;
    assert_eq!(status, 401, "refused requests are not attributed to anyone");

    // Written in batches: visible within a flush interval or so.
    let deadline = Instant::now() + Duration::from_secs(10);
    let entries = loop {
        let entries = api_request_entries(&app, &owner).await;
        let profile = entries
            .iter()
            .filter(|e| e["target"] == "GET /api/user/profile")
            .count();
        if profile >= 3
            && entries
                .iter()
                .any(|e| e["target"] == "GET /v2/accounts/team/members/usr_nonexistent1")
        {
            break entries;
        }
        assert!(
            Instant::now() < deadline,
            "request audit entries missing: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing = entries
        .iter()
        .find(|e| e["target"] == "GET /v2/accounts/team/members/usr_nonexistent1")
        .expect("the 404");
    assert_eq!(missing["details"]["status"], 404);
    assert_eq!(missing["ip"], "127.0.0.1");
    assert!(missing["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("usr_")));
    let ids = app.query_texts("SELECT request_id AS t FROM audit_log WHERE action = 'api.request' AND request_id IS NOT NULL");
    assert!(!ids.is_empty(), "each entry carries its request id");

    // Policy off: no more entries (after the write that turns it off).
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &owner,
        Some(json!({ "audit": { "log_api_requests": false } })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let sentinel = app
        .create_account("sentinel", "sentinel@example.test")
        .await["owner_api_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let account = app.default_account_id().await;
    let count = |app: &TestApp| {
        app.query_texts(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_log WHERE action = 'api.request' AND account_id = '{account}'"
        ))
    };
    // What was queued before the policy changed is written first.
    flush_with_sentinel(&app, &sentinel).await;
    let before = count(&app);
    for _ in 0..5 {
        call(&app, Method::GET, "/api/user/profile", &owner, None).await;
    }
    flush_with_sentinel(&app, &sentinel).await;
    assert_eq!(
        count(&app),
        before,
        "nothing recorded while the policy is off"
    );

    // On again; a graceful stop (SIGTERM) writes what was queued.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &owner,
        Some(json!({ "audit": { "log_api_requests": true } })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let before: u64 = count(&app)[0].parse().expect("count");
    for _ in 0..20 {
        call(&app, Method::GET, "/api/user/profile", &owner, None).await;
    }
    let mut app = app;
    assert!(app.terminate().await.success());
    let after: u64 = count(&app)[0].parse().expect("count");
    assert!(
        after >= before + 20,
        "queued records written at shutdown: {before} -> {after}"
    );
}

/// A link's token never reaches the request audit, which the account's admins read: a member
/// who sends an invitation link with their key (plain or percent-encoded) leaves the path with
/// the token redacted.
async fn link_tokens_never_reach_the_request_audit(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for token in ["tnt_inv_SECRETPART", "%74nt_inv_SECRETPART"] {
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("/v2/invitations/{token}/accept"),
            &owner,
            Some(serde_json::json!({})),
        )
        .await;
        assert!(status >= 400, "{token}: {status}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let paths: Vec<String> = api_request_entries(&app, &owner)
            .await
            .iter()
            .map(|e| e.to_string())
            .filter(|e| e.contains("/v2/invitations/"))
            .collect();
        if paths.len() >= 2 {
            assert!(paths.iter().all(|p| !p.contains("SECRETPART")), "{paths:?}");
            assert!(paths.iter().all(|p| p.contains("[redacted]")), "{paths:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the requests were not audited: {paths:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends!(link_tokens_never_reach_the_request_audit);
