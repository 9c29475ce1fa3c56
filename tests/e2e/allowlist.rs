//! The IP allowlist enforced on real connections from two loopback addresses.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::TestApp;

fn client_from(addr: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(addr.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

async fn get_from(app: &TestApp, client: &reqwest::Client, key: &str) -> (u16, Value) {
    let res = client
        .get(app.url("/v2/accounts/settings"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

async fn the_allowlist_is_enforced_on_every_request(app: TestApp) {
    let key = app.owner_key().to_owned();
    let one = client_from("127.0.0.1");
    let two = client_from("127.0.0.2");
    assert_eq!(get_from(&app, &two, &key).await.0, 200, "not enforced yet");

    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["127.0.0.1"], "require_ip_whitelist": true}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // The very next request on this node sees the change.
    assert_eq!(get_from(&app, &one, &key).await.0, 200);
    for _ in 0..3 {
        let (status, err) = get_from(&app, &two, &key).await;
        assert_eq!(status, 403);
        assert_eq!(err["error"], "IP_NOT_ALLOWED");
        assert_eq!(err["details"]["address"], "127.0.0.2");
    }
    // Every dialect refuses, in its own format.
    let res = two
        .get(app.url("/api/settings"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.expect("json")["error"]["code"],
        "IP_NOT_ALLOWED"
    );
    let res = two
        .get(app.url("/accounts/default/settings/SECURITY_PREFERENCES"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.expect("json")[0]["errorCode"],
        40302
    );
    let list: Value = app
        .get("/admin/accounts", Some(app.operator_key()))
        .await
        .json()
        .await
        .expect("json");
    let tenant = format!(
        "/tenants/{}/settings",
        list["accounts"][0]["tenant_id"].as_str().expect("uuid")
    );
    let res = two
        .get(app.url(&tenant))
        .bearer_auth(&key)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.expect("json")["code"],
        "IP_NOT_ALLOWED"
    );
    assert_eq!(
        one.get(app.url("/api/settings"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("request")
            .status(),
        200
    );

    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let res = two
        .get(app.url("/v2/accounts/settings"))
        .bearer_auth(&key)
        .header("x-forwarded-for", "127.0.0.1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);
    // Writes are refused too, and nothing changes.
    let res = two
        .put(app.url("/v2/accounts/settings/preferences"))
        .bearer_auth(&key)
        .json(&json!({"theme": "dark"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 403);

    // Refusals are audited, once per address and minute.
    let denied =
        app.query_texts("SELECT target AS t FROM audit_log WHERE action = 'security.ip_denied'");
    assert_eq!(denied, ["127.0.0.2"]);
    // The entry (and the alert made from it) names the key by its public id, never by Rust's
    // `Debug` form (`ApiKey(ApiKeyId(Ulid(...)))`).
    let diffs =
        app.query_texts("SELECT diff AS t FROM audit_log WHERE action = 'security.ip_denied'");
    let diff: Value = serde_json::from_str(&diffs[0]).expect("diff is JSON");
    let key_id = tenantry_security::ApiKeyToken::parse(&key)
        .expect("a key token")
        .id
        .to_string();
    assert!(key_id.starts_with("key_"), "{key_id}");
    assert_eq!(diff["credential"], json!(key_id), "{diff}");
    assert_eq!(diff["address"], "127.0.0.2");

    // Another account's policy is its own.
    let other = app.create_account("open-co", "o@open.test").await;
    assert_eq!(
        get_from(&app, &two, other["owner_api_key"].as_str().expect("key"))
            .await
            .0,
        200
    );
}

async fn lockout_is_refused_without_override_and_break_glass_restores_access(app: TestApp) {
    let key = app.owner_key().to_owned();
    let one = client_from("127.0.0.1");

    // Enabling enforcement with a list that excludes the caller (or an empty one).
    for list in [json!(["10.0.0.0/8"]), json!([])] {
        let res = app
            .put(
                "/v2/accounts/settings/security",
                &key,
                &json!({"api_access": {"ip_whitelist": list, "require_ip_whitelist": true}}),
            )
            .await;
        assert_eq!(res.status(), 409, "{list}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(err["error"], "WOULD_LOCK_OUT");
        assert_eq!(err["details"]["address"], "127.0.0.1");
    }
    // Removing the caller's entry from an enforced list.
    let res = app.put("/v2/accounts/settings/security", &key, &json!({"api_access": {"ip_whitelist": ["127.0.0.0/8", "10.0.0.0/8"], "require_ip_whitelist": true}})).await;
    assert_eq!(res.status(), 200);
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["10.0.0.0/8"]}}),
        )
        .await;
    assert_eq!(res.status(), 409);
    // An import cannot do it either.
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/import"))
        .bearer_auth(&key)
        .json(&json!({"settings": {"security": {"api_access": {"ip_whitelist": ["10.0.0.0/8"]}}}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 409);
    assert_eq!(get_from(&app, &one, &key).await.0, 200, "still in");

    // No confirmation overrides the guard: `confirm_lockout` is accepted and ignored, on every
    // path that can change enforcement.
    let res = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["10.0.0.0/8"]}, "confirm_lockout": true}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .client
        .post(app.url("/api/settings/ip-whitelist/toggle"))
        .bearer_auth(&key)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "turning enforcement off never locks out");
    let res = app
        .client
        .post(app.url("/api/settings/ip-whitelist/toggle"))
        .bearer_auth(&key)
        .json(&json!({"enabled": true, "confirm_lockout": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.status(),
        200,
        "the list still admits the caller (127.0.0.0/8)"
    );
    let doc = app
        .put(
            "/v2/accounts/settings/security",
            &key,
            &json!({"api_access": {"ip_whitelist": ["10.0.0.0/8"]}, "confirm_lockout": true}),
        )
        .await;
    assert_eq!(doc.status(), 409);
    assert_eq!(get_from(&app, &one, &key).await.0, 200, "still in");

    // A list that admits another address of this machine, written from that address: now
    // 127.0.0.1 is out.
    let two = client_from("127.0.0.2");
    let res = two
        .put(app.url("/v2/accounts/settings/security"))
        .bearer_auth(&key)
        .json(&json!({"api_access": {"ip_whitelist": ["127.0.0.2/32"]}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(get_from(&app, &one, &key).await.0, 403);

    // Break-glass from the command line, against the same database while the server runs.
    let out = app
        .db
        .command(&["allowlist", "disable", "--account", "default"])
        .output()
        .await
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("disabled"));
    // Another process changed it: applies within the documented bound (POLICY_TTL_SECONDS).
    let mut status = 0;
    for _ in 0..40 {
        status = get_from(&app, &one, &key).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "break-glass restored access");
    let all: Value = get_from(&app, &one, &key).await.1;
    assert_eq!(all["security"]["api_access"]["require_ip_whitelist"], false);
    assert_eq!(
        all["security"]["api_access"]["ip_whitelist"],
        json!(["127.0.0.2/32"]),
        "entries are kept"
    );
    let audited = app.query_texts(
        "SELECT actor AS t FROM audit_log WHERE action = 'security.allowlist_break_glass'",
    );
    assert_eq!(audited, ["operator:cli"]);

    let bad = app
        .db
        .command(&["allowlist", "disable", "--account", "nobody"])
        .output()
        .await
        .expect("run");
    assert!(!bad.status.success());
}

/// Sign-in from outside an enforced allowlist gets no session, and the answer is the one a wrong
/// password gets: an outsider learns neither that the password is right nor that the address is
/// a member of the account.
async fn sign_in_from_outside_the_allowlist_is_refused_before_the_password(app: TestApp) {
    let key = app.owner_key().to_owned();
    let inside = client_from("127.0.0.2");
    let res = inside
        .post(app.url("/api/user/password"))
        .bearer_auth(&key)
        .json(&json!({ "new_password": "the owner's passphrase" }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 204);
    let res = inside
        .put(app.url("/v2/accounts/settings/security"))
        .bearer_auth(&key)
        .json(&json!({"api_access": {"ip_whitelist": ["127.0.0.2/32"], "require_ip_whitelist": true}}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let login = |client: reqwest::Client, password: &'static str| {
        let url = app.url("/api/auth/login");
        async move {
            let res = client
                .post(url)
                .json(&json!({ "email": "owner@localhost", "password": password }))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    let outside = client_from("127.0.0.1");
    let right = login(outside.clone(), "the owner's passphrase").await;
    let wrong = login(outside, "not the passphrase at all").await;
    assert_eq!(right.0, 401, "{right:?}");
    assert_eq!(right, wrong, "the same answer as a wrong password");
    let sessions = app.query_texts("SELECT id AS t FROM sessions");
    assert!(sessions.is_empty(), "no session was created: {sessions:?}");
    let (status, doc) = login(inside, "the owner's passphrase").await;
    assert_eq!(status, 200, "inside the list: {doc}");
}

/// A rollback is a write like any other: restoring a version whose allowlist excludes the caller
/// is refused, confirmation or not, and changes nothing.
async fn a_rollback_that_would_lock_out_the_caller_is_refused(app: TestApp) {
    let key = app.owner_key().to_owned();
    let two = client_from("127.0.0.2");
    let put = |list: Value| {
        let req = two
            .put(app.url("/v2/accounts/settings/security"))
            .bearer_auth(&key)
            .json(&json!({"api_access": {"ip_whitelist": list, "require_ip_whitelist": true}}));
        async move { req.send().await.expect("request").status().as_u16() }
    };
    // Version n admits only 127.0.0.2 (written from there); n + 1 admits the whole loopback net.
    assert_eq!(put(json!(["127.0.0.2/32"])).await, 200);
    assert_eq!(put(json!(["127.0.0.0/8"])).await, 200);
    let history: Value = app
        .get("/v2/accounts/settings/security/history", Some(&key))
        .await
        .json()
        .await
        .expect("json");
    let narrow = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|v| v["version"].as_u64().expect("version"))
        .max()
        .expect("versions")
        - 1;
    let before = get_from(&app, &client_from("127.0.0.1"), &key).await.1;
    for body in [
        json!({"version": narrow}),
        json!({"version": narrow, "confirm_lockout": true}),
    ] {
        let res = app
            .client
            .post(app.url("/v2/accounts/settings/security/rollback"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let err: Value = res.json().await.expect("json");
        assert!(
            status == 409 || (status == 400 && body.get("confirm_lockout").is_some()),
            "{body} -> {status} {err}"
        );
        if status == 409 {
            assert_eq!(err["error"], "WOULD_LOCK_OUT", "{err}");
        }
    }
    let (status, after) = get_from(&app, &client_from("127.0.0.1"), &key).await;
    assert_eq!(status, 200, "the caller is still in");
    assert_eq!(after, before, "nothing changed");
}

on_both_backends!(
    a_rollback_that_would_lock_out_the_caller_is_refused,
    the_allowlist_is_enforced_on_every_request,
    lockout_is_refused_without_override_and_break_glass_restores_access,
    sign_in_from_outside_the_allowlist_is_refused_before_the_password,
);

/// Behind a trusted proxy, the forwarded client address is the one judged; elsewhere the header
/// is ignored.
#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    use crate::support::{Backend, TestDb};
    let app = TestApp::start(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
        &[("TENANTRY_TRUSTED_PROXIES", "127.0.0.2/32")],
    )
    .await;
    let key = app.owner_key().to_owned();
    let res = app.put("/v2/accounts/settings/security", &key, &json!({"api_access": {"ip_whitelist": ["127.0.0.1", "198.51.100.7"], "require_ip_whitelist": true}})).await;
    assert_eq!(res.status(), 200);
    let proxy = client_from("127.0.0.2");
    let via = |client: &reqwest::Client, xff: &str| {
        let req = client
            .get(app.url("/v2/accounts/settings"))
            .bearer_auth(&key)
            .header("x-forwarded-for", xff.to_owned());
        async move {
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    assert_eq!(
        via(&proxy, "6.6.6.6, 198.51.100.7").await.0,
        200,
        "the proxy's hop is believed, the forged one is not"
    );
    let (status, err) = via(&proxy, "198.51.100.7, 203.0.113.1").await;
    assert_eq!(status, 403);
    assert_eq!(err["details"]["address"], "203.0.113.1");
    let (status, err) = via(&client_from("127.0.0.3"), "198.51.100.7").await;
    assert_eq!(status, 403, "not a trusted proxy");
    assert_eq!(err["details"]["address"], "127.0.0.3");
}
