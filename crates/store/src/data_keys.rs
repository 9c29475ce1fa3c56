//! `DataKeyStore`: the wrapped data keys, and every stored sealed value (for counting and
//! re-sealing them). The places below are every column that holds sealed values; a new one
//! must be added here, or `keys rotate` would retire a key that still opens it.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::Value;
use tenantry_kernel::PortError;
use tenantry_security::{
    DataKeyRecord, DataKeyState, DataKeyStore, ResealBatch, ResealCursor, Sealed, SecretBoxError,
};

use crate::schema::{
    data_keys, notification_channels, outbox, settings_documents, settings_history, user_mfa,
};
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

/// Outbox kinds whose payload is sealed (mail may carry links, deliveries carry secrets).
const SEALED_OUTBOX_KINDS: [&str; 2] = ["email", "delivery"];

/// The row a sealed value lives in.
#[derive(Debug, Clone)]
enum Row {
    Document(String, String),
    History(String, String, i64),
    Mfa(String),
    Channel(String),
    ChannelPrevious(String),
    Outbox(String),
}

/// How many places [`load_page`] knows; `ResealCursor::place` counts up to it.
const PLACES: u32 = 6;

impl Row {
    /// Settings documents hold sealed values inside JSON (`*_sealed` fields); the other
    /// columns are one sealed value each.
    fn is_json(&self) -> bool {
        matches!(self, Row::Document(..) | Row::History(..))
    }
}

fn load_page(
    conn: &mut DbConnection,
    place: u32,
    offset: u64,
    limit: u32,
) -> Result<Vec<(Row, String)>, StoreError> {
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let limit = i64::from(limit);
    Ok(match place {
        0 => settings_documents::table
            .order((settings_documents::account_id, settings_documents::section))
            .select((
                settings_documents::account_id,
                settings_documents::section,
                settings_documents::document,
            ))
            .offset(offset)
            .limit(limit)
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(a, s, d)| (Row::Document(a, s), d))
            .collect(),
        1 => settings_history::table
            .order((
                settings_history::account_id,
                settings_history::section,
                settings_history::version,
            ))
            .select((
                settings_history::account_id,
                settings_history::section,
                settings_history::version,
                settings_history::document,
            ))
            .offset(offset)
            .limit(limit)
            .load::<(String, String, i64, String)>(conn)?
            .into_iter()
            .map(|(a, s, v, d)| (Row::History(a, s, v), d))
            .collect(),
        2 => user_mfa::table
            .order(user_mfa::user_id)
            .select((user_mfa::user_id, user_mfa::secret_sealed))
            .offset(offset)
            .limit(limit)
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(u, s)| (Row::Mfa(u), s))
            .collect(),
        3 => notification_channels::table
            .filter(notification_channels::secret_sealed.is_not_null())
            .order(notification_channels::id)
            .select((
                notification_channels::id,
                notification_channels::secret_sealed.assume_not_null(),
            ))
            .offset(offset)
            .limit(limit)
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(id, s)| (Row::Channel(id), s))
            .collect(),
        4 => outbox::table
            .filter(outbox::kind.eq_any(SEALED_OUTBOX_KINDS))
            .order(outbox::id)
            .select((outbox::id, outbox::payload))
            .offset(offset)
            .limit(limit)
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(id, p)| (Row::Outbox(id), p))
            .collect(),
        5 => notification_channels::table
            .filter(notification_channels::previous_secret_sealed.is_not_null())
            .order(notification_channels::id)
            .select((
                notification_channels::id,
                notification_channels::previous_secret_sealed.assume_not_null(),
            ))
            .offset(offset)
            .limit(limit)
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(id, s)| (Row::ChannelPrevious(id), s))
            .collect(),
        _ => Vec::new(),
    })
}

/// Writes `new` where `old` still is: a row changed meanwhile is left for the next pass.
fn store_row(
    conn: &mut DbConnection,
    row: &Row,
    old: &str,
    new: &str,
) -> Result<usize, StoreError> {
    Ok(match row {
        Row::Document(a, s) => diesel::update(
            settings_documents::table
                .filter(settings_documents::account_id.eq(a))
                .filter(settings_documents::section.eq(s))
                .filter(settings_documents::document.eq(old)),
        )
        .set(settings_documents::document.eq(new))
        .execute(conn)?,
        Row::History(a, s, v) => diesel::update(
            settings_history::table
                .filter(settings_history::account_id.eq(a))
                .filter(settings_history::section.eq(s))
                .filter(settings_history::version.eq(v))
                .filter(settings_history::document.eq(old)),
        )
        .set(settings_history::document.eq(new))
        .execute(conn)?,
        Row::Mfa(u) => diesel::update(
            user_mfa::table
                .filter(user_mfa::user_id.eq(u))
                .filter(user_mfa::secret_sealed.eq(old)),
        )
        .set(user_mfa::secret_sealed.eq(new))
        .execute(conn)?,
        Row::Channel(id) => diesel::update(
            notification_channels::table
                .filter(notification_channels::id.eq(id))
                .filter(notification_channels::secret_sealed.eq(old)),
        )
        .set(notification_channels::secret_sealed.eq(new))
        .execute(conn)?,
        Row::ChannelPrevious(id) => diesel::update(
            notification_channels::table
                .filter(notification_channels::id.eq(id))
                .filter(notification_channels::previous_secret_sealed.eq(old)),
        )
        .set(notification_channels::previous_secret_sealed.eq(new))
        .execute(conn)?,
        Row::Outbox(id) => diesel::update(
            outbox::table
                .filter(outbox::id.eq(id))
                .filter(outbox::payload.eq(old)),
        )
        .set(outbox::payload.eq(new))
        .execute(conn)?,
    })
}

/// Calls `f` on every sealed value of a JSON document (`*_sealed` string fields, at any depth).
fn walk_json(
    v: &mut Value,
    f: &mut dyn FnMut(&mut String) -> Result<(), SecretBoxError>,
) -> Result<(), SecretBoxError> {
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if key.ends_with("_sealed") => f(text)?,
                    other => walk_json(other, f)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk_json(item, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Calls `f` on every sealed value `text` of `row` holds, keeping what it changes; returns the
/// new text when something changed.
fn rewrite(
    row: &Row,
    text: &str,
    f: &mut dyn FnMut(&mut String) -> Result<(), SecretBoxError>,
) -> Result<Option<String>, SecretBoxError> {
    if row.is_json() {
        let mut doc: Value = serde_json::from_str(text).map_err(|e| {
            SecretBoxError::Store(PortError::Corrupt(format!("settings document: {e}")))
        })?;
        let before = doc.clone();
        walk_json(&mut doc, f)?;
        Ok((doc != before).then(|| doc.to_string()))
    } else {
        let mut value = text.to_owned();
        f(&mut value)?;
        Ok((value != text).then_some(value))
    }
}

impl DataKeyStore for Store {
    fn data_keys(&self) -> Result<Vec<DataKeyRecord>, PortError> {
        let rows = self.read(|conn| {
            Ok(data_keys::table
                .order((data_keys::created_at, data_keys::id))
                .select((
                    data_keys::id,
                    data_keys::kek_id,
                    data_keys::wrapped,
                    data_keys::state,
                    data_keys::created_at,
                ))
                .load::<(String, String, String, String, i64)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, kek_id, wrapped, state, created_at)| {
                Ok(DataKeyRecord {
                    state: DataKeyState::parse(&state).ok_or_else(|| {
                        PortError::Corrupt(format!("data key {id}: state `{state}`"))
                    })?,
                    id,
                    kek_id,
                    wrapped,
                    created_at: from_micros(created_at),
                })
            })
            .collect()
    }

    fn add_sealing_key(&self, key: &DataKeyRecord) -> Result<(), PortError> {
        // Not `write`: the read caches hold no data keys, so nothing there goes stale.
        self.write_uncached(|conn| {
            diesel::update(data_keys::table.filter(data_keys::state.eq("sealing")))
                .set(data_keys::state.eq("active"))
                .execute(conn)?;
            diesel::insert_into(data_keys::table)
                .values((
                    data_keys::id.eq(&key.id),
                    data_keys::kek_id.eq(&key.kek_id),
                    data_keys::wrapped.eq(&key.wrapped),
                    data_keys::state.eq("sealing"),
                    data_keys::created_at.eq(to_micros(key.created_at)),
                ))
                .execute(conn)?;
            Ok(())
        })?;
        Ok(())
    }

    fn rewrap(
        &self,
        id: &str,
        previous_wrapped: &str,
        kek_id: &str,
        wrapped: &str,
    ) -> Result<bool, PortError> {
        let n = self.write_uncached(|conn| {
            Ok(diesel::update(
                data_keys::table
                    .filter(data_keys::id.eq(id))
                    .filter(data_keys::wrapped.eq(previous_wrapped)),
            )
            .set((data_keys::kek_id.eq(kek_id), data_keys::wrapped.eq(wrapped)))
            .execute(conn)?)
        })?;
        Ok(n == 1)
    }

    fn retire(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<bool, PortError> {
        let now = to_micros(at);
        let n = self.write_uncached(|conn| {
            Ok(diesel::update(
                data_keys::table
                    .filter(data_keys::id.eq(id))
                    .filter(data_keys::state.eq("active")),
            )
            .set((
                data_keys::state.eq("retired"),
                data_keys::retired_at.eq(now),
            ))
            .execute(conn)?)
        })?;
        Ok(n == 1)
    }

    fn sealed_value_counts(&self) -> Result<BTreeMap<String, u64>, PortError> {
        const PAGE: u32 = 500;
        let mut counts = BTreeMap::new();
        for place in 0..PLACES {
            let mut offset = 0u64;
            loop {
                let page = self.read(|conn| load_page(conn, place, offset, PAGE))?;
                for (row, text) in &page {
                    rewrite(row, text, &mut |value: &mut String| {
                        let sealed = Sealed::from_stored(std::mem::take(value));
                        let id = sealed.key_id().unwrap_or("malformed").to_owned();
                        *counts.entry(id).or_insert(0u64) += 1;
                        *value = sealed.as_str().to_owned();
                        Ok(())
                    })
                    .map_err(|e| match e {
                        SecretBoxError::Store(p) => p,
                        other => PortError::Corrupt(other.to_string()),
                    })?;
                }
                if page.len() < PAGE as usize {
                    break;
                }
                offset += u64::from(PAGE);
            }
        }
        Ok(counts)
    }

    fn reseal_batch(
        &self,
        cursor: ResealCursor,
        limit: u32,
        reseal: &mut dyn FnMut(&Sealed) -> Result<Option<Sealed>, SecretBoxError>,
    ) -> Result<ResealBatch, SecretBoxError> {
        if cursor.place >= PLACES {
            return Ok(ResealBatch {
                resealed: 0,
                next: None,
            });
        }
        let page = self
            .read(|conn| load_page(conn, cursor.place, cursor.offset, limit))
            .map_err(PortError::from)?;
        // Opened and sealed outside the transaction: opening may read the data keys.
        let mut changes = Vec::new();
        let mut resealed = 0u64;
        for (row, text) in &page {
            let mut here = 0u64;
            let new = rewrite(row, text, &mut |value: &mut String| {
                if let Some(sealed) = reseal(&Sealed::from_stored(value.clone()))? {
                    *value = sealed.as_str().to_owned();
                    here += 1;
                }
                Ok(())
            })?;
            if let Some(new) = new {
                changes.push((row.clone(), text.clone(), new, here));
            }
        }
        if !changes.is_empty() {
            resealed = self
                .write(|conn| -> Result<u64, StoreError> {
                    let mut done = 0u64;
                    for (row, old, new, count) in &changes {
                        if store_row(conn, row, old, new)? == 1 {
                            done += count;
                        }
                    }
                    Ok(done)
                })
                .map_err(PortError::from)?;
        }
        let next = if page.len() < limit as usize {
            ResealCursor {
                place: cursor.place + 1,
                offset: 0,
            }
        } else {
            ResealCursor {
                place: cursor.place,
                offset: cursor.offset + page.len() as u64,
            }
        };
        Ok(ResealBatch {
            resealed,
            next: (next.place < PLACES).then_some(next),
        })
    }
}
