//! `SessionStore`: sign-in sessions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{AccountId, AuditId, PortError, Role, SessionId, UserId};
use tenantry_security::{LoginCandidate, MemberStatus, SecretHash, SessionRecord, SessionStore};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{accounts, memberships, sessions, users};
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};

type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn corrupt(what: &str) -> PortError {
    PortError::Corrupt(what.to_owned())
}

fn record(row: Row) -> Result<SessionRecord, PortError> {
    let (
        id,
        account,
        user,
        hash,
        created,
        seen,
        expires,
        revoked,
        ip,
        restriction,
        role,
        status,
        permissions,
        cap_role,
        cap_scopes,
    ) = row;
    Ok(SessionRecord {
        id: id.parse().map_err(|_| corrupt("session id"))?,
        account_id: account.parse().map_err(|_| corrupt("account id"))?,
        user_id: user.parse().map_err(|_| corrupt("user id"))?,
        secret_hash: SecretHash::from_hex(&hash).ok_or_else(|| corrupt("session hash"))?,
        created_at: from_micros(created),
        last_seen_at: from_micros(seen),
        expires_at: from_micros(expires),
        revoked: revoked.is_some(),
        ip,
        restriction,
        role: role.parse::<Role>().map_err(|_| corrupt("role"))?,
        member_status: MemberStatus::parse(&status).ok_or_else(|| corrupt("member status"))?,
        permissions: permissions
            .map(|p| {
                crate::members::permissions_from_json(&p)
                    .ok_or_else(|| corrupt("member permissions"))
            })
            .transpose()?,
        cap: cap_role
            .map(|role| crate::portal_links::cap_from_columns(&role, cap_scopes.as_deref()))
            .transpose()?,
    })
}

macro_rules! session_query {
    () => {
        sessions::table
            .inner_join(
                memberships::table.on(memberships::account_id
                    .eq(sessions::account_id)
                    .and(memberships::user_id.eq(sessions::user_id))),
            )
            .select((
                sessions::id,
                sessions::account_id,
                sessions::user_id,
                sessions::secret_hash,
                sessions::created_at,
                sessions::last_seen_at,
                sessions::expires_at,
                sessions::revoked_at,
                sessions::ip,
                sessions::restriction,
                memberships::role,
                memberships::status,
                memberships::permissions,
                sessions::cap_role,
                sessions::cap_scopes,
            ))
    };
}

/// Inserts the session `r` inside the caller's transaction, first signing out the user's oldest
/// live sessions in the account so that at most `cap` remain (the documented policy).
pub(crate) fn insert_session(
    conn: &mut crate::DbConnection,
    r: &SessionRecord,
    cap: u32,
) -> Result<(), StoreError> {
    let (account, user) = (r.account_id.to_string(), r.user_id.to_string());
    let now = to_micros(r.created_at);
    let live = sessions::table
        .filter(sessions::account_id.eq(&account))
        .filter(sessions::user_id.eq(&user))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::created_at.asc(), sessions::id.asc()))
        .select(sessions::id)
        .load::<String>(conn)?;
    let excess = (live.len() + 1).saturating_sub(cap as usize);
    for id in live.iter().take(excess) {
        diesel::update(sessions::table.filter(sessions::id.eq(id)))
            .set(sessions::revoked_at.eq(now))
            .execute(conn)?;
    }
    let (cap_role, cap_scopes) = match &r.cap {
        Some(c) => {
            let (role, scopes) = crate::portal_links::cap_columns(c);
            (Some(role), scopes)
        }
        None => (None, None),
    };
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(r.id.to_string()),
            sessions::account_id.eq(&account),
            sessions::user_id.eq(&user),
            sessions::secret_hash.eq(r.secret_hash.to_hex()),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(to_micros(r.expires_at)),
            sessions::ip.eq(r.ip.as_deref()),
            sessions::restriction.eq(r.restriction.as_deref()),
            sessions::cap_role.eq(cap_role),
            sessions::cap_scopes.eq(cap_scopes),
        ))
        .execute(conn)?;
    Ok(())
}

impl SessionStore for Store {
    fn login_candidate(&self, email: &str) -> Result<Option<LoginCandidate>, PortError> {
        let (user, members) = self.read(|conn| {
            let user = users::table
                .filter(users::email.eq(email))
                .select((users::id, users::password_hash, users::password_changed_at))
                .first::<(String, Option<String>, Option<i64>)>(conn)
                .optional()?;
            let members = match &user {
                Some((id, _, _)) => memberships::table
                    .inner_join(accounts::table)
                    .filter(memberships::user_id.eq(id))
                    .filter(memberships::status.eq("active"))
                    // Joined first, first: the token grant's default account.
                    .order((memberships::created_at.asc(), accounts::name.asc()))
                    .select((accounts::id, accounts::name, memberships::role))
                    .load::<(String, String, String)>(conn)?,
                None => Vec::new(),
            };
            Ok((user, members))
        })?;
        let Some((id, password_hash, changed_at)) = user else {
            return Ok(None);
        };
        let memberships = members
            .into_iter()
            .map(|(account, name, role)| {
                Ok((
                    account
                        .parse::<AccountId>()
                        .map_err(|_| corrupt("account id"))?,
                    name,
                    role.parse::<Role>().map_err(|_| corrupt("role"))?,
                ))
            })
            .collect::<Result<_, PortError>>()?;
        Ok(Some(LoginCandidate {
            user_id: id.parse().map_err(|_| corrupt("user id"))?,
            password_hash,
            password_changed_at: changed_at.map(from_micros),
            memberships,
        }))
    }

    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(session_query!()
                .filter(sessions::id.eq(id.to_string()))
                .first::<Row>(conn)
                .optional()?)
        })?;
        row.map(record).transpose()
    }

    fn create_session(&self, r: &SessionRecord, cap: u32, audit: AuditId) -> Result<(), PortError> {
        let epoch_account = r.account_id;
        let (account, user) = (r.account_id.to_string(), r.user_id.to_string());
        self.write_account(epoch_account, |conn| -> Result<(), StoreError> {
            insert_session(conn, r, cap)?;
            insert_entry(
                conn,
                NewEntry {
                    id: audit.to_string(),
                    account: &account,
                    actor: &user,
                    action: "user.signed_in",
                    target: Some(&r.id.to_string()),
                    diff: None,
                    ip: r.ip.as_deref(),
                    at: r.created_at,
                },
            )?;
            Ok(())
        })?;
        Ok(())
    }

    fn record_failed_login(
        &self,
        email: &str,
        ip: Option<&str>,
        at: DateTime<Utc>,
        new_id: &dyn Fn() -> AuditId,
    ) -> Result<(), PortError> {
        self.write(|conn| -> Result<(), StoreError> {
            let accounts_of_user = users::table
                .inner_join(memberships::table)
                .filter(users::email.eq(email))
                .select(memberships::account_id)
                .load::<String>(conn)?;
            for account in accounts_of_user {
                insert_entry(
                    conn,
                    NewEntry {
                        id: new_id().to_string(),
                        account: &account,
                        actor: "anonymous",
                        action: "login.failed",
                        target: Some(email),
                        diff: None,
                        ip,
                        at,
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), PortError> {
        // No read cache holds a session's last-seen time (sessions are read fresh on every
        // request), so recording it leaves the write epoch alone: once a minute per live session,
        // it would otherwise drop every cached key and settings snapshot of the process.
        self.write_uncached(|conn| -> Result<usize, StoreError> {
            Ok(
                diesel::update(sessions::table.filter(sessions::id.eq(id.to_string())))
                    .set(sessions::last_seen_at.eq(to_micros(at)))
                    .execute(conn)?,
            )
        })?;
        Ok(())
    }

    fn restrict_session(&self, id: SessionId, restriction: &str) -> Result<(), PortError> {
        // Like the last-seen time, a session's row is in no read cache (sessions are read fresh
        // on every request), so this leaves the write epoch alone.
        self.write_uncached(|conn| -> Result<usize, StoreError> {
            Ok(diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id.to_string()))
                    .filter(sessions::restriction.is_null()),
            )
            .set(sessions::restriction.eq(restriction))
            .execute(conn)?)
        })?;
        Ok(())
    }

    fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let n = self.write(|conn| -> Result<usize, StoreError> {
            Ok(diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id.to_string()))
                    .filter(sessions::user_id.eq(user.to_string()))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(to_micros(at)))
            .execute(conn)?)
        })?;
        Ok(n == 1)
    }

    fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, PortError> {
        let rows = self.read(|conn| {
            Ok(session_query!()
                .filter(sessions::account_id.eq(account.to_string()))
                .filter(sessions::user_id.eq(user.to_string()))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(to_micros(now)))
                .order(sessions::created_at.desc())
                .load::<Row>(conn)?)
        })?;
        rows.into_iter().map(record).collect()
    }
}
