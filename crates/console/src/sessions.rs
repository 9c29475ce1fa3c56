//! `/console/account/sessions`: the signed-in user's live sessions in this account (the one
//! in use marked), ending one, or ending every other.
//!
//! These are `SessionService::list` and `revoke`, the calls of `GET /api/auth/sessions` and
//! `DELETE /api/auth/sessions/{id}`: a user sees and ends only their own sessions (the store
//! revokes by user and id, so another user's session id ends nothing and reads as unknown). A
//! session ended here is signed out of the console and the API at its next request. Ending
//! the session in use is signing out, which the top bar's form does; this page leaves it out
//! of "end all others". A session restricted to one task reaches none of these pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_kernel::{Credential, SessionId};
use tenantry_security::SecurityError;

use crate::form::{too_long, ID_MAX};
use crate::layout::{notice, see_other, time, Section};
use crate::session::SignedIn;
use crate::visitor::{poster, signed_in_page, visitor, Admits};
use crate::ConsoleConfig;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/sessions").route(web::get().to(show)))
        .service(
            web::resource("/account/sessions/others/revoke").route(web::post().to(revoke_others)),
        )
        .service(web::resource("/account/sessions/{id}/revoke").route(web::post().to(revoke)));
}

const TITLE: &str = "Sessions";

/// Which sessions these pages serve.
const ADMITS: Admits = Admits::Unrestricted;
const PATH: &str = "/console/account/sessions";

fn current(visitor: &SignedIn) -> Option<SessionId> {
    match visitor.actor.credential {
        Credential::Session(id) => Some(id),
        Credential::ApiKey(_) | Credential::Operator(_) | Credential::External(_) => None,
    }
}

/// The page with the list, after `message`.
async fn listing(
    state: &web::Data<AppState>,
    visitor: &SignedIn,
    status: StatusCode,
    message: Option<Markup>,
) -> HttpResponse {
    let sessions = state.sessions.clone();
    let actor = visitor.actor.clone();
    let list = match web::block(move || sessions.list(&actor)).await {
        Ok(Ok(list)) => list,
        Ok(Err(SecurityError::Port(_))) => return crate::refusal::unavailable(),
        Ok(Err(e)) => return crate::refusal::internal(&e),
        Err(e) => return crate::refusal::internal(&e),
    };
    let csrf = visitor.csrf();
    let this = current(visitor);
    let others = list.iter().filter(|s| Some(s.id) != this).count();
    let content = html! {
        @if let Some(message) = message { (message) }
        section.card {
            p { "Where you are signed in to this account. Ending a session signs it out at its \
                 next request, here and through the API." }
            ul.keys {
                @for s in &list {
                    li {
                        dl.facts {
                            dt { "Signed in" } dd { (time(s.created_at)) }
                            dt { "Last active" } dd { (time(s.last_seen_at)) }
                            dt { "Ends" } dd { (time(s.expires_at)) }
                            dt { "Address" } dd { (s.ip.as_deref().unwrap_or("unknown")) }
                        }
                        @if Some(s.id) == this {
                            p { strong.current { "This session" } " (sign out to end it)" }
                        } @else {
                            form method="post" action={ (PATH) "/" (s.id) "/revoke" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button.danger type="submit" aria-label={ "End session signed in " (time(s.created_at)) } { "End session" }
                            }
                        }
                    }
                }
            }
        }
        @if others > 0 {
            form.card method="post" action={ (PATH) "/others/revoke" } {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" { "End all other sessions" }
            }
        }
    };
    signed_in_page(state, visitor, TITLE, Section::Sessions, status, content).await
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
) -> HttpResponse {
    match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => listing(&state, &v, StatusCode::OK, None).await,
        Err(res) => res,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevokeForm {
    csrf: String,
}

async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    path: web::Path<String>,
    web::Form(f): web::Form<RevokeForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Some(res) = too_long(&[("The session", &path, ID_MAX)]) {
        return res;
    }
    // An id that names no session of the visitor's (or the one in use, which signing out
    // ends) goes back to the list: nothing tells whose session an id is.
    let Ok(id) = path.parse::<SessionId>() else {
        return see_other(PATH);
    };
    if Some(id) == current(&visitor) {
        return see_other(PATH);
    }
    let sessions = state.sessions.clone();
    let actor = visitor.actor.clone();
    match web::block(move || sessions.revoke(&actor, id)).await {
        Ok(Ok(())) => {
            listing(
                &state,
                &visitor,
                StatusCode::OK,
                Some(notice("The session was ended.")),
            )
            .await
        }
        Ok(Err(SecurityError::KeyNotFound)) => see_other(PATH),
        Ok(Err(SecurityError::Port(_))) => crate::refusal::unavailable(),
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(e) => crate::refusal::internal(&e),
    }
}

async fn revoke_others(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(f): web::Form<RevokeForm>,
) -> HttpResponse {
    let visitor = match poster(&req, &state, &config, ADMITS, &f.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let sessions = state.sessions.clone();
    let actor = visitor.actor.clone();
    let this = current(&visitor);
    let outcome = web::block(move || {
        let mut ended = 0usize;
        for s in sessions.list(&actor)? {
            if Some(s.id) == this {
                continue;
            }
            // One that ended meanwhile (timed out, signed out) is no failure.
            match sessions.revoke(&actor, s.id) {
                Ok(()) => ended += 1,
                Err(SecurityError::KeyNotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ended)
    })
    .await;
    match outcome {
        Ok(Ok(ended)) => {
            let message = format!(
                "{ended} other session{} ended.",
                if ended == 1 { " was" } else { "s were" }
            );
            listing(&state, &visitor, StatusCode::OK, Some(notice(&message))).await
        }
        Ok(Err(SecurityError::Port(_))) => crate::refusal::unavailable(),
        Ok(Err(e)) => crate::refusal::internal(&e),
        Err(e) => crate::refusal::internal(&e),
    }
}
