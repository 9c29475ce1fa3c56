//! The notification engine's ports: where channels, rules and deliveries are kept, and where
//! the built-in channels come from (the account settings API's settings, owned by the settings crate).

use chrono::{DateTime, Utc};
use serde_json::Value;
use tenantry_kernel::{AccountId, DeliveryId, Page, PageRequest, PortError};
use tenantry_security::{ChangeAudit, Sealed};

use crate::{Attempt, Channel, ChannelKind, Delivery, DeliveryStatus, Event, OutboxEntry, Rule};

/// A custom channel as stored: its public configuration and, sealed, its secret (a webhook's
/// signing secret, a Slack channel's incoming-webhook URL).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRecord {
    /// The channel's id (`nch_...`).
    pub id: String,
    /// Email, Slack or webhook.
    pub kind: ChannelKind,
    /// The name its account gave it.
    pub name: String,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// What the API shows of the configuration (no secret in it; a Slack URL reads
    /// `{"configured": true}`).
    pub config: Value,
    /// The channel's secret, sealed: a webhook's signing secret or a Slack URL.
    pub secret: Option<Sealed>,
    /// The signing secret a change replaced, and until when it still signs.
    pub previous_secret: Option<(Sealed, DateTime<Utc>)>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A delivery to create, with its outbox row (the sealed job).
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The delivery's id.
    pub id: DeliveryId,
    /// The account it belongs to.
    pub account: AccountId,
    /// The event it carries.
    pub event_id: String,
    /// That event's name.
    pub event_type: String,
    /// The channel it goes to.
    pub channel_id: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// The sealed job the outbox worker delivers.
    pub job: OutboxEntry,
}

/// An event held for a channel's digest.
#[derive(Debug, Clone)]
pub struct DigestItem {
    /// The account.
    pub account: AccountId,
    /// The channel whose digest holds it.
    pub channel_id: String,
    /// The event held.
    pub event: Event,
    /// When the digest period it belongs to ends.
    pub period_end: DateTime<Utc>,
}

/// The held events of one channel whose digest period has ended.
#[derive(Debug, Clone)]
pub struct DueDigest {
    /// The account.
    pub account: AccountId,
    /// The channel.
    pub channel_id: String,
    /// When the digest period ended.
    pub period_end: DateTime<Utc>,
    /// (item id, event), oldest first.
    pub items: Vec<(String, Event)>,
}

/// Cancelling: a deleted or disabled channel stops receiving. The writes that delete or disable
/// a channel MUST cancel its pending deliveries (queued or retrying) in the same transaction:
/// their outbox rows are abandoned, so no worker claims them again, and the log shows them
/// `cancelled`. A worker already holding one re-checks [`NotificationStore::delivery_cancelled`]
/// and the channel right before sending.
///
/// Every method returns `PortError` when the store fails; an unknown channel, rule or delivery
/// of the account is `Ok(None)` or `Ok(false)`, not an error.
pub trait NotificationStore: Send + Sync {
    /// The account's own channels (not the built-in ones), with their sealed secrets.
    fn channel_records(&self, account: AccountId) -> Result<Vec<ChannelRecord>, PortError>;
    /// `None` when the account has no such channel, else whether it is enabled.
    fn channel_enabled(&self, account: AccountId, id: &str) -> Result<Option<bool>, PortError>;
    /// Writes the channel and its audit entry in one transaction.
    fn insert_channel(
        &self,
        account: AccountId,
        channel: &ChannelRecord,
        audit: &ChangeAudit,
    ) -> Result<(), PortError>;
    /// `false` when the channel does not exist. Turning an enabled channel off cancels its
    /// pending deliveries in the same transaction.
    fn update_channel(
        &self,
        account: AccountId,
        channel: &ChannelRecord,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;
    /// `false` when the channel does not exist. Cancels its pending deliveries in the same
    /// transaction.
    fn delete_channel(
        &self,
        account: AccountId,
        id: &str,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;
    /// Turns a channel off after its receiver answered `410 Gone` (audited as `system`), and
    /// cancels its pending deliveries, in one transaction.
    fn disable_channel(
        &self,
        account: AccountId,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Cancels the pending deliveries of a channel (a built-in one, whose switch lives in the
    /// settings); returns how many.
    fn cancel_deliveries(
        &self,
        account: AccountId,
        channel_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, PortError>;
    /// Marks one delivery cancelled (a worker found its channel gone right before sending).
    fn cancel_delivery(&self, delivery: DeliveryId, at: DateTime<Utc>) -> Result<(), PortError>;
    /// Whether the delivery was cancelled (also `false` for an unknown one).
    fn delivery_cancelled(&self, delivery: DeliveryId) -> Result<bool, PortError>;
    /// Slack channels whose URL is still stored in clear in their configuration (written
    /// before URLs were sealed), of every account.
    fn slack_channels_in_clear(&self) -> Result<Vec<(AccountId, ChannelRecord)>, PortError>;
    /// Replaces a channel's configuration and secret when its configuration is still
    /// `before.config` (a concurrent edit wins); `false` when it was not.
    fn reseal_channel(
        &self,
        account: AccountId,
        before: &ChannelRecord,
        after: &ChannelRecord,
    ) -> Result<bool, PortError>;

    /// The account's rules.
    fn rules(&self, account: AccountId) -> Result<Vec<Rule>, PortError>;
    /// Writes the rule and its audit entry in one transaction.
    fn insert_rule(
        &self,
        account: AccountId,
        rule: &Rule,
        audit: &ChangeAudit,
    ) -> Result<(), PortError>;
    /// Overwrites every field of the account's rule `rule.id` but its creation time; `false`
    /// when the account has no such rule.
    fn update_rule(
        &self,
        account: AccountId,
        rule: &Rule,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;
    /// `false` when the account has no such rule.
    fn delete_rule(
        &self,
        account: AccountId,
        id: &str,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError>;

    /// Writes the deliveries with their outbox rows, and the events held for digests, in one
    /// transaction.
    fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        digests: &[DigestItem],
    ) -> Result<(), PortError>;
    /// Digests whose period ended by `now` and that still hold events.
    fn due_digests(&self, now: DateTime<Utc>) -> Result<Vec<DueDigest>, PortError>;
    /// Marks the digest's items flushed and writes its delivery, in one transaction; `false`
    /// (and nothing written) when another worker flushed any of them first.
    fn flush_digest(&self, digest: &DueDigest, delivery: &NewDelivery) -> Result<bool, PortError>;
    /// Newest first.
    fn deliveries(
        &self,
        account: AccountId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, PortError>;
    /// The delivery `id` of `account`; `None` when it does not exist or belongs to another account.
    fn delivery(&self, account: AccountId, id: DeliveryId) -> Result<Option<Delivery>, PortError>;
    /// The sealed job of a delivery (for redelivery).
    fn delivery_job(&self, account: AccountId, id: DeliveryId)
        -> Result<Option<String>, PortError>;
    /// Logs attempt `number` as in flight, before it is sent, and marks the delivery's earlier
    /// attempts still in flight as interrupted (their sender died: this attempt could only
    /// start after their lease ran out).
    fn record_attempt_started(
        &self,
        delivery: DeliveryId,
        number: u32,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Completes the attempt's log row with its outcome (writing the row if its start was not
    /// logged) and sets the delivery's status.
    fn record_attempt(
        &self,
        delivery: DeliveryId,
        attempt: &Attempt,
        status: DeliveryStatus,
    ) -> Result<(), PortError>;
    /// Marks the delivery's attempts still in flight as interrupted and sets its status (its
    /// last attempt was cut short and no other follows).
    fn interrupt_attempts(
        &self,
        delivery: DeliveryId,
        status: DeliveryStatus,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;

    /// Where an email channel without recipients sends: the account's active admins and owner.
    fn admin_emails(&self, account: AccountId) -> Result<Vec<String>, PortError>;
    /// A host-reported event, into the outbox.
    fn insert_event(&self, entry: &OutboxEntry) -> Result<(), PortError>;
}

/// The account settings API's built-in channels (`nch_email`, `nch_slack`, `nch_webhook`) and the
/// rules their alert toggles and event lists amount to, with secrets opened.
pub trait BuiltinRoutes: Send + Sync {
    /// The built-in channels of `account`, enabled or not, and the rules they amount to.
    fn builtin_routes(&self, account: AccountId) -> Result<(Vec<Channel>, Vec<Rule>), PortError>;
    /// Turns a built-in channel on or off (the user and organization API's PUT, or a `410 Gone`
    /// from its receiver), as a change of the account settings API's settings; `actor` is `None`
    /// for the system. `Ok(changed)`. Turning on a channel that has nowhere to deliver (no URL)
    /// MUST be refused with [`crate::NotificationError::Validation`] naming the missing field: the
    /// switch is the very field the account settings show, and answering `enabled: false` to a
    /// request for `true` would make the two views disagree.
    fn set_builtin_enabled(
        &self,
        account: AccountId,
        actor: Option<&tenantry_kernel::Actor>,
        channel_id: &str,
        enabled: bool,
    ) -> Result<bool, crate::NotificationError>;
}
