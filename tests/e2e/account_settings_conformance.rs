//! Seed 01 conformance ("API conformance" issue): refused webhook URLs answer 400
//! `INVALID_WEBHOOK_URL`, a saved webhook may use plain http where the operator opened the
//! address (and then really receives signed events), and auto-recharge needs a card that has
//! not expired.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{call, Received, Receiver, TestApp};

const NOTIFICATIONS: &str = "/v2/accounts/settings/notifications";
const BILLING: &str = "/v2/accounts/settings/billing";

crate::on_both_backends!(env [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
];
    refused_webhook_urls_answer_invalid_webhook_url_naming_the_field,
    a_saved_plain_http_webhook_on_an_opened_address_receives_signed_events,
    auto_recharge_with_an_expired_card_requires_a_payment_method,
);

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    call(app, Method::PUT, path, app.owner_key(), Some(body)).await
}

async fn refused_webhook_urls_answer_invalid_webhook_url_naming_the_field(app: TestApp) {
    let before = call(&app, Method::GET, NOTIFICATIONS, app.owner_key(), None).await;
    for (patch, field) in [
        // Not an incoming-webhook URL (its path is the secret: never echoed).
        (
            json!({"slack": {"webhook_url": "https://example.com/services/T0/B0/Xsecret1"}}),
            "slack.webhook_url",
        ),
        (
            json!({"slack": {"webhook_url": "https://hooks.slack.com/other/Xsecret1"}}),
            "slack.webhook_url",
        ),
        // Plain http outside the operator's allowance, a private address, credentials.
        (
            json!({"webhook": {"url": "http://insecure.example.com/hook"}}),
            "webhook.url",
        ),
        (
            json!({"webhook": {"url": "https://10.0.0.1/hook"}}),
            "webhook.url",
        ),
        (
            json!({"webhook": {"url": "https://user:Xsecret1@hooks.example.com/x"}}),
            "webhook.url",
        ),
    ] {
        let (status, err) = put(&app, NOTIFICATIONS, patch.clone()).await;
        assert_eq!(status, 400, "{patch}: {err}");
        assert_eq!(err["error"], "INVALID_WEBHOOK_URL", "{err}");
        assert_eq!(err["message"], "Webhook URL is not valid or unreachable");
        assert_eq!(err["details"]["field"], field, "{err}");
        assert!(err["details"]["reason"].is_string(), "{err}");
        assert!(!err.to_string().contains("Xsecret1"), "{err}");
    }
    // A missing URL, or a refused URL next to another problem, stays a validation error that
    // names every field.
    let (status, err) = put(&app, NOTIFICATIONS, json!({"webhook": {"enabled": true}})).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (422, Some("VALIDATION_ERROR")),
        "{err}"
    );
    let (status, err) = put(
        &app,
        NOTIFICATIONS,
        json!({"webhook": {"url": "http://insecure.example.com/hook"}, "email": {"frequency": "hourly"}}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let fields: Vec<&str> = err["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["email.frequency", "webhook.url"], "{err}");
    let after = call(&app, Method::GET, NOTIFICATIONS, app.owner_key(), None).await;
    assert_eq!(
        before, after,
        "every refusal left the settings as they were"
    );
}

/// Standard Webhooks, recomputed here from the specification rather than with the server's
/// own `verify`: HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the base64-decoded
/// secret after `whsec_`, sent as `v1,<base64>`.
fn standard_webhooks_signature_ok(r: &Received, secret: &str) -> bool {
    let (Some(id), Some(ts), Some(sig)) = (
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
    ) else {
        return false;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    sig.split(' ').any(|s| s == expected)
}

async fn a_saved_plain_http_webhook_on_an_opened_address_receives_signed_events(app: TestApp) {
    let receiver = Receiver::start(200, "ok").await;
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(b"conformance-signing-key-32-bytes")
    );
    let url = format!("{}/account-hook", receiver.url);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (status, doc) = put(
        &app,
        NOTIFICATIONS,
        json!({"webhook": {"enabled": true, "url": url, "events": ["api_key.created"], "secret": secret}}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["webhook"]["url"], url);

    // A real event: a key is created.
    let (status, key) = call(
        &app,
        Method::POST,
        "/api/user/api-keys",
        app.owner_key(),
        Some(json!({ "name": "conformance" })),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let got = loop {
        let got = receiver.received().await;
        if !got.is_empty() {
            break got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivery = &got[0];
    assert_eq!(delivery.path, "/account-hook");
    let body: Value = serde_json::from_str(&delivery.body).expect("json body");
    assert_eq!(body["type"], "api_key.created", "{body}");
    assert!(
        standard_webhooks_signature_ok(delivery, &secret),
        "signature does not verify: {delivery:?}"
    );
    assert!(
        !standard_webhooks_signature_ok(delivery, "whsec_d3Jvbmcta2V5"),
        "another key does not verify"
    );
}

async fn auto_recharge_with_an_expired_card_requires_a_payment_method(app: TestApp) {
    let card = |expires: &str| json!({"type": "credit_card", "last_four": "4242", "expires": expires, "brand": "visa"});
    let recharge = json!({"enabled": true, "threshold": 50.0, "amount": 200.0});
    let (status, err) = put(
        &app,
        BILLING,
        json!({"payment_method": card("12/20"), "auto_recharge": recharge}),
    )
    .await;
    assert_eq!(status, 402, "{err}");
    assert_eq!(
        err,
        json!({"error": "PAYMENT_METHOD_REQUIRED", "message": "Valid payment method required for auto-recharge", "details": {"feature": "auto_recharge", "action": "add_payment_method"}})
    );
    let (_, billing) = call(&app, Method::GET, BILLING, app.owner_key(), None).await;
    assert_eq!(billing["auto_recharge"]["enabled"], false, "{billing}");

    // An expired card may be on file while auto-recharge is off; turning it on is refused.
    let (status, doc) = put(&app, BILLING, json!({"payment_method": card("12/20")})).await;
    assert_eq!(status, 200, "{doc}");
    let (status, err) = put(&app, BILLING, json!({"auto_recharge": recharge})).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (402, Some("PAYMENT_METHOD_REQUIRED")),
        "{err}"
    );

    // A card valid into the future makes it chargeable.
    let (status, doc) = put(
        &app,
        BILLING,
        json!({"payment_method": card("12/99"), "auto_recharge": recharge}),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["auto_recharge"]["enabled"], true, "{doc}");
}
