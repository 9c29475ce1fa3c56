//! The user & organization API (`/api/...`), the settings catalog (`/accounts/{name}/...`) and
//! tenant settings (`/tenants/{id}/settings`) where they used to depart from their documents
//! (decision 0023).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{call, webhook_sink, Receiver, TestApp};

const WAIT: Duration = Duration::from_secs(20);

/// The `settings.updated` events the receiver got, as JSON, once there are at least `n`.
async fn settings_events(receiver: &Receiver, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let events: Vec<Value> = receiver
            .received()
            .await
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter(|e| e["type"] == "settings.updated")
            .collect();
        if events.len() >= n {
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} settings.updated events, got {}: {events:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn adding_an_existing_allowlist_block_conflicts_and_entry_changes_emit_events(app: TestApp) {
    let key = app.owner_key().to_owned();
    let receiver = Receiver::start(200, "ok").await;
    webhook_sink(&app, &key, &receiver, "settings.updated").await;

    let path = "/api/settings/ip-whitelist";
    let (status, first) = call(
        &app,
        Method::POST,
        path,
        &key,
        Some(json!({"cidr": "198.51.100.10", "label": "CI runner"})),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let id = first["data"]["id"].as_str().expect("id").to_owned();
    let added = settings_events(&receiver, 1).await;
    assert_eq!(added[0]["data"]["target"], "security", "{added:?}");

    // The same block, spelled as a /32 and with another label: refused, nothing relabelled.
    let (status, err) = call(
        &app,
        Method::POST,
        path,
        &key,
        Some(json!({"cidr": "198.51.100.10/32", "label": "overwritten?"})),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "IP_WHITELIST_ENTRY_EXISTS");
    assert_eq!(err["error"]["details"]["existing_id"], id.as_str());
    assert_eq!(err["error"]["details"]["cidr"], "198.51.100.10/32");
    let (_, list) = call(&app, Method::GET, path, &key, None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["data"][0]["label"], "CI runner");

    let (status, _) = call(&app, Method::DELETE, &format!("{path}/{id}"), &key, None).await;
    assert_eq!(status, 204);
    let events = settings_events(&receiver, 2).await;
    // The refused add emitted nothing: the second event is the removal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(settings_events(&receiver, 2).await.len(), 2, "{events:?}");

    // The organization section through the same API emits too.
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"data_residency": "eu"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let events = settings_events(&receiver, 3).await;
    assert_eq!(events[2]["data"]["target"], "organization", "{events:?}");
}

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
]; adding_an_existing_allowlist_block_conflicts_and_entry_changes_emit_events);

/// Every key of `details`, at any depth.
fn detail_keys(details: &Value, out: &mut Vec<String>) {
    match details {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                detail_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| detail_keys(v, out)),
        _ => {}
    }
}

async fn error_details_use_one_casing_per_api_and_missing_fields_are_named(app: TestApp) {
    let owner = app.owner_key().to_owned();
    // A key that may only read settings, refused on a route of another area, in both APIs.
    let (status, made) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &owner,
        Some(json!({"name": "reader", "scopes": ["settings:read"]})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let reader = made["data"]["secret"].as_str().expect("secret").to_owned();
    let (status, api) = call(&app, Method::GET, "/api/user/api-keys", &reader, None).await;
    assert_eq!(status, 403, "{api}");
    assert_eq!(api["error"]["code"], "INSUFFICIENT_SCOPE");
    assert_eq!(
        api["error"]["details"]["required_scopes"],
        json!(["keys:read"])
    );
    assert_eq!(
        api["error"]["details"]["key_scopes"],
        json!(["settings:read"])
    );
    let (status, v2) = call(&app, Method::GET, "/v2/accounts/audit-logs", &reader, None).await;
    assert_eq!(status, 403, "{v2}");
    assert!(v2["details"]["requiredScopes"].is_array(), "{v2}");

    // The shared body limit and the missing-field check, in both casings.
    let big = "x".repeat(70 * 1024);
    let (status, api) = call(
        &app,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({"cidr": big})),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(api["error"]["details"]["limit_bytes"], 65536, "{api}");

    let (status, api) = call(
        &app,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({"label": "no block"})),
    )
    .await;
    assert_eq!(status, 422, "{api}");
    assert_eq!(api["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        api["error"]["details"]["fields"][0]["field"], "cidr",
        "{api}"
    );
    assert!(api["error"]["details"]["line"].is_u64());
    let mut keys = Vec::new();
    detail_keys(&api["error"]["details"], &mut keys);
    assert!(
        keys.iter()
            .all(|k| !k.chars().any(|c| c.is_ascii_uppercase())),
        "{keys:?}"
    );

    let (status, v2) = call(
        &app,
        Method::POST,
        "/v2/accounts/team/members/invite",
        &owner,
        Some(json!({"email": "new@example.com"})),
    )
    .await;
    assert_eq!(status, 422, "{v2}");
    assert_eq!(v2["details"]["fields"][0]["field"], "role", "{v2}");

    // A wrong value is named by the key it sits under; an unknown one too.
    let (status, api) = call(
        &app,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({"cidr": "10.0.0.0/8", "label": 7})),
    )
    .await;
    assert_eq!(status, 422, "{api}");
    assert_eq!(
        api["error"]["details"]["fields"][0]["field"], "label",
        "{api}"
    );
    let (status, api) = call(
        &app,
        Method::POST,
        "/api/settings/ip-whitelist",
        &owner,
        Some(json!({"cidr": "10.0.0.0/8", "colour": "red"})),
    )
    .await;
    assert_eq!(status, 400, "{api}");
    assert_eq!(api["error"]["code"], "UNKNOWN_FIELD");
    assert_eq!(
        api["error"]["details"]["fields"][0]["field"], "colour",
        "{api}"
    );
}

crate::on_both_backends!(error_details_use_one_casing_per_api_and_missing_fields_are_named);

async fn requiring_sso_is_refused_while_there_is_no_sso(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, err) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"require_sso": true, "data_residency": "eu"})),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(err["error"]["details"]["fields"][0]["field"], "require_sso");
    assert!(
        err["error"]["details"]["fields"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("single sign-on")),
        "{err}"
    );
    // Nothing of the refused request was written.
    let (_, doc) = call(&app, Method::GET, "/api/settings", &key, None).await;
    assert_eq!(doc["data"]["require_sso"], false);
    assert_eq!(doc["data"]["data_residency"], "us");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"require_sso": false, "data_residency": "eu"})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");

    // A `true` stored before the rule reads as is, may be sent back as read, and turned off.
    let db = app.stop().await;
    db.execute(
        "UPDATE settings_documents SET document = REPLACE(document, '\"sso_required\":false', '\"sso_required\":true') WHERE section = 'organization'",
    );
    let app = TestApp::start(db, &[]).await;
    let (_, read) = call(&app, Method::GET, "/api/settings", &key, None).await;
    assert_eq!(read["data"]["require_sso"], true, "{read}");
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(read["data"].clone()),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["require_sso"], true);
    let (status, doc) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"require_sso": false})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/settings",
        &key,
        Some(json!({"require_sso": true})),
    )
    .await;
    assert_eq!(status, 422);
}

crate::on_both_backends!(requiring_sso_is_refused_while_there_is_no_sso);

async fn a_slack_channel_without_its_incoming_webhook_url_is_refused(app: TestApp) {
    let key = app.owner_key().to_owned();
    let (status, err) = call(
        &app,
        Method::POST,
        "/api/notifications/channels",
        &key,
        Some(json!({
            "type": "slack", "name": "#data-alerts",
            "config": { "workspace": "acme", "channel": "C01234567" }
        })),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "VALIDATION_ERROR");
    let field = &err["error"]["details"]["fields"][0];
    assert_eq!(field["field"], "config.webhook_url", "{err}");
    assert!(
        field["message"]
            .as_str()
            .is_some_and(|m| m.contains("incoming-webhook URL") && m.contains("workspace")),
        "{err}"
    );
    // No channel that could never deliver was stored.
    let (_, list) = call(&app, Method::GET, "/api/notifications/channels", &key, None).await;
    assert!(
        list["data"]
            .as_array()
            .expect("channels")
            .iter()
            .all(|c| c["name"] != "#data-alerts"),
        "{list}"
    );
}

crate::on_both_backends!(a_slack_channel_without_its_incoming_webhook_url_is_refused);

async fn a_failed_telemetry_test_names_its_event_so_verify_can_answer_400(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let test = "/accounts/default/telemetryWebhook/test";
    let broken = Receiver::start(500, "no").await;
    let (status, doc) = call(
        &app,
        Method::POST,
        test,
        &owner,
        Some(json!({ "url": format!("{}/t", broken.url), "type": "TEST_TELEMETRY_WEBHOOK" })),
    )
    .await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc[0]["errorCode"], 40005, "{doc}");
    let id = doc[0]["telemetryEventId"]
        .as_str()
        .unwrap_or_else(|| panic!("the failed test names its event: {doc}"))
        .to_owned();
    assert!(
        doc[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains(&id)),
        "{doc}"
    );
    assert_eq!(
        broken.received().await.len(),
        1,
        "the test did call the endpoint"
    );

    // The documented verify call for that event: 400, the endpoint did not answer 2xx.
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("{test}?telemetryEventId={id}"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc[0]["errorCode"], 40005);
    assert_eq!(doc[0]["telemetryEventId"], id.as_str());

    // An id no test of this account has: 404, saying so.
    let (status, doc) = call(
        &app,
        Method::POST,
        &format!("{test}?telemetryEventId=3e58c9a7-5e7b-405f-8bf6-b8bad72a32e8"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{doc}");
    assert_eq!(doc[0]["errorCode"], 40401);
    assert!(
        doc[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("telemetryEventId")),
        "{doc}"
    );

    // A field the test DTO does not have: 40002, naming it.
    let (status, doc) = call(
        &app,
        Method::POST,
        test,
        &owner,
        Some(json!({ "url": "https://example.com/x", "type": "TEST_TELEMETRY_WEBHOOK", "colour": "red" })),
    )
    .await;
    assert_eq!(status, 400, "{doc}");
    assert_eq!(doc[0]["errorCode"], 40002, "{doc}");
    assert!(
        doc[0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("colour")),
        "{doc}"
    );
}

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
]; a_failed_telemetry_test_names_its_event_so_verify_can_answer_400);

async fn tenant_problem_titles_are_words(app: TestApp) {
    let key = app.owner_key().to_owned();
    let path = crate::tenant_settings::tenant_path(&app).await;
    let send = |body: &'static str| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = send("{\"security\": ").await.expect("request");
    assert_eq!(res.status().as_u16(), 400);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "INVALID_JSON");
    assert_eq!(problem["title"], "Invalid JSON", "{problem}");
    let res = send(r#"{"security": {"passwordExpiryDays": -1}}"#)
        .await
        .expect("request");
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["title"], "Validation error", "{problem}");

    // A caller outside the enforced allowlist: loopback is trusted as a proxy here, so the
    // forwarded address is the caller's.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &key,
        Some(json!({"api_access": {"ip_whitelist": ["203.0.113.0/24", "127.0.0.1/32"], "require_ip_whitelist": true}})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let res = app
        .client
        .get(app.url(&path))
        .bearer_auth(&key)
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 403);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "IP_NOT_ALLOWED", "{problem}");
    assert_eq!(problem["title"], "IP not allowed", "{problem}");
}

crate::on_both_backends!(env [("TENANTRY_TRUSTED_PROXIES", "127.0.0.1/32")]; tenant_problem_titles_are_words);

/// README.md, docs/ (but the decision records, which are history) and the crates' READMEs name
/// each API by what it is, never by the number of the document it was built from.
#[test]
fn user_facing_documents_name_each_api_by_what_it_is() {
    fn markdown(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if !path.ends_with("decisions") {
                    markdown(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let root = crate::support::workspace();
    let mut files = vec![root.join("README.md")];
    markdown(&root.join("docs"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).expect("crates") {
        let readme = krate.expect("entry").path().join("README.md");
        if readme.exists() {
            files.push(readme);
        }
    }
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .expect("read")
            .to_ascii_lowercase();
        for (n, line) in text.lines().enumerate() {
            let numbered = (0..10).any(|d| {
                line.contains(&format!("seed 0{d}"))
                    || line.contains(&format!("seeds 0{d}"))
                    || line.contains(&format!("seed `0{d}"))
            });
            if numbered || line.contains("shared/seeds") {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
