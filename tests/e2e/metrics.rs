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
        "# TYPE tenantry_db_pool_waits_total counter\ntenantry_db_pool_waits_total ",
        "# TYPE tenantry_db_pool_wait_seconds_total counter\ntenantry_db_pool_wait_seconds_total ",
        "tenantry_delivery_attempts_failed_total ",
        "tenantry_retention_purged_total ",
    ] {
        assert!(text.contains(gauge), "{gauge} missing");
    }
}

on_both_backends!(metrics_report_the_process_and_the_build);

/// The process's own figures (on Linux, where `/proc` tells them) and which build answers; the
/// commit is the checkout's, as `tenantry --version` prints it.
async fn metrics_report_the_process_and_the_build(app: TestApp) {
    let res = app.get("/metrics", Some(app.operator_key())).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    let value = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(|v| v.parse().expect("a number"))
    };
    if cfg!(target_os = "linux") {
        let rss = value("process_resident_memory_bytes").expect("rss");
        assert!(rss > 1_000_000.0, "{rss}");
        assert!(value("process_open_fds").expect("fds") >= 3.0);
        assert!(value("process_cpu_seconds_total").expect("cpu") > 0.0);
        let started = value("process_start_time_seconds").expect("start");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        assert!(
            started <= now + 1.0 && started > now - 600.0,
            "{started} vs {now}"
        );
    }
    let commit = checkout_commit();
    let build = format!(
        r#"tenantry_build_info{{version="{}",commit="{commit}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.lines().any(|l| l == build), "{build} missing:\n{text}");

    let out = app
        .db
        .command(&["--version"])
        .output()
        .await
        .expect("run tenantry");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("tenantry {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}

/// The commit of the checkout the tests build from (`unknown` outside one), as build.rs takes it.
fn checkout_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(crate::support::workspace())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

on_both_backends!(the_access_log_names_the_client_and_the_account);

/// Each request's line names the client's address and the authenticated account (`-` for an
/// anonymous request).
async fn the_access_log_names_the_client_and_the_account(app: TestApp) {
    let account = app.default_account_id().await;
    let owner = app.owner_key().to_owned();
    let res = app
        .client
        .get(app.url("/v2/accounts/settings"))
        .bearer_auth(&owner)
        .header("x-request-id", "access-line-member")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/v2/accounts/settings"))
        .header("x-request-id", "access-line-anonymous")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let log = app.server_log().await;
    let line = |id: &str| -> String {
        log.lines()
            .find(|l| l.contains(id) && l.contains("handled"))
            .unwrap_or_else(|| panic!("no access line for {id}:\n{log}"))
            .to_owned()
    };
    let member = line("access-line-member");
    assert!(member.contains("client=127.0.0.1"), "{member}");
    assert!(member.contains(&format!("account={account}")), "{member}");
    let anonymous = line("access-line-anonymous");
    assert!(anonymous.contains("client=127.0.0.1"), "{anonymous}");
    assert!(anonymous.contains("account=-"), "{anonymous}");
}

/// A token as `openssl rand -base64 32` prints one, for the scraper alone.
const METRICS_TOKEN: &str = "Zx4Jm0Qp7Tn2Wc9Vb1Lr6Yk3Hd8Gf5Sa0Ue2Io7Pw4=";

on_both_backends!(env [("TENANTRY_METRICS_TOKEN", crate::metrics::METRICS_TOKEN)]; the_metrics_token_opens_metrics_and_nothing_else);

/// The error body without what differs between two requests (their ids).
fn without_request_ids(mut v: serde_json::Value) -> serde_json::Value {
    match &mut v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| {
                !k.to_ascii_lowercase()
                    .replace('_', "")
                    .contains("requestid")
            });
            for value in map.values_mut() {
                *value = without_request_ids(value.take());
            }
        }
        serde_json::Value::Array(items) => {
            for value in items.iter_mut() {
                *value = without_request_ids(value.take());
            }
        }
        _ => {}
    }
    v
}

/// A scraper holds a token that reads `/metrics` (the operator key still does too) and is
/// refused everywhere else, exactly as an unknown token is: on `/admin` and on every
/// operation of every account API the document lists.
async fn the_metrics_token_opens_metrics_and_nothing_else(app: TestApp) {
    let res = app.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .expect("text")
        .contains("tenantry_http_requests_total"));
    let res = app.get("/metrics", Some(app.operator_key())).await;
    assert_eq!(res.status(), 200, "the operator key still reads metrics");
    let mut near = METRICS_TOKEN.to_owned();
    near.pop();
    near.push('A');
    for wrong in [near.as_str(), app.owner_key(), "tnt_op_guess"] {
        let res = app.get("/metrics", Some(wrong)).await;
        assert_eq!(res.status(), 401, "{wrong}");
    }

    let account = app.default_account_id().await;
    let guarded: Vec<(String, String)> = crate::support::served_operations(&app)
        .await
        .into_iter()
        .filter(|(_, path, op)| {
            path != "/metrics" && op["security"].as_array().is_some_and(|s| !s.is_empty())
        })
        .map(|(method, path, _)| {
            let path = path
                .replace("{account_name}", "default")
                .replace("{id}", &account)
                .replace("{section}", "billing")
                .replace("{setting_name}", "SECURITY_PREFERENCES")
                .replace("{key}", "theme");
            (method, path)
        })
        .collect();
    assert!(
        guarded.iter().any(|(_, p)| p.starts_with("/admin/"))
            && guarded.iter().any(|(_, p)| p.starts_with("/v2/accounts/"))
            && guarded.iter().any(|(_, p)| p.starts_with("/api/"))
            && guarded.iter().any(|(_, p)| p.starts_with("/accounts/"))
            && guarded.iter().any(|(_, p)| p.starts_with("/tenants/")),
        "{guarded:?}"
    );
    for (method, path) in &guarded {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let body = (method != Method::GET && method != Method::DELETE)
            .then(|| serde_json::json!({ "name": "scraped", "owner_email": "x@scraper.test" }));
        let (status, refused) = call(&app, method.clone(), path, METRICS_TOKEN, body.clone()).await;
        assert_eq!(status, 401, "{method} {path}: {refused}");
        let (_, unknown) = call(&app, method.clone(), path, "tnt_op_unknown", body).await;
        assert_eq!(
            without_request_ids(refused),
            without_request_ids(unknown),
            "{method} {path}: the metrics token is refused like an unknown token"
        );
    }
    let (status, accounts) = call(
        &app,
        Method::GET,
        "/admin/accounts",
        app.operator_key(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        accounts["accounts"].as_array().map(Vec::len),
        Some(1),
        "nothing was created with the metrics token"
    );
}

/// `config check` (and `serve`) refuse a guessable metrics token, and one equal to the
/// operator key (every scraper would be an operator), without printing it.
#[tokio::test]
async fn a_weak_metrics_token_or_the_operator_keys_twin_is_refused() {
    let db = crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite");
    let run = |args: &'static [&'static str], env: Vec<(&'static str, &'static str)>| {
        let mut cmd = db.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        async move {
            let out = cmd.output().await.expect("run tenantry");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let weak = "metrics-secret-from-config";
    for args in [&["config", "check"][..], &["serve"][..]] {
        let (ok, stderr) = run(
            args,
            vec![
                ("TENANTRY_METRICS_TOKEN", weak),
                ("TENANTRY_BIND", "127.0.0.1:0"),
            ],
        )
        .await;
        assert!(!ok, "{args:?}");
        assert!(
            stderr.contains("TENANTRY_METRICS_TOKEN") && stderr.contains("openssl rand -base64 32"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(weak), "the token is shown: {stderr}");
        let (ok, stderr) = run(
            args,
            vec![
                ("TENANTRY_METRICS_TOKEN", METRICS_TOKEN),
                ("TENANTRY_OPERATOR_KEY", METRICS_TOKEN),
                ("TENANTRY_BIND", "127.0.0.1:0"),
            ],
        )
        .await;
        assert!(!ok, "{args:?}");
        assert!(stderr.contains("is the operator key"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains(METRICS_TOKEN),
            "the token is shown: {stderr}"
        );
    }
    let (ok, stderr) = run(
        &["config", "check"],
        vec![("TENANTRY_METRICS_TOKEN", METRICS_TOKEN)],
    )
    .await;
    assert!(ok, "{stderr}");
}
