//! Sign-in and sign-out: `/console/login` and `/console/logout`.
//!
//! Signing in is `SessionService::sign_in`, the sign-in behind `POST /api/auth/login`: the
//! same throttle, allowlist, password check, second factor and session policy. The form asks
//! for the email address and password; when the user has a second factor it comes back asking
//! for the "Code" (a TOTP code or a backup code); a member of several accounts picks the
//! account the same way. The password is posted once: the next step carries a sign-in ticket
//! (`SessionService::sign_in_step`), a few minutes' proof that the password was right, keyed
//! by the stored password hash, so the page never holds the password and no server keeps
//! state between the steps. Every failure reads the same
//! ("not right"), whichever part was wrong.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::{AccountChoice, SecurityError, SignInProof, SignInStep};
use tenantry_team::ResetPurpose;

use crate::form::{too_long, CODE_MAX, EMAIL_MAX, NAME_MAX, PASSWORD_MAX};
use crate::layout::{page, respond, see_other, Section};
use crate::session::{append_cookie, cookie_name, set_cookie, signed_in, MFA_ENROLLMENT};
use crate::ConsoleConfig;

/// Longest sign-in ticket accepted (a real one is about 55 characters).
const TICKET_MAX: usize = 100;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(show))
            .route(web::post().to(submit)),
    )
    .service(web::resource("/logout").route(web::post().to(logout)))
    .service(
        web::resource("/forgot-password")
            .route(web::get().to(forgot))
            .route(web::post().to(send_reset)),
    );
}

/// What the sign-in form asks for next.
enum Step<'a> {
    Password {
        email: &'a str,
    },
    Code {
        email: &'a str,
        ticket: &'a str,
        account: Option<&'a str>,
    },
    Account {
        email: &'a str,
        ticket: &'a str,
        accounts: &'a [String],
    },
}

fn form(csrf: &str, step: &Step<'_>, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            div.error role="alert" { p { (message) } }
        }
        form.stack.card method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(csrf);
            @match step {
                Step::Password { email } => {
                    label { "Email" input type="email" name="email" value=(email) autocomplete="username" required; }
                    label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                }
                Step::Code { email, ticket, account } => {
                    input type="hidden" name="email" value=(email);
                    input type="hidden" name="ticket" value=(ticket);
                    @if let Some(account) = account {
                        input type="hidden" name="account" value=(account);
                    }
                    p { "Enter the code from your authenticator app, or one of your backup codes." }
                    label { "Code" input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus; }
                }
                Step::Account { email, ticket, accounts } => {
                    input type="hidden" name="email" value=(email);
                    input type="hidden" name="ticket" value=(ticket);
                    label { "Account"
                        select name="account" required {
                            @for name in *accounts { option value=(name) { (name) } }
                        }
                    }
                }
            }
            button type="submit" { "Sign in" }
        }
        p { a href="/console/forgot-password" { "Forgot your password?" } }
    }
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    step: &Step<'_>,
    message: Option<&str>,
) -> HttpResponse {
    respond(
        status,
        page("Sign in", Section::None, None, form(csrf, step, message)),
    )
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    if signed_in(&req, &state, &config).await.is_ok() {
        return see_other("/console");
    }
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    let mut res = login_page(StatusCode::OK, &csrf, &Step::Password { email: "" }, None);
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    /// The previous step's sign-in ticket; when present, the password is not asked again.
    ticket: String,
    code: String,
    account: String,
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<LoginForm>,
) -> HttpResponse {
    if !crate::csrf::pre_session_matches(&req, &config, &f.csrf) {
        return crate::refusal::forged_form();
    }
    if let Some(res) = too_long(&[
        ("Email", &f.email, EMAIL_MAX),
        ("Password", &f.password, PASSWORD_MAX),
        ("Ticket", &f.ticket, TICKET_MAX),
        ("Code", &f.code, CODE_MAX),
        ("Account", &f.account, NAME_MAX),
    ]) {
        return res;
    }
    let ip = tenantry_http::client_ip(&req, &state.config.trusted_proxies);
    let sessions = state.sessions.clone();
    let (email, password, ticket) = (f.email.clone(), f.password.clone(), f.ticket.clone());
    // The form's token equals the browser's pre-session cookie (checked above): the tickets
    // of this sign-in are bound to it, so a ticket copied into another browser is refused.
    let browser = f.csrf.clone();
    let code = Some(f.code.trim().to_owned()).filter(|c| !c.is_empty());
    let account = Some(f.account.clone()).filter(|a| !a.is_empty());
    // Argon2 runs on the API's hashing pool: console sign-ins queue with the API's.
    let outcome = state
        .password_pool
        .run(move || {
            let choice = account
                .as_deref()
                .map_or(AccountChoice::OnlyOne, AccountChoice::Named);
            let proof = if ticket.is_empty() {
                SignInProof::Password(&password)
            } else {
                SignInProof::Ticket(&ticket)
            };
            sessions.sign_in_step(&email, proof, code.as_deref(), choice, ip, &browser)
        })
        .await;
    let issued = match outcome {
        Ok(Ok(SignInStep::Signed(issued))) => issued,
        Ok(Ok(SignInStep::NeedsCode { ticket })) => {
            let step = Step::Code {
                email: &f.email,
                ticket: &ticket,
                account: Some(f.account.as_str()).filter(|a| !a.is_empty()),
            };
            return login_page(StatusCode::OK, &f.csrf, &step, None);
        }
        Ok(Ok(SignInStep::NeedsAccount { ticket, accounts })) => {
            let step = Step::Account {
                email: &f.email,
                ticket: &ticket,
                accounts: &accounts,
            };
            return login_page(StatusCode::OK, &f.csrf, &step, None);
        }
        // A ticket that expired or no longer holds (the password changed meanwhile) starts
        // the sign-in over, as a wrong password does.
        Ok(Err(SecurityError::Unauthenticated)) => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                &f.csrf,
                &Step::Password { email: &f.email },
                Some("The email address, password or code is not right."),
            )
        }
        Ok(Err(SecurityError::RateLimited { retry_after_secs })) => {
            return crate::refusal::too_many(u64::try_from(retry_after_secs).unwrap_or(1))
        }
        Ok(Err(SecurityError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            return crate::refusal::unavailable()
        }
        Ok(Err(other)) => return crate::refusal::internal(&other),
        Err(tenantry_http::Refused::Lost) => {
            return crate::refusal::internal(&"the sign-in ended without a result")
        }
    };
    let next = match issued.restriction.as_deref() {
        Some(MFA_ENROLLMENT) => "/console/account/mfa",
        Some(crate::session::PASSWORD_CHANGE) => "/console/account/password",
        _ => "/console",
    };
    let mut res = see_other(next);
    append_cookie(
        &mut res,
        &set_cookie(&config, cookie_name(&config), Some(&issued.token)),
    );
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogoutForm {
    csrf: String,
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<LogoutForm>,
) -> HttpResponse {
    let visitor = match signed_in(&req, &state, &config).await {
        Ok(visitor) => visitor,
        Err(not) => return not.into_response(&config),
    };
    if !crate::csrf::session_token_matches(&visitor.token, &f.csrf) {
        return crate::refusal::forged_form();
    }
    let sessions = state.sessions.clone();
    match web::block(move || sessions.logout(&visitor.actor)).await {
        Ok(Ok(())) => {}
        Ok(Err(SecurityError::Port(_))) => return crate::refusal::unavailable(),
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(e) => return crate::refusal::internal(&e),
    }
    let mut res = see_other("/console/login");
    append_cookie(&mut res, &set_cookie(&config, cookie_name(&config), None));
    // Pages of the session may sit in the browser's back-forward cache despite `no-store`:
    // signing out drops them, so the back button cannot show them.
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("clear-site-data"),
        actix_web::http::header::HeaderValue::from_static("\"cache\""),
    );
    res
}

fn forgot_page(csrf: &str, message: Option<Markup>) -> HttpResponse {
    respond(
        StatusCode::OK,
        page(
            "Forgot your password?",
            Section::None,
            None,
            html! {
                @if let Some(message) = message { (message) }
                form.stack.card method="post" action="/console/forgot-password" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { "We will email a link to choose a new password." }
                    label { "Email" input type="email" name="email" autocomplete="username" required; }
                    button type="submit" { "Send the link" }
                }
            },
        ),
    )
}

/// `/console/forgot-password`: asks for a password link (`TeamService::request_password_reset`,
/// the service behind `POST /api/auth/password-reset`).
async fn forgot(req: HttpRequest, config: web::Data<ConsoleConfig>) -> HttpResponse {
    let (csrf, cookie) = crate::csrf::pre_session(&req, &config);
    let mut res = forgot_page(&csrf, None);
    if let Some(cookie) = cookie {
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ForgotForm {
    csrf: String,
    email: String,
}

/// The same answer whether or not the address belongs to a user, as the API's.
async fn send_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<ForgotForm>,
) -> HttpResponse {
    if !crate::csrf::pre_session_matches(&req, &config, &f.csrf) {
        return crate::refusal::forged_form();
    }
    if let Some(res) = too_long(&[("Email", &f.email, EMAIL_MAX)]) {
        return res;
    }
    let Ok(email) = tenantry_kernel::Email::parse(&f.email) else {
        return forgot_page(
            &f.csrf,
            Some(html! { div.error role="alert" { p { "Enter an email address." } } }),
        );
    };
    let team = state.team.clone();
    match web::block(move || team.request_password_reset(&email, ResetPurpose::Reset)).await {
        Ok(Ok(_)) => forgot_page(
            &f.csrf,
            Some(
                html! { div.notice role="status" { p { "If this address belongs to a user, a link to choose a password is on its way to it." } } },
            ),
        ),
        Ok(Err(tenantry_team::TeamError::Port(_))) => crate::refusal::unavailable(),
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(e) => crate::refusal::internal(&e),
    }
}
