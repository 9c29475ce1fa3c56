//! Seed 03 `/api/user/profile` and `/api/user/password`: the caller's own profile and password.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use tenantry_settings::profile::Profile;
use tenantry_settings::SettingsError;

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(
        resource("/api/user/profile")
            .route(web::get().to(get_profile))
            .route(web::put().to(put_profile)),
    )
    .service(resource("/api/user/password").route(web::post().to(change_password)));
}

fn profile_error(e: SettingsError) -> ApiError {
    let err = |status, code, message: &str| ApiError::new(DIALECT, status, code, message);
    match e {
        SettingsError::WrongPassword => err(StatusCode::FORBIDDEN, "INVALID_CURRENT_PASSWORD", "The current password is wrong or missing"),
        SettingsError::EmailTaken => err(StatusCode::CONFLICT, "EMAIL_TAKEN", "Another user has this email address"),
        SettingsError::VersionConflict { .. } => err(StatusCode::CONFLICT, "CONFLICT", "The password changed meanwhile; retry"),
        SettingsError::Validation(fields) => err(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "The request has invalid fields")
            .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>() })),
        SettingsError::UnknownFields(fields) => err(StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", "Unknown fields").with_details(json!({ "fields": fields })),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        other => ApiError::internal(DIALECT, &other),
    }
}

fn profile_json(p: &Profile) -> Value {
    json!({
        "id": p.id.to_string(),
        "email": p.email,
        "display_name": p.display_name,
        "timezone": p.timezone,
        "locale": p.locale,
        "avatar_url": p.avatar_url,
        "organization_id": p.organization_id.to_string(),
        "roles": p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SettingsError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(profile_error)
}

async fn get_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let p = run(move || settings.profile(&caller.0)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": profile_json(&p) })))
}

async fn put_profile(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let p = run(move || settings.update_profile(&caller.0, &body)).await?;
    let mut doc = profile_json(&p);
    doc["updated_at"] =
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Ok(HttpResponse::Ok().json(json!({ "data": doc })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: Option<String>,
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    crate::password_work::run(&state, DIALECT, move || {
        settings.change_password(
            &caller.0,
            body.current_password.as_deref(),
            &body.new_password,
        )
    })
    .await?
    .map_err(profile_error)?;
    Ok(HttpResponse::NoContent().finish())
}
