//! `MfaStore`: TOTP enrollments and backup codes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{Actor, AuditId, PortError, UserId};
use tenantry_security::{MfaRecord, MfaStore, Sealed, SecretHash};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{mfa_backup_codes, user_mfa, users};
use crate::time::to_micros;
use crate::{DbConnection, Store, StoreError};

fn audit(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    id: AuditId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (account, user) = (actor.account_id.to_string(), actor.user_id.to_string());
    let (name, ip) = (actor.audit_name(), actor.audit_address());
    insert_entry(
        conn,
        NewEntry {
            id: id.to_string(),
            account: &account,
            actor: &name,
            action,
            target: Some(&user),
            diff: None,
            ip: ip.as_deref(),
            at,
        },
    )
}

impl MfaStore for Store {
    fn mfa(&self, user: UserId) -> Result<Option<MfaRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(user_mfa::table
                .filter(user_mfa::user_id.eq(user.to_string()))
                .select((
                    user_mfa::enrollment_id,
                    user_mfa::secret_sealed,
                    user_mfa::enabled,
                    user_mfa::last_used_step,
                ))
                .first::<(String, String, bool, Option<i64>)>(conn)
                .optional()?)
        })?;
        Ok(row.map(
            |(enrollment_id, sealed, enabled, last_used_step)| MfaRecord {
                enrollment_id,
                secret_sealed: Sealed::from_stored(sealed),
                enabled,
                last_used_step,
            },
        ))
    }

    fn unused_backup_codes(&self, user: UserId) -> Result<u32, PortError> {
        let n = self.read(|conn| {
            Ok(mfa_backup_codes::table
                .filter(mfa_backup_codes::user_id.eq(user.to_string()))
                .filter(mfa_backup_codes::used_at.is_null())
                .count()
                .get_result::<i64>(conn)?)
        })?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn put_pending(
        &self,
        user: UserId,
        enrollment_id: &str,
        sealed: &Sealed,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let user = user.to_string();
        self.write(|conn| -> Result<(), StoreError> {
            diesel::delete(
                user_mfa::table
                    .filter(user_mfa::user_id.eq(&user))
                    .filter(user_mfa::enabled.eq(false)),
            )
            .execute(conn)?;
            diesel::insert_into(user_mfa::table)
                .values((
                    user_mfa::user_id.eq(&user),
                    user_mfa::enrollment_id.eq(enrollment_id),
                    user_mfa::secret_sealed.eq(sealed.as_str()),
                    user_mfa::enabled.eq(false),
                    user_mfa::updated_at.eq(to_micros(at)),
                ))
                .execute(conn)?;
            Ok(())
        })?;
        Ok(())
    }

    fn activate(
        &self,
        actor: &Actor,
        enrollment_id: &str,
        step: i64,
        backup_hashes: &[SecretHash],
        id: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let user = actor.user_id.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            let n = diesel::update(
                user_mfa::table
                    .filter(user_mfa::user_id.eq(&user))
                    .filter(user_mfa::enrollment_id.eq(enrollment_id))
                    .filter(user_mfa::enabled.eq(false)),
            )
            .set((
                user_mfa::enabled.eq(true),
                user_mfa::last_used_step.eq(step),
                user_mfa::updated_at.eq(to_micros(at)),
            ))
            .execute(conn)?;
            if n != 1 {
                return Ok(false);
            }
            diesel::delete(mfa_backup_codes::table.filter(mfa_backup_codes::user_id.eq(&user)))
                .execute(conn)?;
            for hash in backup_hashes {
                diesel::insert_into(mfa_backup_codes::table)
                    .values((
                        mfa_backup_codes::user_id.eq(&user),
                        mfa_backup_codes::code_hash.eq(hash.to_hex()),
                    ))
                    .execute(conn)?;
            }
            audit(conn, actor, "user.mfa_enabled", id, at)?;
            Ok(true)
        })?)
    }

    fn use_step(&self, user: UserId, step: i64) -> Result<bool, PortError> {
        let user = user.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            // Compare-and-set: accepted only if strictly after the last accepted step.
            let n = diesel::update(
                user_mfa::table
                    .filter(user_mfa::user_id.eq(&user))
                    .filter(user_mfa::enabled.eq(true))
                    .filter(
                        user_mfa::last_used_step
                            .is_null()
                            .or(user_mfa::last_used_step.lt(step)),
                    ),
            )
            .set(user_mfa::last_used_step.eq(step))
            .execute(conn)?;
            Ok(n == 1)
        })?)
    }

    fn consume_backup_code(
        &self,
        user: UserId,
        hash: &SecretHash,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let user = user.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            let n = diesel::update(
                mfa_backup_codes::table
                    .filter(mfa_backup_codes::user_id.eq(&user))
                    .filter(mfa_backup_codes::code_hash.eq(hash.to_hex()))
                    .filter(mfa_backup_codes::used_at.is_null()),
            )
            .set(mfa_backup_codes::used_at.eq(to_micros(at)))
            .execute(conn)?;
            Ok(n == 1)
        })?)
    }

    fn remove_mfa(&self, actor: &Actor, id: AuditId, at: DateTime<Utc>) -> Result<(), PortError> {
        let user = actor.user_id.to_string();
        self.write(|conn| -> Result<(), StoreError> {
            diesel::delete(user_mfa::table.filter(user_mfa::user_id.eq(&user))).execute(conn)?;
            diesel::delete(mfa_backup_codes::table.filter(mfa_backup_codes::user_id.eq(&user)))
                .execute(conn)?;
            audit(conn, actor, "user.mfa_disabled", id, at)
        })?;
        Ok(())
    }

    fn credentials(&self, user: UserId) -> Result<Option<(String, Option<String>)>, PortError> {
        Ok(self.read(|conn| {
            Ok(users::table
                .filter(users::id.eq(user.to_string()))
                .select((users::email, users::password_hash))
                .first::<(String, Option<String>)>(conn)
                .optional()?)
        })?)
    }
}
