//! `NotificationStore`: the user and organization API's channels and rules, the delivery log, and host events; and the
//! cancelling of a deleted or disabled channel's pending deliveries, inside the transaction that
//! deletes or disables it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use tenantry_kernel::{AccountId, Cursor, DeliveryId, Page, PageRequest, PortError, Role};
use tenantry_notifications::{
    Attempt, AttemptState, ChannelKind, ChannelRecord, Delivery, DeliveryStatus, DigestItem,
    DueDigest, Event, NewDelivery, NotificationStore, OutboxEntry, Rule,
};
use tenantry_security::{ChangeAudit, MemberStatus, Sealed};

use crate::audit::{insert_change, insert_entry, NewEntry};
use crate::notification_attempts::{attempt_logged, interrupt_in_flight};
use crate::outbox::insert_outbox;
use crate::schema::{
    memberships, notification_channels, notification_deliveries, notification_delivery_attempts,
    notification_digest_items, notification_rules, outbox, settings_documents, settings_history,
    users,
};
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

/// How a Slack URL stored in clear looks in a serialized document (`serde_json` writes no space
/// after the colon); a sealed one reads `"webhook_url_sealed":` or `{"configured": true}`.
const CLEAR_SLACK_URL: &str = "%\"webhook_url\":\"%";

impl Store {
    /// Whether any Slack URL is still stored in clear, in the account settings API's notification
    /// settings (current or history) or in a channel of the user and organization API: a cheap check, so the start-up pass that
    /// seals them runs only when there is something to seal.
    pub fn holds_clear_slack_urls(&self) -> Result<bool, PortError> {
        Ok(self.read(|conn| {
            let documents = settings_documents::table
                .filter(settings_documents::section.eq("notifications"))
                .filter(settings_documents::document.like(CLEAR_SLACK_URL))
                .select(settings_documents::account_id)
                .first::<String>(conn)
                .optional()?;
            let history = settings_history::table
                .filter(settings_history::section.eq("notifications"))
                .filter(settings_history::document.like(CLEAR_SLACK_URL))
                .select(settings_history::account_id)
                .first::<String>(conn)
                .optional()?;
            let channels = notification_channels::table
                .filter(notification_channels::kind.eq("slack"))
                .filter(notification_channels::config.like(CLEAR_SLACK_URL))
                .select(notification_channels::id)
                .first::<String>(conn)
                .optional()?;
            Ok(documents.is_some() || history.is_some() || channels.is_some())
        })?)
    }
}

pub(crate) fn corrupt(what: &str, value: &str) -> PortError {
    PortError::Corrupt(format!("notification {what} `{value}`"))
}

type ChannelRow = (
    String,
    String,
    String,
    bool,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);
pub(crate) type DeliveryRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

/// The statuses of a delivery that may still be sent.
const PENDING: [&str; 2] = ["queued", "retrying"];

/// Cancels the pending deliveries of a channel inside the caller's transaction: their outbox
/// rows are abandoned (no worker claims them again; one already holding a row re-checks before
/// sending) and the log shows them cancelled. The outbox row of a delivery is the one carrying
/// its sealed job. Returns how many deliveries were cancelled.
fn cancel_pending(
    conn: &mut DbConnection,
    account: &str,
    channel: &str,
    reason: &str,
    at: i64,
) -> Result<usize, StoreError> {
    macro_rules! pending {
        () => {
            notification_deliveries::table
                .filter(notification_deliveries::account_id.eq(account))
                .filter(notification_deliveries::channel_id.eq(channel))
                .filter(notification_deliveries::status.eq_any(PENDING))
                .filter(notification_deliveries::cancelled_at.is_null())
        };
    }
    diesel::update(
        outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::abandoned_at.is_null())
            .filter(outbox::payload.eq_any(pending!().select(notification_deliveries::job))),
    )
    .set((
        outbox::abandoned_at.eq(Some(at)),
        outbox::last_error.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(diesel::update(pending!())
        .set((
            notification_deliveries::cancelled_at.eq(Some(at)),
            notification_deliveries::updated_at.eq(at),
        ))
        .execute(conn)?)
}

fn channel(row: ChannelRow) -> Result<ChannelRecord, PortError> {
    let (id, kind, name, enabled, config, secret, created, updated, previous, until) = row;
    Ok(ChannelRecord {
        kind: ChannelKind::parse(&kind).ok_or_else(|| corrupt("channel kind", &kind))?,
        config: serde_json::from_str(&config).map_err(|_| corrupt("channel config", &id))?,
        secret: secret.map(Sealed::from_stored),
        previous_secret: previous
            .zip(until)
            .map(|(s, until)| (Sealed::from_stored(s), from_micros(until))),
        id,
        name,
        enabled,
        created_at: from_micros(created),
        updated_at: from_micros(updated),
    })
}

macro_rules! delivery_columns {
    () => {
        (
            notification_deliveries::id,
            notification_deliveries::event_id,
            notification_deliveries::event_type,
            notification_deliveries::channel_id,
            notification_deliveries::status,
            notification_deliveries::created_at,
            notification_deliveries::updated_at,
            notification_deliveries::cancelled_at,
        )
    };
}

/// Writes deliveries with their outbox rows, inside the caller's transaction.
fn insert_deliveries(
    conn: &mut DbConnection,
    deliveries: &[NewDelivery],
) -> Result<(), StoreError> {
    for d in deliveries {
        let at = to_micros(d.created_at);
        diesel::insert_into(notification_deliveries::table)
            .values((
                notification_deliveries::id.eq(d.id.to_string()),
                notification_deliveries::account_id.eq(d.account.to_string()),
                notification_deliveries::event_id.eq(&d.event_id),
                notification_deliveries::event_type.eq(&d.event_type),
                notification_deliveries::channel_id.eq(&d.channel_id),
                notification_deliveries::status.eq(DeliveryStatus::Queued.as_str()),
                notification_deliveries::job.eq(&d.job.payload),
                notification_deliveries::created_at.eq(at),
                notification_deliveries::updated_at.eq(at),
            ))
            .execute(conn)?;
        insert_outbox(conn, &d.job)?;
    }
    Ok(())
}

impl NotificationStore for Store {
    fn channel_records(&self, account: AccountId) -> Result<Vec<ChannelRecord>, PortError> {
        let rows = self.read(|conn| {
            Ok(notification_channels::table
                .filter(notification_channels::account_id.eq(account.to_string()))
                .order((
                    notification_channels::created_at.asc(),
                    notification_channels::id.asc(),
                ))
                .select((
                    notification_channels::id,
                    notification_channels::kind,
                    notification_channels::name,
                    notification_channels::enabled,
                    notification_channels::config,
                    notification_channels::secret_sealed,
                    notification_channels::created_at,
                    notification_channels::updated_at,
                    notification_channels::previous_secret_sealed,
                    notification_channels::previous_secret_until,
                ))
                .load::<ChannelRow>(conn)?)
        })?;
        rows.into_iter().map(channel).collect()
    }

    fn channel_enabled(&self, account: AccountId, id: &str) -> Result<Option<bool>, PortError> {
        Ok(self.read(|conn| {
            Ok(notification_channels::table
                .filter(notification_channels::account_id.eq(account.to_string()))
                .filter(notification_channels::id.eq(id))
                .select(notification_channels::enabled)
                .first::<bool>(conn)
                .optional()?)
        })?)
    }

    fn insert_channel(
        &self,
        account: AccountId,
        c: &ChannelRecord,
        audit: &ChangeAudit,
    ) -> Result<(), PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<(), StoreError> {
                diesel::insert_into(notification_channels::table)
                    .values((
                        notification_channels::id.eq(&c.id),
                        notification_channels::account_id.eq(&account),
                        notification_channels::kind.eq(c.kind.as_str()),
                        notification_channels::name.eq(&c.name),
                        notification_channels::enabled.eq(c.enabled),
                        notification_channels::config.eq(c.config.to_string()),
                        notification_channels::secret_sealed
                            .eq(c.secret.as_ref().map(Sealed::as_str)),
                        notification_channels::created_at.eq(to_micros(c.created_at)),
                        notification_channels::updated_at.eq(to_micros(c.updated_at)),
                    ))
                    .execute(conn)?;
                insert_change(conn, &account, &c.id, audit)
            })?,
        )
    }

    fn update_channel(
        &self,
        account: AccountId,
        c: &ChannelRecord,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let was_enabled = notification_channels::table
                    .filter(notification_channels::account_id.eq(&account))
                    .filter(notification_channels::id.eq(&c.id))
                    .select(notification_channels::enabled)
                    .first::<bool>(conn)
                    .optional()?;
                let n = diesel::update(
                    notification_channels::table
                        .filter(notification_channels::account_id.eq(&account))
                        .filter(notification_channels::id.eq(&c.id)),
                )
                .set((
                    notification_channels::name.eq(&c.name),
                    notification_channels::enabled.eq(c.enabled),
                    notification_channels::config.eq(c.config.to_string()),
                    notification_channels::secret_sealed.eq(c.secret.as_ref().map(Sealed::as_str)),
                    notification_channels::previous_secret_sealed
                        .eq(c.previous_secret.as_ref().map(|(s, _)| s.as_str())),
                    notification_channels::previous_secret_until
                        .eq(c.previous_secret.as_ref().map(|(_, t)| to_micros(*t))),
                    notification_channels::updated_at.eq(to_micros(c.updated_at)),
                ))
                .execute(conn)?;
                if n == 0 {
                    return Ok(false);
                }
                if was_enabled == Some(true) && !c.enabled {
                    cancel_pending(
                        conn,
                        &account,
                        &c.id,
                        "cancelled: the channel was disabled",
                        to_micros(audit.at),
                    )?;
                }
                insert_change(conn, &account, &c.id, audit)?;
                Ok(true)
            })?,
        )
    }

    fn delete_channel(
        &self,
        account: AccountId,
        id: &str,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::delete(
                    notification_channels::table
                        .filter(notification_channels::account_id.eq(&account))
                        .filter(notification_channels::id.eq(id)),
                )
                .execute(conn)?;
                if n == 0 {
                    return Ok(false);
                }
                cancel_pending(
                    conn,
                    &account,
                    id,
                    "cancelled: the channel was deleted",
                    to_micros(audit.at),
                )?;
                insert_change(conn, &account, id, audit)?;
                Ok(true)
            })?,
        )
    }

    fn disable_channel(
        &self,
        account: AccountId,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<(), StoreError> {
                let n = diesel::update(
                    notification_channels::table
                        .filter(notification_channels::account_id.eq(&account))
                        .filter(notification_channels::id.eq(id))
                        .filter(notification_channels::enabled.eq(true)),
                )
                .set((
                    notification_channels::enabled.eq(false),
                    notification_channels::updated_at.eq(to_micros(at)),
                ))
                .execute(conn)?;
                if n > 0 {
                    cancel_pending(
                        conn,
                        &account,
                        id,
                        "cancelled: the channel was disabled",
                        to_micros(at),
                    )?;
                    insert_entry(
                        conn,
                        NewEntry {
                            id: tenantry_kernel::AuditId::generate(
                                &tenantry_kernel::FixedClock(at),
                                &tenantry_kernel::OsRandom,
                            )
                            .to_string(),
                            account: &account,
                            actor: "system",
                            action: "notifications.channel_disabled",
                            target: Some(id),
                            diff: Some(serde_json::json!({ "reason": reason }).to_string()),
                            ip: None,
                            at,
                        },
                    )?;
                }
                Ok(())
            })?,
        )
    }

    fn cancel_deliveries(
        &self,
        account: AccountId,
        channel_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        let n = self.write_account(epoch_account, |conn| -> Result<usize, StoreError> {
            cancel_pending(conn, &account, channel_id, reason, to_micros(at))
        })?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    fn cancel_delivery(&self, delivery: DeliveryId, at: DateTime<Utc>) -> Result<(), PortError> {
        let id = delivery.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            diesel::update(
                notification_deliveries::table
                    .filter(notification_deliveries::id.eq(&id))
                    .filter(notification_deliveries::cancelled_at.is_null()),
            )
            .set((
                notification_deliveries::cancelled_at.eq(Some(to_micros(at))),
                notification_deliveries::updated_at.eq(to_micros(at)),
            ))
            .execute(conn)?;
            Ok(())
        })?)
    }

    fn delivery_cancelled(&self, delivery: DeliveryId) -> Result<bool, PortError> {
        let id = delivery.to_string();
        let at = self.read(|conn| {
            Ok(notification_deliveries::table
                .filter(notification_deliveries::id.eq(&id))
                .select(notification_deliveries::cancelled_at)
                .first::<Option<i64>>(conn)
                .optional()?)
        })?;
        Ok(at.flatten().is_some())
    }

    fn slack_channels_in_clear(&self) -> Result<Vec<(AccountId, ChannelRecord)>, PortError> {
        let rows = self.read(|conn| {
            Ok(notification_channels::table
                .filter(notification_channels::kind.eq("slack"))
                .filter(notification_channels::config.like(CLEAR_SLACK_URL))
                .order(notification_channels::id.asc())
                .select((
                    notification_channels::account_id,
                    (
                        notification_channels::id,
                        notification_channels::kind,
                        notification_channels::name,
                        notification_channels::enabled,
                        notification_channels::config,
                        notification_channels::secret_sealed,
                        notification_channels::created_at,
                        notification_channels::updated_at,
                        notification_channels::previous_secret_sealed,
                        notification_channels::previous_secret_until,
                    ),
                ))
                .load::<(String, ChannelRow)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(account, row)| {
                let account = account
                    .parse()
                    .map_err(|_| corrupt("channel account", &account))?;
                Ok((account, channel(row)?))
            })
            .collect()
    }

    fn reseal_channel(
        &self,
        account: AccountId,
        before: &ChannelRecord,
        after: &ChannelRecord,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::update(
                    notification_channels::table
                        .filter(notification_channels::account_id.eq(&account))
                        .filter(notification_channels::id.eq(&before.id))
                        .filter(notification_channels::config.eq(before.config.to_string())),
                )
                .set((
                    notification_channels::config.eq(after.config.to_string()),
                    notification_channels::secret_sealed
                        .eq(after.secret.as_ref().map(Sealed::as_str)),
                ))
                .execute(conn)?;
                Ok(n > 0)
            })?,
        )
    }

    fn rules(&self, account: AccountId) -> Result<Vec<Rule>, PortError> {
        let rows = self.read(|conn| {
            Ok(notification_rules::table
                .filter(notification_rules::account_id.eq(account.to_string()))
                .order((
                    notification_rules::created_at.asc(),
                    notification_rules::id.asc(),
                ))
                .select((
                    notification_rules::id,
                    notification_rules::name,
                    notification_rules::event,
                    notification_rules::channel_ids,
                    notification_rules::filters,
                    notification_rules::enabled,
                    notification_rules::created_at,
                ))
                .load::<(String, String, String, String, String, bool, i64)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, name, event, channels, filters, enabled, created)| {
                Ok(Rule {
                    channel_ids: serde_json::from_str(&channels)
                        .map_err(|_| corrupt("rule channels", &id))?,
                    filters: match serde_json::from_str::<Value>(&filters) {
                        Ok(Value::Object(map)) => map,
                        _ => return Err(corrupt("rule filters", &id)),
                    },
                    id,
                    name,
                    event,
                    enabled,
                    builtin: false,
                    created_at: Some(from_micros(created)),
                })
            })
            .collect()
    }

    fn insert_rule(
        &self,
        account: AccountId,
        rule: &Rule,
        audit: &ChangeAudit,
    ) -> Result<(), PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<(), StoreError> {
                diesel::insert_into(notification_rules::table)
                    .values((
                        notification_rules::id.eq(&rule.id),
                        notification_rules::account_id.eq(&account),
                        notification_rules::name.eq(&rule.name),
                        notification_rules::event.eq(&rule.event),
                        notification_rules::channel_ids
                            .eq(serde_json::json!(rule.channel_ids).to_string()),
                        notification_rules::filters
                            .eq(Value::Object(rule.filters.clone()).to_string()),
                        notification_rules::enabled.eq(rule.enabled),
                        notification_rules::created_at
                            .eq(to_micros(rule.created_at.unwrap_or(audit.at))),
                    ))
                    .execute(conn)?;
                insert_change(conn, &account, &rule.id, audit)
            })?,
        )
    }

    fn update_rule(
        &self,
        account: AccountId,
        rule: &Rule,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::update(
                    notification_rules::table
                        .filter(notification_rules::account_id.eq(&account))
                        .filter(notification_rules::id.eq(&rule.id)),
                )
                .set((
                    notification_rules::name.eq(&rule.name),
                    notification_rules::event.eq(&rule.event),
                    notification_rules::channel_ids
                        .eq(serde_json::json!(rule.channel_ids).to_string()),
                    notification_rules::filters.eq(Value::Object(rule.filters.clone()).to_string()),
                    notification_rules::enabled.eq(rule.enabled),
                ))
                .execute(conn)?;
                if n == 0 {
                    return Ok(false);
                }
                insert_change(conn, &account, &rule.id, audit)?;
                Ok(true)
            })?,
        )
    }

    fn delete_rule(
        &self,
        account: AccountId,
        id: &str,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::delete(
                    notification_rules::table
                        .filter(notification_rules::account_id.eq(&account))
                        .filter(notification_rules::id.eq(id)),
                )
                .execute(conn)?;
                if n == 0 {
                    return Ok(false);
                }
                insert_change(conn, &account, id, audit)?;
                Ok(true)
            })?,
        )
    }

    fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        digests: &[DigestItem],
    ) -> Result<(), PortError> {
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            for item in digests {
                diesel::insert_into(notification_digest_items::table)
                    .values((
                        notification_digest_items::id
                            .eq(format!("{}:{}", item.event.id, item.channel_id)),
                        notification_digest_items::account_id.eq(item.account.to_string()),
                        notification_digest_items::channel_id.eq(&item.channel_id),
                        notification_digest_items::event
                            .eq(serde_json::to_string(&item.event).unwrap_or_default()),
                        notification_digest_items::period_end.eq(to_micros(item.period_end)),
                        notification_digest_items::created_at.eq(to_micros(chrono::Utc::now())),
                    ))
                    .execute(conn)?;
            }
            insert_deliveries(conn, deliveries)
        })?)
    }

    fn due_digests(&self, now: DateTime<Utc>) -> Result<Vec<DueDigest>, PortError> {
        let rows = self.read(|conn| {
            Ok(notification_digest_items::table
                .filter(notification_digest_items::flushed_at.is_null())
                .filter(notification_digest_items::period_end.le(to_micros(now)))
                .order((
                    notification_digest_items::account_id.asc(),
                    notification_digest_items::channel_id.asc(),
                    notification_digest_items::period_end.asc(),
                    notification_digest_items::created_at.asc(),
                    notification_digest_items::id.asc(),
                ))
                .select((
                    notification_digest_items::id,
                    notification_digest_items::account_id,
                    notification_digest_items::channel_id,
                    notification_digest_items::event,
                    notification_digest_items::period_end,
                ))
                .limit(5_000)
                .load::<(String, String, String, String, i64)>(conn)?)
        })?;
        let mut out: Vec<DueDigest> = Vec::new();
        for (id, account, channel, event, end) in rows {
            let event: Event =
                serde_json::from_str(&event).map_err(|_| corrupt("digest item", &id))?;
            let account: AccountId = account
                .parse()
                .map_err(|_| corrupt("digest account", &id))?;
            let end = from_micros(end);
            match out.last_mut() {
                Some(d)
                    if d.account == account && d.channel_id == channel && d.period_end == end =>
                {
                    d.items.push((id, event));
                }
                _ => out.push(DueDigest {
                    account,
                    channel_id: channel,
                    period_end: end,
                    items: vec![(id, event)],
                }),
            }
        }
        Ok(out)
    }

    fn flush_digest(&self, digest: &DueDigest, delivery: &NewDelivery) -> Result<bool, PortError> {
        let ids: Vec<&str> = digest.items.iter().map(|(id, _)| id.as_str()).collect();
        Ok(self
            .write_uncached(|conn| -> Result<bool, StoreError> {
                let n = diesel::update(
                    notification_digest_items::table
                        .filter(notification_digest_items::id.eq_any(&ids))
                        .filter(notification_digest_items::flushed_at.is_null()),
                )
                .set(notification_digest_items::flushed_at.eq(to_micros(delivery.created_at)))
                .execute(conn)?;
                if n != ids.len() {
                    // Another worker flushed some of them: undo ours and let it be.
                    return Err(StoreError::Conflict);
                }
                insert_deliveries(conn, std::slice::from_ref(delivery))?;
                Ok(true)
            })
            .or_else(|e| match e {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            })?)
    }

    fn deliveries(
        &self,
        account: AccountId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, PortError> {
        let limit = i64::from(page.limit);
        let rows = self.read(|conn| {
            let mut q = notification_deliveries::table
                .filter(notification_deliveries::account_id.eq(account.to_string()))
                .order((
                    notification_deliveries::created_at.desc(),
                    notification_deliveries::id.desc(),
                ))
                .select(delivery_columns!())
                .limit(limit + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(
                    notification_deliveries::created_at
                        .lt(after.created_at_micros)
                        .or(notification_deliveries::created_at
                            .eq(after.created_at_micros)
                            .and(notification_deliveries::id.lt(after.id.clone()))),
                );
            }
            Ok(q.load::<DeliveryRow>(conn)?)
        })?;
        let has_more = rows.len() > page.limit as usize;
        let items = self.with_attempts(rows.into_iter().take(page.limit as usize).collect())?;
        let next = if has_more {
            items.last().map(|d| Cursor {
                created_at_micros: to_micros(d.created_at),
                id: d.id.to_string(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn delivery(&self, account: AccountId, id: DeliveryId) -> Result<Option<Delivery>, PortError> {
        let rows = self.read(|conn| {
            Ok(notification_deliveries::table
                .filter(notification_deliveries::account_id.eq(account.to_string()))
                .filter(notification_deliveries::id.eq(id.to_string()))
                .select(delivery_columns!())
                .load::<DeliveryRow>(conn)?)
        })?;
        Ok(self.with_attempts(rows)?.into_iter().next())
    }

    fn delivery_job(
        &self,
        account: AccountId,
        id: DeliveryId,
    ) -> Result<Option<String>, PortError> {
        Ok(self.read(|conn| {
            Ok(notification_deliveries::table
                .filter(notification_deliveries::account_id.eq(account.to_string()))
                .filter(notification_deliveries::id.eq(id.to_string()))
                .select(notification_deliveries::job)
                .first::<String>(conn)
                .optional()?)
        })?)
    }

    fn record_attempt_started(
        &self,
        delivery: DeliveryId,
        number: u32,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let id = delivery.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            interrupt_in_flight(conn, &id)?;
            let known = attempt_logged(conn, &id, number)?;
            if !known {
                diesel::insert_into(notification_delivery_attempts::table)
                    .values((
                        notification_delivery_attempts::delivery_id.eq(&id),
                        notification_delivery_attempts::attempt.eq(i64::from(number)),
                        notification_delivery_attempts::attempted_at.eq(to_micros(at)),
                        notification_delivery_attempts::state.eq(AttemptState::InFlight.as_str()),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })?)
    }

    fn record_attempt(
        &self,
        delivery: DeliveryId,
        a: &Attempt,
        status: DeliveryStatus,
    ) -> Result<(), PortError> {
        let id = delivery.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            let outcome = (
                notification_delivery_attempts::attempted_at.eq(to_micros(a.at)),
                notification_delivery_attempts::state.eq(a.state.as_str()),
                notification_delivery_attempts::response_code.eq(a.response_code.map(i64::from)),
                notification_delivery_attempts::latency_ms
                    .eq(a.latency_ms.and_then(|l| i64::try_from(l).ok())),
                notification_delivery_attempts::error.eq(a.error.as_deref()),
            );
            if attempt_logged(conn, &id, a.number)? {
                diesel::update(
                    notification_delivery_attempts::table
                        .filter(notification_delivery_attempts::delivery_id.eq(&id))
                        .filter(notification_delivery_attempts::attempt.eq(i64::from(a.number))),
                )
                .set(outcome)
                .execute(conn)?;
            } else {
                diesel::insert_into(notification_delivery_attempts::table)
                    .values((
                        notification_delivery_attempts::delivery_id.eq(&id),
                        notification_delivery_attempts::attempt.eq(i64::from(a.number)),
                        outcome,
                    ))
                    .execute(conn)?;
            }
            diesel::update(notification_deliveries::table.find(&id))
                .set((
                    notification_deliveries::status.eq(status.as_str()),
                    notification_deliveries::updated_at.eq(to_micros(a.at)),
                ))
                .execute(conn)?;
            Ok(())
        })?)
    }

    fn interrupt_attempts(
        &self,
        delivery: DeliveryId,
        status: DeliveryStatus,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let id = delivery.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            interrupt_in_flight(conn, &id)?;
            diesel::update(notification_deliveries::table.find(&id))
                .set((
                    notification_deliveries::status.eq(status.as_str()),
                    notification_deliveries::updated_at.eq(to_micros(at)),
                ))
                .execute(conn)?;
            Ok(())
        })?)
    }

    fn admin_emails(&self, account: AccountId) -> Result<Vec<String>, PortError> {
        Ok(self.read(|conn| {
            Ok(memberships::table
                .inner_join(users::table)
                .filter(memberships::account_id.eq(account.to_string()))
                .filter(memberships::status.eq(MemberStatus::Active.as_str()))
                .filter(memberships::role.eq_any([Role::Owner.as_str(), Role::Admin.as_str()]))
                .order(users::email.asc())
                .select(users::email)
                .load::<String>(conn)?)
        })?)
    }

    fn insert_event(&self, entry: &OutboxEntry) -> Result<(), PortError> {
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> { insert_outbox(conn, entry) })?)
    }
}
