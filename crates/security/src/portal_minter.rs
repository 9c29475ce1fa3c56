//! Whether the credential that minted a portal link still stands behind it (decision 0036).
//!
//! A link is power lent by its minter, so it lasts no longer than the minter could lend it:
//! a link is redeemable, and a session it opened is usable, only while the minting credential
//! is the same live credential (not deleted, revoked, expired, signed out; for a key or a
//! named operator key, not regenerated or rotated since: its secret is the one it had) held by
//! an active member who could still mint that link now (the rule of
//! [`crate::portal_cap`] against the member the link signs in, as both stand now).
//!
//! The rule is read where the link's power is used, not written where credentials die: a
//! credential dies in many places (a key deleted, regenerated or simply past its expiry; a
//! session signed out, revoked, timed out or evicted by the concurrent-session cap; a member
//! suspended, removed or demoted; an operator key rotated or revoked from another process), and
//! several of them are no event at all. Asked at redemption and at every request of a portal
//! session, it has one place to be right, and a new way for a credential to die needs nothing
//! here.

use std::sync::Arc;

use serde_json::json;
use tenantry_kernel::{
    Actor, ApiKeyId, AuditId, Clock, Credential, OperatorKeyId, Permission, PortError,
    RandomSource, Role, SessionId,
};

use crate::portal_link::{portal_cap, Minter, PortalMember};
use crate::{
    session_expiry, CredentialStore, MemberStatus, PortalAudit, PortalLinkRecord, PortalLinkStore,
    SecretHash, SecurityError, SessionPolicySource, SessionRecord, SessionStore,
};

/// How deep a chain of portal sessions minting links through one another is followed before
/// the link is taken as dead (a chain that long is no real use; the bound keeps the check
/// finite whatever the data says).
const MAX_CHAIN: usize = 4;

/// Everything the check needs from the outside.
pub struct PortalMinterDeps {
    /// The links and their minters' fingerprints.
    pub links: Arc<dyn PortalLinkStore>,
    /// API keys, to check a minting key still exists with the same secret.
    pub credentials: Arc<dyn CredentialStore>,
    /// Sessions, to check a minting session is still signed in.
    pub sessions: Arc<dyn SessionStore>,
    /// The account's session policy, for a minting session's lifetime.
    pub policy: Arc<dyn SessionPolicySource>,
    /// The source of time.
    pub clock: Arc<dyn Clock>,
    /// The source of randomness.
    pub random: Arc<dyn RandomSource>,
}

/// The minters of portal links, as they stand now.
pub struct PortalMinters {
    deps: PortalMinterDeps,
}

/// What `minted_by` names.
enum MintedBy {
    ApiKey(ApiKeyId),
    Session(SessionId),
    OperatorKey(OperatorKeyId),
    /// The operator's configured or generated key, or the command line: outside the database,
    /// changed only by restarting with another configuration.
    OperatorInstance,
}

fn parse(minted_by: &str) -> Option<MintedBy> {
    match minted_by.strip_prefix("operator:") {
        Some("env" | "cli") => Some(MintedBy::OperatorInstance),
        Some(key) => key.parse().ok().map(MintedBy::OperatorKey),
        None => minted_by
            .parse()
            .map(MintedBy::ApiKey)
            .or_else(|_| minted_by.parse().map(MintedBy::Session))
            .ok(),
    }
}

/// A fingerprint of a stored secret hash: what a link remembers of its minter's secret.
fn fingerprint(hash: &SecretHash) -> SecretHash {
    SecretHash::of(&hash.to_hex())
}

impl PortalMinters {
    /// The check over `deps`.
    pub fn new(deps: PortalMinterDeps) -> Self {
        Self { deps }
    }

    /// What a new link minted by `minted_by` remembers of its secret: a fingerprint of the
    /// stored hash of a key or named operator key (so regenerating or rotating it ends the
    /// link), `None` for a session (its secret never changes) and the operator's instance key.
    pub fn fingerprint_of(&self, minted_by: &str) -> Result<Option<SecretHash>, PortError> {
        Ok(match parse(minted_by) {
            Some(MintedBy::ApiKey(id)) => self
                .deps
                .credentials
                .api_key(id)?
                .map(|k| fingerprint(&k.secret_hash)),
            Some(MintedBy::OperatorKey(id)) => self
                .deps
                .credentials
                .named_operator_key(id)?
                .map(|k| fingerprint(&k.secret_hash)),
            Some(MintedBy::Session(_) | MintedBy::OperatorInstance) | None => None,
        })
    }

    /// Why `link`'s minter no longer stands behind it for `target` (the member the link signs
    /// in, as they are now); `None` when it does. The reason is for the audit.
    pub fn why_not(
        &self,
        link: &PortalLinkRecord,
        target: &PortalMember,
    ) -> Result<Option<&'static str>, SecurityError> {
        self.why_not_at(link, target, 0)
    }

    fn why_not_at(
        &self,
        link: &PortalLinkRecord,
        target: &PortalMember,
        depth: usize,
    ) -> Result<Option<&'static str>, SecurityError> {
        let now = self.deps.clock.now();
        let same_secret = |stored: &SecretHash| {
            link.minter_fingerprint
                .is_none_or(|remembered| remembered == fingerprint(stored))
        };
        let minter = match parse(&link.minted_by) {
            None => return Ok(Some("minter_unknown")),
            Some(MintedBy::OperatorInstance) => return Ok(None),
            Some(MintedBy::OperatorKey(id)) => {
                return Ok(match self.deps.credentials.named_operator_key(id)? {
                    None => Some("minter_gone"),
                    Some(k) if k.revoked_at.is_some() => Some("minter_revoked"),
                    Some(k) if !same_secret(&k.secret_hash) => Some("minter_rotated"),
                    Some(_) => None,
                })
            }
            Some(MintedBy::ApiKey(id)) => {
                let Some(key) = self.deps.credentials.api_key(id)? else {
                    return Ok(Some("minter_gone"));
                };
                if key.revoked {
                    return Ok(Some("minter_revoked"));
                }
                if key.expires_at.is_some_and(|at| at <= now) {
                    return Ok(Some("minter_expired"));
                }
                if !same_secret(&key.secret_hash) {
                    return Ok(Some("minter_rotated"));
                }
                if key.member_status != MemberStatus::Active {
                    return Ok(Some("minter_inactive"));
                }
                Actor {
                    account_id: key.account_id,
                    user_id: key.user_id,
                    role: key.role,
                    credential: Credential::ApiKey(key.id),
                    ip: None,
                    scopes: key.scopes.into_iter().filter(|s| s != "*").collect(),
                    authenticated_at: None,
                    permissions: key.permissions,
                    operator_link: None,
                }
            }
            Some(MintedBy::Session(id)) => {
                let Some(session) = self.deps.sessions.session(id)? else {
                    return Ok(Some("minter_gone"));
                };
                if session.revoked {
                    return Ok(Some("minter_revoked"));
                }
                let policy = self.deps.policy.session_policy(session.account_id)?;
                if now >= session_expiry(&session, &policy) {
                    return Ok(Some("minter_expired"));
                }
                if session.member_status != MemberStatus::Active {
                    return Ok(Some("minter_inactive"));
                }
                if session.restriction.is_some() {
                    return Ok(Some("minter_restricted"));
                }
                // A portal session that minted: its own link's minter must stand too.
                if session.cap.is_some() {
                    if let Err(reason) = self.session_standing(&session, depth + 1)? {
                        return Ok(Some(reason));
                    }
                }
                let (role, scopes) = match &session.cap {
                    Some(cap) => (cap.role_for(session.role), cap.scopes.clone()),
                    None => (session.role, Vec::new()),
                };
                Actor {
                    account_id: session.account_id,
                    user_id: session.user_id,
                    role,
                    credential: Credential::Session(session.id),
                    ip: None,
                    scopes,
                    authenticated_at: None,
                    permissions: session.permissions,
                    operator_link: None,
                }
            }
        };
        // Could the member still mint this link: an admin (holding `manage_team` when their
        // permissions are custom) ranked at least as the member signed in, holding every
        // permission of theirs. The same rule as minting, as both stand now.
        let may_mint = minter.role >= Role::Admin
            && minter
                .permissions
                .as_ref()
                .is_none_or(|p| p.contains(&Permission::ManageTeam))
            && minter.account_id == link.account_id
            && portal_cap(Minter::Member(&minter), target).is_ok();
        Ok((!may_mint).then_some("minter_demoted"))
    }

    /// The link of the portal session `session` when it may go on; otherwise why not (its
    /// link's minter no longer stands behind it, or its link is gone).
    fn session_standing(
        &self,
        session: &SessionRecord,
        depth: usize,
    ) -> Result<Result<PortalLinkRecord, &'static str>, SecurityError> {
        if depth > MAX_CHAIN {
            return Ok(Err("minter_chain_too_long"));
        }
        // A capped session whose link is unknown has no minter to vouch for it: it ends.
        let Some(link) = self.deps.links.portal_link_of_session(session.id)? else {
            return Ok(Err("link_gone"));
        };
        let target = PortalMember {
            user_id: session.user_id,
            role: session.role,
            status: session.member_status,
            permissions: session.permissions.clone(),
        };
        Ok(match self.why_not_at(&link, &target, depth)? {
            Some(reason) => Err(reason),
            None => Ok(link),
        })
    }

    /// For every request of a session opened through a portal link (`record.cap` set): the
    /// link that opened it when it may go on (its `minted_by` names who lent the session its
    /// power, which the audit log names with the member). Otherwise the session is revoked at
    /// once, with a `portal_link.session_ended` audit entry naming the link, its minter and the
    /// reason, and the answer is `None`. A sign-in session has no link: `None`, and it is
    /// never ended here (the caller asks only for portal sessions).
    pub fn session_link(
        &self,
        record: &SessionRecord,
    ) -> Result<Option<PortalLinkRecord>, SecurityError> {
        if record.cap.is_none() {
            return Ok(None);
        }
        let reason = match self.session_standing(record, 0)? {
            Ok(link) => return Ok(Some(link)),
            Err(reason) => reason,
        };
        let now = self.deps.clock.now();
        let link = self.deps.links.portal_link_of_session(record.id)?;
        if self
            .deps
            .sessions
            .revoke_session(record.user_id, record.id, now)?
        {
            self.deps.links.audit_portal(&PortalAudit {
                id: AuditId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref()),
                account: record.account_id,
                actor: "system".into(),
                action: "portal_link.session_ended",
                target: record.id.to_string(),
                details: json!({
                    "link": link.as_ref().map(|l| l.id.to_string()),
                    "mintedBy": link.as_ref().map(|l| l.minted_by.clone()),
                    "member": record.user_id.to_string(),
                    "reason": reason,
                }),
                ip: None,
                at: now,
            })?;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_minter_name_parses_to_its_kind() {
        assert!(matches!(
            parse("operator:env"),
            Some(MintedBy::OperatorInstance)
        ));
        assert!(matches!(
            parse("operator:cli"),
            Some(MintedBy::OperatorInstance)
        ));
        assert!(parse("operator:nonsense").is_none());
        assert!(parse("nonsense").is_none());
        let key = ApiKeyId::generate(&tenantry_kernel::SystemClock, &tenantry_kernel::OsRandom);
        assert!(matches!(parse(&key.to_string()), Some(MintedBy::ApiKey(k)) if k == key));
        let session =
            SessionId::generate(&tenantry_kernel::SystemClock, &tenantry_kernel::OsRandom);
        assert!(matches!(parse(&session.to_string()), Some(MintedBy::Session(s)) if s == session));
        let opk =
            OperatorKeyId::generate(&tenantry_kernel::SystemClock, &tenantry_kernel::OsRandom);
        assert!(matches!(
            parse(&format!("operator:{opk}")),
            Some(MintedBy::OperatorKey(k)) if k == opk
        ));
    }
}
