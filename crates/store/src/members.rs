//! `MemberStore`: an account's team members (memberships joined with their users).

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use tenantry_kernel::{AccountId, AuditId, Cursor, Page, PageRequest, PortError, Role, UserId};
use tenantry_security::{ChangeAudit, MemberStatus};
use tenantry_team::{
    Department, Member, MemberChange, MemberFilter, MemberStore, OwnershipTransfer, Permission,
    RoleCounts, Title, TransferOutcome,
};

use crate::audit::insert_change;
use crate::schema::{api_keys, memberships, sessions, users};
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

type MemberRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

macro_rules! member_columns {
    () => {
        (
            memberships::user_id,
            users::email,
            users::display_name,
            memberships::role,
            memberships::permissions,
            memberships::status,
            memberships::created_at,
            memberships::last_active_at,
            memberships::invited_by,
            memberships::department,
            memberships::title,
        )
    };
}

fn corrupt(what: &str, value: &str) -> PortError {
    PortError::Corrupt(format!("membership {what} `{value}`"))
}

/// Custom permissions as stored: a JSON array of their names.
pub(crate) fn permissions_to_json(p: &[Permission]) -> String {
    serde_json::Value::from(p.iter().map(|p| p.as_str()).collect::<Vec<_>>()).to_string()
}

/// `None` when the stored text is not a list of known permission names.
pub(crate) fn permissions_from_json(p: &str) -> Option<Vec<Permission>> {
    serde_json::from_str::<Vec<String>>(p)
        .ok()
        .and_then(|names| names.iter().map(|n| n.parse::<Permission>().ok()).collect())
}

fn member(row: MemberRow) -> Result<Member, PortError> {
    let (user, email, name, role, permissions, status, joined, active, invited_by, dept, title) =
        row;
    let custom_permissions = permissions
        .map(|p| permissions_from_json(&p).ok_or_else(|| corrupt("permissions", &p)))
        .transpose()?;
    Ok(Member {
        user_id: user.parse().map_err(|_| corrupt("user", &user))?,
        email,
        name,
        role: role.parse().map_err(|_| corrupt("role", &role))?,
        custom_permissions,
        status: MemberStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        joined_at: from_micros(joined),
        last_active_at: active.map(from_micros),
        invited_by: invited_by
            .map(|u| u.parse().map_err(|_| corrupt("inviter", &u)))
            .transpose()?,
        department: dept
            .map(|d| Department::parse(&d).map_err(|_| corrupt("department", &d)))
            .transpose()?,
        title: title
            .map(|t| Title::parse(&t).map_err(|_| corrupt("title", &t)))
            .transpose()?,
    })
}

/// The account's active members other than the owner whose last activity (never active: their
/// joining) is before `cutoff` (microseconds): one rule for listing and for the guarded update.
macro_rules! inactive_since {
    ($account:expr, $cutoff:expr) => {
        memberships::table
            .filter(memberships::account_id.eq($account))
            .filter(memberships::status.eq(MemberStatus::Active.as_str()))
            .filter(memberships::role.ne(Role::Owner.as_str()))
            .filter(
                memberships::last_active_at
                    .lt($cutoff)
                    .or(memberships::last_active_at
                        .is_null()
                        .and(memberships::created_at.lt($cutoff))),
            )
    };
}

/// Ends every way the member could still act in the account: keys and sessions.
fn revoke_access(
    conn: &mut DbConnection,
    account: &str,
    user: &str,
    at: i64,
) -> Result<(), StoreError> {
    diesel::update(
        api_keys::table
            .filter(api_keys::account_id.eq(account))
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(at))
    .execute(conn)?;
    diesel::update(
        sessions::table
            .filter(sessions::account_id.eq(account))
            .filter(sessions::user_id.eq(user))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

impl MemberStore for Store {
    fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs {
        Store::write_epochs(self)
    }

    fn list_members(
        &self,
        account: AccountId,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<Page<Member>, PortError> {
        let limit = i64::from(page.limit);
        use diesel::sql_types::{Nullable, Text};
        let account = account.to_string();
        let role = filter.role.map(Role::as_str);
        let status = filter.status.map(MemberStatus::as_str);
        // The first page starts before every member: no stored time is `i64::MIN`.
        let (after_micros, after_id) = page
            .after
            .as_ref()
            .map_or((i64::MIN, ""), |c| (c.created_at_micros, c.id.as_str()));
        let rows = self.read(|conn| {
            // One statement of one shape for every filter and page, so diesel prepares it once
            // per connection and finds it again by its type. A boxed query, assembled per
            // filter, was rendered to SQL and looked up by that text on every call (7 % of the
            // list's time). An absent filter binds NULL and matches every row; the filters
            // were never index columns, so the plan is the same.
            Ok(memberships::table
                .inner_join(users::table)
                .filter(memberships::account_id.eq(&account))
                .filter(memberships::status.ne(MemberStatus::Removed.as_str()))
                .filter(
                    memberships::role
                        .nullable()
                        .eq(role)
                        .or(role.into_sql::<Nullable<Text>>().is_null()),
                )
                .filter(
                    memberships::status
                        .nullable()
                        .eq(status)
                        .or(status.into_sql::<Nullable<Text>>().is_null()),
                )
                // The first condition alone is a range on the (account_id, created_at, user_id)
                // index, so a deep page seeks instead of scanning from the first member; the
                // second settles ties.
                .filter(
                    memberships::created_at.ge(after_micros).and(
                        memberships::created_at
                            .gt(after_micros)
                            .or(memberships::user_id.gt(after_id)),
                    ),
                )
                .select(member_columns!())
                .order((memberships::created_at.asc(), memberships::user_id.asc()))
                .limit(limit + 1)
                .load::<MemberRow>(conn)?)
        })?;
        let has_more = rows.len() > page.limit as usize;
        let items = rows
            .into_iter()
            .take(page.limit as usize)
            .map(member)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if has_more {
            items.last().map(|m| Cursor {
                created_at_micros: to_micros(m.joined_at),
                id: m.user_id.to_string(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn count_members(&self, account: AccountId) -> Result<RoleCounts, PortError> {
        let rows = self.read(|conn| {
            Ok(memberships::table
                .filter(memberships::account_id.eq(account.to_string()))
                .filter(memberships::status.ne(MemberStatus::Removed.as_str()))
                .group_by((memberships::role, memberships::status))
                .select((memberships::role, memberships::status, count_star()))
                .load::<(String, String, i64)>(conn)?)
        })?;
        let mut counts = RoleCounts::default();
        for (role, status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            if status == MemberStatus::Pending.as_str() {
                counts.pending += n;
                continue;
            }
            match role.parse::<Role>().map_err(|_| corrupt("role", &role))? {
                Role::Owner => counts.owner += n,
                Role::Admin => counts.admin += n,
                Role::Developer => counts.developer += n,
                Role::Viewer => counts.viewer += n,
            }
        }
        Ok(counts)
    }

    fn find_member(&self, account: AccountId, user: UserId) -> Result<Option<Member>, PortError> {
        let row = self.read(|conn| {
            Ok(memberships::table
                .inner_join(users::table)
                .filter(memberships::account_id.eq(account.to_string()))
                .filter(memberships::user_id.eq(user.to_string()))
                .filter(memberships::status.ne(MemberStatus::Removed.as_str()))
                .select(member_columns!())
                .first::<MemberRow>(conn)
                .optional()?)
        })?;
        row.map(member).transpose()
    }

    fn update_member(
        &self,
        account: AccountId,
        user: UserId,
        expected_role: Role,
        expected_permissions: Option<&[Permission]>,
        change: &MemberChange,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user) = (account.to_string(), user.to_string());
        let permissions = change
            .permissions
            .as_ref()
            .map(|p| p.as_deref().map(permissions_to_json));
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                // The member row is held (PostgreSQL; SQLite writers are serialized) while their
                // permissions are compared with what the change was authorized against.
                if let DbConnection::Postgresql(pg) = conn {
                    diesel::sql_query(
                    "SELECT 1 FROM memberships WHERE account_id = $1 AND user_id = $2 FOR UPDATE",
                )
                .bind::<diesel::sql_types::Text, _>(&account)
                .bind::<diesel::sql_types::Text, _>(&user)
                .execute(pg)?;
                }
                let stored: Option<Option<String>> = memberships::table
                    .filter(memberships::account_id.eq(&account))
                    .filter(memberships::user_id.eq(&user))
                    .select(memberships::permissions)
                    .first(conn)
                    .optional()?;
                let stored = stored
                    .flatten()
                    .map(|p| {
                        permissions_from_json(&p)
                            .ok_or_else(|| StoreError::Corrupt(format!("member permissions {p}")))
                    })
                    .transpose()?;
                if stored.as_deref() != expected_permissions {
                    return Ok(false);
                }
                let target = memberships::table
                    .filter(memberships::account_id.eq(&account))
                    .filter(memberships::user_id.eq(&user))
                    .filter(memberships::role.eq(expected_role.as_str()))
                    .filter(memberships::status.ne(MemberStatus::Removed.as_str()));
                // One statement per field keeps the query static for both backends; they all run
                // in this transaction, and the first one proves the member is still as checked.
                let found = diesel::update(target)
                    .set(memberships::role.eq(change.role.unwrap_or(expected_role).as_str()))
                    .execute(conn)?;
                if found == 0 {
                    return Ok(false);
                }
                let this = memberships::table
                    .filter(memberships::account_id.eq(&account))
                    .filter(memberships::user_id.eq(&user));
                if let Some(p) = &permissions {
                    diesel::update(this)
                        .set(memberships::permissions.eq(p.as_deref()))
                        .execute(conn)?;
                }
                if let Some(d) = &change.department {
                    diesel::update(this)
                        .set(memberships::department.eq(d.as_ref().map(|d| d.as_str())))
                        .execute(conn)?;
                }
                if let Some(t) = &change.title {
                    diesel::update(this)
                        .set(memberships::title.eq(t.as_ref().map(|t| t.as_str())))
                        .execute(conn)?;
                }
                if let Some(status) = change.status {
                    diesel::update(this)
                        .set(memberships::status.eq(status.as_str()))
                        .execute(conn)?;
                    if status != MemberStatus::Active {
                        revoke_access(conn, &account, &user, to_micros(audit.at))?;
                    }
                }
                insert_change(conn, &account, &user, audit)?;
                Ok(true)
            })?,
        )
    }

    fn inactive_members(
        &self,
        account: AccountId,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<UserId>, PortError> {
        let account = account.to_string();
        let cutoff = to_micros(cutoff);
        let rows = self.read(|conn| {
            Ok(inactive_since!(&account, cutoff)
                .select(memberships::user_id)
                .load::<String>(conn)?)
        })?;
        rows.iter()
            .map(|u| {
                u.parse()
                    .map_err(|_| PortError::Corrupt(format!("user id {u}")))
            })
            .collect()
    }

    fn suspend_inactive(
        &self,
        account: AccountId,
        user: UserId,
        cutoff: DateTime<Utc>,
        audit_id: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user) = (account.to_string(), user.to_string());
        let (cutoff, at_micros) = (to_micros(cutoff), to_micros(at));
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                // Re-checked in the transaction: a use since the list was read keeps the member.
                let changed = diesel::update(
                    inactive_since!(&account, cutoff).filter(memberships::user_id.eq(&user)),
                )
                .set(memberships::status.eq(MemberStatus::Suspended.as_str()))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(false);
                }
                revoke_access(conn, &account, &user, at_micros)?;
                crate::audit::insert_entry(
                    conn,
                    crate::audit::NewEntry {
                        id: audit_id.to_string(),
                        account: &account,
                        actor: "system",
                        action: "member.suspended_inactive",
                        target: Some(&user),
                        diff: None,
                        ip: None,
                        at,
                    },
                )?;
                Ok(true)
            })?,
        )
    }

    fn transfer_ownership(
        &self,
        account: AccountId,
        transfer: &OwnershipTransfer<'_>,
    ) -> Result<TransferOutcome, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        let (from, to) = (transfer.from.to_string(), transfer.to.to_string());
        Ok(self.write_account(
            epoch_account,
            |conn| -> Result<TransferOutcome, StoreError> {
                // PostgreSQL: transfers of one account queue here, so the second reads the first's
                // result. SQLite runs one write transaction at a time anyway.
                crate::invitations::lock_account(conn, &account)?;
                // Both membership rows, in user order: every writer that changes several
                // members' rows takes them in (account, user) order (`record_key_uses` too), so
                // no two of them wait on each other in a cycle (PostgreSQL; SQLite runs one
                // writer at a time).
                if let DbConnection::Postgresql(pg) = conn {
                    memberships::table
                        .filter(memberships::account_id.eq(&account))
                        .filter(memberships::user_id.eq_any([&from, &to]))
                        .order(memberships::user_id.asc())
                        .select(memberships::user_id)
                        .for_update()
                        .load::<String>(pg)?;
                }
                let active_in = |user: &str, role: Role| {
                    memberships::table
                        .filter(memberships::account_id.eq(account.clone()))
                        .filter(memberships::user_id.eq(user.to_owned()))
                        .filter(memberships::role.eq(role.as_str()))
                        .filter(memberships::status.eq(MemberStatus::Active.as_str()))
                };
                let still_owner: i64 = active_in(&from, Role::Owner)
                    .select(count_star())
                    .first(conn)?;
                if still_owner == 0 {
                    return Ok(TransferOutcome::NotOwner);
                }
                let still_admin: i64 = active_in(&to, Role::Admin)
                    .select(count_star())
                    .first(conn)?;
                if still_admin == 0 {
                    return Ok(TransferOutcome::TargetChanged);
                }
                // Demote first: the unique index on the owner row (one per account) holds after
                // every statement, not only at commit.
                diesel::update(active_in(&from, Role::Owner))
                    .set(memberships::role.eq(Role::Admin.as_str()))
                    .execute(conn)?;
                // The new owner holds the owner's whole power: custom permissions narrowed an
                // admin, and an owner nobody may change must not keep them (decision 0019).
                diesel::update(active_in(&to, Role::Admin))
                    .set((
                        memberships::role.eq(Role::Owner.as_str()),
                        memberships::permissions.eq(None::<String>),
                    ))
                    .execute(conn)?;
                for mail in transfer.mails {
                    crate::outbox::insert_outbox(conn, mail)?;
                }
                insert_change(conn, &account, &to, transfer.audit)?;
                Ok(TransferOutcome::Transferred)
            },
        )?)
    }

    fn remove_member(
        &self,
        account: AccountId,
        user: UserId,
        expected_role: Role,
        audit: &ChangeAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user) = (account.to_string(), user.to_string());
        let at = to_micros(audit.at);
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let found = diesel::update(
                    memberships::table
                        .filter(memberships::account_id.eq(&account))
                        .filter(memberships::user_id.eq(&user))
                        .filter(memberships::role.eq(expected_role.as_str()))
                        .filter(memberships::status.ne(MemberStatus::Removed.as_str())),
                )
                .set((
                    memberships::status.eq(MemberStatus::Removed.as_str()),
                    memberships::removed_at.eq(at),
                ))
                .execute(conn)?;
                if found == 0 {
                    return Ok(false);
                }
                revoke_access(conn, &account, &user, at)?;
                insert_change(conn, &account, &user, audit)?;
                Ok(true)
            })?,
        )
    }
}
