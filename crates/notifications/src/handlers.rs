//! The outbox handlers of the notification engine: routing an event into deliveries, and
//! sending one delivery (webhook, Slack, email) while logging every attempt. Right before
//! sending, a delivery is checked against its channel as it is now: one cancelled, or whose
//! channel was deleted or disabled since it was queued, is not sent.

use std::sync::Arc;
use std::time::Instant;

use tenantry_kernel::{AccountId, Clock, DeliveryId, PortError};
use tenantry_security::{Sealed, SecretBox};

use crate::slack_url::{carries_credentials, redact_slack_url};
use crate::{
    email_message, slack_body, webhook_body, Attempt, AttemptState, BuiltinRoutes, ClaimedMessage,
    DeliveryError, DeliveryJob, DeliveryStatus, Event, Handled, HttpReply, HttpTransport,
    JobTarget, MailTransport, NotificationService, NotificationStore, OutboxHandler,
};

/// Refuses a URL with credentials in it, whenever it was stored: no delivery sends them.
fn refuse_credentials(url: &str) -> Result<(), DeliveryError> {
    match url::Url::parse(url) {
        Ok(u) if carries_credentials(&u) => Err(DeliveryError::Refused(
            "the URL carries credentials (user:password@), which deliveries never send".into(),
        )),
        _ => Ok(()),
    }
}

/// Routes events (outbox kind `event`) through the rules.
pub struct EventHandler {
    service: Arc<NotificationService>,
}

impl EventHandler {
    /// A handler that routes each event through `service`'s rules into deliveries.
    pub fn new(service: Arc<NotificationService>) -> Self {
        Self { service }
    }
}

impl OutboxHandler for EventHandler {
    fn handle(&self, message: &ClaimedMessage, _attempt: u32, _last: bool) -> Handled {
        let event: Event = match serde_json::from_str(&message.payload) {
            Ok(e) => e,
            Err(e) => {
                return Handled::GiveUp {
                    error: format!("malformed event: {e}"),
                }
            }
        };
        match self.service.fan_out(&event) {
            Ok(_) => Handled::Done,
            Err(e) => Handled::Retry {
                error: format!("routing failed: {e}"),
                not_before_secs: None,
            },
        }
    }
}

/// Sends deliveries (outbox kind `delivery`).
pub struct DeliveryHandler {
    store: Arc<dyn NotificationStore>,
    builtins: Arc<dyn BuiltinRoutes>,
    secrets: SecretBox,
    http: Arc<dyn HttpTransport>,
    mail: Arc<dyn MailTransport>,
    clock: Arc<dyn Clock>,
}

enum Sent {
    Reply(HttpReply),
    Mailed { latency_ms: u64 },
}

impl DeliveryHandler {
    /// A handler that sends deliveries through the given transports, opening sealed channel secrets
    /// with `secrets`, and logs every attempt in `store`.
    pub fn new(
        store: Arc<dyn NotificationStore>,
        builtins: Arc<dyn BuiltinRoutes>,
        secrets: SecretBox,
        http: Arc<dyn HttpTransport>,
        mail: Arc<dyn MailTransport>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            builtins,
            secrets,
            http,
            mail,
            clock,
        }
    }

    fn send(&self, job: &DeliveryJob) -> Result<Sent, DeliveryError> {
        let event = &job.event;
        match &job.target {
            JobTarget::Webhook {
                url,
                secret,
                previous,
            } => {
                refuse_credentials(url)?;
                let body = webhook_body(event);
                let timestamp = self.clock.now().timestamp();
                let mut headers = vec![
                    ("webhook-id".to_owned(), event.id.clone()),
                    ("webhook-timestamp".to_owned(), timestamp.to_string()),
                ];
                if let Some(secret) = secret {
                    let mut signature = crate::sign(secret, &event.id, timestamp, &body);
                    // During the overlap both secrets sign (Standard Webhooks: signatures are
                    // space-separated, a receiver accepts the message when one verifies).
                    if let Some(p) = previous.as_ref().filter(|p| timestamp < p.until) {
                        signature.push(' ');
                        signature.push_str(&crate::sign(&p.secret, &event.id, timestamp, &body));
                    }
                    headers.push(("webhook-signature".to_owned(), signature));
                }
                self.http.post_json(url, &headers, &body).map(Sent::Reply)
            }
            JobTarget::Slack {
                webhook_url,
                channel,
            } => {
                refuse_credentials(webhook_url)?;
                self.http
                    .post_json(webhook_url, &[], &slack_body(event, channel.as_deref()))
                    .map(Sent::Reply)
                    // The URL is a credential; a transport's error may quote it.
                    .map_err(|e| match e {
                        DeliveryError::Refused(m) => {
                            DeliveryError::Refused(redact_slack_url(&m, webhook_url))
                        }
                        DeliveryError::Unreachable(m) => {
                            DeliveryError::Unreachable(redact_slack_url(&m, webhook_url))
                        }
                        DeliveryError::Local(m) => {
                            DeliveryError::Local(redact_slack_url(&m, webhook_url))
                        }
                    })
            }
            JobTarget::Email { recipients } => {
                let started = Instant::now();
                let (subject, text) = email_message(event);
                for to in recipients {
                    self.mail.send(to, &subject, &text)?;
                }
                Ok(Sent::Mailed {
                    latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                })
            }
        }
    }

    /// Why the delivery must not go out now, if it must not: it was cancelled, its channel is
    /// gone, or its channel is off (unless it is a test asked for while it was off).
    fn cancelled_because(&self, job: &DeliveryJob) -> Result<Option<String>, PortError> {
        let corrupt = |what: &str| PortError::Corrupt(format!("delivery job {what}"));
        let delivery: DeliveryId = job.delivery_id.parse().map_err(|_| corrupt("id"))?;
        if self.store.delivery_cancelled(delivery)? {
            return Ok(Some(
                "cancelled: the channel was deleted or disabled".into(),
            ));
        }
        let account: AccountId = job.account_id.parse().map_err(|_| corrupt("account"))?;
        let enabled = if crate::is_builtin(&job.channel_id) {
            let (channels, _) = self.builtins.builtin_routes(account)?;
            channels
                .iter()
                .find(|c| c.id == job.channel_id)
                .map(|c| c.enabled)
        } else {
            self.store.channel_enabled(account, &job.channel_id)?
        };
        Ok(match enabled {
            None => Some("cancelled: the channel was deleted".into()),
            Some(false) if !job.to_disabled_channel => {
                Some("cancelled: the channel was disabled".into())
            }
            Some(_) => None,
        })
    }

    /// A `410 Gone` receiver wants no more, and one that failed every retry of a message is
    /// broken: its channel is turned off (its other pending deliveries cancelled), and the
    /// account's admins are told by email.
    fn disable(&self, job: &DeliveryJob, why: &str) {
        let Ok(account) = job.account_id.parse::<AccountId>() else {
            return;
        };
        let result = if crate::is_builtin(&job.channel_id) {
            self.builtins
                .set_builtin_enabled(account, None, &job.channel_id, false)
                .and_then(|_| {
                    Ok(self.store.cancel_deliveries(
                        account,
                        &job.channel_id,
                        "cancelled: the channel was disabled",
                        self.clock.now(),
                    )?)
                })
                .map(|_| ())
        } else {
            self.store
                .disable_channel(
                    account,
                    &job.channel_id,
                    "the receiver answered 410 Gone",
                    self.clock.now(),
                )
                .map_err(crate::NotificationError::from)
        };
        if let Err(e) = result {
            tracing::warn!(channel = %job.channel_id, error = %e, "could not disable the channel");
            return;
        }
        tracing::warn!(channel = %job.channel_id, reason = why, "channel disabled");
        let admins = match self.store.admin_emails(account) {
            Ok(admins) => admins,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the admins to tell about a disabled channel");
                return;
            }
        };
        for to in admins {
            let mail = crate::Mail {
                to,
                subject: format!("Tenantry: channel {} was disabled", job.channel_id),
                text: format!(
                    "The notification channel {} of account {} was disabled: {why}.\n\n\
                     Fix the receiver, then enable the channel again \
                     (PUT /api/notifications/channels/{} with {{\"enabled\": true}}).\n",
                    job.channel_id, job.account_id, job.channel_id
                ),
                html: None,
            };
            let entry = crate::OutboxEntry::mail(
                Some(account),
                &mail,
                &self.secrets,
                self.clock.as_ref(),
                &tenantry_kernel::OsRandom,
            );
            if let Err(e) = self.store.insert_event(&entry) {
                tracing::warn!(error = %e, "cannot queue the channel-disabled email");
            }
        }
    }
}

impl OutboxHandler for DeliveryHandler {
    fn handle(&self, message: &ClaimedMessage, attempt: u32, last: bool) -> Handled {
        let job: DeliveryJob = match self
            .secrets
            .open(&Sealed::from_stored(message.payload.clone()))
            .ok()
            .and_then(|j| serde_json::from_str(&j).ok())
        {
            Some(job) => job,
            None => {
                return Handled::GiveUp {
                    error: "cannot open the delivery job".into(),
                }
            }
        };
        match self.cancelled_because(&job) {
            Ok(None) => {}
            Ok(Some(reason)) => {
                if let Ok(id) = job.delivery_id.parse::<DeliveryId>() {
                    if let Err(e) = self.store.cancel_delivery(id, self.clock.now()) {
                        tracing::warn!(delivery = %id, error = %e, "could not mark the delivery cancelled");
                    }
                }
                return Handled::Cancelled { reason };
            }
            // Not knowing whether the channel still wants it, nothing is sent yet.
            Err(e) => {
                return Handled::Retry {
                    error: format!("cannot check the channel: {e}"),
                    not_before_secs: None,
                }
            }
        }
        let retrying = if last {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Retrying
        };
        let at = self.clock.now();
        let delivery = job.delivery_id.parse::<DeliveryId>().ok();
        if let Some(id) = delivery {
            // Logged before sending: if this process dies mid-send, the log still shows it.
            if let Err(e) = self.store.record_attempt_started(id, attempt, at) {
                tracing::warn!(delivery = %id, error = %e, "could not log the delivery attempt's start");
            }
        }
        let (status, code, latency, error, handled) = match self.send(&job) {
            Ok(Sent::Reply(reply)) if (200..300).contains(&reply.status) => (
                DeliveryStatus::Delivered,
                Some(reply.status),
                Some(reply.latency_ms),
                None,
                Handled::Done,
            ),
            Ok(Sent::Reply(reply)) if reply.status == 410 => {
                self.disable(&job, "its receiver answered 410 Gone");
                let error = "410 Gone: the channel was disabled".to_owned();
                (
                    DeliveryStatus::Failed,
                    Some(410),
                    Some(reply.latency_ms),
                    Some(error.clone()),
                    Handled::GiveUp { error },
                )
            }
            Ok(Sent::Reply(reply)) => {
                let error = format!("the receiver answered {}", reply.status);
                (
                    retrying,
                    Some(reply.status),
                    Some(reply.latency_ms),
                    Some(error.clone()),
                    Handled::Retry {
                        error,
                        not_before_secs: reply.retry_after_secs,
                    },
                )
            }
            Ok(Sent::Mailed { latency_ms }) => (
                DeliveryStatus::Delivered,
                None,
                Some(latency_ms),
                None,
                Handled::Done,
            ),
            Err(e @ DeliveryError::Refused(_)) => (
                DeliveryStatus::Failed,
                None,
                None,
                Some(e.to_string()),
                Handled::GiveUp {
                    error: e.to_string(),
                },
            ),
            Err(e) => (
                retrying,
                None,
                None,
                Some(e.to_string()),
                Handled::Retry {
                    error: e.to_string(),
                    not_before_secs: None,
                },
            ),
        };
        if last && matches!(handled, Handled::Retry { .. }) {
            // Every retry failed: the receiver is broken, not briefly down.
            self.disable(&job, "every delivery attempt of a message failed");
        }
        let record = Attempt {
            number: attempt,
            at,
            state: AttemptState::Completed,
            response_code: code,
            latency_ms: latency,
            error,
        };
        if let Some(id) = delivery {
            if let Err(e) = self.store.record_attempt(id, &record, status) {
                // The outbox still knows the outcome; the log missing one line is not worth
                // sending the message twice.
                tracing::warn!(delivery = %id, error = %e, "could not record the delivery attempt");
            }
        }
        handled
    }

    fn abandoned(&self, message: &ClaimedMessage, _error: &str) {
        let Some(id) = self
            .secrets
            .open(&Sealed::from_stored(message.payload.clone()))
            .ok()
            .and_then(|j| serde_json::from_str::<DeliveryJob>(&j).ok())
            .and_then(|job| job.delivery_id.parse::<DeliveryId>().ok())
        else {
            return;
        };
        // A give-up after a completed attempt already says `failed`; one after an interrupted
        // last attempt has only this to say so.
        if let Err(e) = self
            .store
            .interrupt_attempts(id, DeliveryStatus::Failed, self.clock.now())
        {
            tracing::warn!(delivery = %id, error = %e, "could not mark the delivery failed");
        }
    }
}
