//! `GET /metrics`: Prometheus text for the operator, labelled by route pattern (never by ids).

use reqwest::Method;

use crate::on_both_backends;
use crate::support::{call, TestApp};

on_both_backends!(metrics_count_requests_by_route_pattern);

async fn metrics_count_requests_by_route_pattern(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for _ in 0..3 {
        let (status, _) = call(&app, Method::GET, "/v2/accounts/settings", &owner, None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/team/members/usr_nonexistent123",
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings",
        "tnt_live_bogus",
        None,
    )
    .await;
    assert_eq!(status, 401);

    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 401, "operators only");
    let res = app.get("/metrics", Some(&owner)).await;
    assert_eq!(res.status(), 401, "an account key is not the operator key");
    let res = app.get("/metrics", Some(app.operator_key())).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/plain"));
    let text = res.text().await.expect("text");
    assert!(text.contains(r#"tenantry_http_requests_total{method="GET",route="/v2/accounts/settings",status="200"} 3"#), "{text}");
    assert!(
        text.contains(r#"route="/v2/accounts/team/members/{id}",status="404"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("usr_nonexistent123"),
        "ids never become labels"
    );
    assert!(
        text.contains(r#"tenantry_errors_total{code="MEMBER_NOT_FOUND"} 1"#),
        "{text}"
    );
    assert!(text.contains("tenantry_auth_failures_total "), "{text}");
    assert!(text.contains(r#"tenantry_http_request_duration_seconds_bucket{method="GET",route="/v2/accounts/settings",status="200",le="+Inf"} 3"#), "{text}");
    for gauge in [
        "tenantry_outbox_depth ",
        "tenantry_db_pool_connections ",
        "tenantry_delivery_attempts_failed_total ",
        "tenantry_retention_purged_total ",
    ] {
        assert!(text.contains(gauge), "{gauge} missing");
    }
}
