//! The outbox table: rows written beside the change that causes them (`insert_outbox`, called
//! inside that change's transaction), and the worker's side (`OutboxStore`).

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use tenantry_kernel::{EventId, PortError};
use tenantry_notifications::{ClaimedMessage, OutboxEntry, OutboxStore};

use crate::schema::outbox;
use crate::time::to_micros;
use crate::{DbConnection, Store, StoreError};

/// Writes `entry` as part of the caller's transaction, due at once.
pub(crate) fn insert_outbox(
    conn: &mut DbConnection,
    entry: &OutboxEntry,
) -> Result<(), StoreError> {
    let at = to_micros(entry.created_at);
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(entry.id.to_string()),
            outbox::account_id.eq(entry.account.map(|a| a.to_string())),
            outbox::kind.eq(entry.kind.as_str()),
            outbox::payload.eq(&entry.payload),
            outbox::created_at.eq(at),
            outbox::next_attempt_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Error texts are kept short: they are for operators reading the row, not a log.
fn clip(error: &str) -> String {
    error.chars().take(500).collect()
}

impl OutboxStore for Store {
    fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        holder: &str,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        let (now, until) = (to_micros(now), to_micros(lease_until));
        let limit = i64::from(limit);
        // Not `write`: no read cache holds outbox rows, so neither an idle poll nor a claim
        // that leases rows moves any epoch (before, each such claim emptied every read cache
        // of the process; decision 0044).
        let claimed = self.write_uncached(|conn| -> Result<_, StoreError> {
            macro_rules! due {
                () => {
                    outbox::table
                        .filter(outbox::delivered_at.is_null())
                        .filter(outbox::abandoned_at.is_null())
                        .filter(outbox::next_attempt_at.le(now))
                        .filter(
                            outbox::claimed_until
                                .is_null()
                                .or(outbox::claimed_until.le(now)),
                        )
                        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
                        .select(outbox::id)
                        .limit(limit)
                };
            }
            // PostgreSQL: rows another instance is claiming right now are skipped, not waited
            // for. SQLite has one writer at a time, so the plain select is already exclusive.
            let ids: Vec<String> = match conn {
                DbConnection::Postgresql(pg) => due!().for_update().skip_locked().load(pg)?,
                DbConnection::Sqlite(lite) => due!().load(lite)?,
            };
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((
                    outbox::claimed_until.eq(until),
                    outbox::claimed_by.eq(holder),
                ))
                .execute(conn)?;
            Ok(outbox::table
                .filter(outbox::id.eq_any(&ids))
                .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
                .select((outbox::id, outbox::kind, outbox::payload, outbox::attempts))
                .load::<(String, String, String, i64)>(conn)?)
        });
        claimed?
            .into_iter()
            .map(|(id, kind, payload, attempts)| {
                Ok(ClaimedMessage {
                    id: id
                        .parse()
                        .map_err(|_| PortError::Corrupt(format!("outbox id `{id}`")))?,
                    kind,
                    payload,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    fn renew_claims(
        &self,
        ids: &[EventId],
        holder: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        // Uncached: a lease's end is in no read a cache holds, and a busy worker renews every
        // few seconds (decision 0011).
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            diesel::update(
                outbox::table
                    .filter(outbox::id.eq_any(&ids))
                    .filter(outbox::claimed_by.eq(holder))
                    .filter(outbox::delivered_at.is_null())
                    .filter(outbox::abandoned_at.is_null()),
            )
            .set(outbox::claimed_until.eq(to_micros(lease_until)))
            .execute(conn)?;
            Ok(())
        })?)
    }

    fn begin_attempt(
        &self,
        id: EventId,
        attempts: u32,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let id = id.to_string();
        Ok(self.write_uncached(|conn| -> Result<bool, StoreError> {
            let changed = diesel::update(
                outbox::table
                    .find(&id)
                    .filter(outbox::claimed_by.eq(holder))
                    .filter(outbox::claimed_until.gt(to_micros(now))),
            )
            .set(outbox::attempts.eq(i64::from(attempts)))
            .execute(conn)?;
            Ok(changed == 1)
        })?)
    }

    fn mark_delivered(
        &self,
        id: EventId,
        attempts: u32,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let id = id.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            diesel::update(outbox::table.find(&id))
                .set((
                    outbox::delivered_at.eq(to_micros(at)),
                    outbox::attempts.eq(i64::from(attempts)),
                    outbox::claimed_until.eq(None::<i64>),
                    outbox::claimed_by.eq(None::<String>),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(())
        })?)
    }

    fn reschedule(
        &self,
        id: EventId,
        attempts: u32,
        next_attempt: DateTime<Utc>,
        error: &str,
    ) -> Result<(), PortError> {
        let id = id.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            diesel::update(outbox::table.find(&id))
                .set((
                    outbox::next_attempt_at.eq(to_micros(next_attempt)),
                    outbox::attempts.eq(i64::from(attempts)),
                    outbox::claimed_until.eq(None::<i64>),
                    outbox::claimed_by.eq(None::<String>),
                    outbox::last_error.eq(clip(error)),
                ))
                .execute(conn)?;
            Ok(())
        })?)
    }

    fn abandon(
        &self,
        id: EventId,
        attempts: u32,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), PortError> {
        let id = id.to_string();
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            diesel::update(outbox::table.find(&id))
                .set((
                    outbox::abandoned_at.eq(to_micros(at)),
                    outbox::attempts.eq(i64::from(attempts)),
                    outbox::claimed_until.eq(None::<i64>),
                    outbox::claimed_by.eq(None::<String>),
                    outbox::last_error.eq(clip(error)),
                ))
                .execute(conn)?;
            Ok(())
        })?)
    }

    fn release_claims(&self, ids: Option<&[EventId]>) -> Result<(), PortError> {
        let ids: Option<Vec<String>> = ids.map(|ids| ids.iter().map(ToString::to_string).collect());
        Ok(self.write_uncached(|conn| -> Result<(), StoreError> {
            match &ids {
                Some(ids) => diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
                    .set((
                        outbox::claimed_until.eq(None::<i64>),
                        outbox::claimed_by.eq(None::<String>),
                    ))
                    .execute(conn)?,
                None => diesel::update(outbox::table.filter(outbox::claimed_until.is_not_null()))
                    .set((
                        outbox::claimed_until.eq(None::<i64>),
                        outbox::claimed_by.eq(None::<String>),
                    ))
                    .execute(conn)?,
            };
            Ok(())
        })?)
    }

    fn outbox_depth(&self) -> Result<u64, PortError> {
        let n = self.read(|conn| {
            Ok(outbox::table
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::abandoned_at.is_null())
                .select(count_star())
                .first::<i64>(conn)?)
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
