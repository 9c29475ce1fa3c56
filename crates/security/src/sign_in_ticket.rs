//! Sign-in tickets: proof, for a few minutes, that whoever holds one typed the right password
//! for an address. An interactive sign-in that must ask a second question (the code of a second
//! factor, or which account) hands out a ticket instead of sending the password back to the
//! client to be posted again: the password leaves the server's memory once checked, and a
//! ticket read out of a page is worth a few minutes of "the password was right", never the
//! password.
//!
//! A ticket is `<issued at, unix seconds>.<MAC>`: an HMAC-SHA256 of the address, the time and
//! the SHA-256 of the *browser binding*, keyed by the user's stored password hash. The binding
//! is the client's own secret for the sign-in (the console's pre-session form cookie, which
//! scripts cannot read): a ticket read out of a page and posted from another browser carries
//! another cookie, so it is refused there, and the ticket only proves the password to the
//! browser that typed it. Only its hash enters the MAC, so its length cannot shift the fields. The hash is a secret that never leaves the
//! server, so no one can mint a ticket without the password having been checked; it changes
//! with the password, so a password change voids every ticket; and no table holds tickets, so
//! any instance verifies any instance's ticket. A ticket may be presented more than once within
//! its lifetime (each presentation still needs the second factor and counts against the
//! sign-in throttle like a password).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How long a ticket proves the password: long enough to open an authenticator app.
pub const TICKET_SECONDS: i64 = 300;

/// Separates tickets from any other MAC the same key could ever make.
const CONTEXT: &[u8] = b"tenantry sign-in ticket v1\0";

fn mac(email: &str, issued: i64, password_hash: &str, browser: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(password_hash.as_bytes()).ok()?;
    mac.update(CONTEXT);
    mac.update(email.as_bytes());
    mac.update(b"\0");
    mac.update(issued.to_string().as_bytes());
    mac.update(&Sha256::digest(browser.as_bytes()));
    Some(mac)
}

/// A ticket for the canonical `email` whose password was just checked against
/// `password_hash`, issued at `now` to the browser whose binding is `browser`.
pub(crate) fn issue(email: &str, password_hash: &str, now: DateTime<Utc>, browser: &str) -> String {
    let issued = now.timestamp();
    let tag = mac(email, issued, password_hash, browser)
        .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{issued}.{tag}")
}

/// Whether `ticket` was issued for `email` under `password_hash` to the browser whose binding
/// is `browser`, no more than [`TICKET_SECONDS`] before `now` (and not after it). The MAC is
/// compared in constant time.
pub(crate) fn verify(
    ticket: &str,
    email: &str,
    password_hash: &str,
    now: DateTime<Utc>,
    browser: &str,
) -> bool {
    let Some((issued, tag)) = ticket.split_once('.') else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else {
        return false;
    };
    let age = now.timestamp().saturating_sub(issued);
    if !(0..=TICKET_SECONDS).contains(&age) {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    mac(email, issued, password_hash, browser).is_some_and(|m| m.verify_slice(&tag).is_ok())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
    }

    const BROWSER: &str = "pre-session-cookie-of-the-browser-0123456789";

    #[test]
    fn a_ticket_holds_for_its_address_hash_browser_and_lifetime_only() {
        let t = issue("a@x.test", HASH, at(0), BROWSER);
        assert!(verify(&t, "a@x.test", HASH, at(0), BROWSER));
        assert!(verify(&t, "a@x.test", HASH, at(TICKET_SECONDS), BROWSER));
        assert!(!verify(
            &t,
            "a@x.test",
            HASH,
            at(TICKET_SECONDS + 1),
            BROWSER
        ));
        assert!(
            !verify(&t, "a@x.test", HASH, at(-1), BROWSER),
            "issued in the future"
        );
        assert!(!verify(&t, "b@x.test", HASH, at(1), BROWSER));
        assert!(
            !verify(&t, "a@x.test", "$argon2id$other", at(1), BROWSER),
            "password changed"
        );
        assert!(
            !verify(&t, "a@x.test", HASH, at(1), "another-browser"),
            "copied to another browser"
        );
        assert!(!verify(&t, "a@x.test", HASH, at(1), ""), "no binding");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
        /// No edit of a ticket verifies: any changed character, a moved time, or garbage.
        #[test]
        fn only_the_issued_text_verifies(pos in 0usize..64, c in proptest::char::any(), junk in ".{0,80}") {
            let t = issue("a@x.test", HASH, at(0), BROWSER);
            let mut chars: Vec<char> = t.chars().collect();
            let i = pos % chars.len();
            if chars[i] != c {
                chars[i] = c;
                let edited: String = chars.into_iter().collect();
                prop_assert!(!verify(&edited, "a@x.test", HASH, at(1), BROWSER), "edited: {edited}");
            }
            prop_assert!(junk == t || !verify(&junk, "a@x.test", HASH, at(1), BROWSER));
        }
    }

    /// The MAC's inputs, each on its own: a ticket verifies exactly when the address, the
    /// password hash and the browser binding are the ones it was issued with and its age is
    /// within the lifetime. Changing any one input (another binding above all: a ticket copied
    /// to another browser) refuses it. Fixed budget and seed, printed on failure.
    #[test]
    fn a_ticket_verifies_only_with_every_input_it_was_issued_with() {
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let seed = [7u8; 32];
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 256,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let inputs = (
            (
                "[a-z]{1,8}@[a-z]{1,6}\\.test",
                "[a-z]{1,8}@[a-z]{1,6}\\.test",
            ),
            ("[ -~]{1,60}", "[ -~]{1,60}"),
            ("[A-Za-z0-9_-]{0,43}", "[A-Za-z0-9_-]{0,43}"),
            (-10i64..TICKET_SECONDS + 10),
        );
        let outcome = runner.run(
            &inputs,
            |((email, other_email), (hash, other_hash), (browser, other_browser), age)| {
                let t = issue(&email, &hash, at(0), &browser);
                let fresh = (0..=TICKET_SECONDS).contains(&age);
                prop_assert_eq!(verify(&t, &email, &hash, at(age), &browser), fresh);
                prop_assert_eq!(
                    verify(&t, &other_email, &hash, at(1), &browser),
                    other_email == email
                );
                prop_assert_eq!(
                    verify(&t, &email, &other_hash, at(1), &browser),
                    other_hash == hash
                );
                prop_assert_eq!(
                    verify(&t, &email, &hash, at(1), &other_browser),
                    other_browser == browser
                );
                Ok(())
            },
        );
        if let Err(e) = outcome {
            panic!("seed {seed:?}: {e}");
        }
    }
}
