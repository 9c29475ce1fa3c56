//! `/confirm-email/{token}`: the page the email-change confirmation links to. Opening it
//! changes nothing (mail scanners open links); its button posts the confirmation,
//! `TeamService::confirm_email_change`, the service behind `POST /api/user/email/confirm/{token}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::EmailChangeToken;
use tenantry_team::{EmailChangeRefusal, TeamError};

use crate::layout::{page, respond, Section};
use crate::refusal::error_page;
use crate::session::append_cookie;
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/confirm-email/{token}")
            .wrap(actix_web::middleware::from_fn(
                crate::cross_site::same_site_forms,
            ))
            .wrap(crate::headers::secure())
            .app_data(crate::form::config())
            .route(web::get().to(show))
            .route(web::post().to(submit)),
    );
}

fn invalid() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "The confirmation link is invalid, already used or expired, or your password changed \
         since it was sent. Ask for the change again.",
    )
}

async fn show(
    req: HttpRequest,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    if !EmailChangeToken::is_well_formed(&token) {
        return invalid();
    }
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    let content = html! {
        form.stack.card method="post" action=(format!("/confirm-email/{token}")) {
            input type="hidden" name="csrf" value=(csrf);
            p { "Confirm that you will sign in with this address from now on." }
            button type="submit" { "Confirm my new address" }
        }
    };
    let mut res = respond(
        StatusCode::OK,
        page("Confirm your new address", Section::None, None, content),
    );
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmForm {
    csrf: String,
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<ConfirmForm>,
) -> HttpResponse {
    let token = path.into_inner();
    if !crate::csrf::pre_session_matches(&req, &config, &f.csrf) {
        return crate::refusal::forged_form();
    }
    let ip = tenantry_http::client_ip(&req, &state.config.trusted_proxies);
    let team = state.team.clone();
    match web::block(move || team.confirm_email_change(&token, ip)).await {
        Ok(Ok(email)) => respond(
            StatusCode::OK,
            page(
                "Your address is changed",
                Section::None,
                None,
                html! {
                    div.notice role="status" { p { "You now sign in with " strong { (email.as_str()) } "." } }
                    p { a href="/console/login" { "Sign in" } }
                },
            ),
        ),
        Ok(Err(TeamError::EmailChangeRefused(EmailChangeRefusal::AddressTaken))) => error_page(
            StatusCode::CONFLICT,
            "This address is taken",
            "Another user signs in with this address now, so the change could not be made.",
        ),
        Ok(Err(TeamError::EmailChangeRefused(_))) => invalid(),
        Ok(Err(TeamError::IpNotAllowed { .. })) => crate::refusal::ip_not_allowed(),
        Ok(Err(TeamError::Port(_))) => crate::refusal::unavailable(),
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(e) => crate::refusal::internal(&e),
    }
}
