//! Sign-in sessions: password (+ TOTP or backup code when enrolled) gives a bearer token
//! `tnt_ses_<id>_<secret>`. The account's policy bounds every session: absolute lifetime, idle
//! timeout (extended by activity unless the policy says otherwise), and a cap on concurrent
//! sessions per user (the oldest is signed out to make room).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Credential, Email, PortError, RandomSource, Role, SessionId,
    UserId,
};

use crate::ports::MemberStatus;
use crate::secret::random_alphanumeric;
use crate::{verify_password, MfaService, SecretHash, SecurityError};

const SECRET_LEN: usize = 43;
/// `last_seen_at` is written at most this often; the idle timeout is as precise as this.
const SEEN_GRANULARITY_SECONDS: i64 = 60;

/// The account policy a session obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub mfa_required: bool,
    /// `None`: passwords never expire.
    pub password_expiry_days: Option<u32>,
    pub absolute_minutes: u32,
    pub idle_minutes: Option<u32>,
    pub extend_on_activity: bool,
    pub concurrent_sessions: u32,
}

pub trait SessionPolicySource: Send + Sync {
    fn session_policy(&self, account: AccountId) -> Result<SessionPolicy, PortError>;
    /// Whether the account's IP allowlist (when enforced) admits `ip`.
    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError>;
}

/// A stored session with its member's current role and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub secret_hash: SecretHash,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    pub ip: Option<String>,
    /// `mfa_enrollment` or `password_change`: the only task this session may do.
    pub restriction: Option<String>,
    pub role: Role,
    pub member_status: MemberStatus,
}

/// Who may sign in: a user, their password hash and their active memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCandidate {
    pub user_id: UserId,
    pub password_hash: Option<String>,
    /// When the password was last set (`None`: before tracking began).
    pub password_changed_at: Option<DateTime<Utc>>,
    /// `(account, account name, role)` of the user's active memberships.
    pub memberships: Vec<(AccountId, String, Role)>,
}

pub trait SessionStore: Send + Sync {
    fn login_candidate(&self, email: &str) -> Result<Option<LoginCandidate>, PortError>;
    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, PortError>;
    /// Inserts the session, first signing out the user's oldest live sessions in the account
    /// so that at most `cap` remain, with an audit entry, in one transaction.
    fn create_session(
        &self,
        record: &SessionRecord,
        cap: u32,
        audit: AuditId,
    ) -> Result<(), PortError>;
    fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), PortError>;
    /// Audits a failed sign-in (`login.failed`) in each account of the user with this email, if
    /// any; `new_id` makes the audit ids.
    fn record_failed_login(
        &self,
        email: &str,
        ip: Option<&str>,
        at: DateTime<Utc>,
        new_id: &dyn Fn() -> AuditId,
    ) -> Result<(), PortError>;
    /// Revokes one of the user's sessions; `Ok(false)` if none such is live.
    fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;
    /// The user's live sessions in the account, newest first.
    fn list_sessions(
        &self,
        account: AccountId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, PortError>;
}

/// A new session; the token exists only here.
pub struct IssuedSession {
    pub id: SessionId,
    /// Set when the session may only enrol MFA or change the password.
    pub restriction: Option<String>,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account_id: AccountId,
}

pub struct SessionService {
    store: Arc<dyn SessionStore>,
    policy: Arc<dyn SessionPolicySource>,
    mfa: Arc<MfaService>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    throttle: crate::login_throttle::LoginThrottle,
}

/// A real Argon2id hash to verify against when the email is unknown (computed once).
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        crate::NewPassword::parse("decoy-password-never-matches")
            .ok()
            .and_then(|p| crate::hash_password(&p, &tenantry_kernel::OsRandom).ok())
            .unwrap_or_default()
    })
}

fn parse_token(token: &str) -> Option<(SessionId, &str)> {
    let rest = token.strip_prefix("tnt_ses_")?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 26
        || secret.len() != SECRET_LEN
        || !secret.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((SessionId::parse_ulid(id).ok()?, secret))
}

impl SessionService {
    pub fn new(
        store: Arc<dyn SessionStore>,
        policy: Arc<dyn SessionPolicySource>,
        mfa: Arc<MfaService>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            policy,
            mfa,
            clock,
            random,
            throttle: Default::default(),
        }
    }

    /// Whether a bearer token is a session token (as opposed to an API key).
    pub fn is_session_token(token: &str) -> bool {
        token.starts_with("tnt_ses_")
    }

    /// `POST /api/auth/login`. Every failure is the same `Unauthenticated`, except a missing
    /// second factor (`MfaCodeRequired`) and an ambiguous account (`AccountRequired`), which only
    /// a caller who knows the password can see.
    fn attempt_login(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        account: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<IssuedSession, SecurityError> {
        let email = Email::parse(email).map_err(|_| SecurityError::Unauthenticated)?;
        let candidate = self.store.login_candidate(email.as_str())?;
        let Some(candidate) = candidate else {
            // Same cost as a wrong password, so the response time does not reveal the address.
            let _ = verify_password(password, decoy_hash());
            return Err(SecurityError::Unauthenticated);
        };
        // The account's allowlist applies before the password is checked, so an address
        // outside it can neither sign in nor learn whether a password is right. The refusal is
        // the same as a wrong password (and costs the same): a distinct answer would tell an
        // outsider that this address is a member of the account.
        let target = match (account, candidate.memberships.as_slice()) {
            (Some(name), all) => all.iter().find(|m| m.1 == name),
            (None, [only]) => Some(only),
            (None, _) => None,
        };
        if let Some((target, _, _)) = target {
            if !self.policy.ip_allowed(*target, ip)? {
                let _ = verify_password(password, decoy_hash());
                return Err(SecurityError::Unauthenticated);
            }
        }
        let verified = candidate
            .password_hash
            .as_deref()
            .is_some_and(|hash| verify_password(password, hash));
        if !verified {
            return Err(SecurityError::Unauthenticated);
        }
        let (account_id, _, role) = match (account, candidate.memberships.as_slice()) {
            (_, []) => return Err(SecurityError::Unauthenticated),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(SecurityError::AccountRequired(
                    candidate.memberships.iter().map(|m| m.1.clone()).collect(),
                ))
            }
            (Some(name), all) => all
                .iter()
                .find(|m| m.1 == name)
                .cloned()
                .ok_or(SecurityError::Unauthenticated)?,
        };
        let now = self.clock.now();
        let id = SessionId::generate(self.clock.as_ref(), self.random.as_ref());
        let actor = Actor {
            account_id,
            user_id: candidate.user_id,
            role,
            credential: Credential::Session(id),
            ip,
            scopes: Vec::new(),
            authenticated_at: Some(now),
        };
        let enrolled = self.mfa.status(&actor)?.enabled;
        if enrolled {
            let code = code.ok_or(SecurityError::MfaCodeRequired)?;
            self.mfa
                .check_code(&actor, code)
                .map_err(|_| SecurityError::Unauthenticated)?;
        }
        let policy = self.policy.session_policy(account_id)?;
        // An expired password or a missing required second factor gives a session that can only
        // fix that (the client signs in again afterwards).
        let expired = policy.password_expiry_days.is_some_and(|days| {
            candidate
                .password_changed_at
                .is_some_and(|at| now - at > Duration::days(i64::from(days)))
        });
        let restriction = if expired {
            Some("password_change".to_owned())
        } else if policy.mfa_required && !enrolled {
            Some("mfa_enrollment".to_owned())
        } else {
            None
        };
        let secret = random_alphanumeric(self.random.as_ref(), SECRET_LEN);
        let record = SessionRecord {
            id,
            account_id,
            user_id: candidate.user_id,
            secret_hash: SecretHash::of(&secret),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::minutes(i64::from(policy.absolute_minutes)),
            revoked: false,
            ip: ip.map(|i| i.to_string()),
            restriction: restriction.clone(),
            role,
            member_status: MemberStatus::Active,
        };
        self.store.create_session(
            &record,
            policy.concurrent_sessions.max(1),
            AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
        )?;
        Ok(IssuedSession {
            id,
            restriction,
            token: format!("tnt_ses_{}_{}", id.ulid_lowercase(), secret),
            expires_at: record.expires_at,
            account_id,
        })
    }

    /// `POST /api/auth/login`, rate-limited: after too many failures for the email or the client
    /// address, attempts are refused (`RateLimited`) until the window ends. Failures of a known
    /// user are audited in their accounts (`login.failed`).
    pub fn login(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        account: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<IssuedSession, SecurityError> {
        let now = self.clock.now();
        // Every throttle and audit lookup uses the canonical address: another spelling of it
        // (case, surrounding spaces) is the same address, with the same budget.
        let canonical = Email::parse(email).map_or_else(
            |_| email.trim().to_ascii_lowercase(),
            |e| e.as_str().to_owned(),
        );
        let email = canonical.as_str();
        if let Some(seconds) = self.throttle.retry_after(email, ip, now) {
            return Err(SecurityError::RateLimited {
                retry_after_secs: seconds,
            });
        }
        let result = self.attempt_login(email, password, code, account, ip);
        match &result {
            Ok(_) => self.throttle.succeeded(email),
            Err(SecurityError::Unauthenticated) => {
                self.throttle.failed(email, ip, now);
                if let Err(e) = self.store.record_failed_login(
                    email,
                    ip.map(|i| i.to_string()).as_deref(),
                    now,
                    &|| AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
                ) {
                    tracing::warn!(error = %e, "could not audit a failed login");
                }
            }
            Err(_) => {}
        }
        result
    }

    /// A session token → `Actor`, applying the absolute lifetime and the idle timeout.
    pub fn authenticate(&self, token: &str, ip: Option<IpAddr>) -> Result<Actor, SecurityError> {
        let (id, secret) = parse_token(token).ok_or(SecurityError::Unauthenticated)?;
        let record = self
            .store
            .session(id)?
            .ok_or(SecurityError::Unauthenticated)?;
        if !record.secret_hash.matches(secret)
            || record.revoked
            || record.member_status != MemberStatus::Active
        {
            return Err(SecurityError::Unauthenticated);
        }
        let now = self.clock.now();
        let policy = self.policy.session_policy(record.account_id)?;
        let idle_since = if policy.extend_on_activity {
            record.last_seen_at
        } else {
            record.created_at
        };
        let idle_expired = policy
            .idle_minutes
            .is_some_and(|m| now - idle_since > Duration::minutes(i64::from(m)));
        // The absolute lifetime is the policy's now, so shortening it applies to live sessions.
        let absolute_expired = now >= record.expires_at
            || now - record.created_at >= Duration::minutes(i64::from(policy.absolute_minutes));
        if idle_expired || absolute_expired {
            let _ = self.store.revoke_session(record.user_id, id, now);
            return Err(SecurityError::Unauthenticated);
        }
        if now - record.last_seen_at > Duration::seconds(SEEN_GRANULARITY_SECONDS) {
            self.store.touch_session(id, now)?;
        }
        Ok(Actor {
            account_id: record.account_id,
            user_id: record.user_id,
            role: record.role,
            credential: Credential::Session(id),
            ip,
            // A restricted session carries its restriction as its only "scope"; the request path
            // lets it reach just the routes of that task.
            scopes: record
                .restriction
                .map(|r| vec![format!("restricted:{r}")])
                .unwrap_or_default(),
            authenticated_at: Some(record.created_at),
        })
    }

    pub fn list(&self, actor: &Actor) -> Result<Vec<SessionRecord>, SecurityError> {
        Ok(self
            .store
            .list_sessions(actor.account_id, actor.user_id, self.clock.now())?)
    }

    pub fn revoke(&self, actor: &Actor, id: SessionId) -> Result<(), SecurityError> {
        if self
            .store
            .revoke_session(actor.user_id, id, self.clock.now())?
        {
            Ok(())
        } else {
            Err(SecurityError::KeyNotFound)
        }
    }

    /// `POST /api/auth/logout`: ends the caller's own session.
    pub fn logout(&self, actor: &Actor) -> Result<(), SecurityError> {
        match actor.credential {
            Credential::Session(id) => self.revoke(actor, id),
            Credential::ApiKey(_) | Credential::Operator => Err(SecurityError::InvalidKeyRequest(
                "logout ends a session; this request used an API key".into(),
            )),
        }
    }
}
