//! `InvitationStore`: invitations, and accepting them (user, membership, first API key).

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use tenantry_kernel::{AccountId, Cursor, Email, InvitationId, Page, PageRequest, PortError, Role};
use tenantry_security::{ChangeAudit, MemberStatus, SecretHash};
use tenantry_team::{
    AcceptOutcome, Acceptance, Department, ExistingUser, Invitation, InvitationLifetime,
    InvitationState, InvitationStatus, InvitationStore, InviteMessage, InviteOutcome, Joiner,
    NewInvitation, Permission, Reissue, Title,
};

use crate::audit::insert_change;
use crate::members::{permissions_from_json, permissions_to_json};
use crate::outbox::insert_outbox;
use crate::schema::{accounts, api_keys, invitations, memberships, users};
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

const OPEN: [&str; 2] = ["sent", "resent"];

type InvitationRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
);

macro_rules! invitation_columns {
    () => {
        (
            invitations::id,
            invitations::account_id,
            invitations::email,
            invitations::role,
            invitations::department,
            invitations::title,
            invitations::message,
            invitations::permissions,
            invitations::invited_by,
            invitations::status,
            invitations::created_at,
            invitations::expires_at,
            invitations::resent_at,
            invitations::lifetime_days,
        )
    };
}

fn corrupt(what: &str, value: &str) -> PortError {
    PortError::Corrupt(format!("invitation {what} `{value}`"))
}

fn invitation(row: InvitationRow) -> Result<(AccountId, Invitation), PortError> {
    let (
        id,
        account,
        email,
        role,
        dept,
        title,
        message,
        perms,
        by,
        status,
        created,
        expires,
        resent,
        days,
    ) = row;
    let permissions = perms
        .map(|p| permissions_from_json(&p).ok_or_else(|| corrupt("permissions", &p)))
        .transpose()?;
    Ok((
        account.parse().map_err(|_| corrupt("account", &account))?,
        Invitation {
            id: id.parse().map_err(|_| corrupt("id", &id))?,
            email: email.parse().map_err(|_| corrupt("email", &email))?,
            role: role.parse().map_err(|_| corrupt("role", &role))?,
            department: dept
                .map(|d| Department::parse(&d).map_err(|_| corrupt("department", &d)))
                .transpose()?,
            title: title
                .map(|t| Title::parse(&t).map_err(|_| corrupt("title", &t)))
                .transpose()?,
            message: message
                .map(|m| InviteMessage::parse(&m).map_err(|_| corrupt("message", &m)))
                .transpose()?,
            permissions,
            invited_by: by.parse().map_err(|_| corrupt("inviter", &by))?,
            lifetime: InvitationLifetime::from_days(days)
                .ok_or_else(|| corrupt("lifetime", &days.to_string()))?,
            status: InvitationStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            created_at: from_micros(created),
            expires_at: from_micros(expires),
            resent_at: resent.map(from_micros),
        },
    ))
}

fn permissions_json(p: &Option<Vec<Permission>>) -> Option<String> {
    p.as_deref().map(permissions_to_json)
}

/// PostgreSQL: serializes team-size decisions per account (the member limit is counted, then
/// written). SQLite's write transactions are already serialized.
pub(crate) fn lock_account(conn: &mut DbConnection, account: &str) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(account)
            .execute(pg)?;
    }
    Ok(())
}

/// The role of the current (not removed) member with this address, if any.
fn member_role_by_email(
    conn: &mut DbConnection,
    account: &str,
    email: &str,
) -> Result<Option<String>, StoreError> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::account_id.eq(account))
        .filter(users::email.eq(email))
        .filter(memberships::status.ne(MemberStatus::Removed.as_str()))
        .select(memberships::role)
        .first::<String>(conn)
        .optional()?)
}

fn member_count(conn: &mut DbConnection, account: &str) -> Result<i64, StoreError> {
    Ok(memberships::table
        .filter(memberships::account_id.eq(account))
        .filter(memberships::status.ne(MemberStatus::Removed.as_str()))
        .select(count_star())
        .first(conn)?)
}

fn parse_role(role: &str) -> Result<Role, StoreError> {
    role.parse()
        .map_err(|_| StoreError::Corrupt(format!("membership role `{role}`")))
}

impl InvitationStore for Store {
    fn create_invitation(
        &self,
        account: AccountId,
        new: &NewInvitation<'_>,
    ) -> Result<InviteOutcome, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        let inv = new.invitation;
        let now = to_micros(inv.created_at);
        Ok(
            self.write_account(epoch_account, |conn| -> Result<InviteOutcome, StoreError> {
                lock_account(conn, &account)?;
                if let Some(role) = member_role_by_email(conn, &account, inv.email.as_str())? {
                    return Ok(InviteOutcome::AlreadyMember {
                        role: parse_role(&role)?,
                    });
                }
                let open = invitations::table
                    .filter(invitations::account_id.eq(&account))
                    .filter(invitations::email.eq(inv.email.as_str()))
                    .filter(invitations::status.eq_any(OPEN))
                    .select((invitations::id, invitations::expires_at))
                    .first::<(String, i64)>(conn)
                    .optional()?;
                if let Some((id, expires_at)) = open {
                    if expires_at > now {
                        let id = id
                            .parse()
                            .map_err(|_| StoreError::Corrupt(format!("invitation id `{id}`")))?;
                        return Ok(InviteOutcome::AlreadyInvited { id });
                    }
                    // An expired invitation is superseded by the new one (its link is dead anyway).
                    diesel::update(invitations::table.find(&id))
                        .set((
                            invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                            invitations::closed_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                let pending: i64 = invitations::table
                    .filter(invitations::account_id.eq(&account))
                    .filter(invitations::status.eq_any(OPEN))
                    .filter(invitations::expires_at.gt(now))
                    .select(count_star())
                    .first(conn)?;
                if member_count(conn, &account)? + pending >= i64::from(new.max_members) {
                    return Ok(InviteOutcome::LimitReached);
                }
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::id.eq(inv.id.to_string()),
                        invitations::account_id.eq(&account),
                        invitations::email.eq(inv.email.as_str()),
                        invitations::role.eq(inv.role.as_str()),
                        invitations::department.eq(inv.department.as_ref().map(Department::as_str)),
                        invitations::title.eq(inv.title.as_ref().map(Title::as_str)),
                        invitations::message.eq(inv.message.as_ref().map(InviteMessage::as_str)),
                        invitations::permissions.eq(permissions_json(&inv.permissions)),
                        invitations::invited_by.eq(inv.invited_by.to_string()),
                        invitations::status.eq(inv.status.as_str()),
                        invitations::token_hash.eq(new.token_hash.to_hex()),
                        invitations::lifetime_days.eq(inv.lifetime.days()),
                        invitations::created_at.eq(now),
                        invitations::expires_at.eq(to_micros(inv.expires_at)),
                    ))
                    .execute(conn)?;
                insert_outbox(conn, new.mail)?;
                insert_change(conn, &account, &inv.id.to_string(), new.audit)?;
                Ok(InviteOutcome::Created)
            })?,
        )
    }

    fn find_invitation(
        &self,
        account: AccountId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, PortError> {
        let row = self.read(|conn| {
            Ok(invitations::table
                .filter(invitations::account_id.eq(account.to_string()))
                .filter(invitations::id.eq(id.to_string()))
                .select(invitation_columns!())
                .first::<InvitationRow>(conn)
                .optional()?)
        })?;
        Ok(row.map(invitation).transpose()?.map(|(_, inv)| inv))
    }

    fn list_invitations(
        &self,
        account: AccountId,
        state: Option<InvitationState>,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<(Page<Invitation>, u64), PortError> {
        let account = account.to_string();
        let now = to_micros(now);
        let limit = i64::from(page.limit);
        let (after_micros, after_id) = page
            .after
            .as_ref()
            .map_or((i64::MIN, ""), |c| (c.created_at_micros, c.id.as_str()));
        // The state as stored columns: "pending" and "expired" are open invitations on either
        // side of `expires_at` (the instant itself is expired, as `Invitation::state` says).
        macro_rules! in_state {
            ($query:expr) => {{
                let query = $query.filter(invitations::account_id.eq(&account));
                match state {
                    None => query,
                    Some(InvitationState::Pending) => query
                        .filter(invitations::status.eq_any(OPEN))
                        .filter(invitations::expires_at.gt(now)),
                    Some(InvitationState::Expired) => query
                        .filter(invitations::status.eq_any(OPEN))
                        .filter(invitations::expires_at.le(now)),
                    Some(InvitationState::Accepted) => {
                        query.filter(invitations::status.eq(InvitationStatus::Accepted.as_str()))
                    }
                    Some(InvitationState::Cancelled) => {
                        query.filter(invitations::status.eq(InvitationStatus::Cancelled.as_str()))
                    }
                }
            }};
        }
        let (rows, total) = self.read(|conn| {
            let rows = in_state!(invitations::table.into_boxed())
                // A range on the (account_id, created_at, id) index; the second condition
                // settles ties, as in the member list.
                .filter(
                    invitations::created_at.ge(after_micros).and(
                        invitations::created_at
                            .gt(after_micros)
                            .or(invitations::id.gt(after_id)),
                    ),
                )
                .order((invitations::created_at.asc(), invitations::id.asc()))
                .select(invitation_columns!())
                .limit(limit + 1)
                .load::<InvitationRow>(conn)?;
            let total: i64 = in_state!(invitations::table.into_boxed())
                .select(count_star())
                .first(conn)?;
            Ok((rows, total))
        })?;
        let has_more = rows.len() > page.limit as usize;
        let items = rows
            .into_iter()
            .take(page.limit as usize)
            .map(|r| invitation(r).map(|(_, inv)| inv))
            .collect::<Result<Vec<_>, _>>()?;
        let next = if has_more {
            items.last().map(|i| Cursor {
                created_at_micros: to_micros(i.created_at),
                id: i.id.to_string(),
            })
        } else {
            None
        };
        Ok((
            Page { items, next },
            u64::try_from(total).unwrap_or_default(),
        ))
    }

    fn invitation_by_token(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<(AccountId, Invitation)>, PortError> {
        let row = self.read(|conn| {
            Ok(invitations::table
                .filter(invitations::token_hash.eq(hash.to_hex()))
                .select(invitation_columns!())
                .first::<InvitationRow>(conn)
                .optional()?)
        })?;
        row.map(invitation).transpose()
    }

    fn open_invitations(&self, account: AccountId) -> Result<Vec<Invitation>, PortError> {
        let rows = self.read(|conn| {
            Ok(invitations::table
                .filter(invitations::account_id.eq(account.to_string()))
                .filter(invitations::status.eq_any(OPEN))
                .order((invitations::created_at.asc(), invitations::id.asc()))
                .select(invitation_columns!())
                .load::<InvitationRow>(conn)?)
        })?;
        rows.into_iter()
            .map(|r| invitation(r).map(|(_, inv)| inv))
            .collect()
    }

    fn reissue_invitation(&self, account: AccountId, r: &Reissue<'_>) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, id) = (account.to_string(), r.id.to_string());
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let changed = diesel::update(
                    invitations::table
                        .filter(invitations::account_id.eq(&account))
                        .filter(invitations::id.eq(&id))
                        .filter(invitations::status.eq_any(OPEN)),
                )
                .set((
                    invitations::status.eq(InvitationStatus::Resent.as_str()),
                    invitations::token_hash.eq(r.token_hash.to_hex()),
                    invitations::expires_at.eq(to_micros(r.expires_at)),
                    invitations::resent_at.eq(to_micros(r.audit.at)),
                ))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(false);
                }
                insert_outbox(conn, r.mail)?;
                insert_change(conn, &account, &id, r.audit)?;
                Ok(true)
            })?,
        )
    }

    fn cancel_invitation(
        &self,
        account: AccountId,
        id: InvitationId,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, id) = (account.to_string(), id.to_string());
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let changed = diesel::update(
                    invitations::table
                        .filter(invitations::account_id.eq(&account))
                        .filter(invitations::id.eq(&id))
                        .filter(invitations::status.eq_any(OPEN)),
                )
                .set((
                    invitations::status.eq(InvitationStatus::Cancelled.as_str()),
                    invitations::closed_at.eq(to_micros(audit.at)),
                ))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(false);
                }
                insert_change(conn, &account, &id, audit)?;
                Ok(true)
            })?,
        )
    }

    fn user_by_email(&self, email: &Email) -> Result<Option<ExistingUser>, PortError> {
        let row = self.read(|conn| {
            Ok(users::table
                .filter(users::email.eq(email.as_str()))
                .select((users::id, users::password_hash))
                .first::<(String, Option<String>)>(conn)
                .optional()?)
        })?;
        row.map(|(id, password_hash)| {
            Ok(ExistingUser {
                id: id
                    .parse()
                    .map_err(|_| PortError::Corrupt(format!("user id `{id}`")))?,
                password_hash,
            })
        })
        .transpose()
    }

    fn accept_invitation(&self, a: &Acceptance<'_>) -> Result<AcceptOutcome, PortError> {
        // The joiner's record may be created or changed too: the user's epoch moves as well.
        let (epoch_account, epoch_user) = (a.account, a.joiner.user_id());
        let account = a.account.to_string();
        let inv = a.invitation;
        let inv_id = inv.id.to_string();
        let user = a.joiner.user_id().to_string();
        let at = to_micros(a.audit.at);
        Ok(self.write_for(
            Some(epoch_account),
            Some(epoch_user),
            |conn| -> Result<AcceptOutcome, StoreError> {
                lock_account(conn, &account)?;
                // Every check comes before the first write, so a refusal leaves nothing behind.
                let still_open = invitations::table
                    .filter(invitations::id.eq(&inv_id))
                    .filter(invitations::token_hash.eq(a.token_hash.to_hex()))
                    .filter(invitations::status.eq_any(OPEN))
                    .filter(invitations::expires_at.gt(at))
                    .select(count_star())
                    .first::<i64>(conn)?;
                if still_open == 0 {
                    return Ok(AcceptOutcome::NoLongerPending);
                }
                let membership = memberships::table
                    .filter(memberships::account_id.eq(&account))
                    .filter(memberships::user_id.eq(&user))
                    .select((memberships::role, memberships::status))
                    .first::<(String, String)>(conn)
                    .optional()?;
                if let Some((role, status)) = &membership {
                    if status != MemberStatus::Removed.as_str() {
                        return Ok(AcceptOutcome::AlreadyMember {
                            role: parse_role(role)?,
                        });
                    }
                }
                if member_count(conn, &account)? >= i64::from(a.max_members) {
                    return Ok(AcceptOutcome::LimitReached);
                }

                match a.joiner {
                    Joiner::New {
                        name,
                        password_hash,
                        ..
                    } => {
                        diesel::insert_into(users::table)
                            .values((
                                users::id.eq(&user),
                                users::email.eq(inv.email.as_str()),
                                users::display_name.eq(name.as_deref()),
                                users::password_hash.eq(password_hash),
                                users::password_changed_at.eq(at),
                                users::created_at.eq(at),
                            ))
                            .execute(conn)?;
                    }
                    Joiner::Existing { .. } => {}
                }
                let details = (
                    memberships::role.eq(inv.role.as_str()),
                    memberships::status.eq(MemberStatus::Active.as_str()),
                    memberships::created_at.eq(at),
                    memberships::department.eq(inv.department.as_ref().map(Department::as_str)),
                    memberships::title.eq(inv.title.as_ref().map(Title::as_str)),
                    memberships::permissions.eq(permissions_json(&inv.permissions)),
                    memberships::invited_by.eq(inv.invited_by.to_string()),
                );
                if membership.is_some() {
                    // A former member rejoins: their old row (kept for the audit trail) is reused.
                    diesel::update(
                        memberships::table
                            .filter(memberships::account_id.eq(&account))
                            .filter(memberships::user_id.eq(&user)),
                    )
                    .set((
                        details,
                        memberships::removed_at.eq(None::<i64>),
                        memberships::last_active_at.eq(None::<i64>),
                    ))
                    .execute(conn)?;
                } else {
                    diesel::insert_into(memberships::table)
                        .values((
                            memberships::account_id.eq(&account),
                            memberships::user_id.eq(&user),
                            details,
                        ))
                        .execute(conn)?;
                }
                if let Some((key, key_hash)) = a.key {
                    diesel::insert_into(api_keys::table)
                        .values((
                            api_keys::id.eq(key.id.to_string()),
                            api_keys::account_id.eq(&account),
                            api_keys::user_id.eq(&user),
                            api_keys::name.eq(&key.name),
                            api_keys::display_prefix.eq(&key.prefix),
                            api_keys::secret_hash.eq(key_hash.to_hex()),
                            api_keys::scopes.eq(serde_json::json!(key.scopes).to_string()),
                            api_keys::created_at.eq(at),
                        ))
                        .execute(conn)?;
                }
                diesel::update(invitations::table.find(&inv_id))
                    .set((
                        invitations::status.eq(InvitationStatus::Accepted.as_str()),
                        invitations::closed_at.eq(at),
                    ))
                    .execute(conn)?;
                insert_change(conn, &account, &inv_id, a.audit)?;
                Ok(AcceptOutcome::Accepted)
            },
        )?)
    }

    fn account_display_name(&self, account: AccountId) -> Result<Option<String>, PortError> {
        Ok(self.read(|conn| {
            Ok(accounts::table
                .find(account.to_string())
                .select(accounts::display_name)
                .first::<String>(conn)
                .optional()?)
        })?)
    }
}
