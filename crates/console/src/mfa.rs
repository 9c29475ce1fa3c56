//! `/console/account/mfa`: two-factor authentication (TOTP) of the signed-in user.
//!
//! Enrolling is `MfaService::enable` then `verify`, as `POST /api/user/mfa/enable` and
//! `/verify`: starting needs proof of the password (a sign-in within the re-authentication
//! window, or the password typed again), so a stolen session cannot bind its own device. The
//! secret is shown as a QR code drawn on the server and as text; the backup codes once, on the
//! page that answers the verification. Disabling is `MfaService::disable`: the password and a
//! current code.
//!
//! A session restricted to enrolling (the account requires MFA; the user had none) reaches
//! these pages and signing out only. Its restriction stays after enrolling, as the API's does:
//! the user signs in again with the new second factor.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_security::SecurityError;

use crate::form::{too_long, CODE_MAX, ID_MAX, PASSWORD_MAX};
use crate::layout::{notice, see_other, Section};
use crate::session::{restricted, SignedIn, MFA_ENROLLMENT};
use crate::visitor::{poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/mfa").route(web::get().to(show)))
        .service(web::resource("/account/mfa/enroll").route(web::post().to(enroll)))
        .service(web::resource("/account/mfa/verify").route(web::post().to(verify)))
        .service(web::resource("/account/mfa/disable").route(web::post().to(disable)));
}

const TITLE: &str = "Two-factor authentication";

/// Which sessions these pages serve.
const ADMITS: Admits = Admits::AlsoRestrictedTo(MFA_ENROLLMENT);

fn enrolling_only(visitor: &SignedIn) -> bool {
    visitor.restriction.as_deref() == Some(MFA_ENROLLMENT)
}

/// The page around `content`, with the visitor's chrome.
async fn mfa_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    status: StatusCode,
    content: Markup,
) -> HttpResponse {
    signed_in_page(state, visitor, TITLE, Section::Security, status, content).await
}

fn failure(message: &str) -> Markup {
    html! { div.error role="alert" { p { (message) } } }
}

/// The status part: enrolment form when off, disable form when on.
async fn status_content(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    message: Option<Markup>,
) -> Result<Markup, HttpResponse> {
    let mfa = state.mfa.clone();
    let actor = visitor.actor.clone();
    let status = match web::block(move || mfa.status(&actor)).await {
        Ok(Ok(status)) => status,
        Ok(Err(SecurityError::Port(_))) => return Err(crate::refusal::unavailable()),
        Ok(Err(e)) => return Err(crate::refusal::internal(&e)),
        Err(e) => return Err(crate::refusal::internal(&e)),
    };
    let csrf = visitor.csrf();
    Ok(html! {
        @if let Some(message) = message { (message) }
        @if status.enabled {
            section.card {
                p { "Two-factor authentication is " strong { "on" } ". "
                    (status.backup_codes_remaining) " backup codes left." }
            }
            @if enrolling_only(visitor) {
                (notice("Sign out, then sign in again with a code from your app to continue."))
            } @else {
                form.stack.card method="post" action="/console/account/mfa/disable" {
                    h2 { "Turn off" }
                    input type="hidden" name="csrf" value=(csrf);
                    label { "Password" input type="password" name="password" autocomplete="current-password"; }
                    label { "Code" input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required; }
                    button.danger type="submit" { "Turn off two-factor authentication" }
                }
            }
        } @else {
            @if enrolling_only(visitor) {
                (notice("Your account requires two-factor authentication. Set it up to continue."))
            }
            form.stack.card method="post" action="/console/account/mfa/enroll" {
                p { "Two-factor authentication is " strong { "off" } ". Use an authenticator app \
                     (TOTP) to add a code to every sign-in." }
                input type="hidden" name="csrf" value=(csrf);
                label { "Password"
                    span.hint { "Needed if you signed in more than 10 minutes ago." }
                    input type="password" name="password" autocomplete="current-password";
                }
                button type="submit" { "Set up two-factor authentication" }
            }
        }
    })
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    let visitor = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match status_content(&state, &visitor, None).await {
        Ok(content) => mfa_page(&state, &visitor, StatusCode::OK, content).await,
        Err(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrollForm {
    csrf: String,
    password: String,
}

/// The verification step: the QR code, the secret and the "Code" field. The enrollment's
/// id, secret and URI ride in hidden fields so a mistyped code can be tried again from the
/// same page; they are what the page shows anyway.
fn verify_form(csrf: &str, enrollment_id: &str, secret: &str, uri: &str) -> Markup {
    let qr = crate::qr::svg(uri, "QR code for your authenticator app");
    html! {
        section.card {
            p { "Scan this code with your authenticator app, or enter the key by hand." }
            @if let Some(qr) = qr { div.qr { (PreEscaped(qr)) } }
            p { "Key: " span.secret { (secret) } }
        }
        form.stack.card method="post" action="/console/account/mfa/verify" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="enrollment_id" value=(enrollment_id);
            input type="hidden" name="secret" value=(secret);
            input type="hidden" name="uri" value=(uri);
            label { "Code" input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required; }
            button type="submit" { "Verify and turn on" }
        }
    }
}

async fn enroll(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<EnrollForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[("Password", &f.password, PASSWORD_MAX)]) {
        return res;
    }
    let mfa = state.mfa.clone();
    let actor = visitor.actor.clone();
    let password = Some(f.password).filter(|p| !p.is_empty());
    let outcome = state
        .password_pool
        .run(move || mfa.enable(&actor, "totp", password.as_deref()))
        .await;
    let message = match outcome {
        Ok(Ok(e)) => {
            let content = verify_form(
                &visitor.csrf(),
                &e.enrollment_id.to_string(),
                &e.secret_base32,
                &e.otpauth_uri,
            );
            return mfa_page(&state, &visitor, StatusCode::OK, content).await;
        }
        Ok(Err(SecurityError::MfaAlreadyEnabled)) => return see_other("/console/account/mfa"),
        Ok(Err(SecurityError::WrongPassword | SecurityError::ReauthRequired)) => {
            "Enter your current password to set up two-factor authentication."
        }
        Ok(Err(SecurityError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            return crate::refusal::unavailable()
        }
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => return crate::refusal::internal(&"enrollment lost"),
    };
    match status_content(&state, &visitor, Some(failure(message))).await {
        Ok(content) => mfa_page(&state, &visitor, StatusCode::UNAUTHORIZED, content).await,
        Err(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VerifyForm {
    csrf: String,
    enrollment_id: String,
    secret: String,
    uri: String,
    code: String,
}

async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<VerifyForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[
        ("Enrollment", &f.enrollment_id, ID_MAX),
        ("Key", &f.secret, ID_MAX),
        ("Authenticator URI", &f.uri, 1024),
        ("Code", &f.code, CODE_MAX),
    ]) {
        return res;
    }
    let mfa = state.mfa.clone();
    let actor = visitor.actor.clone();
    let (enrollment, code) = (f.enrollment_id.clone(), f.code.trim().to_owned());
    let codes = match web::block(move || mfa.verify(&actor, &enrollment, &code)).await {
        Ok(Ok(codes)) => codes,
        Ok(Err(SecurityError::InvalidCode)) => {
            let content = html! {
                (failure("The code is not right. Check your app's clock and try the next code."))
                (verify_form(&visitor.csrf(), &f.enrollment_id, &f.secret, &f.uri))
            };
            return mfa_page(&state, &visitor, StatusCode::UNPROCESSABLE_ENTITY, content).await;
        }
        Ok(Err(SecurityError::UnknownEnrollment | SecurityError::MfaAlreadyEnabled)) => {
            return see_other("/console/account/mfa")
        }
        Ok(Err(SecurityError::Port(_))) => return crate::refusal::unavailable(),
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(e) => return crate::refusal::internal(&e),
    };
    let csrf = visitor.csrf();
    let content = html! {
        (notice("Two-factor authentication is on."))
        section.card {
            h2 { "Your backup codes" }
            p { "Each code signs you in once if you lose your device. Keep them somewhere safe: \
                 they are shown only now." }
            ul.codes { @for code in &codes { li { (code) } } }
        }
        @if enrolling_only(&visitor) {
            form.card method="post" action="/console/logout" {
                input type="hidden" name="csrf" value=(csrf);
                p { "Sign in again with a code from your app to continue." }
                button type="submit" { "Sign in again" }
            }
        } @else {
            p { a href="/console" { "Back to your account" } }
        }
    };
    mfa_page(&state, &visitor, StatusCode::OK, content).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisableForm {
    csrf: String,
    password: String,
    code: String,
}

async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<DisableForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    // Turning a factor off is for a full session only.
    if let Some(res) = restricted(&visitor) {
        return res;
    }
    if let Some(res) = too_long(&[
        ("Password", &f.password, PASSWORD_MAX),
        ("Code", &f.code, CODE_MAX),
    ]) {
        return res;
    }
    let mfa = state.mfa.clone();
    let actor = visitor.actor.clone();
    let password = Some(f.password).filter(|p| !p.is_empty());
    let code = f.code.trim().to_owned();
    let outcome = state
        .password_pool
        .run(move || mfa.disable(&actor, password.as_deref(), &code))
        .await;
    let (status, message) = match outcome {
        Ok(Ok(())) => (StatusCode::OK, notice("Two-factor authentication is off.")),
        Ok(Err(SecurityError::WrongPassword | SecurityError::InvalidCode)) => (
            StatusCode::UNAUTHORIZED,
            failure("The password or code is not right. Nothing was changed."),
        ),
        Ok(Err(SecurityError::MfaNotEnabled)) => return see_other("/console/account/mfa"),
        Ok(Err(SecurityError::RateLimited { retry_after_secs })) => {
            return crate::refusal::too_many(u64::try_from(retry_after_secs).unwrap_or(1))
        }
        Ok(Err(SecurityError::Port(_))) | Err(tenantry_http::Refused::Busy) => {
            return crate::refusal::unavailable()
        }
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(tenantry_http::Refused::Lost) => return crate::refusal::internal(&"disable lost"),
    };
    match status_content(&state, &visitor, Some(message)).await {
        Ok(content) => mfa_page(&state, &visitor, status, content).await,
        Err(res) => res,
    }
}
