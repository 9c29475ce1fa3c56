//! Sign-in (`/api/auth/*`, the user and organization API's dialect): login with password (+ TOTP or backup code),
//! logout, and the caller's sessions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::json;
use tenantry_kernel::{Credential, SessionId};
use tenantry_security::SecurityError;
use tenantry_team::ResetPurpose;

use super::errors::{security_error, team_error, SecurityRoutes, TeamRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/api/auth/login").route(web::post().to(login)))
        .service(resource("/api/auth/logout").route(web::post().to(logout)))
        .service(resource("/api/auth/sessions").route(web::get().to(list)))
        .service(resource("/api/auth/sessions/{id}").route(web::delete().to(revoke)))
        .service(resource("/api/auth/password-reset").route(web::post().to(request_reset)))
        .service(
            resource("/api/auth/password-reset/{token}").route(web::post().to(complete_reset)),
        );
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecurityError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| security_error(SecurityRoutes::Sessions, e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
    code: Option<String>,
    account: Option<String>,
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<Login>,
) -> Result<HttpResponse, ApiError> {
    let ip = crate::client_ip::client_ip(&req, &state.config.trusted_proxies);
    let sessions = state.sessions.clone();
    // Argon2 runs here, on the blocking pool, one bounded batch at a time: a burst of logins
    // can stall neither the async workers nor the other requests' share of the CPU.
    let issued = crate::password_work::run(&state, DIALECT, move || {
        sessions.login(
            &body.email,
            &body.password,
            body.code.as_deref(),
            body.account.as_deref(),
            ip,
        )
    })
    .await?
    .map_err(|e| security_error(SecurityRoutes::Sessions, e))?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "data": {
                "token": issued.token,
                "session_id": issued.id.to_string(),
                "account_id": issued.account_id.to_string(),
                "expires_at": issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "restricted": issued.restriction,
            }
        })))
}

async fn logout(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.sessions.clone();
    run(move || sessions.logout(&caller.0)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list(state: web::Data<AppState>, caller: Authenticated) -> Result<HttpResponse, ApiError> {
    let current = match caller.0.credential {
        Credential::Session(id) => Some(id),
        Credential::ApiKey(_) | Credential::Operator(_) | Credential::External(_) => None,
    };
    let sessions = state.sessions.clone();
    let list = run(move || sessions.list(&caller.0)).await?;
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(HttpResponse::Ok().json(json!({
        "data": list.iter().map(|s| json!({
            "id": s.id.to_string(),
            "created_at": time(s.created_at),
            "last_seen_at": time(s.last_seen_at),
            "expires_at": time(s.expires_at),
            "ip": s.ip,
            "current": Some(s.id) == current,
        })).collect::<Vec<_>>()
    })))
}

async fn revoke(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: SessionId = path.parse().map_err(|_| {
        ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Session not found",
        )
    })?;
    let sessions = state.sessions.clone();
    run(move || sessions.revoke(&caller.0, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

/// `POST /api/auth/password-reset`: 202 with the same body whether or not the address belongs
/// to a user, so the endpoint reveals no identity. Only a string that is no email address at all
/// is refused (422): that says nothing about anyone.
async fn request_reset(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = tenantry_kernel::Email::parse(&body.email).map_err(|_| {
        ApiError::new(
            DIALECT,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            "email must be an email address",
        )
        .with_details(json!({ "field": "email", "fields": [{ "field": "email", "message": "must be an email address" }] }))
    })?;
    let team = state.team.clone();
    web::block(move || team.request_password_reset(&email, ResetPurpose::Reset))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| team_error(TeamRoutes::PasswordReset, e))?;
    Ok(HttpResponse::Accepted()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "data": {
                "message": "If this address belongs to a user, a link to choose a password is on its way to it",
            }
        })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetCompletion {
    password: String,
}

/// `POST /api/auth/password-reset/{token}`: sets the password; 204. Every session of the user
/// ends, including any that was open where the link was used.
async fn complete_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<ResetCompletion>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let ip = crate::client_ip::client_ip(&req, &state.config.trusted_proxies);
    let team = state.team.clone();
    crate::password_work::run(&state, DIALECT, move || {
        team.complete_password_reset(&token, &body.password, ip)
    })
    .await?
    .map_err(|e| team_error(TeamRoutes::PasswordReset, e))?;
    Ok(HttpResponse::NoContent()
        .insert_header(("cache-control", "no-store"))
        .finish())
}
