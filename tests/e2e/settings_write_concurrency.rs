//! Account settings writes that race: `If-Match` prevents lost updates, and concurrent writes
//! to different fields of one section all land.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::settings_write::body;
use crate::support::TestApp;

on_both_backends!(
    if_match_prevents_lost_updates,
    concurrent_writes_to_different_fields_all_land,
);

async fn if_match_prevents_lost_updates(app: TestApp) {
    let key = app.owner_key().to_owned();
    let res = app.get("/v2/accounts/settings/security", Some(&key)).await;
    let etag = res
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    let put = |value: u32| {
        let req = app
            .client
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&key)
            .header("if-match", &etag)
            .json(&json!({"api_access": {"max_api_keys": value}}));
        async move { req.send().await.expect("request").status().as_u16() }
    };
    let (a, b) = tokio::join!(put(11), put(12));
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);

    let (status, err) = body(
        app.client
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&key)
            .header("if-match", &etag)
            .json(&json!({}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(err["error"], "VERSION_CONFLICT");
    assert_eq!(err["details"]["currentVersion"], 2);

    // The whole-document ETag works for any section too.
    let res = app.get("/v2/accounts/settings", Some(&key)).await;
    let doc_etag = res
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_owned();
    let res = app
        .client
        .put(app.url("/v2/accounts/settings/billing"))
        .bearer_auth(&key)
        .header("if-match", &doc_etag)
        .json(&json!({"currency": "JPY"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .put(app.url("/v2/accounts/settings/billing"))
        .bearer_auth(&key)
        .header("if-match", "garbage")
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
}

/// 50 concurrent writers, each changing a different field, without If-Match: every change lands.
async fn concurrent_writes_to_different_fields_all_land(app: TestApp) {
    let key = app.owner_key().to_owned();
    let writes: Vec<(&str, Value, &str, Value)> = vec![
        (
            "notifications",
            json!({"email": {"enabled": false}}),
            "/notifications/email/enabled",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"cost_alerts": false}}}),
            "/notifications/email/alerts/cost_alerts",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"usage_warnings": false}}}),
            "/notifications/email/alerts/usage_warnings",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"security_notifications": false}}}),
            "/notifications/email/alerts/security_notifications",
            json!(false),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"system_updates": true}}}),
            "/notifications/email/alerts/system_updates",
            json!(true),
        ),
        (
            "notifications",
            json!({"email": {"alerts": {"marketing_emails": true}}}),
            "/notifications/email/alerts/marketing_emails",
            json!(true),
        ),
        (
            "notifications",
            json!({"email": {"frequency": "weekly_digest"}}),
            "/notifications/email/frequency",
            json!("weekly_digest"),
        ),
        (
            "notifications",
            json!({"email": {"email": "ops@example.com"}}),
            "/notifications/email/email",
            json!("ops@example.com"),
        ),
        (
            "notifications",
            json!({"slack": {"channel": "#ops"}}),
            "/notifications/slack/channel",
            json!("#ops"),
        ),
        (
            "notifications",
            json!({"slack": {"webhook_url": "https://hooks.slack.com/services/T1/B1/X1"}}),
            "/notifications/slack/webhook_url",
            json!({"configured": true}),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"endpoint_failures": false}}}),
            "/notifications/slack/alerts/endpoint_failures",
            json!(false),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"cost_thresholds": false}}}),
            "/notifications/slack/alerts/cost_thresholds",
            json!(false),
        ),
        (
            "notifications",
            json!({"slack": {"alerts": {"cluster_events": false}}}),
            "/notifications/slack/alerts/cluster_events",
            json!(false),
        ),
        (
            "notifications",
            json!({"webhook": {"url": "https://hooks.example.com/x"}}),
            "/notifications/webhook/url",
            json!("https://hooks.example.com/x"),
        ),
        (
            "notifications",
            json!({"webhook": {"events": ["cluster.event"]}}),
            "/notifications/webhook/events",
            json!(["cluster.event"]),
        ),
        (
            "notifications",
            json!({"webhook": {"secret": "s3cr3t-value"}}),
            "/notifications/webhook/secret",
            json!({"configured": true}),
        ),
        (
            "billing",
            json!({"currency": "GBP"}),
            "/billing/currency",
            json!("GBP"),
        ),
        (
            "billing",
            json!({"timezone": "Europe/Paris"}),
            "/billing/timezone",
            json!("Europe/Paris"),
        ),
        (
            "billing",
            json!({"billing_address": {"name": "N"}}),
            "/billing/billing_address/name",
            json!("N"),
        ),
        (
            "billing",
            json!({"billing_address": {"company": "C"}}),
            "/billing/billing_address/company",
            json!("C"),
        ),
        (
            "billing",
            json!({"billing_address": {"address": "A"}}),
            "/billing/billing_address/address",
            json!("A"),
        ),
        (
            "billing",
            json!({"billing_address": {"city": "Ci"}}),
            "/billing/billing_address/city",
            json!("Ci"),
        ),
        (
            "billing",
            json!({"billing_address": {"state": "S"}}),
            "/billing/billing_address/state",
            json!("S"),
        ),
        (
            "billing",
            json!({"billing_address": {"zip": "Z"}}),
            "/billing/billing_address/zip",
            json!("Z"),
        ),
        (
            "billing",
            json!({"billing_address": {"country": "FR"}}),
            "/billing/billing_address/country",
            json!("FR"),
        ),
        (
            "billing",
            json!({"cost_alerts": [{"threshold": 5, "period": "daily"}]}),
            "/billing/cost_alerts/0/threshold",
            json!(5.0),
        ),
        (
            "security",
            json!({"two_factor": {"enabled": true}}),
            "/security/two_factor/enabled",
            json!(true),
        ),
        (
            "security",
            json!({"two_factor": {"method": "totp"}}),
            "/security/two_factor/method",
            json!("totp"),
        ),
        (
            "security",
            json!({"api_access": {"max_api_keys": 7}}),
            "/security/api_access/max_api_keys",
            json!(7),
        ),
        (
            "security",
            json!({"api_access": {"ip_whitelist": ["10.1.0.0/16"]}}),
            "/security/api_access/ip_whitelist",
            json!(["10.1.0.0/16"]),
        ),
        (
            "security",
            json!({"session": {"timeout": 12}}),
            "/security/session/timeout",
            json!(12),
        ),
        (
            "security",
            json!({"session": {"require_reauth_for_sensitive": false}}),
            "/security/session/require_reauth_for_sensitive",
            json!(false),
        ),
        (
            "security",
            json!({"session": {"concurrent_sessions": 9}}),
            "/security/session/concurrent_sessions",
            json!(9),
        ),
        (
            "security",
            json!({"audit": {"log_api_requests": false}}),
            "/security/audit/log_api_requests",
            json!(false),
        ),
        (
            "security",
            json!({"audit": {"log_resource_access": false}}),
            "/security/audit/log_resource_access",
            json!(false),
        ),
        (
            "security",
            json!({"audit": {"retention_days": 200}}),
            "/security/audit/retention_days",
            json!(200),
        ),
        (
            "integrations",
            json!({"github": {"enabled": true}}),
            "/integrations/github/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"github": {"username": "octo"}}),
            "/integrations/github/username",
            json!("octo"),
        ),
        (
            "integrations",
            json!({"github": {"repositories": ["octo/repo"]}}),
            "/integrations/github/repositories",
            json!(["octo/repo"]),
        ),
        (
            "integrations",
            json!({"docker": {"enabled": true}}),
            "/integrations/docker/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"docker": {"registries": [{"url": "ghcr.io"}]}}),
            "/integrations/docker/registries/0/url",
            json!("ghcr.io"),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"enabled": true}}}),
            "/integrations/monitoring/grafana/enabled",
            json!(true),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"url": "https://grafana.example.com"}}}),
            "/integrations/monitoring/grafana/url",
            json!("https://grafana.example.com/"),
        ),
        (
            "integrations",
            json!({"monitoring": {"grafana": {"dashboard_id": "dash-1"}}}),
            "/integrations/monitoring/grafana/dashboard_id",
            json!("dash-1"),
        ),
        (
            "preferences",
            json!({"timezone": "Asia/Tokyo"}),
            "/preferences/timezone",
            json!("Asia/Tokyo"),
        ),
        (
            "preferences",
            json!({"language": "de"}),
            "/preferences/language",
            json!("de"),
        ),
        (
            "preferences",
            json!({"theme": "dark"}),
            "/preferences/theme",
            json!("dark"),
        ),
        (
            "preferences",
            json!({"date_format": "DD/MM/YYYY"}),
            "/preferences/date_format",
            json!("DD/MM/YYYY"),
        ),
        (
            "preferences",
            json!({"number_format": "1 234,56"}),
            "/preferences/number_format",
            json!("1 234,56"),
        ),
        (
            "preferences",
            json!({"default_region": "eu-west-1"}),
            "/preferences/default_region",
            json!("eu-west-1"),
        ),
    ];
    assert_eq!(writes.len(), 50);
    let results = join_vec(
        writes
            .iter()
            .map(|(section, patch, _, _)| {
                let req = app
                    .client
                    .put(app.url(&format!("/v2/accounts/settings/{section}")))
                    .bearer_auth(&key)
                    .json(patch);
                Box::pin(async move { req.send().await.expect("request").status().as_u16() })
            })
            .collect(),
    )
    .await;
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    let doc: Value = app
        .get("/v2/accounts/settings", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    for (_, _, pointer, expected) in &writes {
        assert_eq!(doc.pointer(pointer), Some(expected), "{pointer}");
    }
}

/// Drives all futures concurrently on this task (no extra dependency for `join_all`).
async fn join_vec<F: std::future::Future<Output = u16> + Unpin>(mut futures: Vec<F>) -> Vec<u16> {
    let mut results = vec![None; futures.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futures.iter_mut().enumerate() {
            if results[i].is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => results[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(|r| r.unwrap_or(0)).collect()
}
