//! `AuditLogReader`: the account's audit entries, newest first.

use diesel::prelude::*;
use tenantry_kernel::{AccountId, Cursor, Page, PageRequest, PortError};
use tenantry_security::{
    AuditEntry, AuditFilter, AuditLogReader, AuditPurgeStore, DenialAudit, IpDenial,
};

use crate::schema::audit_log;
use crate::time::{from_micros, to_micros};
use crate::Store;

/// One audit entry to write inside the caller's transaction (the change and its record commit
/// or roll back together). Every writer in this crate goes through here, so the row's shape
/// lives in one place.
pub(crate) struct NewEntry<'a> {
    pub id: String,
    pub account: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub diff: Option<String>,
    pub ip: Option<&'a str>,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub(crate) fn insert_entry(
    conn: &mut crate::DbConnection,
    e: NewEntry<'_>,
) -> Result<(), crate::StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(&e.id),
            audit_log::account_id.eq(e.account),
            audit_log::actor.eq(e.actor),
            audit_log::action.eq(e.action),
            audit_log::target.eq(e.target),
            audit_log::diff.eq(e.diff.as_deref()),
            audit_log::ip.eq(e.ip),
            audit_log::created_at.eq(to_micros(e.at)),
        ))
        .execute(conn)?;
    emit_event(conn, &e)
}

/// Writes an audit entry of the instance itself (the operator's keys), which belongs to no
/// account: `account_id` is NULL, so no account's members read it, and it emits no account
/// event. `tenantry audit tail --operators` reads these.
pub(crate) fn insert_instance_entry(
    conn: &mut crate::DbConnection,
    e: &tenantry_security::OperatorKeyAudit,
    target: &str,
) -> Result<(), crate::StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(e.id.to_string()),
            audit_log::account_id.eq(None::<String>),
            audit_log::actor.eq(&e.actor),
            audit_log::action.eq(e.action),
            audit_log::target.eq(Some(target)),
            audit_log::diff.eq(Some(e.details.to_string())),
            audit_log::ip.eq(Some("cli")),
            audit_log::created_at.eq(to_micros(e.at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes a domain change's audit entry (team, notification changes) inside the caller's
/// transaction.
pub(crate) fn insert_change(
    conn: &mut crate::DbConnection,
    account: &str,
    target: &str,
    a: &tenantry_security::ChangeAudit,
) -> Result<(), crate::StoreError> {
    insert_entry(
        conn,
        NewEntry {
            id: a.id.to_string(),
            account,
            actor: &a.actor,
            action: a.action,
            target: Some(target),
            diff: Some(a.details.to_string()),
            ip: a.ip.as_deref(),
            at: a.at,
        },
    )
}

/// Writes one change of a user's own identity (password, address) into the audit log of every
/// account the user is a current member of: each account's admins see what happened to their
/// member. `audit` builds each entry (a fresh id per account).
pub(crate) fn insert_change_in_each_account(
    conn: &mut crate::DbConnection,
    user: &str,
    audit: &dyn Fn() -> tenantry_security::ChangeAudit,
) -> Result<(), crate::StoreError> {
    use crate::schema::memberships;
    use diesel::prelude::*;
    let accounts = memberships::table
        .filter(memberships::user_id.eq(user))
        .filter(memberships::status.ne(tenantry_security::MemberStatus::Removed.as_str()))
        .select(memberships::account_id)
        .load::<String>(conn)?;
    for account in &accounts {
        insert_change(conn, account, user, &audit())?;
    }
    Ok(())
}

/// A stored user id, parsed (a store row that is no id is corruption, not a client error).
pub(crate) fn stored_user_id(raw: &str) -> Result<tenantry_kernel::UserId, crate::StoreError> {
    raw.parse()
        .map_err(|_| crate::StoreError::Corrupt(format!("user id `{raw}`")))
}

/// The notification event an audited change emits, written into the outbox in the same
/// transaction (so an event exists exactly when its change committed). Its id reuses the
/// audit entry's ULID, tying the two together.
fn emit_event(conn: &mut crate::DbConnection, e: &NewEntry<'_>) -> Result<(), crate::StoreError> {
    use tenantry_notifications::{default_severity, event_for_audit_action, Event, OutboxKind};
    let Some(kind) = event_for_audit_action(e.action) else {
        return Ok(());
    };
    let ulid = e.id.strip_prefix("aud_").unwrap_or(&e.id);
    let details = e
        .diff
        .as_deref()
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
    let event = Event {
        id: format!("evt_{ulid}"),
        event_type: kind.as_str().to_owned(),
        account_id: e.account.to_owned(),
        occurred_at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        data: {
            let mut data = serde_json::json!({
                "severity": default_severity(kind),
                "actor": e.actor,
                "target": e.target,
                "ip": e.ip,
            });
            // The details' own fields are also at the top, where rule filters look
            // (`threshold` compares `value`; `<thing>_ids` look up `<thing>_id`).
            if let (Some(serde_json::Value::Object(d)), serde_json::Value::Object(out)) =
                (&details, &mut data)
            {
                for (k, v) in d {
                    out.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            data["details"] = details.unwrap_or(serde_json::Value::Null);
            data
        },
    };
    let Ok(id) = event.id.parse() else {
        // Only ids this crate generated reach here; a foreign one emits nothing rather than
        // failing the change it belongs to.
        return Ok(());
    };
    crate::outbox::insert_outbox(
        conn,
        &tenantry_notifications::OutboxEntry {
            id,
            account: e.account.parse().ok(),
            kind: OutboxKind::Event,
            payload: serde_json::to_string(&event).unwrap_or_default(),
            created_at: e.at,
        },
    )
}

#[derive(Queryable)]
struct Row {
    id: String,
    actor: String,
    action: String,
    target: Option<String>,
    diff: Option<String>,
    ip: Option<String>,
    created_at: i64,
}

impl DenialAudit for Store {
    fn record_ip_denial(&self, denial: &IpDenial) -> Result<(), PortError> {
        let account = denial.account.to_string();
        let ip = denial.ip.map(|ip| ip.to_string());
        let diff = serde_json::json!({
            "address": denial.address,
            "credential": denial.credential,
        });
        Ok(self.write(|conn| -> Result<(), crate::StoreError> {
            insert_entry(
                conn,
                NewEntry {
                    id: denial.id.to_string(),
                    account: &account,
                    actor: &denial.actor,
                    action: "security.ip_denied",
                    target: Some(&denial.address),
                    diff: Some(diff.to_string()),
                    ip: ip.as_deref(),
                    at: denial.at,
                },
            )
        })?)
    }
}

impl AuditPurgeStore for Store {
    fn purge_audit_before(
        &self,
        account: AccountId,
        cutoff: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<u64, PortError> {
        let epoch_account = account;
        let account = account.to_string();
        let cutoff = to_micros(cutoff);
        let deleted =
            self.write_account(epoch_account, |conn| -> Result<usize, crate::StoreError> {
                // Select the batch first: DELETE ... LIMIT is not portable.
                let ids = audit_log::table
                    .filter(audit_log::account_id.eq(&account))
                    .filter(audit_log::created_at.lt(cutoff))
                    .order(audit_log::created_at.asc())
                    .select(audit_log::id)
                    .limit(i64::from(limit))
                    .load::<String>(conn)?;
                if ids.is_empty() {
                    return Ok(0);
                }
                Ok(
                    diesel::delete(audit_log::table.filter(audit_log::id.eq_any(&ids)))
                        .execute(conn)?,
                )
            })?;
        Ok(deleted as u64)
    }
}

impl AuditLogReader for Store {
    fn list_audit(
        &self,
        account: Option<AccountId>,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, PortError> {
        let account = account.map(|a| a.to_string());
        let limit = i64::from(page.limit);
        let rows = self.read(|conn| {
            let mut q = audit_log::table
                .select((
                    audit_log::id,
                    audit_log::actor,
                    audit_log::action,
                    audit_log::target,
                    audit_log::diff,
                    audit_log::ip,
                    audit_log::created_at,
                ))
                .order((audit_log::created_at.desc(), audit_log::id.desc()))
                .limit(limit + 1)
                .into_boxed();
            q = match &account {
                Some(account) => q.filter(audit_log::account_id.eq(account.clone())),
                None => q.filter(audit_log::account_id.is_null()),
            };
            if let Some(actor) = &filter.actor {
                q = q.filter(audit_log::actor.eq(actor.clone()));
            }
            if let Some(action) = &filter.action {
                q = q.filter(audit_log::action.eq(action.clone()));
            }
            if let Some(since) = filter.since {
                q = q.filter(audit_log::created_at.ge(to_micros(since)));
            }
            if let Some(until) = filter.until {
                q = q.filter(audit_log::created_at.lt(to_micros(until)));
            }
            if let Some(c) = &page.after {
                q = q.filter(
                    audit_log::created_at
                        .lt(c.created_at_micros)
                        .or(audit_log::created_at
                            .eq(c.created_at_micros)
                            .and(audit_log::id.lt(c.id.clone()))),
                );
            }
            Ok(q.load::<Row>(conn)?)
        })?;
        let has_more = rows.len() as i64 > limit;
        let items: Vec<AuditEntry> = rows
            .into_iter()
            .take(page.limit as usize)
            .map(|r| AuditEntry {
                id: r.id,
                actor: r.actor,
                action: r.action,
                target: r.target,
                details: r.diff.and_then(|d| serde_json::from_str(&d).ok()),
                ip: r.ip,
                created_at: from_micros(r.created_at),
            })
            .collect();
        let next = if has_more {
            items.last().map(|e| Cursor {
                created_at_micros: to_micros(e.created_at),
                id: e.id.clone(),
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

impl Store {
    /// Writes the audit entry of an attempt that changed nothing (a wrong current password on
    /// a password or address change), alone in its own transaction: the one way the ports that
    /// audit refusals (`ProfileStore`, `EmailChangeStore`) write them.
    pub(crate) fn insert_refusal(
        &self,
        account: AccountId,
        target: tenantry_kernel::UserId,
        audit: &tenantry_security::ChangeAudit,
    ) -> Result<(), PortError> {
        let (account, target) = (account.to_string(), target.to_string());
        // No cache holds audit entries: a refusal moves no epoch, so a stream of wrong
        // passwords cannot keep every tenant's caches cold.
        Ok(self.write_uncached(|conn| insert_change(conn, &account, &target, audit))?)
    }

    /// Writes request-audit records (`api.request` entries) in one transaction. These are
    /// records of requests, not changes: no notification event, and no cache is invalidated.
    pub fn insert_api_requests(
        &self,
        records: &[tenantry_security::ApiRequestRecord],
        ids: &[tenantry_kernel::AuditId],
    ) -> Result<usize, crate::StoreError> {
        let rows: Vec<_> = records
            .iter()
            .zip(ids)
            .map(|(r, id)| {
                (
                    audit_log::id.eq(id.to_string()),
                    audit_log::account_id.eq(r.account.to_string()),
                    audit_log::actor.eq(r.user.to_string()),
                    audit_log::action.eq("api.request"),
                    audit_log::target.eq(format!("{} {}", r.method, r.path)),
                    // `{"status":200}`, written directly: a JSON map per row is work the
                    // writer does for every request.
                    audit_log::diff.eq(format!(r#"{{"status":{}}}"#, r.status)),
                    audit_log::ip.eq(r.ip.clone()),
                    audit_log::request_id.eq(r.request_id.clone()),
                    audit_log::created_at.eq(to_micros(r.at)),
                )
            })
            .collect();
        self.write_uncached(|conn| {
            // Multi-row INSERTs of 100 rows (bounded statement and bind counts on both
            // backends); the multi-backend connection has no batch insert, so per backend.
            // A full chunk goes as a fixed-size array: diesel then prepares its statement once
            // per connection and reuses it (a slice's statement is parsed anew each time, which
            // was a sixth of this writer's time under load).
            const ROWS: usize = 100;
            macro_rules! execute {
                ($values:expr) => {{
                    let insert = diesel::insert_into(audit_log::table).values($values);
                    match conn {
                        crate::DbConnection::Sqlite(c) => insert.execute(c)?,
                        crate::DbConnection::Postgresql(c) => insert.execute(c)?,
                    }
                }};
            }
            let mut written = 0;
            for chunk in rows.chunks(ROWS) {
                written += match <&[_; ROWS]>::try_from(chunk) {
                    Ok(full) => execute!(full),
                    // The last, shorter chunk.
                    Err(_) => execute!(chunk),
                };
            }
            Ok(written)
        })
    }
}
