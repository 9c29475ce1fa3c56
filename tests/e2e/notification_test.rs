//! Seed 01 `POST /v2/accounts/settings/notifications/test`: real deliveries to real receivers.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{Receiver, TestApp};

async fn test_call(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/v2/accounts/settings/notifications/test"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

async fn slack_test_really_posts_and_reports_the_answer(app: TestApp) {
    let slack = Receiver::start(200, "ok").await;
    let (status, doc) = test_call(&app, app.owner_key(), json!({"type": "slack", "webhook_url": format!("{}/services/T0/B0/X", slack.url), "channel": "#test-channel"})).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["test"]["type"], "slack");
    assert_eq!(doc["test"]["status"], "success");
    assert_eq!(
        doc["test"]["message"],
        "Test notification sent successfully"
    );
    assert_eq!(doc["test"]["response"]["slack_response"], "ok");
    let got = slack.received().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/services/T0/B0/X");
    let payload: Value = serde_json::from_str(&got[0].body).expect("json payload");
    assert_eq!(payload["channel"], "#test-channel");
    assert!(payload["text"]
        .as_str()
        .is_some_and(|t| t.contains("test notification")));
}

async fn webhook_test_is_signed_with_the_saved_secret(app: TestApp) {
    let hook = Receiver::start(204, "").await;
    let url = format!("{}/hook", hook.url);
    // Save the channel first (https is required for saved URLs), then test with the URL
    // overridden to the local receiver and the saved secret.
    let res = app.put("/v2/accounts/settings/notifications", app.owner_key(), &json!({"webhook": {"url": "https://example.com/hook", "secret": "whsec_dGVzdHNlY3JldA=="}})).await;
    assert_eq!(res.status(), 200);
    let (status, doc) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "webhook", "url": url}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["test"]["response"]["webhook_response"]["status_code"],
        204
    );
    assert_eq!(doc["test"]["response"]["signed"], true);
    let got = hook.received().await;
    let r = &got[0];
    let id = r.header("webhook-id").expect("id");
    let ts: i64 = r
        .header("webhook-timestamp")
        .expect("ts")
        .parse()
        .expect("int");
    let sig = r.header("webhook-signature").expect("signature");
    assert!(
        tenantry_notifications::verify("whsec_dGVzdHNlY3JldA==", id, ts, r.body.as_bytes(), sig),
        "signature verifies"
    );
    assert!(!tenantry_notifications::verify(
        "whsec_b3RoZXI=",
        id,
        ts,
        r.body.as_bytes(),
        sig
    ));
}

async fn email_test_writes_a_real_message(app: TestApp) {
    let (status, doc) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "email", "email": "ops@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["test"]["response"]["email_response"]["delivered_to"],
        "ops@example.com"
    );
    let mail_dir = app.db.dir.join("mail");
    // The first start's set-up mail to the bootstrap owner is there too; the test message is
    // the one mail to the address it named.
    let to_ops: Vec<String> = std::fs::read_dir(&mail_dir)
        .expect("mail dir")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("eml"))
        .filter(|eml| eml.contains("To: ops@example.com"))
        .collect();
    assert_eq!(to_ops.len(), 1);
    let eml = &to_ops[0];
    assert!(eml.contains("To: ops@example.com\r\n"));
    assert!(eml.contains("Subject: Tenantry test notification\r\n"));
    // The answer's message id is the message's own Message-ID header, and a Date goes with it.
    let id = doc["test"]["response"]["email_response"]["message_id"]
        .as_str()
        .expect("message_id");
    assert!(
        eml.contains(&format!("Message-ID: {id}\r\n")),
        "{id} in:\n{eml}"
    );
    assert!(eml.contains("\r\nDate: "), "{eml}");
    let (status, _) = test_call(&app, app.owner_key(), json!({"type": "email"})).await;
    assert_eq!(status, 422, "no recipient given and none saved");
}

async fn failures_are_reported_in_the_seed_format(app: TestApp) {
    let broken = Receiver::start(500, "boom").await;
    let (status, err) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "webhook", "url": format!("{}/x", broken.url)}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"], "INVALID_WEBHOOK_URL");
    assert_eq!(err["message"], "Webhook URL is not valid or unreachable");
    assert!(
        err["details"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("500")),
        "{err}"
    );

    // Nothing listens on this port: unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (status, err) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "webhook", "url": format!("http://127.0.0.1:{port}/x")}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["details"]["url"], format!("http://127.0.0.1:{port}/x"));

    let (status, err) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "slack", "webhook_url": "https://example.com/services/x"}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = test_call(&app, app.owner_key(), json!({"type": "sms"})).await;
    assert_eq!(status, 422);
    let (status, _) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "slack", "colour": "red"}),
    )
    .await;
    assert_eq!(status, 400);

    let account = app.default_account_id().await;
    let viewer = app.add_member(&account, "viewer");
    let (status, _) = test_call(&app, &viewer, json!({"type": "email", "email": "a@b.co"})).await;
    assert_eq!(status, 403);
}

/// The operator's allowance opens an address (and plain http), nothing more: a URL with
/// credentials is refused for Slack and webhooks alike, a Slack URL must have Slack's path, and
/// no error quotes a Slack URL or a password.
async fn the_allowance_opens_addresses_not_credentials_or_other_shapes(app: TestApp) {
    let receiver = Receiver::start(200, "ok").await;
    let host = receiver.url.trim_start_matches("http://").to_owned();
    for body in [
        json!({"type": "slack", "webhook_url": format!("http://hooks.slack.com@{host}/services/T0/B0/Xsecret1")}),
        json!({"type": "slack", "webhook_url": format!("http://u:Xsecret1@{host}/services/T0/B0/X")}),
        json!({"type": "slack", "webhook_url": format!("http://{host}/hooks.slack.com/services/Xsecret1")}),
        json!({"type": "slack", "webhook_url": format!("http://{host}/services/T0/B0/Xsecret1/more")}),
        json!({"type": "webhook", "url": format!("http://user:Xsecret1@{host}/x")}),
        json!({"type": "webhook", "url": format!("http://hooks.slack.com@{host}/x")}),
    ] {
        let (status, err) = test_call(&app, app.owner_key(), body.clone()).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["error"], "INVALID_WEBHOOK_URL", "{err}");
        assert!(!err.to_string().contains("Xsecret1"), "{err}");
    }
    assert!(
        receiver.received().await.is_empty(),
        "nothing reached the receiver"
    );
    // The Slack shape on the opened address is what the allowance is for.
    let (status, doc) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "slack", "webhook_url": format!("http://{host}/services/T0/B0/X")}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
}

/// Without the operator's allow-list, private and loopback targets are refused (SSRF guard).
async fn the_ssrf_guard_refuses_internal_targets_by_default(app: TestApp) {
    let receiver = Receiver::start(200, "ok").await;
    for url in [
        format!("{}/x", receiver.url),
        "https://127.0.0.1/x".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://10.0.0.1/x".to_owned(),
        "https://localhost/x".to_owned(),
    ] {
        let (status, err) = test_call(
            &app,
            app.owner_key(),
            json!({"type": "webhook", "url": url}),
        )
        .await;
        assert_eq!(status, 400, "{url}: {err}");
        assert_eq!(err["error"], "INVALID_WEBHOOK_URL");
    }
    assert!(
        receiver.received().await.is_empty(),
        "nothing reached the internal receiver"
    );
}

on_both_backends!(env [("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8")]; slack_test_really_posts_and_reports_the_answer, webhook_test_is_signed_with_the_saved_secret, email_test_writes_a_real_message, failures_are_reported_in_the_seed_format, the_allowance_opens_addresses_not_credentials_or_other_shapes);
on_both_backends!(the_ssrf_guard_refuses_internal_targets_by_default);

/// Over SMTP, every message carries a Message-ID and a Date (large receivers penalise mail
/// without them), and the test-notification answer names that Message-ID.
async fn mail_over_smtp_carries_its_message_id_and_date(db: crate::support::TestDb) {
    let smtp = crate::smtp::SmtpServer::start().await;
    let app = TestApp::start(
        db,
        &[
            ("TENANTRY_SMTP_URL", smtp.url().as_str()),
            ("TENANTRY_OUTBOX_POLL_MS", "50"),
        ],
    )
    .await;
    let (status, doc) = test_call(
        &app,
        app.owner_key(),
        json!({"type": "email", "email": "ops@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let id = doc["test"]["response"]["email_response"]["message_id"]
        .as_str()
        .expect("message_id")
        .to_owned();
    let mails = smtp
        .wait_for_to("ops@example.com", 1, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(mails[0].header("Message-ID").as_deref(), Some(id.as_str()));
    assert!(mails[0].header("Date").is_some(), "{}", mails[0].data);
    // Mail from the outbox (here the bootstrap owner's set-up link) carries both too.
    let setup = smtp
        .wait_for_to("owner@localhost", 1, std::time::Duration::from_secs(20))
        .await;
    assert!(setup[0]
        .header("Message-ID")
        .is_some_and(|m| m.contains('@')));
    assert!(setup[0].header("Date").is_some());
}

#[tokio::test]
async fn mail_over_smtp_carries_its_message_id_and_date_sqlite() {
    mail_over_smtp_carries_its_message_id_and_date(
        crate::support::TestDb::create(crate::support::Backend::Sqlite).expect("sqlite"),
    )
    .await;
}

#[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
#[tokio::test]
async fn mail_over_smtp_carries_its_message_id_and_date_postgres() {
    if let Some(db) = crate::support::TestDb::create(crate::support::Backend::Postgres) {
        mail_over_smtp_carries_its_message_id_and_date(db).await;
    }
}
