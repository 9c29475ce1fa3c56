//! Passwords: Argon2id with OWASP's recommended parameters (19 MiB memory, 2 iterations, 1 lane),
//! a minimum length and a list of the most common passwords refused outright.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tenantry_kernel::RandomSource;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// The most common passwords of public breach corpora that meet the length rule (shorter ones are
/// refused by length already). Kept short on purpose: a complete breached-password check belongs
/// to an operator-provided list.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678910111213",
    "password1234",
    "password12345",
    "passwordpassword",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "abcdefghijkl",
    "abc123abc123",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "admin1234567",
    "administrator",
    "changeme1234",
    "football1234",
    "baseball1234",
    "superman1234",
    "trustno1trustno1",
    "111111111111",
    "000000000000",
    "aaaaaaaaaaaa",
    "qwerty123456",
    "1234qwerasdf",
    "asdfghjkl123",
    "zaq12wsxcde3",
    "monkey123456",
    "dragon123456",
    "sunshine1234",
    "princess1234",
    "passw0rd1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "correcthorsebatterystaple",
    "hunter2hunter2",
];

/// A password that meets the policy, ready to hash. Never printed.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if len < MIN_LENGTH {
            return Err(format!("must be at least {MIN_LENGTH} characters"));
        }
        if len > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters"));
        }
        let lower = s.to_lowercase();
        if COMMON.contains(&lower.as_str()) || s.chars().all(|c| s.starts_with(c)) {
            return Err("is one of the most commonly used passwords; choose another".into());
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, m=19456 KiB, t=2, p=1. The parameters are
    // constants within the library's bounds, so construction cannot fail.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
pub fn hash_password(password: &NewPassword, random: &dyn RandomSource) -> Result<String, String> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.0.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `candidate` matches the stored PHC string (parameters are read from the string, so
/// hashes made with older parameters still verify).
pub fn verify_password(candidate: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::OsRandom;

    #[test]
    fn policy_refuses_short_long_and_common_passwords() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        assert!(NewPassword::parse("Password1234").is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaaaaaa").is_err());
        assert!(NewPassword::parse("a-long-random-passphrase-from-your-manager").is_ok());
    }

    #[test]
    fn hashes_verify_only_the_right_password_and_hide_it() {
        let pw = NewPassword::parse("correct horse battery").expect("valid");
        let hash = hash_password(&pw, &OsRandom).expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains("correct"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        assert!(!format!("{pw:?}").contains("correct"));
    }
}
