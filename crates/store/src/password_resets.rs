//! `PasswordResetStore`: password set-up and reset links, and using one (password, sessions,
//! the user's other links and the audit trail, in one transaction).

use diesel::dsl::count_star;
use diesel::prelude::*;
use tenantry_kernel::{PortError, UserId};
use tenantry_security::{ChangeAudit, SecretHash};
use tenantry_team::{CompletedReset, NewPasswordReset, PasswordResetStore, ResetPurpose};

use crate::audit::{insert_change_in_each_account, insert_entry, stored_user_id, NewEntry};
use crate::outbox::insert_outbox;
use crate::schema::{password_resets, sessions, users};
use crate::time::to_micros;
use crate::{Store, StoreError};

impl PasswordResetStore for Store {
    fn create_password_reset(&self, r: &NewPasswordReset<'_>) -> Result<Option<UserId>, PortError> {
        let created = to_micros(r.created_at);
        Ok(self.write(|conn| -> Result<Option<UserId>, StoreError> {
            let Some((user, password)) = users::table
                .filter(users::email.eq(r.email.as_str()))
                .select((users::id, users::password_hash))
                .first::<(String, Option<String>)>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            // A set-up link is for a user who has no password yet; one who has signs in.
            if r.purpose == ResetPurpose::Setup && password.is_some() {
                return Ok(None);
            }
            let open = password_resets::table
                .filter(password_resets::user_id.eq(&user))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(created))
                .select(count_star())
                .first::<i64>(conn)?;
            if open >= r.max_open {
                return Ok(None);
            }
            diesel::insert_into(password_resets::table)
                .values((
                    password_resets::token_hash.eq(r.token_hash.to_hex()),
                    password_resets::user_id.eq(&user),
                    password_resets::purpose.eq(r.purpose.as_str()),
                    password_resets::created_at.eq(created),
                    password_resets::expires_at.eq(to_micros(r.expires_at)),
                ))
                .execute(conn)?;
            insert_outbox(conn, r.mail)?;
            if let Some(audit) = &r.operator_audit {
                insert_entry(
                    conn,
                    NewEntry {
                        id: audit.id.to_string(),
                        account: &audit.account.to_string(),
                        actor: &tenantry_kernel::OperatorCaller::CLI.actor(),
                        action: "user.password_reset_sent",
                        target: Some(&user),
                        diff: None,
                        ip: tenantry_kernel::OperatorCaller::CLI.address().as_deref(),
                        at: r.created_at,
                    },
                )?;
            }
            Ok(Some(stored_user_id(&user)?))
        })?)
    }

    fn password_reset_open(
        &self,
        token_hash: &SecretHash,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, PortError> {
        let n = self.read(|conn| {
            Ok(password_resets::table
                .filter(password_resets::token_hash.eq(token_hash.to_hex()))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(to_micros(at)))
                .select(count_star())
                .first::<i64>(conn)?)
        })?;
        Ok(n > 0)
    }

    fn complete_password_reset(&self, c: &CompletedReset<'_>) -> Result<Option<UserId>, PortError> {
        let at = to_micros(c.at);
        let hash = c.token_hash.to_hex();
        Ok(self.write(|conn| -> Result<Option<UserId>, StoreError> {
            let Some((user, purpose)) = password_resets::table
                .filter(password_resets::token_hash.eq(&hash))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(at))
                .select((password_resets::user_id, password_resets::purpose))
                .first::<(String, String)>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            // Claiming the link first: of two concurrent uses, only the one that marks it wins.
            let claimed = diesel::update(
                password_resets::table
                    .filter(password_resets::token_hash.eq(&hash))
                    .filter(password_resets::used_at.is_null()),
            )
            .set(password_resets::used_at.eq(at))
            .execute(conn)?;
            if claimed == 0 {
                return Ok(None);
            }
            // The user's other links die with this one: a link mailed before the reset must not
            // undo it later.
            diesel::update(
                password_resets::table
                    .filter(password_resets::user_id.eq(&user))
                    .filter(password_resets::used_at.is_null()),
            )
            .set(password_resets::used_at.eq(at))
            .execute(conn)?;
            diesel::update(users::table.find(&user))
                .set((
                    users::password_hash.eq(c.password_hash),
                    users::password_changed_at.eq(at),
                ))
                .execute(conn)?;
            diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(&user))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(at))
            .execute(conn)?;
            let id = stored_user_id(&user)?;
            insert_change_in_each_account(conn, &user, &|| ChangeAudit {
                id: (c.new_audit_id)(),
                actor: user.clone(),
                action: "user.password_reset",
                at: c.at,
                ip: c.ip.clone(),
                details: serde_json::json!({
                    "purpose": purpose,
                    "sessionsEnded": true,
                }),
            })?;
            Ok(Some(id))
        })?)
    }
}
