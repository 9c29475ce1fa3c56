//! The sign-in cookie. It carries the token of a session issued by the same sign-in as
//! `POST /api/auth/login` (`SessionService::sign_in`), and every request turns it into an
//! `Actor` through the same `SessionService::authenticate` and the same allowlist check
//! (`AllowlistEnforcement::check_ip`) as a bearer session: timeouts, revocation, the MFA
//! requirement and the allowlist apply unchanged. A session revoked through the API (or
//! timed out, or of a removed member) is signed out here at its next request.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Lax` (other sites' forms do not
//! carry it; top-level links do, so a link into the console works), `Path=/`, and with an
//! https public URL `Secure` under the `__Host-` prefix (no subdomain can set or shadow it).
//! It has no `Max-Age`: the server decides when the session ends.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tenantry_http::AppState;
use tenantry_kernel::Actor;
use tenantry_security::{SecurityError, SessionService};

use crate::ConsoleConfig;

/// The restriction of a session that may only enrol a second factor.
pub(crate) const MFA_ENROLLMENT: &str = "mfa_enrollment";
/// The restriction of a session signed in with an expired password: it may only change it.
pub(crate) const PASSWORD_CHANGE: &str = "password_change";

/// The cookie's name.
pub(crate) fn cookie_name(config: &ConsoleConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-tenantry_session"
    } else {
        "tenantry_session"
    }
}

/// The value of the request's cookie `name`, if it sent exactly one (two cookies of one name,
/// one perhaps planted by a sibling site, are no credential rather than a guess).
pub(crate) fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    let mut found = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    let value = found.next()?;
    found.next().is_none().then_some(value)
}

/// A `Set-Cookie` value for cookie `name`: `value`, or removal when `None`.
pub(crate) fn set_cookie(config: &ConsoleConfig, name: &str, value: Option<&str>) -> String {
    let mut out = match value {
        Some(v) => format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax"),
        None => format!("{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    };
    if config.secure_cookies {
        out.push_str("; Secure");
    }
    out
}

/// The signed-in visitor of a request.
pub(crate) struct SignedIn {
    pub actor: Actor,
    /// The session token (the cookie's value): the key of the form token (csrf.rs).
    pub token: String,
    /// The one task a restricted session may do (`mfa_enrollment`, `password_change`).
    pub restriction: Option<String>,
    /// The console's logo cache, for the branding of the visitor's account on their pages.
    pub logos: std::sync::Arc<crate::logo_cache::LogoCache>,
}

impl SignedIn {
    /// This session's form token.
    pub(crate) fn csrf(&self) -> String {
        crate::csrf::for_session(&self.token)
    }
}

/// Why a request has no signed-in visitor.
pub(crate) enum NotSignedIn {
    /// No session cookie, or one that no longer names a live session (`stale`: clear it).
    Anonymous { stale: bool },
    /// A refusal with its own page (allowlist, rate limit, store failure).
    Refused(HttpResponse),
}

impl NotSignedIn {
    /// The answer to a page that needs a visitor: the sign-in page, or the refusal.
    pub(crate) fn into_response(self, config: &ConsoleConfig) -> HttpResponse {
        match self {
            Self::Anonymous { stale } => {
                let mut res = crate::layout::see_other("/console/login");
                if stale {
                    append_cookie(&mut res, &set_cookie(config, cookie_name(config), None));
                }
                res
            }
            Self::Refused(res) => res,
        }
    }
}

/// Adds a `Set-Cookie` header.
pub(crate) fn append_cookie(res: &mut HttpResponse, value: &str) {
    if let Ok(value) = header::HeaderValue::from_str(value) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The visitor signed in with the request's cookie, checked as the API checks a session.
pub(crate) async fn signed_in(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
) -> Result<SignedIn, NotSignedIn> {
    let present = cookie(req, cookie_name(config));
    let Some(token) = present.filter(|t| SessionService::is_session_token(t)) else {
        return Err(NotSignedIn::Anonymous {
            stale: present.is_some(),
        });
    };
    let token = token.to_owned();
    let ip = tenantry_http::client_ip(req, &state.config.trusted_proxies);
    let sessions = state.sessions.clone();
    let allowlist = state.allowlist.clone();
    let presented = token.clone();
    let outcome = web::block(move || {
        let actor = sessions.authenticate(&presented, ip)?;
        allowlist.check_ip(&actor)?;
        Ok::<_, SecurityError>(actor)
    })
    .await;
    let actor = match outcome {
        Ok(Ok(actor)) => actor,
        Ok(Err(SecurityError::Unauthenticated | SecurityError::MalformedCredential)) => {
            return Err(NotSignedIn::Anonymous { stale: true })
        }
        Ok(Err(SecurityError::IpNotAllowed { .. })) => {
            return Err(NotSignedIn::Refused(crate::refusal::ip_not_allowed()))
        }
        Ok(Err(SecurityError::Port(_))) => {
            return Err(NotSignedIn::Refused(crate::refusal::unavailable()))
        }
        Ok(Err(other)) => return Err(NotSignedIn::Refused(crate::refusal::internal(&other))),
        Err(e) => return Err(NotSignedIn::Refused(crate::refusal::internal(&e))),
    };
    // The API's per-credential budget: the console is one more client of the session.
    if let tenantry_kernel::Credential::Session(id) = actor.credential {
        if let Err(secs) = state.rate_limits.take_for_credential(&id.to_string()) {
            return Err(NotSignedIn::Refused(crate::refusal::too_many(secs)));
        }
    }
    let restriction = actor
        .scopes
        .iter()
        .find_map(|s| s.strip_prefix("restricted:"))
        .map(str::to_owned);
    Ok(SignedIn {
        actor,
        token,
        restriction,
        logos: config.logos.clone(),
    })
}

/// For a page of unrestricted sessions only: `None` to go on, or where a restricted session
/// goes instead (one restricted to enrolling MFA to the enrollment page, one restricted to a
/// password change to the password page; any other restriction is refused).
pub(crate) fn restricted(visitor: &SignedIn) -> Option<HttpResponse> {
    match visitor.restriction.as_deref() {
        None => None,
        Some(MFA_ENROLLMENT) => Some(crate::layout::see_other("/console/account/mfa")),
        Some(PASSWORD_CHANGE) => Some(crate::layout::see_other("/console/account/password")),
        Some(_) => Some(crate::refusal::error_page(
            actix_web::http::StatusCode::FORBIDDEN,
            "This session is restricted",
            "This session may only finish one task. Sign out and sign in again.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn config(secure: bool) -> ConsoleConfig {
        ConsoleConfig {
            secure_cookies: secure,
            random: std::sync::Arc::new(tenantry_kernel::OsRandom),
            logos: std::sync::Arc::new(crate::logo_cache::LogoCache::new(None)),
        }
    }

    #[test]
    fn cookie_attributes_follow_the_public_url() {
        let plain = set_cookie(&config(false), cookie_name(&config(false)), Some("v"));
        assert_eq!(plain, "tenantry_session=v; Path=/; HttpOnly; SameSite=Lax");
        let secure = set_cookie(&config(true), cookie_name(&config(true)), Some("v"));
        assert_eq!(
            secure,
            "__Host-tenantry_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(set_cookie(&config(true), "n", None).contains("Max-Age=0"));
    }

    #[test]
    fn a_cookie_sent_twice_is_no_cookie() {
        let once = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; tenantry_session=x"))
            .to_http_request();
        assert_eq!(cookie(&once, "tenantry_session"), Some("x"));
        let twice = TestRequest::default()
            .insert_header((header::COOKIE, "tenantry_session=x; tenantry_session=y"))
            .to_http_request();
        assert_eq!(cookie(&twice, "tenantry_session"), None);
    }
}
