//! `SettingsStore`: account sections, the user's preferences, allowlist and MFA code count.

use diesel::prelude::*;
use tenantry_kernel::{AccountId, PortError, UserId};
use tenantry_settings::{SettingsStore, StoredSection, StoredSettings};

use crate::schema::{ip_allowlist_entries, mfa_backup_codes, settings_documents, user_preferences};
use crate::Store;

impl SettingsStore for Store {
    fn load(&self, account: AccountId, user: UserId) -> Result<StoredSettings, PortError> {
        let account = account.to_string();
        let user = user.to_string();
        // One write-free transaction so the sections, preferences and allowlist are one snapshot.
        let (sections, prefs, allowlist, unused_codes) = self.read(|conn| {
            Ok(conn.transaction(|conn| {
                let sections = settings_documents::table
                    .filter(settings_documents::account_id.eq(&account))
                    .select((
                        settings_documents::section,
                        settings_documents::document,
                        settings_documents::version,
                    ))
                    .load::<(String, String, i64)>(conn)?;
                let prefs = user_preferences::table
                    .filter(user_preferences::user_id.eq(&user))
                    .select((
                        user_preferences::pref_key,
                        user_preferences::value,
                        user_preferences::version,
                    ))
                    .load::<(String, String, i64)>(conn)?;
                let allowlist = ip_allowlist_entries::table
                    .filter(ip_allowlist_entries::account_id.eq(&account))
                    .order((
                        ip_allowlist_entries::created_at.asc(),
                        ip_allowlist_entries::id.asc(),
                    ))
                    .select(ip_allowlist_entries::cidr)
                    .load::<String>(conn)?;
                let unused_codes = mfa_backup_codes::table
                    .filter(mfa_backup_codes::user_id.eq(&user))
                    .filter(mfa_backup_codes::used_at.is_null())
                    .count()
                    .get_result::<i64>(conn)?;
                diesel::QueryResult::Ok((sections, prefs, allowlist, unused_codes))
            })?)
        })?;

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
        })
    }
}
