//! Seed 04, `/accounts/{accountName}/settings/{settingName}`: the catalog API's camelCase and its
//! `[{"errorCode", "errorMessage"}]` errors. `SECURITY_PREFERENCES` is served here; the
//! notification settings of the catalog arrive with the delivery engine.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use tenantry_settings::security_preferences::PreferencesWriteMode;
use tenantry_settings::SettingsError;

use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Catalog;
const SECURITY_PREFERENCES: &str = "SECURITY_PREFERENCES";
/// The catalog's other settings: known names, served once notifications deliver.
const NOT_YET_SERVED: [&str; 5] = [
    "ZONE_TRANSFER_NOTIFICATION",
    "SERVICE_NOTIFICATION",
    "USAGE_NOTIFICATION",
    "ZONE_USAGE_NOTIFICATION",
    "PUSH_NOTIFICATIONS",
];

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/accounts/{account_name}/settings/{setting_name}")
            .route(web::get().to(get_setting))
            .route(web::post().to(replace_setting))
            .route(web::put().to(replace_setting))
            .route(web::patch().to(patch_setting))
            .route(web::delete().to(delete_setting))
            .default_service(web::to(method_not_allowed)),
    );
}

fn catalog_error(e: SettingsError) -> ApiError {
    match e {
        SettingsError::UnknownTenant => ApiError::new(DIALECT, StatusCode::NOT_FOUND, "NOT_FOUND", "Account not found"),
        SettingsError::Forbidden { required, current, .. } => ApiError::new(
            DIALECT,
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("You are not the Owner or an Administrative user of this account (required {required}, you are {current})"),
        ),
        SettingsError::Validation(fields) => ApiError::new(DIALECT, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "Invalid data was submitted")
            .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>() })),
        SettingsError::UnknownFields(fields) => ApiError::new(DIALECT, StatusCode::BAD_REQUEST, "UNKNOWN_FIELD", format!("Unknown field(s): {}", fields.join(", ")))
            .with_details(json!({ "fields": fields.iter().map(|f| json!({ "field": f, "message": "is not a field of this setting" })).collect::<Vec<_>>() })),
        SettingsError::Port(p) => ApiError::from_port(DIALECT, &p),
        other => ApiError::internal(DIALECT, &other),
    }
}

/// Only `SECURITY_PREFERENCES` is served; other catalog names are reported as not available.
fn setting(name: &str) -> Result<(), ApiError> {
    if name == SECURITY_PREFERENCES {
        Ok(())
    } else if NOT_YET_SERVED.contains(&name) {
        Err(ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("The setting {name} is not available on this server yet"),
        ))
    } else {
        Err(ApiError::new(
            DIALECT,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("The setting {name} does not exist"),
        ))
    }
}

async fn respond(
    f: impl FnOnce() -> Result<Value, SettingsError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let doc = web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(catalog_error)?;
    Ok(HttpResponse::Ok().json(doc))
}

async fn get_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    setting(&name)?;
    let settings = state.settings.clone();
    respond(move || settings.security_preferences(&caller.0, &account)).await
}

async fn write(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    body: Value,
    mode: PreferencesWriteMode,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    setting(&name)?;
    let settings = state.settings.clone();
    respond(move || settings.set_security_preferences(&caller.0, &account, &body, mode)).await
}

async fn replace_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    write(state, caller, path, body, PreferencesWriteMode::Replace).await
}

async fn patch_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    write(state, caller, path, body, PreferencesWriteMode::Partial).await
}

async fn delete_setting(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, name) = path.into_inner();
    setting(&name)?;
    // Check the account and role first, so a foreign account still reads as not found.
    let settings = state.settings.clone();
    web::block(move || settings.security_preferences(&caller.0, &account))
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(catalog_error)?;
    Err(ApiError::new(
        DIALECT,
        StatusCode::BAD_REQUEST,
        "SETTING_NOT_DELETABLE",
        "Account-Level Security Preferences cannot be deleted; set all the values to 0 to disable them",
    ))
}
