//! `/console/account/profile`: the signed-in user's name and sign-in address.
//!
//! The name is `ProfileService::update_profile` (the security context's) with `display_name` alone, the call of
//! `PUT /api/user/profile` (an empty name clears it). A new address is
//! `TeamService::request_email_change`, the call of `POST /api/user/email`: it needs the current
//! password, mails a confirmation link to the new address (confirmed on `/confirm-email/...`)
//! and a notice to the current one, and answers the same whether or not the new address is
//! someone else's, so the page reveals no other user. A session restricted to one task reaches
//! none of this.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::SecurityError;
use tenantry_team::{EmailChangeRefusal, TeamError};

use crate::form::{too_long, EMAIL_MAX, PASSWORD_MAX, PERSON_NAME_MAX};
use crate::layout::{notice, page, respond, Chrome, Section};
use crate::session::SignedIn;
use crate::visitor::{poster, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/account/profile")
            .route(web::get().to(show))
            .route(web::post().to(rename)),
    )
    .service(web::resource("/account/profile/email").route(web::post().to(change_email)));
}

const TITLE: &str = "Profile";

/// Which sessions these pages serve.
const ADMITS: Admits = Admits::Unrestricted;

/// What the forms show again: the typed values and the refusals beside their fields.
#[derive(Default)]
struct Shown {
    name: Option<String>,
    name_error: Option<String>,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    message: Option<Markup>,
}

fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(m) = message { span.field-error id=(id) { (m) } } }
}

async fn profile_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    status: StatusCode,
    shown: Shown,
) -> HttpResponse {
    let profiles = state.profile.clone();
    let actor = visitor.actor.clone();
    let profile = match web::block(move || profiles.profile(&actor)).await {
        Ok(Ok(p)) => p,
        Ok(Err(SecurityError::Port(_))) => return crate::refusal::unavailable(),
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(e) => return crate::refusal::internal(&e),
    };
    let csrf = visitor.csrf();
    let name = shown
        .name
        .clone()
        .unwrap_or_else(|| profile.display_name.clone().unwrap_or_default());
    let content = html! {
        @if let Some(message) = &shown.message { (message) }
        form.stack.card method="post" action="/console/account/profile" novalidate {
            h2 { "Name" }
            input type="hidden" name="csrf" value=(csrf);
            label { "Name"
                span.hint { "Shown to your team. Leave it empty to show your address instead." }
                @if shown.name_error.is_some() {
                    input type="text" name="display_name" value=(name) autocomplete="name" maxlength=(PERSON_NAME_MAX) aria-invalid="true" aria-describedby="name-error";
                } @else {
                    input type="text" name="display_name" value=(name) autocomplete="name" maxlength=(PERSON_NAME_MAX);
                }
                (field_error("name-error", shown.name_error.as_ref()))
            }
            button type="submit" { "Save name" }
        }
        form.stack.card method="post" action="/console/account/profile/email" novalidate {
            h2 { "Email address" }
            p { "You sign in with " strong { (profile.email) } ". A new address counts once you \
                 follow the link we send to it; until then this one stays." }
            input type="hidden" name="csrf" value=(csrf);
            label { "New email address"
                @if shown.email_error.is_some() {
                    input type="email" name="email" value=(shown.email) autocomplete="email" required aria-invalid="true" aria-describedby="email-error";
                } @else {
                    input type="email" name="email" value=(shown.email) autocomplete="email" required;
                }
                (field_error("email-error", shown.email_error.as_ref()))
            }
            label { "Current password"
                @if shown.password_error.is_some() {
                    input type="password" name="current_password" autocomplete="current-password" required aria-invalid="true" aria-describedby="password-error";
                } @else {
                    input type="password" name="current_password" autocomplete="current-password" required;
                }
                (field_error("password-error", shown.password_error.as_ref()))
            }
            button type="submit" { "Change email address" }
        }
    };
    let back = crate::visitor::way_back(state, visitor).await;
    let brand =
        crate::brand::of_account(state, &visitor.logos, visitor.actor.account_id, None).await;
    let chrome = Chrome {
        brand: brand.as_ref(),
        who: &profile.email,
        csrf: &csrf,
        restricted: false,
        role: visitor.actor.role,
        back: back.as_ref().map(|url| (url.as_str(), url.host())),
    };
    respond(
        status,
        page(TITLE, Section::Profile, Some(&chrome), content),
    )
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => profile_page(&state, &v, StatusCode::OK, Shown::default()).await,
        Err(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameForm {
    csrf: String,
    display_name: String,
}

async fn rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<NameForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[("Name", &f.display_name, PERSON_NAME_MAX)]) {
        return res;
    }
    let profiles = state.profile.clone();
    let actor = visitor.actor.clone();
    let body = serde_json::json!({ "display_name": f.display_name });
    match web::block(move || profiles.update_profile(&actor, &body)).await {
        Ok(Ok(_)) => {
            let shown = Shown {
                message: Some(notice("Your name is saved.")),
                ..Shown::default()
            };
            profile_page(&state, &visitor, StatusCode::OK, shown).await
        }
        Ok(Err(SecurityError::InvalidFields(fields))) => {
            let message = fields
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            let shown = Shown {
                name: Some(f.display_name),
                name_error: Some(format!("The name {message}. Nothing was changed.")),
                ..Shown::default()
            };
            profile_page(&state, &visitor, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Ok(Err(SecurityError::ReauthRequired)) => crate::refusal::error_page(
            StatusCode::FORBIDDEN,
            "Sign in to change your profile",
            "Your name is yours in every account, so a portal link's session cannot change it. \
             Sign in to the console to change it.",
        ),
        Ok(Err(SecurityError::Port(_))) => crate::refusal::unavailable(),
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(e) => crate::refusal::internal(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EmailForm {
    csrf: String,
    email: String,
    current_password: String,
}

async fn change_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<EmailForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[
        ("New email address", &f.email, EMAIL_MAX),
        ("Current password", &f.current_password, PASSWORD_MAX),
    ]) {
        return res;
    }
    let team = state.team.clone();
    let actor = visitor.actor.clone();
    let email = f.email.trim().to_owned();
    let password = Some(f.current_password).filter(|p| !p.is_empty());
    let outcome = state
        .password_pool
        .run(move || team.request_email_change(&actor, &email, password.as_deref()))
        .await;
    let (status, shown) = match outcome {
        Ok(Ok(_)) => (
            StatusCode::OK,
            Shown {
                message: Some(notice(
                    "A message is on its way to the new address: follow its link within 24 \
                     hours to confirm the change. Your current address stays until then and \
                     has been sent a notice.",
                )),
                ..Shown::default()
            },
        ),
        Ok(Err(TeamError::EmailChangeRefused(EmailChangeRefusal::WrongPassword))) => (
            StatusCode::FORBIDDEN,
            Shown {
                email: f.email,
                password_error: Some(
                    "This is not your current password. Nothing was changed.".into(),
                ),
                ..Shown::default()
            },
        ),
        Ok(Err(TeamError::RateLimited { retry_after_secs })) => {
            return crate::refusal::too_many(u64::try_from(retry_after_secs).unwrap_or(1))
        }
        Ok(Err(TeamError::InvalidField { reason, .. })) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Shown {
                email: f.email,
                email_error: Some(format!("The address {reason}. Nothing was changed.")),
                ..Shown::default()
            },
        ),
        Ok(Err(TeamError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            return crate::refusal::unavailable()
        }
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => return crate::refusal::internal(&"change lost"),
    };
    profile_page(&state, &visitor, status, shown).await
}
