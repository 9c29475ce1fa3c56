//! The signed-in visitor of a console page: who may see it, the check every posted form passes
//! first, and the page around what they see.
//!
//! Every page of a signed-in visitor starts here, so the order of the checks is one rule: the
//! session (the API's own checks, `session.rs`), then its restriction (a session restricted to
//! one task reaches that task's page only), then the scopes of the page's twin in the
//! API (`api_twin.rs`), then, for a post, the form token; a page for higher roles then asks
//! [`below`]. A forged post is refused before its fields are looked at.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use tenantry_http::AppState;
use tenantry_kernel::Role;

use crate::layout::{page, respond, Chrome, Section};
use crate::session::{restricted, signed_in, SignedIn};
use crate::ConsoleConfig;

/// Which sessions a page serves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Admits {
    /// Unrestricted sessions only; a restricted one is sent to its task.
    Unrestricted,
    /// Unrestricted sessions and those restricted to this task (its page).
    AlsoRestrictedTo(&'static str),
}

/// The visitor of a page, or where they go instead (sign-in, their one task, a refusal).
pub(crate) async fn visitor(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    admits: Admits,
) -> Result<SignedIn, HttpResponse> {
    let visitor = signed_in(req, state, config)
        .await
        .map_err(|not| not.into_response(config))?;
    let admitted = match admits {
        Admits::Unrestricted => false,
        Admits::AlsoRestrictedTo(task) => visitor.restriction.as_deref() == Some(task),
    };
    if !admitted {
        if let Some(res) = restricted(&visitor) {
            return Err(res);
        }
        // A restricted session's one task is its whole power; any other session reaches a
        // page only as far as its scopes and its member's permissions reach the page's twin
        // in the API.
        if !crate::api_twin::permits(&visitor.actor, req.method(), req.path()) {
            return Err(crate::refusal::error_page(
                StatusCode::FORBIDDEN,
                "Not available to this sign-in",
                "Nothing was changed. Your permissions in this account, or the link that opened \
                 this session, do not reach this page; the API refuses it too.",
            ));
        }
    }
    Ok(visitor)
}

/// The visitor of a posted form whose token is `posted_csrf`: [`visitor`], then the form
/// token of their session (a post without it, or with another session's, changes nothing).
pub(crate) async fn poster(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    admits: Admits,
    posted_csrf: &str,
) -> Result<SignedIn, HttpResponse> {
    let visitor = visitor(req, state, config, admits).await?;
    if crate::csrf::session_token_matches(&visitor.token, posted_csrf) {
        Ok(visitor)
    } else {
        Err(crate::refusal::forged_form())
    }
}

/// For a page of higher roles: `None` when the visitor's role is at least `role`, otherwise
/// the page that says so (the services check again: this only spares a form that would fail).
pub(crate) fn below(visitor: &SignedIn, role: Role) -> Option<HttpResponse> {
    visitor.actor.require(role).err().map(|_| {
        crate::refusal::error_page(
            StatusCode::FORBIDDEN,
            "Not available to your role",
            "This page is for members with a higher role in this account. Ask an admin or the \
             owner if you need it.",
        )
    })
}

/// The page `title` around `content`, with the visitor's top bar (their address, the sign-out
/// form; the navigation unless the session is restricted to one task).
pub(crate) async fn signed_in_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    title: &str,
    section: Section,
    status: StatusCode,
    content: Markup,
) -> HttpResponse {
    let profiles = state.profile.clone();
    let links = state.portal_links.clone();
    let actor = visitor.actor.clone();
    // The address and the way back are decoration: a failure to read either leaves it out
    // rather than the page.
    let (email, back) = web::block(move || {
        let email = profiles
            .profile(&actor)
            .map(|p| p.email)
            .unwrap_or_default();
        let back = links.return_url(&actor).ok().flatten();
        (email, back)
    })
    .await
    .unwrap_or_default();
    let brand =
        crate::brand::of_account(state, &visitor.logos, visitor.actor.account_id, None).await;
    let csrf = visitor.csrf();
    let chrome = Chrome {
        who: &email,
        csrf: &csrf,
        restricted: visitor.restriction.is_some(),
        role: visitor.actor.role,
        back: back.as_ref().map(|url| (url.as_str(), url.host())),
        brand: brand.as_ref(),
    };
    respond(status, page(title, section, Some(&chrome), content))
}

/// A portal session's way back (the return URL of the link that opened it), for a page that
/// draws its own top bar; `None` for a sign-in session, and when it cannot be read.
pub(crate) async fn way_back(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
) -> Option<tenantry_security::ReturnUrl> {
    let links = state.portal_links.clone();
    let actor = visitor.actor.clone();
    web::block(move || links.return_url(&actor).ok().flatten())
        .await
        .ok()
        .flatten()
}
