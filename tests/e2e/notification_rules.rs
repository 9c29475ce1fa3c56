//! Notification rules and channels one by one: a rule's name keys it, rules are read, replaced
//! and deleted by id, a channel is read by its id, and every notification list pages with
//! `limit` and `cursor` like the whole list.

use reqwest::Method;
use serde_json::{json, Value};

use crate::notifications::{create_channel, CHANNELS, RULES};
use crate::support::{call, TestApp};

crate::on_both_backends!(
    a_rule_created_under_an_existing_name_replaces_it,
    rules_are_read_replaced_and_deleted_one_by_one,
    a_channel_is_read_by_its_id,
);

fn custom_rules(list: &Value) -> Vec<Value> {
    list["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| r["builtin"] == false)
        .cloned()
        .collect()
}

/// The API document's "Create or replace": the name keys a rule.
async fn a_rule_created_under_an_existing_name_replaces_it(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (status, first) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "Ops", "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = call(&app, Method::POST, RULES, &owner, Some(json!({ "name": "Ops", "event": "member.removed", "channel_ids": ["nch_email"], "enabled": false }))).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["data"]["id"], first["data"]["id"]);
    assert_eq!(second["data"]["created_at"], first["data"]["created_at"]);
    let (_, list) = call(&app, Method::GET, RULES, &owner, None).await;
    let custom = custom_rules(&list);
    assert_eq!(custom.len(), 1, "{list}");
    assert_eq!(custom[0]["event"], "member.removed");
    assert_eq!(custom[0]["enabled"], false);
    // A built-in rule's name is not taken over.
    let builtin = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["builtin"] == true)
        .expect("a built-in rule")["name"]
        .clone();
    let (status, doc) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": builtin, "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    assert_eq!(
        doc["error"]["details"]["fields"][0]["field"], "name",
        "{doc}"
    );
}

async fn rules_are_read_replaced_and_deleted_one_by_one(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let (_, a) = call(&app, Method::POST, RULES, &owner, Some(json!({ "name": "A", "event": "member.invited", "channel_ids": ["nch_email"], "filters": { "severity": "high" } }))).await;
    let (_, b) = call(
        &app,
        Method::POST,
        RULES,
        &owner,
        Some(json!({ "name": "B", "event": "member.invited", "channel_ids": ["nch_email"] })),
    )
    .await;
    let a_url = format!("{RULES}/{}", a["data"]["id"].as_str().expect("id"));
    let b_url = format!("{RULES}/{}", b["data"]["id"].as_str().expect("id"));

    let (status, got) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["name"], "A");
    assert_eq!(got["data"]["filters"], json!({ "severity": "high" }));

    // PUT replaces the whole rule: absent filters are cleared.
    let (status, put) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "A2", "event": "member.removed", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    let (_, got) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(got["data"]["name"], "A2");
    assert_eq!(got["data"]["event"], "member.removed");
    assert_eq!(got["data"]["filters"], json!({}));

    // Names key "create or replace", so one rule cannot take another's.
    let (status, doc) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "B", "event": "member.removed", "channel_ids": ["nch_email"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");
    let (status, doc) = call(
        &app,
        Method::PUT,
        &a_url,
        &owner,
        Some(json!({ "name": "A3", "event": "member.removed", "channel_ids": ["nch_nope"] })),
    )
    .await;
    assert_eq!(status, 422, "{doc}");

    // Built-in rules are seed 01's settings: read here, changed there.
    let builtin = format!("{RULES}/nrl_email_cost_alerts_1");
    let (status, doc) = call(&app, Method::GET, &builtin, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["builtin"], true);
    let (status, doc) = call(&app, Method::DELETE, &builtin, &owner, None).await;
    assert_eq!(status, 409, "{doc}");
    assert_eq!(doc["error"]["code"], "BUILTIN_CHANNEL", "{doc}");

    let (status, _) = call(&app, Method::DELETE, &a_url, &owner, None).await;
    assert_eq!(status, 204);
    let (status, doc) = call(&app, Method::GET, &a_url, &owner, None).await;
    assert_eq!(status, 404, "{doc}");
    let (status, _) = call(&app, Method::DELETE, &a_url, &owner, None).await;
    assert_eq!(status, 404);
    let (_, list) = call(&app, Method::GET, RULES, &owner, None).await;
    let custom = custom_rules(&list);
    assert_eq!(custom.len(), 1, "{list}");
    assert_eq!(custom[0]["id"], b["data"]["id"]);
    let (status, _) = call(&app, Method::GET, &b_url, &owner, None).await;
    assert_eq!(status, 200);

    // Another account sees none of them.
    let other = app.create_account("rules-other", "o@rules.test").await;
    let other = other["owner_api_key"].as_str().expect("key").to_owned();
    let (status, _) = call(&app, Method::GET, &b_url, &other, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, Method::DELETE, &b_url, &other, None).await;
    assert_eq!(status, 404);
}

async fn a_channel_is_read_by_its_id(app: TestApp) {
    let owner = app.owner_key().to_owned();
    let created = create_channel(&app, json!({ "type": "email", "name": "Ops mail", "config": { "recipients": ["ops@example.com"] } })).await;
    let url = format!("{CHANNELS}/{}", created["id"].as_str().expect("id"));
    let (status, doc) = call(&app, Method::GET, &url, &owner, None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["name"], "Ops mail");
    assert_eq!(doc["data"]["builtin"], false);
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{CHANNELS}/nch_email"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["data"]["builtin"], true);
    let (status, doc) = call(
        &app,
        Method::GET,
        &format!("{CHANNELS}/nch_nope"),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, 404, "{doc}");
    assert_eq!(doc["error"]["code"], "NOT_FOUND", "{doc}");
}

/// Follows `next_cursor` from the first page of `path` at `limit` rows a page: the rows in
/// order and the number of pages. Checks each page's size and that a cursor ends every page
/// but the last.
pub(crate) async fn walk_pages(
    app: &TestApp,
    path: &str,
    key: &str,
    limit: u32,
) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let (status, doc) = call(app, Method::GET, &url, key, None).await;
        assert_eq!(status, 200, "{url}: {doc}");
        let page = doc["data"].as_array().expect("list").clone();
        assert!(page.len() <= limit as usize, "{url}: {doc}");
        pages += 1;
        rows.extend(page);
        match doc["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (rows, pages),
        }
        assert!(pages < 100, "{path} does not end");
    }
}

/// The whole list in one page, then walked two rows at a time: the same rows, once each, in
/// the same order; a malformed limit or cursor and an unknown parameter are 400.
pub(crate) async fn assert_pages_like_the_whole(app: &TestApp, path: &str, key: &str) {
    let ids = |rows: &[Value]| rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    let (whole, pages) = walk_pages(app, path, key, 200).await;
    assert_eq!(pages, 1);
    assert!(whole.len() >= 3, "{path}: too few rows to page");
    let (walked, pages) = walk_pages(app, path, key, 2).await;
    assert_eq!(ids(&walked), ids(&whole), "{path}");
    assert_eq!(pages, whole.len().div_ceil(2), "{path}");
    for bad in ["limit=0", "limit=many", "cursor=zz", "colour=red"] {
        let (status, doc) = call(app, Method::GET, &format!("{path}?{bad}"), key, None).await;
        assert_eq!(status, 400, "{path}?{bad}: {doc}");
    }
}

crate::on_both_backends!(notification_lists_honour_limit_and_cursor);

async fn notification_lists_honour_limit_and_cursor(app: TestApp) {
    let owner = app.owner_key().to_owned();
    for name in ["one", "two", "three"] {
        create_channel(&app, json!({ "type": "email", "name": name, "config": { "recipients": ["ops@example.com"] } })).await;
        let (status, doc) = call(
            &app,
            Method::POST,
            RULES,
            &owner,
            Some(json!({ "name": name, "event": "member.invited", "channel_ids": ["nch_email"] })),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
    }
    assert_pages_like_the_whole(&app, CHANNELS, &owner).await;
    assert_pages_like_the_whole(&app, RULES, &owner).await;
}
