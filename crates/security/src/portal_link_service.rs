//! Minting and redeeming portal links (decision 0030): `mint` behind
//! `POST /v2/accounts/portal-links` and `POST /admin/accounts/{id}/portal-links`, `redeem` behind
//! the console's `/console/portal/{token}`, which turns a link into a sign-in session of the same
//! kind the API uses, carrying the link's ceiling.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Credential, Email, PortError, PortalLinkId, RandomSource,
    SessionId, UserId,
};

use crate::portal_link::{portal_cap, Minter, PortalIntent, PortalMember, ReturnOrigins};
use crate::secret::random_alphanumeric;
use crate::sessions::SECRET_LEN;
use crate::{
    IssuedSession, MemberStatus, MfaEnrollments, PortalLinkToken, ReturnUrl, SecretHash,
    SecurityError, SessionCap, SessionPolicySource, SessionRecord,
};

/// How a mint request names the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalTarget {
    /// By the member's address.
    Email(Email),
    /// By the member's user id.
    User(UserId),
}

/// A stored link (its token exists only in the URL handed to the minter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinkRecord {
    /// The link's id (public; it carries no secret).
    pub id: PortalLinkId,
    /// The account it signs into.
    pub account_id: AccountId,
    /// The member it signs in.
    pub user_id: UserId,
    /// The hash of its token.
    pub token_hash: SecretHash,
    /// The console page it lands on.
    pub intent: PortalIntent,
    /// Where the console's "back" link goes.
    pub return_url: String,
    /// The ceiling of the session it opens.
    pub cap: SessionCap,
    /// The minting credential's public name (`key_…`, `ses_…`, `operator:…`).
    pub minted_by: String,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
    /// When it was redeemed; a link is redeemed once.
    pub used_at: Option<DateTime<Utc>>,
    /// A fingerprint of the minting key's or named operator key's secret as it was at the
    /// mint (`None` for a session and the operator's instance key): a regenerated or rotated
    /// minter no longer stands behind the link (decision 0036).
    pub minter_fingerprint: Option<SecretHash>,
}

/// One audit entry about a link: `actor` is `usr_…` or `operator:…`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalAudit {
    /// The entry's id.
    pub id: AuditId,
    /// The account the link belongs to.
    pub account: AccountId,
    /// Who acted (`usr_…`, `operator:…`, or `anonymous` for a redemption).
    pub actor: String,
    /// What happened (`portal_link.created`, `portal_link.redeemed`, ...).
    pub action: &'static str,
    /// The member the link is for.
    pub target: String,
    /// The link's id and the reason of a refusal.
    pub details: serde_json::Value,
    /// The client address, if known.
    pub ip: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where portal links live. Every method returns `PortError` when the store fails; an unknown
/// member or link is `Ok(None)`, not an error.
pub trait PortalLinkStore: Send + Sync {
    /// The member of `account` that `target` names, whatever their status; `Ok(None)` when the
    /// user does not exist or is no member of that account.
    fn portal_member(
        &self,
        account: AccountId,
        target: &PortalTarget,
    ) -> Result<Option<PortalMember>, PortError>;

    /// Stores the link and its `portal_link.created` audit entry in one transaction.
    fn insert_portal_link(
        &self,
        link: &PortalLinkRecord,
        audit: &PortalAudit,
    ) -> Result<(), PortError>;

    /// The link whose token hashes to `hash`, used or not.
    fn portal_link(&self, hash: &SecretHash) -> Result<Option<PortalLinkRecord>, PortError>;

    /// In one transaction: marks the link used if it is still unused and unexpired at
    /// `session.created_at` (compare-and-set: of two redemptions exactly one succeeds), then
    /// creates `session` as [`crate::SessionStore::create_session`] does (signing out the
    /// member's oldest sessions beyond `concurrent`) and writes `audit`. MUST return `Ok(false)`,
    /// writing nothing, when the link was already used or expired.
    fn redeem_portal_link(
        &self,
        link: PortalLinkId,
        session: &SessionRecord,
        concurrent: u32,
        audit: &PortalAudit,
    ) -> Result<bool, PortError>;

    /// Writes one audit entry on its own (a refused redemption).
    fn audit_portal(&self, audit: &PortalAudit) -> Result<(), PortError>;

    /// In one transaction: marks the link used at `audit.at` if it is still unused (without a
    /// session) and writes `audit`. A retired link is never redeemable again.
    fn retire_portal_link(&self, link: PortalLinkId, audit: &PortalAudit) -> Result<(), PortError>;

    /// Deletes the links that can serve nothing any more at `now`: expired (so never
    /// redeemable again, used or not) and without a live session opened through them. Returns
    /// how many. Their mint and use stay in the audit log.
    fn purge_portal_links(&self, now: DateTime<Utc>) -> Result<u64, PortError>;

    /// The link (of any account) whose redemption opened `session`, if one did.
    fn portal_link_of_session(
        &self,
        session: SessionId,
    ) -> Result<Option<PortalLinkRecord>, PortError>;

    /// The `return_url` of the link of `account` whose redemption opened `session`;
    /// `Ok(None)` when no link did (a sign-in session).
    fn portal_return_url(
        &self,
        account: AccountId,
        session: SessionId,
    ) -> Result<Option<String>, PortError>;
}

/// What the operator configured for portal links.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// `TENANTRY_PUBLIC_URL` without a trailing slash: links are `{public}/console/portal/{token}`.
    pub public_url: String,
    /// `TENANTRY_PORTAL_RETURN_ORIGINS`.
    pub return_origins: ReturnOrigins,
    /// How long a link stays redeemable (`TENANTRY_PORTAL_LINK_SECONDS`, 5 minutes by default).
    pub lifetime: Duration,
}

impl PortalConfig {
    /// How long a link stays redeemable unless the operator configures otherwise: five minutes.
    pub const DEFAULT_LIFETIME_SECONDS: i64 = 300;
    /// The longest lifetime the operator may configure: a link is a bearer sign-in.
    pub const MAX_LIFETIME_SECONDS: i64 = 3600;
}

/// The per-account return origins (account settings), read when a link is minted.
pub trait AccountReturnOrigins: Send + Sync {
    /// The account's own allowed return origins; `PortError` when the store fails.
    fn return_origins(&self, account: AccountId) -> Result<Vec<String>, PortError>;
}

/// What the minter gets back.
#[derive(Debug)]
pub struct MintedPortalLink {
    /// The link's id.
    pub id: PortalLinkId,
    /// The URL that redeems it; it holds the token, so it is handed only to the minter.
    pub url: String,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
    /// The ceiling of the session it opens.
    pub cap: SessionCap,
}

/// What the console needs after a redemption: the session to set as its cookie, the page to
/// open and where "back" goes. No `Debug`: it holds the session's token.
pub struct RedeemedPortalLink {
    /// The new sign-in session (its token goes into the console's cookie).
    pub session: IssuedSession,
    /// The console page to open.
    pub intent: PortalIntent,
    /// Where "back" goes.
    pub return_url: String,
}

/// Everything the service needs from the outside.
pub struct PortalDeps {
    /// Where links live.
    pub store: Arc<dyn PortalLinkStore>,
    /// The account's session policy, which bounds the session a link opens.
    pub policy: Arc<dyn SessionPolicySource>,
    /// The account's own allowed return origins.
    pub origins: Arc<dyn AccountReturnOrigins>,
    /// Whether the member has a second factor (an account that requires MFA signs in no unenrolled
    /// member by link).
    pub mfa: Arc<dyn MfaEnrollments>,
    /// Whether a link's minter still stands behind it (shared with the sessions' check).
    pub minters: Arc<crate::PortalMinters>,
    /// The source of time.
    pub clock: Arc<dyn Clock>,
    /// The source of randomness (tokens, ids).
    pub random: Arc<dyn RandomSource>,
}

/// Portal links: minting (by an admin's credential or the operator) and redeeming. A link signs one
/// member into the console on one page, once, for a few minutes, and its session is never stronger
/// than the member or the credential that minted it.
pub struct PortalLinkService {
    deps: PortalDeps,
    config: PortalConfig,
}

fn cap_json(cap: &SessionCap) -> serde_json::Value {
    json!({ "role": cap.role.as_str(), "scopes": cap.scopes })
}

impl PortalLinkService {
    /// The service over `deps`, with the operator's `config` (lifetime, allowed return origins).
    pub fn new(deps: PortalDeps, config: PortalConfig) -> Self {
        Self { deps, config }
    }

    fn audit_id(&self) -> AuditId {
        AuditId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref())
    }

    /// Mints a link into `account` for `target`. `Minter::Member` must be a credential of that
    /// account (the HTTP adapter passes the caller's own account). Checks, in order: the
    /// minter may mint at all (admin or above), the member exists in the account and is active
    /// (`PortalTargetNotFound` for unknown, foreign and inactive alike: the answer never tells
    /// which), the rule of [`portal_cap`], then the return URL's origin.
    pub fn mint(
        &self,
        account: AccountId,
        minter: Minter<'_>,
        target: &PortalTarget,
        intent: PortalIntent,
        return_url: &ReturnUrl,
    ) -> Result<MintedPortalLink, SecurityError> {
        let (actor_name, minted_by, ip) = match minter {
            Minter::Operator(by) => (by.actor(), by.actor(), by.address()),
            Minter::Member(actor) => {
                actor.require(tenantry_kernel::Role::Admin)?;
                // A link is a credential: a session mints one only soon after its holder
                // proved themselves. A portal session never did, so it cannot pass its power
                // (and shed its operator's audit tag) to a link of its own.
                if actor.needs_reauth(true, self.deps.clock.now()) {
                    return Err(SecurityError::ReauthRequired);
                }
                if actor.account_id != account {
                    return Err(SecurityError::PortalTargetNotFound);
                }
                (
                    actor.audit_name(),
                    actor.credential.to_string(),
                    actor.audit_address(),
                )
            }
        };
        let member = self
            .deps
            .store
            .portal_member(account, target)?
            .filter(|m| m.status == MemberStatus::Active)
            .ok_or(SecurityError::PortalTargetNotFound)?;
        let now = self.deps.clock.now();
        let cap = match portal_cap(minter, &member) {
            Ok(cap) => cap,
            Err(e) => {
                // A refused escalation is worth an entry: someone tried to reach more power.
                self.deps.store.audit_portal(&PortalAudit {
                    id: self.audit_id(),
                    account,
                    actor: actor_name,
                    action: "portal_link.refused",
                    target: member.user_id.to_string(),
                    details: json!({
                        "intent": intent.as_str(),
                        "credential": minted_by,
                        "targetRole": member.role.as_str(),
                        "reason": e.to_string(),
                    }),
                    ip,
                    at: now,
                })?;
                return Err(e);
            }
        };
        let allowed = self.config.return_origins.admits(return_url)
            || self
                .deps
                .origins
                .return_origins(account)?
                .iter()
                .any(|o| o == return_url.origin());
        if !allowed {
            return Err(SecurityError::PortalReturnUrlNotAllowed {
                origin: return_url.origin().to_owned(),
            });
        }
        let token = PortalLinkToken::generate(self.deps.random.as_ref());
        let record = PortalLinkRecord {
            id: PortalLinkId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref()),
            account_id: account,
            user_id: member.user_id,
            token_hash: token.hash,
            intent,
            return_url: return_url.as_str().to_owned(),
            cap: cap.clone(),
            minted_by: minted_by.clone(),
            created_at: now,
            expires_at: now + self.config.lifetime,
            used_at: None,
            minter_fingerprint: self.deps.minters.fingerprint_of(&minted_by)?,
        };
        self.deps.store.insert_portal_link(
            &record,
            &PortalAudit {
                id: self.audit_id(),
                account,
                actor: actor_name,
                action: "portal_link.created",
                target: member.user_id.to_string(),
                details: json!({
                    "link": record.id.to_string(),
                    "intent": intent.as_str(),
                    "credential": minted_by,
                    "cap": cap_json(&cap),
                    "returnUrl": record.return_url,
                    "expiresAt": record.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                }),
                ip,
                at: now,
            },
        )?;
        Ok(MintedPortalLink {
            id: record.id,
            url: format!(
                "{}/console/portal/{}",
                self.config.public_url.trim_end_matches('/'),
                token.secret()
            ),
            expires_at: record.expires_at,
            cap,
        })
    }

    /// Where the console's "Back to …" link of `actor`'s session points: the return URL of the
    /// portal link that opened the session, as stored when it was minted (after the origin
    /// check), parsed again so only an http(s) URL is ever handed out. `None` for a session
    /// opened by signing in, and for every other credential. Kept with the link, on the
    /// server: nothing the visitor holds can change it.
    pub fn return_url(&self, actor: &Actor) -> Result<Option<ReturnUrl>, SecurityError> {
        let Credential::Session(session) = actor.credential else {
            return Ok(None);
        };
        Ok(self
            .deps
            .store
            .portal_return_url(actor.account_id, session)?
            .and_then(|url| ReturnUrl::parse(&url).ok()))
    }

    /// Deletes the links that are done (see [`PortalLinkStore::purge_portal_links`]): run with
    /// the retention purge, so used and expired links do not pile up.
    pub fn purge_done(&self) -> Result<u64, SecurityError> {
        Ok(self.deps.store.purge_portal_links(self.deps.clock.now())?)
    }

    /// Redeems a link: the one call the console makes for `/console/portal/{token}`.
    ///
    /// Unknown, used and expired links are `PortalLinkUnknown`, `PortalLinkUsed` and
    /// `PortalLinkExpired`. The member must still be active and the account's policy applies
    /// as at a sign-in: the address must pass the allowlist (`Unauthenticated` otherwise), and
    /// in an account that requires MFA a member who has not enrolled gets no session
    /// (`MfaEnrollmentRequired`: a link never enrols a second factor for anyone). An enrolled
    /// member is not asked for a code: the minting credential vouches for the member, as it
    /// was itself issued under the account's MFA policy (decision 0030). The session counts
    /// as never re-authenticated and carries the link's ceiling. Every outcome on a known link
    /// is audited.
    pub fn redeem(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<RedeemedPortalLink, SecurityError> {
        if !PortalLinkToken::is_well_formed(token) {
            return Err(SecurityError::PortalLinkUnknown);
        }
        let link = self
            .deps
            .store
            .portal_link(&SecretHash::of(token))?
            .ok_or(SecurityError::PortalLinkUnknown)?;
        let now = self.deps.clock.now();
        let address = ip.map(|i| i.to_string());
        let refusal = |reason: &str| PortalAudit {
            id: self.audit_id(),
            account: link.account_id,
            actor: "anonymous".into(),
            action: "portal_link.redemption_failed",
            target: link.user_id.to_string(),
            details: json!({ "link": link.id.to_string(), "reason": reason }),
            ip: address.clone(),
            at: now,
        };
        let refuse = |reason: &str, error: SecurityError| -> Result<RedeemedPortalLink, _> {
            self.deps.store.audit_portal(&refusal(reason))?;
            Err(error)
        };
        // What ends a link's power for good (its member or its minter no longer standing
        // behind it) retires it: a later re-promotion or reactivation does not bring it back.
        let retire = |reason: &str, error: SecurityError| -> Result<RedeemedPortalLink, _> {
            self.deps
                .store
                .retire_portal_link(link.id, &refusal(reason))?;
            Err(error)
        };
        if link.used_at.is_some() {
            return refuse("used", SecurityError::PortalLinkUsed);
        }
        if now >= link.expires_at {
            return refuse("expired", SecurityError::PortalLinkExpired);
        }
        let member = self
            .deps
            .store
            .portal_member(link.account_id, &PortalTarget::User(link.user_id))?
            .filter(|m| m.status == MemberStatus::Active);
        let Some(member) = member else {
            return retire("member_inactive", SecurityError::Unauthenticated);
        };
        // The link is the minter's power lent: a minter that no longer stands behind it
        // (revoked, expired, regenerated, signed out, suspended, demoted) ends it unused.
        if let Some(reason) = self.deps.minters.why_not(&link, &member)? {
            return retire(reason, SecurityError::Unauthenticated);
        }
        if !self.deps.policy.ip_allowed(link.account_id, ip)? {
            return refuse("address_not_allowed", SecurityError::Unauthenticated);
        }
        let policy = self.deps.policy.session_policy(link.account_id)?;
        if policy.mfa_required && !self.deps.mfa.is_enrolled(link.user_id)? {
            return refuse("mfa_not_enrolled", SecurityError::MfaEnrollmentRequired);
        }
        let id = SessionId::generate(self.deps.clock.as_ref(), self.deps.random.as_ref());
        let secret = random_alphanumeric(self.deps.random.as_ref(), SECRET_LEN);
        let record = SessionRecord {
            id,
            account_id: link.account_id,
            user_id: link.user_id,
            secret_hash: SecretHash::of(&secret),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::minutes(i64::from(policy.absolute_minutes.get())),
            revoked: false,
            ip: address.clone(),
            restriction: None,
            role: member.role,
            member_status: MemberStatus::Active,
            permissions: member.permissions,
            cap: Some(link.cap.clone()),
        };
        let redeemed = self.deps.store.redeem_portal_link(
            link.id,
            &record,
            policy.concurrent_sessions.get(),
            &PortalAudit {
                id: self.audit_id(),
                account: link.account_id,
                actor: link.user_id.to_string(),
                action: "portal_link.redeemed",
                target: id.to_string(),
                details: json!({
                    "link": link.id.to_string(),
                    "intent": link.intent.as_str(),
                    "mintedBy": link.minted_by,
                    "cap": cap_json(&link.cap),
                }),
                ip: address.clone(),
                at: now,
            },
        )?;
        if !redeemed {
            // Another redemption won the race (or the link expired in between).
            return refuse("used", SecurityError::PortalLinkUsed);
        }
        Ok(RedeemedPortalLink {
            session: IssuedSession {
                id,
                restriction: None,
                token: format!("tnt_ses_{}_{}", id.ulid_lowercase(), secret),
                expires_at: crate::session_expiry(&record, &policy),
                account_id: link.account_id,
                user_id: link.user_id,
            },
            intent: link.intent,
            return_url: link.return_url,
        })
    }
}
