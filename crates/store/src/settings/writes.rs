//! The settings write transaction: with the written sections (and the user's preferences) locked
//! against concurrent writers, hand their current state to the domain's change, then store each
//! section as its next version with a history row, the allowlist rows, the preferences and the
//! audit entries; a domain refusal aborts everything and is returned unchanged. Also the key
//! rotation's rewrite of every stored document.

use super::*;

/// Errors inside a settings write transaction: the store's own, or the domain's verdict from the
/// change function (which aborts the transaction and is returned unchanged).
pub(super) enum SettingsTx {
    Store(StoreError),
    Domain(SettingsError),
}

impl From<diesel::result::Error> for SettingsTx {
    fn from(e: diesel::result::Error) -> Self {
        SettingsTx::Store(StoreError::Query(e))
    }
}

impl From<StoreError> for SettingsTx {
    fn from(e: StoreError) -> Self {
        SettingsTx::Store(e)
    }
}

impl TxError for SettingsTx {
    fn is_contention(&self) -> bool {
        matches!(self, SettingsTx::Store(e) if e.is_contention())
    }
    fn busy() -> Self {
        SettingsTx::Store(StoreError::Busy)
    }
}

impl From<SettingsTx> for SettingsError {
    fn from(e: SettingsTx) -> Self {
        match e {
            SettingsTx::Store(e) => SettingsError::Port(e.into()),
            SettingsTx::Domain(e) => e,
        }
    }
}

/// A section's stored document and version. On PostgreSQL the row is also locked (`FOR
/// UPDATE`), so concurrent writers of the section queue behind this transaction — one round
/// trip for the lock and the read (SQLite's `BEGIN IMMEDIATE` already serialises all writers).
fn read_section_for_update(
    conn: &mut DbConnection,
    account: &str,
    section: &str,
) -> Result<Option<(String, i64)>, SettingsTx> {
    let query = settings_documents::table
        .filter(settings_documents::account_id.eq(account))
        .filter(settings_documents::section.eq(section))
        .select((settings_documents::document, settings_documents::version));
    Ok(match conn {
        DbConnection::Postgresql(pg) => query.for_update().first(pg).optional()?,
        DbConnection::Sqlite(lite) => query.first(lite).optional()?,
    })
}

/// The user's record, locked on PostgreSQL as [`read_section_for_update`] locks a section, and
/// the account's tier in the same statement (`None` when the user has no row). The tier is under
/// no lock a settings write takes (only the operator's account update changes it), so reading it
/// in the snapshot the lock statement started with, before any wait for the lock, orders it no
/// differently from a read after the lock (decision 0052). What the user's lock protects (their
/// preference rows) is still read after it, in a statement of its own: a statement that waited
/// for a lock sees only the locked row anew.
fn read_user_for_update(
    conn: &mut DbConnection,
    user: &str,
    account: &str,
) -> Result<Option<(tenantry_settings::UserRecord, Option<String>)>, SettingsTx> {
    use crate::schema::{accounts, users};
    let tier = accounts::table
        .filter(accounts::id.eq(account))
        .select(accounts::tier)
        .single_value();
    let query = users::table.filter(users::id.eq(user)).select((
        users::email,
        users::display_name,
        users::password_hash,
        tier,
    ));
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let row: Option<Row> = match conn {
        DbConnection::Postgresql(pg) => query.for_update().first(pg).optional()?,
        DbConnection::Sqlite(lite) => query.first(lite).optional()?,
    };
    Ok(row.map(|(email, display_name, password_hash, tier)| {
        (
            tenantry_settings::UserRecord {
                email,
                display_name,
                password_hash,
            },
            tier,
        )
    }))
}

/// Sets one preference row (insert or replace, in one statement).
fn upsert_preference(
    conn: &mut DbConnection,
    user: &str,
    key: &str,
    value: &Value,
    version: i64,
    at: i64,
) -> Result<(), SettingsTx> {
    use diesel::upsert::excluded;
    let text = value.to_string();
    macro_rules! execute {
        ($conn:expr) => {
            diesel::insert_into(user_preferences::table)
                .values((
                    user_preferences::user_id.eq(user),
                    user_preferences::pref_key.eq(key),
                    user_preferences::value.eq(&text),
                    user_preferences::version.eq(version),
                    user_preferences::updated_at.eq(at),
                ))
                .on_conflict((user_preferences::user_id, user_preferences::pref_key))
                .do_update()
                .set((
                    user_preferences::value.eq(excluded(user_preferences::value)),
                    user_preferences::version.eq(excluded(user_preferences::version)),
                    user_preferences::updated_at.eq(excluded(user_preferences::updated_at)),
                ))
                .execute($conn)?
        };
    }
    match conn {
        DbConnection::Postgresql(pg) => execute!(pg),
        DbConnection::Sqlite(lite) => execute!(lite),
    };
    Ok(())
}

fn insert_audit(
    conn: &mut DbConnection,
    ctx: &WriteContext,
    audit: &AuditRecord,
) -> Result<(), SettingsTx> {
    let account = ctx.account.to_string();
    Ok(crate::audit::insert_entry(
        conn,
        crate::audit::NewEntry {
            id: audit.id.to_string(),
            account: &account,
            actor: &ctx.actor,
            action: &audit.action,
            target: Some(&audit.target),
            diff: Some(audit.diff.to_string()),
            ip: ctx.ip.as_deref(),
            at: ctx.at,
        },
    )?)
}

/// Replaces the account's allowlist with `list`: entries whose CIDR is unchanged keep their id
/// and label; new ones get a fresh id and an empty label.
fn replace_allowlist(
    conn: &mut DbConnection,
    ctx: &WriteContext,
    list: &[Cidr],
) -> Result<(), SettingsTx> {
    let account = ctx.account.to_string();
    let existing = ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(&account))
        .select(ip_allowlist_entries::cidr)
        .load::<String>(conn)?;
    let wanted: Vec<String> = list.iter().map(ToString::to_string).collect();
    let stale: Vec<&String> = existing.iter().filter(|c| !wanted.contains(c)).collect();
    if !stale.is_empty() {
        diesel::delete(
            ip_allowlist_entries::table
                .filter(ip_allowlist_entries::account_id.eq(&account))
                .filter(ip_allowlist_entries::cidr.eq_any(stale)),
        )
        .execute(conn)?;
    }
    for (i, cidr) in wanted.iter().filter(|c| !existing.contains(c)).enumerate() {
        diesel::insert_into(ip_allowlist_entries::table)
            .values((
                ip_allowlist_entries::id.eq(ctx.ids.ip_entry_id().to_string()),
                ip_allowlist_entries::account_id.eq(&account),
                ip_allowlist_entries::cidr.eq(cidr),
                ip_allowlist_entries::label.eq(""),
                // Keep the list's order: creation time is the display order.
                ip_allowlist_entries::created_at.eq(to_micros(ctx.at) + i as i64),
                ip_allowlist_entries::created_by.eq(&ctx.actor),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl Store {
    pub(super) fn settings_write(
        &self,
        ctx: &WriteContext,
        sections: &[&str],
        with_preferences: bool,
        change: SettingsChange<'_>,
    ) -> Result<Applied, SettingsTx> {
        let account = ctx.account.to_string();
        let user = ctx.user.map(|u| u.to_string()).unwrap_or_default();
        if with_preferences && ctx.user.is_none() {
            return Err(SettingsTx::Domain(SettingsError::Port(PortError::Corrupt(
                "preferences belong to a user; an operator change cannot write them".into(),
            ))));
        }
        let actor = ctx.actor.clone();
        let at = to_micros(ctx.at);
        // Every table written below (settings documents and history, allowlist entries, the
        // user's preferences and record, the audit log) is cached only by the settings read
        // caches, under the account's and the user's epochs: see `Store::write_for`. A
        // write of preferences alone reads and writes no section of the account, so it moves
        // the user's epoch only: the account's other members keep their cached documents.
        let touches_account = !(sections.is_empty() && with_preferences);
        self.write_for(touches_account.then_some(ctx.account), ctx.user, |conn| {
            // Lock in a fixed order (sections sorted, then the user) so two multi-section
            // writers can never deadlock each other on PostgreSQL.
            let mut order: Vec<&str> = sections.to_vec();
            order.sort_unstable();
            let mut stored = Vec::with_capacity(order.len());
            for section in order {
                stored.push((section, read_section_for_update(conn, &account, section)?));
            }
            let (user_record, tier) = if with_preferences {
                match read_user_for_update(conn, &user, &account)? {
                    Some((record, tier)) => (Some(record), Some(tier)),
                    None => (None, None),
                }
            } else {
                (None, None)
            };
            // The tier came with the user's lock when there was one to take.
            let tier = match tier {
                Some(tier) => tier,
                None => crate::schema::accounts::table
                    .filter(crate::schema::accounts::id.eq(&account))
                    .select(crate::schema::accounts::tier)
                    .first::<String>(conn)
                    .optional()?,
            };

            let mut snapshot = Snapshot {
                tier: tier.unwrap_or_else(|| "free".into()),
                user: user_record,
                ..Snapshot::default()
            };
            let mut exists = Vec::new();
            for section in sections {
                let current = stored
                    .iter()
                    .find(|(s, _)| s == section)
                    .and_then(|(_, row)| row.clone());
                let allowlist = if *section == "security" {
                    load_allowlist(conn, &account)?
                } else {
                    Vec::new()
                };
                let (document, version) = match &current {
                    Some((doc, v)) => (
                        Some(serde_json::from_str(doc).map_err(|e| {
                            SettingsTx::Domain(SettingsError::Port(PortError::Corrupt(format!(
                                "settings section {section}: {e}"
                            ))))
                        })?),
                        *v,
                    ),
                    None => (None, 0),
                };
                exists.push((section.to_string(), current.is_some(), version));
                snapshot.sections.push((
                    section.to_string(),
                    CurrentSection {
                        document,
                        version,
                        allowlist,
                    },
                ));
            }
            let stored_prefs = if with_preferences {
                let rows = user_preferences::table
                    .filter(user_preferences::user_id.eq(&user))
                    .select((
                        user_preferences::pref_key,
                        user_preferences::value,
                        user_preferences::version,
                    ))
                    .load::<(String, String, i64)>(conn)?;
                let version = rows.iter().map(|r| r.2).max().unwrap_or(0);
                let rows: Vec<(String, Value)> = rows
                    .iter()
                    .filter_map(|(k, v, _)| serde_json::from_str(v).ok().map(|v| (k.clone(), v)))
                    .collect();
                snapshot.preferences = Some(CurrentPreferences {
                    rows: rows.clone(),
                    version,
                });
                Some((rows, version))
            } else {
                None
            };

            let writes = change(snapshot).map_err(SettingsTx::Domain)?;
            let mut applied = Applied::default();
            for (section, write) in &writes.sections {
                let (existed, version) = exists
                    .iter()
                    .find(|(s, _, _)| s == section)
                    .map(|(_, e, v)| (*e, *v))
                    .ok_or_else(|| {
                        SettingsTx::Domain(SettingsError::Port(PortError::Corrupt(format!(
                            "change wrote section {section} it did not read"
                        ))))
                    })?;
                let next = version + 1;
                let text = write.document.to_string();
                if existed {
                    diesel::update(
                        settings_documents::table
                            .filter(settings_documents::account_id.eq(&account))
                            .filter(settings_documents::section.eq(section)),
                    )
                    .set((
                        settings_documents::document.eq(&text),
                        settings_documents::version.eq(next),
                        settings_documents::updated_at.eq(at),
                        settings_documents::updated_by.eq(&actor),
                    ))
                    .execute(conn)?;
                } else {
                    diesel::insert_into(settings_documents::table)
                        .values((
                            settings_documents::account_id.eq(&account),
                            settings_documents::section.eq(section),
                            settings_documents::document.eq(&text),
                            settings_documents::version.eq(next),
                            settings_documents::updated_at.eq(at),
                            settings_documents::updated_by.eq(&actor),
                        ))
                        .execute(conn)?;
                }
                diesel::insert_into(settings_history::table)
                    .values((
                        settings_history::account_id.eq(&account),
                        settings_history::section.eq(section),
                        settings_history::version.eq(next),
                        settings_history::document.eq(write.history_document.to_string()),
                        settings_history::updated_at.eq(at),
                        settings_history::updated_by.eq(&actor),
                    ))
                    .execute(conn)?;
                if let Some(list) = &write.allowlist {
                    replace_allowlist(conn, ctx, list)?;
                }
                insert_audit(conn, ctx, &write.audit)?;
                applied.sections.push((section.clone(), next));
            }
            if let (Some(write), Some((current, version))) = (&writes.preferences, &stored_prefs) {
                let next = version + 1;
                let mut changed = false;
                for (key, value) in &write.rows {
                    if current.iter().any(|(k, v)| k == key && v == value) {
                        continue;
                    }
                    changed = true;
                    upsert_preference(conn, &user, key, value, next, at)?;
                }
                for key in &write.remove {
                    let n = diesel::delete(
                        user_preferences::table
                            .filter(user_preferences::user_id.eq(&user))
                            .filter(user_preferences::pref_key.eq(key)),
                    )
                    .execute(conn)?;
                    changed |= n > 0;
                }
                insert_audit(conn, ctx, &write.audit)?;
                // When nothing changed no row carries `next`; the version stays what it was.
                applied.preferences = Some(if changed { next } else { *version });
            }
            for audit in &writes.audit {
                insert_audit(conn, ctx, audit)?;
            }
            if let Some(change) = &writes.user {
                if !with_preferences {
                    return Err(SettingsTx::Domain(SettingsError::Port(PortError::Corrupt(
                        "a user change must lock the user (preferences = true)".into(),
                    ))));
                }
                use crate::schema::users;
                let target = users::table.filter(users::id.eq(&user));
                if let Some(email) = &change.email {
                    diesel::update(target)
                        .set(users::email.eq(email))
                        .execute(conn)?;
                }
                if let Some(name) = &change.display_name {
                    diesel::update(target)
                        .set(users::display_name.eq(name.as_deref()))
                        .execute(conn)?;
                }
                if let Some(hash) = &change.password_hash {
                    diesel::update(target)
                        .set((
                            users::password_hash.eq(hash),
                            users::password_changed_at.eq(at),
                        ))
                        .execute(conn)?;
                }
            }
            for (cidr, label) in &writes.allowlist_labels {
                diesel::update(
                    ip_allowlist_entries::table
                        .filter(ip_allowlist_entries::account_id.eq(&account))
                        .filter(ip_allowlist_entries::cidr.eq(cidr)),
                )
                .set(ip_allowlist_entries::label.eq(label))
                .execute(conn)?;
            }
            Ok(applied)
        })
    }
}

impl Store {
    pub(super) fn rewrite_documents(
        &self,
        rewrite: &mut dyn FnMut(&mut Value) -> Result<bool, SettingsError>,
    ) -> Result<u64, SettingsTx> {
        self.write(|conn| {
            let corrupt = |what: &str, e: serde_json::Error| {
                SettingsTx::Domain(SettingsError::Port(PortError::Corrupt(format!(
                    "{what}: {e}"
                ))))
            };
            let mut changed = 0u64;
            let current = settings_documents::table
                .select((
                    settings_documents::account_id,
                    settings_documents::section,
                    settings_documents::document,
                ))
                .load::<(String, String, String)>(conn)?;
            for (account, section, text) in current {
                let mut doc: Value =
                    serde_json::from_str(&text).map_err(|e| corrupt("settings document", e))?;
                if rewrite(&mut doc).map_err(SettingsTx::Domain)? {
                    diesel::update(
                        settings_documents::table
                            .filter(settings_documents::account_id.eq(&account))
                            .filter(settings_documents::section.eq(&section)),
                    )
                    .set(settings_documents::document.eq(doc.to_string()))
                    .execute(conn)?;
                    changed += 1;
                }
            }
            let history = settings_history::table
                .select((
                    settings_history::account_id,
                    settings_history::section,
                    settings_history::version,
                    settings_history::document,
                ))
                .load::<(String, String, i64, String)>(conn)?;
            for (account, section, version, text) in history {
                let mut doc: Value =
                    serde_json::from_str(&text).map_err(|e| corrupt("settings history", e))?;
                if rewrite(&mut doc).map_err(SettingsTx::Domain)? {
                    diesel::update(
                        settings_history::table
                            .filter(settings_history::account_id.eq(&account))
                            .filter(settings_history::section.eq(&section))
                            .filter(settings_history::version.eq(version)),
                    )
                    .set(settings_history::document.eq(doc.to_string()))
                    .execute(conn)?;
                    changed += 1;
                }
            }
            Ok(changed)
        })
    }
}
