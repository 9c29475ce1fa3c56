//! `/console/account/api-keys`: the signed-in user's own API keys: list, create (name, scopes,
//! expiry), regenerate, delete.
//!
//! Every change is the call `POST/DELETE /api/user/api-keys...` makes, `ApiKeyService`, with
//! the session's `Actor`, so the API's rules hold unchanged: a key is never stronger than the
//! credential making it (role and scopes), the account's key limit, MFA when the account
//! requires it, and a session signed in longer ago than the re-authentication window gets no
//! new secret when the account's policy asks for re-authentication (the page says to sign in
//! again, as the API's `REAUTH_REQUIRED` does). A session restricted to one task reaches none
//! of these pages.
//!
//! A secret is shown once, in the answer to the post that made it; no page that can be
//! fetched again shows it. A copy button is the script's enhancement (`data-copy`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_kernel::ApiKeyId;
use tenantry_security::{ApiKeyInfo, Scope, SecurityError};

use crate::form::{too_long, ID_MAX, KEY_NAME_MAX};
use crate::layout::{notice, see_other, time, Section};
use crate::session::SignedIn;
use crate::visitor::{poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/account/api-keys")
            .route(web::get().to(show))
            .route(web::post().to(create)),
    )
    .service(web::resource("/account/api-keys/{id}/regenerate").route(web::post().to(regenerate)))
    .service(web::resource("/account/api-keys/{id}/delete").route(web::post().to(delete)));
}

const TITLE: &str = "API keys";

/// Which sessions these pages serve.
const ADMITS: Admits = Admits::Unrestricted;
const PATH: &str = "/console/account/api-keys";
/// Longest accepted "Expires after (days)" value: the service allows up to 3650.
const DAYS_MAX: usize = 10;
/// Longest scope name the form can carry (the longest real one is far shorter).
const SCOPE_MAX: usize = 64;

/// What the create form held, to show it again beside its errors.
#[derive(Default)]
struct Draft {
    name: String,
    scopes: Vec<String>,
    days: String,
}

/// Refusals, each beside its field (or above the form when about no field).
#[derive(Default)]
struct Errors {
    form: Option<Markup>,
    name: Option<String>,
    scopes: Option<String>,
    days: Option<String>,
}

fn failure(message: Markup) -> Markup {
    html! { div.error role="alert" { (message) } }
}

/// The page around `content`, with the visitor's chrome.
async fn key_page(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    status: StatusCode,
    content: Markup,
) -> HttpResponse {
    signed_in_page(state, visitor, TITLE, Section::ApiKeys, status, content).await
}

/// One field's error, tied to its input by `aria-describedby`.
fn field_error(id: &str, message: Option<&String>) -> Markup {
    html! { @if let Some(m) = message { span.field-error id=(id) { (m) } } }
}

/// The list of keys and the create form.
async fn listing(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    draft: &Draft,
    errors: &Errors,
    message: Option<Markup>,
) -> Result<Markup, HttpResponse> {
    let keys = state.api_keys.clone();
    let actor = visitor.actor.clone();
    let list = match web::block(move || keys.list(&actor)).await {
        Ok(Ok(list)) => list,
        Ok(Err(SecurityError::Port(_))) => return Err(crate::refusal::unavailable()),
        Ok(Err(e)) => return Err(crate::refusal::internal(&e)),
        Err(e) => return Err(crate::refusal::internal(&e)),
    };
    let csrf = visitor.csrf();
    Ok(html! {
        @if let Some(message) = message { (message) }
        section.card {
            h2 { "Your keys" }
            @if list.is_empty() {
                p { "You have no API keys." }
            } @else {
                ul.keys {
                    @for key in &list { li { (key_row(&csrf, key)) } }
                }
            }
        }
        form.stack.card method="post" action=(PATH) novalidate {
            h2 { "Create a key" }
            @if let Some(e) = &errors.form { (failure(e.clone())) }
            input type="hidden" name="csrf" value=(csrf);
            label { "Name"
                @if errors.name.is_some() {
                    input type="text" name="name" value=(draft.name) maxlength=(KEY_NAME_MAX) required aria-invalid="true" aria-describedby="name-error";
                } @else {
                    input type="text" name="name" value=(draft.name) maxlength=(KEY_NAME_MAX) required;
                }
                (field_error("name-error", errors.name.as_ref()))
            }
            fieldset.scopes aria-describedby=[errors.scopes.as_ref().map(|_| "scopes-error")] {
                legend { "Scopes" }
                p.hint { "None chosen: everything your role allows (\"*\"). A key can never do \
                          more than your role." }
                @for scope in Scope::all_names().into_iter().filter(|s| s != "*") {
                    label.check {
                        @if draft.scopes.contains(&scope) {
                            input type="checkbox" name="scopes" value=(scope) checked;
                        } @else {
                            input type="checkbox" name="scopes" value=(scope);
                        }
                        " " (scope)
                    }
                }
                (field_error("scopes-error", errors.scopes.as_ref()))
            }
            label { "Expires after (days)"
                span.hint { "1 to 3650; empty for a key that does not expire." }
                @if errors.days.is_some() {
                    input type="text" name="expires_in_days" value=(draft.days) inputmode="numeric" aria-invalid="true" aria-describedby="days-error";
                } @else {
                    input type="text" name="expires_in_days" value=(draft.days) inputmode="numeric";
                }
                (field_error("days-error", errors.days.as_ref()))
            }
            button type="submit" { "Create key" }
        }
    })
}

fn key_row(csrf: &str, key: &ApiKeyInfo) -> Markup {
    let id = key.id.to_string();
    html! {
        dl.facts {
            dt { "Name" } dd { (key.name) }
            dt { "Key" } dd { span.secret { (key.prefix) "…" } }
            dt { "Scopes" } dd { (key.scopes.join(", ")) }
            dt { "Created" } dd { (time(key.created_at)) }
            dt { "Last used" } dd { (key.last_used_at.map_or_else(|| "never".to_owned(), time)) }
            dt { "Expires" } dd { (key.expires_at.map_or_else(|| "never".to_owned(), time)) }
        }
        div.actions {
            form method="post" action={ (PATH) "/" (id) "/regenerate" } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" aria-label={ "Regenerate " (key.name) } { "Regenerate" }
            }
            form method="post" action={ (PATH) "/" (id) "/delete" } {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" aria-label={ "Delete " (key.name) } { "Delete" }
            }
        }
    }
}

/// The page that shows a new secret, once.
fn secret_shown(what: &str, key: &ApiKeyInfo, secret: &str) -> Markup {
    html! {
        (notice(what))
        section.card {
            h2 { (key.name) }
            p { "Copy the key now: it is shown only once. Anyone holding it acts as you, within \
                 its scopes (" (key.scopes.join(", ")) ")." }
            p { code.secret id="new-secret" data-copy="new-secret" { (secret) } }
        }
        p { a href=(PATH) { "Back to your API keys" } }
    }
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
    match listing(
        &state,
        &visitor,
        &Draft::default(),
        &Errors::default(),
        None,
    )
    .await
    {
        Ok(content) => key_page(&state, &visitor, StatusCode::OK, content).await,
        Err(res) => res,
    }
}

/// The create form, read from its pairs: `scopes` may repeat (one per ticked box); every
/// other field counts once (a second `csrf` or `name` is a malformed form, not a choice).
struct CreateForm {
    csrf: String,
    draft: Draft,
}

fn parse_create(pairs: Vec<(String, String)>) -> Result<CreateForm, &'static str> {
    let mut csrf = None;
    let mut name = None;
    let mut days = None;
    let mut scopes = Vec::new();
    let twice = || "A field was sent twice. Nothing was changed.";
    for (field, value) in pairs {
        let slot = match field.as_str() {
            "csrf" => &mut csrf,
            "name" => &mut name,
            "expires_in_days" => &mut days,
            "scopes" => {
                if scopes.len() >= Scope::all_names().len() || scopes.contains(&value) {
                    return Err(twice());
                }
                scopes.push(value);
                continue;
            }
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(twice());
        }
    }
    let draft = Draft {
        name: name.unwrap_or_default(),
        scopes,
        days: days.unwrap_or_default(),
    };
    let csrf = csrf.unwrap_or_default();
    Ok(CreateForm { csrf, draft })
}

/// A refusal of a key operation: the page's errors and status, or a page of its own.
fn refusal(e: SecurityError) -> Result<(StatusCode, Errors), Box<HttpResponse>> {
    let form = |m: Markup| Errors {
        form: Some(m),
        ..Errors::default()
    };
    Ok(match e {
        SecurityError::ReauthRequired => (
            StatusCode::FORBIDDEN,
            form(
                html! { p { "You signed in too long ago to get a new key secret. Sign out, \
                sign in again, then try again. Nothing was changed." } },
            ),
        ),
        SecurityError::MfaEnrollmentRequired => (
            StatusCode::FORBIDDEN,
            form(
                html! { p { "This account requires two-factor authentication: "
                a href="/console/account/mfa" { "set it up" }
                " to get new key secrets. Your keys keep working. Nothing was changed." } },
            ),
        ),
        SecurityError::TooManyKeys { max } => (
            StatusCode::CONFLICT,
            form(
                html! { p { "You already have the " (max) " API keys this account allows. \
                Delete one first. Nothing was changed." } },
            ),
        ),
        SecurityError::ScopeAboveRole { scope, role } => (
            StatusCode::FORBIDDEN,
            Errors {
                scopes: Some(format!(
                    "A {role} cannot hold a key with scope {scope}. Nothing was changed."
                )),
                ..Errors::default()
            },
        ),
        SecurityError::ScopeExceedsCredential { exceeding, .. } => (
            StatusCode::FORBIDDEN,
            Errors {
                scopes: Some(format!(
                    "This sign-in cannot manage a key with scope(s) {}. Nothing was changed.",
                    exceeding.join(", ")
                )),
                ..Errors::default()
            },
        ),
        SecurityError::InvalidKeyRequest(message) => {
            let text = format!("{message}. Nothing was changed.");
            let errors = if message.starts_with("name ") {
                Errors {
                    name: Some("Use 1 to 100 printable characters.".into()),
                    ..Errors::default()
                }
            } else if message.starts_with("expires_in_days ") {
                Errors {
                    days: Some("Use a number of days from 1 to 3650, or leave it empty.".into()),
                    ..Errors::default()
                }
            } else {
                Errors {
                    scopes: Some(text),
                    ..Errors::default()
                }
            };
            (StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        SecurityError::KeyNotFound => return Err(Box::new(see_other(PATH))),
        SecurityError::Port(_) => return Err(Box::new(crate::refusal::unavailable())),
        other => return Err(Box::new(crate::refusal::internal(&other))),
    })
}

/// The listing again with `errors` beside the fields, at `status`.
async fn refused(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    draft: &Draft,
    status: StatusCode,
    errors: &Errors,
) -> HttpResponse {
    match listing(state, visitor, draft, errors, None).await {
        Ok(content) => key_page(state, visitor, status, content).await,
        Err(res) => res,
    }
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let visitor = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let form = match parse_create(pairs) {
        Ok(form) => form,
        Err(message) => return crate::refusal::bad_form(message),
    };
    if !crate::csrf::session_token_matches(&visitor.token, &form.csrf) {
        return crate::refusal::forged_form();
    }
    let draft = form.draft;
    let mut checks = vec![
        ("Name", draft.name.as_str(), KEY_NAME_MAX),
        ("Expires after (days)", draft.days.as_str(), DAYS_MAX),
    ];
    checks.extend(
        draft
            .scopes
            .iter()
            .map(|s| ("A scope", s.as_str(), SCOPE_MAX)),
    );
    if let Some(res) = too_long(&checks) {
        return res;
    }
    let days = match draft.days.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(days) => Some(days),
            Err(_) => {
                let errors = Errors {
                    days: Some("Use a number of days from 1 to 3650, or leave it empty.".into()),
                    ..Errors::default()
                };
                return refused(
                    &state,
                    &visitor,
                    &draft,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &errors,
                )
                .await;
            }
        },
    };
    let keys = state.api_keys.clone();
    let actor = visitor.actor.clone();
    let (name, scopes) = (draft.name.clone(), draft.scopes.clone());
    match web::block(move || keys.create(&actor, &name, &scopes, days)).await {
        Ok(Ok((info, issued))) => {
            let content = secret_shown("The key was created.", &info, issued.token());
            key_page(&state, &visitor, StatusCode::CREATED, content).await
        }
        Ok(Err(e)) => match refusal(e) {
            Ok((status, errors)) => refused(&state, &visitor, &draft, status, &errors).await,
            Err(res) => *res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyForm {
    csrf: String,
}

/// The key of a `{id}` path, checked like the form's fields.
fn path_key(id: &str) -> Result<ApiKeyId, Box<HttpResponse>> {
    if let Some(res) = too_long(&[("The key", id, ID_MAX)]) {
        return Err(Box::new(res));
    }
    id.parse().map_err(|_| Box::new(see_other(PATH)))
}

async fn regenerate(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<KeyForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let id = match path_key(&path) {
        Ok(id) => id,
        Err(res) => return *res,
    };
    let keys = state.api_keys.clone();
    let actor = visitor.actor.clone();
    match web::block(move || keys.regenerate(&actor, id)).await {
        Ok(Ok((info, issued))) => {
            let content = secret_shown(
                "The key has a new secret; the old one no longer works.",
                &info,
                issued.token(),
            );
            key_page(&state, &visitor, StatusCode::OK, content).await
        }
        Ok(Err(e)) => match refusal(e) {
            Ok((status, errors)) => {
                refused(&state, &visitor, &Draft::default(), status, &errors).await
            }
            Err(res) => *res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<KeyForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let id = match path_key(&path) {
        Ok(id) => id,
        Err(res) => return *res,
    };
    let keys = state.api_keys.clone();
    let actor = visitor.actor.clone();
    match web::block(move || keys.delete(&actor, id)).await {
        Ok(Ok(())) => {
            let message = notice("The key was deleted; it no longer works.");
            match listing(
                &state,
                &visitor,
                &Draft::default(),
                &Errors::default(),
                Some(message),
            )
            .await
            {
                Ok(content) => key_page(&state, &visitor, StatusCode::OK, content).await,
                Err(res) => res,
            }
        }
        Ok(Err(e)) => match refusal(e) {
            Ok((status, errors)) => {
                refused(&state, &visitor, &Draft::default(), status, &errors).await
            }
            Err(res) => *res,
        },
        Err(e) => crate::refusal::internal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn scopes_repeat_but_other_fields_count_once() {
        let form = parse_create(pairs(&[
            ("csrf", "t"),
            ("name", "ci"),
            ("scopes", "keys:read"),
            ("scopes", "team:read"),
        ]))
        .expect("a form");
        assert_eq!(form.csrf, "t");
        assert_eq!(form.draft.scopes, ["keys:read", "team:read"]);
        assert!(parse_create(pairs(&[("name", "a"), ("name", "b")])).is_err());
        assert!(parse_create(pairs(&[("csrf", "a"), ("csrf", "a")])).is_err());
        assert!(parse_create(pairs(&[("scopes", "a"), ("scopes", "a")])).is_err());
    }
}
