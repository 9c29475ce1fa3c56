//! The console's audit log (`/console/audit`, `/console/audit.csv`) over plain HTTP: filters,
//! paging, the streamed CSV download of the filtered entries, and who is refused; then one flow
//! in a real browser. The entries to page through are written straight into the database (1,200
//! of them, a minute apart), as the services write them.

use reqwest::Method;
use serde_json::json;

use crate::console::{set_owner_password, signed_in_member, Visitor, PASSWORD};
use crate::console_account::signed_in_owner;
use crate::on_both_backends;
use crate::support::{call, Backend, TestApp, TestDb};

on_both_backends!(
    console_audit_filters_and_pages_like_the_api,
    console_audit_csv_streams_every_filtered_entry_in_order,
    console_audit_refuses_lower_roles_other_accounts_and_bad_filters,
);

on_both_backends!(env [("TENANTRY_PORTAL_RETURN_ORIGINS", "https://app.example.test")];
    console_audit_refuses_a_portal_session_without_the_audit_scope);

/// 2025-01-01T00:00:00Z, in microseconds: bulk entry `i` is `i` minutes later.
const BASE_MICROS: i64 = 1_735_689_600_000_000;
const BULK: usize = 1_200;
/// The target of one bulk entry: a formula, with a comma and quotes.
const FORMULA: &str = "=HYPERLINK(\"http://evil.test\",\"a,b\")";

/// Writes `count` `bulk.test` entries into `account`, by `actor`, one a minute from
/// [`BASE_MICROS`] (ids `aud_bulk_00000`...), entry 7 with the [`FORMULA`] target.
fn write_entries(app: &TestApp, account: &str, actor: &str, count: usize) {
    let rows: Vec<String> = (0..count)
        .map(|i| {
            let target = if i == 7 {
                FORMULA.to_owned()
            } else {
                format!("target-{i:05}")
            };
            format!(
                "('aud_bulk_{i:05}', '{account}', '{actor}', 'bulk.test', '{target}', \
                 '{{\"n\":{i}}}', '10.0.0.1', NULL, {})",
                BASE_MICROS + i as i64 * 60_000_000
            )
        })
        .collect();
    for chunk in rows.chunks(200) {
        app.db.execute(&format!(
            "INSERT INTO audit_log (id, account_id, actor, action, target, diff, ip, request_id, \
             created_at) VALUES {}",
            chunk.join(", ")
        ));
    }
}

/// The id of the user `key` belongs to.
async fn user_id(app: &TestApp, key: &str) -> String {
    let (status, profile) = call(app, Method::GET, "/api/user/profile", key, None).await;
    assert_eq!(status, 200, "{profile}");
    let data = if profile["data"].is_object() {
        &profile["data"]
    } else {
        &profile
    };
    data["id"]
        .as_str()
        .unwrap_or_else(|| panic!("id in {profile}"))
        .to_owned()
}

/// Every entry id the JSON API lists for `query`, following its cursor.
async fn api_ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/v2/accounts/audit-logs?limit=200{query}{cursor}");
        let (status, doc) = call(app, Method::GET, &path, app.owner_key(), None).await;
        assert_eq!(status, 200, "{doc}");
        ids.extend(
            doc["audit_logs"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| e["id"].as_str().expect("id").to_owned()),
        );
        match doc["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
}

/// The targets shown in a page's table, in order.
fn shown_targets(body: &str) -> Vec<String> {
    body.match_indices("<td>target-")
        .map(|(at, _)| body[at + 4..at + 4 + "target-00000".len()].to_owned())
        .collect()
}

/// The href of the link that reads `text`.
fn link(body: &str, text: &str) -> String {
    let at = body
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("no link {text} in {body}"));
    let start = body[..at].rfind("href=\"").expect("href") + "href=\"".len();
    let end = start + body[start..].find('"').expect("end of href");
    body[start..end].replace("&amp;", "&")
}

async fn console_audit_filters_and_pages_like_the_api(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let owner = user_id(&app, app.owner_key()).await;
    write_entries(&app, &account, &owner, BULK);
    let mut me = signed_in_owner(&app).await;

    let home = me.get("/console").await;
    assert!(
        home.body.contains("href=\"/console/audit\""),
        "owner sees the row"
    );
    let all = me.get("/console/audit").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body.contains("account.created"), "{}", all.body);
    assert!(all.body.len() < 100_000, "{} bytes", all.body.len());

    let first = me.get("/console/audit?action=bulk.test").await;
    assert_eq!(first.status, 200);
    let targets = shown_targets(&first.body);
    assert_eq!(targets.len(), 50);
    assert_eq!(targets[0], "target-01199");
    assert!(!first.body.contains("First page"));
    let second = me.get(&link(&first.body, "Next page")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(shown_targets(&second.body)[0], "target-01149");
    assert!(second.body.contains("First page"));
    assert!(second.body.contains("value=\"bulk.test\""), "filters kept");

    // A time range: from entry 100 (01:40) to before entry 110 (01:50).
    let range = me
        .get("/console/audit?action=bulk.test&since=2025-01-01+01%3A40&until=2025-01-01T01:50")
        .await;
    assert_eq!(range.status, 200, "{}", range.body);
    let expected: Vec<String> = (100..110).rev().map(|i| format!("target-{i:05}")).collect();
    assert_eq!(shown_targets(&range.body), expected);
    assert!(range.body.contains("2025-01-01 01:49 UTC"));
    assert!(!range.body.contains("Next page"));

    // By actor: the owner's bulk entries; an actor with none shows none.
    let mine = me
        .get(&format!("/console/audit?actor={owner}&action=bulk.test"))
        .await;
    assert_eq!(shown_targets(&mine.body).len(), 50);
    let nobody = me.get("/console/audit?actor=usr_nobody").await;
    assert!(nobody.body.contains("No entries match these filters."));

    // The formula target is shown as text, escaped.
    let formula = me
        .get("/console/audit?action=bulk.test&since=2025-01-01T00:07&until=2025-01-01T00:08")
        .await;
    assert!(formula
        .body
        .contains("=HYPERLINK(&quot;http://evil.test&quot;,&quot;a,b&quot;)"));
}

async fn console_audit_csv_streams_every_filtered_entry_in_order(app: TestApp) {
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let owner = user_id(&app, app.owner_key()).await;
    write_entries(&app, &account, &owner, BULK);
    // A change whose entry must not carry the secret it made.
    let (status, key) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        app.owner_key(),
        Some(json!({ "name": "audited" })),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["data"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("secret in {key}"))
        .to_owned();
    let mut me = signed_in_owner(&app).await;

    let page = me.get("/console/audit?action=bulk.test").await;
    let download = link(&page.body, "Download these entries (CSV)");
    assert_eq!(download, "/console/audit.csv?action=bulk.test");
    let csv = me.get(&download).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let header = |name: &str| {
        csv.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"audit-{account}-{today}.csv\"")
    );
    assert!(
        csv.headers.get("content-length").is_none(),
        "streamed, not sent as one sized body"
    );
    let lines: Vec<&str> = csv.body.split_terminator("\r\n").collect();
    assert_eq!(lines[0], "id,time,actor,action,target,ip,details");
    assert_eq!(lines.len(), BULK + 1);
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().expect("id"))
        .collect();
    let expected: Vec<String> = (0..BULK)
        .rev()
        .map(|i| format!("aud_bulk_{i:05}"))
        .collect();
    assert_eq!(ids, expected, "every entry, newest first");
    assert_eq!(
        lines[1],
        format!(
            "aud_bulk_01199,2025-01-01T19:59:00.000000Z,{owner},bulk.test,target-01199,10.0.0.1,\
             \"{{\"\"n\"\":1199}}\""
        )
    );
    let formula_line = lines[BULK - 7];
    assert!(
        formula_line.contains(",\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"a,b\"\")\","),
        "{formula_line}"
    );

    // Unfiltered: what the API lists, in its order, and no secret.
    let everything = me.get("/console/audit.csv").await;
    let ids: Vec<String> = everything
        .body
        .split_terminator("\r\n")
        .skip(1)
        .map(|l| l.split(',').next().expect("id").to_owned())
        .collect();
    // Entries written meanwhile (the sign-in's own) may follow in the API's list.
    let listed: Vec<String> = api_ids(&app, "")
        .await
        .into_iter()
        .filter(|id| ids.contains(id))
        .collect();
    assert_eq!(ids, listed, "the API's entries, in its order");
    assert!(ids.len() > BULK);
    assert!(
        everything.body.contains("key.created"),
        "{}",
        &everything.body[..400]
    );
    assert!(!everything.body.contains(&secret));
    let shown = me.get("/console/audit?action=key.created").await;
    assert!(shown.body.contains("key.created") && !shown.body.contains(&secret));

    // The filters hold in the download as on the page: a time range.
    let range = me
        .get("/console/audit.csv?action=bulk.test&since=2025-01-01T01:40&until=2025-01-01T01:50")
        .await;
    assert_eq!(range.body.split_terminator("\r\n").count(), 11);
}

async fn console_audit_refuses_lower_roles_other_accounts_and_bad_filters(app: TestApp) {
    set_owner_password(&app).await;
    let before = api_ids(&app, "").await;
    for path in ["/console/audit", "/console/audit.csv"] {
        let anonymous = Visitor::new(&app).get(path).await;
        assert_eq!(anonymous.status, 303, "{path}");
        assert_eq!(anonymous.location(), "/console/login");
    }
    for role in ["viewer", "developer"] {
        let (mut lower, _) = signed_in_member(&app, role).await;
        let home = lower.get("/console").await;
        assert!(!home.body.contains("href=\"/console/audit\""), "{role}");
        for path in [
            "/console/audit",
            "/console/audit.csv?action=account.created",
        ] {
            let res = lower.get(path).await;
            assert_eq!(res.status, 403, "{role} {path}");
            assert!(res.body.contains("Not available to your role"));
            assert!(!res.body.contains("account.created"), "{role} {path}");
        }
    }
    let (mut admin, _) = signed_in_member(&app, "admin").await;
    assert_eq!(admin.get("/console/audit").await.status, 200);
    assert_eq!(admin.get("/console/audit.csv").await.status, 200);

    // Another account's entries are not this account's: its actor selects nothing here, and
    // its entries never show.
    let other = app
        .create_account("audit-other", "other@example.test")
        .await;
    let other_key = other["owner_api_key"].as_str().expect("key");
    let other_owner = user_id(&app, other_key).await;
    let (_, theirs) = call(
        &app,
        Method::GET,
        "/v2/accounts/audit-logs",
        other_key,
        None,
    )
    .await;
    let their_ids: Vec<&str> = theirs["audit_logs"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert!(!their_ids.is_empty());
    let mut me = signed_in_owner(&app).await;
    let page = me.get(&format!("/console/audit?actor={other_owner}")).await;
    assert!(page.body.contains("No entries match these filters."));
    let csv = me
        .get(&format!("/console/audit.csv?actor={other_owner}"))
        .await;
    assert_eq!(csv.body, "id,time,actor,action,target,ip,details\r\n");
    let all = me.get("/console/audit.csv").await;
    for id in &their_ids {
        assert!(!all.body.contains(id), "{id}");
    }

    // Filters that cannot be read: said beside the field, or a page that says so.
    let bad_time = me
        .get("/console/audit?since=yesterday&until=2025-01-01")
        .await;
    assert_eq!(bad_time.status, 422);
    assert!(bad_time.body.contains("id=\"since-error\""));
    assert!(bad_time.body.contains("aria-invalid=\"true\""));
    assert!(!bad_time.body.contains("id=\"until-error\""));
    assert_eq!(me.get("/console/audit.csv?until=13/01").await.status, 422);
    let long = "a".repeat(101);
    for path in [
        format!("/console/audit?actor={long}"),
        format!("/console/audit.csv?actor={long}"),
        format!("/console/audit?action={}", "b".repeat(201)),
        "/console/audit?actor=a&actor=b".to_owned(),
    ] {
        let res = me.get(&path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.body);
        assert!(res.body.contains("could not be read"), "{path}");
    }
    let cursor = me.get("/console/audit?cursor=zz").await;
    assert_eq!(cursor.status, 400);
    assert!(cursor.body.contains("This page link is not valid"));

    // Reading removed nothing from the log.
    let after = api_ids(&app, "").await;
    assert!(before.iter().all(|id| after.contains(id)));
}

/// A session a portal link opened carries the scopes of the key that minted it: an admin's
/// key scoped to the team reads no audit log through the API, nor through the console.
async fn console_audit_refuses_a_portal_session_without_the_audit_scope(app: TestApp) {
    let account = app.default_account_id().await;
    let minter = app.add_member(&account, "admin");
    let target = app.add_member(&account, "admin");
    let target_id = user_id(&app, &target).await;
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        &minter,
        Some(json!({ "name": "embedding", "scopes": ["team:write"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let scoped = created["data"]["secret"].as_str().expect("secret");
    let (status, link) = call(
        &app,
        Method::POST,
        "/v2/accounts/portal-links",
        scoped,
        Some(json!({ "userId": target_id, "intent": "team",
                     "returnUrl": "https://app.example.test/settings" })),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    let session = app
        .redeem_portal_link(link["url"].as_str().expect("url"), None)
        .expect("redeemed")
        .session
        .token;
    let (status, _) = call(&app, Method::GET, "/v2/accounts/audit-logs", &session, None).await;
    assert_eq!(status, 403, "the API refuses it");
    let mut visitor = Visitor::new(&app);
    visitor
        .cookies
        .insert("tenantry_session".to_owned(), session.clone());
    assert_eq!(visitor.get("/console").await.status, 200, "signed in");
    for path in ["/console/audit", "/console/audit.csv"] {
        let res = visitor.get(path).await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
        assert!(res.body.contains("Not available to this sign-in"));
        assert!(!res.body.contains("account.created"));
    }
}

/// The audit log in a real browser: the owner filters by action, pages on, and sees a bad time
/// refused beside its field.
#[tokio::test]
async fn browser_audit_filter_page_and_refused_time() {
    let app = TestApp::start(TestDb::create(Backend::Sqlite).expect("sqlite"), &[]).await;
    set_owner_password(&app).await;
    let account = app.default_account_id().await;
    let owner = user_id(&app, app.owner_key()).await;
    write_entries(&app, &account, &owner, 60);
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto("/console/audit").await;
    browser.check_page("audit log").await;
    browser.fill("Action", "bulk.test").await;
    browser.click("Show entries").await;
    let text = browser.text().await;
    assert!(text.contains("target-00059"), "{text}");
    assert!(!text.contains("account.created"), "{text}");
    browser.check_page("filtered audit log").await;
    let next = browser
        .execute("return Array.from(document.querySelectorAll('a')).find(a => a.textContent === 'Next page').getAttribute('href');")
        .await;
    browser.goto(next.as_str().expect("next page link")).await;
    let text = browser.text().await;
    assert!(
        text.contains("target-00009") && !text.contains("target-00059"),
        "{text}"
    );
    browser.check_page("second page").await;
    browser.fill("From (UTC)", "yesterday").await;
    browser.click("Show entries").await;
    assert!(browser.text().await.contains("Use a UTC date"));
    browser.check_page("refused time").await;
}
