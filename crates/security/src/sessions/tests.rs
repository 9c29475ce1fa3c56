//! The session rules as tests: a restriction follows the policy and is never lifted (required
//! MFA restricts a live session at its next request), and the idle timeout is a law over
//! generated activity (every use extends it; the listed expiry follows the current policy).
//! Helpers here (a fixed clock, policies) are shared with other modules' tests.

use std::collections::HashMap;
use std::sync::Mutex;

use proptest::prelude::*;
use tenantry_kernel::{FixedClock, OsRandom};

use super::*;
use crate::mfa_in_memory::OneEnrollment;
use crate::SecretBox;

/// Sessions in memory.
#[derive(Default)]
pub(crate) struct MemSessions(pub(crate) Mutex<HashMap<SessionId, SessionRecord>>);

impl SessionStore for MemSessions {
    fn login_candidate(&self, _: &str) -> Result<Option<LoginCandidate>, PortError> {
        Ok(None)
    }
    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, PortError> {
        Ok(self.0.lock().unwrap().get(&id).cloned())
    }
    fn create_session(&self, r: &SessionRecord, _: u32, _: AuditId) -> Result<(), PortError> {
        self.0.lock().unwrap().insert(r.id, r.clone());
        Ok(())
    }
    fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), PortError> {
        if let Some(r) = self.0.lock().unwrap().get_mut(&id) {
            r.last_seen_at = at;
        }
        Ok(())
    }
    fn restrict_session(&self, id: SessionId, restriction: &str) -> Result<(), PortError> {
        if let Some(r) = self.0.lock().unwrap().get_mut(&id) {
            r.restriction.get_or_insert_with(|| restriction.to_owned());
        }
        Ok(())
    }
    fn record_failed_login(
        &self,
        _: &str,
        _: Option<&str>,
        _: DateTime<Utc>,
        _: &dyn Fn() -> AuditId,
    ) -> Result<(), PortError> {
        Ok(())
    }
    fn revoke_session(
        &self,
        _: UserId,
        id: SessionId,
        _: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get_mut(&id)
            .map(|r| r.revoked = true)
            .is_some())
    }
    fn list_sessions(
        &self,
        _: AccountId,
        _: UserId,
        _: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, PortError> {
        Ok(self.0.lock().unwrap().values().cloned().collect())
    }
}

/// The account's MFA requirement, switchable; everything else is the default policy.
#[derive(Default)]
struct Policy(Mutex<bool>);

impl SessionPolicySource for Policy {
    fn session_policy(&self, _: AccountId) -> Result<SessionPolicy, PortError> {
        Ok(SessionPolicy {
            mfa_required: *self.0.lock().unwrap(),
            password_expiry_days: None,
            absolute_minutes: SessionLifetime::new(1440).unwrap(),
            idle_minutes: None,
            extend_on_activity: true,
            concurrent_sessions: SessionLimit::new(5).unwrap(),
        })
    }
    fn ip_allowed(&self, _: AccountId, _: Option<IpAddr>) -> Result<bool, PortError> {
        Ok(true)
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

struct World {
    service: SessionService,
    policy: Arc<Policy>,
    enrollment: Arc<OneEnrollment>,
    /// A live session and its token.
    token: String,
}

/// A member's live session, opened with `restriction`, under a policy that does not
/// require MFA and without enrollment.
fn world(restriction: Option<&str>) -> World {
    let clock = Arc::new(FixedClock(now()));
    let (store, policy) = (
        Arc::new(MemSessions::default()),
        Arc::new(Policy::default()),
    );
    let enrollment = Arc::new(OneEnrollment::default());
    let mfa = Arc::new(MfaService::new(
        enrollment.clone(),
        SecretBox::new(&[7u8; 32]),
        clock.clone(),
        Arc::new(OsRandom),
    ));
    let id = SessionId::generate(clock.as_ref(), &OsRandom);
    let secret = "s".repeat(SECRET_LEN);
    store.0.lock().unwrap().insert(
        id,
        SessionRecord {
            id,
            account_id: AccountId::generate(clock.as_ref(), &OsRandom),
            user_id: UserId::generate(clock.as_ref(), &OsRandom),
            secret_hash: SecretHash::of(&secret),
            created_at: now(),
            last_seen_at: now(),
            expires_at: now() + Duration::days(1),
            revoked: false,
            ip: None,
            restriction: restriction.map(str::to_owned),
            role: Role::Developer,
            member_status: MemberStatus::Active,
            permissions: None,
            cap: None,
        },
    );
    World {
        service: SessionService::new(store, policy.clone(), mfa, clock, Arc::new(OsRandom)),
        policy,
        enrollment,
        token: format!("tnt_ses_{}_{secret}", id.ulid_lowercase()),
    }
}

fn restriction_seen(w: &World) -> Option<String> {
    let actor = w
        .service
        .authenticate(&w.token, None)
        .expect("live session");
    actor
        .scopes
        .iter()
        .find_map(|s| s.strip_prefix("restricted:"))
        .map(str::to_owned)
}

#[test]
fn requiring_mfa_restricts_a_live_session_at_its_next_request() {
    let w = world(None);
    assert_eq!(restriction_seen(&w), None);
    *w.policy.0.lock().unwrap() = true;
    assert_eq!(restriction_seen(&w).as_deref(), Some(MFA_ENROLLMENT));
    // Enrolling from this session does not lift it: a sign-in with the code does.
    *w.enrollment.enabled.lock().unwrap() = true;
    assert_eq!(restriction_seen(&w).as_deref(), Some(MFA_ENROLLMENT));
    // An enrolled member's live session is not restricted.
    let enrolled = world(None);
    *enrolled.enrollment.enabled.lock().unwrap() = true;
    *enrolled.policy.0.lock().unwrap() = true;
    assert_eq!(restriction_seen(&enrolled), None);
}

/// A clock the test moves.
pub(crate) struct Now(pub(crate) Mutex<DateTime<Utc>>);

impl Clock for Now {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// One fixed policy.
pub(crate) struct Fixed(pub(crate) SessionPolicy);

impl SessionPolicySource for Fixed {
    fn session_policy(&self, _: AccountId) -> Result<SessionPolicy, PortError> {
        Ok(self.0)
    }
    fn ip_allowed(&self, _: AccountId, _: Option<IpAddr>) -> Result<bool, PortError> {
        Ok(true)
    }
}

pub(crate) fn idle_policy(idle_minutes: u32) -> SessionPolicy {
    SessionPolicy {
        mfa_required: false,
        password_expiry_days: None,
        absolute_minutes: SessionLifetime::new(10_080).unwrap(),
        idle_minutes: Some(IdleTimeout::new(idle_minutes).unwrap()),
        extend_on_activity: true,
        concurrent_sessions: SessionLimit::new(5).unwrap(),
    }
}

/// A session signed in at `now()` under `policy`, on a clock the test moves; its token.
fn timed_world(policy: SessionPolicy) -> (SessionService, Arc<Now>, String) {
    let clock = Arc::new(Now(Mutex::new(now())));
    let store = Arc::new(MemSessions::default());
    let mfa = Arc::new(MfaService::new(
        Arc::new(OneEnrollment::default()),
        SecretBox::new(&[7u8; 32]),
        clock.clone(),
        Arc::new(OsRandom),
    ));
    let id = SessionId::generate(clock.as_ref(), &OsRandom);
    let secret = "s".repeat(SECRET_LEN);
    store.0.lock().unwrap().insert(
        id,
        SessionRecord {
            id,
            account_id: AccountId::generate(clock.as_ref(), &OsRandom),
            user_id: UserId::generate(clock.as_ref(), &OsRandom),
            secret_hash: SecretHash::of(&secret),
            created_at: now(),
            last_seen_at: now(),
            expires_at: now() + Duration::minutes(i64::from(policy.absolute_minutes.get())),
            revoked: false,
            ip: None,
            restriction: None,
            role: Role::Developer,
            member_status: MemberStatus::Active,
            permissions: None,
            cap: None,
        },
    );
    let service = SessionService::new(
        store,
        Arc::new(Fixed(policy)),
        mfa,
        clock.clone(),
        Arc::new(OsRandom),
    );
    (
        service,
        clock,
        format!("tnt_ses_{}_{secret}", id.ulid_lowercase()),
    )
}

/// Whether the session is accepted at `at`.
fn accepted_at(service: &SessionService, clock: &Now, token: &str, at: DateTime<Utc>) -> bool {
    *clock.0.lock().unwrap() = at;
    service.authenticate(token, None).is_ok()
}

#[test]
fn an_unrecorded_use_still_extends_the_idle_timeout() {
    // Idle timeout one minute; used at 50 s, which is not recorded (within the granularity).
    let (service, clock, token) = timed_world(idle_policy(1));
    let at = |secs| now() + Duration::seconds(secs);
    assert!(accepted_at(&service, &clock, &token, at(50)));
    // 100 s: 50 s after the last use, within the minute. Refused before this change.
    assert!(accepted_at(&service, &clock, &token, at(100)));
}

#[test]
fn the_listed_expiry_follows_the_policy_now() {
    let (service, clock, token) = timed_world(idle_policy(30));
    let actor = service.authenticate(&token, None).expect("live");
    let listed = |s: &SessionService| s.list(&actor).expect("list")[0].expires_at;
    assert_eq!(
        listed(&service),
        now() + Duration::minutes(30) + Duration::seconds(SEEN_GRANULARITY_SECONDS)
    );
    // Past it, the session is neither accepted nor listed.
    let end = listed(&service);
    assert!(!accepted_at(&service, &clock, &token, end));
    assert!(service.list(&actor).expect("list").is_empty());
}

/// Activity: milliseconds from one use to the next, each within the idle timeout of the
/// previous use, with a timeout of 1 to 120 minutes.
fn activity() -> impl Strategy<Value = (u32, Vec<i64>)> {
    (1u32..=120).prop_flat_map(|idle| {
        let max = i64::from(idle) * 60_000 - 1;
        (Just(idle), prop::collection::vec(0..=max, 0..16))
    })
}

/// Whatever the activity: every use is accepted; the expiry the list shows lies in
/// `[last use + idle, last use + idle + granularity]`; the session is accepted until just
/// before that expiry and refused from it on.
fn check_idle_law(idle: u32, gaps: &[i64], probe_at_expiry: bool) -> Result<(), TestCaseError> {
    let (service, clock, token) = timed_world(idle_policy(idle));
    let mut last = now();
    let mut actor = None;
    for gap in gaps {
        last += Duration::milliseconds(*gap);
        *clock.0.lock().unwrap() = last;
        match service.authenticate(&token, None) {
            Ok(a) => actor = Some(a),
            Err(e) => return Err(TestCaseError::fail(format!("refused at {last}: {e}"))),
        }
    }
    let actor = match actor {
        Some(a) => a,
        None => service.authenticate(&token, None).expect("just signed in"),
    };
    let expiry = service.list(&actor).expect("list")[0].expires_at;
    let timeout = Duration::minutes(i64::from(idle));
    prop_assert!(
        expiry >= last + timeout,
        "expiry {expiry} before last use {last} + {idle} min"
    );
    prop_assert!(
        expiry <= last + timeout + Duration::seconds(SEEN_GRANULARITY_SECONDS),
        "expiry {expiry} beyond the granularity"
    );
    if probe_at_expiry {
        prop_assert!(
            !accepted_at(&service, &clock, &token, expiry),
            "accepted at {expiry}"
        );
    } else {
        let before = expiry - Duration::milliseconds(1);
        prop_assert!(
            accepted_at(&service, &clock, &token, before),
            "refused at {before}"
        );
    }
    Ok(())
}

/// What happens between two requests of the session.
#[derive(Debug, Clone)]
enum Step {
    RequireMfa(bool),
    Enrolled(bool),
    Request,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            any::<bool>().prop_map(Step::RequireMfa),
            any::<bool>().prop_map(Step::Enrolled),
            Just(Step::Request),
        ],
        0..24,
    )
}

proptest! {
    // Fixed budget, no persistence file: the failing input is printed instead.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the policy and enrollment do between requests: a request made while the
    /// account requires MFA of a member without it is restricted to enrolling; a session
    /// once restricted stays restricted (only a new sign-in is free); a session the policy
    /// never caught unenrolled is never restricted; an expired-password restriction is never
    /// replaced.
    /// The idle timeout enforced is never shorter than configured, at most the recording
    /// granularity longer, and the list shows exactly when the request path refuses.
    #[test]
    fn a_session_is_never_refused_before_its_last_use_plus_the_idle_timeout(
        (idle, gaps) in activity(),
        probe_at_expiry in any::<bool>(),
    ) {
        check_idle_law(idle, &gaps, probe_at_expiry)?;
    }

    #[test]
    fn a_restriction_follows_the_policy_and_is_never_lifted(
        opened_for_password_change in any::<bool>(),
        steps in steps(),
    ) {
        let initial = opened_for_password_change.then_some(PASSWORD_CHANGE);
        let w = world(initial);
        let (mut required, mut enrolled) = (false, false);
        let mut expected = initial.map(str::to_owned);
        for step in &steps {
            match step {
                Step::RequireMfa(on) => {
                    required = *on;
                    *w.policy.0.lock().unwrap() = *on;
                }
                Step::Enrolled(on) => {
                    enrolled = *on;
                    *w.enrollment.enabled.lock().unwrap() = *on;
                }
                Step::Request => {
                    if expected.is_none() && required && !enrolled {
                        expected = Some(MFA_ENROLLMENT.to_owned());
                    }
                    prop_assert_eq!(restriction_seen(&w), expected.clone(), "after {:?}", steps);
                }
            }
        }
    }
}
