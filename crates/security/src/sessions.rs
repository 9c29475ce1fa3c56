//! Sign-in sessions: password (+ TOTP or backup code when enrolled) gives a bearer token
//! `tnt_ses_<id>_<secret>`. The account's policy bounds every session: absolute lifetime, idle
//! timeout (extended by activity unless the policy says otherwise), and a cap on concurrent
//! sessions per user (the oldest is signed out to make room).
//!
//! A session that may only fix one thing carries a *restriction*: `password_change` (signed in
//! with an expired password) or `mfa_enrollment` (no MFA in an account that requires it). A
//! restriction is stored with the session and only a new sign-in is free of it: finishing the
//! task from the restricted session does not lift it (decision 0004 §6, and decision 0016's
//! addendum on required MFA for live sessions).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tenantry_kernel::{
    AccountId, Actor, AuditId, Clock, Credential, Email, OperatorCredential, PortError,
    RandomSource, Role, SessionId, UserId,
};

use crate::ports::MemberStatus;
use crate::secret::random_alphanumeric;
use crate::{
    verify_password, IdleTimeout, MfaEnrollments, MfaService, PasswordExpiry, SecretHash,
    SecurityError, SessionLifetime, SessionLimit,
};

pub(crate) const SECRET_LEN: usize = 43;
/// `last_seen_at` is written at most this often (a session used at every request does not write
/// at every request). A use within this of the recorded one is not recorded, so the idle timeout
/// counts from the recorded activity plus this: the timeout enforced lies in
/// `[configured, configured + SEEN_GRANULARITY_SECONDS]`, never shorter (decision 0021).
pub const SEEN_GRANULARITY_SECONDS: i64 = 60;
/// The restriction of a session whose member lacks the MFA the account requires.
pub const MFA_ENROLLMENT: &str = "mfa_enrollment";
/// The restriction of a session signed in with an expired password.
pub const PASSWORD_CHANGE: &str = "password_change";

/// The account policy a session obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Whether members must have a second factor; a member without one gets a session restricted to
    /// enrolling.
    pub mfa_required: bool,
    /// Days after which a password expires; `None`: passwords never expire.
    pub password_expiry_days: Option<PasswordExpiry>,
    /// The absolute lifetime of a session, from sign-in, in minutes.
    pub absolute_minutes: SessionLifetime,
    /// The idle timeout in minutes; `None` for none.
    pub idle_minutes: Option<IdleTimeout>,
    /// Whether activity pushes the idle timeout back.
    pub extend_on_activity: bool,
    /// The most live sessions a user may hold in the account; the oldest is signed out to make
    /// room. At least 1, so the session being created always fits.
    pub concurrent_sessions: SessionLimit,
}

/// The account policy sessions obey, kept by the settings.
pub trait SessionPolicySource: Send + Sync {
    /// The account's session policy; `PortError` when it cannot be read.
    fn session_policy(&self, account: AccountId) -> Result<SessionPolicy, PortError>;
    /// Whether the account's IP allowlist (when enforced) admits `ip`.
    fn ip_allowed(&self, account: AccountId, ip: Option<IpAddr>) -> Result<bool, PortError>;
}

/// A stored session with its member's current role and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's id (public; it names the session in lists and the audit log).
    pub id: SessionId,
    /// The account it signs into.
    pub account_id: AccountId,
    /// The user signed in.
    pub user_id: UserId,
    /// The hash of its secret.
    pub secret_hash: SecretHash,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// Its last recorded activity (to [`SEEN_GRANULARITY_SECONDS`]).
    pub last_seen_at: DateTime<Utc>,
    /// The lifetime it was issued with; [`session_expiry`] may end it sooner.
    pub expires_at: DateTime<Utc>,
    /// Whether it was signed out; a revoked session never works again.
    pub revoked: bool,
    /// The address it was signed in from.
    pub ip: Option<String>,
    /// `mfa_enrollment` or `password_change`: the only task this session may do.
    pub restriction: Option<String>,
    /// The member's current role in the account.
    pub role: Role,
    /// The member's current status; only an active member's session works.
    pub member_status: MemberStatus,
    /// The member's custom permissions (`None`: the role's).
    pub permissions: Option<Vec<tenantry_kernel::Permission>>,
    /// The ceiling of a session opened through a portal link (decision 0030); `None` for a
    /// sign-in. Such a session never counts as recently re-authenticated.
    pub cap: Option<crate::SessionCap>,
}

/// Who may sign in: a user, their password hash and their active memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCandidate {
    /// The user.
    pub user_id: UserId,
    /// Their password hash; `None` for a user who never set one (who cannot sign in with a
    /// password).
    pub password_hash: Option<String>,
    /// When the password was last set (`None`: before tracking began).
    pub password_changed_at: Option<DateTime<Utc>>,
    /// `(account, account name, role)` of the user's active memberships.
    pub memberships: Vec<(AccountId, String, Role)>,
}

/// Where sessions live. Every method returns `PortError` when the store fails; an unknown or dead
/// session is `Ok(None)` or `Ok(false)`, not an error.
pub trait SessionStore: Send + Sync {
    /// The user who signs in with `email`, with their active memberships; `None` when nobody does.
    fn login_candidate(&self, email: &str) -> Result<Option<LoginCandidate>, PortError>;
    /// The session `id` with its member's current role and status; `None` when it does not exist.
    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, PortError>;
    /// Inserts the session, first signing out the user's oldest live sessions in the account
    /// so that at most `cap` remain, with an audit entry, in one transaction.
    fn create_session(
        &self,
        record: &SessionRecord,
        cap: u32,
        audit: AuditId,
    ) -> Result<(), PortError>;
    /// Records activity on the session at `at`.
    fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), PortError>;
    /// Gives the session `restriction` unless it already has one (a restriction is never
    /// replaced nor removed). No read cache holds sessions: they are read on every request.
    fn restrict_session(&self, id: SessionId, restriction: &str) -> Result<(), PortError>;
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

/// The first instant at which `session` is refused under `policy` as it stands now: the
/// earliest of
/// - the lifetime it was issued with (`expires_at`: lengthening the policy later does not
///   lengthen a live session; shortening it does, through the next bound),
/// - its sign-in plus the policy's absolute lifetime,
/// - with an idle timeout: its last recorded activity plus the timeout plus
///   [`SEEN_GRANULARITY_SECONDS`] (activity within that of the recorded one is not written, so
///   this is never before the last real activity plus the timeout); or its sign-in plus the
///   timeout when activity does not extend the session.
///
/// The one rule for both the request path ([`SessionService::authenticate`]) and what the
/// session list and sign-in show, so a client reads the expiry that is enforced.
pub fn session_expiry(session: &SessionRecord, policy: &SessionPolicy) -> DateTime<Utc> {
    let absolute = session
        .expires_at
        .min(session.created_at + Duration::minutes(i64::from(policy.absolute_minutes.get())));
    let idle = policy.idle_minutes.map(|m| {
        let timeout = Duration::minutes(i64::from(m.get()));
        if policy.extend_on_activity {
            session.last_seen_at + timeout + Duration::seconds(SEEN_GRANULARITY_SECONDS)
        } else {
            session.created_at + timeout
        }
    });
    idle.map_or(absolute, |idle| idle.min(absolute))
}

/// A new session; the token exists only here.
pub struct IssuedSession {
    /// The session's id.
    pub id: SessionId,
    /// Set when the session may only enrol MFA or change the password.
    pub restriction: Option<String>,
    /// The bearer token (`tnt_ses_<id>_<secret>`): handed to the client once, never stored or
    /// logged.
    pub token: String,
    /// When it expires unless the policy ends it sooner.
    pub expires_at: DateTime<Utc>,
    /// The account it signs into.
    pub account_id: AccountId,
    /// The user signed in.
    pub user_id: UserId,
}

/// What proves the password at a sign-in.
#[derive(Debug, Clone, Copy)]
pub enum SignInProof<'a> {
    /// The password itself.
    Password(&'a str),
    /// A ticket from an earlier step of the same interactive sign-in ([`SignInStep`]).
    Ticket(&'a str),
}

/// Where an interactive sign-in stands: done, or one more question, with a ticket that proves
/// the password for the next step (so the client never posts the password twice).
pub enum SignInStep {
    /// Signed in.
    Signed(IssuedSession),
    /// The user has a second factor: ask for its code.
    NeedsCode {
        /// Proof that the password was right, for the next step.
        ticket: String,
    },
    /// The user is a member of several accounts: ask which one (their names).
    NeedsAccount {
        /// Proof that the password was right, for the next step.
        ticket: String,
        /// The names of the user's accounts.
        accounts: Vec<String>,
    },
}

/// Why a sign-in attempt stopped: a refusal, or a question only the password's holder sees
/// (with the password hash the ticket for the next step is keyed by).
enum Stop {
    Refused(SecurityError),
    NeedsCode { hash: String },
    NeedsAccount { hash: String, accounts: Vec<String> },
}

impl From<SecurityError> for Stop {
    fn from(e: SecurityError) -> Self {
        Self::Refused(e)
    }
}

impl From<PortError> for Stop {
    fn from(e: PortError) -> Self {
        Self::Refused(e.into())
    }
}

/// The address as every throttle and audit lookup keys it (a malformed one lowercased, so it
/// still has one budget).
fn canonical_email(email: &str) -> String {
    Email::parse(email).map_or_else(
        |_| email.trim().to_ascii_lowercase(),
        |e| e.as_str().to_owned(),
    )
}

/// Which of the user's accounts a sign-in opens a session in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChoice<'a> {
    /// The account with this name or id; a user who is no member of it cannot sign in there.
    Named(&'a str),
    /// The user's only account; a member of several must name one (`AccountRequired`).
    OnlyOne,
    /// The user's only account, or the one they joined first (the token grant's clients cannot
    /// answer `AccountRequired`).
    OnlyOrFirstJoined,
}

/// Sign-in sessions: signing in (password, second factor, account choice, under the throttle and
/// the allowlist), authenticating a session token on each request under the account's policy,
/// listing and signing out a user's own sessions.
pub struct SessionService {
    store: Arc<dyn SessionStore>,
    policy: Arc<dyn SessionPolicySource>,
    mfa: Arc<MfaService>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    throttle: Arc<crate::login_throttle::LoginThrottle>,
    /// Whether a portal session's minter still stands behind it (decision 0036).
    portal_minters: Option<Arc<crate::PortalMinters>>,
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

/// Whether a sign-in's `account` names this membership: by the account's slug or its id.
fn names_account(membership: &(AccountId, String, Role), named: &str) -> bool {
    membership.1 == named || membership.0.to_string() == named
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
    /// The service over `store`, obeying `policy`, asking `mfa` for second factors.
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
            portal_minters: None,
        }
    }

    /// Checks, at every request of a session opened through a portal link, that the
    /// credential that minted the link still stands behind it, and ends the session when it
    /// does not (decision 0036). Without it a portal session is refused outright: nothing
    /// could vouch for it.
    pub fn with_portal_minters(mut self, minters: Arc<crate::PortalMinters>) -> Self {
        self.portal_minters = Some(minters);
        self
    }

    /// Shares `throttle` with the other places a password is proven (one budget per address;
    /// see [`crate::LoginThrottle`]). Without it the service keeps a throttle of its own.
    pub fn with_throttle(mut self, throttle: Arc<crate::LoginThrottle>) -> Self {
        self.throttle = throttle;
        self
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
        proof: SignInProof<'_>,
        code: Option<&str>,
        account: AccountChoice<'_>,
        ip: Option<IpAddr>,
        browser: &str,
    ) -> Result<IssuedSession, Stop> {
        // A refused ticket costs a password check too: no path answers faster.
        let password = match proof {
            SignInProof::Password(p) => p,
            SignInProof::Ticket(_) => "",
        };
        let email = Email::parse(email).map_err(|_| SecurityError::Unauthenticated)?;
        let candidate = self.store.login_candidate(email.as_str())?;
        let Some(candidate) = candidate else {
            // Same cost as a wrong password, so the response time does not reveal the address.
            let _ = verify_password(password, decoy_hash());
            return Err(SecurityError::Unauthenticated.into());
        };
        // The account's allowlist applies before the password is checked, so an address
        // outside it can neither sign in nor learn whether a password is right. The refusal is
        // the same as a wrong password (and costs the same): a distinct answer would tell an
        // outsider that this address is a member of the account.
        // Memberships come in the order they were joined.
        let target = match (account, candidate.memberships.as_slice()) {
            (AccountChoice::Named(name), all) => all.iter().find(|m| names_account(m, name)),
            (_, [only]) => Some(only),
            (AccountChoice::OnlyOrFirstJoined, all) => all.first(),
            (AccountChoice::OnlyOne, _) => None,
        };
        if let Some((target, _, _)) = target {
            if !self.policy.ip_allowed(*target, ip)? {
                let _ = verify_password(password, decoy_hash());
                return Err(SecurityError::Unauthenticated.into());
            }
        }
        // A user without a password yet (an owner who has not used their set-up link) costs
        // one verification too: a faster refusal would tell which users are new.
        let verified = match (proof, candidate.password_hash.as_deref()) {
            (SignInProof::Password(p), Some(hash)) => verify_password(p, hash),
            (SignInProof::Ticket(t), Some(hash)) => {
                crate::sign_in_ticket::verify(t, email.as_str(), hash, self.clock.now(), browser)
            }
            (_, None) => {
                let _ = verify_password(password, decoy_hash());
                false
            }
        };
        if !verified {
            return Err(SecurityError::Unauthenticated.into());
        }
        // Verified, so the hash is there: the key of the next step's ticket.
        let hash = candidate.password_hash.clone().unwrap_or_default();
        let (account_id, _, role) = match (target, account) {
            (Some(target), _) => target.clone(),
            (None, AccountChoice::OnlyOne) if candidate.memberships.len() > 1 => {
                return Err(Stop::NeedsAccount {
                    hash,
                    accounts: candidate.memberships.iter().map(|m| m.1.clone()).collect(),
                })
            }
            (None, _) => return Err(SecurityError::Unauthenticated.into()),
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
            // Only used to check the MFA code; every request of the session is authorized from
            // its stored record, custom permissions included.
            permissions: None,
            operator_link: None,
        };
        let enrolled = self.mfa.status(&actor)?.enabled;
        if enrolled {
            let Some(code) = code else {
                return Err(Stop::NeedsCode { hash });
            };
            // A spent second-factor budget says so (only the password's holder gets this far);
            // every other failure is the one generic refusal.
            self.mfa.check_code(&actor, code).map_err(|e| match e {
                SecurityError::RateLimited { .. } => e,
                _ => SecurityError::Unauthenticated,
            })?;
        }
        let policy = self.policy.session_policy(account_id)?;
        // An expired password or a missing required second factor gives a session that can only
        // fix that (the client signs in again afterwards).
        let expired = policy.password_expiry_days.is_some_and(|days| {
            candidate
                .password_changed_at
                .is_some_and(|at| now - at > Duration::days(i64::from(days.get())))
        });
        let restriction = if expired {
            Some(PASSWORD_CHANGE.to_owned())
        } else if policy.mfa_required && !enrolled {
            Some(MFA_ENROLLMENT.to_owned())
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
            expires_at: now + Duration::minutes(i64::from(policy.absolute_minutes.get())),
            revoked: false,
            ip: ip.map(|i| i.to_string()),
            restriction: restriction.clone(),
            role,
            member_status: MemberStatus::Active,
            permissions: None,
            cap: None,
        };
        self.store.create_session(
            &record,
            policy.concurrent_sessions.get(),
            AuditId::generate(self.clock.as_ref(), self.random.as_ref()),
        )?;
        Ok(IssuedSession {
            id,
            restriction,
            token: format!("tnt_ses_{}_{}", id.ulid_lowercase(), secret),
            // As the list shows it: unused, the session ends at the idle timeout if that comes
            // first.
            expires_at: session_expiry(&record, &policy),
            account_id,
            user_id: candidate.user_id,
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
        let choice = account.map_or(AccountChoice::OnlyOne, AccountChoice::Named);
        self.sign_in(email, password, code, choice, ip)
    }

    /// [`Self::login`] with the account chosen by `account`: the one sign-in (throttle, allowlist,
    /// password, MFA, policy) behind `/api/auth/login` and the token grant.
    pub fn sign_in(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        account: AccountChoice<'_>,
        ip: Option<IpAddr>,
    ) -> Result<IssuedSession, SecurityError> {
        // No ticket is issued nor taken here: the binding is never used.
        match self.throttled_attempt(
            email,
            SignInProof::Password(password),
            code,
            account,
            ip,
            "",
        ) {
            Ok(issued) => Ok(issued),
            Err(Stop::Refused(e)) => Err(e),
            Err(Stop::NeedsCode { .. }) => Err(SecurityError::MfaCodeRequired),
            Err(Stop::NeedsAccount { accounts, .. }) => {
                Err(SecurityError::AccountRequired(accounts))
            }
        }
    }

    /// The sign-in of a client that asks its questions one page at a time (the console):
    /// [`Self::sign_in`], with the password or the ticket of the previous step as proof, and
    /// a question answered by a ticket rather than by sending the password back. Tickets are
    /// refused as a wrong password is (throttled and audited alike).
    ///
    /// `browser` is the client's own secret for this sign-in (the console's pre-session form
    /// cookie): the tickets a step hands out are bound to it, and a ticket is taken only with
    /// the binding it was issued with, so one copied to another browser is refused.
    pub fn sign_in_step(
        &self,
        email: &str,
        proof: SignInProof<'_>,
        code: Option<&str>,
        account: AccountChoice<'_>,
        ip: Option<IpAddr>,
        browser: &str,
    ) -> Result<SignInStep, SecurityError> {
        let canonical = canonical_email(email);
        let ticket =
            |hash: &str| crate::sign_in_ticket::issue(&canonical, hash, self.clock.now(), browser);
        match self.throttled_attempt(email, proof, code, account, ip, browser) {
            Ok(issued) => Ok(SignInStep::Signed(issued)),
            Err(Stop::Refused(e)) => Err(e),
            Err(Stop::NeedsCode { hash }) => Ok(SignInStep::NeedsCode {
                ticket: ticket(&hash),
            }),
            Err(Stop::NeedsAccount { hash, accounts }) => Ok(SignInStep::NeedsAccount {
                ticket: ticket(&hash),
                accounts,
            }),
        }
    }

    /// One attempt behind the sign-in throttle: refused while the address or client is
    /// throttled, a failure counted, a success clearing the count.
    fn throttled_attempt(
        &self,
        email: &str,
        proof: SignInProof<'_>,
        code: Option<&str>,
        account: AccountChoice<'_>,
        ip: Option<IpAddr>,
        browser: &str,
    ) -> Result<IssuedSession, Stop> {
        let now = self.clock.now();
        // Every throttle and audit lookup uses the canonical address: another spelling of it
        // (case, surrounding spaces) is the same address, with the same budget.
        let canonical = canonical_email(email);
        let email = canonical.as_str();
        if let Some(seconds) = self.throttle.retry_after(email, ip, now) {
            return Err(SecurityError::RateLimited {
                retry_after_secs: seconds,
            }
            .into());
        }
        let result = self.attempt_login(email, proof, code, account, ip, browser);
        match &result {
            Ok(_) => self.throttle.succeeded(email, ip),
            Err(Stop::Refused(SecurityError::Unauthenticated)) => self.failed_password(email, ip),
            Err(_) => {}
        }
        result
    }

    /// Seconds until a password may be tried again for `email` from `ip`, if the sign-in
    /// throttle blocks it: for a password proven outside a sign-in (an existing user accepting
    /// an invitation), which shares the sign-in's budget.
    pub fn password_retry_after(&self, email: &Email, ip: Option<IpAddr>) -> Option<i64> {
        self.throttle
            .retry_after(email.as_str(), ip, self.clock.now())
    }

    /// Counts a password tried outside a sign-in: a failure as a failed sign-in (throttled and
    /// audited), a success clears the (email, address) count as a sign-in does.
    pub fn password_tried(&self, email: &Email, ip: Option<IpAddr>, proven: bool) {
        if proven {
            self.throttle.succeeded(email.as_str(), ip);
        } else {
            self.failed_password(email.as_str(), ip);
        }
    }

    /// Counts a password tried outside a sign-in against the throttle only, auditing nothing:
    /// for a signed-in member's own change, whose service audits the failure naming them.
    pub fn password_counted(&self, email: &Email, ip: Option<IpAddr>, proven: bool) {
        if proven {
            self.throttle.succeeded(email.as_str(), ip);
        } else {
            self.throttle.failed(email.as_str(), ip, self.clock.now());
        }
    }

    fn failed_password(&self, email: &str, ip: Option<IpAddr>) {
        let now = self.clock.now();
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

    /// A session token → `Actor`, applying the absolute lifetime, the idle timeout and the
    /// account's MFA requirement as the policy stands now.
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
        // The policy as it stands now, so shortening a timeout applies to live sessions.
        let policy = self.policy.session_policy(record.account_id)?;
        if now >= session_expiry(&record, &policy) {
            let _ = self.store.revoke_session(record.user_id, id, now);
            return Err(SecurityError::Unauthenticated);
        }
        // A portal session lives only while its link's minter stands behind it: read at every
        // request (sessions are never cached), so a revocation anywhere applies at the next.
        // The operator credential whose link it was is named with the member in the audit log
        // (it lends no power: the ceiling below does that).
        let mut operator_link = None;
        if record.cap.is_some() {
            let link = match &self.portal_minters {
                Some(minters) => minters.session_link(&record)?,
                None => None,
            };
            let Some(link) = link else {
                return Err(SecurityError::Unauthenticated);
            };
            operator_link = OperatorCredential::from_actor(&link.minted_by);
        }
        // Requiring MFA binds the sessions already open, from their next request: the session
        // of a member without MFA becomes what a sign-in would give now, restricted to
        // enrolling. The restriction is stored, so it lifts as a sign-in's does: by signing in
        // again with the new second factor, not by enrolling from this session (whose holder
        // showed a password once, and a second factor never). Turning the requirement off
        // later does not lift it either, as it does not for a restricted sign-in.
        let restriction = match record.restriction {
            Some(stored) => Some(stored),
            None if policy.mfa_required && !self.mfa.is_enrolled(record.user_id)? => {
                // A portal session never enrols a second factor (decision 0030): it ends
                // instead of becoming an enrolment session.
                if record.cap.is_some() {
                    let _ = self.store.revoke_session(record.user_id, id, now);
                    return Err(SecurityError::Unauthenticated);
                }
                self.store.restrict_session(id, MFA_ENROLLMENT)?;
                Some(MFA_ENROLLMENT.to_owned())
            }
            None => None,
        };
        if now - record.last_seen_at > Duration::seconds(SEEN_GRANULARITY_SECONDS) {
            self.store.touch_session(id, now)?;
        }
        // A portal session is authorized as the member's current role under the link's
        // ceiling, within the minting credential's scopes, and never counts as recently
        // re-authenticated (nobody showed a password or a code for it).
        let (role, scopes, authenticated_at) = match &record.cap {
            Some(cap) => (cap.role_for(record.role), cap.scopes.clone(), None),
            None => (record.role, Vec::new(), Some(record.created_at)),
        };
        Ok(Actor {
            account_id: record.account_id,
            user_id: record.user_id,
            role,
            credential: Credential::Session(id),
            ip,
            // A restricted session carries its restriction as its only "scope"; the request path
            // lets it reach just the routes of that task.
            scopes: restriction.map_or(scopes, |r| vec![format!("restricted:{r}")]),
            authenticated_at,
            permissions: record.permissions,
            operator_link,
        })
    }

    /// The caller's live sessions in the account, newest first, each with `expires_at` as
    /// [`session_expiry`] gives it under the policy now (not the lifetime it was issued with):
    /// what the request path enforces. A session already past it is not live and not listed.
    pub fn list(&self, actor: &Actor) -> Result<Vec<SessionRecord>, SecurityError> {
        let now = self.clock.now();
        let policy = self.policy.session_policy(actor.account_id)?;
        Ok(self
            .store
            .list_sessions(actor.account_id, actor.user_id, now)?
            .into_iter()
            .map(|mut session| {
                session.expires_at = session_expiry(&session, &policy);
                session
            })
            .filter(|session| session.expires_at > now)
            .collect())
    }

    /// Signs out one of the caller's own sessions; `SecurityError::KeyNotFound` for any other
    /// (another user's session is not found).
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
            Credential::ApiKey(_) | Credential::Operator(_) | Credential::External(_) => {
                Err(SecurityError::InvalidKeyRequest(
                    "logout ends a session; this request used an API key".into(),
                ))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
