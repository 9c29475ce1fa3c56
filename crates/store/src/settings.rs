//! `SettingsStore`: account sections, the user's preferences, allowlist and MFA code count.

mod load;
mod profile;
mod writes;

use writes::SettingsTx;

use diesel::prelude::*;
use serde_json::Value;
use tenantry_kernel::{AccountId, Cursor, Page, PageRequest, PortError, UserId};
use tenantry_security::Cidr;
use tenantry_settings::{
    Applied, AuditRecord, CurrentPreferences, CurrentSection, HistoryEntry, SettingsChange,
    SettingsError, SettingsStore, Snapshot, StoredSection, StoredSettings, WriteContext,
};

use crate::schema::{ip_allowlist_entries, settings_documents, settings_history, user_preferences};
use crate::time::{from_micros, to_micros};
use crate::transaction::TxError;
use crate::{DbConnection, Store, StoreError};

impl SettingsStore for Store {
    fn load(&self, account: AccountId, user: UserId) -> Result<StoredSettings, PortError> {
        let account = account.to_string();
        let user = user.to_string();
        let load::LoadedRows {
            sections,
            preferences: prefs,
            allowlist,
            unused_backup_codes: unused_codes,
            account,
        } = self.read(|conn| load::in_one_statement(conn, &account, Some(&user)))?;
        let (tier, account_name) = account.unwrap_or_else(|| ("free".into(), String::new()));

        let sections = sections
            .into_iter()
            .map(|(section, document, version)| {
                let document = serde_json::from_str(&document)
                    .map_err(|e| PortError::Corrupt(format!("settings section {section}: {e}")))?;
                Ok(StoredSection {
                    section,
                    document,
                    version,
                })
            })
            .collect::<Result<Vec<_>, PortError>>()?;
        let preferences_version = prefs.iter().map(|(_, _, v)| *v).max().unwrap_or(0);
        let preferences = prefs
            .into_iter()
            .map(|(key, value, _)| {
                let value = serde_json::from_str(&value)
                    .map_err(|e| PortError::Corrupt(format!("preference {key}: {e}")))?;
                Ok((key, value))
            })
            .collect::<Result<Vec<_>, PortError>>()?;
        Ok(StoredSettings {
            sections,
            preferences,
            preferences_version,
            allowlist,
            unused_backup_codes: u32::try_from(unused_codes).unwrap_or(u32::MAX),
            tier,
            account_name,
        })
    }

    fn update(
        &self,
        ctx: &WriteContext,
        sections: &[&str],
        preferences: bool,
        change: SettingsChange<'_>,
    ) -> Result<Applied, SettingsError> {
        Ok(self.settings_write(ctx, sections, preferences, change)?)
    }

    fn rewrite_all_documents(
        &self,
        rewrite: &mut dyn FnMut(&mut Value) -> Result<bool, SettingsError>,
    ) -> Result<u64, SettingsError> {
        Ok(self.rewrite_documents(rewrite)?)
    }

    fn retention_sources(&self) -> Result<Vec<(AccountId, Option<Value>)>, PortError> {
        let rows = self.read(|conn| {
            Ok(crate::schema::accounts::table
                .left_join(
                    settings_documents::table.on(settings_documents::account_id
                        .eq(crate::schema::accounts::id)
                        .and(settings_documents::section.eq("security"))),
                )
                .select((
                    crate::schema::accounts::id,
                    settings_documents::document.nullable(),
                ))
                .load::<(String, Option<String>)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(id, doc)| {
                let id = id
                    .parse()
                    .map_err(|_| PortError::Corrupt(format!("account id `{id}`")))?;
                let doc = doc
                    .map(|d| {
                        serde_json::from_str(&d)
                            .map_err(|e| PortError::Corrupt(format!("security settings: {e}")))
                    })
                    .transpose()?;
                Ok((id, doc))
            })
            .collect()
    }

    fn user_preference_rows(
        &self,
        user: UserId,
    ) -> Result<Vec<(String, Value, chrono::DateTime<chrono::Utc>)>, PortError> {
        let user = user.to_string();
        let rows = self.read(|conn| {
            Ok(user_preferences::table
                .filter(user_preferences::user_id.eq(&user))
                .order(user_preferences::pref_key.asc())
                .select((
                    user_preferences::pref_key,
                    user_preferences::value,
                    user_preferences::updated_at,
                ))
                .load::<(String, String, i64)>(conn)?)
        })?;
        rows.into_iter()
            .map(|(k, v, t)| {
                let value = serde_json::from_str(&v)
                    .map_err(|e| PortError::Corrupt(format!("preference {k}: {e}")))?;
                Ok((k, value, from_micros(t)))
            })
            .collect()
    }

    fn allowlist_entries(
        &self,
        account: AccountId,
    ) -> Result<Vec<tenantry_settings::AllowlistEntry>, PortError> {
        let account = account.to_string();
        let rows = self.read(|conn| {
            Ok(ip_allowlist_entries::table
                .filter(ip_allowlist_entries::account_id.eq(&account))
                .order((
                    ip_allowlist_entries::created_at.asc(),
                    ip_allowlist_entries::id.asc(),
                ))
                .select((
                    ip_allowlist_entries::id,
                    ip_allowlist_entries::cidr,
                    ip_allowlist_entries::label,
                    ip_allowlist_entries::created_at,
                    ip_allowlist_entries::created_by,
                ))
                .load::<(String, String, String, i64, Option<String>)>(conn)?)
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, cidr, label, created_at, created_by)| tenantry_settings::AllowlistEntry {
                    id,
                    cidr,
                    label,
                    created_at: from_micros(created_at),
                    created_by,
                },
            )
            .collect())
    }

    fn allowlist_source(
        &self,
        account: AccountId,
    ) -> Result<(Option<Value>, Vec<String>), PortError> {
        let account = account.to_string();
        // The load's one statement without a user: the sections and the entries, one snapshot.
        let rows = self.read(|conn| load::in_one_statement(conn, &account, None))?;
        let doc = rows
            .sections
            .into_iter()
            .find(|(section, _, _)| section == "security")
            .map(|(_, document, _)| document);
        let list = rows.allowlist;
        let doc = doc
            .map(|d| {
                serde_json::from_str(&d)
                    .map_err(|e| PortError::Corrupt(format!("security settings: {e}")))
            })
            .transpose()?;
        Ok((doc, list))
    }

    fn record_telemetry_test(
        &self,
        account: AccountId,
        t: &tenantry_settings::TelemetryTest,
    ) -> Result<(), PortError> {
        let epoch_account = account;
        use crate::schema::telemetry_webhook_tests as tw;
        Ok(
            self.write_account(epoch_account, |conn| -> Result<(), crate::StoreError> {
                diesel::insert_into(tw::table)
                    .values((
                        tw::id.eq(&t.id),
                        tw::account_id.eq(account.to_string()),
                        tw::url.eq(&t.url),
                        tw::response_code.eq(t.response_code.map(i64::from)),
                        tw::error.eq(t.error.as_deref()),
                        tw::tested_at.eq(to_micros(t.tested_at)),
                    ))
                    .execute(conn)?;
                Ok(())
            })?,
        )
    }

    fn telemetry_test(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<tenantry_settings::TelemetryTest>, PortError> {
        use crate::schema::telemetry_webhook_tests as tw;
        let row = self.read(|conn| {
            Ok(tw::table
                .filter(tw::account_id.eq(account.to_string()))
                .filter(tw::id.eq(id))
                .select((tw::id, tw::url, tw::response_code, tw::error, tw::tested_at))
                .first::<(String, String, Option<i64>, Option<String>, i64)>(conn)
                .optional()?)
        })?;
        Ok(row.map(
            |(id, url, code, error, at)| tenantry_settings::TelemetryTest {
                id,
                url,
                response_code: code.and_then(|c| u16::try_from(c).ok()),
                error,
                tested_at: from_micros(at),
            },
        ))
    }

    fn settings_epoch(&self, account: AccountId, user: Option<UserId>) -> tenantry_kernel::Epoch {
        let epochs = Store::write_epochs(self);
        match user {
            Some(user) => epochs.account_user(account, user),
            None => epochs.account(account),
        }
    }

    fn section_document(
        &self,
        account: AccountId,
        section: &str,
    ) -> Result<Option<Value>, PortError> {
        let doc = self.read(|conn| {
            Ok(settings_documents::table
                .filter(settings_documents::account_id.eq(account.to_string()))
                .filter(settings_documents::section.eq(section))
                .select(settings_documents::document)
                .first::<String>(conn)
                .optional()?)
        })?;
        doc.map(|d| {
            serde_json::from_str(&d).map_err(|e| PortError::Corrupt(format!("{section}: {e}")))
        })
        .transpose()
    }

    fn history(
        &self,
        account: AccountId,
        section: &str,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, PortError> {
        self.history_page(account, section, page)
    }

    fn history_version(
        &self,
        account: AccountId,
        section: &str,
        version: i64,
    ) -> Result<Option<HistoryEntry>, PortError> {
        let account = account.to_string();
        let row = self.read(|conn| {
            Ok(settings_history::table
                .filter(settings_history::account_id.eq(&account))
                .filter(settings_history::section.eq(section))
                .filter(settings_history::version.eq(version))
                .select((
                    settings_history::version,
                    settings_history::document,
                    settings_history::updated_at,
                    settings_history::updated_by,
                ))
                .first::<HistoryRow>(conn)
                .optional()?)
        })?;
        row.map(HistoryEntry::try_from).transpose()
    }
}

fn load_allowlist(conn: &mut DbConnection, account: &str) -> Result<Vec<String>, SettingsTx> {
    Ok(ip_allowlist_entries::table
        .filter(ip_allowlist_entries::account_id.eq(account))
        .order((
            ip_allowlist_entries::created_at.asc(),
            ip_allowlist_entries::id.asc(),
        ))
        .select(ip_allowlist_entries::cidr)
        .load::<String>(conn)?)
}

#[derive(Queryable)]
struct HistoryRow {
    version: i64,
    document: String,
    updated_at: i64,
    updated_by: Option<String>,
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = PortError;
    fn try_from(r: HistoryRow) -> Result<Self, PortError> {
        Ok(HistoryEntry {
            version: r.version,
            document: serde_json::from_str(&r.document)
                .map_err(|e| PortError::Corrupt(format!("settings history: {e}")))?,
            updated_at: from_micros(r.updated_at),
            updated_by: r.updated_by,
        })
    }
}

impl Store {
    fn history_page(
        &self,
        account: AccountId,
        section: &str,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, PortError> {
        let account = account.to_string();
        let limit = i64::from(page.limit);
        // History is paged by version, newest first; the cursor's number is the last version seen.
        let before = page.after.as_ref().map(|c| c.created_at_micros);
        let rows = self.read(|conn| {
            let mut q = settings_history::table
                .filter(settings_history::account_id.eq(&account))
                .filter(settings_history::section.eq(section))
                .order(settings_history::version.desc())
                .select((
                    settings_history::version,
                    settings_history::document,
                    settings_history::updated_at,
                    settings_history::updated_by,
                ))
                .limit(limit + 1)
                .into_boxed();
            if let Some(v) = before {
                q = q.filter(settings_history::version.lt(v));
            }
            Ok(q.load::<HistoryRow>(conn)?)
        })?;
        let has_more = rows.len() as i64 > limit;
        let items = rows
            .into_iter()
            .take(page.limit as usize)
            .map(HistoryEntry::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if has_more {
            items.last().map(|e| Cursor {
                created_at_micros: e.version,
                id: section.to_owned(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }
}
