//! The laws that make the five APIs views of one model (decision 0018), as property tests over
//! generated sequences of writes through every API:
//!
//! 1. **Round trip**: sending back exactly what a read returned succeeds and changes nothing
//!    (same document, same ETag, no history version, no audit entry).
//! 2. **Non-interference**: a write inside the write range of the API it arrives through is
//!    accepted whatever another API stored before; one outside that range is refused.
//! 3. **One value**: after every write, each API reads the same domain value in its own unit.
//! 4. **No-op is no write**: the round trips of law 1 are no-ops and must write nothing.
//!
//! Every shared policy field is drawn across the whole domain range (the union of the APIs'
//! write ranges), so values inside one API's range and outside another's come up often.
//! Fixed budget; the seed is printed with every failure (`TENANTRY_LAWS_SEED=<seed>` replays).

use reqwest::Method;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{call, TestApp};

/// Writes per run: each is followed by a read of every API and a round trip of every resource.
const BUDGET: usize = 36;
const CATALOG: &str = "/accounts/default/settings/SECURITY_PREFERENCES";

/// A small deterministic generator (splitmix64).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value in `lo..=hi`, often one of `edges` (where the APIs' ranges meet).
    fn in_range(&mut self, lo: u32, hi: u32, edges: &[u32]) -> u32 {
        if !edges.is_empty() && self.below(2) == 0 {
            edges[self.below(edges.len() as u64) as usize].clamp(lo, hi)
        } else {
            lo + self.below(u64::from(hi - lo) + 1) as u32
        }
    }
}

/// The shared security policy in domain units, as the test expects it to be.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    mfa_required: bool,
    idle_minutes: Option<u32>,
    absolute_minutes: u32,
    concurrent_sessions: u32,
    password_expiry_days: Option<u32>,
    retention_days: u32,
}

impl Default for Model {
    fn default() -> Self {
        Self {
            mfa_required: false,
            idle_minutes: Some(60),
            absolute_minutes: 1440,
            concurrent_sessions: 5,
            password_expiry_days: Some(90),
            retention_days: 90,
        }
    }
}

/// Hours as the account-settings API shows them: minutes / 60, 6 decimals.
fn hours(minutes: u32) -> Value {
    if minutes % 60 == 0 {
        json!(minutes / 60)
    } else {
        json!((f64::from(minutes) / 60.0 * 1e6).round() / 1e6)
    }
}

/// One generated write: where it goes, its body, whether it is accepted (inside that API's
/// range, or the value already stored: unchanged), and the change it makes to the model.
struct Write {
    method: Method,
    path: String,
    body: Value,
    accepted: Box<dyn Fn(&Model) -> bool>,
    apply: Box<dyn Fn(&mut Model)>,
}

fn generate(g: &mut Gen, tenant: &str) -> Write {
    type Accepts = Box<dyn Fn(&Model) -> bool>;
    let always = || -> Accepts { Box::new(|_| true) };
    let put = |path: &str, body: Value, accepted: Accepts, apply: Box<dyn Fn(&mut Model)>| Write {
        method: Method::PUT,
        path: path.to_owned(),
        body,
        accepted,
        apply,
    };
    let patch =
        |path: &str, body: Value, accepted: Accepts, apply: Box<dyn Fn(&mut Model)>| Write {
            method: Method::PATCH,
            path: path.to_owned(),
            body,
            accepted,
            apply,
        };
    let tenant_path = tenant.to_owned();
    match g.below(13) {
        // Concurrent sessions: domain 1-100; account settings 1-10, tenant settings 1-100.
        0 => {
            let v = g.in_range(1, 100, &[1, 10, 11, 50, 100]);
            put(
                "/v2/accounts/settings/security",
                json!({"session": {"concurrent_sessions": v}}),
                Box::new(move |m| v <= 10 || m.concurrent_sessions == v),
                Box::new(move |m| m.concurrent_sessions = v),
            )
        }
        1 => {
            let v = g.in_range(1, 100, &[1, 10, 11, 50, 100]);
            patch(
                &tenant_path,
                json!({"security": {"maxConcurrentSessions": v}}),
                always(),
                Box::new(move |m| m.concurrent_sessions = v),
            )
        }
        // Audit retention: domain 1-365; account settings 30-365, the others 1-365.
        2 => {
            let v = g.in_range(1, 365, &[1, 5, 29, 30, 365]);
            put(
                "/v2/accounts/settings/security",
                json!({"audit": {"retention_days": v}}),
                Box::new(move |m| v >= 30 || m.retention_days == v),
                Box::new(move |m| m.retention_days = v),
            )
        }
        3 => {
            let v = g.in_range(1, 365, &[1, 7, 29, 30, 365]);
            put(
                "/api/settings/log-retention",
                json!({"audit_logs_days": v}),
                always(),
                Box::new(move |m| m.retention_days = v),
            )
        }
        4 => {
            let v = g.in_range(1, 365, &[1, 7, 30, 365]);
            patch(
                &tenant_path,
                json!({"features": {"auditLogRetentionDays": v}}),
                always(),
                Box::new(move |m| m.retention_days = v),
            )
        }
        // Idle timeout: domain none or 1-1440; user & organization none/0 or 1-1440, the
        // catalog 0 or 10-120.
        5 => {
            let v = g.in_range(0, 1440, &[0, 1, 5, 9, 10, 120, 121, 1440]);
            put(
                "/api/session-timeout",
                json!({"idle_timeout_minutes": v}),
                always(),
                Box::new(move |m| m.idle_minutes = (v > 0).then_some(v)),
            )
        }
        6 => {
            let v = g.in_range(0, 1440, &[0, 5, 9, 10, 120, 121, 1440]);
            patch(
                CATALOG,
                json!({"securityPreferences": {"inactivityTimeout": v}}),
                Box::new(move |m| v == 0 || (10..=120).contains(&v) || m.idle_minutes == Some(v)),
                Box::new(move |m| m.idle_minutes = (v > 0).then_some(v)),
            )
        }
        // Absolute lifetime: domain 60-10080 minutes; account settings in hours (1-168).
        7 => {
            let v = g.in_range(60, 10_080, &[60, 61, 100, 1440, 10_079, 10_080]);
            put(
                "/v2/accounts/settings/security",
                json!({"session": {"timeout": hours(v)}}),
                always(),
                Box::new(move |m| m.absolute_minutes = v),
            )
        }
        8 => {
            let v = g.in_range(60, 10_080, &[60, 61, 100, 10_080]);
            put(
                "/api/session-timeout",
                json!({"absolute_timeout_minutes": v}),
                always(),
                Box::new(move |m| m.absolute_minutes = v),
            )
        }
        // Password expiry: domain never or 1-3650; catalog 0 or 14-365, tenant settings 0-3650.
        9 => {
            let v = g.in_range(0, 3650, &[0, 5, 13, 14, 365, 366, 3650]);
            patch(
                CATALOG,
                json!({"securityPreferences": {"passwordExpiration": v}}),
                Box::new(move |m| {
                    v == 0 || (14..=365).contains(&v) || m.password_expiry_days == Some(v)
                }),
                Box::new(move |m| m.password_expiry_days = (v > 0).then_some(v)),
            )
        }
        10 => {
            let v = g.in_range(0, 3650, &[0, 5, 13, 14, 365, 366, 3650]);
            patch(
                &tenant_path,
                json!({"security": {"passwordExpiryDays": v}}),
                always(),
                Box::new(move |m| m.password_expiry_days = (v > 0).then_some(v)),
            )
        }
        // Mandatory MFA through each API that shows it.
        11 => {
            let v = g.below(2) == 0;
            if g.below(2) == 0 {
                put(
                    "/v2/accounts/settings/security",
                    json!({"two_factor": {"enabled": v}}),
                    always(),
                    Box::new(move |m| m.mfa_required = v),
                )
            } else {
                patch(
                    CATALOG,
                    json!({"securityPreferences": {"requireMFA": v}}),
                    always(),
                    Box::new(move |m| m.mfa_required = v),
                )
            }
        }
        _ => {
            let v = g.below(2) == 0;
            patch(
                &tenant_path,
                json!({"security": {"mfaRequired": v}}),
                always(),
                Box::new(move |m| m.mfa_required = v),
            )
        }
    }
}

/// Law 3: what each API reads, in its own unit, is the model.
async fn assert_one_value(app: &TestApp, key: &str, tenant: &str, model: &Model, context: &str) {
    let (_, v2) = call(
        app,
        Method::GET,
        "/v2/accounts/settings/security",
        key,
        None,
    )
    .await;
    assert_eq!(v2["two_factor"]["enabled"], model.mfa_required, "{context}");
    assert_eq!(
        v2["session"]["timeout"],
        hours(model.absolute_minutes),
        "{context}"
    );
    assert_eq!(
        v2["session"]["concurrent_sessions"], model.concurrent_sessions,
        "{context}"
    );
    assert_eq!(
        v2["audit"]["retention_days"], model.retention_days,
        "{context}"
    );

    let (_, session) = call(app, Method::GET, "/api/session-timeout", key, None).await;
    assert_eq!(
        session["data"]["idle_timeout_minutes"],
        model.idle_minutes.unwrap_or(0),
        "{context}"
    );
    assert_eq!(
        session["data"]["absolute_timeout_minutes"], model.absolute_minutes,
        "{context}"
    );
    let (_, retention) = call(app, Method::GET, "/api/settings/log-retention", key, None).await;
    assert_eq!(
        retention["data"]["audit_logs_days"], model.retention_days,
        "{context}"
    );

    let (_, catalog) = call(app, Method::GET, CATALOG, key, None).await;
    let prefs = &catalog["securityPreferences"];
    assert_eq!(prefs["requireMFA"], model.mfa_required, "{context}");
    assert_eq!(
        prefs["inactivityTimeout"],
        model.idle_minutes.unwrap_or(0),
        "{context}"
    );
    assert_eq!(
        prefs["passwordExpiration"],
        model.password_expiry_days.unwrap_or(0),
        "{context}"
    );

    let (_, tenant_doc) = call(app, Method::GET, tenant, key, None).await;
    let security = &tenant_doc["security"];
    assert_eq!(security["mfaRequired"], model.mfa_required, "{context}");
    assert_eq!(
        security["maxConcurrentSessions"], model.concurrent_sessions,
        "{context}"
    );
    assert_eq!(
        security["passwordExpiryDays"],
        model.password_expiry_days.unwrap_or(0),
        "{context}"
    );
    assert_eq!(
        tenant_doc["features"]["auditLogRetentionDays"], model.retention_days,
        "{context}"
    );
}

/// What a write may leave behind: audit entries and history versions.
fn traces(app: &TestApp) -> (String, String) {
    let count = |sql: &str| app.query_texts(sql).concat();
    (
        count("SELECT CAST(COUNT(*) AS TEXT) AS t FROM audit_log WHERE action <> 'api.request'"),
        count("SELECT CAST(COUNT(*) AS TEXT) AS t FROM settings_history"),
    )
}

/// One resource a client reads and writes: where it reads, how it writes back, and which part
/// of the read it sends.
struct Resource {
    read: String,
    method: Method,
    write: String,
    /// The part of the read that is the writable document (`data` for the user &
    /// organization API's envelope).
    envelope: Option<&'static str>,
}

fn resources(tenant: &str, extra: &[(String, Method, Option<&'static str>)]) -> Vec<Resource> {
    let same = |path: &str, method: Method| Resource {
        read: path.to_owned(),
        method,
        write: path.to_owned(),
        envelope: None,
    };
    let mut list: Vec<Resource> = [
        "notifications",
        "billing",
        "security",
        "integrations",
        "preferences",
    ]
    .into_iter()
    .map(|s| same(&format!("/v2/accounts/settings/{s}"), Method::PUT))
    .collect();
    for (path, method) in [
        ("/api/session-timeout", Method::PUT),
        ("/api/settings/log-retention", Method::PUT),
        ("/api/settings", Method::POST),
    ] {
        list.push(Resource {
            envelope: Some("data"),
            ..same(path, method)
        });
    }
    list.push(same(CATALOG, Method::PUT));
    list.push(same(tenant, Method::PATCH));
    for (path, method, envelope) in extra {
        list.push(Resource {
            envelope: *envelope,
            ..same(path, method.clone())
        });
    }
    list
}

/// The documents beyond the shared policy that clients read and write: the caller's profile, a
/// notification channel and rule of each kind, a catalog notification setting and a member.
async fn more_resources(app: &TestApp, key: &str) -> Vec<(String, Method, Option<&'static str>)> {
    let created = |path: &'static str, body: Value| async move {
        let (status, doc) = call(app, Method::POST, path, key, Some(body)).await;
        assert!(status == 200 || status == 201, "{path}: {status} {doc}");
        doc
    };
    let channel = created(
        "/api/notifications/channels",
        json!({"type": "webhook", "name": "Ops hook", "config": {"url": "https://hooks.example.com/ops", "secret": "whsec_LAWSCHANNEL"}}),
    )
    .await;
    let channel_id = channel["data"]["id"]
        .as_str()
        .expect("channel id")
        .to_owned();
    let rule = created(
        "/api/notifications/rules",
        json!({"name": "Keys", "event": "api_key.created", "channel_ids": [channel_id], "enabled": true}),
    )
    .await;
    let rule_id = rule["data"]["id"].as_str().expect("rule id").to_owned();
    let catalog = [
        (
            "SERVICE_NOTIFICATION",
            json!({"emailNotification": {"emails": ["ops@example.com"]}}),
        ),
        (
            "USAGE_NOTIFICATION",
            json!({"threshold": 100, "emailNotification": {"enable": true, "emails": ["a@example.com", "b@example.com"]}}),
        ),
        (
            "ZONE_TRANSFER_NOTIFICATION",
            json!({"threshold": 200, "emailNotification": {"enable": true, "emails": ["t@example.com"]}}),
        ),
        (
            "ZONE_USAGE_NOTIFICATION",
            json!({"zone": "zonetest.com", "threshold": 25, "emailNotification": {"enable": true, "emails": ["z@example.com"]}}),
        ),
        (
            "PUSH_NOTIFICATIONS",
            json!({"webhooks": [
                {"enable": true, "url": "https://hooks.example.com/push", "include": {"AUTHENTICATION_EVENTS": true}},
                {"enable": false, "url": "https://hooks.example.com/other", "include": {"RECORD_CHANGES": true}}
            ]}),
        ),
    ];
    for (setting, body) in &catalog {
        let path = format!("/accounts/default/settings/{setting}");
        let (status, doc) = call(app, Method::POST, &path, key, Some(body.clone())).await;
        assert!(status == 200 || status == 201, "{path}: {status} {doc}");
    }
    for (pref, value) in [
        ("canvas.snap_to_grid", json!({"enabled": true, "size": 8})),
        ("display.theme", json!("dark")),
    ] {
        let (status, doc) = call(
            app,
            Method::PUT,
            &format!("/api/user-preferences/{pref}"),
            key,
            Some(json!({ "value": value })),
        )
        .await;
        assert_eq!(status, 200, "{pref}: {doc}");
    }
    let account = app.default_account_id().await;
    app.add_member(&account, "developer");
    let (_, members) = call(app, Method::GET, "/v2/accounts/team/members", key, None).await;
    let with_role = |role: &str| {
        members["members"]
            .as_array()
            .and_then(|list| list.iter().find(|m| m["role"] == role))
            .and_then(|m| m["id"].as_str())
            .expect("a member of the role")
            .to_owned()
    };
    let (member, owner) = (with_role("developer"), with_role("owner"));
    let mut list: Vec<(String, Method, Option<&'static str>)> = catalog
        .iter()
        .map(|(setting, _)| {
            (
                format!("/accounts/default/settings/{setting}"),
                Method::PUT,
                None,
            )
        })
        .collect();
    list.extend([
        ("/api/user/profile".into(), Method::PUT, Some("data")),
        (
            "/api/user-preferences/canvas.snap_to_grid".into(),
            Method::PUT,
            Some("data"),
        ),
        (
            "/api/user-preferences/display.theme".into(),
            Method::PUT,
            Some("data"),
        ),
        (
            format!("/api/notifications/channels/{channel_id}"),
            Method::PUT,
            Some("data"),
        ),
        (
            format!("/api/notifications/rules/{rule_id}"),
            Method::PUT,
            Some("data"),
        ),
        (
            "/api/notifications/channels/nch_webhook".into(),
            Method::PUT,
            Some("data"),
        ),
        (
            "/api/notifications/channels/nch_email".into(),
            Method::PUT,
            Some("data"),
        ),
        (
            format!("/v2/accounts/team/members/{member}"),
            Method::PUT,
            Some("member"),
        ),
        (
            format!("/v2/accounts/team/members/{owner}"),
            Method::PUT,
            Some("member"),
        ),
    ]);
    list
}

/// Laws 1 and 4 on every resource: the document read, sent back as it is, is accepted and
/// changes nothing, leaving no trace.
async fn assert_round_trips(
    app: &TestApp,
    key: &str,
    tenant: &str,
    extra: &[(String, Method, Option<&'static str>)],
    context: &str,
) {
    for r in resources(tenant, extra) {
        let before = app.get(&r.read, Some(key)).await;
        assert_eq!(before.status(), 200, "{context}: GET {}", r.read);
        let etag = before.headers().get("etag").cloned();
        let doc: Value = before.json().await.expect("json");
        let body = r.envelope.map_or_else(|| doc.clone(), |e| doc[e].clone());
        let traces_before = traces(app);
        let (status, reply) = call(app, r.method.clone(), &r.write, key, Some(body.clone())).await;
        assert!(
            (200..300).contains(&status),
            "{context}: {} {} with what GET returned ({body}) -> {status} {reply}",
            r.method,
            r.write
        );
        let after = app.get(&r.read, Some(key)).await;
        let etag_after = after.headers().get("etag").cloned();
        let again: Value = after.json().await.expect("json");
        // A member's `lastActive` is the caller's own use of the service, written in the
        // background (key activity): it may land between the two reads. Only it may differ,
        // and only then may the ETag move.
        let activity_moved = without_activity(&again) == without_activity(&doc) && again != doc;
        if !activity_moved {
            assert_eq!(
                etag_after, etag,
                "{context}: the ETag of {} moved after sending it back",
                r.read
            );
        }
        assert_eq!(
            without_activity(&again),
            without_activity(&doc),
            "{context}: {} changed after sending it back",
            r.read
        );
        assert_eq!(
            traces(app),
            traces_before,
            "{context}: sending back {} left an audit entry or a history version",
            r.read
        );
    }
}

/// `doc` without the members' `lastActive` (see `assert_round_trips`).
fn without_activity(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "lastActive")
                .map(|(k, v)| (k.clone(), without_activity(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_activity).collect()),
        other => other.clone(),
    }
}

/// Secrets and lists of every kind, so round trips meet what reads hide.
async fn configure_secrets(app: &TestApp, key: &str) {
    for (section, body) in [
        (
            "notifications",
            json!({"webhook": {"enabled": true, "url": "https://hooks.example.com/tenantry", "events": ["endpoint.failed"], "secret": "whsec_LAWS"}}),
        ),
        (
            "integrations",
            json!({
                "monitoring": {"datadog": {"enabled": true, "api_key": "dd_LAWS"}},
                "docker": {"enabled": true, "registries": [
                    {"url": "registry.hub.docker.com", "username": "one", "access_token": "tok_one"},
                    {"url": "ghcr.io", "username": "two", "access_token": "tok_two"}
                ]}
            }),
        ),
    ] {
        let (status, doc) = call(
            app,
            Method::PUT,
            &format!("/v2/accounts/settings/{section}"),
            key,
            Some(body),
        )
        .await;
        assert_eq!(status, 200, "{section}: {doc}");
    }
}

async fn the_four_laws_hold_over_generated_writes(app: TestApp) {
    let seed = std::env::var("TENANTRY_LAWS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.subsec_nanos().into())
        });
    let key = app.owner_key().to_owned();
    let tenant = crate::tenant_settings::tenant_path(&app).await;
    configure_secrets(&app, &key).await;
    let extra = more_resources(&app, &key).await;
    let mut g = Gen(seed);
    let mut model = Model::default();
    assert_one_value(&app, &key, &tenant, &model, &format!("seed {seed}, start")).await;
    assert_round_trips(&app, &key, &tenant, &extra, &format!("seed {seed}, start")).await;
    for step in 0..BUDGET {
        let w = generate(&mut g, &tenant);
        let context = format!(
            "seed {seed}, step {step}: {} {} {}",
            w.method, w.path, w.body
        );
        let (status, reply) =
            call(&app, w.method.clone(), &w.path, &key, Some(w.body.clone())).await;
        // Law 2: inside the API's own range it is accepted, whatever is stored; outside, refused.
        if (w.accepted)(&model) {
            assert_eq!(status, 200, "{context} -> {reply}");
            (w.apply)(&mut model);
        } else {
            assert_eq!(status, 422, "{context} -> {reply}");
        }
        assert_one_value(&app, &key, &tenant, &model, &context).await;
        assert_round_trips(&app, &key, &tenant, &extra, &context).await;
    }
    // The secrets survived every round trip.
    let datadog = app
        .query_texts("SELECT document AS t FROM settings_documents WHERE section = 'integrations'");
    let stored: Value = serde_json::from_str(&datadog.concat()).expect("stored integrations");
    for registry in stored["docker"]["registries"]
        .as_array()
        .expect("registries")
    {
        assert!(
            registry["access_token_sealed"].is_string(),
            "seed {seed}: a registry lost its token: {registry}"
        );
    }
    assert!(
        stored["monitoring"]["datadog"]["api_key_sealed"].is_string(),
        "seed {seed}"
    );
}

/// The defects that broke the laws, each as the example that showed it.
async fn values_one_api_accepts_never_block_another(app: TestApp) {
    let key = app.owner_key().to_owned();
    let tenant_path = crate::tenant_settings::tenant_path(&app).await;
    // Tenant settings store 50 sessions and 7 days; account settings (1-10, 30-365) still
    // write fields they change.
    let (status, doc) = call(
        &app,
        Method::PATCH,
        &tenant_path,
        &key,
        Some(json!({"security": {"maxConcurrentSessions": 50, "passwordExpiryDays": 5}, "features": {"auditLogRetentionDays": 7}})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &key,
        Some(json!({"two_factor": {"enabled": false}})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["session"]["concurrent_sessions"], 50);
    assert_eq!(doc["audit"]["retention_days"], 7);
    // ...but a changed value is checked against the range of the API it arrives through.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &key,
        Some(json!({"session": {"concurrent_sessions": 11}})),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    // The catalog reads a 5-day expiry and a 5-minute idle timeout it could not write, and
    // takes its own document back.
    let (status, _) = call(
        &app,
        Method::PUT,
        "/api/session-timeout",
        &key,
        Some(json!({"idle_timeout_minutes": 5})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, catalog) = call(&app, Method::GET, CATALOG, &key, None).await;
    assert_eq!(
        catalog,
        json!({"securityPreferences": {"requireMFA": false, "inactivityTimeout": 5, "passwordExpiration": 5, "inactivityUserLockThreshold": 0}})
    );
    let (status, doc) = call(&app, Method::PUT, CATALOG, &key, Some(catalog.clone())).await;
    assert_eq!(status, 200, "{doc}");

    // Every invalid tenant-settings field is reported, not only the first.
    let res = app
        .client
        .patch(app.url(&tenant_path))
        .bearer_auth(&key)
        .json(&json!({"security": {"maxConcurrentSessions": 0, "mfaRequired": "yes"}, "branding": {"primaryColor": "red"}}))
        .send()
        .await
        .expect("patch");
    let status = res.status();
    let problem: Value = res.json().await.expect("problem");
    // Tenant settings answer validation problems with 400 (docs/api/errors.md).
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        problem["errors"].as_array().map(Vec::len),
        Some(3),
        "{problem}"
    );

    // Hours: 100 minutes read as 1.666667 h and written back as that are the same 100 minutes.
    let (status, doc) = call(
        &app,
        Method::PUT,
        "/api/session-timeout",
        &key,
        Some(json!({"absolute_timeout_minutes": 100})),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (_, security) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/security",
        &key,
        None,
    )
    .await;
    assert_eq!(security["session"]["timeout"], json!(1.666667));
    let versions = traces(&app);
    let (status, _) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/security",
        &key,
        Some(json!({"session": {"timeout": 1.6666}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        traces(&app),
        versions,
        "1.6666 h is the stored 100 minutes: no write"
    );

    // A write that changes nothing is no write (an empty billing PUT made a version before).
    let res = app.get("/v2/accounts/settings/billing", Some(&key)).await;
    let etag = res.headers().get("etag").cloned();
    let (status, _) = call(
        &app,
        Method::PUT,
        "/v2/accounts/settings/billing",
        &key,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let res = app.get("/v2/accounts/settings/billing", Some(&key)).await;
    assert_eq!(res.headers().get("etag").cloned(), etag);
    assert_eq!(traces(&app), versions);
}

/// Tenant settings show the ranges in force; sending the document back changes nothing, and
/// both answers list the ranges in one order.
async fn tenant_settings_show_the_enforced_ranges(app: TestApp) {
    let key = app.owner_key().to_owned();
    let tenant_path = crate::tenant_settings::tenant_path(&app).await;
    // Entries exist, enforcement is off: the tenant document shows none in force.
    for cidr in ["10.0.0.0/8", "127.0.0.0/8"] {
        let (status, doc) = call(
            &app,
            Method::POST,
            "/api/settings/ip-whitelist",
            &key,
            Some(json!({"cidr": cidr})),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    let (_, doc) = call(&app, Method::GET, &tenant_path, &key, None).await;
    assert_eq!(doc["security"]["allowedIpRanges"], json!([]));
    let (status, _) = call(&app, Method::PATCH, &tenant_path, &key, Some(doc.clone())).await;
    assert_eq!(status, 200);
    let (_, status_doc) = call(
        &app,
        Method::GET,
        "/api/settings/ip-whitelist/status",
        &key,
        None,
    )
    .await;
    assert_eq!(status_doc["data"]["enabled"], false, "{status_doc}");
    // A changed list replaces the entries and turns enforcement on; reply and read agree.
    let (status, reply) = call(
        &app,
        Method::PATCH,
        &tenant_path,
        &key,
        Some(json!({"security": {"allowedIpRanges": ["192.168.0.0/16", "127.0.0.0/8", "10.0.0.0/8"]}})),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let (_, read) = call(&app, Method::GET, &tenant_path, &key, None).await;
    assert_eq!(
        reply["security"]["allowedIpRanges"],
        read["security"]["allowedIpRanges"]
    );
    assert_eq!(
        read["security"]["allowedIpRanges"],
        json!(["10.0.0.0/8", "127.0.0.0/8", "192.168.0.0/16"])
    );
}

// Hundreds of requests a minute from one key: the per-key and per-address limits are not what
// these laws are about.
on_both_backends!(env [
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
]; the_four_laws_hold_over_generated_writes);
on_both_backends!(
    values_one_api_accepts_never_block_another,
    tenant_settings_show_the_enforced_ranges,
);
