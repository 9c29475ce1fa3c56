//! Random secrets, their SHA-256 hashes for storage, and the link tokens mailed to users.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use tenantry_kernel::RandomSource;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random secret of `len` alphanumeric characters (log2(62) ≈ 5.95 bits each).
///
/// Rejection sampling keeps every character uniformly likely: bytes >= 248 (4 * 62) are discarded
/// instead of being folded onto the first characters of the alphabet.
pub(crate) fn random_alphanumeric(random: &dyn RandomSource, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        random.fill(&mut buf);
        for b in buf {
            if out.len() == len {
                break;
            }
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// SHA-256 of a high-entropy secret (API key, operator key, invitation token).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Constant-time comparison of `secret`'s hash with this one.
    pub fn matches(&self, secret: &str) -> bool {
        let candidate = Self::of(secret);
        self.0.ct_eq(&candidate.0).into()
    }

    /// The hash as 64 lowercase hex digits, as stored.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A hash stored as 64 hex digits; `None` for anything else.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash of a high-entropy secret is not itself secret, but there is no reason to print it.
        f.write_str("SecretHash(..)")
    }
}

/// Link tokens: `<prefix><32 alphanumerics>` (about 190 bits), single-use. The secret goes only
/// into the link (never stored, never logged); the store keeps its hash. That much entropy
/// makes guessing and hash inversion hopeless, so a fast hash is enough and lookup can be by
/// hash. Each kind has its own prefix, so a token of one kind is never well-formed as another.
const LINK_SECRET_LEN: usize = 32;

macro_rules! link_token {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        pub struct $name {
            secret: String,
            /// The hash of the token, the only thing stored.
            pub hash: SecretHash,
        }

        impl $name {
            /// The start of every token of this kind, so a token of one kind is never taken for
            /// another.
            pub const PREFIX: &'static str = $prefix;

            /// A new token with a fresh random secret.
            pub fn generate(random: &dyn RandomSource) -> Self {
                let secret = format!(
                    "{}{}",
                    Self::PREFIX,
                    random_alphanumeric(random, LINK_SECRET_LEN)
                );
                let hash = SecretHash::of(&secret);
                Self { secret, hash }
            }

            /// The token to put in the link (never stored, never logged).
            pub fn secret(&self) -> &str {
                &self.secret
            }

            /// Whether `candidate` has this kind's shape (checked before any lookup).
            pub fn is_well_formed(candidate: &str) -> bool {
                candidate.strip_prefix(Self::PREFIX).is_some_and(|rest| {
                    rest.len() == LINK_SECRET_LEN
                        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                })
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

link_token!(
    /// An invitation link's token, mailed to the invitee only.
    InvitationToken,
    "tnt_inv_"
);
link_token!(
    /// The token of a password set-up or reset link, mailed to the user only.
    PasswordResetToken,
    "tnt_pwr_"
);
link_token!(
    /// The token of an email change confirmation link, mailed to the NEW address only: using it
    /// proves that whoever asked for the change (with the current password) also controls that
    /// mailbox.
    EmailChangeToken,
    "tnt_emc_"
);
link_token!(
    /// A portal link's token: the secret part of `/console/portal/{token}`, handed to the
    /// minting credential only (decision 0030).
    PortalLinkToken,
    "tnt_ptl_"
);

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_kernel::OsRandom;

    #[test]
    fn hash_hex_round_trips() {
        let h = SecretHash::of("s3cret");
        assert_eq!(SecretHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(SecretHash::from_hex("zz"), None);
        assert_eq!(SecretHash::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn matches_only_the_same_secret() {
        let h = SecretHash::of("abc");
        assert!(h.matches("abc"));
        assert!(!h.matches("abd"));
        assert!(!h.matches(""));
    }

    #[test]
    fn invitation_tokens_are_well_formed_hashed_and_distinct() {
        let random = tenantry_kernel::OsRandom;
        let a = InvitationToken::generate(&random);
        let b = InvitationToken::generate(&random);
        assert_ne!(a.secret(), b.secret());
        assert!(InvitationToken::is_well_formed(a.secret()));
        assert!(a.hash.matches(a.secret()));
        assert!(!a.hash.matches(b.secret()));
        assert!(!format!("{a:?}").contains(a.secret()));
        for bad in [
            "",
            "tnt_inv_",
            "tnt_inv_short",
            "tnt_key_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!InvitationToken::is_well_formed(bad), "{bad}");
        }
        let bad_char = format!("tnt_inv_{}!", "A".repeat(31));
        assert!(!InvitationToken::is_well_formed(&bad_char));
    }

    #[test]
    fn email_change_tokens_are_well_formed_hashed_and_distinct() {
        let a = EmailChangeToken::generate(&OsRandom);
        let b = EmailChangeToken::generate(&OsRandom);
        assert_ne!(a.secret(), b.secret());
        assert!(a.secret().starts_with("tnt_emc_"));
        assert!(EmailChangeToken::is_well_formed(a.secret()));
        assert!(a.hash.matches(a.secret()));
        assert!(!format!("{a:?}").contains(a.secret()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// A link token is good for its own kind only: an invitation or password token (same
        /// length, same alphabet) is never taken for an email change token, nor the reverse,
        /// and anything but the exact shape is refused before a lookup.
        #[test]
        fn link_tokens_are_well_formed_only_for_their_own_kind(
            rest in "[A-Za-z0-9]{32}",
            noise in "\\PC{0,48}",
        ) {
            let emc = format!("tnt_emc_{rest}");
            proptest::prop_assert!(EmailChangeToken::is_well_formed(&emc));
            proptest::prop_assert!(!PasswordResetToken::is_well_formed(&emc));
            proptest::prop_assert!(!InvitationToken::is_well_formed(&emc));
            for other in [format!("tnt_pwr_{rest}"), format!("tnt_inv_{rest}")] {
                proptest::prop_assert!(!EmailChangeToken::is_well_formed(&other));
            }
            if EmailChangeToken::is_well_formed(&noise) {
                proptest::prop_assert!(noise.starts_with(EmailChangeToken::PREFIX) && noise.len() == 40);
            }
            let longer = format!("{emc}{noise}");
            proptest::prop_assert_eq!(EmailChangeToken::is_well_formed(&longer), noise.is_empty());
        }
    }

    #[test]
    fn random_secrets_are_alphanumeric_and_distinct() {
        let a = random_alphanumeric(&OsRandom, 43);
        let b = random_alphanumeric(&OsRandom, 43);
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
