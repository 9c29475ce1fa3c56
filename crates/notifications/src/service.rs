//! `NotificationService`: the user and organization API's channels and deliveries over one
//! engine (its rules are in `rule_service`), and the routing of each event (`fan_out`, run by the
//! outbox worker) into deliveries.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tenantry_kernel::{
    AccountId, Actor, AuditId, ChannelId, Clock, DeliveryId, EventId, Page, PageRequest,
    RandomSource, Role,
};
use tenantry_security::{ChangeAudit, Sealed, SecretBox};

use crate::channel_config::{parse_config, public_config, stored_target};
use crate::secret_overlap::after_change;
use crate::{
    parse_host_event_name, route, BuiltinRoutes, Channel, ChannelKind, ChannelRecord,
    ChannelTarget, Delivery, DeliveryJob, DigestItem, Event, JobTarget, NewDelivery,
    NotificationError, NotificationStore, OutboundPolicy, OutboxEntry, OutboxKind,
};

/// Everything the service is wired to.
pub struct NotificationDeps {
    /// Channels, rules, deliveries.
    pub store: Arc<dyn NotificationStore>,
    /// The built-in channels and their rules, kept by the account settings.
    pub builtins: Arc<dyn BuiltinRoutes>,
    /// Seals channel secrets and delivery jobs.
    pub secrets: SecretBox,
    /// How long a webhook's replaced signing secret keeps signing deliveries.
    pub secret_overlap: chrono::Duration,
    /// Which addresses a channel may deliver to (the SSRF guard).
    pub policy: OutboundPolicy,
    /// The source of time.
    pub clock: Arc<dyn Clock>,
    /// The source of randomness (ids, generated secrets).
    pub random: Arc<dyn RandomSource>,
}

/// Notification channels, rules and the delivery log of an account, and the routing of each event
/// into deliveries. Only admins (and the owner) read or change any of it: channels carry secrets
/// and say where the account's events go.
pub struct NotificationService {
    pub(crate) d: NotificationDeps,
}

/// A channel as created, with its generated secret (shown once).
pub struct CreatedChannel {
    /// The channel.
    pub channel: Channel,
    /// Its configuration as reads show it (no secret in it).
    pub public_config: Value,
    /// The signing secret generated for a webhook that was created without one; shown this once,
    /// then only sealed.
    pub generated_secret: Option<String>,
}

/// The user and organization API's channel update: absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct ChannelUpdate {
    /// A new name.
    pub name: Option<String>,
    /// Switches the channel on or off.
    pub enabled: Option<bool>,
    /// A new configuration, checked as on creation.
    pub config: Option<Value>,
    /// The channel's `type` as a read showed it: read-only, so it must be the channel's own.
    pub kind: Option<String>,
    /// `builtin` as a read showed it: read-only, so it must be what the channel is.
    pub builtin: Option<bool>,
}

/// An event a host platform reports.
#[derive(Debug, Clone)]
pub struct HostEvent {
    /// The host's event name.
    pub event: String,
    /// What the event carries.
    pub data: Value,
}

/// The ids of the account settings' built-in channels (email, Slack, webhook), which are switched
/// on and off but never created or deleted.
pub const BUILTIN_CHANNELS: [&str; 3] = ["nch_email", "nch_slack", "nch_webhook"];

/// Channels that are another dialect's settings: the account settings API's three, and the settings
/// catalog API's `nch_catalog_*`.
pub fn is_builtin(id: &str) -> bool {
    BUILTIN_CHANNELS.contains(&id) || id.starts_with("nch_catalog_")
}
const MAX_NAME: usize = 100;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn check_name(name: &str) -> Result<String, NotificationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(NotificationError::invalid(
            "name",
            format!("must be 1-{MAX_NAME} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

impl NotificationService {
    /// The service, wired to `deps`.
    pub fn new(deps: NotificationDeps) -> Self {
        Self { d: deps }
    }

    pub(crate) fn audit(&self, actor: &Actor, action: &'static str, details: Value) -> ChangeAudit {
        ChangeAudit {
            id: AuditId::generate(self.d.clock.as_ref(), self.d.random.as_ref()),
            actor: actor.audit_name(),
            action,
            at: self.d.clock.now(),
            ip: actor.audit_address(),
            details,
        }
    }

    /// A custom channel's secret, opened.
    fn secret_of(&self, r: &ChannelRecord) -> Result<Option<String>, NotificationError> {
        r.secret
            .as_ref()
            .map(|s| self.d.secrets.open(s))
            .transpose()
            .map_err(|e| {
                NotificationError::Port(tenantry_kernel::PortError::Corrupt(format!(
                    "channel {} secret: {e}",
                    r.id
                )))
            })
    }

    /// A custom channel with its secret opened, and its public configuration.
    fn open(&self, r: ChannelRecord) -> Result<(Channel, Value), NotificationError> {
        let secret = self.secret_of(&r)?;
        let previous_secret =
            crate::secret_overlap::still_signing(&r, &self.d.secrets, self.d.clock.now())?;
        let target = stored_target(r.kind, &r.config, secret);
        let public = public_config(r.kind, &r.config);
        Ok((
            Channel {
                id: r.id,
                name: r.name,
                enabled: r.enabled,
                target,
                builtin: false,
                digest: None,
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
                previous_secret,
            },
            public,
        ))
    }

    /// Every channel of the account: the built-ins first, then the account's own, with their
    /// public configuration.
    pub fn channels(&self, actor: &Actor) -> Result<Vec<(Channel, Value)>, NotificationError> {
        actor.require(Role::Admin)?;
        self.all_channels(actor.account_id)
    }

    pub(crate) fn all_channels(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Channel, Value)>, NotificationError> {
        let (builtins, _) = self.d.builtins.builtin_routes(account)?;
        let mut out: Vec<(Channel, Value)> = builtins
            .into_iter()
            .map(|c| {
                let public = public_of(&c.target);
                (c, public)
            })
            .collect();
        for record in self.d.store.channel_records(account)? {
            out.push(self.open(record)?);
        }
        Ok(out)
    }

    /// Creates a channel of `kind` (admins only). The configuration is checked (recipients, a Slack
    /// URL's shape, an outbound URL the policy allows) and its secret sealed; the change is
    /// audited. `NotificationError::Validation` names each field that fails.
    pub fn create_channel(
        &self,
        actor: &Actor,
        kind: ChannelKind,
        name: &str,
        enabled: bool,
        config: &Value,
    ) -> Result<CreatedChannel, NotificationError> {
        actor.require(Role::Admin)?;
        let name = check_name(name)?;
        let parsed = parse_config(kind, config, None, &self.d.policy, self.d.random.as_ref())?;
        let now = self.d.clock.now();
        let id = ChannelId::generate(self.d.clock.as_ref(), self.d.random.as_ref()).to_string();
        let record = ChannelRecord {
            id: id.clone(),
            kind,
            name: name.clone(),
            enabled,
            config: parsed.public.clone(),
            secret: self.seal_secret(&parsed.target),
            previous_secret: None,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit(
            actor,
            "notifications.channel_created",
            json!({ "channelId": id, "type": kind.as_str(), "name": name, "config": parsed.public }),
        );
        self.d
            .store
            .insert_channel(actor.account_id, &record, &audit)?;
        Ok(CreatedChannel {
            channel: Channel {
                id,
                name,
                enabled,
                target: parsed.target,
                builtin: false,
                digest: None,
                created_at: Some(now),
                updated_at: Some(now),
                previous_secret: None,
            },
            public_config: parsed.public,
            generated_secret: parsed.generated_secret,
        })
    }

    /// What a channel keeps sealed: a webhook's signing secret, a Slack channel's URL.
    fn seal_secret(&self, target: &ChannelTarget) -> Option<Sealed> {
        match target {
            ChannelTarget::Webhook {
                secret: Some(s), ..
            } => Some(self.d.secrets.seal(s, self.d.random.as_ref())),
            ChannelTarget::Slack { webhook_url, .. } if !webhook_url.is_empty() => {
                Some(self.d.secrets.seal(webhook_url, self.d.random.as_ref()))
            }
            _ => None,
        }
    }

    /// Changes a channel (admins only). A built-in channel only switches on or off; a settings
    /// catalog channel is changed through its setting (`NotificationError::BuiltinChannel`);
    /// `NotFound` for a channel the account does not have. Switching a channel off cancels its
    /// pending deliveries.
    pub fn update_channel(
        &self,
        actor: &Actor,
        id: &str,
        update: ChannelUpdate,
    ) -> Result<(Channel, Value), NotificationError> {
        actor.require(Role::Admin)?;
        if id.starts_with("nch_catalog_") && !id.starts_with("nch_catalog_push_") {
            return Err(NotificationError::BuiltinChannel(format!(
                "{id} is a settings catalog setting: change it through /accounts/{{accountName}}/settings/{{settingName}}"
            )));
        }
        if is_builtin(id) {
            // Its name and configuration sent back as read are ignored (a round trip); only
            // `enabled` can change here, and only a change of it is written.
            let (shown, shown_config) = self
                .all_channels(actor.account_id)?
                .into_iter()
                .find(|(c, _)| c.id == id)
                .ok_or(NotificationError::NotFound("channel"))?;
            if update
                .kind
                .as_deref()
                .is_some_and(|k| k != shown.target.kind().as_str())
                || update.builtin == Some(false)
            {
                return Err(NotificationError::invalid(
                    "type",
                    "`type` and `builtin` are read-only",
                ));
            }
            if update.name.as_ref().is_some_and(|n| *n != shown.name)
                || update.config.as_ref().is_some_and(|c| *c != shown_config)
            {
                return Err(NotificationError::BuiltinChannel(format!(
                    "{id} is a built-in channel: change its settings through PUT /v2/accounts/settings/notifications; only `enabled` can be set here"
                )));
            }
            if let Some(enabled) = update.enabled.filter(|e| *e != shown.enabled) {
                self.d
                    .builtins
                    .set_builtin_enabled(actor.account_id, Some(actor), id, enabled)?;
                if !enabled {
                    // The switch lives in the settings, written in their own transaction; the
                    // worker re-checks the switch before each send in any case.
                    self.d.store.cancel_deliveries(
                        actor.account_id,
                        id,
                        "cancelled: the channel was disabled",
                        self.d.clock.now(),
                    )?;
                }
            }
            return self
                .all_channels(actor.account_id)?
                .into_iter()
                .find(|(c, _)| c.id == id)
                .ok_or(NotificationError::NotFound("channel"));
        }
        let current = self
            .d
            .store
            .channel_records(actor.account_id)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(NotificationError::NotFound("channel"))?;
        // Read-only fields sent back as read are ignored; changed, they are refused.
        if update
            .kind
            .as_deref()
            .is_some_and(|k| k != current.kind.as_str())
        {
            return Err(NotificationError::invalid(
                "type",
                "is read-only: a channel keeps its type",
            ));
        }
        if update.builtin == Some(true) {
            return Err(NotificationError::invalid("builtin", "is read-only"));
        }
        let existing_secret = target_secret(stored_target(
            current.kind,
            &current.config,
            self.secret_of(&current)?,
        ));
        let mut secret_changed = false;
        let mut record = current.clone();
        if let Some(name) = &update.name {
            record.name = check_name(name)?;
        }
        if let Some(enabled) = update.enabled {
            record.enabled = enabled;
        }
        if let Some(config) = &update.config {
            let parsed = parse_config(
                current.kind,
                config,
                existing_secret.clone(),
                &self.d.policy,
                self.d.random.as_ref(),
            )?;
            record.config = parsed.public;
            record.secret = self.seal_secret(&parsed.target);
            secret_changed = target_secret(parsed.target) != existing_secret;
            let until = self.d.clock.now() + self.d.secret_overlap;
            record.previous_secret = after_change(&current, &record, secret_changed, until);
        } else if current.kind == ChannelKind::Slack && record.secret.is_none() {
            // A URL still in clear is sealed by any update.
            if let Some(url) = &existing_secret {
                record.secret = Some(self.d.secrets.seal(url, self.d.random.as_ref()));
                record.config = public_config(current.kind, &current.config);
            }
        }
        // A write that changes nothing is no write: no audit entry, no event.
        if !secret_changed
            && record.name == current.name
            && record.enabled == current.enabled
            && record.config == current.config
            && record.secret.is_some() == current.secret.is_some()
        {
            return self.open(current);
        }
        record.updated_at = self.d.clock.now();
        let audit = self.audit(
            actor,
            "notifications.channel_updated",
            json!({ "channelId": id, "name": record.name, "enabled": record.enabled, "config": record.config }),
        );
        if !self
            .d
            .store
            .update_channel(actor.account_id, &record, &audit)?
        {
            return Err(NotificationError::NotFound("channel"));
        }
        self.open(record)
    }

    /// Deletes one of the account's own channels (admins only) and cancels its pending deliveries;
    /// a built-in one cannot be deleted (`NotificationError::BuiltinChannel`).
    pub fn delete_channel(&self, actor: &Actor, id: &str) -> Result<(), NotificationError> {
        actor.require(Role::Admin)?;
        if is_builtin(id) {
            return Err(NotificationError::BuiltinChannel(format!(
                "{id} is a built-in channel and cannot be deleted; disable it instead"
            )));
        }
        let audit = self.audit(
            actor,
            "notifications.channel_deleted",
            json!({ "channelId": id }),
        );
        if self.d.store.delete_channel(actor.account_id, id, &audit)? {
            Ok(())
        } else {
            Err(NotificationError::NotFound("channel"))
        }
    }

    /// Queues a test message to one channel (enabled or not: a test of a disabled channel is
    /// marked as such and sent although the channel is off): 202 with the delivery id, whose
    /// outcome the delivery log shows.
    pub fn test_channel(&self, actor: &Actor, id: &str) -> Result<DeliveryId, NotificationError> {
        actor.require(Role::Admin)?;
        let (channel, _) = self
            .all_channels(actor.account_id)?
            .into_iter()
            .find(|(c, _)| c.id == id)
            .ok_or(NotificationError::NotFound("channel"))?;
        let event = self.new_event(
            actor.account_id,
            "notification.test",
            json!({ "message": "Test notification from Tenantry", "severity": "info", "channelId": id }),
        );
        let delivery = self.plan(actor.account_id, &event, &channel, !channel.enabled);
        let delivery_id = delivery.id;
        self.d.store.enqueue_deliveries(&[delivery], &[])?;
        Ok(delivery_id)
    }

    /// One channel, built-in or the account's own, with its public configuration.
    pub fn channel(&self, actor: &Actor, id: &str) -> Result<(Channel, Value), NotificationError> {
        actor.require(Role::Admin)?;
        self.all_channels(actor.account_id)?
            .into_iter()
            .find(|(c, _)| c.id == id)
            .ok_or(NotificationError::NotFound("channel"))
    }

    /// One page of the account's delivery log, newest first (admins only).
    pub fn deliveries(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, NotificationError> {
        actor.require(Role::Admin)?;
        Ok(self.d.store.deliveries(actor.account_id, page)?)
    }

    /// One delivery of the account's log (admins only); `NotFound` for another account's.
    pub fn delivery(&self, actor: &Actor, id: DeliveryId) -> Result<Delivery, NotificationError> {
        actor.require(Role::Admin)?;
        self.d
            .store
            .delivery(actor.account_id, id)?
            .ok_or(NotificationError::NotFound("delivery"))
    }

    /// Sends a delivery's message again, as a new delivery (same event id, so receivers still
    /// see one event).
    pub fn redeliver(
        &self,
        actor: &Actor,
        id: DeliveryId,
    ) -> Result<DeliveryId, NotificationError> {
        actor.require(Role::Admin)?;
        let original = self.delivery(actor, id)?;
        let sealed = self
            .d
            .store
            .delivery_job(actor.account_id, id)?
            .ok_or(NotificationError::NotFound("delivery"))?;
        let mut job: DeliveryJob = self
            .d
            .secrets
            .open(&Sealed::from_stored(sealed))
            .ok()
            .and_then(|j| serde_json::from_str(&j).ok())
            .ok_or_else(|| {
                NotificationError::Port(tenantry_kernel::PortError::Corrupt(format!(
                    "delivery {id} job"
                )))
            })?;
        let new_id = DeliveryId::generate(self.d.clock.as_ref(), self.d.random.as_ref());
        job.delivery_id = new_id.to_string();
        let delivery = NewDelivery {
            id: new_id,
            account: actor.account_id,
            event_id: original.event_id,
            event_type: original.event_type,
            channel_id: original.channel_id,
            created_at: self.d.clock.now(),
            job: self.job_entry(actor.account_id, &job),
        };
        self.d.store.enqueue_deliveries(&[delivery], &[])?;
        Ok(new_id)
    }

    /// Records an event a host platform reports; the worker routes it like Tenantry's own.
    pub fn report_event(&self, actor: &Actor, host: HostEvent) -> Result<Event, NotificationError> {
        actor.require(Role::Admin)?;
        let name = parse_host_event_name(&host.event)
            .map_err(|m| NotificationError::invalid("event", m))?;
        let data = match host.data {
            Value::Object(mut map) => {
                if let Some(s) = map.get("severity") {
                    let ok = s
                        .as_str()
                        .is_some_and(|s| crate::channel_config::SEVERITIES.contains(&s));
                    if !ok {
                        return Err(NotificationError::invalid(
                            "data.severity",
                            format!(
                                "must be one of {}",
                                crate::channel_config::SEVERITIES.join(", ")
                            ),
                        ));
                    }
                } else {
                    map.insert("severity".into(), json!("info"));
                }
                Value::Object(map)
            }
            Value::Null => json!({ "severity": "info" }),
            _ => return Err(NotificationError::invalid("data", "must be an object")),
        };
        let event = self.new_event(actor.account_id, &name, data);
        let entry = OutboxEntry {
            id: event.id.parse().map_err(|_| {
                NotificationError::Port(tenantry_kernel::PortError::Corrupt("event id".into()))
            })?,
            account: Some(actor.account_id),
            kind: OutboxKind::Event,
            payload: serde_json::to_string(&event).unwrap_or_default(),
            created_at: self.d.clock.now(),
        };
        self.d.store.insert_event(&entry)?;
        Ok(event)
    }

    fn new_event(&self, account: AccountId, name: &str, data: Value) -> Event {
        Event {
            id: EventId::generate(self.d.clock.as_ref(), self.d.random.as_ref()).to_string(),
            event_type: name.to_owned(),
            account_id: account.to_string(),
            occurred_at: time(self.d.clock.now()),
            data,
        }
    }

    fn job_entry(&self, account: AccountId, job: &DeliveryJob) -> OutboxEntry {
        OutboxEntry::sealed(
            OutboxKind::Delivery,
            Some(account),
            job,
            &self.d.secrets,
            self.d.clock.as_ref(),
            self.d.random.as_ref(),
        )
    }

    fn plan(
        &self,
        account: AccountId,
        event: &Event,
        channel: &Channel,
        to_disabled_channel: bool,
    ) -> NewDelivery {
        let id = DeliveryId::generate(self.d.clock.as_ref(), self.d.random.as_ref());
        let job = DeliveryJob {
            delivery_id: id.to_string(),
            account_id: account.to_string(),
            channel_id: channel.id.clone(),
            target: JobTarget::of_channel(channel),
            event: event.clone(),
            to_disabled_channel,
        };
        NewDelivery {
            id,
            account,
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            channel_id: channel.id.clone(),
            created_at: self.d.clock.now(),
            job: self.job_entry(account, &job),
        }
    }

    /// Routes one event: a delivery per matching channel, all written in one transaction.
    /// Returns how many.
    pub fn fan_out(&self, event: &Event) -> Result<usize, NotificationError> {
        let account: AccountId = event.account_id.parse().map_err(|_| {
            NotificationError::Port(tenantry_kernel::PortError::Corrupt(format!(
                "event {} account",
                event.id
            )))
        })?;
        let (builtin_channels, mut rules) = self.d.builtins.builtin_routes(account)?;
        rules.extend(self.d.store.rules(account)?);
        let mut channels = builtin_channels;
        for record in self.d.store.channel_records(account)? {
            channels.push(self.open(record)?.0);
        }
        // The built-in email channel without a recipient writes to the account's admins.
        for c in &mut channels {
            if let ChannelTarget::Email { recipients, .. } = &mut c.target {
                if recipients.is_empty() {
                    *recipients = self.d.store.admin_emails(account)?;
                }
            }
        }
        let mut deliveries: Vec<NewDelivery> = Vec::new();
        let mut digests: Vec<DigestItem> = Vec::new();
        let now = self.d.clock.now();
        for c in route(event, &rules, &channels) {
            match c.digest {
                Some(period) => digests.push(DigestItem {
                    account,
                    channel_id: c.id.clone(),
                    event: event.clone(),
                    period_end: period.end_after(now),
                }),
                None => deliveries.push(self.plan(account, event, c, false)),
            }
        }
        if !deliveries.is_empty() || !digests.is_empty() {
            self.d.store.enqueue_deliveries(&deliveries, &digests)?;
        }
        Ok(deliveries.len() + digests.len())
    }

    /// Sends every digest whose period has ended: one email per channel and period listing its
    /// events, to the channel's recipients as they are now. Returns how many were sent.
    pub fn flush_digests(&self) -> Result<usize, NotificationError> {
        let now = self.d.clock.now();
        let mut sent = 0;
        for digest in self.d.store.due_digests(now)? {
            let (channels, _) = self.d.builtins.builtin_routes(digest.account)?;
            let mut recipients = match channels
                .iter()
                .find(|c| c.id == digest.channel_id)
                .map(|c| &c.target)
            {
                Some(ChannelTarget::Email { recipients, .. }) => recipients.clone(),
                _ => Vec::new(),
            };
            if recipients.is_empty() {
                recipients = self.d.store.admin_emails(digest.account)?;
            }
            let event = self.new_event(
                digest.account,
                "notification.digest",
                json!({
                    "severity": "info",
                    "period_end": time(digest.period_end),
                    "count": digest.items.len(),
                    "events": digest.items.iter().map(|(_, e)| json!({
                        "id": e.id, "type": e.event_type, "occurred_at": e.occurred_at, "data": e.data,
                    })).collect::<Vec<_>>(),
                }),
            );
            let channel = Channel {
                id: digest.channel_id.clone(),
                name: String::new(),
                enabled: true,
                target: ChannelTarget::Email {
                    recipients,
                    severity_filter: Vec::new(),
                },
                builtin: true,
                digest: None,
                created_at: None,
                updated_at: None,
                previous_secret: None,
            };
            let delivery = self.plan(digest.account, &event, &channel, false);
            if self.d.store.flush_digest(&digest, &delivery)? {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

impl NotificationService {
    /// Seals the Slack URLs that channels written before URLs were sealed still hold in clear in
    /// their configuration (run once at start, before anything is served); returns how many.
    /// A migration cannot do this: the master key is not in SQL.
    pub fn seal_clear_slack_urls(&self) -> Result<usize, NotificationError> {
        let mut sealed = 0;
        for (account, before) in self.d.store.slack_channels_in_clear()? {
            let Some(url) = before.config.get("webhook_url").and_then(Value::as_str) else {
                continue;
            };
            let mut after = before.clone();
            after.secret = Some(self.d.secrets.seal(url, self.d.random.as_ref()));
            after.config = public_config(before.kind, &before.config);
            if self.d.store.reseal_channel(account, &before, &after)? {
                sealed += 1;
            }
        }
        Ok(sealed)
    }
}

/// What the API shows of a built-in channel's configuration.
fn public_of(target: &ChannelTarget) -> Value {
    match target {
        ChannelTarget::Email {
            recipients,
            severity_filter,
        } => json!({ "recipients": recipients, "severity_filter": severity_filter }),
        // The URL is the credential: shown as configured, like every secret.
        ChannelTarget::Slack {
            webhook_url,
            channel,
            workspace,
        } => json!({
            "webhook_url": (!webhook_url.is_empty()).then(|| json!({ "configured": true })),
            "channel": channel,
            "workspace": workspace,
        }),
        ChannelTarget::Webhook { url, secret } => {
            json!({ "url": url, "secret": secret.as_ref().map(|_| json!({ "configured": true })) })
        }
    }
}

/// The secret a channel target carries: a webhook's signing secret, a Slack channel's URL.
fn target_secret(target: ChannelTarget) -> Option<String> {
    match target {
        ChannelTarget::Webhook { secret, .. } => secret,
        ChannelTarget::Slack { webhook_url, .. } => Some(webhook_url).filter(|u| !u.is_empty()),
        ChannelTarget::Email { .. } => None,
    }
}
