//! The configured operator key (`TENANTRY_OPERATOR_KEY`): a credential stronger than any
//! account's, so one that could be guessed is refused at start rather than guarding `/admin`.

use std::collections::BTreeSet;

/// How to make a key that passes; part of every refusal.
pub const HOW_TO_MAKE_ONE: &str = "make one with `openssl rand -base64 32`";

/// The fewest characters a configured key may have: 32 bytes of base64 are 44.
pub const MIN_CHARS: usize = 32;

/// The fewest different characters: a random key of 32 characters from base64's 64 has about
/// 25; ten rules out words, dates and keyboard runs padded to length.
pub const MIN_DISTINCT: usize = 10;

/// A configured operator key that passed [`StrongOperatorKey::parse`].
#[derive(Clone)]
pub struct StrongOperatorKey(String);

impl std::fmt::Debug for StrongOperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StrongOperatorKey(********)")
    }
}

impl StrongOperatorKey {
    /// Refuses a key shorter than [`MIN_CHARS`], with fewer than [`MIN_DISTINCT`] different
    /// characters, or made of one shorter piece repeated (`abcdefghij` four times). The reason
    /// never quotes the key.
    pub fn parse(key: &str) -> Result<Self, String> {
        let chars: Vec<char> = key.chars().collect();
        if chars.len() < MIN_CHARS {
            return Err(format!(
                "it has {} characters, at least {MIN_CHARS} are needed",
                chars.len()
            ));
        }
        let distinct = chars.iter().collect::<BTreeSet<_>>().len();
        if distinct < MIN_DISTINCT {
            return Err(format!(
                "it has {distinct} different characters, at least {MIN_DISTINCT} are needed"
            ));
        }
        if let Some(period) = repeated_period(&chars) {
            return Err(format!(
                "it repeats one piece of {period} characters (or ends in a part of it)"
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The length of the piece `chars` repeats, if it is at most half of it: every character
/// equals the one a period earlier (the last repetition may be cut short).
fn repeated_period(chars: &[char]) -> Option<usize> {
    (1..=chars.len() / 2).find(|&p| (p..chars.len()).all(|i| chars[i] == chars[i - p]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    #[test]
    fn weak_keys_are_refused_with_the_reason() {
        for (key, reason) in [
            ("op-secret-from-config", "characters, at least 32"),
            (
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "1 different",
            ),
            ("abcabcabcabcabcabcabcabcabcabcabcabc", "3 different"),
            (
                "0123456789abcdef0123456789abcdef0123",
                "repeats one piece of 16",
            ),
        ] {
            let err = StrongOperatorKey::parse(key).expect_err(key);
            assert!(err.contains(reason), "{key}: {err}");
            assert!(!err.contains(key), "the reason quotes the key: {err}");
        }
    }

    #[test]
    fn the_suggested_command_makes_keys_that_pass() {
        // `openssl rand -base64 32` output, as documented.
        StrongOperatorKey::parse("q8N0c7w1Vb5Xr2Lk9Yz3Tp6Hj4Ms0Ae1Gd7Uf2Wi5Ro=").expect("strong");
    }

    /// Law: a key made by repeating a shorter piece is refused, whatever the piece; and the
    /// base64 of 32 random bytes (what the message tells operators to run) is accepted.
    #[test]
    fn repeated_pieces_are_refused_and_random_keys_accepted() {
        let seed: [u8; 32] = rand_seed();
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 512,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(
            &(
                "[ -~]{1,16}",
                2usize..8,
                proptest::collection::vec(any::<u8>(), 32),
            ),
            |(piece, times, bytes)| {
                let repeated = piece.repeat(times.max(MIN_CHARS / piece.len() + 1));
                prop_assert!(StrongOperatorKey::parse(&repeated).is_err());
                let random = base64_of(&bytes);
                prop_assert!(StrongOperatorKey::parse(&random).is_ok(), "{random}");
                Ok(())
            },
        );
        if let Err(e) = result {
            panic!("{e}; seed {seed:?}");
        }
    }

    fn rand_seed() -> [u8; 32] {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(&nanos.to_le_bytes());
        seed
    }

    fn base64_of(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}
