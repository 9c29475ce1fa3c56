//! The token grant of the settings catalog's clients (`POST /authorization/token`, RFC 6749
//! §4.3 and §6): a password grant opens an ordinary sign-in session (through
//! [`SessionService::sign_in`], so the throttle, allowlist, MFA and policy are the ones of
//! `/api/auth/login`) and starts a family of refresh tokens `tnt_rft_<id>_<secret>`.
//!
//! A refresh token is worth exactly what the session it came with is worth, and no more:
//! - it works only while that session is live (not signed out, revoked, pushed out by the
//!   concurrent-session cap, past its idle or absolute timeout, or its member suspended), so it
//!   never outlives the session policy;
//! - the session it gives keeps the original sign-in time (`created_at`): the absolute lifetime
//!   still counts from the password, and a refreshed token never passes a re-authentication
//!   check the original could not;
//! - it is used once: refreshing marks it used and revokes the session it came with; presenting
//!   a used token again means two parties hold it, so the whole family and every session it
//!   issued are revoked (OAuth 2.0 Security BCP §4.14, refresh token rotation).
//!
//! Decision 0024.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tenantry_kernel::{
    AccountId, AuditId, Clock, PortError, RandomSource, RefreshTokenId, SessionId, UserId,
};

use crate::ports::MemberStatus;
use crate::secret::random_alphanumeric;
use crate::sessions::{session_expiry, AccountChoice, SessionPolicySource, SessionStore};
use crate::{SecretHash, SecurityError, SessionRecord, SessionService};

const SECRET_LEN: usize = 43;
const PREFIX: &str = "tnt_rft_";

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// The token's id.
    pub id: RefreshTokenId,
    /// The id of the family's first token: every rotation of one sign-in shares it.
    pub family: RefreshTokenId,
    /// The session issued together with this token.
    pub session_id: SessionId,
    /// The account its session signs into.
    pub account_id: AccountId,
    /// The user.
    pub user_id: UserId,
    /// The hash of its secret.
    pub secret_hash: SecretHash,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// Whether it was exchanged; a used token presented again revokes its whole family (it was
    /// stolen or replayed).
    pub used: bool,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Where refresh tokens are kept. Only hashes of their secrets are stored.
pub trait RefreshTokenStore: Send + Sync {
    /// The token `id`; `None` when it does not exist. `PortError` only when the store fails.
    fn refresh_token(&self, id: RefreshTokenId) -> Result<Option<RefreshRecord>, PortError>;
    /// Stores the first token of a family (after a password grant).
    fn insert_refresh_token(&self, record: &RefreshRecord) -> Result<(), PortError>;
    /// In one transaction: marks `used` used if it is still unused and unrevoked (otherwise
    /// changes nothing and answers `Ok(false)`: another refresh won the race), revokes the
    /// session it came with, inserts `session` (as given: its `created_at` is the original
    /// sign-in) and `next`, and audits `session.refreshed`.
    fn rotate_refresh_token(
        &self,
        used: RefreshTokenId,
        session: &SessionRecord,
        next: &RefreshRecord,
        audit: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;
    /// Revokes every token of the family and every session they issued, auditing
    /// `session.refresh_reused` in the account.
    fn revoke_refresh_family(
        &self,
        family: RefreshTokenId,
        audit: AuditId,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;
}

/// What a grant gives: an access token (a session token), its expiry and a refresh token.
pub struct GrantedTokens {
    /// The access token: a sign-in session token.
    pub access_token: String,
    /// The refresh token that gets the next pair; single-use.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Seconds from now to `expires_at`.
    pub expires_in_secs: i64,
    /// The account signed into.
    pub account_id: AccountId,
}

/// The token grant: password and refresh-token grants over the session service.
pub struct TokenGrantService {
    sessions: Arc<SessionService>,
    session_store: Arc<dyn SessionStore>,
    policy: Arc<dyn SessionPolicySource>,
    store: Arc<dyn RefreshTokenStore>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
}

/// The parts of a refresh token, or `None` for anything else (a session token, an API key).
fn parse_token(token: &str) -> Option<(RefreshTokenId, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 26
        || secret.len() != SECRET_LEN
        || !secret.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((RefreshTokenId::parse_ulid(id).ok()?, secret))
}

/// Collaborators of [`TokenGrantService`].
pub struct TokenGrantDeps {
    /// Signs in for the password grant.
    pub sessions: Arc<SessionService>,
    /// Reads and refreshes the sessions behind refresh tokens.
    pub session_store: Arc<dyn SessionStore>,
    /// The account's session policy.
    pub policy: Arc<dyn SessionPolicySource>,
    /// Where refresh tokens are kept.
    pub store: Arc<dyn RefreshTokenStore>,
    /// The source of time.
    pub clock: Arc<dyn Clock>,
    /// The source of randomness (tokens, ids).
    pub random: Arc<dyn RandomSource>,
}

impl TokenGrantService {
    /// The service over `deps`.
    pub fn new(deps: TokenGrantDeps) -> Self {
        Self {
            sessions: deps.sessions,
            session_store: deps.session_store,
            policy: deps.policy,
            store: deps.store,
            clock: deps.clock,
            random: deps.random,
        }
    }

    /// Whether a string has the form of a refresh token.
    pub fn is_refresh_token(token: &str) -> bool {
        parse_token(token).is_some()
    }

    fn new_token(&self) -> (RefreshTokenId, String, SecretHash) {
        let id = RefreshTokenId::generate(self.clock.as_ref(), self.random.as_ref());
        let secret = random_alphanumeric(self.random.as_ref(), SECRET_LEN);
        let hash = SecretHash::of(&secret);
        (
            id,
            format!("{PREFIX}{}_{secret}", id.ulid_lowercase()),
            hash,
        )
    }

    /// `grant_type=password`: the sign-in of `/api/auth/login` (same errors: `Unauthenticated`
    /// for an unknown user, a wrong password and an account the user is not a member of alike,
    /// `MfaCodeRequired`, `RateLimited`), then the first refresh token of a new family.
    pub fn password_grant(
        &self,
        username: &str,
        password: &str,
        otp: Option<&str>,
        account: AccountChoice<'_>,
        ip: Option<IpAddr>,
    ) -> Result<GrantedTokens, SecurityError> {
        let issued = self
            .sessions
            .sign_in(username, password, otp, account, ip)?;
        let (id, token, hash) = self.new_token();
        self.store.insert_refresh_token(&RefreshRecord {
            id,
            family: id,
            session_id: issued.id,
            account_id: issued.account_id,
            user_id: issued.user_id,
            secret_hash: hash,
            created_at: self.clock.now(),
            used: false,
            revoked: false,
        })?;
        Ok(GrantedTokens {
            access_token: issued.token,
            refresh_token: token,
            expires_at: issued.expires_at,
            expires_in_secs: (issued.expires_at - self.clock.now()).num_seconds().max(0),
            account_id: issued.account_id,
        })
    }

    /// `grant_type=refresh_token`: a new session and refresh token for a live session's, or
    /// `Unauthenticated` (the grant's `invalid_grant`) for anything else. A token already used
    /// revokes its family first.
    pub fn refresh(&self, token: &str, ip: Option<IpAddr>) -> Result<GrantedTokens, SecurityError> {
        let (id, secret) = parse_token(token).ok_or(SecurityError::Unauthenticated)?;
        let record = self
            .store
            .refresh_token(id)?
            .ok_or(SecurityError::Unauthenticated)?;
        // Without the secret nobody may revoke a family: an id alone proves nothing.
        if !record.secret_hash.matches(secret) || record.revoked {
            return Err(SecurityError::Unauthenticated);
        }
        let now = self.clock.now();
        if record.used {
            self.revoke_family(record.family, now);
            return Err(SecurityError::Unauthenticated);
        }
        let session = self
            .session_store
            .session(record.session_id)?
            .ok_or(SecurityError::Unauthenticated)?;
        let policy = self.policy.session_policy(session.account_id)?;
        let live = !session.revoked
            && session.member_status == MemberStatus::Active
            && now < session_expiry(&session, &policy);
        if !live || !self.policy.ip_allowed(session.account_id, ip)? {
            return Err(SecurityError::Unauthenticated);
        }
        let session_id = SessionId::generate(self.clock.as_ref(), self.random.as_ref());
        let session_secret = random_alphanumeric(self.random.as_ref(), SECRET_LEN);
        let next_session = SessionRecord {
            id: session_id,
            secret_hash: SecretHash::of(&session_secret),
            // The original sign-in: the absolute lifetime and re-authentication count from the
            // password, never from a refresh.
            created_at: session.created_at,
            last_seen_at: now,
            // The lifetime the first session was issued with, never longer.
            expires_at: session.expires_at,
            revoked: false,
            ip: ip.map(|i| i.to_string()),
            ..session
        };
        let (next_id, next_token, next_hash) = self.new_token();
        let next = RefreshRecord {
            id: next_id,
            family: record.family,
            session_id,
            account_id: record.account_id,
            user_id: record.user_id,
            secret_hash: next_hash,
            created_at: now,
            used: false,
            revoked: false,
        };
        let audit = AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        if !self
            .store
            .rotate_refresh_token(id, &next_session, &next, audit, now)?
        {
            // A concurrent refresh used it first: this is the second use.
            self.revoke_family(record.family, now);
            return Err(SecurityError::Unauthenticated);
        }
        let expires_at = session_expiry(&next_session, &policy);
        Ok(GrantedTokens {
            access_token: format!("tnt_ses_{}_{session_secret}", session_id.ulid_lowercase()),
            refresh_token: next_token,
            expires_at,
            expires_in_secs: (expires_at - now).num_seconds().max(0),
            account_id: next_session.account_id,
        })
    }

    fn revoke_family(&self, family: RefreshTokenId, now: DateTime<Utc>) {
        let audit = AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        if let Err(e) = self.store.revoke_refresh_family(family, audit, now) {
            tracing::error!(error = %e, "could not revoke a reused refresh token's family");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use chrono::Duration;
    use proptest::prelude::*;
    use tenantry_kernel::{OsRandom, Role};

    use super::*;
    use crate::mfa_in_memory::OneEnrollment;
    use crate::sessions::tests::{idle_policy, now, Fixed, MemSessions, Now};
    use crate::{MfaService, SecretBox};

    /// Refresh tokens in memory, next to the sessions they issue.
    struct MemTokens {
        sessions: Arc<MemSessions>,
        tokens: Mutex<HashMap<RefreshTokenId, RefreshRecord>>,
    }

    impl RefreshTokenStore for MemTokens {
        fn refresh_token(&self, id: RefreshTokenId) -> Result<Option<RefreshRecord>, PortError> {
            Ok(self.tokens.lock().unwrap().get(&id).cloned())
        }
        fn insert_refresh_token(&self, r: &RefreshRecord) -> Result<(), PortError> {
            self.tokens.lock().unwrap().insert(r.id, r.clone());
            Ok(())
        }
        fn rotate_refresh_token(
            &self,
            used: RefreshTokenId,
            session: &SessionRecord,
            next: &RefreshRecord,
            _: AuditId,
            _: DateTime<Utc>,
        ) -> Result<bool, PortError> {
            let mut tokens = self.tokens.lock().unwrap();
            let mut sessions = self.sessions.0.lock().unwrap();
            let Some(old) = tokens.get_mut(&used).filter(|t| !t.used && !t.revoked) else {
                return Ok(false);
            };
            old.used = true;
            let previous = old.session_id;
            match sessions.get_mut(&previous).filter(|s| !s.revoked) {
                Some(s) => s.revoked = true,
                None => return Ok(false),
            }
            sessions.insert(session.id, session.clone());
            tokens.insert(next.id, next.clone());
            Ok(true)
        }
        fn revoke_refresh_family(
            &self,
            family: RefreshTokenId,
            _: AuditId,
            _: DateTime<Utc>,
        ) -> Result<(), PortError> {
            let mut tokens = self.tokens.lock().unwrap();
            let mut sessions = self.sessions.0.lock().unwrap();
            for t in tokens.values_mut().filter(|t| t.family == family) {
                t.revoked = true;
                if let Some(s) = sessions.get_mut(&t.session_id) {
                    s.revoked = true;
                }
            }
            Ok(())
        }
    }

    /// What happens between two requests of the client.
    #[derive(Debug, Clone)]
    enum Step {
        /// Refresh with the n-th refresh token issued so far (modulo their number): the latest
        /// one is the client's, any earlier one a stolen copy.
        Refresh(usize),
        /// Minutes pass (within the idle timeout).
        Wait(i64),
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(
            prop_oneof![
                3 => (0usize..8).prop_map(Step::Refresh),
                1 => (0i64..30).prop_map(Step::Wait),
            ],
            1..24,
        )
    }

    /// A grant service over memory with one sign-in, five minutes before the clock's time: the
    /// service, the clock, the sign-in's access and refresh tokens and its time.
    fn signed_in() -> (TokenGrantService, Arc<Now>, String, String, DateTime<Utc>) {
        let clock = Arc::new(Now(Mutex::new(now())));
        let sessions = Arc::new(MemSessions::default());
        let policy = Arc::new(Fixed(idle_policy(60)));
        let mfa = Arc::new(MfaService::new(
            Arc::new(OneEnrollment::default()),
            SecretBox::new(&[7u8; 32]),
            clock.clone(),
            Arc::new(OsRandom),
        ));
        let store = Arc::new(MemTokens {
            sessions: sessions.clone(),
            tokens: Mutex::default(),
        });
        let signed_in_at = now() - Duration::minutes(5);
        let session_id = SessionId::generate(clock.as_ref(), &OsRandom);
        let secret = "s".repeat(SECRET_LEN);
        let record = SessionRecord {
            id: session_id,
            account_id: AccountId::generate(clock.as_ref(), &OsRandom),
            user_id: UserId::generate(clock.as_ref(), &OsRandom),
            secret_hash: SecretHash::of(&secret),
            created_at: signed_in_at,
            last_seen_at: now(),
            expires_at: signed_in_at + Duration::days(7),
            revoked: false,
            ip: None,
            restriction: None,
            role: Role::Developer,
            member_status: MemberStatus::Active,
            permissions: None,
            cap: None,
        };
        sessions
            .0
            .lock()
            .unwrap()
            .insert(session_id, record.clone());
        let service = TokenGrantService::new(TokenGrantDeps {
            sessions: Arc::new(SessionService::new(
                sessions.clone(),
                policy.clone(),
                mfa,
                clock.clone(),
                Arc::new(OsRandom),
            )),
            session_store: sessions,
            policy,
            store: store.clone(),
            clock: clock.clone(),
            random: Arc::new(OsRandom),
        });
        let (id, refresh, hash) = service.new_token();
        store
            .insert_refresh_token(&RefreshRecord {
                id,
                family: id,
                session_id,
                account_id: record.account_id,
                user_id: record.user_id,
                secret_hash: hash,
                created_at: now(),
                used: false,
                revoked: false,
            })
            .unwrap();
        let access = format!("tnt_ses_{}_{secret}", session_id.ulid_lowercase());
        (service, clock, access, refresh, signed_in_at)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Nothing but a refresh token's own form parses as one: a session token or an API key
        /// with the same shape is never taken for a refresh token.
        #[test]
        fn only_refresh_tokens_parse(
            prefix in prop_oneof![Just("tnt_ses_"), Just("tnt_live_"), Just("tnt_rft_"), Just("")],
            id in "[0-7][0-9a-hjkmnp-tv-z]{25}",
            secret in "[A-Za-z0-9]{43}",
        ) {
            let token = format!("{prefix}{id}_{secret}");
            prop_assert_eq!(parse_token(&token).is_some(), prefix == PREFIX, "{}", token);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the client and a thief do with the refresh tokens: each token refreshes at
        /// most once; the first replay of a used one ends the whole family (no token and no
        /// session of it works afterwards); only the latest session is live; and every session a
        /// refresh gives carries the original sign-in time (a refresh is never a sign-in).
        #[test]
        fn a_refresh_token_is_used_once_and_never_signs_in_anew(steps in steps()) {
            let (service, clock, first_access, first_refresh, signed_in_at) = signed_in();
            let mut refresh_tokens = vec![first_refresh];
            let mut access_tokens = vec![first_access];
            let mut used = vec![false];
            let mut family_revoked = false;
            for step in &steps {
                match step {
                    Step::Wait(minutes) => {
                        let mut t = clock.0.lock().unwrap();
                        *t += Duration::minutes(*minutes);
                    }
                    Step::Refresh(n) => {
                        let i = n % refresh_tokens.len();
                        let outcome = service.refresh(&refresh_tokens[i], None);
                        if family_revoked || used[i] {
                            prop_assert!(outcome.is_err(), "refresh {} after {:?}", i, steps);
                            family_revoked = true;
                        } else {
                            let granted = outcome.map_err(|e| TestCaseError::fail(format!("{e} after {steps:?}")))?;
                            used[i] = true;
                            refresh_tokens.push(granted.refresh_token);
                            access_tokens.push(granted.access_token);
                            used.push(false);
                        }
                    }
                }
                for (k, access) in access_tokens.iter().enumerate() {
                    let live = !family_revoked && k + 1 == access_tokens.len();
                    match service.sessions.authenticate(access, None) {
                        Ok(actor) => {
                            prop_assert!(live, "session {} accepted after {:?}", k, steps);
                            prop_assert_eq!(actor.authenticated_at, Some(signed_in_at));
                        }
                        Err(_) => prop_assert!(!live, "session {} refused after {:?}", k, steps),
                    }
                }
            }
        }
    }
}
