//! Form tokens against cross-site request forgery, on every form.
//!
//! - Signed in: the token is HMAC-SHA256 of a fixed label keyed with the session token
//!   itself. Only someone who holds the session cookie can compute it; it differs per
//!   session (another session's token is refused); it needs no server key (every instance
//!   sharing the database computes the same, and nothing new is stored), and it ends with
//!   the session. Showing it in a page reveals nothing of the key.
//! - Before a session (sign-in, invitation, password and confirmation links): a double-submit
//!   cookie. The page sets a random `HttpOnly`, `SameSite=Lax` cookie and repeats its value in
//!   the form; a post counts only when both are present and equal. Another site can make a
//!   browser post, but can neither read nor (under the `__Host-` prefix on https) write the
//!   cookie.
//!
//! Comparisons are constant-time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ConsoleConfig;

const LABEL: &[u8] = b"tenantry console form token v1";
/// Bytes of randomness in a pre-session token.
const PRE_SESSION_BYTES: usize = 32;

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The form token of the session whose token is `session_token`.
pub(crate) fn for_session(session_token: &str) -> String {
    // HMAC takes keys of every length; were it ever to refuse one, the empty token matches
    // nothing (`session_token_matches` refuses an empty post).
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(session_token.as_bytes()) else {
        return String::new();
    };
    mac.update(LABEL);
    encode(&mac.finalize().into_bytes())
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether `posted` is the form token of the session `session_token`.
pub(crate) fn session_token_matches(session_token: &str, posted: &str) -> bool {
    !posted.is_empty() && equal(&for_session(session_token), posted)
}

/// The pre-session cookie's name.
pub(crate) fn cookie_name(config: &ConsoleConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-tenantry_form"
    } else {
        "tenantry_form"
    }
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The pre-session token for a form page: the request's cookie when it holds one, otherwise
/// a new one with the `Set-Cookie` value that stores it.
pub(crate) fn pre_session(
    req: &actix_web::HttpRequest,
    config: &ConsoleConfig,
) -> (String, Option<String>) {
    if let Some(existing) =
        crate::session::cookie(req, cookie_name(config)).filter(|t| well_formed(t))
    {
        return (existing.to_owned(), None);
    }
    let mut bytes = [0u8; PRE_SESSION_BYTES];
    config.random.fill(&mut bytes);
    let token = encode(&bytes);
    let cookie = crate::session::set_cookie(config, cookie_name(config), Some(&token));
    (token, Some(cookie))
}

/// Whether a pre-session form's `posted` token matches the request's cookie.
pub(crate) fn pre_session_matches(
    req: &actix_web::HttpRequest,
    config: &ConsoleConfig,
    posted: &str,
) -> bool {
    crate::session::cookie(req, cookie_name(config))
        .filter(|t| well_formed(t))
        .is_some_and(|cookie| equal(cookie, posted))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_session_token_is_stable_and_its_own() {
        let a = for_session("tnt_ses_a");
        assert_eq!(a, for_session("tnt_ses_a"));
        assert_ne!(a, for_session("tnt_ses_b"));
        assert!(session_token_matches("tnt_ses_a", &a));
        assert!(!session_token_matches("tnt_ses_b", &a));
        assert!(!session_token_matches("tnt_ses_a", ""));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// No posted value but the session's own token is accepted for that session.
        #[test]
        fn only_the_sessions_own_token_matches(session in "[a-zA-Z0-9_]{1,80}", other in "[a-zA-Z0-9_]{1,80}", posted in "[ -~]{0,60}") {
            let own = for_session(&session);
            prop_assert!(session_token_matches(&session, &own));
            prop_assert_eq!(session_token_matches(&session, &posted), posted == own);
            if other != session {
                prop_assert!(!session_token_matches(&other, &own));
            }
        }
    }
}
