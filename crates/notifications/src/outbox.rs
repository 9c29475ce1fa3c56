//! The transactional outbox: messages are written in the same transaction as the change that
//! causes them (an invitation, later every domain event), and a background worker delivers
//! them. At-least-once: a message is marked delivered only after its transport accepted it, and
//! a worker that dies mid-delivery loses its lease, so the next one delivers it again.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tenantry_kernel::{AccountId, Clock, EventId, PortError, RandomSource};
use tenantry_security::{Sealed, SecretBox};

use crate::{DeliveryError, MailTransport};

/// An email to send.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body; it may carry a secret link, so it is sealed in the outbox and never
    /// printed.
    pub text: String,
    /// An HTML alternative of `text` (the branded emails of an account, decision 0037), sent
    /// with it as `multipart/alternative`; `None` sends the text alone. Absent from mail sealed
    /// before it existed, which still opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl std::fmt::Debug for Mail {
    // The text may carry a secret link; never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// What an outbox row holds, which decides the transport that delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// A sealed `Mail`.
    Email,
    /// A domain event (plain JSON; it carries no secret) to route through the rules.
    Event,
    /// A sealed `DeliveryJob`: one event to one channel.
    Delivery,
}

impl OutboxKind {
    /// The stored word (`email`, `event`, `delivery`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Email => "email",
            OutboxKind::Event => "event",
            OutboxKind::Delivery => "delivery",
        }
    }

    /// The kind a stored word stands for; `None` for any other word.
    pub fn parse(s: &str) -> Option<Self> {
        [OutboxKind::Email, OutboxKind::Event, OutboxKind::Delivery]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A message to write into the outbox together with the change that causes it. The payload is
/// sealed with the master key: it may carry a secret (an invitation link).
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// The message's id.
    pub id: EventId,
    /// The account it belongs to; `None` for mail not sent on any account's behalf.
    pub account: Option<AccountId>,
    /// What it holds, which decides how it is delivered.
    pub kind: OutboxKind,
    /// Sealed text for email and delivery, plain JSON for events (see `OutboxKind`).
    pub payload: String,
    /// When it was written, in the transaction of the change that caused it.
    pub created_at: DateTime<Utc>,
}

impl OutboxEntry {
    /// An email entry: `mail` as JSON, sealed with the master key (its text may carry a secret
    /// link).
    pub fn mail(
        account: Option<AccountId>,
        mail: &Mail,
        secrets: &SecretBox,
        clock: &dyn Clock,
        random: &dyn RandomSource,
    ) -> Self {
        Self::sealed(OutboxKind::Email, account, mail, secrets, clock, random)
    }

    /// An entry of `kind` whose payload is `value` as JSON, sealed with the master key.
    pub fn sealed(
        kind: OutboxKind,
        account: Option<AccountId>,
        value: &impl Serialize,
        secrets: &SecretBox,
        clock: &dyn Clock,
        random: &dyn RandomSource,
    ) -> Self {
        // The payloads are plain structs of strings and JSON values: serializing cannot fail.
        let json = serde_json::to_string(value).unwrap_or_default();
        Self {
            id: EventId::generate(clock, random),
            account,
            kind,
            payload: secrets.seal(&json, random).as_str().to_owned(),
            created_at: clock.now(),
        }
    }
}

/// A due message, leased to one worker.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    /// The message's id.
    pub id: EventId,
    /// Its kind's stored word.
    pub kind: String,
    /// Sealed for kinds that may carry secrets (email, delivery), plain JSON for events.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// Where outbox rows live. Writing them is part of each change's own transaction (the store
/// does it beside the change); this port is the worker's side. `holder` is the token of one
/// claimed batch: a worker renews and starts only rows it still holds. Every method returns
/// `PortError` when the store fails.
pub trait OutboxStore: Send + Sync {
    /// Leases up to `limit` due messages (not delivered, not abandoned, `next_attempt_at <= now`,
    /// no live lease) to `holder` until `lease_until`. Two workers never lease the same row at
    /// once (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time). Leasing
    /// nothing MUST NOT bump the write epoch (the idle poll runs every second or so).
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        holder: &str,
    ) -> Result<Vec<ClaimedMessage>, PortError>;
    /// Extends to `lease_until` the leases `holder` still has on `ids` (those it lost, or
    /// finished, are left alone).
    fn renew_claims(
        &self,
        ids: &[EventId],
        holder: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Counts attempt number `attempts` as made, before it is made, when `holder` still has a
    /// live lease on the message at `now`; `Ok(false)` (nothing written) when it lost it. An
    /// attempt cut short by a crash therefore still counts, and the next one has its own number.
    fn begin_attempt(
        &self,
        id: EventId,
        attempts: u32,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError>;
    /// Marks the message delivered after attempt number `attempts`; it is never claimed again.
    fn mark_delivered(
        &self,
        id: EventId,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Records a failed attempt and when to try again.
    fn reschedule(
        &self,
        id: EventId,
        attempts: u32,
        next_attempt: DateTime<Utc>,
        error: &str,
    ) -> Result<(), PortError>;
    /// Gives up on a message (permanent failure, or retries exhausted); it stays for inspection.
    fn abandon(
        &self,
        id: EventId,
        attempts: u32,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), PortError>;
    /// Messages not yet delivered nor abandoned.
    fn outbox_depth(&self) -> Result<u64, PortError>;
    /// Gives up the lease of these messages (a worker releasing the rest of its batch), or of
    /// every message when `ids` is `None` (at start-up, by the only process that can hold
    /// leases: SQLite's single server).
    fn release_claims(&self, ids: Option<&[EventId]>) -> Result<(), PortError>;
}

/// Delays after the 1st, 2nd, ... failed attempt; after the last one the message is abandoned.
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h: a receiver down for most of a day still gets it.
pub const RETRY_SCHEDULE_SECS: [i64; 6] = [5, 300, 1_800, 7_200, 18_000, 36_000];

/// Messages one claim takes. Bounded so that instances share a backlog: each takes 16 at a
/// time, and what it has not started within `BATCH_WINDOW_SECS` goes back. 16 deliveries to a
/// fast receiver take well under a second, so the claim transaction is paid once per 16
/// messages; to a slow one (15 s transport timeout), only the first one or two of a batch are
/// started by that instance and the rest is released for the others.
pub const CLAIM_BATCH: u32 = 16;

/// How long a lease lasts without renewal. While a worker works through a batch it renews the
/// leases of the messages it has not finished every `RENEW_EVERY_SECS`, so a live worker keeps
/// them however slow the receiver; a dead one stops renewing, and its claims are due again at
/// most `LEASE_SECS` after its death (another instance takes them at its next poll; on SQLite a
/// restart takes them at once, see `release_claims`).
pub const LEASE_SECS: i64 = 10;

/// How often the leases of a batch in progress are extended. A third of the lease: two
/// renewals in a row may fail (a database hiccup) before a live worker loses a message.
pub const RENEW_EVERY_SECS: u64 = 3;

/// A worker starts no message of its batch later than this after claiming it; it hands the
/// rest back, so a batch stuck behind slow receivers does not keep messages from idle
/// instances.
pub const BATCH_WINDOW_SECS: i64 = 20;

/// The delays between attempts (operators may shorten or lengthen it:
/// `TENANTRY_RETRY_SCHEDULE`); after as many failures as it has entries, plus the first
/// attempt, a message is abandoned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<i64>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(RETRY_SCHEDULE_SECS.to_vec())
    }
}

impl RetrySchedule {
    /// Comma-separated seconds, 1-20 entries of 1-604800 each.
    pub fn parse(list: &str) -> Result<Self, String> {
        let delays = list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=604_800).contains(d))
                    .ok_or_else(|| format!("`{}` is not a delay of 1-604800 seconds", s.trim()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() || delays.len() > 20 {
            return Err("must list 1-20 delays".into());
        }
        Ok(Self(delays))
    }

    /// Whether attempt number `attempt` (from 1) is the last one.
    pub fn is_last(&self, attempt: u32) -> bool {
        attempt as usize > self.0.len()
    }

    /// Whether `made` attempts (the last of them interrupted, as a message still due after
    /// them was never concluded) leave any to make.
    pub fn exhausted_by(&self, made: u32) -> bool {
        made as usize > self.0.len()
    }

    /// When to retry after `attempts` failed attempts, or `None` to give up. Up to 10% jitter
    /// keeps receivers that failed together from being retried in lockstep.
    pub fn next_attempt(
        &self,
        attempts: u32,
        now: DateTime<Utc>,
        random: &dyn RandomSource,
    ) -> Option<DateTime<Utc>> {
        let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
        let base = *self.0.get(index)?;
        let mut b = [0u8; 2];
        random.fill(&mut b);
        let jitter_ms = base * 100 * i64::from(u16::from_le_bytes(b)) / i64::from(u16::MAX);
        Some(now + Duration::seconds(base) + Duration::milliseconds(jitter_ms))
    }
}

/// `RetrySchedule::default().next_attempt`.
pub fn next_attempt(
    attempts: u32,
    now: DateTime<Utc>,
    random: &dyn RandomSource,
) -> Option<DateTime<Utc>> {
    RetrySchedule::default().next_attempt(attempts, now, random)
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages delivered in this pass.
    pub delivered: u32,
    /// Messages that failed and will be tried again.
    pub retried: u32,
    /// Messages that failed for the last time, or were refused for good.
    pub abandoned: u32,
    /// Not sent because what they were for is gone (a deleted or disabled channel).
    pub cancelled: u32,
}

impl DispatchReport {
    /// Every message the pass finished with, whatever the outcome.
    pub fn handled(&self) -> u32 {
        self.delivered + self.retried + self.abandoned + self.cancelled
    }
}

/// What handling one outbox message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Delivered.
    Done,
    /// Try again per the retry schedule, or not before `not_before` seconds (a receiver's
    /// `Retry-After`) when that is later.
    Retry {
        /// Why this attempt failed.
        error: String,
        /// The receiver's `Retry-After`, in seconds, if it sent one.
        not_before_secs: Option<u64>,
    },
    /// Never try again (a permanent refusal).
    GiveUp {
        /// Why it can never be delivered.
        error: String,
    },
    /// Not sent, and never to be: what the message was for is gone (its channel was deleted
    /// or disabled). No attempt was made, so none is counted.
    Cancelled {
        /// Why it is not sent.
        reason: String,
    },
}

/// Delivers the messages of one kind. `attempt` counts from 1; `last` says no retry follows a
/// failure of this one.
pub trait OutboxHandler: Send + Sync {
    /// Tries to deliver `message` once and says what came of it; it never panics or errors on a bad
    /// message, it gives up on it.
    fn handle(&self, message: &ClaimedMessage, attempt: u32, last: bool) -> Handled;
    /// The message will not be tried again (its retries are exhausted or it was refused for
    /// good); the handler records that where its users can see it.
    fn abandoned(&self, _message: &ClaimedMessage, _error: &str) {}
}

/// Emails: the payload is a sealed `Mail`.
pub struct MailHandler {
    secrets: SecretBox,
    mail: Arc<dyn MailTransport>,
}

impl MailHandler {
    /// A handler that opens each sealed mail with `secrets` and sends it through `mail`.
    pub fn new(secrets: SecretBox, mail: Arc<dyn MailTransport>) -> Self {
        Self { secrets, mail }
    }
}

impl OutboxHandler for MailHandler {
    fn handle(&self, message: &ClaimedMessage, _attempt: u32, _last: bool) -> Handled {
        let give_up = |error: String| Handled::GiveUp { error };
        let json = match self
            .secrets
            .open(&Sealed::from_stored(message.payload.clone()))
        {
            Ok(json) => json,
            Err(e) => return give_up(format!("cannot open the payload: {e}")),
        };
        let mail: Mail = match serde_json::from_str(&json) {
            Ok(mail) => mail,
            Err(e) => return give_up(format!("malformed mail payload: {e}")),
        };
        let sent = match &mail.html {
            Some(html) => self
                .mail
                .send_with_html(&mail.to, &mail.subject, &mail.text, html),
            None => self.mail.send(&mail.to, &mail.subject, &mail.text),
        };
        match sent {
            Ok(_) => Handled::Done,
            Err(e @ DeliveryError::Refused(_)) => give_up(e.to_string()),
            Err(e) => Handled::Retry {
                error: e.to_string(),
                not_before_secs: None,
            },
        }
    }
}

/// Delivers due outbox messages, each kind through its handler.
pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    handlers: Vec<(OutboxKind, Arc<dyn OutboxHandler>)>,
    schedule: RetrySchedule,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

impl OutboxWorker {
    /// A worker over `store` with no handlers yet and the default retry schedule.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            handlers: Vec::new(),
            schedule: RetrySchedule::default(),
            clock,
            random,
        }
    }

    /// The worker with another retry schedule.
    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The worker with `handler` delivering messages of `kind`.
    pub fn with_handler(mut self, kind: OutboxKind, handler: Arc<dyn OutboxHandler>) -> Self {
        self.handlers.push((kind, handler));
        self
    }

    /// Claims up to `limit` due messages and handles each once, keeping their leases alive
    /// meanwhile (a helper thread renews them every `RENEW_EVERY_SECS` until the batch is done).
    pub fn run_once(&self, limit: u32) -> Result<DispatchReport, PortError> {
        let holder = claim_token(self.random.as_ref());
        let now = self.clock.now();
        let claimed =
            self.store
                .claim_due(now, now + Duration::seconds(LEASE_SECS), limit, &holder)?;
        if claimed.is_empty() {
            return Ok(DispatchReport::default());
        }
        let unfinished = Mutex::new(claimed.iter().map(|m| m.id).collect::<Vec<_>>());
        let (done, stop) = mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let (holder, unfinished) = (&holder, &unfinished);
            scope.spawn(move || self.keep_leases(holder, unfinished, &stop));
            let report = self.work_through(&claimed, holder, unfinished);
            drop(done);
            report
        })
    }

    /// Renews the leases of the messages not finished yet until `stop` is dropped.
    fn keep_leases(&self, holder: &str, unfinished: &Mutex<Vec<EventId>>, stop: &Receiver<()>) {
        let every = std::time::Duration::from_secs(RENEW_EVERY_SECS);
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
            let ids = unfinished.lock().map(|ids| ids.clone()).unwrap_or_default();
            if ids.is_empty() {
                continue;
            }
            let until = self.clock.now() + Duration::seconds(LEASE_SECS);
            if let Err(e) = self.store.renew_claims(&ids, holder, until) {
                tracing::warn!(error = %e, "could not renew the outbox leases; retrying");
            }
        }
    }

    fn work_through(
        &self,
        claimed: &[ClaimedMessage],
        holder: &str,
        unfinished: &Mutex<Vec<EventId>>,
    ) -> Result<DispatchReport, PortError> {
        let finished = |id: EventId| {
            if let Ok(mut ids) = unfinished.lock() {
                ids.retain(|i| *i != id);
            }
        };
        let mut report = DispatchReport::default();
        let started = self.clock.now();
        for (index, message) in claimed.iter().enumerate() {
            if (self.clock.now() - started).num_seconds() >= BATCH_WINDOW_SECS {
                // Slow going: the rest goes back at once, for idle instances to take.
                let rest: Vec<EventId> = claimed[index..].iter().map(|m| m.id).collect();
                if let Ok(mut ids) = unfinished.lock() {
                    ids.clear();
                }
                self.store.release_claims(Some(&rest))?;
                break;
            }
            let handler = OutboxKind::parse(&message.kind)
                .and_then(|k| self.handlers.iter().find(|(hk, _)| *hk == k))
                .map(|(_, h)| h.clone());
            if self.schedule.exhausted_by(message.attempts) {
                // Still due after its last attempt: that attempt's sender died mid-way.
                let error = "the last attempt was interrupted (its process stopped)";
                tracing::error!(id = %message.id, kind = %message.kind, attempts = message.attempts, "outbox delivery abandoned: {error}");
                self.store
                    .abandon(message.id, message.attempts, self.clock.now(), error)?;
                if let Some(h) = &handler {
                    h.abandoned(message, error);
                }
                report.abandoned += 1;
                finished(message.id);
                continue;
            }
            let attempts = message.attempts.saturating_add(1);
            if !self
                .store
                .begin_attempt(message.id, attempts, holder, self.clock.now())?
            {
                // The lease ran out (renewals failed) and another worker may have it now.
                tracing::warn!(id = %message.id, kind = %message.kind, "outbox lease lost before sending; left to its new holder");
                finished(message.id);
                continue;
            }
            let outcome = match &handler {
                Some(h) => h.handle(message, attempts, self.schedule.is_last(attempts)),
                None => Handled::GiveUp {
                    error: format!("no handler for message kind `{}`", message.kind),
                },
            };
            self.conclude(message, attempts, outcome, handler.as_deref(), &mut report)?;
            finished(message.id);
        }
        Ok(report)
    }

    /// Records what attempt `attempts` of `message` came to.
    fn conclude(
        &self,
        message: &ClaimedMessage,
        attempts: u32,
        outcome: Handled,
        handler: Option<&dyn OutboxHandler>,
        report: &mut DispatchReport,
    ) -> Result<(), PortError> {
        let at = self.clock.now();
        let (error, retry) = match outcome {
            Handled::Done => {
                self.store.mark_delivered(message.id, attempts, at)?;
                report.delivered += 1;
                return Ok(());
            }
            Handled::Retry {
                error,
                not_before_secs,
            } => {
                let scheduled = self
                    .schedule
                    .next_attempt(attempts, at, self.random.as_ref());
                let asked = not_before_secs
                    .map(|s| at + Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2)));
                (error, scheduled.map(|t| asked.map_or(t, |a| a.max(t))))
            }
            Handled::GiveUp { error } => (error, None),
            Handled::Cancelled { reason } => {
                tracing::info!(id = %message.id, kind = %message.kind, %reason, "outbox message cancelled");
                self.store
                    .abandon(message.id, message.attempts, at, &reason)?;
                report.cancelled += 1;
                return Ok(());
            }
        };
        match retry {
            Some(next) => {
                tracing::warn!(id = %message.id, kind = %message.kind, attempts, %error, "outbox delivery failed; will retry");
                self.store.reschedule(message.id, attempts, next, &error)?;
                report.retried += 1;
            }
            None => {
                tracing::error!(id = %message.id, kind = %message.kind, attempts, %error, "outbox delivery abandoned");
                self.store.abandon(message.id, attempts, at, &error)?;
                if let Some(h) = handler {
                    h.abandoned(message, &error);
                }
                report.abandoned += 1;
            }
        }
        Ok(())
    }
}

/// A fresh token naming one claimed batch (128 random bits, hex).
fn claim_token(random: &dyn RandomSource) -> String {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::OsRandom;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        assert_eq!(next_attempt(0, now, &OsRandom), None, "no failure yet");
        for (i, base) in RETRY_SCHEDULE_SECS.iter().enumerate() {
            let attempts = u32::try_from(i + 1).expect("small");
            let next = next_attempt(attempts, now, &OsRandom).expect("scheduled");
            let delay = (next - now).num_milliseconds();
            assert!(delay >= base * 1000, "attempt {attempts}: {delay} ms");
            assert!(delay <= base * 1100, "attempt {attempts}: {delay} ms");
        }
        assert_eq!(next_attempt(7, now, &OsRandom), None, "exhausted");
    }

    #[test]
    fn mail_debug_hides_the_text() {
        let mail = Mail {
            to: "a@example.com".into(),
            subject: "s".into(),
            text: "secret-link".into(),
            html: Some("<a href=\"secret-link\">".into()),
        };
        assert!(!format!("{mail:?}").contains("secret-link"));
    }

    #[test]
    fn mail_sealed_without_html_still_opens_and_text_only_mail_stays_as_it_was() {
        let old: Mail = serde_json::from_str(r#"{"to":"a@example.com","subject":"s","text":"t"}"#)
            .expect("a payload written before the html field");
        assert_eq!(old.html, None);
        assert_eq!(
            serde_json::to_string(&old).expect("json"),
            r#"{"to":"a@example.com","subject":"s","text":"t"}"#
        );
    }
}
