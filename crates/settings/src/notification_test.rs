//! The notification test of the account settings API: really sends a test message over
//! one channel, with the configuration in the request or, for fields it leaves out, the saved
//! one, and reports what the receiver answered. A Slack URL is a credential: no answer quotes
//! it (errors show `[Slack webhook URL]` in its place).

use std::sync::Arc;

use serde_json::{json, Value};
use tenantry_kernel::{Actor, Clock, Email, RandomSource};
use tenantry_notifications::{
    carries_credentials, redact_slack_url, DeliveryError, HttpTransport, MailTransport,
    OutboundPolicy, SLACK_URL_MASK,
};
use tenantry_security::Sealed;

use crate::{NotificationSettings, SettingsError, SlackWebhookUrl, WebhookUrl};

/// Opens a saved secret (the Slack URL, the webhook signing secret).
pub(crate) type Opener<'a> = &'a dyn Fn(&Sealed) -> Result<String, SettingsError>;

/// The transports a test uses, and the operator's outbound policy.
#[derive(Clone)]
pub struct Deliverers {
    /// Posts Slack and webhook tests.
    pub http: Arc<dyn HttpTransport>,
    /// Sends email tests.
    pub mail: Arc<dyn MailTransport>,
    /// Which addresses may be reached (no private or loopback address unless the operator
    /// allows it).
    pub policy: OutboundPolicy,
    /// How long a webhook channel's replaced signing secret keeps signing deliveries.
    pub secret_overlap: chrono::Duration,
}

/// The built-in channel a test message goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestChannel {
    /// An email to the given or saved address.
    Email,
    /// A post to the given or saved Slack incoming webhook.
    Slack,
    /// A signed post to the given or saved webhook URL.
    Webhook,
}

impl TestChannel {
    /// The channel's name (`"email"`, `"slack"`, `"webhook"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TestChannel::Email => "email",
            TestChannel::Slack => "slack",
            TestChannel::Webhook => "webhook",
        }
    }
}

/// What to test; unset fields come from the saved notification settings.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    /// Slack: the incoming-webhook URL.
    pub webhook_url: Option<String>,
    /// Slack: the channel to post to.
    pub channel: Option<String>,
    /// Webhook: where to post.
    pub url: Option<String>,
    /// Webhook: the signing secret.
    pub secret: Option<String>,
    /// Email: the recipient.
    pub email: Option<String>,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    /// The channel tested.
    pub channel: TestChannel,
    /// The receiver's answer: status, body and latency for Slack and webhooks, the recipient
    /// and message id for email. Never the Slack URL.
    pub response: Value,
}

fn missing(field: &str, why: &str) -> SettingsError {
    SettingsError::Validation(vec![crate::FieldError {
        field: field.into(),
        message: why.into(),
        allowed: None,
    }])
}

/// A receiver that answered with anything but 2xx did not accept the test.
fn accepted(
    url: String,
    reply: tenantry_notifications::HttpReply,
) -> Result<tenantry_notifications::HttpReply, SettingsError> {
    if (200..300).contains(&reply.status) {
        Ok(reply)
    } else {
        Err(SettingsError::DeliveryFailed {
            url,
            reason: format!(
                "the receiver answered HTTP {}: {}",
                reply.status, reply.body
            ),
        })
    }
}

fn delivery_failed(url: &str, e: DeliveryError) -> SettingsError {
    SettingsError::DeliveryFailed {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    deliverers: &Deliverers,
    clock: &dyn Clock,
    random: &dyn RandomSource,
    actor: &Actor,
    channel: TestChannel,
    request: &TestRequest,
    saved: &NotificationSettings,
    open: Opener<'_>,
) -> Result<TestOutcome, SettingsError> {
    let now = clock.now();
    let text = format!(
        "Tenantry test notification for account {} (sent by {})",
        actor.account_id, actor.user_id
    );
    match channel {
        TestChannel::Slack => {
            // The operator's allowance opens an address (and plain http), never another shape.
            let url = match &request.webhook_url {
                Some(raw) => SlackWebhookUrl::parse_allowing(raw, &deliverers.policy)
                    .map_err(|reason| SettingsError::DeliveryFailed {
                        url: SLACK_URL_MASK.into(),
                        reason: format!("not a Slack webhook URL: {reason}"),
                    })?
                    .into_string(),
                None => saved
                    .slack
                    .webhook_url_sealed
                    .as_ref()
                    .map(open)
                    .transpose()?
                    .ok_or_else(|| {
                        missing("webhook_url", "is required: none given and none saved")
                    })?,
            };
            let mut payload = json!({ "text": text });
            if let Some(ch) = request
                .channel
                .clone()
                .or_else(|| saved.slack.channel.clone())
            {
                payload["channel"] = json!(ch);
            }
            let reply = deliverers
                .http
                .post_json(&url, &[], payload.to_string().as_bytes())
                .map_err(|e| SettingsError::DeliveryFailed {
                    url: SLACK_URL_MASK.into(),
                    reason: redact_slack_url(&e.to_string(), &url),
                })?;
            let reply = accepted(SLACK_URL_MASK.into(), reply)?;
            Ok(TestOutcome {
                channel,
                response: json!({ "slack_response": reply.body, "status_code": reply.status, "latency_ms": reply.latency_ms }),
            })
        }
        TestChannel::Webhook => {
            let url = request
                .url
                .clone()
                .or_else(|| saved.webhook.url.as_ref().map(|u| u.as_str().to_owned()))
                .ok_or_else(|| missing("url", "is required: none given and none saved"))?;
            // Credentials are refused on every path, an opened address included; the error
            // shows the URL without them.
            if let Some(mut parsed) = url::Url::parse(&url).ok().filter(carries_credentials) {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
                return Err(SettingsError::DeliveryFailed {
                    url: parsed.to_string(),
                    reason: "must not contain credentials (user:password@)".into(),
                });
            }
            // The rule a saved URL passed: a URL that may be tested may be saved, and back.
            if let Err(reason) = WebhookUrl::parse_allowing(&url, &deliverers.policy) {
                return Err(SettingsError::DeliveryFailed { url, reason });
            }
            let secret = match &request.secret {
                Some(s) => Some(s.clone()),
                None => saved.webhook.secret_sealed.as_ref().map(open).transpose()?,
            };
            let mut id_bytes = [0u8; 12];
            random.fill(&mut id_bytes);
            let id = format!(
                "msg_{}",
                id_bytes
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            );
            let timestamp = now.timestamp();
            let body = json!({
                "type": "test",
                "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "data": { "account_id": actor.account_id.to_string(), "message": text },
            })
            .to_string();
            let mut headers = vec![
                ("webhook-id".to_owned(), id.clone()),
                ("webhook-timestamp".to_owned(), timestamp.to_string()),
            ];
            if let Some(secret) = &secret {
                headers.push((
                    "webhook-signature".to_owned(),
                    tenantry_notifications::sign(secret, &id, timestamp, body.as_bytes()),
                ));
            }
            let reply = deliverers
                .http
                .post_json(&url, &headers, body.as_bytes())
                .map_err(|e| delivery_failed(&url, e))?;
            let reply = accepted(url, reply)?;
            Ok(TestOutcome {
                channel,
                response: json!({ "webhook_response": { "status_code": reply.status, "body": reply.body }, "signed": secret.is_some(), "message_id": id, "latency_ms": reply.latency_ms }),
            })
        }
        TestChannel::Email => {
            let to =
                match &request.email {
                    Some(e) => Email::parse(e).map_err(|e| missing("email", &e.to_string()))?,
                    None => saved.email.email.clone().ok_or_else(|| {
                        missing("email", "is required: none given and none saved")
                    })?,
                };
            let id = deliverers
                .mail
                .send(to.as_str(), "Tenantry test notification", &text)
                .map_err(|e| delivery_failed(to.as_str(), e))?;
            Ok(TestOutcome {
                channel,
                response: json!({ "email_response": { "delivered_to": to.as_str(), "message_id": id } }),
            })
        }
    }
}
