//! `CredentialStore`: API keys joined with their owner's membership, and the operator key.

use diesel::prelude::*;
use tenantry_kernel::{ApiKeyId, PortError, Role};
use tenantry_security::{CredentialStore, KeyRecord, KeyUse, MemberStatus, SecretHash};

use crate::schema::{api_keys, instance_meta, memberships};
use crate::time::from_micros;
use crate::{Store, StoreError};

const OPERATOR_KEY_HASH: &str = "operator_key_sha256";

#[derive(Queryable)]
struct KeyRow {
    id: String,
    account_id: String,
    user_id: String,
    secret_hash: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    role: String,
    status: String,
    last_used_at: Option<i64>,
    scopes: String,
    permissions: Option<String>,
}

fn corrupt(what: &str, value: &str) -> PortError {
    PortError::Corrupt(format!("{what}: `{value}`"))
}

impl TryFrom<KeyRow> for KeyRecord {
    type Error = PortError;

    fn try_from(row: KeyRow) -> Result<Self, PortError> {
        Ok(KeyRecord {
            id: row.id.parse().map_err(|_| corrupt("api key id", &row.id))?,
            account_id: row
                .account_id
                .parse()
                .map_err(|_| corrupt("account id", &row.account_id))?,
            user_id: row
                .user_id
                .parse()
                .map_err(|_| corrupt("user id", &row.user_id))?,
            secret_hash: SecretHash::from_hex(&row.secret_hash)
                .ok_or_else(|| corrupt("api key hash", "…"))?,
            expires_at: row.expires_at.map(from_micros),
            revoked: row.revoked_at.is_some(),
            role: row
                .role
                .parse::<Role>()
                .map_err(|_| corrupt("role", &row.role))?,
            member_status: MemberStatus::parse(&row.status)
                .ok_or_else(|| corrupt("member status", &row.status))?,
            last_used_at: row.last_used_at.map(from_micros),
            scopes: serde_json::from_str(&row.scopes)
                .map_err(|_| corrupt("api key scopes", &row.scopes))?,
            permissions: row
                .permissions
                .map(|p| {
                    crate::members::permissions_from_json(&p)
                        .ok_or_else(|| corrupt("member permissions", &p))
                })
                .transpose()?,
        })
    }
}

impl CredentialStore for Store {
    fn api_key(&self, id: ApiKeyId) -> Result<Option<KeyRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(api_keys::table
                .inner_join(
                    memberships::table.on(memberships::account_id
                        .eq(api_keys::account_id)
                        .and(memberships::user_id.eq(api_keys::user_id))),
                )
                .filter(api_keys::id.eq(id.to_string()))
                .select((
                    api_keys::id,
                    api_keys::account_id,
                    api_keys::user_id,
                    api_keys::secret_hash,
                    api_keys::expires_at,
                    api_keys::revoked_at,
                    memberships::role,
                    memberships::status,
                    api_keys::last_used_at,
                    api_keys::scopes,
                    memberships::permissions,
                ))
                .first::<KeyRow>(conn)
                .optional()?)
        })?;
        row.map(KeyRecord::try_from).transpose()
    }

    fn record_key_uses(&self, uses: &[KeyUse]) -> Result<(), PortError> {
        if uses.is_empty() {
            return Ok(());
        }
        // Not a cached value (see the port): the write epoch stays, so recording activity does
        // not drop every cached key and settings snapshot of this node.
        // Rows in (account, user, key) order, the order every writer of several members' rows
        // takes them in, so this batch and, say, an ownership transfer cannot deadlock.
        let mut ordered: Vec<&KeyUse> = uses.iter().collect();
        ordered
            .sort_by_cached_key(|u| (u.account.to_string(), u.user.to_string(), u.key.to_string()));
        self.write_uncached(|conn| {
            for used in &ordered {
                let at = crate::time::to_micros(used.at);
                // Never back in time: batches from two nodes can land out of order.
                diesel::update(
                    api_keys::table
                        .filter(api_keys::id.eq(used.key.to_string()))
                        .filter(
                            api_keys::last_used_at
                                .is_null()
                                .or(api_keys::last_used_at.lt(at)),
                        ),
                )
                .set(api_keys::last_used_at.eq(at))
                .execute(conn)?;
                diesel::update(
                    memberships::table
                        .filter(memberships::account_id.eq(used.account.to_string()))
                        .filter(memberships::user_id.eq(used.user.to_string()))
                        .filter(
                            memberships::last_active_at
                                .is_null()
                                .or(memberships::last_active_at.lt(at)),
                        ),
                )
                .set(memberships::last_active_at.eq(at))
                .execute(conn)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn write_epochs(&self) -> &tenantry_kernel::WriteEpochs {
        Store::write_epochs(self)
    }

    fn operator_key_hash(&self) -> Result<Option<SecretHash>, PortError> {
        let hex = self.read(|conn| {
            Ok(instance_meta::table
                .filter(instance_meta::meta_key.eq(OPERATOR_KEY_HASH))
                .select(instance_meta::value)
                .first::<String>(conn)
                .optional()?)
        })?;
        hex.map(|h| SecretHash::from_hex(&h).ok_or_else(|| corrupt("operator key hash", "…")))
            .transpose()
    }

    fn named_operator_key(
        &self,
        id: tenantry_kernel::OperatorKeyId,
    ) -> Result<Option<tenantry_security::OperatorKeyRecord>, PortError> {
        self.named_operator_key_row(id)
    }

    fn record_operator_key_use(
        &self,
        id: tenantry_kernel::OperatorKeyId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), PortError> {
        self.record_operator_key_use_at(id, at)
    }

    fn store_operator_key_hash(&self, hash: SecretHash) -> Result<bool, PortError> {
        let stored = self.write(|conn| -> Result<_, StoreError> {
            let exists = instance_meta::table
                .filter(instance_meta::meta_key.eq(OPERATOR_KEY_HASH))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            if exists {
                return Ok(false);
            }
            diesel::insert_into(instance_meta::table)
                .values((
                    instance_meta::meta_key.eq(OPERATOR_KEY_HASH),
                    instance_meta::value.eq(hash.to_hex()),
                ))
                .execute(conn)?;
            Ok(true)
        });
        match stored {
            Ok(v) => Ok(v),
            // Another instance inserted it between our check and insert (PostgreSQL): theirs wins.
            Err(e @ StoreError::Query(_)) => match PortError::from(e) {
                PortError::Conflict(_) => Ok(false),
                other => Err(other),
            },
            Err(e) => Err(e.into()),
        }
    }
}
