//! The user and organization API's `/api/user-preferences`: the caller's own preferences, `{"data": ...}` envelopes.

use actix_web::{web, HttpResponse};
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tenantry_settings::preference_keys::PreferenceItem;
use tenantry_settings::SettingsError;

use super::errors::{settings_error, SettingsRoutes};
use crate::auth::Authenticated;
use crate::error::{method_not_allowed, ApiError, Dialect};
use crate::json_body::JsonBody;
use crate::AppState;

const DIALECT: Dialect = Dialect::Api;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/api/user-preferences").route(web::get().to(list)))
        .service(
            resource("/api/user-preferences/{key}")
                .route(web::get().to(get))
                .route(web::put().to(put))
                .route(web::delete().to(delete)),
        );
}

fn item(p: &PreferenceItem) -> Value {
    json!({ "key": p.key, "value": p.value, "updated_at": p.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true) })
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SettingsError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|e| ApiError::internal(DIALECT, &e))?
        .map_err(|e| settings_error(SettingsRoutes::Preferences, e))
}

async fn list(state: web::Data<AppState>, caller: Authenticated) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let items = run(move || settings.list_preferences(&caller.0)).await?;
    let map: Map<String, Value> = items.into_iter().map(|p| (p.key, p.value)).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": map })))
}

async fn get(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let key = path.into_inner();
    let p = run(move || settings.get_preference(&caller.0, &key)).await?;
    Ok(HttpResponse::Ok().json(json!({ "data": item(&p) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetValue {
    value: Value,
    // Output-only fields a read shows, accepted back as read: `key` must be the one in the path.
    key: Option<String>,
    #[serde(rename = "updated_at")]
    _updated_at: Option<serde::de::IgnoredAny>,
}

async fn put(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
    JsonBody(body): JsonBody<SetValue>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let key = path.into_inner();
    if body.key.as_ref().is_some_and(|k| *k != key) {
        return Err(settings_error(
            SettingsRoutes::Preferences,
            SettingsError::Validation(vec![tenantry_settings::FieldError {
                field: "key".into(),
                message: "is read-only: it must be the key in the path".into(),
                allowed: None,
            }]),
        ));
    }
    let p = run(move || settings.set_preference(&caller.0, &key, Some(&body.value))).await?;
    let p = p.ok_or_else(|| ApiError::internal(DIALECT, &"preference missing after write"))?;
    Ok(HttpResponse::Ok().json(json!({ "data": item(&p) })))
}

async fn delete(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let key = path.into_inner();
    run(move || settings.set_preference(&caller.0, &key, None)).await?;
    Ok(HttpResponse::NoContent().finish())
}
