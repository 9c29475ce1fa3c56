//! `OperatorKeyStore` (the command line's `tenantry operators`) and the named keys' side of
//! `CredentialStore` (the request path).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{OperatorKeyId, PortError};
use tenantry_security::{OperatorKeyAudit, OperatorKeyRecord, OperatorKeyStore, SecretHash};

use crate::audit::insert_instance_entry;
use crate::schema::operator_keys;
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};

type Row = (String, String, String, i64, Option<i64>, Option<i64>);

fn record(row: Row) -> Result<OperatorKeyRecord, PortError> {
    let (id, name, hash, created_at, last_used_at, revoked_at) = row;
    Ok(OperatorKeyRecord {
        id: id
            .parse()
            .map_err(|_| PortError::Corrupt(format!("operator key id `{id}`")))?,
        name,
        secret_hash: SecretHash::from_hex(&hash)
            .ok_or_else(|| PortError::Corrupt(format!("operator key hash of `{id}`")))?,
        created_at: from_micros(created_at),
        last_used_at: last_used_at.map(from_micros),
        revoked_at: revoked_at.map(from_micros),
    })
}

const COLUMNS: (
    operator_keys::id,
    operator_keys::name,
    operator_keys::secret_hash,
    operator_keys::created_at,
    operator_keys::last_used_at,
    operator_keys::revoked_at,
) = (
    operator_keys::id,
    operator_keys::name,
    operator_keys::secret_hash,
    operator_keys::created_at,
    operator_keys::last_used_at,
    operator_keys::revoked_at,
);

impl Store {
    pub(crate) fn named_operator_key_row(
        &self,
        id: OperatorKeyId,
    ) -> Result<Option<OperatorKeyRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(operator_keys::table
                .filter(operator_keys::id.eq(id.to_string()))
                .select(COLUMNS)
                .first::<Row>(conn)
                .optional()?)
        })?;
        row.map(record).transpose()
    }

    pub(crate) fn record_operator_key_use_at(
        &self,
        id: OperatorKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let at = to_micros(at);
        // Not a cached value: the write epoch stays (see `CredentialStore::record_key_uses`).
        self.write_uncached(|conn| {
            diesel::update(
                operator_keys::table
                    .filter(operator_keys::id.eq(id.to_string()))
                    .filter(
                        operator_keys::last_used_at
                            .is_null()
                            .or(operator_keys::last_used_at.lt(at)),
                    ),
            )
            .set(operator_keys::last_used_at.eq(at))
            .execute(conn)?;
            Ok(())
        })?;
        Ok(())
    }
}

impl OperatorKeyStore for Store {
    fn insert_operator_key(
        &self,
        key: &OperatorKeyRecord,
        audit: &OperatorKeyAudit,
    ) -> Result<(), PortError> {
        let id = key.id.to_string();
        self.write(|conn| -> Result<(), StoreError> {
            diesel::insert_into(operator_keys::table)
                .values((
                    operator_keys::id.eq(&id),
                    operator_keys::name.eq(&key.name),
                    operator_keys::secret_hash.eq(key.secret_hash.to_hex()),
                    operator_keys::created_at.eq(to_micros(key.created_at)),
                ))
                .execute(conn)?;
            insert_instance_entry(conn, audit, &id)
        })?;
        Ok(())
    }

    fn operator_keys(&self) -> Result<Vec<OperatorKeyRecord>, PortError> {
        let rows = self.read(|conn| {
            Ok(operator_keys::table
                .order((operator_keys::created_at.asc(), operator_keys::id.asc()))
                .select(COLUMNS)
                .load::<Row>(conn)?)
        })?;
        rows.into_iter().map(record).collect()
    }

    fn replace_operator_key_hash(
        &self,
        id: OperatorKeyId,
        hash: SecretHash,
        audit: &OperatorKeyAudit,
    ) -> Result<bool, PortError> {
        let id = id.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            let changed = diesel::update(
                operator_keys::table
                    .filter(operator_keys::id.eq(&id))
                    .filter(operator_keys::revoked_at.is_null()),
            )
            .set(operator_keys::secret_hash.eq(hash.to_hex()))
            .execute(conn)?;
            if changed == 0 {
                return Ok(false);
            }
            insert_instance_entry(conn, audit, &id)?;
            Ok(true)
        })?)
    }

    fn revoke_operator_key(
        &self,
        id: OperatorKeyId,
        audit: &OperatorKeyAudit,
    ) -> Result<bool, PortError> {
        let id = id.to_string();
        Ok(self.write(|conn| -> Result<bool, StoreError> {
            let changed = diesel::update(
                operator_keys::table
                    .filter(operator_keys::id.eq(&id))
                    .filter(operator_keys::revoked_at.is_null()),
            )
            .set(operator_keys::revoked_at.eq(to_micros(audit.at)))
            .execute(conn)?;
            if changed == 0 {
                return Ok(false);
            }
            insert_instance_entry(conn, audit, &id)?;
            Ok(true)
        })?)
    }
}
