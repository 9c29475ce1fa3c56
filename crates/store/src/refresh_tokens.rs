//! `RefreshTokenStore`: the token grant's refresh tokens and their families (decision 0024).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{AuditId, PortError, RefreshTokenId};
use tenantry_security::{RefreshRecord, RefreshTokenStore, SecretHash, SessionRecord};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{refresh_tokens, sessions};
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn corrupt(what: &str) -> PortError {
    PortError::Corrupt(what.to_owned())
}

fn record(row: Row) -> Result<RefreshRecord, PortError> {
    let (id, family, session, account, user, hash, created, used, revoked) = row;
    let token_id = |s: &str| {
        RefreshTokenId::parse_ulid(s.strip_prefix("rft_").unwrap_or(s))
            .map_err(|_| corrupt("refresh token id"))
    };
    Ok(RefreshRecord {
        id: token_id(&id)?,
        family: token_id(&family)?,
        session_id: session.parse().map_err(|_| corrupt("session id"))?,
        account_id: account.parse().map_err(|_| corrupt("account id"))?,
        user_id: user.parse().map_err(|_| corrupt("user id"))?,
        secret_hash: SecretHash::from_hex(&hash).ok_or_else(|| corrupt("refresh token hash"))?,
        created_at: from_micros(created),
        used: used.is_some(),
        revoked: revoked.is_some(),
    })
}

fn insert(conn: &mut crate::DbConnection, r: &RefreshRecord) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(r.id.to_string()),
            refresh_tokens::family_id.eq(r.family.to_string()),
            refresh_tokens::session_id.eq(r.session_id.to_string()),
            refresh_tokens::account_id.eq(r.account_id.to_string()),
            refresh_tokens::user_id.eq(r.user_id.to_string()),
            refresh_tokens::secret_hash.eq(r.secret_hash.to_hex()),
            refresh_tokens::created_at.eq(to_micros(r.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

impl RefreshTokenStore for Store {
    fn refresh_token(&self, id: RefreshTokenId) -> Result<Option<RefreshRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(refresh_tokens::table
                .filter(refresh_tokens::id.eq(id.to_string()))
                .select((
                    refresh_tokens::id,
                    refresh_tokens::family_id,
                    refresh_tokens::session_id,
                    refresh_tokens::account_id,
                    refresh_tokens::user_id,
                    refresh_tokens::secret_hash,
                    refresh_tokens::created_at,
                    refresh_tokens::used_at,
                    refresh_tokens::revoked_at,
                ))
                .first::<Row>(conn)
                .optional()?)
        })?;
        row.map(record).transpose()
    }

    fn insert_refresh_token(&self, r: &RefreshRecord) -> Result<(), PortError> {
        self.write(|conn| insert(conn, r))?;
        Ok(())
    }

    fn rotate_refresh_token(
        &self,
        used: RefreshTokenId,
        s: &SessionRecord,
        next: &RefreshRecord,
        audit: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let now = to_micros(at);
        let rotated = self.write(|conn| -> Result<bool, StoreError> {
            // Compare-and-set: of two refreshes with one token, exactly one finds it unused.
            let marked = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::id.eq(used.to_string()))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
            if marked != 1 {
                return Ok(false);
            }
            let previous = refresh_tokens::table
                .filter(refresh_tokens::id.eq(used.to_string()))
                .select(refresh_tokens::session_id)
                .first::<String>(conn)?;
            // The session must still be live in this transaction: a sign-out that committed
            // after the service looked must not be undone by the new session.
            let revoked = diesel::update(
                sessions::table
                    .filter(sessions::id.eq(&previous))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(now))
            .execute(conn)?;
            if revoked != 1 {
                return Ok(false);
            }
            let account = s.account_id.to_string();
            let user = s.user_id.to_string();
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(s.id.to_string()),
                    sessions::account_id.eq(&account),
                    sessions::user_id.eq(&user),
                    sessions::secret_hash.eq(s.secret_hash.to_hex()),
                    sessions::created_at.eq(to_micros(s.created_at)),
                    sessions::last_seen_at.eq(to_micros(s.last_seen_at)),
                    sessions::expires_at.eq(to_micros(s.expires_at)),
                    sessions::ip.eq(s.ip.as_deref()),
                    sessions::restriction.eq(s.restriction.as_deref()),
                    sessions::cap_role.eq(s.cap.as_ref().map(|c| c.role.as_str())),
                    sessions::cap_scopes.eq(s
                        .cap
                        .as_ref()
                        .and_then(|c| crate::portal_links::cap_columns(c).1)),
                ))
                .execute(conn)?;
            insert(conn, next)?;
            insert_entry(
                conn,
                NewEntry {
                    id: audit.to_string(),
                    account: &account,
                    actor: &user,
                    action: "session.refreshed",
                    target: Some(&s.id.to_string()),
                    diff: None,
                    ip: s.ip.as_deref(),
                    at,
                },
            )?;
            Ok(true)
        })?;
        Ok(rotated)
    }

    fn revoke_refresh_family(
        &self,
        family: RefreshTokenId,
        audit: AuditId,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let now = to_micros(at);
        let family = family.to_string();
        self.write(|conn| -> Result<(), StoreError> {
            let members = refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(&family))
                .select((
                    refresh_tokens::session_id,
                    refresh_tokens::account_id,
                    refresh_tokens::user_id,
                ))
                .load::<(String, String, String)>(conn)?;
            let sessions_of_family: Vec<&String> = members.iter().map(|m| &m.0).collect();
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq_any(sessions_of_family))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(now))
            .execute(conn)?;
            let revoked = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(&family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(now))
            .execute(conn)?;
            // Audited once, when the family is first revoked.
            if let (Some((_, account, user)), true) = (members.first(), revoked > 0) {
                insert_entry(
                    conn,
                    NewEntry {
                        id: audit.to_string(),
                        account,
                        actor: user,
                        action: "session.refresh_reused",
                        target: Some(&family),
                        diff: None,
                        ip: None,
                        at,
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
