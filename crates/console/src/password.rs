//! `/console/account/password`: change the signed-in user's password.
//!
//! This is `ProfileService::change_password` (the security context's), the call of
//! `POST /api/user/password`: the current password must match (a stolen session alone cannot lock its owner out), the new one
//! obeys the API's rules, and every other session of the user ends. The console adds one check
//! the API has no use for: the new password typed twice must agree (nothing is sent otherwise).
//!
//! A session restricted to a password change (signed in with an expired password) reaches
//! this page and signing out only. As with the API, changing the password does not lift the
//! restriction: the page then asks to sign in again with the new password, which gives a full
//! session.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::SecurityError;

use crate::form::{too_long, PASSWORD_MAX};
use crate::layout::Section;
use crate::session::{SignedIn, PASSWORD_CHANGE};
use crate::visitor::{poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/account/password")
            .route(web::get().to(show))
            .route(web::post().to(change)),
    );
}

const TITLE: &str = "Password";

/// Which sessions these pages serve.
const ADMITS: Admits = Admits::AlsoRestrictedTo(PASSWORD_CHANGE);

fn changing_only(visitor: &SignedIn) -> bool {
    visitor.restriction.as_deref() == Some(PASSWORD_CHANGE)
}

/// Refusals beside their fields.
#[derive(Default)]
struct Errors {
    current: Option<String>,
    new: Option<String>,
    repeat: Option<String>,
}

async fn password_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    status: StatusCode,
    content: Markup,
) -> HttpResponse {
    signed_in_page(state, visitor, TITLE, Section::Password, status, content).await
}

/// A password field with its label, hint and error.
fn field(
    label: &str,
    name: &str,
    autocomplete: &str,
    hint: Option<&str>,
    error: Option<&String>,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        label { (label)
            @if let Some(hint) = hint { span.hint { (hint) } }
            @if error.is_some() {
                input type="password" name=(name) autocomplete=(autocomplete) required aria-invalid="true" aria-describedby=(error_id);
            } @else {
                input type="password" name=(name) autocomplete=(autocomplete) required;
            }
            @if let Some(e) = error { span.field-error id=(error_id) { (e) } }
        }
    }
}

fn form(visitor: &SignedIn, errors: &Errors) -> Markup {
    html! {
        @if changing_only(visitor) {
            div.notice role="status" { p { "Your password has expired. Choose a new one to continue." } }
        }
        form.stack.card method="post" action="/console/account/password" novalidate {
            input type="hidden" name="csrf" value=(visitor.csrf());
            (field("Current password", "current_password", "current-password", None, errors.current.as_ref()))
            (field("New password", "new_password", "new-password",
                Some("At least 12 characters; not a commonly used password."), errors.new.as_ref()))
            (field("Repeat the new password", "repeat_password", "new-password", None, errors.repeat.as_ref()))
            p.hint { "Changing your password signs you out everywhere else." }
            button type="submit" { "Change password" }
        }
    }
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => {
            let content = form(&v, &Errors::default());
            password_page(&state, &v, StatusCode::OK, content).await
        }
        Err(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeForm {
    csrf: String,
    current_password: String,
    new_password: String,
    repeat_password: String,
}

async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<ChangeForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[
        ("Current password", &f.current_password, PASSWORD_MAX),
        ("New password", &f.new_password, PASSWORD_MAX),
        ("Repeat the new password", &f.repeat_password, PASSWORD_MAX),
    ]) {
        return res;
    }
    let refuse = |errors: Errors, status| {
        let content = form(&visitor, &errors);
        password_page(&state, &visitor, status, content)
    };
    if f.new_password != f.repeat_password {
        let errors = Errors {
            repeat: Some("The two new passwords differ. Nothing was changed.".into()),
            ..Errors::default()
        };
        return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let profiles = state.profile.clone();
    let actor = visitor.actor.clone();
    let current = Some(f.current_password).filter(|p| !p.is_empty());
    let new = f.new_password;
    let outcome = state
        .password_pool
        .run(move || profiles.change_password(&actor, current.as_deref(), &new))
        .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(SecurityError::WrongPassword)) => {
            let errors = Errors {
                current: Some("This is not your current password. Nothing was changed.".into()),
                ..Errors::default()
            };
            return refuse(errors, StatusCode::FORBIDDEN).await;
        }
        Ok(Err(SecurityError::RateLimited { retry_after_secs })) => {
            return crate::refusal::too_many(u64::try_from(retry_after_secs).unwrap_or(1))
        }
        Ok(Err(SecurityError::InvalidFields(fields))) => {
            let message = fields
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            let errors = Errors {
                new: Some(format!("The new password {message}. Nothing was changed.")),
                ..Errors::default()
            };
            return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Ok(Err(SecurityError::ReauthRequired)) => {
            let errors = Errors {
                current: Some(
                    "A first password is set through the password set-up link sent by email, \
                     not from a portal session. Nothing was changed."
                        .into(),
                ),
                ..Errors::default()
            };
            return refuse(errors, StatusCode::FORBIDDEN).await;
        }
        Ok(Err(SecurityError::PasswordChangedMeanwhile)) => {
            let errors = Errors {
                current: Some(
                    "Your password changed meanwhile. Nothing was changed; try again.".into(),
                ),
                ..Errors::default()
            };
            return refuse(errors, StatusCode::CONFLICT).await;
        }
        Ok(Err(SecurityError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            return crate::refusal::unavailable()
        }
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => return crate::refusal::internal(&"change lost"),
    }
    let csrf = visitor.csrf();
    let content = html! {
        div.notice role="status" { p { "Your password is changed. Every other session has ended." } }
        @if changing_only(&visitor) {
            form.card method="post" action="/console/logout" {
                input type="hidden" name="csrf" value=(csrf);
                p { "Sign in again with your new password to continue." }
                button type="submit" { "Sign in again" }
            }
        } @else {
            p { a href="/console" { "Back to your account" } }
        }
    };
    password_page(&state, &visitor, StatusCode::OK, content).await
}
