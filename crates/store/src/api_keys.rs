//! `ApiKeyStore`: a member's own keys.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{AccountId, ApiKeyId, PortError, UserId};
use tenantry_security::{ApiKeyInfo, ApiKeyStore, KeyAudit, SecretHash};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::api_keys;
use crate::time::{from_micros, to_micros};
use crate::{DbConnection, Store, StoreError};

type KeyRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn live_keys(
    conn: &mut DbConnection,
    account: &str,
    user: &str,
    now: i64,
) -> Result<Vec<KeyRow>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::account_id.eq(account))
        .filter(api_keys::user_id.eq(user))
        .filter(api_keys::revoked_at.is_null())
        .filter(
            api_keys::expires_at
                .is_null()
                .or(api_keys::expires_at.gt(now)),
        )
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::display_prefix,
            api_keys::scopes,
            api_keys::created_at,
            api_keys::last_used_at,
            api_keys::expires_at,
        ))
        .load::<KeyRow>(conn)?)
}

fn audit(
    conn: &mut DbConnection,
    account: &str,
    key: &str,
    a: &KeyAudit,
) -> Result<(), StoreError> {
    insert_entry(
        conn,
        NewEntry {
            id: a.id.to_string(),
            account,
            actor: &a.actor,
            action: a.action,
            target: Some(key),
            diff: None,
            ip: a.ip.as_deref(),
            at: a.at,
        },
    )
}

impl ApiKeyStore for Store {
    fn list_keys(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApiKeyInfo>, PortError> {
        let rows = self.read(|conn| {
            live_keys(
                conn,
                &account.to_string(),
                &user.to_string(),
                to_micros(now),
            )
        })?;
        rows.into_iter()
            .map(
                |(id, name, prefix, scopes, created_at, last_used_at, expires_at)| {
                    Ok(ApiKeyInfo {
                        id: id
                            .parse()
                            .map_err(|_| PortError::Corrupt(format!("api key id `{id}`")))?,
                        name,
                        prefix,
                        scopes: serde_json::from_str(&scopes)
                            .map_err(|e| PortError::Corrupt(format!("api key scopes: {e}")))?,
                        created_at: from_micros(created_at),
                        last_used_at: last_used_at.map(from_micros),
                        expires_at: expires_at.map(from_micros),
                    })
                },
            )
            .collect()
    }

    fn insert_key(
        &self,
        account: AccountId,
        user: UserId,
        key: &ApiKeyInfo,
        hash: &SecretHash,
        max: u32,
        a: &KeyAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user) = (account.to_string(), user.to_string());
        let now = to_micros(a.at);
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                // Counted under the write lock, so concurrent creations cannot both pass the limit
                // (SQLite: BEGIN IMMEDIATE; PostgreSQL: the user row is locked first).
                if let DbConnection::Postgresql(pg) = conn {
                    diesel::sql_query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                        .bind::<diesel::sql_types::Text, _>(&user)
                        .execute(pg)?;
                }
                if live_keys(conn, &account, &user, now)?.len() >= max as usize {
                    return Ok(false);
                }
                let id = key.id.to_string();
                diesel::insert_into(api_keys::table)
                    .values((
                        api_keys::id.eq(&id),
                        api_keys::account_id.eq(&account),
                        api_keys::user_id.eq(&user),
                        api_keys::name.eq(&key.name),
                        api_keys::display_prefix.eq(&key.prefix),
                        api_keys::secret_hash.eq(hash.to_hex()),
                        api_keys::scopes.eq(serde_json::json!(key.scopes).to_string()),
                        api_keys::created_at.eq(to_micros(key.created_at)),
                        api_keys::expires_at.eq(key.expires_at.map(to_micros)),
                    ))
                    .execute(conn)?;
                audit(conn, &account, &id, a)?;
                Ok(true)
            })?,
        )
    }

    fn revoke_key(
        &self,
        account: AccountId,
        user: UserId,
        id: ApiKeyId,
        a: &KeyAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user, id) = (account.to_string(), user.to_string(), id.to_string());
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::update(
                    api_keys::table
                        .filter(api_keys::id.eq(&id))
                        .filter(api_keys::account_id.eq(&account))
                        .filter(api_keys::user_id.eq(&user))
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(to_micros(a.at)))
                .execute(conn)?;
                if n == 1 {
                    audit(conn, &account, &id, a)?;
                }
                Ok(n == 1)
            })?,
        )
    }

    fn rotate_key(
        &self,
        account: AccountId,
        user: UserId,
        id: ApiKeyId,
        hash: &SecretHash,
        prefix: &str,
        a: &KeyAudit,
    ) -> Result<bool, PortError> {
        let epoch_account = account;
        let (account, user, id) = (account.to_string(), user.to_string(), id.to_string());
        Ok(
            self.write_account(epoch_account, |conn| -> Result<bool, StoreError> {
                let n = diesel::update(
                    api_keys::table
                        .filter(api_keys::id.eq(&id))
                        .filter(api_keys::account_id.eq(&account))
                        .filter(api_keys::user_id.eq(&user))
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set((
                    api_keys::secret_hash.eq(hash.to_hex()),
                    api_keys::display_prefix.eq(prefix),
                ))
                .execute(conn)?;
                if n == 1 {
                    audit(conn, &account, &id, a)?;
                }
                Ok(n == 1)
            })?,
        )
    }
}
