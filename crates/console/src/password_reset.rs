//! `/reset-password/{token}`: the page the password set-up and reset emails link to. The
//! visitor chooses a password (the API's rules, applied by `TeamService::complete_password_reset`,
//! the service behind `POST /api/auth/password-reset/{token}`); the link works once, and using
//! it ends every session of the user. The page cannot tell a valid link from a used one before
//! it is used (that would spend a lookup on every view and tell an observer of the URL
//! whether it still works): the form says so after the post.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::PasswordResetToken;
use tenantry_team::TeamError;

use crate::form::{too_long, PASSWORD_MAX};
use crate::layout::{page, respond, Section};
use crate::refusal::error_page;
use crate::session::append_cookie;
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/reset-password/{token}")
            .wrap(actix_web::middleware::from_fn(
                crate::cross_site::same_site_forms,
            ))
            .wrap(crate::headers::secure())
            .app_data(crate::form::config())
            .route(web::get().to(show))
            .route(web::post().to(submit)),
    );
}

const TITLE: &str = "Choose your password";

fn invalid() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "The password link is invalid, already used or expired. Ask for a new one from the \
         sign-in page.",
    )
}

fn form_page(status: StatusCode, token: &str, csrf: &str, message: Option<&str>) -> HttpResponse {
    let content = html! {
        @if let Some(message) = message {
            div.error role="alert" { p { (message) } }
        }
        form.stack.card method="post" action=(format!("/reset-password/{token}")) {
            input type="hidden" name="csrf" value=(csrf);
            label { "Password"
                span.hint { "At least 12 characters; not a commonly used password." }
                input type="password" name="password" autocomplete="new-password" required data-strength="strength";
            }
            div { meter id="strength" min="0" max="4" value="0" aria-label="Password strength" {} span.hint aria-live="polite" {} }
            p.hint { "The link works once. Choosing a password signs you out everywhere." }
            button type="submit" { "Set my password" }
        }
    };
    respond(status, page(TITLE, Section::None, None, content))
}

async fn show(
    req: HttpRequest,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    if !PasswordResetToken::is_well_formed(&token) {
        return invalid();
    }
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    let mut res = form_page(StatusCode::OK, &token, &csrf, None);
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    csrf: String,
    password: String,
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ResetForm>,
) -> HttpResponse {
    let token = path.into_inner();
    if !crate::csrf::pre_session_matches(&req, &config, &f.csrf) {
        return crate::refusal::forged_form();
    }
    if let Some(res) = too_long(&[("Password", &f.password, PASSWORD_MAX)]) {
        return res;
    }
    let ip = tenantry_http::client_ip(&req, &state.config.trusted_proxies);
    let team = state.team.clone();
    let (link, password) = (token.clone(), f.password);
    let outcome = state
        .password_pool
        .run(move || team.complete_password_reset(&link, &password, ip))
        .await;
    match outcome {
        Ok(Ok(_)) => respond(
            StatusCode::OK,
            page(
                "Your password is set",
                Section::None,
                None,
                html! {
                    div.notice role="status" { p { "Your password is set. Every earlier session has ended." } }
                    p { a href="/console/login" { "Sign in" } }
                },
            ),
        ),
        Ok(Err(TeamError::InvalidField { reason, .. })) => form_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            &f.csrf,
            Some(&format!("The password {reason}.")),
        ),
        Ok(Err(TeamError::ResetLinkInvalid)) => invalid(),
        Ok(Err(TeamError::IpNotAllowed { .. })) => crate::refusal::ip_not_allowed(),
        Ok(Err(TeamError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            crate::refusal::unavailable()
        }
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => crate::refusal::internal(&"reset lost"),
    }
}
