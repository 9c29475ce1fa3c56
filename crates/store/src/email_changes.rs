//! `EmailChangeStore`: email change confirmation links, and using one (the address, the user's
//! other links and the audit trail, in one transaction).

use diesel::dsl::count_star;
use diesel::prelude::*;
use tenantry_kernel::{Email, PortError, UserId};
use tenantry_security::ChangeAudit;
use tenantry_team::{
    CompletedEmailChange, EmailChangeOutcome, EmailChangeStore, EmailChangeSubject, NewEmailChange,
};

use crate::audit::{insert_change, insert_change_in_each_account, stored_user_id};
use crate::outbox::insert_outbox;
use crate::schema::{email_changes, password_resets, users};
use crate::time::to_micros;
use crate::{Store, StoreError};

impl EmailChangeStore for Store {
    fn email_change_subject(&self, user: UserId) -> Result<Option<EmailChangeSubject>, PortError> {
        Ok(self.read(|conn| {
            Ok(users::table
                .find(user.to_string())
                .select((users::email, users::password_hash))
                .first::<(String, Option<String>)>(conn)
                .optional()?
                .map(|(email, password_hash)| EmailChangeSubject {
                    email,
                    password_hash,
                }))
        })?)
    }

    fn email_in_use(&self, email: &Email) -> Result<bool, PortError> {
        let n = self.read(|conn| {
            Ok(users::table
                .filter(users::email.eq(email.as_str()))
                .select(count_star())
                .first::<i64>(conn)?)
        })?;
        Ok(n > 0)
    }

    fn audit_refusal(
        &self,
        account: tenantry_kernel::AccountId,
        target: UserId,
        audit: &ChangeAudit,
    ) -> Result<(), PortError> {
        self.insert_refusal(account, target, audit)
    }

    fn create_email_change(&self, c: &NewEmailChange<'_>) -> Result<bool, PortError> {
        let created = to_micros(c.created_at);
        let user = c.user.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            let open = email_changes::table
                .filter(email_changes::user_id.eq(&user))
                .filter(email_changes::used_at.is_null())
                .filter(email_changes::expires_at.gt(created))
                .select(count_star())
                .first::<i64>(conn)?;
            if open >= c.max_open {
                return Ok(false);
            }
            diesel::insert_into(email_changes::table)
                .values((
                    email_changes::token_hash.eq(c.token_hash.to_hex()),
                    email_changes::user_id.eq(&user),
                    email_changes::new_email.eq(c.new_email.as_str()),
                    email_changes::created_at.eq(created),
                    email_changes::expires_at.eq(to_micros(c.expires_at)),
                ))
                .execute(conn)?;
            for mail in c.mails {
                insert_outbox(conn, mail)?;
            }
            insert_change(conn, &c.account.to_string(), &user, c.audit)?;
            Ok(true)
        })?)
    }

    fn complete_email_change(
        &self,
        c: &CompletedEmailChange<'_>,
    ) -> Result<EmailChangeOutcome, PortError> {
        let at = to_micros(c.at);
        let hash = c.token_hash.to_hex();
        Ok(
            self.write(|conn| -> Result<EmailChangeOutcome, StoreError> {
                let Some((user, new_email, created)) = email_changes::table
                    .filter(email_changes::token_hash.eq(&hash))
                    .filter(email_changes::used_at.is_null())
                    .filter(email_changes::expires_at.gt(at))
                    .select((
                        email_changes::user_id,
                        email_changes::new_email,
                        email_changes::created_at,
                    ))
                    .first::<(String, String, i64)>(conn)
                    .optional()?
                else {
                    return Ok(EmailChangeOutcome::LinkInvalid);
                };
                let Some((old_email, password_changed)) = users::table
                    .find(&user)
                    .select((users::email, users::password_changed_at))
                    .first::<(String, Option<i64>)>(conn)
                    .optional()?
                else {
                    return Ok(EmailChangeOutcome::LinkInvalid);
                };
                // A new password after the request voids it: that is what the notice to the old
                // address tells its owner to do if the request was not theirs.
                if password_changed.is_some_and(|changed| changed > created) {
                    return Ok(EmailChangeOutcome::LinkInvalid);
                }
                // Only the latest request counts: a user who asked again (a typo corrected) has
                // no earlier link left that whoever holds the mistyped mailbox could confirm.
                let newer = email_changes::table
                    .filter(email_changes::user_id.eq(&user))
                    .filter(email_changes::created_at.gt(created))
                    .select(count_star())
                    .first::<i64>(conn)?;
                if newer > 0 {
                    return Ok(EmailChangeOutcome::LinkInvalid);
                }
                let taken = users::table
                    .filter(users::email.eq(&new_email))
                    .filter(users::id.ne(&user))
                    .select(count_star())
                    .first::<i64>(conn)?;
                if taken > 0 {
                    return Ok(EmailChangeOutcome::AddressTaken);
                }
                // Claiming the link first: of two concurrent uses, only the one that marks it wins.
                let claimed = diesel::update(
                    email_changes::table
                        .filter(email_changes::token_hash.eq(&hash))
                        .filter(email_changes::used_at.is_null()),
                )
                .set(email_changes::used_at.eq(at))
                .execute(conn)?;
                if claimed == 0 {
                    return Ok(EmailChangeOutcome::LinkInvalid);
                }
                // Links mailed before the change die with it: another address's link must not move
                // the sign-in again, and a password link sent to the old address must not open it.
                diesel::update(
                    email_changes::table
                        .filter(email_changes::user_id.eq(&user))
                        .filter(email_changes::used_at.is_null()),
                )
                .set(email_changes::used_at.eq(at))
                .execute(conn)?;
                diesel::update(
                    password_resets::table
                        .filter(password_resets::user_id.eq(&user))
                        .filter(password_resets::used_at.is_null()),
                )
                .set(password_resets::used_at.eq(at))
                .execute(conn)?;
                // A concurrent writer taking the address meanwhile fails this on the unique index:
                // a `UniqueViolation`, which the port reports as `Conflict`.
                diesel::update(users::table.find(&user))
                    .set(users::email.eq(&new_email))
                    .execute(conn)?;
                let id = stored_user_id(&user)?;
                insert_change_in_each_account(conn, &user, &|| ChangeAudit {
                    id: (c.new_audit_id)(),
                    actor: user.clone(),
                    action: "user.email_changed",
                    at: c.at,
                    ip: c.ip.clone(),
                    details: serde_json::json!({
                        "previousEmail": old_email,
                        "email": new_email,
                        "sessionsEnded": false,
                    }),
                })?;
                Ok(EmailChangeOutcome::Changed {
                    user: id,
                    email: new_email.clone(),
                })
            })?,
        )
    }
}
