//! The console's settings pages over plain HTTP: every section sent back unchanged changes
//! nothing (a law over generated section values), a conflicting edit overwrites nothing (what
//! it shows: `console_settings_conflict`), the allowlist's lockout guard, write-only secrets, role boundaries,
//! forged and malformed posts, and the notification test. Every outcome is checked through the
//! account settings API.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

use crate::console::{set_owner_password, signed_in_member, Answer, Visitor};
use crate::console_account::signed_in_owner;
use crate::on_both_backends;
use crate::support::{call, Receiver, TestApp};

on_both_backends!(
    console_settings_sent_back_unchanged_change_nothing,
    console_settings_allowlist_shows_the_address_and_refuses_a_lockout,
    console_settings_secrets_are_write_only_and_kept_when_empty,
    console_settings_roles_read_only_and_refused,
    console_settings_forged_and_malformed_posts_change_nothing,
);
// The test sends to receivers on this machine, which the outbound policy refuses by default.
on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")]; console_settings_notification_test_shows_the_answer);

const SECTIONS: [&str; 5] = [
    "notifications",
    "billing",
    "security",
    "integrations",
    "preferences",
];

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A tag's attributes: `name="value"` pairs and bare names (`checked`).
fn attributes(tag: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').expect("closing quote");
            out.push((name, Some(unescape(&after[..close]))));
            rest = &after[close + 1..];
        } else {
            out.push((name, None));
        }
    }
}

fn attr<'a>(attrs: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_deref().unwrap_or(""))
}

/// What a browser posts for the form whose action is `action`, as (name, value) pairs.
pub(crate) fn form_pairs(body: &str, action: &str) -> Vec<(String, String)> {
    let marker = format!("action=\"{action}\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no form {action} in:\n{body}"));
    let start = body[..at].rfind("<form").expect("form start");
    let form = &body[start..at + body[at..].find("</form>").expect("form end")];
    let mut pairs = Vec::new();
    let mut select: Option<(String, Option<String>, Option<String>)> = None;
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>').expect("tag end");
        let tag = rest[open + 1..close].trim_end_matches('/');
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let attrs = attributes(attrs);
        let after = &rest[close + 1..];
        match name {
            "input" => {
                let field = attr(&attrs, "name").map(str::to_owned);
                let kind = attr(&attrs, "type").unwrap_or("text");
                let value = attr(&attrs, "value").unwrap_or("").to_owned();
                match (field, kind) {
                    (Some(f), "checkbox") if attr(&attrs, "checked").is_some() => {
                        pairs.push((f, attr(&attrs, "value").unwrap_or("on").to_owned()))
                    }
                    (Some(_), "checkbox") => {}
                    (Some(f), _) => pairs.push((f, value)),
                    (None, _) => {}
                }
            }
            "textarea" => {
                let end = after.find("</textarea>").expect("textarea end");
                if let Some(f) = attr(&attrs, "name") {
                    pairs.push((f.to_owned(), unescape(&after[..end])));
                }
            }
            "select" => {
                select = attr(&attrs, "name").map(|n| (n.to_owned(), None, None));
            }
            "option" => {
                if let Some((_, first, chosen)) = select.as_mut() {
                    let value = attr(&attrs, "value").unwrap_or("").to_owned();
                    if first.is_none() {
                        *first = Some(value.clone());
                    }
                    if attr(&attrs, "selected").is_some() {
                        *chosen = Some(value);
                    }
                }
            }
            "/select" => {
                if let Some((name, first, chosen)) = select.take() {
                    pairs.push((name, chosen.or(first).unwrap_or_default()));
                }
            }
            _ => {}
        }
        rest = after;
    }
    pairs
}

/// A form's fields as posted.
type Pairs = Vec<(String, String)>;

pub(crate) fn with(pairs: &[(String, String)], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    out.extend(
        changes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    out
}

impl Visitor<'_> {
    pub(crate) async fn post_pairs(&mut self, path: &str, pairs: &[(String, String)]) -> Answer {
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(path, &borrowed).await
    }
}

/// The section as the API reads it: its ETag and its exact bytes.
pub(crate) async fn api_section(app: &TestApp, section: &str) -> (String, String) {
    let res = app
        .get(
            &format!("/v2/accounts/settings/{section}"),
            Some(app.owner_key()),
        )
        .await;
    assert_eq!(res.status(), 200);
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .to_owned();
    (etag, res.text().await.expect("body"))
}

fn pick(options: &[&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(options.to_vec())
}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[A-Za-z][A-Za-z0-9 .&'<>\"-]{0,20}[A-Za-z0-9]")
}

/// A valid value of `section`, as the API's PUT takes it.
fn section_value(section: &'static str) -> BoxedStrategy<Value> {
    match section {
        "notifications" => (
            any::<[bool; 9]>(),
            pick(&["immediate", "daily_digest", "weekly_digest"]),
            proptest::option::of("[a-z]{1,8}@example\\.test"),
            proptest::option::of("#[a-z0-9]{1,10}"),
            proptest::sample::subsequence(
                vec!["endpoint.failed", "member.joined", "api_key.created"],
                0..3,
            ),
            proptest::option::of("[A-Za-z0-9]{8,16}"),
        )
            .prop_map(|(b, frequency, email, channel, events, secret)| {
                json!({
                    "email": { "enabled": b[0], "frequency": frequency, "email": email,
                        "alerts": { "cost_alerts": b[1], "usage_warnings": b[2], "security_notifications": b[3], "system_updates": b[4], "marketing_emails": b[5] } },
                    "slack": { "enabled": false, "channel": channel,
                        "alerts": { "endpoint_failures": b[6], "cost_thresholds": b[7], "cluster_events": b[8] } },
                    "webhook": { "enabled": false, "events": events, "secret": secret },
                })
            })
            .boxed(),
        "billing" => (
            pick(&["USD", "EUR", "GBP", "JPY"]),
            pick(&["UTC", "Europe/Paris", "America/New_York"]),
            (text(), text(), proptest::option::of(pick(&["FR", "US", "DE"]))),
            proptest::option::of(1u32..100_000),
            proptest::collection::vec(
                (1u32..10_000, pick(&["daily", "weekly", "monthly"]), any::<bool>()),
                0..3,
            ),
        )
            .prop_map(|(currency, timezone, (name, city, country), amount, alerts)| {
                json!({
                    "currency": currency, "timezone": timezone,
                    "billing_address": { "name": name, "city": city, "country": country },
                    "auto_recharge": { "enabled": false, "threshold": amount.map(|a| f64::from(a) / 100.0), "amount": amount.map(|a| a * 2) },
                    "cost_alerts": alerts.into_iter().map(|(t, p, e)| json!({ "threshold": f64::from(t) / 4.0, "period": p, "enabled": e })).collect::<Vec<_>>(),
                })
            })
            .boxed(),
        "security" => (
            any::<[bool; 5]>(),
            1u32..=50,
            (1u32..=168, any::<bool>()),
            1u32..=10,
            30u32..=365,
            proptest::sample::subsequence(vec!["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"], 0..3),
        )
            .prop_map(|(b, keys, (hours, half), sessions, retention, extra)| {
                // The visitor's own address is always covered: the lockout guard is tested apart.
                let mut list = vec!["127.0.0.0/8"];
                list.extend(extra);
                json!({
                    "api_access": { "ip_whitelist": list, "require_ip_whitelist": b[0], "max_api_keys": keys },
                    "session": { "timeout": if half && hours < 168 { f64::from(hours) + 0.5 } else { f64::from(hours) }, "require_reauth_for_sensitive": b[1], "concurrent_sessions": sessions },
                    "audit": { "log_api_requests": b[2], "log_resource_access": b[3], "retention_days": retention },
                })
            })
            .boxed(),
        "integrations" => (
            proptest::option::of("[a-z][a-z0-9]{0,10}"),
            proptest::collection::vec("[a-z]{1,8}/[a-z]{1,8}", 0..3),
            proptest::option::of("[A-Za-z0-9]{10,20}"),
            proptest::collection::vec(("[a-z]{1,8}\\.example\\.test", proptest::option::of("[a-z]{1,8}"), proptest::option::of("[A-Za-z0-9]{8,12}")), 0..3),
            proptest::option::of("[a-z0-9]{1,10}"),
        )
            .prop_map(|(username, repos, token, registries, dashboard)| {
                let mut seen = Vec::new();
                let registries: Vec<Value> = registries
                    .into_iter()
                    .filter(|(url, _, _)| { let new = !seen.contains(url); seen.push(url.clone()); new })
                    .map(|(url, user, token)| json!({ "url": url, "username": user, "access_token": token }))
                    .collect();
                json!({
                    "github": { "enabled": false, "username": username, "repositories": repos, "access_token": token },
                    "docker": { "enabled": false, "registries": registries },
                    "monitoring": { "grafana": { "enabled": false, "dashboard_id": dashboard } },
                })
            })
            .boxed(),
        _ => (
            proptest::option::of(pick(&["UTC", "Asia/Tokyo", "Europe/Berlin"])),
            pick(&["en", "fr", "de"]),
            pick(&["light", "dark", "auto"]),
        )
            .prop_map(|(tz, language, theme)| json!({ "timezone": tz, "language": language, "theme": theme }))
            .boxed(),
    }
}

/// The law: whatever valid values a section holds, its console form sent back unchanged leaves
/// the API's reading byte for byte as it was (no new version either).
async fn console_settings_sent_back_unchanged_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let seed: u64 = std::env::var("TENANTRY_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5e771965);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    // A fixed budget: 6 generated values per section, each a real write, page and post.
    for case in 0..6 {
        for section in SECTIONS {
            let value = section_value(section)
                .new_tree(&mut runner)
                .expect("value")
                .current();
            let context =
                format!("seed {seed} (TENANTRY_PROPTEST_SEED), case {case}, {section}: {value}");
            let res = app
                .put(
                    &format!("/v2/accounts/settings/{section}"),
                    app.owner_key(),
                    &value,
                )
                .await;
            assert_eq!(
                res.status(),
                200,
                "{context}: {}",
                res.text().await.unwrap_or_default()
            );
            let before = api_section(&app, section).await;
            let path = format!("/console/settings/{section}");
            let page = me.get(&path).await;
            assert_eq!(page.status, 200, "{context}: {}", page.body);
            let sent = me.post_pairs(&path, &form_pairs(&page.body, &path)).await;
            assert_eq!(sent.status, 200, "{context}: {}", sent.body);
            assert!(sent.body.contains("Saved."), "{context}: {}", sent.body);
            assert_eq!(api_section(&app, section).await, before, "{context}");
        }
    }
}

async fn console_settings_allowlist_shows_the_address_and_refuses_a_lockout(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let path = "/console/settings/security";
    let page = me.get(path).await;
    assert!(
        page.body
            .contains("Your address: <strong>127.0.0.1</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("NOT covered by this list"),
        "an empty list covers nobody"
    );
    let before = api_section(&app, "security").await;
    let form = form_pairs(&page.body, path);
    let lockout = with(
        &form,
        &[
            ("api_access.ip_whitelist", "10.0.0.0/8\n192.168.0.0/16"),
            ("api_access.require_ip_whitelist", "on"),
        ],
    );
    let res = me.post_pairs(path, &lockout).await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(
        res.body
            .contains("This change would refuse your own address 127.0.0.1"),
        "{}",
        res.body
    );
    assert!(res.body.contains("NOT covered by this list"));
    assert_eq!(
        api_section(&app, "security").await,
        before,
        "nothing changed"
    );
    // An entry that is not an address is refused beside the list.
    let res = me
        .post_pairs(
            path,
            &with(
                &form,
                &[("api_access.ip_whitelist", "127.0.0.1\nnot-an-ip")],
            ),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("id=\"f-api-access-ip-whitelist-error\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("not-an-ip"));
    assert_eq!(api_section(&app, "security").await, before);
    // A list that covers the visitor is saved, and the page says so.
    let res = me
        .post_pairs(
            path,
            &with(
                &form,
                &[
                    ("api_access.ip_whitelist", "127.0.0.0/8"),
                    ("api_access.require_ip_whitelist", "on"),
                ],
            ),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("— covered by this list"), "{}", res.body);
    let (_, body) = api_section(&app, "security").await;
    let doc: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["api_access"]["ip_whitelist"], json!(["127.0.0.0/8"]));
    assert_eq!(doc["api_access"]["require_ip_whitelist"], true);
}

/// The secrets as stored, through an export with secrets (an admin's API key).
pub(crate) async fn secrets(app: &TestApp) -> Value {
    let (status, doc) = call(
        app,
        Method::GET,
        "/v2/accounts/settings/export?include_secrets=true&sections=notifications,integrations",
        app.owner_key(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["export"]["settings"].clone()
}

async fn console_settings_secrets_are_write_only_and_kept_when_empty(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let res = app
        .put(
            "/v2/accounts/settings/integrations",
            app.owner_key(),
            &json!({ "github": { "access_token": "ghp_firstsecret123" },
                     "docker": { "registries": [{ "url": "r.example.test", "username": "u", "access_token": "dockersecret9" }] } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let path = "/console/settings/integrations";
    let page = me.get(path).await;
    assert!(!page.body.contains("ghp_firstsecret123") && !page.body.contains("dockersecret9"));
    assert!(
        page.body.contains("set — leave empty to keep"),
        "{}",
        page.body
    );
    let form = form_pairs(&page.body, path);
    let res = me
        .post_pairs(path, &with(&form, &[("github.username", "octo")]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let kept = secrets(&app).await;
    assert_eq!(
        kept["integrations"]["github"]["access_token"],
        "ghp_firstsecret123"
    );
    assert_eq!(kept["integrations"]["github"]["username"], "octo");
    assert_eq!(
        kept["integrations"]["docker"]["registries"][0]["access_token"],
        "dockersecret9"
    );
    // A new value replaces it, and is not shown back.
    let form = form_pairs(&res.body, path);
    let res = me
        .post_pairs(
            path,
            &with(&form, &[("github.access_token", "ghp_secondsecret456")]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(!res.body.contains("ghp_secondsecret456"));
    assert_eq!(
        secrets(&app).await["integrations"]["github"]["access_token"],
        "ghp_secondsecret456"
    );
}

async fn console_settings_roles_read_only_and_refused(app: TestApp) {
    set_owner_password(&app).await;
    let mut owner = signed_in_owner(&app).await;
    let owner_form = form_pairs(
        &owner.get("/console/settings/security").await.body,
        "/console/settings/security",
    );
    let (mut viewer, _) = signed_in_member(&app, "viewer").await;
    let (mut developer, _) = signed_in_member(&app, "developer").await;
    let index = viewer.get("/console/settings").await;
    assert_eq!(index.status, 200, "{}", index.body);
    assert!(index.body.contains("read only for your role"));
    for section in ["security", "billing", "integrations", "notifications"] {
        let path = format!("/console/settings/{section}");
        let page = viewer.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            !page.body.contains("name=\"etag\""),
            "{section}: no form for a viewer"
        );
        assert!(page.body.contains("Your role can read these settings"));
        let csrf = page.hidden("csrf");
        let before = api_section(&app, section).await;
        let forged = with(&owner_form, &[("csrf", &csrf)]);
        let res = viewer.post_pairs(&path, &forged).await;
        assert_eq!(res.status, 403, "{section}: {}", res.body);
        assert_eq!(
            api_section(&app, section).await,
            before,
            "{section}: unchanged"
        );
    }
    // A developer changes notifications, but not billing.
    let path = "/console/settings/notifications";
    let page = developer.get(path).await;
    assert!(page.body.contains("name=\"etag\""));
    let res = developer
        .post_pairs(
            path,
            &with(
                &form_pairs(&page.body, path),
                &[("email.frequency", "weekly_digest")],
            ),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let billing = developer.get("/console/settings/billing").await;
    assert!(!billing.body.contains("name=\"etag\""));
    let before = api_section(&app, "billing").await;
    let owner_billing = form_pairs(
        &owner.get("/console/settings/billing").await.body,
        "/console/settings/billing",
    );
    let csrf = billing.hidden("csrf");
    let res = developer
        .post_pairs(
            "/console/settings/billing",
            &with(&owner_billing, &[("csrf", &csrf), ("currency", "JPY")]),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(api_section(&app, "billing").await, before);
    // Each member's preferences are their own: a viewer edits theirs.
    let path = "/console/settings/preferences";
    let page = viewer.get(path).await;
    let res = viewer
        .post_pairs(
            path,
            &with(&form_pairs(&page.body, path), &[("theme", "dark")]),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let (_, mine) = api_section(&app, "preferences").await;
    assert_ne!(
        serde_json::from_str::<Value>(&mine).expect("json")["theme"],
        "dark",
        "the owner's are untouched"
    );
    // Only the API's sections exist.
    for unknown in ["organization", "nope", "..%2Fsecurity"] {
        assert_eq!(
            owner
                .get(&format!("/console/settings/{unknown}"))
                .await
                .status,
            404
        );
    }
}

async fn console_settings_forged_and_malformed_posts_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let path = "/console/settings/security";
    let form = form_pairs(&me.get(path).await.body, path);
    let foreign = other.get(path).await.hidden("csrf");
    let before = api_section(&app, "security").await;
    let change = ("api_access.max_api_keys", "7");
    let oversized_base = format!(r#"{{"api_access.max_api_keys": "{}"}}"#, "x".repeat(9000));
    let no_token: Vec<(String, String)> = with(&form, &[change])
        .into_iter()
        .filter(|(k, _)| k != "csrf")
        .collect();
    let cases: Vec<(Pairs, u16, &str)> = vec![
        (no_token, 403, "This form has expired"),
        (
            with(&form, &[change, ("csrf", &foreign)]),
            403,
            "This form has expired",
        ),
        (
            with(
                &form,
                &[change, ("billing_address.name", &"x".repeat(3000))],
            ),
            400,
            "longer than",
        ),
        (
            with(&form, &[("api_access.max_api_keys", "1e3")]),
            422,
            "Enter a whole number.",
        ),
        (
            with(&form, &[("api_access.max_api_keys", "0")]),
            422,
            "f-api-access-max-api-keys-error",
        ),
        (with(&form, &[change, ("etag", "")]), 400, "which version"),
        (
            with(&form, &[change, ("etag", "not quoted")]),
            400,
            "which version",
        ),
        // "Any version" is no version the page drew: it would skip the conflict check.
        (with(&form, &[change, ("etag", "*")]), 400, "which version"),
        (
            with(&form, &[change, ("etag", "\"a\", \"b\"")]),
            400,
            "which version",
        ),
        (
            [
                with(&form, &[change]),
                vec![("api_access.max_api_keys".into(), "8".into())],
            ]
            .concat(),
            400,
            "sent twice",
        ),
        // The values the form was drawn from: bounded, a JSON object of the form's fields.
        (
            with(&form, &[change, ("base", "not json")]),
            400,
            "could not be read",
        ),
        (
            with(&form, &[change, ("base", "[1, 2]")]),
            400,
            "could not be read",
        ),
        (
            with(&form, &[change, ("base", r#"{"api_access.nope": 1}"#)]),
            400,
            "could not be read",
        ),
        (
            with(&form, &[change, ("base", &oversized_base)]),
            400,
            "longer than 8192 characters",
        ),
        (
            [with(&form, &[change]), vec![("base".into(), "{}".into())]].concat(),
            400,
            "sent twice",
        ),
    ];
    for (pairs, status, says) in cases {
        let res = me.post_pairs(path, &pairs).await;
        assert_eq!(res.status, status, "{says}: {}", res.body);
        assert!(res.body.contains(says), "{says}: {}", res.body);
        assert_eq!(
            api_section(&app, "security").await,
            before,
            "{says}: nothing changed"
        );
    }
    // A body over the form limit.
    let huge = with(
        &form,
        &[("api_access.ip_whitelist", &"127.0.0.1\n".repeat(3000))],
    );
    assert_eq!(me.post_pairs(path, &huge).await.status, 400);
    assert_eq!(api_section(&app, "security").await, before);
    // A forged base never decides what is written: the posted form is, under `If-Match`.
    let forged = r#"{"api_access.max_api_keys": 50, "audit.retention_days": 365}"#;
    let res = me
        .post_pairs(path, &with(&form, &[change, ("base", forged)]))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let mut expected: Value = serde_json::from_str(&before.1).expect("json");
    expected["api_access"]["max_api_keys"] = json!(7);
    let (_, after) = api_section(&app, "security").await;
    assert_eq!(
        serde_json::from_str::<Value>(&after).expect("json"),
        expected
    );
}

async fn console_settings_notification_test_shows_the_answer(app: TestApp) {
    set_owner_password(&app).await;
    let mut me = signed_in_owner(&app).await;
    let hook = Receiver::start(200, "<b>accepted</b>").await;
    let path = "/console/settings/notifications";
    let csrf = me.get(path).await.hidden("csrf");
    let target = format!("{}/services/T0/B0/X", hook.url);
    let res = me
        .post(
            "/console/settings/notifications/test",
            &[("csrf", &csrf), ("type", "slack"), ("target", &target)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("status_code</dt><dd>200"), "{}", res.body);
    assert!(res.body.contains("slack_response</dt><dd>"), "{}", res.body);
    assert!(
        res.body.contains("&lt;b&gt;accepted&lt;/b&gt;"),
        "escaped: {}",
        res.body
    );
    assert_eq!(hook.received().await.len(), 1);
    // A receiver that refuses: its answer is shown, nothing else happens.
    let refusing = Receiver::start(500, "down").await;
    let target = format!("{}/hook", refusing.url);
    let res = me
        .post(
            "/console/settings/notifications/test",
            &[("csrf", &csrf), ("type", "webhook"), ("target", &target)],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body.contains("did not accept the test"), "{}", res.body);
    // Without a token nothing is sent; a viewer cannot send one.
    let res = me
        .post(
            "/console/settings/notifications/test",
            &[
                ("type", "slack"),
                ("target", &format!("{}/services/T0/B0/X", hook.url)),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    let (mut viewer, _) = signed_in_member(&app, "viewer").await;
    let viewer_csrf = viewer.get(path).await.hidden("csrf");
    let res = viewer
        .post(
            "/console/settings/notifications/test",
            &[
                ("csrf", &viewer_csrf),
                ("type", "slack"),
                ("target", &format!("{}/services/T0/B0/X", hook.url)),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(hook.received().await.len(), 1, "nothing more was sent");
}
