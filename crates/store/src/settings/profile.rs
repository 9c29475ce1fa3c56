//! `ProfileStore`: the user's own record and preference rows for the security context's profile
//! and password change. A profile write is a preferences write (the same transaction, locks,
//! versions, epochs and audit row as the account settings API's), so it goes through the one
//! settings write.

use diesel::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use tenantry_kernel::{Actor, OsRandom, PortError, SystemClock, UserId};
use tenantry_security::{ProfileChange, ProfileRecord, ProfileStore};
use tenantry_settings::{
    AuditRecord, IdSource, PreferencesWrite, SettingsError, SettingsStore, UserWrite, WriteContext,
    Writes,
};

use crate::time::to_micros;
use crate::{Store, StoreError};

impl ProfileStore for Store {
    fn profile_record(&self, user: UserId) -> Result<Option<ProfileRecord>, PortError> {
        use crate::schema::users;
        let user = user.to_string();
        let row = self.read(|conn| {
            Ok(users::table
                .filter(users::id.eq(&user))
                .select((users::email, users::display_name, users::password_hash))
                .first::<(String, Option<String>, Option<String>)>(conn)
                .optional()?)
        })?;
        Ok(
            row.map(|(email, display_name, password_hash)| ProfileRecord {
                email,
                display_name,
                password_hash,
            }),
        )
    }

    fn profile_rows(&self, user: UserId) -> Result<Vec<(String, Value)>, PortError> {
        Ok(self
            .user_preference_rows(user)?
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect())
    }

    fn write_profile(
        &self,
        actor: &Actor,
        at: chrono::DateTime<chrono::Utc>,
        change: &ProfileChange,
    ) -> Result<bool, PortError> {
        let ctx = WriteContext {
            account: actor.account_id,
            user: Some(actor.user_id),
            actor: actor.audit_name(),
            ip: actor.ip.map(|ip| ip.to_string()),
            at,
            // A profile write stores no allowlist entry, the only id a settings write mints.
            ids: IdSource::new(Arc::new(SystemClock), Arc::new(OsRandom)),
        };
        let audit = AuditRecord {
            id: change.audit_id,
            action: change.action.into(),
            target: actor.user_id.to_string(),
            diff: change.diff.clone(),
        };
        let user = UserWrite {
            email: None,
            display_name: change.display_name.clone(),
            password_hash: change.password_hash.clone(),
        };
        let written = self.settings_write(&ctx, &[], true, &mut |snapshot| {
            if let Some(expected) = &change.expected_hash {
                if snapshot.user.as_ref().map(|u| &u.password_hash) != Some(expected) {
                    return Err(SettingsError::VersionConflict { current: 0 });
                }
            }
            Ok(Writes {
                preferences: Some(PreferencesWrite {
                    rows: change.preference_rows.clone(),
                    remove: Vec::new(),
                    audit: audit.clone(),
                }),
                user: Some(user.clone()),
                ..Writes::default()
            })
        });
        match written.map_err(SettingsError::from) {
            Ok(_) => Ok(true),
            Err(SettingsError::VersionConflict { .. }) => Ok(false),
            Err(SettingsError::Port(e)) => Err(e),
            Err(e) => Err(PortError::Corrupt(format!("profile write: {e}"))),
        }
    }

    fn audit_refusal(
        &self,
        account: tenantry_kernel::AccountId,
        target: UserId,
        audit: &tenantry_security::ChangeAudit,
    ) -> Result<(), PortError> {
        self.insert_refusal(account, target, audit)
    }

    fn end_other_sessions(
        &self,
        user: UserId,
        keep: Option<tenantry_kernel::SessionId>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, PortError> {
        use crate::schema::sessions;
        let user = user.to_string();
        let keep = keep.map(|k| k.to_string()).unwrap_or_default();
        let n = self.write(|conn| -> Result<usize, StoreError> {
            Ok(diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(&user))
                    .filter(sessions::id.ne(&keep))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(to_micros(at)))
            .execute(conn)?)
        })?;
        Ok(n as u64)
    }
}
