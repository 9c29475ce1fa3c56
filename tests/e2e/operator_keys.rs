//! Named operator keys (`tenantry operators ...`): each opens `/admin` like the bootstrap key,
//! is listed without its secret, and stops working when rotated or revoked, on a running server
//! within the 2 s cache bound; the commands are audited in the instance's own log.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, TestApp};

/// Runs the binary on the app's database; (success, stdout, stderr).
async fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = app.db.command(args).output().await.expect("run tenantry");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The id and the secret `operators create|rotate` printed.
fn printed_key(stdout: &str) -> (String, String) {
    let field = |label: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
    };
    (field("key id:"), field("operator key:"))
}

/// The error body without the request's id.
fn refusal(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
        error.remove("requestId");
        error.remove("request_id");
    }
    if let Some(map) = body.as_object_mut() {
        map.remove("requestId");
        map.remove("request_id");
    }
    body
}

/// Polls `GET /admin/accounts` with `key` until it is refused; how long that took.
async fn refused_within(app: &TestApp, key: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let (status, _) = call(app, Method::GET, "/admin/accounts", key, None).await;
        if status == 401 {
            return start.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            start.elapsed() < limit,
            "still accepted after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

crate::on_both_backends!(named_operator_keys_open_admin_until_rotated_or_revoked);

async fn named_operator_keys_open_admin_until_rotated_or_revoked(app: TestApp) {
    let (ok, stdout, stderr) = cli(&app, &["operators", "create", "--name", "ci-deploy"]).await;
    assert!(ok, "{stderr}");
    let (ci_id, ci_key) = printed_key(&stdout);
    assert!(ci_id.starts_with("opk_"), "{ci_id}");
    assert!(ci_key.starts_with("tnt_opk_"), "{ci_key}");
    let (ok, stdout, stderr) = cli(&app, &["operators", "create", "--name", "alice"]).await;
    assert!(ok, "{stderr}");
    let (alice_id, alice_key) = printed_key(&stdout);

    // Each opens /admin as the bootstrap key does, the bootstrap key included.
    for key in [ci_key.as_str(), alice_key.as_str(), app.operator_key()] {
        let (status, body) = call(&app, Method::GET, "/admin/accounts", key, None).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = call(
        &app,
        Method::POST,
        "/admin/accounts",
        &ci_key,
        Some(json!({ "name": "by-ci", "owner_email": "owner@by-ci.test" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Never stored: neither the secret nor the token is in the database, only a hash.
    let stored = app.query_texts("SELECT secret_hash AS t FROM operator_keys");
    assert_eq!(stored.len(), 2);
    for key in [&ci_key, &alice_key] {
        let secret = key.rsplit('_').next().expect("secret");
        assert!(
            stored.iter().all(|h| !h.contains(secret)),
            "a secret is stored"
        );
    }

    // Listed by id and name, with its last use; never with a secret.
    let (ok, list, stderr) = cli(&app, &["operators", "list"]).await;
    assert!(ok, "{stderr}");
    let row = |list: &str, id: &str| -> Vec<String> {
        list.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed: {list}"))
            .split('\t')
            .map(str::to_owned)
            .collect()
    };
    let ci_row = row(&list, &ci_id);
    assert_eq!(ci_row[1], "ci-deploy");
    assert_ne!(ci_row[3], "-", "the use is recorded: {list}");
    assert_eq!(ci_row[4], "-", "not revoked: {list}");
    for key in [&ci_key, &alice_key] {
        let secret = key.rsplit('_').next().expect("secret");
        assert!(!list.contains(secret), "a secret is listed: {list}");
    }

    // An unknown key's refusal, as the admin API words it.
    let (_, unknown) = call(
        &app,
        Method::GET,
        "/admin/accounts",
        &format!("tnt_opk_{}_x", &ci_id[4..]),
        None,
    )
    .await;

    // Rotated: the old secret stops working (on this running server within 2 s), the new works.
    let (ok, stdout, stderr) = cli(&app, &["operators", "rotate", &ci_id]).await;
    assert!(ok, "{stderr}");
    let (rotated_id, rotated_key) = printed_key(&stdout);
    assert_eq!(rotated_id, ci_id, "the key keeps its id");
    assert_ne!(rotated_key, ci_key);
    let took = refused_within(&app, &ci_key, Duration::from_secs(4)).await;
    assert!(
        took <= Duration::from_millis(2600),
        "refused after {took:?}"
    );
    let (status, old) = call(&app, Method::GET, "/admin/accounts", &ci_key, None).await;
    assert_eq!(status, 401);
    assert_eq!(refusal(&old), refusal(&unknown), "refused like any bad key");
    let (status, _) = call(&app, Method::GET, "/admin/accounts", &rotated_key, None).await;
    assert_eq!(status, 200);

    // Revoked: refused within 2 s; the other named key and the bootstrap key are untouched.
    let (ok, _, stderr) = cli(&app, &["operators", "revoke", &alice_id]).await;
    assert!(ok, "{stderr}");
    let took = refused_within(&app, &alice_key, Duration::from_secs(4)).await;
    assert!(
        took <= Duration::from_millis(2600),
        "refused after {took:?}"
    );
    for key in [rotated_key.as_str(), app.operator_key()] {
        let (status, _) = call(&app, Method::GET, "/admin/accounts", key, None).await;
        assert_eq!(status, 200);
    }
    // A revoked key is not brought back by a rotation, and stays listed as revoked.
    let (ok, _, stderr) = cli(&app, &["operators", "rotate", &alice_id]).await;
    assert!(!ok);
    assert!(stderr.contains("not revoked"), "{stderr}");
    let (_, list, _) = cli(&app, &["operators", "list"]).await;
    assert_ne!(row(&list, &alice_id)[4], "-", "{list}");

    // No member credential opens /admin, and a named key opens no account API.
    let (status, _) = call(&app, Method::GET, "/admin/accounts", app.owner_key(), None).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings",
        &rotated_key,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Every command is in the instance's audit log, as the command line.
    let (ok, stdout, stderr) = cli(&app, &["audit", "tail", "--operators"]).await;
    assert!(ok, "{stderr}");
    let entries: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["target"].as_str().expect("target"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("operator_key.created", ci_id.as_str()),
            ("operator_key.created", alice_id.as_str()),
            ("operator_key.rotated", ci_id.as_str()),
            ("operator_key.revoked", alice_id.as_str()),
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e["actor"] == "operator:cli" && e["ip"] == "cli"),
        "{stdout}"
    );
    assert!(!stdout.contains(rotated_key.rsplit('_').next().expect("secret")));
}

crate::on_both_backends!(bad_operator_key_commands_are_refused_naming_the_problem);

async fn bad_operator_key_commands_are_refused_naming_the_problem(app: TestApp) {
    for (args, needle) in [
        (vec!["operators", "create", "--name", " "], "--name"),
        (vec!["operators", "revoke", "key_01"], "no operator key id"),
        (
            vec!["operators", "revoke", "opk_01jd0000000000000000000000"],
            "no operator key",
        ),
    ] {
        let (ok, _, stderr) = cli(&app, &args).await;
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

crate::on_both_backends!(env [
    ("TENANTRY_TRUSTED_PROXIES", "127.0.0.0/8"),
    ("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test"),
]; the_audit_names_which_operator_key_acted_and_from_where);

/// Two named keys and the bootstrap key change things through `/admin`; each entry names the
/// key (`operator:opk_…`, `operator:env`) and the client address (behind a trusted proxy, the
/// forwarded one), in `audit tail` and in the account's own audit API.
async fn the_audit_names_which_operator_key_acted_and_from_where(app: TestApp) {
    let (_, stdout, _) = cli(&app, &["operators", "create", "--name", "ci"]).await;
    let (ci_id, ci_key) = printed_key(&stdout);
    let (_, stdout, _) = cli(&app, &["operators", "create", "--name", "alice"]).await;
    let (alice_id, alice_key) = printed_key(&stdout);

    let send = |method: Method, path: &str, key: &str, from: &str, body: Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(key)
            .header("x-forwarded-for", from)
            .json(&body)
            .send()
    };
    let res = send(
        Method::POST,
        "/admin/accounts",
        &ci_key,
        "203.0.113.7",
        json!({ "name": "audited", "owner_email": "owner@audited.test" }),
    )
    .await
    .expect("request");
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    let account = created["id"].as_str().expect("id").to_owned();
    let owner_key = created["owner_api_key"].as_str().expect("key").to_owned();
    let owner_id = created["owner"]["id"].as_str().expect("owner").to_owned();
    let res = send(
        Method::PATCH,
        &format!("/admin/accounts/{account}"),
        &alice_key,
        "198.51.100.9",
        json!({ "tier": "pro" }),
    )
    .await
    .expect("request");
    assert_eq!(res.status(), 200);
    let res = send(
        Method::POST,
        &format!("/admin/accounts/{account}/portal-links"),
        app.operator_key(),
        "192.0.2.44",
        json!({ "userId": owner_id, "intent": "settings", "returnUrl": "https://app.example.test/back" }),
    )
    .await
    .expect("request");
    assert_eq!(res.status(), 201);

    let (ok, stdout, stderr) = cli(
        &app,
        &[
            "audit",
            "tail",
            "--account",
            "audited",
            "--without-requests",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    let entries: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let by = |action: &str| -> (String, String) {
        let e = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action}: {stdout}"));
        (
            e["actor"].as_str().unwrap_or_default().to_owned(),
            e["ip"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        by("account.created"),
        (format!("operator:{ci_id}"), "203.0.113.7".to_owned())
    );
    assert_eq!(
        by("account.updated"),
        (format!("operator:{alice_id}"), "198.51.100.9".to_owned())
    );
    let minted = entries
        .iter()
        .find(|e| e["actor"] == "operator:env")
        .unwrap_or_else(|| panic!("no entry by the bootstrap key: {stdout}"));
    assert_eq!(minted["ip"], "192.0.2.44", "{stdout}");
    assert!(!stdout.contains(&ci_key) && !stdout.contains(&alice_key));

    // The account's own audit API shows the same to its owner.
    let (status, body) = call(
        &app,
        Method::GET,
        "/v2/accounts/audit-logs",
        &owner_key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = body.to_string();
    assert!(text.contains(&format!("operator:{ci_id}")), "{text}");
    assert!(text.contains(&format!("operator:{alice_id}")), "{text}");
    assert!(text.contains("203.0.113.7"), "{text}");
}
