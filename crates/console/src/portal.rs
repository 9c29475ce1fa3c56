//! `/console/portal/{token}`: a portal link (decision 0030) turned into a console session.
//!
//! Opening the link (GET) redeems nothing: mail and chat link scanners fetch links before
//! people do, and a single-use link a scanner fetched would be spent. The page asks to
//! "Continue", a form posted with a pre-session token (the double-submit cookie of the
//! sign-in form); the post is the one call `PortalLinkService::redeem`, which checks the link
//! (unused, unexpired, its member still active, the allowlist, the MFA requirement) and opens
//! a session carrying the link's ceiling. The cookie is set exactly as a sign-in sets it, and
//! the visitor lands on the link's page.
//!
//! A link that is unknown, used, expired, or whose member can no longer sign in gets one page
//! and one status (410): nothing tells a guesser which.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::{PortalIntent, SecurityError};

use crate::form::too_long;
use crate::layout::{page, respond, see_other, Section};
use crate::session::{append_cookie, cookie_name, set_cookie};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/portal/{token}")
            .route(web::get().to(show))
            .route(web::post().to(redeem)),
    );
}

/// Longest token a link carries (far above the real length; refused without a lookup).
const TOKEN_MAX: usize = 200;

/// The page a link opens on.
fn landing(intent: PortalIntent) -> &'static str {
    match intent {
        PortalIntent::Team => "/console/team",
        PortalIntent::Settings => "/console/settings",
        PortalIntent::Security => "/console/account/mfa",
        PortalIntent::Audit => "/console/audit",
        PortalIntent::ApiKeys => "/console/account/api-keys",
    }
}

/// The one answer for every link that does not open a session.
fn gone() -> HttpResponse {
    crate::refusal::error_page(
        StatusCode::GONE,
        "This link no longer works",
        "Console links work once, for a few minutes. Go back to the application that sent you \
         here and open the console from it again.",
    )
}

async fn show(req: HttpRequest, config: web::Data<ConsoleConfig>) -> HttpResponse {
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    // The form posts back to this address: the token stays in the path, never in a page.
    let mut res = respond(
        StatusCode::OK,
        page(
            "Open the console",
            Section::None,
            None,
            html! {
                form.stack.card method="post" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { "You were sent here to manage your account. Continue to sign in to the \
                         console; the link works once." }
                    button type="submit" { "Continue" }
                }
            },
        ),
    );
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContinueForm {
    csrf: String,
}

async fn redeem(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ContinueForm>,
) -> HttpResponse {
    if !crate::csrf::pre_session_matches(&req, &config, &f.csrf) {
        return crate::refusal::forged_form();
    }
    let token = path.into_inner();
    if too_long(&[("The link", &token, TOKEN_MAX)]).is_some() {
        return gone();
    }
    let ip = tenantry_http::client_ip(&req, &state.config.trusted_proxies);
    let links = state.portal_links.clone();
    let redeemed =
        match web::block(move || links.redeem(&token, ip)).await {
            Ok(Ok(redeemed)) => redeemed,
            Ok(Err(
                SecurityError::PortalLinkUnknown
                | SecurityError::PortalLinkUsed
                | SecurityError::PortalLinkExpired
                | SecurityError::Unauthenticated,
            )) => return gone(),
            Ok(Err(SecurityError::MfaEnrollmentRequired)) => return crate::refusal::error_page(
                StatusCode::FORBIDDEN,
                "Set up two-factor authentication first",
                "This account requires two-factor authentication and a console link never sets \
                 it up. Sign in to the console with your password to set it up, then open the \
                 console from your application again.",
            ),
            Ok(Err(SecurityError::Port(_))) => return crate::refusal::unavailable(),
            Ok(Err(other)) => return crate::refusal::internal(&other),
            Err(e) => return crate::refusal::internal(&e),
        };
    let mut res = see_other(landing(redeemed.intent));
    append_cookie(
        &mut res,
        &set_cookie(&config, cookie_name(&config), Some(&redeemed.session.token)),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_intent_lands_on_a_console_page() {
        for intent in PortalIntent::ALL {
            assert!(landing(intent).starts_with("/console/"), "{intent:?}");
        }
        assert_eq!(landing(PortalIntent::Team), "/console/team");
        assert_eq!(landing(PortalIntent::ApiKeys), "/console/account/api-keys");
    }
}
