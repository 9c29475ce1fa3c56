//! `/invite/{link}`: the page the invitation email links to.
//!
//! By token (the email's link): the account, the inviter, the role and the invited address,
//! then one of two forms. A new person chooses a name and a password (the API's password
//! rules, applied by the service; the script only hints at strength). Someone who already
//! signs in with the invited address gives their current password: it is checked, never set,
//! through the link. Either way `TeamService::accept` (the `POST /v2/invitations/{token}/accept`
//! of the API) joins them, and a sign-in with that password opens their session in the new
//! account: they land signed in on `/console` (or on the sign-in page when their second factor
//! is needed).
//!
//! By invitation id (the `inviteUrl` an inviter's API response carries): nothing about the
//! invitation, only "use the link in your email", so an id is no oracle. Closed and unknown
//! links get their own page with the status the JSON accept endpoint answers: 404 unknown,
//! 410 expired or cancelled, 409 already accepted.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::{AccountChoice, InvitationToken, SecurityError};
use tenantry_team::{AcceptInput, InvitationPreview, InvitationState, TeamError};

use crate::brand::Brand;
use crate::form::{too_long, PASSWORD_MAX, PERSON_NAME_MAX};
use crate::layout::{branded_page, page, respond, see_other, Section};
use crate::refusal::error_page;
use crate::session::{append_cookie, cookie_name, set_cookie};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/invite/{link}")
            .wrap(actix_web::middleware::from_fn(
                crate::cross_site::same_site_forms,
            ))
            .wrap(crate::headers::secure())
            .app_data(crate::form::config())
            .route(web::get().to(show))
            .route(web::post().to(accept)),
    );
}

/// The page of a closed or unknown invitation, with the JSON accept endpoint's status.
fn closed(state: Option<InvitationState>) -> HttpResponse {
    let (status, title, message) = match state {
        None => (
            StatusCode::NOT_FOUND,
            "Invitation not found",
            "This invitation link is not valid. It may have been replaced by a newer email. \
             Ask the person who invited you to send it again.",
        ),
        Some(InvitationState::Expired) => (
            StatusCode::GONE,
            "This invitation has expired",
            "Ask the person who invited you to send it again.",
        ),
        Some(InvitationState::Cancelled) => (
            StatusCode::GONE,
            "This invitation was cancelled",
            "The account's administrators withdrew it. Ask them if you think that is a mistake.",
        ),
        Some(InvitationState::Accepted | InvitationState::Pending) => (
            StatusCode::CONFLICT,
            "This invitation has already been accepted",
            "Sign in to reach the account.",
        ),
    };
    error_page(status, title, message)
}

fn by_id() -> HttpResponse {
    respond(
        StatusCode::OK,
        page(
            "Your invitation",
            Section::None,
            None,
            html! {
                p { "This page does not hold the invitation itself. The invitation was sent by \
                     email to the person invited: open the link in that email to accept it." }
                p { "If you sent the invitation, there is nothing to do here: the invitee accepts \
                     it from their own mailbox." }
            },
        ),
    )
}

fn invitation_page(
    status: StatusCode,
    link: &str,
    preview: &InvitationPreview,
    brand: Option<&Brand>,
    csrf: &str,
    message: Option<&str>,
    session_csrf: Option<&str>,
) -> HttpResponse {
    let action = format!("/invite/{link}");
    let content = html! {
        @if let Some(message) = message {
            div.error role="alert" { p { (message) } }
        }
        section.card {
            p { "You are invited to join " strong { (preview.account_name) } "." }
            dl.facts {
                dt { "Account" } dd { (preview.account_name) }
                dt { "Invited by" } dd { (preview.inviter) }
                dt { "Role" } dd { (preview.invitation.role.as_str()) }
                dt { "Your address" } dd { (preview.invitation.email.as_str()) }
            }
        }
        form.stack.card method="post" action=(action) {
            h2 { "New here?" }
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="mode" value="new";
            label { "Name" input type="text" name="name" autocomplete="name" maxlength=(PERSON_NAME_MAX); }
            label { "Password"
                span.hint { "At least 12 characters; not a commonly used password." }
                input type="password" name="password" autocomplete="new-password" required data-strength="strength";
            }
            div { meter id="strength" min="0" max="4" value="0" aria-label="Password strength" {} span.hint aria-live="polite" {} }
            button type="submit" { "Accept and create my sign-in" }
        }
        form.stack.card method="post" action=(action) {
            h2 { "Already have a sign-in with this address?" }
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="mode" value="existing";
            label { "Current password" input type="password" name="password" autocomplete="current-password" required; }
            p.hint { "Signing in with two-factor authentication? Sign in to the console first, \
                      then open this link again to accept as the signed-in user." }
            button type="submit" { "Sign in and accept" }
        }
        @if let Some(session_csrf) = session_csrf {
            // Carries the session's own form token: this form acts as the signed-in user.
            form.stack.card method="post" action=(action) {
                h2 { "Signed in to the console?" }
                p { "Accept as the user you are signed in as. It must be the invited address, \
                     signed in within the last 10 minutes." }
                input type="hidden" name="csrf" value=(session_csrf);
                input type="hidden" name="mode" value="session";
                button type="submit" { "Accept as the signed-in user" }
            }
        }
    };
    respond(
        status,
        branded_page("Your invitation", Section::None, None, brand, content),
    )
}

/// The inviting account's branding: the invitee sees the account they are joining.
async fn brand_of(
    state: &web::Data<AppState>,
    config: &ConsoleConfig,
    preview: &InvitationPreview,
) -> Option<Brand> {
    crate::brand::of_account(
        state,
        &config.logos,
        preview.account_id,
        Some(preview.account_name.clone()),
    )
    .await
}

async fn preview(
    state: &web::Data<AppState>,
    link: &str,
) -> Result<InvitationPreview, HttpResponse> {
    let team = state.team.clone();
    let token = link.to_owned();
    match web::block(move || team.preview(&token)).await {
        Ok(Ok(p)) if p.state == InvitationState::Pending => Ok(p),
        Ok(Ok(p)) => Err(closed(Some(p.state))),
        Ok(Err(TeamError::InvitationNotFound)) => Err(closed(None)),
        Ok(Err(TeamError::Port(_))) => Err(crate::refusal::unavailable()),
        Ok(Err(e)) => Err(crate::refusal::internal(&e)),
        Err(e) => Err(crate::refusal::internal(&e)),
    }
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
) -> HttpResponse {
    let link = path.into_inner();
    if !InvitationToken::is_well_formed(&link) {
        return by_id();
    }
    let preview = match preview(&state, &link).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    let brand = brand_of(&state, &config, &preview).await;
    let session_csrf = crate::session::signed_in(&req, &state, &config)
        .await
        .ok()
        .map(|visitor| visitor.csrf());
    let mut res = invitation_page(
        StatusCode::OK,
        &link,
        &preview,
        brand.as_ref(),
        &csrf,
        None,
        session_csrf.as_deref(),
    );
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AcceptForm {
    csrf: String,
    mode: String,
    name: String,
    password: String,
}

async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<AcceptForm>,
) -> HttpResponse {
    let link = path.into_inner();
    // Accepting as the signed-in user is a signed-in form: it carries the session's own token,
    // not the pre-session one a sibling site could plant.
    let by_session = f.mode == "session";
    let signed_in = crate::session::signed_in(&req, &state, &config).await.ok();
    let form_ok = if by_session {
        signed_in
            .as_ref()
            .is_some_and(|visitor| crate::csrf::session_token_matches(&visitor.token, &f.csrf))
    } else {
        crate::csrf::pre_session_matches(&req, &config, &f.csrf)
    };
    if !form_ok {
        return crate::refusal::forged_form();
    }
    if !InvitationToken::is_well_formed(&link) {
        return closed(None);
    }
    if let Some(res) = too_long(&[
        ("Name", &f.name, PERSON_NAME_MAX),
        ("Password", &f.password, PASSWORD_MAX),
    ]) {
        return res;
    }
    let preview = match preview(&state, &link).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let ip = tenantry_http::client_ip(&req, &state.config.trusted_proxies);
    let brand = brand_of(&state, &config, &preview).await;
    let (pre_session_csrf, _) = crate::csrf::pre_session(&req, &config);
    let session_csrf = signed_in.as_ref().map(|visitor| visitor.csrf());
    let retry = |status, message: &str| {
        invitation_page(
            status,
            &link,
            &preview,
            brand.as_ref(),
            &pre_session_csrf,
            Some(message),
            session_csrf.as_deref(),
        )
    };
    // Accepting as the signed-in user: the API's rule for a bearer (an unrestricted credential
    // someone signed in to lately; never a portal session) holds for the cookie too.
    let signed_in_as = match (&signed_in, by_session) {
        (_, false) => None,
        (None, true) => {
            return retry(
                StatusCode::UNAUTHORIZED,
                "Sign in to the console first, then open this link again.",
            )
        }
        (Some(visitor), true) => {
            let actor = &visitor.actor;
            let unrestricted = actor.scopes.is_empty() || actor.scopes.iter().any(|s| s == "*");
            if !unrestricted || actor.needs_reauth(true, state.clock.now()) {
                return retry(
                    StatusCode::FORBIDDEN,
                    "Accepting as the signed-in user needs a sign-in within the last 10 minutes \
                     (a portal link's session cannot accept): sign out, sign in again, then open \
                     this link again.",
                );
            }
            Some(actor.user_id)
        }
    };
    let input = AcceptInput {
        // An existing user's details are never written through the link.
        name: (f.mode == "new").then(|| f.name.clone()),
        password: (!by_session).then(|| f.password.clone()),
        signed_in_as,
        ip,
    };
    let team = state.team.clone();
    let token = link.clone();
    let outcome = state
        .password_pool
        .run(move || team.accept(&token, input))
        .await;
    let accepted =
        match outcome {
            Ok(Ok(accepted)) => accepted,
            Ok(Err(TeamError::InvalidField { field, reason })) => {
                return retry(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("{} {reason}.", capitalized(field)),
                )
            }
            Ok(Err(TeamError::IdentityNotProven)) => {
                return retry(
                    StatusCode::UNAUTHORIZED,
                    "This address already has a sign-in: give its current password to accept. No \
                 password yet? Use \"Forgot your password?\" to get a set-up link first.",
                )
            }
            Ok(Err(TeamError::SecondFactorRequired)) => {
                return retry(
                    StatusCode::UNAUTHORIZED,
                    "This address signs in with two-factor authentication, so its password alone \
                 does not accept the invitation. Sign in to the console (with your code), then \
                 open this link again and accept as the signed-in user.",
                )
            }
            Ok(Err(TeamError::SignedInAsAnotherUser)) => {
                return error_page(
                    StatusCode::FORBIDDEN,
                    "Signed in as someone else",
                    "You are signed in as a different user than the one this invitation was sent \
                     to. Sign out, then sign in with the invited address.",
                )
            }
            Ok(Err(TeamError::InvitationClosed(state))) => return closed(Some(state)),
            Ok(Err(TeamError::InvitationNotFound)) => return closed(None),
            Ok(Err(TeamError::MemberAlreadyExists { .. })) => {
                return error_page(
                    StatusCode::CONFLICT,
                    "You are already a member",
                    "This address is already a member of the account. Sign in to reach it.",
                )
            }
            Ok(Err(TeamError::MemberLimitReached { .. })) => return error_page(
                StatusCode::CONFLICT,
                "The account is full",
                "The account has reached its member limit. Ask its administrators to make room.",
            ),
            Ok(Err(TeamError::IpNotAllowed { .. })) => return crate::refusal::ip_not_allowed(),
            Ok(Err(TeamError::RateLimited { retry_after_secs })) => {
                return crate::refusal::too_many(u64::try_from(retry_after_secs).unwrap_or(1))
            }
            Ok(Err(TeamError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
                return crate::refusal::unavailable()
            }
            Ok(Err(e)) => return crate::refusal::internal(&e),
            Err(tenantry_http::Refused::Lost) => return crate::refusal::internal(&"accept lost"),
        };
    if by_session {
        // Already signed in elsewhere: the new account is one more to choose at sign-in.
        return error_page(
            StatusCode::OK,
            "You joined the account",
            "You are now a member. To work in it, sign out and sign in again, choosing it.",
        );
    }
    // Signed in the one way there is: the sign-in with the password just given.
    let sessions = state.sessions.clone();
    let email = preview.invitation.email.as_str().to_owned();
    let account = accepted.account.to_string();
    let password = f.password;
    let signed = state
        .password_pool
        .run(move || sessions.sign_in(&email, &password, None, AccountChoice::Named(&account), ip))
        .await;
    match signed {
        Ok(Ok(issued)) => {
            let next = match issued.restriction.as_deref() {
                Some(crate::session::MFA_ENROLLMENT) => "/console/account/mfa",
                _ => "/console",
            };
            let mut res = see_other(next);
            append_cookie(
                &mut res,
                &set_cookie(&config, cookie_name(&config), Some(&issued.token)),
            );
            res
        }
        // A second factor (an existing user's) or a throttle: the sign-in page takes it.
        Ok(Err(SecurityError::MfaCodeRequired | SecurityError::RateLimited { .. }))
        | Ok(Err(SecurityError::Unauthenticated)) => see_other("/console/login"),
        Ok(Err(SecurityError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            crate::refusal::unavailable()
        }
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => crate::refusal::internal(&"sign-in lost"),
    }
}

fn capitalized(field: &str) -> String {
    let mut chars = field.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
