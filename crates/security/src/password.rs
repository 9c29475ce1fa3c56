//! Passwords: Argon2id with OWASP's recommended parameters (19 MiB memory, 2 iterations, 1 lane),
//! a minimum length and a list of the most common passwords refused outright.
//!
//! A thread that hashes all day (the server's password pool) keeps Argon2's 19 MiB of working
//! memory between hashes ([`keep_hash_memory_on_this_thread`]), because allocating it per hash
//! leaves several such blocks in the thread's malloc arena; other threads allocate per hash. The
//! measurement is in docs/decisions/0013-password-hashing-pool.md.

use std::cell::RefCell;
use std::fmt;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// Accepts a password of the allowed length that is not among the most common ones; the error
    /// says which rule it breaks.
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

fn current_params() -> Params {
    // OWASP Password Storage Cheat Sheet: Argon2id, m=19456 KiB, t=2, p=1. The parameters are
    // constants within the library's bounds, so construction cannot fail.
    Params::new(19_456, 2, 1, None).unwrap_or_default()
}

thread_local! {
    /// Argon2's working memory, kept between hashes on threads that asked for it.
    static KEPT: RefCell<Option<Vec<Block>>> = const { RefCell::new(None) };
}

/// Keeps Argon2's working memory (19 MiB with today's parameters) on the calling thread for its
/// lifetime, reused by every hash it computes. For threads that do little else.
pub fn keep_hash_memory_on_this_thread() {
    KEPT.with(|kept| {
        kept.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// Runs Argon2 for `params` with the thread's kept memory, or memory of its own.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    // Kept memory is sized for today's parameters; a stored hash with a larger cost gets memory
    // of its own, so one odd hash cannot make the thread keep more.
    let keep = current_params().block_count();
    KEPT.with(|kept| match kept.borrow_mut().as_mut() {
        Some(memory) if blocks <= keep => {
            // Allocated on the first hash. Every block used is written before it is read, so
            // the previous hash's contents need no clearing.
            if memory.len() < keep {
                memory.resize(keep, Block::default());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        }
        _ => argon2.hash_password_into(password, salt, out),
    })
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
pub fn hash_password(password: &NewPassword, random: &dyn RandomSource) -> Result<String, String> {
    let mut salt_bytes = [0u8; 16];
    random.fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    let params = current_params();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.0.as_bytes(),
        &salt_bytes,
        &mut out,
    )
    .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(hash.to_string())
}

/// Whether `candidate` matches the stored PHC string (algorithm, version and parameters are read
/// from the string, so hashes made with older parameters still verify).
pub fn verify_password(candidate: &str, stored: &str) -> bool {
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let mut out = vec![0u8; expected.len()];
        argon2_into(
            algorithm,
            version,
            params,
            candidate.as_bytes(),
            salt,
            &mut out,
        )
        .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
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

    /// The hand-assembled PHC string and verification agree with the argon2 crate's own
    /// `PasswordHasher`/`PasswordVerifier`, both ways, with and without kept memory.
    #[test]
    fn hashes_match_the_argon2_crates_own_and_kept_memory_changes_nothing() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, current_params());
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("salt");
        let theirs = reference
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batterz", &theirs));

        let pw = NewPassword::parse("correct horse battery").expect("valid");
        std::thread::spawn(move || {
            keep_hash_memory_on_this_thread();
            let ours = hash_password(&pw, &OsRandom).expect("hash");
            let parsed = PasswordHash::new(&ours).expect("phc");
            assert!(reference
                .verify_password(b"correct horse battery", &parsed)
                .is_ok());
            // Twice with the kept memory: the first hash's leftovers do not change the second.
            assert!(verify_password("correct horse battery", &ours));
            assert!(verify_password("correct horse battery", &theirs));
            assert!(!verify_password("correct horse batterz", &theirs));
            // A cheaper stored cost uses a prefix of the kept memory.
            let cheap = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(1024, 1, 1, None).expect("params"),
            )
            .hash_password(b"older cheaper hash", &salt)
            .expect("hash")
            .to_string();
            assert!(verify_password("older cheaper hash", &cheap));
            assert!(!verify_password("older cheaper hasx", &cheap));
        })
        .join()
        .expect("hashing thread");
    }
}
