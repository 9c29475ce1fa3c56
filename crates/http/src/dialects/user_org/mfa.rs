//! The user and organization API's `/api/user/mfa*`: TOTP enrollment, verification, status and disabling.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use tenantry_security::SecurityError;

use super::errors::{security_error, SecurityRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/api/user/mfa").route(web::get().to(status)))
        .service(resource("/api/user/mfa/enable").route(web::post().to(enable)))
        .service(resource("/api/user/mfa/verify").route(web::post().to(verify)))
        .service(resource("/api/user/mfa/disable").route(web::post().to(disable)));
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecurityError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| security_error(SecurityRoutes::Mfa, e))
}

async fn status(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let mfa = state.mfa.clone();
    let s = run(move || mfa.status(&caller.0)).await?;
    let methods: Vec<&str> = if s.enabled { vec!["totp"] } else { Vec::new() };
    Ok(HttpResponse::Ok().json(json!({ "data": { "enabled": s.enabled, "methods": methods, "backup_codes_remaining": s.backup_codes_remaining } })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enable {
    #[serde(default = "totp")]
    method: String,
    /// The current password: needed unless the caller signed in within the last 10 minutes.
    password: Option<String>,
}

fn totp() -> String {
    "totp".into()
}

async fn enable(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Enable>,
) -> Result<HttpResponse, ApiError> {
    let mfa = state.mfa.clone();
    let e = run(move || mfa.enable(&caller.0, &body.method, body.password.as_deref())).await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(json!({
        "data": { "method": "totp", "secret": e.secret_base32, "otpauth_uri": e.otpauth_uri, "enrollment_id": e.enrollment_id.to_string() }
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    enrollment_id: String,
    code: String,
}

async fn verify(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Verify>,
) -> Result<HttpResponse, ApiError> {
    let mfa = state.mfa.clone();
    let codes = run(move || mfa.verify(&caller.0, &body.enrollment_id, &body.code)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "data": { "enabled": true, "backup_codes": codes } })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disable {
    password: Option<String>,
    code: String,
}

async fn disable(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Disable>,
) -> Result<HttpResponse, ApiError> {
    let mfa = state.mfa.clone();
    crate::password_work::run(&state, DIALECT, move || {
        mfa.disable(&caller.0, body.password.as_deref(), &body.code)
    })
    .await?
    .map_err(|e| security_error(SecurityRoutes::Mfa, e))?;
    Ok(HttpResponse::NoContent().finish())
}
