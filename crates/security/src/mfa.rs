//! TOTP multi-factor authentication (RFC 6238 via totp-rs: SHA-1, 6 digits, 30 s steps, ±1 step
//! of clock skew) with replay protection (a time step is accepted once) and single-use backup
//! codes stored as SHA-256 hashes (80 random bits each, so a fast hash is enough).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tenantry_kernel::{
    Actor, AuditId, Clock, Credential, MfaEnrollmentId, PortError, RandomSource, UserId,
};
use totp_rs::{Algorithm, TOTP};

use crate::secret::random_alphanumeric;
use crate::{verify_password, Sealed, SecretBox, SecretHash, SecurityError};

const STEP_SECONDS: u64 = 30;
const BACKUP_CODES: usize = 10;

/// RFC 4648 base32 without padding: how authenticator apps take TOTP secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ALPHABET[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn totp(secret: &[u8]) -> Result<TOTP, SecurityError> {
    TOTP::new(Algorithm::SHA1, 6, 0, STEP_SECONDS, secret.to_vec())
        .map_err(|e| SecurityError::InvalidKeyRequest(format!("TOTP secret: {e}")))
}

/// The code for time step `step`.
pub fn code_at(secret: &[u8], step: u64) -> Result<String, SecurityError> {
    Ok(totp(secret)?.generate(step * STEP_SECONDS))
}

/// The current code for a base32 secret as an authenticator app shows it (`None` if the secret
/// is not base32).
pub fn code_for(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    code_at(&decode_base32(secret_base32)?, unix_seconds / STEP_SECONDS).ok()
}

/// The time step (now −1, now, now +1) whose code is `code`, if any.
fn matching_step(
    secret: &[u8],
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>, SecurityError> {
    let current = u64::try_from(now.timestamp()).unwrap_or(0) / STEP_SECONDS;
    let t = totp(secret)?;
    let code = code.trim();
    Ok([current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| t.generate(step * STEP_SECONDS) == code))
}

/// A user's stored enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRecord {
    /// The enrollment's id.
    pub enrollment_id: String,
    /// The TOTP secret, sealed.
    pub secret_sealed: Sealed,
    /// Whether the enrollment was confirmed with a code (a pending one protects nothing yet).
    pub enabled: bool,
    /// The last TOTP time step accepted; a step is accepted once, so a code cannot be replayed.
    pub last_used_step: Option<i64>,
}

/// What the user and organization API `GET /api/user/mfa` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStatus {
    /// Whether a second factor is on.
    pub enabled: bool,
    /// Backup codes not yet used.
    pub backup_codes_remaining: u32,
}

/// A started enrollment: the secret is shown once, here.
pub struct MfaEnrollment {
    /// The enrollment's id, to confirm it with a code.
    pub enrollment_id: MfaEnrollmentId,
    /// The TOTP secret in base32, for typing into an authenticator app.
    pub secret_base32: String,
    /// The `otpauth://` URI of the same secret, for a QR code.
    pub otpauth_uri: String,
}

/// Where second factors are kept. Every method returns `PortError` when the store fails; a code
/// that no longer applies is `Ok(false)`, not an error.
pub trait MfaStore: Send + Sync {
    /// The user's enrollment, pending or enabled; `None` without one.
    fn mfa(&self, user: UserId) -> Result<Option<MfaRecord>, PortError>;
    /// How many of the user's backup codes are unused.
    fn unused_backup_codes(&self, user: UserId) -> Result<u32, PortError>;
    /// Stores a pending (not enabled) enrollment, replacing any pending one.
    fn put_pending(
        &self,
        user: UserId,
        enrollment_id: &str,
        sealed: &Sealed,
        at: DateTime<Utc>,
    ) -> Result<(), PortError>;
    /// Enables the pending enrollment `enrollment_id` if its last step is below `step`, storing
    /// the backup code hashes and an audit entry; `Ok(false)` if it no longer applies.
    fn activate(
        &self,
        actor: &Actor,
        enrollment_id: &str,
        step: i64,
        backup_hashes: &[SecretHash],
        audit: AuditId,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;
    /// Records `step` as used if it is above the last used one (`Ok(false)`: a replay).
    fn use_step(&self, user: UserId, step: i64) -> Result<bool, PortError>;
    /// Marks the backup code with this hash used; `Ok(false)` if none unused matches.
    fn consume_backup_code(
        &self,
        user: UserId,
        hash: &SecretHash,
        at: DateTime<Utc>,
    ) -> Result<bool, PortError>;
    /// Removes the enrollment and backup codes, with an audit entry.
    fn remove_mfa(&self, actor: &Actor, audit: AuditId, at: DateTime<Utc>)
        -> Result<(), PortError>;
    /// The user's password hash and email.
    fn credentials(&self, user: UserId) -> Result<Option<(String, Option<String>)>, PortError>;
}

/// Whether a user has MFA enrolled (an enrollment verified with a code and not disabled since):
/// the one question other services ask of the MFA context.
pub trait MfaEnrollments: Send + Sync {
    /// Whether `user` has an enabled second factor; `SecurityError::Port` when the store fails.
    fn is_enrolled(&self, user: UserId) -> Result<bool, SecurityError>;
}

/// Second factors: enrol, confirm, disable, and check a code at sign-in. Enrolling and disabling
/// ask for proof (the password, a code) under the sign-in throttle, so a stolen session cannot
/// guess its way to either.
pub struct MfaService {
    store: Arc<dyn MfaStore>,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    /// The sign-in throttle, for the proofs enrolling and turning MFA off ask for (password,
    /// code): a stolen session must not guess its way to either. Shared with the sign-in in the
    /// binary ([`Self::with_throttle`]), so the budget per address is one.
    throttle: Arc<crate::login_throttle::LoginThrottle>,
}

impl MfaService {
    /// The service over `store`, opening secrets with `secrets`, with a throttle of its own (see
    /// [`Self::with_throttle`]).
    pub fn new(
        store: Arc<dyn MfaStore>,
        secrets: SecretBox,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            store,
            secrets,
            clock,
            random,
            throttle: Default::default(),
        }
    }

    /// Shares the sign-in's throttle (see the field's rule). Without it the service keeps one
    /// of its own.
    pub fn with_throttle(mut self, throttle: Arc<crate::LoginThrottle>) -> Self {
        self.throttle = throttle;
        self
    }

    /// `check`, a proof by the user with address `email`, behind the throttle: `RateLimited`
    /// while blocked, else the proof's own answer, a wrong password or code counted.
    fn throttled(
        &self,
        email: &str,
        actor: &Actor,
        check: impl FnOnce() -> Result<(), SecurityError>,
    ) -> Result<(), SecurityError> {
        let now = self.clock.now();
        if let Some(seconds) = self.throttle.retry_after(email, actor.ip, now) {
            return Err(SecurityError::RateLimited {
                retry_after_secs: seconds,
            });
        }
        let proven = check();
        match &proven {
            Ok(()) => self.throttle.succeeded(email, actor.ip),
            Err(SecurityError::WrongPassword | SecurityError::InvalidCode) => {
                self.throttle.failed(email, actor.ip, now);
            }
            Err(_) => {}
        }
        proven
    }

    /// The caller's own second-factor status.
    pub fn status(&self, actor: &Actor) -> Result<MfaStatus, SecurityError> {
        let enabled = self.is_enrolled(actor.user_id)?;
        let remaining = if enabled {
            self.store.unused_backup_codes(actor.user_id)?
        } else {
            0
        };
        Ok(MfaStatus {
            enabled,
            backup_codes_remaining: remaining,
        })
    }

    /// Starts a TOTP enrollment. Only `totp` exists: no SMS transport is configured.
    ///
    /// Binding a second factor needs proof of the first: a session signed in within the
    /// re-authentication window (its sign-in just checked the password), or the user's current
    /// `password`. A credential alone — an API key, an older session — is not enough: whoever
    /// leaked it could otherwise bind the account's second factor to their own device, shutting
    /// the user out of sign-in and keeping a factor of their own (a credential must never yield
    /// a stronger one). A user without a password sets one first (the mailed set-up link).
    pub fn enable(
        &self,
        actor: &Actor,
        method: &str,
        password: Option<&str>,
    ) -> Result<MfaEnrollment, SecurityError> {
        match method {
            "totp" => {}
            "sms" => {
                return Err(SecurityError::InvalidKeyRequest(
                    "method sms needs an SMS transport, and none is configured; use totp".into(),
                ))
            }
            other => {
                return Err(SecurityError::InvalidKeyRequest(format!(
                    "method `{other}` is not supported; use totp"
                )))
            }
        }
        if self.store.mfa(actor.user_id)?.is_some_and(|m| m.enabled) {
            return Err(SecurityError::MfaAlreadyEnabled);
        }
        // An external caller's sign-in time is the embedder's word, as a session's is ours.
        let fresh_sign_in = matches!(
            actor.credential,
            Credential::Session(_) | Credential::External(_)
        ) && !actor.needs_reauth(true, self.clock.now());
        if !fresh_sign_in {
            match (self.store.credentials(actor.user_id)?, password) {
                (Some((email, Some(hash))), Some(given)) => {
                    self.throttled(&email, actor, || {
                        if verify_password(given, &hash) {
                            Ok(())
                        } else {
                            Err(SecurityError::WrongPassword)
                        }
                    })?;
                }
                _ => return Err(SecurityError::ReauthRequired),
            }
        }
        let mut secret = [0u8; 20];
        self.random.fill(&mut secret);
        let secret_base32 = base32(&secret);
        let sealed = self.secrets.seal(&secret_base32, self.random.as_ref());
        let enrollment_id = MfaEnrollmentId::generate(self.clock.as_ref(), self.random.as_ref());
        self.store.put_pending(
            actor.user_id,
            &enrollment_id.to_string(),
            &sealed,
            self.clock.now(),
        )?;
        let email = self
            .store
            .credentials(actor.user_id)?
            .map(|(email, _)| email)
            .unwrap_or_default();
        let label: String = email
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let otpauth_uri = format!("otpauth://totp/Tenantry:{label}?secret={secret_base32}&issuer=Tenantry&algorithm=SHA1&digits=6&period=30");
        Ok(MfaEnrollment {
            enrollment_id,
            secret_base32,
            otpauth_uri,
        })
    }

    fn secret_of(&self, record: &MfaRecord) -> Result<Vec<u8>, SecurityError> {
        let text = self
            .secrets
            .open(&record.secret_sealed)
            .map_err(|e| SecurityError::Port(PortError::Corrupt(format!("TOTP secret: {e}"))))?;
        decode_base32(&text)
            .ok_or_else(|| SecurityError::Port(PortError::Corrupt("TOTP secret encoding".into())))
    }

    /// Activates the enrollment with a current code; returns the backup codes (shown once).
    pub fn verify(
        &self,
        actor: &Actor,
        enrollment_id: &str,
        code: &str,
    ) -> Result<Vec<String>, SecurityError> {
        let record = self
            .store
            .mfa(actor.user_id)?
            .filter(|m| !m.enabled && m.enrollment_id == enrollment_id)
            .ok_or(SecurityError::UnknownEnrollment)?;
        let secret = self.secret_of(&record)?;
        let step =
            matching_step(&secret, code, self.clock.now())?.ok_or(SecurityError::InvalidCode)?;
        let codes: Vec<String> = (0..BACKUP_CODES)
            .map(|_| {
                let raw = random_alphanumeric(self.random.as_ref(), 16).to_ascii_lowercase();
                format!(
                    "{}-{}-{}-{}",
                    &raw[0..4],
                    &raw[4..8],
                    &raw[8..12],
                    &raw[12..16]
                )
            })
            .collect();
        let hashes: Vec<SecretHash> = codes.iter().map(|c| SecretHash::of(c)).collect();
        let audit = AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        if !self.store.activate(
            actor,
            enrollment_id,
            step as i64,
            &hashes,
            audit,
            self.clock.now(),
        )? {
            return Err(SecurityError::UnknownEnrollment);
        }
        Ok(codes)
    }

    /// Checks a TOTP code (once per time step) or an unused backup code (once), behind the
    /// user's budget of wrong codes (shared by every door a code is given at: the API's and the
    /// console's sign-in, turning MFA off): `RateLimited` once it is spent, without looking at
    /// the code, until the window ends. A wrong code counts against it whatever the client's
    /// address, so guesses spread over many addresses stop there too.
    pub fn check_code(&self, actor: &Actor, code: &str) -> Result<(), SecurityError> {
        let user = actor.user_id.to_string();
        let now = self.clock.now();
        if let Some(seconds) = self.throttle.second_factor_retry_after(&user, now) {
            return Err(SecurityError::RateLimited {
                retry_after_secs: seconds,
            });
        }
        let checked = self.check_code_unthrottled(actor, code);
        if matches!(checked, Err(SecurityError::InvalidCode)) {
            self.throttle.second_factor_failed(&user, now);
        }
        checked
    }

    fn check_code_unthrottled(&self, actor: &Actor, code: &str) -> Result<(), SecurityError> {
        let record = self
            .store
            .mfa(actor.user_id)?
            .filter(|m| m.enabled)
            .ok_or(SecurityError::MfaNotEnabled)?;
        let secret = self.secret_of(&record)?;
        if let Some(step) = matching_step(&secret, code, self.clock.now())? {
            return if self.store.use_step(actor.user_id, step as i64)? {
                Ok(())
            } else {
                Err(SecurityError::InvalidCode)
            };
        }
        let normalized = code.trim().to_ascii_lowercase();
        if self.store.consume_backup_code(
            actor.user_id,
            &SecretHash::of(&normalized),
            self.clock.now(),
        )? {
            Ok(())
        } else {
            Err(SecurityError::InvalidCode)
        }
    }

    /// Disables MFA: the password (when the user has one) and a current code are required;
    /// failures are throttled like sign-ins, on the sign-in's budget.
    pub fn disable(
        &self,
        actor: &Actor,
        password: Option<&str>,
        code: &str,
    ) -> Result<(), SecurityError> {
        let (email, hash) = self
            .store
            .credentials(actor.user_id)?
            .unwrap_or_else(|| (actor.user_id.to_string(), None));
        self.throttled(&email, actor, || {
            if let Some(hash) = &hash {
                if !password.is_some_and(|p| verify_password(p, hash)) {
                    return Err(SecurityError::WrongPassword);
                }
            }
            self.check_code(actor, code)
        })?;
        let audit = AuditId::generate(self.clock.as_ref(), self.random.as_ref());
        Ok(self.store.remove_mfa(actor, audit, self.clock.now())?)
    }
}

impl MfaEnrollments for MfaService {
    /// A pending enrollment (started, not verified) is no enrollment.
    fn is_enrolled(&self, user: UserId) -> Result<bool, SecurityError> {
        Ok(self.store.mfa(user)?.is_some_and(|m| m.enabled))
    }
}

fn decode_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            out.push(((buffer >> (bits - 8)) & 0xff) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::mfa_in_memory::OneEnrollment;

    /// A clock the test moves.
    struct Moving(std::sync::Mutex<DateTime<Utc>>);

    impl Clock for Moving {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().expect("lock")
        }
    }

    /// Wrong codes spread over many client addresses, each address far below every per-address
    /// limit, still spend the user's one budget: then even the right code is refused
    /// (`RateLimited`) until the window ends, another user is untouched, and after the window
    /// the right code works.
    #[test]
    fn wrong_codes_from_many_addresses_spend_one_budget_per_user() {
        use crate::login_throttle::{MAX_SECOND_FACTOR_FAILURES, WINDOW_MINUTES};
        let secrets = SecretBox::new(&[7u8; 32]);
        let secret = [9u8; 20];
        let store = Arc::new(OneEnrollment::enabled(
            secrets.seal(&base32(&secret), &tenantry_kernel::OsRandom),
        ));
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("ts");
        let clock = Arc::new(Moving(std::sync::Mutex::new(start)));
        let service = MfaService::new(
            store,
            secrets,
            clock.clone(),
            Arc::new(tenantry_kernel::OsRandom),
        );
        let actor = |user: UserId, n: u8| Actor {
            account_id: tenantry_kernel::AccountId::generate(
                &tenantry_kernel::FixedClock(start),
                &tenantry_kernel::OsRandom,
            ),
            user_id: user,
            role: tenantry_kernel::Role::Viewer,
            credential: Credential::Session(tenantry_kernel::SessionId::generate(
                &tenantry_kernel::FixedClock(start),
                &tenantry_kernel::OsRandom,
            )),
            ip: Some(std::net::IpAddr::from([203, 0, 113, n])),
            scopes: Vec::new(),
            authenticated_at: None,
            permissions: None,
            operator_link: None,
        };
        let new_user = || {
            UserId::generate(
                &tenantry_kernel::FixedClock(start),
                &tenantry_kernel::OsRandom,
            )
        };
        let (victim, bystander) = (new_user(), new_user());
        let right = |at: DateTime<Utc>| {
            code_at(
                &secret,
                u64::try_from(at.timestamp()).expect("after 1970") / STEP_SECONDS,
            )
            .expect("code")
        };
        let wrong = |at: DateTime<Utc>| {
            let code: u32 = right(at).parse().expect("digits");
            format!("{:06}", (code + 500_000) % 1_000_000)
        };
        for n in 0..MAX_SECOND_FACTOR_FAILURES {
            let from = actor(victim, u8::try_from(n).expect("small"));
            assert_eq!(
                service.check_code(&from, &wrong(start)),
                Err(SecurityError::InvalidCode),
                "guess {n}"
            );
        }
        let refused = service.check_code(&actor(victim, 200), &right(start));
        assert!(
            matches!(refused, Err(SecurityError::RateLimited { retry_after_secs }) if retry_after_secs > 0),
            "{refused:?}"
        );
        assert_eq!(
            service.check_code(&actor(bystander, 201), &wrong(start)),
            Err(SecurityError::InvalidCode),
            "another user has their own budget"
        );
        let later = start + chrono::Duration::minutes(WINDOW_MINUTES);
        *clock.0.lock().expect("lock") = later;
        assert_eq!(
            service.check_code(&actor(victim, 202), &right(later)),
            Ok(())
        );
    }

    #[test]
    fn rfc_6238_sha1_test_vector() {
        // RFC 6238 appendix B: T = 59 s with the ASCII secret "12345678901234567890" gives
        // 94287082 in 8 digits; the 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59 / 30).expect("code"), "287082");
        assert_eq!(code_at(secret, 1_111_111_109 / 30).expect("code"), "081804");
    }

    #[test]
    fn base32_round_trips() {
        let bytes = b"Hello!\xde\xad\xbe\xef";
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(decode_base32(&base32(bytes)).as_deref(), Some(&bytes[..]));
    }

    #[test]
    fn codes_match_within_one_step() {
        let secret = [7u8; 20];
        let now = DateTime::from_timestamp(1_700_000_000, 0).expect("ts");
        let step = 1_700_000_000 / 30;
        for s in [step - 1, step, step + 1] {
            assert_eq!(
                matching_step(&secret, &code_at(&secret, s).expect("code"), now).expect("ok"),
                Some(s)
            );
        }
        assert_eq!(
            matching_step(&secret, &code_at(&secret, step + 2).expect("code"), now).expect("ok"),
            None
        );
    }
}
