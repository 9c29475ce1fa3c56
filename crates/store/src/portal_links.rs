//! `PortalLinkStore`: portal links and the sessions they open (decision 0030).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenantry_kernel::{AccountId, PortError, PortalLinkId, Role, SessionId};
use tenantry_security::{
    MemberStatus, PortalAudit, PortalIntent, PortalLinkRecord, PortalLinkStore, PortalMember,
    PortalTarget, SecretHash, SessionCap, SessionRecord,
};

use crate::audit::{insert_entry, NewEntry};
use crate::schema::{memberships, portal_links, sessions, users};
use crate::time::{from_micros, to_micros};
use crate::{Store, StoreError};

fn corrupt(what: &str) -> PortError {
    PortError::Corrupt(what.to_owned())
}

/// A ceiling as its two columns: the role's name and the scopes as a JSON array (`None` when
/// there are none).
pub(crate) fn cap_columns(cap: &SessionCap) -> (&'static str, Option<String>) {
    let scopes =
        (!cap.scopes.is_empty()).then(|| serde_json::Value::from(cap.scopes.clone()).to_string());
    (cap.role.as_str(), scopes)
}

pub(crate) fn cap_from_columns(role: &str, scopes: Option<&str>) -> Result<SessionCap, PortError> {
    Ok(SessionCap {
        role: role.parse::<Role>().map_err(|_| corrupt("cap role"))?,
        scopes: scopes
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|_| corrupt("cap scopes"))?
            .unwrap_or_default(),
    })
}

fn write_audit(conn: &mut crate::DbConnection, a: &PortalAudit) -> Result<(), StoreError> {
    insert_entry(
        conn,
        NewEntry {
            id: a.id.to_string(),
            account: &a.account.to_string(),
            actor: &a.actor,
            action: a.action,
            target: Some(&a.target),
            diff: Some(a.details.to_string()),
            ip: a.ip.as_deref(),
            at: a.at,
        },
    )
}

type LinkRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

/// Marks link `id` used at `at` if it is still unused: the one way a link stops being
/// redeemable, whether a redemption spends it (`session`: the session it opens, and only while
/// the link is unexpired at `at`) or a refusal retires it (no session, expired or not).
/// Compare-and-set: of two concurrent calls exactly one finds the link unused and answers
/// `true`.
fn spend(
    conn: &mut crate::DbConnection,
    id: PortalLinkId,
    at: i64,
    session: Option<tenantry_kernel::SessionId>,
) -> Result<bool, StoreError> {
    // A retirement has no expiry bound: `i64::MIN` is before every expiry.
    let unexpired_at = if session.is_some() { at } else { i64::MIN };
    let marked = diesel::update(
        portal_links::table
            .filter(portal_links::id.eq(id.to_string()))
            .filter(portal_links::used_at.is_null())
            .filter(portal_links::expires_at.gt(unexpired_at)),
    )
    .set((
        portal_links::used_at.eq(at),
        portal_links::session_id.eq(session.map(|s| s.to_string())),
    ))
    .execute(conn)?;
    Ok(marked == 1)
}

fn link(row: LinkRow) -> Result<PortalLinkRecord, PortError> {
    let (
        id,
        account,
        user,
        hash,
        intent,
        return_url,
        cap_role,
        cap_scopes,
        minted_by,
        created,
        expires,
        used,
        fingerprint,
    ) = row;
    Ok(PortalLinkRecord {
        id: id.parse().map_err(|_| corrupt("portal link id"))?,
        account_id: account.parse().map_err(|_| corrupt("account id"))?,
        user_id: user.parse().map_err(|_| corrupt("user id"))?,
        token_hash: SecretHash::from_hex(&hash).ok_or_else(|| corrupt("portal link hash"))?,
        intent: PortalIntent::parse(&intent).ok_or_else(|| corrupt("portal link intent"))?,
        return_url,
        cap: cap_from_columns(&cap_role, cap_scopes.as_deref())?,
        minted_by,
        created_at: from_micros(created),
        expires_at: from_micros(expires),
        used_at: used.map(from_micros),
        minter_fingerprint: fingerprint
            .map(|f| SecretHash::from_hex(&f).ok_or_else(|| corrupt("minter fingerprint")))
            .transpose()?,
    })
}

/// The columns of a [`LinkRow`], in its order.
type LinkColumns = (
    portal_links::id,
    portal_links::account_id,
    portal_links::user_id,
    portal_links::token_hash,
    portal_links::intent,
    portal_links::return_url,
    portal_links::cap_role,
    portal_links::cap_scopes,
    portal_links::minted_by,
    portal_links::created_at,
    portal_links::expires_at,
    portal_links::used_at,
    portal_links::minter_fingerprint,
);

const LINK_COLUMNS: LinkColumns = (
    portal_links::id,
    portal_links::account_id,
    portal_links::user_id,
    portal_links::token_hash,
    portal_links::intent,
    portal_links::return_url,
    portal_links::cap_role,
    portal_links::cap_scopes,
    portal_links::minted_by,
    portal_links::created_at,
    portal_links::expires_at,
    portal_links::used_at,
    portal_links::minter_fingerprint,
);

impl PortalLinkStore for Store {
    fn portal_member(
        &self,
        account: AccountId,
        target: &PortalTarget,
    ) -> Result<Option<PortalMember>, PortError> {
        let row = self.read(|conn| {
            let query = memberships::table
                .inner_join(users::table)
                .filter(memberships::account_id.eq(account.to_string()))
                .select((
                    users::id,
                    memberships::role,
                    memberships::status,
                    memberships::permissions,
                ))
                .into_boxed();
            let query = match target {
                PortalTarget::Email(email) => query.filter(users::email.eq(email.as_str())),
                PortalTarget::User(user) => query.filter(users::id.eq(user.to_string())),
            };
            Ok(query
                .first::<(String, String, String, Option<String>)>(conn)
                .optional()?)
        })?;
        row.map(|(user, role, status, permissions)| {
            Ok(PortalMember {
                user_id: user.parse().map_err(|_| corrupt("user id"))?,
                role: role.parse().map_err(|_| corrupt("role"))?,
                status: MemberStatus::parse(&status).ok_or_else(|| corrupt("member status"))?,
                permissions: permissions
                    .map(|p| {
                        crate::members::permissions_from_json(&p)
                            .ok_or_else(|| corrupt("member permissions"))
                    })
                    .transpose()?,
            })
        })
        .transpose()
    }

    fn insert_portal_link(
        &self,
        l: &PortalLinkRecord,
        audit: &PortalAudit,
    ) -> Result<(), PortError> {
        let (cap_role, cap_scopes) = cap_columns(&l.cap);
        self.write(|conn| -> Result<(), StoreError> {
            diesel::insert_into(portal_links::table)
                .values((
                    portal_links::id.eq(l.id.to_string()),
                    portal_links::account_id.eq(l.account_id.to_string()),
                    portal_links::user_id.eq(l.user_id.to_string()),
                    portal_links::token_hash.eq(l.token_hash.to_hex()),
                    portal_links::intent.eq(l.intent.as_str()),
                    portal_links::return_url.eq(&l.return_url),
                    portal_links::cap_role.eq(cap_role),
                    portal_links::cap_scopes.eq(cap_scopes.as_deref()),
                    portal_links::minted_by.eq(&l.minted_by),
                    portal_links::created_at.eq(to_micros(l.created_at)),
                    portal_links::expires_at.eq(to_micros(l.expires_at)),
                    portal_links::minter_fingerprint
                        .eq(l.minter_fingerprint.as_ref().map(SecretHash::to_hex)),
                ))
                .execute(conn)?;
            write_audit(conn, audit)
        })?;
        Ok(())
    }

    fn portal_link(&self, hash: &SecretHash) -> Result<Option<PortalLinkRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(portal_links::table
                .filter(portal_links::token_hash.eq(hash.to_hex()))
                .select(LINK_COLUMNS)
                .first::<LinkRow>(conn)
                .optional()?)
        })?;
        row.map(link).transpose()
    }

    fn redeem_portal_link(
        &self,
        id: PortalLinkId,
        session: &SessionRecord,
        concurrent: u32,
        audit: &PortalAudit,
    ) -> Result<bool, PortError> {
        let now = to_micros(session.created_at);
        let redeemed = self.write(|conn| -> Result<bool, StoreError> {
            if !spend(conn, id, now, Some(session.id))? {
                return Ok(false);
            }
            crate::sessions::insert_session(conn, session, concurrent)?;
            write_audit(conn, audit)?;
            Ok(true)
        })?;
        Ok(redeemed)
    }

    fn audit_portal(&self, audit: &PortalAudit) -> Result<(), PortError> {
        self.write(|conn| write_audit(conn, audit))?;
        Ok(())
    }

    fn retire_portal_link(&self, id: PortalLinkId, audit: &PortalAudit) -> Result<(), PortError> {
        let at = to_micros(audit.at);
        self.write(|conn| -> Result<(), StoreError> {
            spend(conn, id, at, None)?;
            write_audit(conn, audit)
        })?;
        Ok(())
    }

    fn purge_portal_links(&self, now: DateTime<Utc>) -> Result<u64, PortError> {
        let now = to_micros(now);
        let deleted = self.write(|conn| -> Result<usize, StoreError> {
            let live_session = sessions::table
                .filter(sessions::id.nullable().eq(portal_links::session_id))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now));
            Ok(diesel::delete(
                portal_links::table
                    .filter(portal_links::expires_at.le(now))
                    .filter(diesel::dsl::not(diesel::dsl::exists(live_session))),
            )
            .execute(conn)?)
        })?;
        Ok(deleted as u64)
    }

    fn portal_return_url(
        &self,
        account: AccountId,
        session: SessionId,
    ) -> Result<Option<String>, PortError> {
        Ok(self.read(|conn| {
            Ok(portal_links::table
                .filter(portal_links::session_id.eq(session.to_string()))
                .filter(portal_links::account_id.eq(account.to_string()))
                .select(portal_links::return_url)
                .first::<String>(conn)
                .optional()?)
        })?)
    }

    fn portal_link_of_session(
        &self,
        session: SessionId,
    ) -> Result<Option<PortalLinkRecord>, PortError> {
        let row = self.read(|conn| {
            Ok(portal_links::table
                .filter(portal_links::session_id.eq(session.to_string()))
                .select(LINK_COLUMNS)
                .first::<LinkRow>(conn)
                .optional()?)
        })?;
        row.map(link).transpose()
    }
}
