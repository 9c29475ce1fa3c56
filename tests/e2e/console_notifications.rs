//! The console's notifications page (`/console/notifications`) over plain HTTP: channels
//! (create, delete, test), rules (create, delete), deliveries (attempts, redeliver) against a
//! real local receiver, every refusal checked through the JSON API; then one flow in a real
//! browser.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::console::{set_owner_password, signed_in_member, Answer, Visitor, PASSWORD};
use crate::console_account::signed_in_owner;
use crate::notifications::test_delivery_as;
use crate::support::{call, Backend, Receiver, TestApp, TestDb};

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
]; console_notifications_channels_rules_test_and_redeliver,
   console_notifications_refusals_change_nothing,
   console_tests_and_redeliveries_need_the_execute_permission);

const PAGE: &str = "/console/notifications";
const SECRET: &str = "typed-signing-secret-0123456789";

/// A webhook channel named `name` posting to `url`, made through the JSON API with `key`: its id.
async fn api_webhook(app: &TestApp, key: &str, name: &str, url: &str) -> String {
    let (status, created) = call(
        app,
        Method::POST,
        "/api/notifications/channels",
        key,
        Some(json!({ "type": "webhook", "name": name, "config": { "url": url } })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().expect("id").to_owned()
}

/// The ids of what the JSON API lists at `path` (`channels`, `rules`, `deliveries`).
async fn api_ids(app: &TestApp, key: &str, what: &str) -> Vec<String> {
    let (status, doc) = call(
        app,
        Method::GET,
        &format!("/api/notifications/{what}?limit=200"),
        key,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The id of the channel named `name`, through the API.
async fn channel_named(app: &TestApp, name: &str) -> Option<String> {
    let (_, doc) = call(
        app,
        Method::GET,
        "/api/notifications/channels?limit=200",
        app.owner_key(),
        None,
    )
    .await;
    doc["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["id"].as_str().expect("id").to_owned())
}

async fn webhook_form(
    me: &mut Visitor<'_>,
    csrf: &str,
    name: &str,
    url: &str,
    secret: &str,
) -> Answer {
    me.post(
        "/console/notifications/channels",
        &[
            ("csrf", csrf),
            ("name", name),
            ("kind", "webhook"),
            ("url", url),
            ("secret", secret),
        ],
    )
    .await
}

/// The page once `needle` shows on it (deliveries are sent by the worker, not the request).
async fn page_showing(me: &mut Visitor<'_>, needle: &str) -> Answer {
    for _ in 0..100 {
        let page = me.get(PAGE).await;
        if page.body.contains(needle) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle} never showed on {PAGE}");
}

async fn console_notifications_channels_rules_test_and_redeliver(app: TestApp) {
    set_owner_password(&app).await;
    let receiver = Receiver::start(200, "<b>ok</b>").await;
    let mut me = signed_in_owner(&app).await;
    let page = me.get(PAGE).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/console/notifications\""));
    let csrf = page.hidden("csrf");

    // A webhook with a typed secret: added, the secret shown only as "set".
    let url = format!("{}/sink", receiver.url);
    let added = webhook_form(&mut me, &csrf, "hook", &url, SECRET).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(added.body.contains("The channel was added."));
    assert!(!added.body.contains(SECRET));
    assert!(added.body.contains("<dt>Signing secret</dt><dd>set</dd>"));
    let hook = channel_named(&app, "hook").await.expect("created");
    // Without a secret: the one the service made is shown once, then never again.
    let made = webhook_form(&mut me, &csrf, "hook2", &url, "").await;
    assert_eq!(made.status, 201);
    let at = made.body.find("whsec_").expect("the made secret, once");
    let generated = &made.body[at..at + made.body[at..].find('<').expect("end")];
    assert!(!me.get(PAGE).await.body.contains(generated));

    // Email with a bad address: said beside the field, nothing added.
    let before = api_ids(&app, app.owner_key(), "channels").await;
    let bad = me
        .post(
            "/console/notifications/channels",
            &[
                ("csrf", &csrf),
                ("name", "mail"),
                ("kind", "email"),
                ("recipients", "ops@x.test, nope"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"recipients-error\""));
    assert!(
        bad.body.contains("value=\"ops@x.test, nope\""),
        "the draft stays"
    );
    // Slack with a URL that is not Slack's: the typed URL is not put back.
    let slack = me
        .post(
            "/console/notifications/channels",
            &[
                ("csrf", &csrf),
                ("name", "chat"),
                ("kind", "slack"),
                ("slack_url", "https://evil.test/secret-path"),
            ],
        )
        .await;
    assert_eq!(slack.status, 422, "{}", slack.body);
    assert!(slack.body.contains("id=\"slack_url-error\""));
    assert!(!slack.body.contains("secret-path"));
    assert_eq!(api_ids(&app, app.owner_key(), "channels").await, before);

    // A test: the receiver gets it, the page shows its answer.
    let tested = me
        .post(
            &format!("/console/notifications/channels/{hook}/test"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert!(tested.body.contains("A test notification is on its way."));
    let shown = page_showing(&mut me, "the receiver answered 200").await;
    assert!(shown.body.contains("<dt>Status</dt><dd>delivered</dd>"));
    assert_eq!(receiver.received().await.len(), 1);
    assert!(receiver.received().await[0]
        .body
        .contains("notification.test"));

    // Redeliver it: a second request and a second delivery.
    let deliveries = api_ids(&app, app.owner_key(), "deliveries").await;
    assert_eq!(deliveries.len(), 1);
    let again = me
        .post(
            &format!(
                "/console/notifications/deliveries/{}/redeliver",
                deliveries[0]
            ),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("is being sent again"));
    for _ in 0..100 {
        if receiver.received().await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.received().await.len(), 2);
    assert_eq!(api_ids(&app, app.owner_key(), "deliveries").await.len(), 2);

    // Rules: a bad event beside its field; a good one added, then deleted.
    let refused = me
        .post(
            "/console/notifications/rules",
            &[
                ("csrf", &csrf),
                ("rule_name", "r"),
                ("event", "Not An Event"),
                ("channel_ids", &hook),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("id=\"event-error\""));
    let rules_before = api_ids(&app, app.owner_key(), "rules").await;
    let rule = me
        .post(
            "/console/notifications/rules",
            &[
                ("csrf", &csrf),
                ("rule_name", "pipelines"),
                ("event", "pipeline.run.failed"),
                ("channel_ids", &hook),
            ],
        )
        .await;
    assert_eq!(rule.status, 200, "{}", rule.body);
    assert!(rule.body.contains("The rule pipelines was added."));
    let rules = api_ids(&app, app.owner_key(), "rules").await;
    assert_eq!(rules.len(), rules_before.len() + 1);
    let new_rule = rules
        .iter()
        .find(|r| !rules_before.contains(r))
        .expect("new rule");
    let gone = me
        .post(
            &format!("/console/notifications/rules/{new_rule}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(gone.body.contains("The rule was deleted."), "{}", gone.body);
    assert_eq!(api_ids(&app, app.owner_key(), "rules").await, rules_before);

    // A built-in channel has no delete button, and a posted delete is refused.
    assert!(!gone.body.contains("/channels/nch_email/delete"));
    let builtin = me
        .post(
            "/console/notifications/channels/nch_email/delete",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(builtin.status, 409, "{}", builtin.body);
    assert!(builtin.body.contains("built-in channel"));
    let deleted = me
        .post(
            &format!("/console/notifications/channels/{hook}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(deleted.body.contains("The channel was deleted."));
    assert!(channel_named(&app, "hook").await.is_none());
}

async fn console_notifications_refusals_change_nothing(app: TestApp) {
    set_owner_password(&app).await;
    let receiver = Receiver::start(200, "ok").await;
    let url = format!("{}/sink", receiver.url);
    let mine = api_webhook(&app, app.owner_key(), "mine", &url).await;
    let channels = api_ids(&app, app.owner_key(), "channels").await;
    let anonymous = Visitor::new(&app).get(PAGE).await;
    assert_eq!(anonymous.location(), "/console/login");
    let anonymous = Visitor::new(&app)
        .post(&format!("{PAGE}/channels/{mine}/delete"), &[])
        .await;
    assert_eq!(anonymous.location(), "/console/login");

    // Lower roles: the page and every form are refused, even with their own token.
    for role in ["viewer", "developer"] {
        let (mut lower, _) = signed_in_member(&app, role).await;
        assert!(!lower
            .get("/console")
            .await
            .body
            .contains("href=\"/console/notifications\""));
        let page = lower.get(PAGE).await;
        assert_eq!(page.status, 403, "{role}");
        assert!(page.body.contains("Not available to your role"));
        assert!(!page.body.contains("mine"));
        let own = lower.get("/console/account/sessions").await.hidden("csrf");
        for path in [
            format!("{PAGE}/channels/{mine}/delete"),
            format!("{PAGE}/channels/{mine}/test"),
        ] {
            let res = lower.post(&path, &[("csrf", &own)]).await;
            assert_eq!(res.status, 403, "{role} {path}");
        }
        let res = webhook_form(&mut lower, &own, "x", &url, "").await;
        assert_eq!(res.status, 403, "{role}");
    }

    // Forms without their token, with another session's, oversized or malformed.
    let mut me = signed_in_owner(&app).await;
    let mut other = signed_in_owner(&app).await;
    let csrf = me.get(PAGE).await.hidden("csrf");
    let foreign = other.get(PAGE).await.hidden("csrf");
    for token in ["", foreign.as_str()] {
        for path in [
            format!("{PAGE}/channels/{mine}/delete"),
            format!("{PAGE}/channels/{mine}/test"),
            format!("{PAGE}/rules/nrl_x/delete"),
            format!("{PAGE}/deliveries/dlv_x/redeliver"),
        ] {
            let res = me.post(&path, &[("csrf", token)]).await;
            assert_eq!(res.status, 403, "{path}");
            assert!(res.body.contains("This form has expired"));
        }
        let res = webhook_form(&mut me, token, "x", &url, "").await;
        assert_eq!(res.status, 403);
        let res = me
            .post(
                &format!("{PAGE}/rules"),
                &[
                    ("csrf", token),
                    ("rule_name", "x"),
                    ("event", "*"),
                    ("channel_ids", &mine),
                ],
            )
            .await;
        assert_eq!(res.status, 403);
    }
    let long = "n".repeat(201);
    let res = me
        .post(
            &format!("{PAGE}/channels"),
            &[
                ("csrf", &csrf),
                ("name", &long),
                ("kind", "webhook"),
                ("url", &url),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Name is longer than 200 characters"));
    let res = me
        .post(
            &format!("{PAGE}/channels"),
            &[
                ("csrf", &csrf),
                ("name", "a"),
                ("name", "b"),
                ("kind", "webhook"),
                ("url", &url),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    let res = me
        .post(
            &format!("{PAGE}/channels"),
            &[("csrf", &csrf), ("name", "a"), ("kind", "pigeon")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"kind-error\""));
    let res = me
        .post(
            &format!("{PAGE}/channels/{}/test", "c".repeat(101)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(me.get(&format!("{PAGE}?deliveries=zz")).await.status, 400);

    // Another account's channel and delivery read as unknown here and stay as they were.
    let stranger = app
        .create_account("notify-other", "other@example.test")
        .await;
    let their_key = stranger["owner_api_key"].as_str().expect("key");
    let theirs = api_webhook(&app, their_key, "theirs", &url).await;
    let their_delivery = test_delivery_as(&app, their_key, &theirs).await;
    for path in [
        format!("{PAGE}/channels/{theirs}/delete"),
        format!("{PAGE}/channels/{theirs}/test"),
        format!("{PAGE}/deliveries/{their_delivery}/redeliver"),
    ] {
        let res = me.post(&path, &[("csrf", &csrf)]).await;
        assert_eq!(res.status, 404, "{path}: {}", res.body);
        assert!(res.body.contains("does not exist in this account"));
    }
    assert!(api_ids(&app, their_key, "channels").await.contains(&theirs));
    assert_eq!(
        api_ids(&app, their_key, "deliveries").await,
        vec![their_delivery]
    );
    assert_eq!(api_ids(&app, app.owner_key(), "channels").await, channels);
    assert!(api_ids(&app, app.owner_key(), "deliveries")
        .await
        .is_empty());
    let (_, list) = call(
        &app,
        Method::GET,
        "/api/notifications/rules",
        app.owner_key(),
        None,
    )
    .await;
    assert!(list["data"]
        .as_array()
        .expect("rules")
        .iter()
        .all(|r: &Value| r["builtin"] == true));
}

/// The page in a real browser: add a webhook channel with its secret, add a rule for it.
#[tokio::test]
async fn browser_notifications_add_channel_and_rule() {
    let app = TestApp::start(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
        &[("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")],
    )
    .await;
    set_owner_password(&app).await;
    let receiver = Receiver::start(200, "ok").await;
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto(PAGE).await;
    browser.check_page("notifications").await;
    browser.fill("Name", "ci hook").await;
    // A select takes no typing through WebDriver's clear: choose the option as a click would.
    browser
        .execute("document.querySelector('select[name=kind]').value = 'webhook';")
        .await;
    browser
        .fill("Webhook URL", &format!("{}/sink", receiver.url))
        .await;
    browser.fill("Signing secret", SECRET).await;
    browser.click("Add channel").await;
    let text = browser.text().await;
    assert!(text.contains("The channel was added."), "{text}");
    assert!(!text.contains(SECRET));
    browser.check_page("channel added").await;
    browser.fill("Rule name", "pipelines").await;
    browser.fill("Event", "pipeline.run.failed").await;
    browser
        .execute("Array.from(document.querySelectorAll('label.check')).find(l => l.textContent.trim() === 'ci hook').querySelector('input').click();")
        .await;
    browser.click("Add rule").await;
    let text = browser.text().await;
    assert!(text.contains("The rule pipelines was added."), "{text}");
    browser.check_page("rule added").await;
}

/// A signed-in admin of the default account whose custom permissions are `permissions` (set
/// by the owner through the team API).
async fn signed_in_admin_with<'a>(app: &'a TestApp, permissions: &[&str]) -> Visitor<'a> {
    let account = app.default_account_id().await;
    let key = app.add_member(&account, "admin");
    let id = crate::team_members::user_id(app, &key).await;
    let (status, doc) = call(
        app,
        Method::PUT,
        &format!("/v2/accounts/team/members/{id}"),
        app.owner_key(),
        Some(json!({ "permissions": permissions })),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (status, _) = call(
        app,
        Method::POST,
        "/api/user/password",
        &key,
        Some(json!({ "new_password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 204);
    let (_, profile) = call(app, Method::GET, "/api/user/profile", &key, None).await;
    let email = profile["data"]["email"].as_str().expect("email").to_owned();
    let mut visitor = Visitor::new(app);
    assert_eq!(visitor.sign_in(&email, PASSWORD).await.status, 303);
    visitor
}

/// Tests and redeliveries make the account act: through the console, as through the API, they
/// need the `execute` permission of a member whose permissions are custom; reading and writing
/// the page's configuration is not enough.
async fn console_tests_and_redeliveries_need_the_execute_permission(app: TestApp) {
    let receiver = Receiver::start(200, "ok").await;
    let url = format!("{}/sink", receiver.url);
    let channel = api_webhook(&app, app.owner_key(), "exec", &url).await;
    let delivery = test_delivery_as(&app, app.owner_key(), &channel).await;
    let test_path = format!("{PAGE}/channels/{channel}/test");
    let redeliver_path = format!("{PAGE}/deliveries/{delivery}/redeliver");

    // Read and write, no execute: the page shows, both forms are refused and nothing is sent.
    let mut without = signed_in_admin_with(&app, &["read", "write"]).await;
    let page = without.get(PAGE).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("csrf");
    for path in [&test_path, &redeliver_path] {
        let res = without.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
        assert!(!res.body.contains("on its way"), "{path}");
        assert!(!res.body.contains("is being sent again"), "{path}");
    }
    assert_eq!(
        api_ids(&app, app.owner_key(), "deliveries").await,
        vec![delivery.clone()],
        "no delivery was made"
    );

    // With execute: both go through, each a new delivery.
    let mut with = signed_in_admin_with(&app, &["read", "write", "execute"]).await;
    let csrf = with.get(PAGE).await.hidden("csrf");
    let tested = with.post(&test_path, &[("csrf", &csrf)]).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert!(tested.body.contains("A test notification is on its way."));
    let again = with.post(&redeliver_path, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("is being sent again"));
    assert_eq!(api_ids(&app, app.owner_key(), "deliveries").await.len(), 3);
}

/// The deliveries the page lists, newest first: (event, channel, status, attempts).
async fn listed_deliveries(
    browser: &crate::browser::Browser,
) -> Vec<(String, String, String, Vec<String>)> {
    let found = browser
        .execute(
            "var list = Array.from(document.querySelectorAll('section.card'))\
               .find(function (s) { var h = s.querySelector('h2'); return h && h.textContent === 'Deliveries'; });\
             return Array.from(list.querySelectorAll(':scope > ul.keys > li')).map(function (li) {\
               var f = {};\
               li.querySelectorAll('dl.facts > dt').forEach(function (dt) { f[dt.textContent] = dt.nextElementSibling; });\
               return [f.Event.textContent, f.Channel.textContent, f.Status.textContent,\
                 Array.from(f.Attempts.querySelectorAll('li')).map(function (a) { return a.textContent; })];\
             });",
        )
        .await;
    serde_json::from_value(found).expect("deliveries")
}

/// A team change raises an event, a rule sends it to a webhook that first fails: the page
/// shows the delivery retrying, then delivered with both attempts; "Redeliver" sends it again
/// as a new delivery, whose attempt the page shows too. Then "Send a test notification".
#[tokio::test]
async fn browser_notifications_delivery_attempts_redeliver_and_test() {
    let app = TestApp::start(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
        &[
            ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
            ("TENANTRY_OUTBOX_POLL_MS", "50"),
            // One retry, a second after the first failure.
            ("TENANTRY_RETRY_SCHEDULE", "1"),
        ],
    )
    .await;
    set_owner_password(&app).await;
    let receiver = Receiver::scripted(vec![503, 200], "ok").await;
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto(PAGE).await;
    browser.fill("Name", "ops hook").await;
    browser.choose("Type", "Webhook").await;
    browser
        .fill("Webhook URL", &format!("{}/sink", receiver.url))
        .await;
    browser.click("Add channel").await;
    assert!(browser.text().await.contains("The channel was added."));
    browser.fill("Rule name", "invitations").await;
    browser.fill("Event", "member.invited").await;
    browser
        .execute("Array.from(document.querySelectorAll('label.check')).find(l => l.textContent.trim() === 'ops hook').querySelector('input').click();")
        .await;
    browser.click("Add rule").await;
    assert!(browser
        .text()
        .await
        .contains("The rule invitations was added."));

    // The team change: an invitation.
    browser.goto("/console/team").await;
    browser.fill("Email", "newcomer@example.com").await;
    browser.click("Send invitation").await;
    assert!(browser
        .text()
        .await
        .contains("An invitation was sent to newcomer@example.com"));
    browser
        .reload_until(PAGE, |t| t.contains("the receiver answered 200"))
        .await;
    browser.check_page("delivery retried and delivered").await;
    let listed = listed_deliveries(&browser).await;
    let ours: Vec<_> = listed.iter().filter(|d| d.1 == "ops hook").collect();
    assert_eq!(ours.len(), 1, "{listed:?}");
    let (event, _, status, attempts) = ours[0];
    assert_eq!(event, "member.invited");
    assert_eq!(status, "delivered");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        attempts[0].contains("the receiver answered 503")
            && attempts[1].contains("the receiver answered 200"),
        "{attempts:?}"
    );
    assert_eq!(receiver.received().await.len(), 2);

    // Redeliver: a new delivery of the same event, listed above the first with its attempt.
    browser
        .press_starting("Redeliver member.invited to ops hook")
        .await;
    let text = browser.text().await;
    assert!(text.contains("is being sent again"), "{text}");
    browser.check_page("redelivered").await;
    browser
        .reload_until(PAGE, |t| {
            t.matches("the receiver answered 200").count() == 2
        })
        .await;
    let listed = listed_deliveries(&browser).await;
    let ours: Vec<_> = listed.iter().filter(|d| d.1 == "ops hook").collect();
    assert_eq!(ours.len(), 2, "{listed:?}");
    assert_eq!(ours[0].0, "member.invited");
    assert_eq!(ours[0].2, "delivered");
    assert_eq!(ours[0].3.len(), 1, "{:?}", ours[0].3);
    assert!(ours[0].3[0].contains("the receiver answered 200"));
    assert_eq!(ours[1].3.len(), 2, "the first delivery is as it was");
    let received = receiver.received().await;
    assert_eq!(received.len(), 3);
    assert_eq!(received[2].body, received[1].body, "the same message again");

    // A test over the channel: a delivery of its own, and what the receiver answered.
    browser.press("Send a test notification to ops hook").await;
    let text = browser.text().await;
    assert!(
        text.contains("A test notification is on its way."),
        "{text}"
    );
    browser.check_page("test sent").await;
    browser
        .reload_until(PAGE, |t| {
            t.matches("the receiver answered 200").count() == 3
        })
        .await;
    let listed = listed_deliveries(&browser).await;
    assert_eq!(listed[0].0, "notification.test", "{listed:?}");
    assert_eq!(listed[0].1, "ops hook");
    assert_eq!(listed[0].2, "delivered");
    assert!(receiver.received().await[3]
        .body
        .contains("notification.test"));
}

/// Settings' "Send a test notification": the receiver's answer is shown on the page, as text.
#[tokio::test]
async fn browser_settings_test_notification_shows_what_the_receiver_answered() {
    let app = TestApp::start(
        TestDb::create(Backend::Sqlite).expect("sqlite"),
        &[("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")],
    )
    .await;
    set_owner_password(&app).await;
    let receiver = Receiver::start(200, "<b>accepted</b>").await;
    let refusing = Receiver::start(500, "down").await;
    let Some(browser) = crate::browser::Browser::start(&app.base).await else {
        return;
    };
    browser.goto("/console/login").await;
    browser.fill("Email", "owner@localhost").await;
    browser.fill("Password", PASSWORD).await;
    browser.click("Sign in").await;
    browser.goto("/console/settings/notifications").await;
    browser.check_page("notification settings").await;
    browser.choose("Channel", "webhook").await;
    browser
        .fill("Send to instead", &format!("{}/hook", receiver.url))
        .await;
    browser.click("Send test").await;
    let shown = browser
        .execute("var r = document.getElementById('test-result'); return [r.innerText, r.querySelectorAll('b').length];")
        .await;
    let answer = shown[0].as_str().expect("the answer");
    assert!(
        answer.contains("Test sent over webhook") && answer.contains("The receiver answered:"),
        "{answer}"
    );
    assert!(answer.contains("200"), "{answer}");
    assert!(answer.contains("<b>accepted</b>"), "as text: {answer}");
    assert_eq!(shown[1], json!(0), "never as markup");
    browser.check_page("test answered").await;
    let received = receiver.received().await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/hook");

    // A receiver that refuses: what it said is shown as the reason, and nothing is saved.
    browser.choose("Channel", "webhook").await;
    browser
        .fill("Send to instead", &format!("{}/hook", refusing.url))
        .await;
    browser.click("Send test").await;
    let text = browser.text().await;
    assert!(
        text.contains("The receiver did not accept the test"),
        "{text}"
    );
    browser.check_page("test refused").await;
    assert_eq!(refusing.received().await.len(), 1);
    let (_, saved) = call(
        &app,
        Method::GET,
        "/v2/accounts/settings/notifications",
        app.owner_key(),
        None,
    )
    .await;
    assert!(!saved.to_string().contains(&refusing.url), "{saved}");
}
